"""Streaming file digests in ASC MHL's xxHash formats, hex exactly as ascmhl and ``xxhsum`` print them.

``xxh64`` is XXH64 with seed 0 and ``xxh128`` is XXH3's 128-bit variant, each printed in its
canonical (big-endian) form as lower-case hex: 16 and 32 digits. These are the strings the ascmhl
library writes into MHL files and Debian's ``xxhsum -H1`` / ``xxhsum -H2`` print, so either tool
can check a take by hand (docs/studio-sync/custody.md).

A file is read once, in :data:`READ_BYTES` blocks into one reused buffer, feeding every format
asked for; larger blocks were no faster on the edge box. Files are opened without following a
symbolic link, and anything but a regular file is refused, so a link swapped in after the take
folder was walked is never read through.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, Mapping, Optional, Sequence, Union

import xxhash

from studio_sync.custody.errors import UnreadableFileError, UnsafePathError, UnsupportedHashFormatError
from studio_sync.custody.types import HASH_FORMATS, Progress

if TYPE_CHECKING:
    from studio_sync.custody.paths import TakeFile

__all__ = ["READ_BYTES", "HEX_DIGITS", "check_hash_format", "new_hasher", "is_digest", "open_regular",
           "read_blocks", "file_digests", "file_digest", "digest_files", "ByteMeter", "describe_os_error"]

READ_BYTES = 1 << 20
#: Hex digits of each format's digest.
HEX_DIGITS: Dict[str, int] = {"xxh64": 16, "xxh128": 32}
_CONSTRUCTORS: Dict[str, Callable[[], Any]] = {"xxh64": xxhash.xxh64, "xxh128": xxhash.xxh3_128}
_HEX = frozenset("0123456789abcdef")
# O_NONBLOCK: opening a FIFO would otherwise wait for a writer; it changes nothing for a regular file.
_OPEN_FLAGS = (os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))

PathLike = Union[str, Path]


def describe_os_error(err: OSError) -> str:
    """``No space left on device (ENOSPC)``: the reason and its errno name."""
    if err.errno is None:
        return str(err)
    return f"{err.strerror or err} ({errno.errorcode.get(err.errno, err.errno)})"


def check_hash_format(hash_format: str) -> str:
    """``hash_format`` if Onset writes and checks it, else :class:`UnsupportedHashFormatError`."""
    if hash_format not in _CONSTRUCTORS:
        raise UnsupportedHashFormatError(
            f"hash format {hash_format!r} is not one Onset writes or checks: use {' or '.join(HASH_FORMATS)}")
    return hash_format


def new_hasher(hash_format: str) -> Any:
    """A fresh xxhash object for ``hash_format`` (``update(bytes)``, ``hexdigest()``)."""
    return _CONSTRUCTORS[check_hash_format(hash_format)]()


def is_digest(hash_format: str, text: object) -> bool:
    """Whether ``text`` is a well-formed ``hash_format`` digest: lower-case hex of the right length."""
    return (isinstance(text, str) and len(text) == HEX_DIGITS.get(hash_format, -1)
            and all(c in _HEX for c in text))


def open_regular(path: PathLike) -> int:
    """A read-only descriptor of the regular file ``path``; a link or a device is refused, never followed."""
    try:
        fd = os.open(str(path), _OPEN_FLAGS)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise UnsafePathError(f"{path} is a symbolic link: a take holds plain files only") from err
        raise UnreadableFileError(f"cannot read {path}: {describe_os_error(err)}") from err
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise UnsafePathError(f"{path} is not a regular file: a take holds plain files only")
    return fd


def read_blocks(fd: int, progress: Optional[Callable[[int], None]] = None) -> Iterator[memoryview]:
    """The bytes of ``fd`` from where it stands, block by block.

    Each block is a view into one reused buffer: use it before asking for the next.
    ``progress(n)`` is told the bytes of each block as it is read."""
    buffer = bytearray(READ_BYTES)
    view = memoryview(buffer)
    with open(fd, "rb", buffering=0, closefd=False) as f:
        while True:
            n = f.readinto(buffer)
            if not n:
                return
            if progress is not None:
                progress(n)
            yield view[:n]


def file_digests(path: PathLike, hash_formats: Sequence[str],
                 progress: Optional[Callable[[int], None]] = None) -> Dict[str, str]:
    """``{format: hex digest}`` of the file at ``path``, read once for all ``hash_formats``.

    ``progress(n)`` is told the bytes of each block as it is read."""
    hashers = {fmt: new_hasher(fmt) for fmt in hash_formats}
    fd = open_regular(path)
    try:
        for block in read_blocks(fd, progress):
            for hasher in hashers.values():
                hasher.update(block)
    except OSError as err:
        raise UnreadableFileError(f"cannot read {path}: {describe_os_error(err)}") from err
    finally:
        os.close(fd)
    return {fmt: hasher.hexdigest() for fmt, hasher in hashers.items()}


def file_digest(path: PathLike, hash_format: str, progress: Optional[Callable[[int], None]] = None) -> str:
    """The ``hash_format`` hex digest of the file at ``path``."""
    return file_digests(path, (hash_format,), progress)[hash_format]


class ByteMeter:
    """Adds up the bytes a job has read and tells ``progress(done, total)`` after each block."""

    def __init__(self, total: int, progress: Optional[Progress]) -> None:
        self.total, self.done, self._progress = total, 0, progress
        if progress is not None:
            progress(0, total)

    def __call__(self, n: int) -> None:
        self.done += n
        if self._progress is not None:
            self._progress(self.done, self.total)


def digest_files(files: Sequence["TakeFile"], formats: Mapping[str, Sequence[str]],
                 meter: Optional[Callable[[int], None]] = None) -> Dict[str, Dict[str, str]]:
    """``{rel: {format: digest}}`` of each file, in the formats ``formats[rel]`` names."""
    return {f.rel: file_digests(f.path, formats[f.rel], meter) for f in files}
