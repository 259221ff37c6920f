"""Settings of studio sync (``studio:`` in a profile): chain of custody, studio storage, upload, catalogue.

A take closes with an ASC MHL history (``custody``); ``onset sync push`` uploads it through the S3
API (``upload``) to the studio's storage (``storage``): by default an embedded SeaweedFS on this
machine (``embedded``, started by ``onset studio up``), or any S3 by URL. The studio side
catalogues verified takes (``catalogue``). See docs/studio-sync.md.

Credentials never live in a profile: each identity names the environment variables that hold its
keys. For the embedded studio, ``onset studio up`` makes a key pair per identity when those
variables are unset and keeps them in ``<data_dir>/credentials.json`` (mode 0600), where every
command on the same machine finds them. Ports: S3 8333 (SeaweedFS's own), master 9334, volume
8381, filer 8889 (SeaweedFS adds 10000 for each gRPC port; 8080 is the preview's, 9333 left free).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "StudioConfig",
    "StorageConfig",
    "EmbeddedStudioConfig",
    "IdentityConfig",
    "UploadConfig",
    "CustodyConfig",
    "CatalogueConfig",
    "HashFormat",
    "DEFAULT_STUDIO_DIR",
    "DEFAULT_S3_PORT",
    "MIN_PART_SIZE_MIB",
    "bucket_name_problem",
]

HashFormat = Literal["xxh64", "xxh128"]
DEFAULT_STUDIO_DIR = Path("~/.onset/studio")
DEFAULT_S3_PORT = 8333
# S3's floor for every part but the last; 10 000 parts at most per upload.
MIN_PART_SIZE_MIB = 5
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def bucket_name_problem(name: str) -> Optional[str]:
    """Why ``name`` is not an S3 bucket name (the AWS rules every S3 store accepts), or None."""
    if not _BUCKET.match(name):
        return ("a bucket name is 3-63 characters of lower-case letters, digits, '.' and '-', "
                "starting and ending with a letter or digit")
    if ".." in name or ".-" in name or "-." in name:
        return "a bucket name must not hold '..', '.-' or '-.'"
    if re.match(r"^\d+\.\d+\.\d+\.\d+$", name):
        return "a bucket name must not look like an IP address"
    if name.startswith("xn--") or name.endswith("-s3alias"):
        return "a bucket name must not start with 'xn--' or end with '-s3alias'"
    return None


class _Model(BaseModel):
    # Defaults are validated too: "~" in a default folder is expanded as in a profile's value, so a
    # dumped and reloaded profile equals the original.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class IdentityConfig(_Model):
    """One S3 identity: the environment variables that hold its access key and secret."""

    access_key_env: str = Field(..., description="environment variable holding the access key id")
    secret_key_env: str = Field(..., description="environment variable holding the secret access key")

    @field_validator("access_key_env", "secret_key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError(f"an environment variable name is letters, digits and '_', got {value!r}")
        return value


class EmbeddedStudioConfig(_Model):
    """The studio storage ``onset studio up`` runs on this machine (SeaweedFS, loopback only)."""

    data_dir: Path = Field(DEFAULT_STUDIO_DIR / "data", description="where SeaweedFS keeps its volumes and metadata")
    s3_port: int = Field(DEFAULT_S3_PORT, ge=1, le=55535, description="TCP port of the S3 API on 127.0.0.1")
    master_port: int = Field(9334, ge=1, le=55535, description="TCP port of the master (its gRPC port is +10000)")
    volume_port: int = Field(8381, ge=1, le=55535, description="TCP port of the (first) volume server (gRPC +10000)")
    filer_port: int = Field(8889, ge=1, le=55535, description="TCP port of the filer (gRPC +10000)")
    memory_limit_mib: int = Field(300, ge=64, le=65536,
                                  description="soft memory cap of each SeaweedFS process (GOMEMLIMIT)")
    volume_size_limit_mib: int = Field(1024, ge=16, le=30000, description="size of one SeaweedFS volume")
    max_volumes: int = Field(100, ge=8, le=10000,
                             description="volumes per volume server (SeaweedFS's default of 8 breaks a second bucket)")
    cluster: bool = Field(False, description="run master, volume servers, filer and S3 gateway as separate "
                                             "processes (onset studio up --cluster)")
    volume_servers: int = Field(2, ge=1, le=16, description="volume servers in cluster mode")
    replication: str = Field("001", description="SeaweedFS replication in cluster mode: 001 keeps a second copy "
                                                "on another volume server of the same rack (needs two)")
    start_timeout_s: float = Field(60.0, gt=0, le=600,
                                   description="how long `onset studio up` waits for a signed request to succeed")

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return Path(value).expanduser()

    @field_validator("replication")
    @classmethod
    def _replication(cls, value: str) -> str:
        if not re.match(r"^[0-9]{3}$", value):
            raise ValueError(f"replication is three digits (data centres, racks, servers), got {value!r}")
        return value

    @model_validator(mode="after")
    def _enough_servers(self) -> "EmbeddedStudioConfig":
        copies = 1 + sum(int(c) for c in self.replication)
        if self.cluster and copies > self.volume_servers:
            raise ValueError(f"replication {self.replication} keeps {copies} copies but only "
                             f"{self.volume_servers} volume server(s) run")
        ports = [self.s3_port, self.master_port, self.filer_port,
                 *[self.volume_port + i for i in range(self.volume_servers if self.cluster else 1)]]
        if len(set(ports)) != len(ports):
            raise ValueError(f"the embedded studio's ports must differ, got {ports}")
        return self


class StorageConfig(_Model):
    """Where takes go: the embedded SeaweedFS (no ``endpoint_url``) or any S3 by URL."""

    endpoint_url: Optional[str] = Field(
        None, description="S3 endpoint (https://s3.eu-west-1.amazonaws.com, http://minio:9000); "
                          "None: the embedded studio on 127.0.0.1")
    region: str = Field("us-east-1", min_length=1, description="S3 region (SeaweedFS ignores it)")
    bucket: str = Field("onset-takes", description="bucket holding the takes")
    prefix: str = Field("takes/", description="key prefix of every take: <prefix><take name>/<path in take>")
    addressing: Literal["path", "virtual", "auto"] = Field(
        "path", description="S3 addressing style (path for SeaweedFS, MinIO and Ceph)")
    writer: IdentityConfig = Field(
        default_factory=lambda: IdentityConfig(access_key_env="ONSET_STUDIO_ACCESS_KEY",
                                               secret_key_env="ONSET_STUDIO_SECRET_KEY"),
        description="the identity that uploads takes (read and write)")
    reader: IdentityConfig = Field(
        default_factory=lambda: IdentityConfig(access_key_env="ONSET_STUDIO_READER_ACCESS_KEY",
                                               secret_key_env="ONSET_STUDIO_READER_SECRET_KEY"),
        description="the studio's readers (ingest, datasets): read and list only")
    request_checksums: Literal["when_required", "when_supported"] = Field(
        "when_required", description="boto3's request checksums: when_required works with stores "
                                     "without CRC support; Onset verifies every object against the MHL itself")
    timeout_s: float = Field(30.0, gt=0, le=600, description="connect and read timeout of one S3 request")

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        problem = bucket_name_problem(value)
        if problem:
            raise ValueError(f"{value!r}: {problem}")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if value and not value.endswith("/"):
            value += "/"
        parts = value.strip("/").split("/") if value.strip("/") else []
        if value.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"prefix must be a relative key path without '.', '..' or '//', got {value!r}")
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _url(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"endpoint_url must be an http:// or https:// URL, got {value!r}")
        return value


class UploadConfig(_Model):
    """How ``onset sync push`` uploads: the queue, S3 multipart parts, concurrency, bandwidth."""

    queue_path: Path = Field(DEFAULT_STUDIO_DIR / "sync-queue.sqlite",
                             description="the persistent upload queue (SQLite), kept across restarts")
    part_size_mib: int = Field(16, ge=MIN_PART_SIZE_MIB, le=5120,
                               description="S3 multipart part size in MiB (S3's minimum is 5)")
    concurrency: int = Field(4, ge=1, le=64, description="parts uploaded at once")
    bandwidth_mib_s: Optional[float] = Field(
        None, gt=0, description="cap on the upload rate in MiB/s (None: as fast as the link goes)")
    retries: int = Field(5, ge=0, le=100, description="attempts per part after the first before the take fails")

    @field_validator("queue_path")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return Path(value).expanduser()


class CustodyConfig(_Model):
    """The ASC MHL history every take gets when it closes."""

    hash_format: HashFormat = Field("xxh64", description="digest of each file (ASC MHL: xxh64 or xxh128)")
    on_close: bool = Field(True, description="write the take's first MHL generation when the recorder closes it")
    author: Optional[str] = Field(None, description="the MHL's author name (None: the user running Onset)")


class CatalogueConfig(_Model):
    """The studio's catalogue: SQLite by default, PostgreSQL by URL."""

    url: Optional[str] = Field(
        None, description="postgresql://user@host/db, or sqlite:///path; None: "
                          "<embedded.data_dir>/../catalogue.sqlite")

    @field_validator("url")
    @classmethod
    def _url(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.match(r"^(sqlite|postgres|postgresql)://", value):
            raise ValueError(f"catalogue url must start sqlite://, postgres:// or postgresql://, got {value!r}")
        return value


class StudioConfig(_Model):
    """Studio sync as a whole (docs/studio-sync.md)."""

    custody: CustodyConfig = Field(default_factory=CustodyConfig, description="the takes' ASC MHL history")
    storage: StorageConfig = Field(default_factory=StorageConfig, description="the studio's S3 storage")
    embedded: EmbeddedStudioConfig = Field(default_factory=EmbeddedStudioConfig,
                                           description="the SeaweedFS `onset studio up` runs")
    upload: UploadConfig = Field(default_factory=UploadConfig, description="the upload queue and its parts")
    catalogue: CatalogueConfig = Field(default_factory=CatalogueConfig, description="the studio's catalogue")

    @property
    def uses_embedded(self) -> bool:
        """Whether the storage is the embedded SeaweedFS (no endpoint URL given)."""
        return self.storage.endpoint_url is None

    def endpoint_url(self) -> str:
        """The S3 endpoint: the given URL, or the embedded studio's on loopback."""
        if self.storage.endpoint_url is not None:
            return self.storage.endpoint_url
        return f"http://127.0.0.1:{self.embedded.s3_port}"

    def catalogue_url(self) -> str:
        """The catalogue's URL: the given one, or SQLite beside the embedded studio's data."""
        if self.catalogue.url is not None:
            return self.catalogue.url
        return f"sqlite:///{self.embedded.data_dir.parent / 'catalogue.sqlite'}"
