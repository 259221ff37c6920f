"""Offload a take to another folder or drive: every byte verified, a ``transfer`` generation added.

The copy is built beside its final place, in ``<dest>/.<take>.copying/``, and renamed to
``<dest>/<take>/`` only once it is whole and verified, so a copy that fails or is interrupted
never looks like a take. Each file is read once from the source, hashed as it is written, and
checked against the digests the source's history recorded (the source still matches its MHL);
the written file is fsynced, dropped from the page cache where the system allows, read back
and checked again (the copy matches). The history's own files are copied byte for byte and
checked the same way, so generation 1 and every later one arrive unchanged, and the copy's
history then gets the next generation, process ``transfer``, recording every file ``verified``.
The source is only read. An existing ``<dest>/<take>`` is never overwritten.
"""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

from edge.recorder.metadata import fsync_dir
from studio_sync.custody.digests import (
    ByteMeter,
    check_hash_format,
    describe_os_error,
    file_digests,
    new_hasher,
    open_regular,
    read_blocks,
)
from studio_sync.custody.entries import build_hash_list
from studio_sync.custody.errors import CopyError, CustodyError, TakeChangedError
from studio_sync.custody.history import (
    PROCESS_TRANSFER,
    Generation,
    RecordedFile,
    TakeHistory,
    read_history,
    write_generation,
)
from studio_sync.custody.paths import HISTORY_DIRNAME, TakeFile, TakeTree, open_take, walk_take
from studio_sync.custody.types import HASH_FORMATS, CopyResult, Progress

__all__ = ["copy_take", "STAGING_SUFFIX"]

STAGING_SUFFIX = ".copying"
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_HISTORY_CHECK = "xxh64"  # the digest the history's own files are checked with (they are not in an MHL)


def _write_all(fd: int, block: memoryview) -> None:
    while block:
        block = block[os.write(fd, block):]


def _drop_cached(fd: int) -> None:
    # Read the copy back from the drive rather than from the pages just written.
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        except OSError:
            pass


def _copy_file(source: TakeFile, target: Path, formats: Sequence[str], meter: ByteMeter) -> Dict[str, str]:
    """Copy ``source`` to ``target`` (created, never replaced), fsynced; the digests of the bytes read."""
    hashers = {fmt: new_hasher(fmt) for fmt in formats}
    fd_in = open_regular(source.path)
    try:
        fd_out = os.open(str(target), _WRITE_FLAGS, 0o644)
        try:
            for block in read_blocks(fd_in, meter):
                for hasher in hashers.values():
                    hasher.update(block)
                _write_all(fd_out, block)
            os.fsync(fd_out)
            _drop_cached(fd_out)
        finally:
            os.close(fd_out)
    finally:
        os.close(fd_in)
    os.utime(target, ns=(source.mtime_ns, source.mtime_ns))
    return {fmt: hasher.hexdigest() for fmt, hasher in hashers.items()}


def _history_files(folder: Path) -> List[TakeFile]:
    history_dir = folder / HISTORY_DIRNAME
    out = []
    for name in sorted(os.listdir(history_dir)):
        info = os.stat(history_dir / name, follow_symlinks=False)
        out.append(TakeFile(f"{HISTORY_DIRNAME}/{name}", history_dir / name, info.st_size, info.st_mtime_ns))
    return out


