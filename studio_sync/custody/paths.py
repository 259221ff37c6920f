"""Which files a take holds, and every path that must not be followed out of it.

A closed take is a folder of plain files and folders: ``take.json``, the bag folder, whatever was
added later (captions), and its history in ``ascmhl/``. Walking it (:func:`walk_take`) refuses a
symbolic link (whether it points in or out), a socket, FIFO or device, and a name that XML cannot
hold; a strict walk (seal, copy) also refuses what a closed take never holds: the recorder's lock
and reserve files, half-written ``*.tmp`` / ``*.recovering`` files, a nested ``ascmhl/`` folder.
``.DS_Store`` files are left out, as ascmhl's default ignore list leaves them out.

A path read from an MHL file is checked by :func:`recorded_path_problem` before it is trusted:
relative, ``/``-separated, no empty, ``.`` or ``..`` part, nothing under ``ascmhl/``.

A take that ``take.json`` says is still recording, or whose lock a live process holds, is
neither sealed nor verified (:func:`open_take`): its files are still changing.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from edge.recorder.errors import TakeFileError
from edge.recorder.take import BAG_DIRNAME, LOCK_FILE, RESERVE_FILE, TakeStatus, live_recorder_pid, read_take_json
from studio_sync.custody.errors import (
    NotATakeError,
    TakeStillRecordingError,
    UnexpectedFileError,
    UnsafePathError,
)

__all__ = ["HISTORY_DIRNAME", "IGNORED_NAMES", "TakeFile", "TakeTree", "OpenTake", "open_take", "walk_take",
           "recorded_path_problem"]

HISTORY_DIRNAME = "ascmhl"
#: Names left out of every generation, as in ascmhl's default ignore list (besides ``ascmhl/``).
IGNORED_NAMES = frozenset({".DS_Store"})
_LEFTOVER_NAMES = frozenset({LOCK_FILE, RESERVE_FILE})
_LEFTOVER_SUFFIXES = (".tmp", ".recovering")


@dataclass(frozen=True)
class TakeFile:
    """One regular file of a take: ``rel`` is its POSIX path in the take folder."""

    rel: str
    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class TakeTree:
    """A take folder's files (sorted by path) and folders (``.`` first, each before what it holds)."""

    root: Path
    files: Tuple[TakeFile, ...]
    directories: Tuple[str, ...]

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class OpenTake:
    """A take folder checked to be closed: its resolved path and its ``take.json`` (None if unreadable)."""

    folder: Path
    document: Optional[Dict[str, Any]]

    @property
    def name(self) -> str:
        return self.folder.name


