"""Fixtures of the upload tests: one studio for the package, a rig per test (its own prefix, queue,
takes folder and profile), sealed takes of a few MiB, and the referee that reads the studio back.

The referee is independent of the code under test: it parses the MHL XML with xml.etree
(tests/studio_sync/custody/mhl.py), reads every object with the *reader* identity and hashes it
with ``xxhash`` directly.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import xxhash
import yaml

from config.studio import StudioConfig
from studio_sync.custody import seal_take
from studio_sync.storage import resolve_credentials
from tests.harness.studio import RunningStudio, running_studio
from tests.studio_sync.custody.conftest import write_take
from tests.studio_sync.custody.mhl import file_hashes, generation_files

MIB = 1 << 20
TAKE = "12_3_004_20270115T080000Z"
REPO = Path(__file__).resolve().parents[3]
_counter = itertools.count()
_HASHERS = {"xxh64": xxhash.xxh64, "xxh128": xxhash.xxh3_128}


@pytest.fixture(scope="package")
def studio() -> Iterator[RunningStudio]:
    with running_studio() as running:
        yield running


@dataclass
class Rig:
    """One test's corner of the studio: its own key prefix, queue, takes folder and profile."""

    studio: RunningStudio
    folder: Path
    prefix: str
    config: StudioConfig
    profile: Path
    env: Dict[str, str] = field(default_factory=dict)

    @property
    def takes_dir(self) -> Path:
        return self.folder / "takes"

    @property
    def queue_path(self) -> Path:
        return self.config.upload.queue_path

    def take(self, name: str = TAKE, bag_bytes: int = 12 * MIB, seed: int = 0, hash_format: str = "xxh64") -> Path:
        """A closed take folder (bag of ``bag_bytes`` seeded bytes), sealed with its first generation."""
        folder = write_take(self.takes_dir / name, bag_bytes=bag_bytes, seed=seed)
        seal_take(folder, hash_format=hash_format)
        return folder

    def cli(self, *argv: str) -> List[str]:
        return ["sync", *argv, "--profile", str(self.profile)]

    def popen(self, *argv: str) -> subprocess.Popen:
        """``onset sync ARGV`` in a subprocess of its own process group (killed with the group)."""
        env = dict(os.environ, **self.env)
        return subprocess.Popen([sys.executable, "-m", "edge.cli.main", *self.cli(*argv)], cwd=REPO, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the subprocess's whole process group and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def make_rig(studio: RunningStudio, folder: Path, endpoint: Optional[str] = None,
             upload: Optional[Dict[str, Any]] = None, storage: Optional[Dict[str, Any]] = None) -> Rig:
    """A rig on ``studio`` (or on ``endpoint``, a proxy in front of it, with the writer's keys in the
    environment as any non-embedded store needs them)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "takes").mkdir(exist_ok=True)
    prefix = f"t{next(_counter)}-{os.getpid()}/"
    section = studio.config.model_dump(mode="json")
    section["storage"] = {**section["storage"], "prefix": prefix, **(storage or {})}
    section["upload"] = {**section["upload"], "queue_path": str(folder / "queue.sqlite"), "part_size_mib": 5,
                         "concurrency": 2, "retries": 2, **(upload or {})}
    env: Dict[str, str] = {}
    if endpoint is not None:
        section["storage"]["endpoint_url"] = endpoint
        keys = resolve_credentials(studio.config, "writer")
        env = {"ONSET_STUDIO_ACCESS_KEY": keys.access_key, "ONSET_STUDIO_SECRET_KEY": keys.secret_key}
    config = StudioConfig.model_validate(section)
    profile = folder / "profile.yaml"
    profile.write_text(yaml.safe_dump({"name": "upload-test", "studio": section,
                                       "recorder": {"takes_dir": str(folder / "takes")}}), encoding="utf-8")
    return Rig(studio, folder, config.storage.prefix, config, profile, env)


@pytest.fixture
def rig(studio, tmp_path) -> Rig:
    return make_rig(studio, tmp_path / "rig")


def mhl_digests(take: Path) -> Dict[str, tuple]:
    """``{path: (format, digest)}`` of every file the take's MHL generations record (first record wins)."""
    out: Dict[str, tuple] = {}
    for mhl in generation_files(take):
        for path, hashes in file_hashes(mhl).items():
            for fmt in ("xxh64", "xxh128"):
                if fmt in hashes and path not in out:
                    out[path] = (fmt, hashes[fmt][0])
    return out


def studio_keys(rig: Rig, name: str) -> List[str]:
    client = rig.studio.client("reader")
    keys, token = [], None
    while True:
        kwargs = {"Bucket": rig.studio.bucket, "Prefix": f"{rig.prefix}{name}/"}
        if token:
            kwargs["ContinuationToken"] = token
        page = client.list_objects_v2(**kwargs)
        keys += [o["Key"] for o in page.get("Contents", [])]
        token = page.get("NextContinuationToken")
        if not token:
            return sorted(keys)


def unfinished_uploads(rig: Rig) -> List[str]:
    page = rig.studio.client("writer").list_multipart_uploads(Bucket=rig.studio.bucket, Prefix=rig.prefix)
    return [u["Key"] for u in page.get("Uploads", [])]


def assert_studio_matches_mhl(rig: Rig, take: Path, others_unfinished: bool = False) -> None:
    """Every object of the take in the studio, read back with the reader's keys, hashes to its MHL
    digest; the history's own files are byte for byte the local ones; nothing else is there, and no
    multipart upload is left open under the rig's prefix (unless ``others_unfinished``: another
    take's interrupted upload may be)."""
    reader = rig.studio.client("reader")
    base = f"{rig.prefix}{take.name}/"
    digests = mhl_digests(take)
    history = sorted(p.relative_to(take).as_posix() for p in (take / "ascmhl").iterdir())
    assert studio_keys(rig, take.name) == sorted(base + rel for rel in [*digests, *history])
    for rel, (fmt, digest) in digests.items():
        body = reader.get_object(Bucket=rig.studio.bucket, Key=base + rel)["Body"].read()
        assert _HASHERS[fmt](body).hexdigest() == digest, rel
    for rel in history:
        body = reader.get_object(Bucket=rig.studio.bucket, Key=base + rel)["Body"].read()
        assert body == (take / rel).read_bytes(), rel
    open_uploads = unfinished_uploads(rig)
    if others_unfinished:
        open_uploads = [k for k in open_uploads if k.startswith(base)]
    assert open_uploads == []
