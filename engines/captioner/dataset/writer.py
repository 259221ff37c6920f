"""WebDataset tar shards, written with the standard library: one split's samples in order.

A shard is a plain POSIX tar (``DIR/<split>/shard-000000.tar``, numbered from 0 in each split)
whose members are the samples' files one after the other, named ``<key>.<suffix>``; WebDataset
groups consecutive members by the key (the name up to its first dot), so keys hold no dot and a
sample's files are written together (``rgb.png``, ``depth.png``, ``json``, in that order).
:class:`ShardWriter` starts a new shard once the open one holds ``max_samples`` samples or the
next sample would take it past ``max_bytes``; samples keep the order they were added in (a take's
frames in frame order, contiguous), so a reader streaming the shards in order meets them so.

Members are regular files, mode 0444, owner ``onset``, dated by the sample's exposure (whole
seconds of ``mtime_s``): the same samples give the same bytes. A shard is written as
``*.tar.partial`` and renamed when complete, so a shard under its final name is whole.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import List, Mapping, Optional

__all__ = ["SHARD_PATTERN", "DEFAULT_SHARD_SAMPLES", "DEFAULT_SHARD_BYTES", "SAMPLE_SUFFIXES", "ShardWriter"]

SHARD_PATTERN = "shard-{index:06d}.tar"
DEFAULT_SHARD_SAMPLES = 1000
DEFAULT_SHARD_BYTES = 500_000_000
#: Every sample's files, in the order they are written.
SAMPLE_SUFFIXES = ("rgb.png", "depth.png", "json")
_TAR_BLOCK = 512


def _member_bytes(size: int) -> int:
    """What one member takes in a tar: a header block and its data rounded up to whole blocks
    (a PAX header for long names adds more; this is the estimate shards are cut by)."""
    return _TAR_BLOCK + -(-size // _TAR_BLOCK) * _TAR_BLOCK


class ShardWriter:
    """Writes one split's samples into shards in ``folder`` (module docstring)."""

    def __init__(self, folder: Path, max_samples: int = DEFAULT_SHARD_SAMPLES,
                 max_bytes: int = DEFAULT_SHARD_BYTES) -> None:
        if int(max_samples) < 1 or int(max_bytes) < 1:
            raise ValueError(f"shards need room for a sample: max_samples {max_samples}, max_bytes {max_bytes}")
        self.folder = Path(folder)
        self.max_samples, self.max_bytes = int(max_samples), int(max_bytes)
        self.shards: List[Path] = []
        self._tar: Optional[tarfile.TarFile] = None
        self._partial: Optional[Path] = None
        self._samples = 0
        self._bytes = 0

    @property
    def current(self) -> Optional[Path]:
        """The final path of the shard being written (None before the first sample)."""
        return self.shards[-1] if self.shards else None

    def _open_next(self) -> None:
        self._finish()
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / SHARD_PATTERN.format(index=len(self.shards))
        self._partial = final.with_name(final.name + ".partial")
        self._tar = tarfile.open(self._partial, "w", format=tarfile.PAX_FORMAT)
        self.shards.append(final)
        self._samples = self._bytes = 0

    def add(self, key: str, files: Mapping[str, bytes], mtime_s: int = 0) -> Path:
        """Write one sample's ``files`` (suffix -> bytes) under ``key``; returns its shard's path."""
        if "." in key or "/" in key or not key:
            raise ValueError(f"sample key {key!r} must be non-empty without '.' or '/' "
                             "(WebDataset splits keys at dots)")
        size = sum(_member_bytes(len(data)) for data in files.values())
        full = self._tar is not None and (self._samples >= self.max_samples or
                                          (self._samples > 0 and self._bytes + size > self.max_bytes))
        if self._tar is None or full:
            self._open_next()
        assert self._tar is not None
        for suffix in sorted(files, key=lambda s: SAMPLE_SUFFIXES.index(s) if s in SAMPLE_SUFFIXES else 99):
            data = files[suffix]
            info = tarfile.TarInfo(f"{key}.{suffix}")
            info.size, info.mode, info.mtime = len(data), 0o444, int(mtime_s)
            info.uname = info.gname = "onset"
            self._tar.addfile(info, io.BytesIO(data))
        self._samples += 1
        self._bytes += size
        return self.shards[-1]

    def _finish(self) -> None:
        if self._tar is None or self._partial is None:
            return
        self._tar.close()
        with open(self._partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(self._partial, self.shards[-1])
        self._tar, self._partial = None, None

    def close(self) -> List[Path]:
        """Finish the open shard; returns every shard written, in order."""
        self._finish()
        return list(self.shards)

    def abort(self) -> None:
        """Drop the shard being written (the build failed)."""
        if self._tar is not None:
            self._tar.close()
        if self._partial is not None and self._partial.exists():
            self._partial.unlink()
        if self.shards and not self.shards[-1].exists():
            self.shards.pop()
        self._tar, self._partial = None, None
