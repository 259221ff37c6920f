"""Object keys of a take in the studio, and every path that must not become one.

A file ``REL`` (a POSIX path relative to the take folder) of take ``NAME`` is stored at
``<studio.storage.prefix><NAME>/<REL>``: ``takes/12_3_004_20270115T080000Z/bag/bag_0.mcap``.
A key is refused when it holds an empty, ``.`` or ``..`` segment, starts with ``/``, ends with
``/`` (a folder marker), holds a backslash or a control character, or is longer than S3's 1024
bytes of UTF-8. The same rules keep a path read from the queue inside the take folder
(:func:`take_file_path`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from studio_sync.upload.errors import InvalidKeyError, UnsafeUploadPathError

__all__ = ["MAX_KEY_BYTES", "key_problem", "validate_key", "object_key", "take_prefix", "relative_path_problem",
           "take_file_path"]

#: S3's limit on a key, in bytes of UTF-8.
MAX_KEY_BYTES = 1024


def _control(text: str) -> Optional[str]:
    for index, char in enumerate(text):
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return f"a control character (U+{ord(char):04X}) at position {index}"
    return None


def relative_path_problem(rel: object) -> Optional[str]:
    """Why ``rel`` is not a path inside a take (relative, ``/``-separated, no ``.``/``..``), or None."""
    if not isinstance(rel, str) or not rel:
        return "it is empty"
    if rel.startswith("/"):
        return "it is absolute (starts with '/')"
    if "\\" in rel:
        return "it holds a backslash"
    parts = rel.split("/")
    if ".." in parts:
        return "it climbs out with '..'"
    if any(p in ("", ".") for p in parts):
        return "it holds an empty or '.' segment"
    control = _control(rel)
    if control:
        return f"it holds {control}"
    return None


def key_problem(key: object) -> Optional[str]:
    """Why ``key`` is not an object key Onset writes, or None."""
    if not isinstance(key, str) or not key:
        return "a key must not be empty"
    if key.endswith("/"):
        return "a key must not end with '/' (that is a folder marker)"
    problem = relative_path_problem(key)
    if problem:
        return f"a key must be a relative path without '.', '..', '//', '\\' or control characters, but {problem}"
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        return "a key must be UTF-8 text"
    if size > MAX_KEY_BYTES:
        return f"a key is at most {MAX_KEY_BYTES} bytes of UTF-8, this one is {size}"
    return None


def validate_key(key: str) -> str:
    """``key`` if it is allowed, else :class:`InvalidKeyError` naming it and the rule it breaks."""
    problem = key_problem(key)
    if problem:
        shown = key if len(key) <= 120 else key[:60] + "..." + key[-40:]
        raise InvalidKeyError(f"object key {shown!r} is not allowed: {problem}")
    return key


def take_prefix(prefix: str, take_name: str) -> str:
    """``<prefix><take name>/``: where every object of the take goes."""
    if not take_name or "/" in take_name or take_name in (".", "..") or _control(take_name) or "\\" in take_name:
        raise InvalidKeyError(f"take name {take_name!r} cannot be part of an object key (no '/', '\\', "
                              "control characters, '.' or '..')")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return f"{prefix}{take_name}/"


def object_key(prefix: str, take_name: str, rel: str) -> str:
    """The key of the file ``rel`` of take ``take_name``; :class:`InvalidKeyError` when not allowed."""
    problem = relative_path_problem(rel)
    if problem:
        raise InvalidKeyError(f"take {take_name}: {rel!r} cannot become an object key: {problem}")
    return validate_key(take_prefix(prefix, take_name) + rel)


def take_file_path(folder: Path, rel: str) -> Path:
    """The file ``rel`` of the take at ``folder``, refused (:class:`UnsafeUploadPathError`) when it
    would lead out of the folder, through ``..``, an absolute path or a symbolic link on the way."""
    problem = relative_path_problem(rel)
    if problem:
        raise UnsafeUploadPathError(f"take {Path(folder).name}: {rel!r} is not a path inside the take: {problem}")
    root = Path(folder)
    current = root
    for part in rel.split("/")[:-1]:
        current = current / part
        if current.is_symlink():
            raise UnsafeUploadPathError(f"take {root.name}: {rel}: {current.relative_to(root)} is a symbolic link; "
                                        "a take holds plain folders and files only")
    path = root / rel
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(path.parent)]) != real_root:
        raise UnsafeUploadPathError(f"take {root.name}: {rel} resolves outside the take folder")
    return path