def copy_take(source: Union[str, Path], destination: Union[str, Path], hash_format: Optional[str] = None,
              author: Optional[str] = None, progress: Optional[Progress] = None) -> CopyResult:
    """Copy the take at ``source`` into the folder ``destination`` (as ``destination/<take name>``).

    ``hash_format``: a format to add to the copy's generation beside the history's own (None: only
    those); ``author``: the new generation's author (None: the user running Onset);
    ``progress(bytes_done, bytes_in_all)`` covers the copy pass and the read-back. Raises
    :class:`CopyError` (nothing left at the destination) when the destination cannot take it or
    the copy does not verify, and the errors of :func:`~studio_sync.custody.verify.verify_take` for
    a source that is not a closed, sealed take matching its history."""
    if hash_format is not None:
        check_hash_format(hash_format)
    take = open_take(source, strict=True)
    history = read_history(take.folder)
    tree = walk_take(take.folder, strict=True)
    on_disk = {f.rel for f in tree.files}
    missing = sorted(set(history.files) - on_disk)
    extra = sorted(on_disk - set(history.files))
    if missing or extra:
        raise TakeChangedError(
            f"take {take.name} does not match its history (generation {history.latest.number}): "
            + ", ".join([f"missing {m}" for m in missing] + [f"extra {e}" for e in extra])
            + f"; nothing was copied. Check it with `onset sync verify {take.name}`, seal what was added "
              f"with `onset sync seal {take.name}`")

    parent = Path(destination).expanduser()
    if not parent.is_dir():
        raise CopyError(f"cannot copy take {take.name} to {parent}: it is not a folder (create it first)")
    parent = parent.resolve()
    if parent == take.folder or take.folder in parent.parents:
        raise CopyError(f"cannot copy take {take.name} into itself ({parent})")
    final = parent / take.name
    if final.exists() or final.is_symlink():
        raise CopyError(f"{final} already exists: a take is never copied over another one; check that copy "
                        f"with `onset sync verify {final}`, or choose another destination")
    staging = parent / f".{take.name}{STAGING_SUFFIX}"
    try:
        staging.mkdir()
    except FileExistsError as err:
        raise CopyError(f"{staging} exists: another copy of {take.name} is running there, or one was interrupted; "
                        "remove it once no copy runs") from err
    except OSError as err:
        raise CopyError(f"cannot copy take {take.name} to {parent}: {describe_os_error(err)}") from err

    try:
        generation = _copy_into(take.name, tree, history, staging, hash_format, author, progress)
        if final.exists():
            raise CopyError(f"{final} appeared while the copy was made; the copy was not put in its place")
        os.rename(staging, final)
        fsync_dir(parent)
    except BaseException as err:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, CustodyError) or not isinstance(err, Exception):
            raise
        reason = describe_os_error(err) if isinstance(err, OSError) else f"{type(err).__name__}: {err}"
        raise CopyError(f"copying take {take.name} to {parent} failed: {reason}; the partial copy was removed") from err
    return CopyResult(take.folder, final, generation.number, final / HISTORY_DIRNAME / generation.file_name,
                      generation.hash_formats, len(tree.files), tree.bytes)


def _formats_of(recorded: RecordedFile, hash_format: Optional[str]) -> List[str]:
    formats = [fmt for fmt in HASH_FORMATS if fmt in recorded.digests]
    return formats + ([hash_format] if hash_format and hash_format not in formats else [])


def _copy_into(name: str, tree: TakeTree, history: TakeHistory, staging: Path, hash_format: Optional[str],
               author: Optional[str], progress: Optional[Progress]) -> Generation:
    """Copy and check every file into ``staging``, then write its transfer generation; returns it."""
    history_files = _history_files(tree.root)
    formats = {f.rel: _formats_of(history.files[f.rel], hash_format) for f in tree.files}
    meter = ByteMeter(2 * (tree.bytes + sum(h.size for h in history_files)), progress)
    for rel in (*tree.directories[1:], HISTORY_DIRNAME):
        (staging / rel).mkdir()
    read: Dict[str, Dict[str, str]] = {}
    for f in tree.files:
        read[f.rel] = _copy_file(f, staging / f.rel, formats[f.rel], meter)
        recorded = history.files[f.rel]
        for fmt, digest in read[f.rel].items():
            expected = recorded.digests.get(fmt)
            if expected is not None and digest != expected:
                raise TakeChangedError(
                    f"take {name}: {f.rel} no longer matches its history: {fmt} {expected} recorded in generation "
                    f"{recorded.generation}, {digest} read now; nothing was copied (onset sync verify {name})")
    for h in history_files:
        read[h.rel] = _copy_file(h, staging / h.rel, [_HISTORY_CHECK], meter)
    for rel in (*tree.directories, HISTORY_DIRNAME):
        fsync_dir(staging / rel)
    for f in (*tree.files, *history_files):
        back = file_digests(staging / f.rel, list(read[f.rel]), meter)
        for fmt, digest in back.items():
            if digest != read[f.rel][fmt]:
                raise CopyError(f"the copy of {name}/{f.rel} does not read back as it was written ({fmt} {digest}, "
                                f"the source read {read[f.rel][fmt]}): the destination drive may be failing; "
                                "the partial copy was removed")
    staged = read_history(staging)
    staged_tree = walk_take(staging, strict=True)
    common = [fmt for fmt in HASH_FORMATS if all(fmt in fs for fs in formats.values())]
    directory_formats = [hash_format] if hash_format else common[:1]
    hash_list = build_hash_list(staged.mhl, staged_tree, {f.rel: read[f.rel] for f in tree.files}, directory_formats)
    comment = (f"offload copy of {tree.root} on {platform.node()}, every byte read back and verified against "
               f"generation {history.latest.number}")
    write_generation(staging, staged.mhl, hash_list, name, PROCESS_TRANSFER, author, comment)
    return read_history(staging).latest