def _kind(mode: int) -> str:
    for test, word in ((stat.S_ISSOCK, "socket"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device")):
        if test(mode):
            return word
    return "special file"


def _name_problem(name: str) -> Optional[str]:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "its name is not UTF-8"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "its name holds control characters"
    if "\\" in name:
        return "its name holds a backslash"
    return None


def recorded_path_problem(rel: object) -> Optional[str]:
    """Why a path recorded in an MHL file cannot name a file of the take, or None when it can."""
    if not isinstance(rel, str) or not rel:
        return "an empty path"
    if rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
        return f"the absolute path {rel!r}"
    parts = rel.split("/")
    if ".." in parts:
        return f"the path {rel!r}, which climbs out of the take with '..'"
    if any(p in ("", ".") for p in parts) or "\\" in rel:
        return f"the malformed path {rel!r}"
    if parts[0] == HISTORY_DIRNAME:
        return f"the path {rel!r} inside the history's own folder"
    return None


def _is_leftover(name: str) -> bool:
    return name in _LEFTOVER_NAMES or name.endswith(_LEFTOVER_SUFFIXES)


def walk_take(folder: Path, strict: bool = True) -> TakeTree:
    """Every file and folder of the take at ``folder`` except ``ascmhl/`` and ``.DS_Store``.

    Raises :class:`UnsafePathError` for a symbolic link or a special file and, when ``strict``,
    :class:`UnexpectedFileError` for what a closed take never holds (see the module docstring)."""
    root = Path(folder)
    files: List[TakeFile] = []
    directories: List[str] = ["."]
    stack: List[Tuple[Path, str]] = [(root, ".")]
    while stack:
        path, rel_dir = stack.pop()
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            raise UnexpectedFileError(f"take {root.name}: cannot list {rel_dir}: {err.strerror or err}") from err
        subfolders: List[Tuple[Path, str]] = []
        for entry in entries:
            rel = entry.name if rel_dir == "." else f"{rel_dir}/{entry.name}"
            if rel_dir == "." and entry.name == HISTORY_DIRNAME and not entry.is_symlink():
                if not entry.is_dir(follow_symlinks=False):
                    raise UnexpectedFileError(f"take {root.name}: {HISTORY_DIRNAME} is not a folder; an ASC MHL "
                                              "history is a folder of .mhl files")
                continue
            if entry.name in IGNORED_NAMES:
                continue
            if entry.is_symlink():
                target = os.readlink(entry.path)
                raise UnsafePathError(f"take {root.name}: {rel} is a symbolic link (to {target}); a take holds "
                                      "plain files only: replace the link by the file itself")
            problem = _name_problem(entry.name)
            if problem:
                raise UnexpectedFileError(f"take {root.name}: {rel!r} cannot be recorded in an MHL file: {problem}")
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                if strict and entry.name == HISTORY_DIRNAME:
                    raise UnexpectedFileError(f"take {root.name}: {rel} is a second ASC MHL history inside the "
                                              "take; a take has one history, in its own ascmhl/ folder")
                directories.append(rel)
                subfolders.append((Path(entry.path), rel))
            elif stat.S_ISREG(info.st_mode):
                if strict and _is_leftover(entry.name):
                    raise UnexpectedFileError(
                        f"take {root.name}: {rel} is left over from an unfinished recording or write; "
                        f"run `onset takes recover {root.name}` (it cleans up), or remove it by hand")
                files.append(TakeFile(rel, Path(entry.path), info.st_size, info.st_mtime_ns))
            else:
                raise UnsafePathError(f"take {root.name}: {rel} is a {_kind(info.st_mode)}, not a plain file")
        stack.extend(reversed(subfolders))
    files.sort(key=lambda f: f.rel)
    return TakeTree(root, tuple(files), tuple(directories))


def _check_closed(folder: Path, document: Optional[Dict[str, Any]]) -> None:
    try:
        pid = live_recorder_pid(folder)
    except OSError:
        pid = None  # a lock that cannot even be opened (a read-only drive) is held by no one here
    if pid is not None:
        holder = f"pid {pid}" if pid > 0 else "a live process"
        raise TakeStillRecordingError(f"take {folder.name} is being recorded right now ({holder}): stop it first "
                                      "(onset take stop); it is sealed when it closes")
    if document is not None and document.get("status") == TakeStatus.RECORDING.value:
        raise TakeStillRecordingError(
            f"take {folder.name}: take.json says it is still recording, but no recorder holds it (it was "
            f"interrupted); run `onset takes recover {folder.name}` first, which closes and seals it")


def open_take(path: Union[str, Path], strict: bool = True) -> OpenTake:
    """The take folder at ``path``, checked to be closed.

    ``strict`` (seal, copy): ``take.json`` must be a readable take document and the bag folder
    must exist, else :class:`NotATakeError`. Otherwise (verify) an unreadable ``take.json`` is left
    for the digests to judge. Either way a take still recording raises :class:`TakeStillRecordingError`."""
    folder = Path(path).expanduser()
    if not folder.exists():
        raise NotATakeError(f"{folder} does not exist")
    if not folder.is_dir():
        raise NotATakeError(f"{folder} is not a folder: give a take folder (one holding take.json and bag/)")
    folder = folder.resolve()
    try:
        document: Optional[Dict[str, Any]] = read_take_json(folder)
    except TakeFileError as err:
        if strict:
            raise NotATakeError(str(err)) from err
        document = None
    if strict:
        bag = str(((document or {}).get("bag") or {}).get("path") or BAG_DIRNAME)
        problem = recorded_path_problem(bag)
        if problem:
            raise UnsafePathError(f"take {folder.name}: take.json names its bag folder by {problem}")
        if not (folder / bag).is_dir() or (folder / bag).is_symlink():
            raise NotATakeError(f"take {folder.name} has no bag folder {bag}/: not a complete take")
    _check_closed(folder, document)
    return OpenTake(folder, document)
