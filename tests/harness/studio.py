"""An embedded studio for tests: SeaweedFS on free loopback ports in a folder of its own.

``running_studio`` starts it (single process or cluster), writes a rig profile whose ``studio``
section points at it (so the command line can be driven with ``--profile``), and always stops it,
killing every process group it started. The folder is short (``/tmp/onset-studio-*``): SeaweedFS
puts Unix sockets beside its data and a socket path has a 108-byte limit.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import yaml

from config.studio import StudioConfig
from studio_sync.storage import EmbeddedStudio, s3_client

__all__ = ["RunningStudio", "running_studio", "free_port_block", "studio_profile"]

_GRPC_OFFSET = 10000


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_block(count: int, rng: Optional[random.Random] = None) -> int:
    """A base port such that base..base+count-1 and their gRPC twins (+10000) are all free."""
    rng = rng or random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 30000 - count)
        ports = [base + i for i in range(count)]
        if all(_free(p) and _free(p + _GRPC_OFFSET) for p in ports):
            return base
    raise RuntimeError("no block of free loopback ports found")


def studio_profile(folder: Path, studio: Dict[str, Any], takes_dir: Optional[Path] = None) -> Path:
    """A rig profile (YAML) with this ``studio`` section, for ``onset ... --profile``."""
    document: Dict[str, Any] = {"name": "test-studio", "studio": studio}
    if takes_dir is not None:
        document["recorder"] = {"takes_dir": str(takes_dir)}
    path = folder / "profile.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@dataclass
class RunningStudio:
    """A started embedded studio: its settings, its process handle, a profile file pointing at it."""

    config: StudioConfig
    studio: EmbeddedStudio
    folder: Path
    profile: Path

    def client(self, role: str = "writer") -> Any:
        return s3_client(self.config, role)

    @property
    def bucket(self) -> str:
        return self.config.storage.bucket


@contextlib.contextmanager
def running_studio(cluster: bool = False, volume_servers: int = 2, extra: Optional[Dict[str, Any]] = None,
                   start: bool = True) -> Iterator[RunningStudio]:
    """An embedded studio on free ports; stopped (every process killed) and removed at the end."""
    folder = Path(tempfile.mkdtemp(prefix="onset-studio-"))
    base = free_port_block(4 + volume_servers)
    embedded = {
        "data_dir": str(folder / "data"), "s3_port": base, "master_port": base + 1, "filer_port": base + 2,
        "volume_port": base + 3, "cluster": cluster, "volume_servers": volume_servers,
        "memory_limit_mib": 256, "start_timeout_s": 90.0,
        "replication": "001" if cluster else "000",
    }
    section: Dict[str, Any] = {"embedded": embedded,
                               "upload": {"queue_path": str(folder / "queue.sqlite")}}
    for key, value in (extra or {}).items():
        section[key] = {**section.get(key, {}), **value}
    config = StudioConfig.model_validate(section)
    profile = studio_profile(folder, section)
    studio = EmbeddedStudio(config)
    try:
        if start:
            studio.up()
        yield RunningStudio(config=config, studio=studio, folder=folder, profile=profile)
    finally:
        try:
            if studio.state() is not None:
                studio.down(grace_s=1.0)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
