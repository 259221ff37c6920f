"""A take's objects in the studio's storage, read back: listed under its key prefix, and streamed to disk while hashed.

A take lies in the bucket at ``<prefix><take name>/<path in the take>`` for every file of it, its
``ascmhl/`` folder included (the uploader's layout, ``studio_sync/upload``). A key is trusted
only as a path inside the take: :func:`key_problem` refuses an empty, ``.`` or ``..`` part, a
backslash or a control character before anything is written under a local folder, so a key
crafted to climb out of the download folder never does. Keys ending in ``/`` with no bytes are
folder markers some S3 tools write, not files.

:func:`download` streams an object into a new file (never over an existing one, never through a
link) in blocks of :data:`studio_sync.custody.READ_BYTES`, feeding the digest ASC MHL recorded
for it as the bytes pass: one read of the store for both the check and the copy. Digests are
xxHash's canonical hex (``xxh64``: XXH64 seed 0; ``xxh128``: XXH3-128), the strings ascmhl writes
and :func:`studio_sync.custody.file_digest` computes.

Which objects the history vouches for: not those in ``ascmhl/`` (:func:`is_history_path`), nor
those whose names the history's ignore list holds (:func:`is_ignored`, ``.DS_Store``), as ascmhl
leaves them out.

Storage failures raise :class:`~studio_sync.storage.StorageRequestError` (a
:class:`~studio_sync.storage.CredentialsError` for refused keys), one sentence each
(:func:`~studio_sync.storage.describe_client_error`); a local write that fails raises its
``OSError``.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from studio_sync.custody import HISTORY_DIRNAME, READ_BYTES, new_hasher
from studio_sync.storage.client import describe_client_error

__all__ = ["StoredObject", "take_prefix", "key_problem", "list_take_objects", "download", "is_history_path",
           "is_ignored"]

# O_EXCL: never over an existing file, nor through a link standing where the file goes. The mode
# is what the umask leaves, as for any file the process writes.
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


@dataclass(frozen=True)
class StoredObject:
    """One object of a take: ``rel`` its POSIX path in the take, ``key`` its key, ``size`` bytes,
    ``last_modified`` ISO 8601 UTC (None when the store does not say), ``etag`` the store's ETag
    without its quotes ("" when the store does not say)."""

    rel: str
    key: str
    size: int
    last_modified: Optional[str]
    etag: str


def take_prefix(prefix: str, name: str) -> str:
    """The key prefix of take ``name``'s objects: ``<prefix>/<name>/`` (``prefix`` may end in ``/``
    or be empty)."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return f"{prefix}{name}/"


def key_problem(rel: str) -> Optional[str]:
    """Why ``rel`` (a key less its take's prefix) cannot be a file of the take, or None."""
    if any(p in ("", ".", "..") for p in rel.split("/")):
        return "it has an empty, '.' or '..' part"
    if "\\" in rel or any(ord(c) < 32 or ord(c) == 127 for c in rel):
        return "it holds a backslash or a control character"
    return None


def _iso(value: Any) -> Optional[str]:
    if value is None or not hasattr(value, "isoformat"):
        return None
    return value.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def list_take_objects(client: Any, bucket: str, prefix: str, name: str, endpoint: str,
                      page_size: Optional[int] = None) -> Tuple[List[StoredObject], List[str]]:
    """``(objects, problems)`` of take ``name``: every object under :func:`take_prefix`, sorted by
    path, and one sentence per key that cannot be a file of the take (:func:`key_problem`).
    ``page_size``: keys asked for per listing request (None: the store's default, 1000)."""
    base = take_prefix(prefix, name)
    paging: Dict[str, Any] = {} if page_size is None else {"PaginationConfig": {"PageSize": page_size}}
    objects: List[StoredObject] = []
    problems: List[str] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=base, **paging):
            for item in page.get("Contents") or []:
                key, size = str(item["Key"]), int(item.get("Size") or 0)
                rel = key[len(base):]
                if key.endswith("/") and size == 0:
                    continue  # a folder marker
                problem = key_problem(rel)
                if problem:
                    problems.append(f"unsafe key: {key} ({problem}); a take's keys are paths inside the take")
                    continue
                objects.append(StoredObject(rel, key, size, _iso(item.get("LastModified")),
                                            str(item.get("ETag") or "").strip('"')))
    except Exception as err:  # botocore raises many types; each becomes one sentence
        raise describe_client_error(err, endpoint, f"listing s3://{bucket}/{base}") from None
    return sorted(objects, key=lambda o: o.rel), problems


def download(client: Any, bucket: str, key: str, dest: Path, endpoint: str, hash_format: Optional[str] = None,
             meter: Optional[Callable[[int], None]] = None) -> Tuple[int, Optional[str]]:
    """Stream object ``key`` into the new file ``dest`` (its folders made), hashing it in
    ``hash_format`` (None: not hashed) as it passes; ``(bytes written, hex digest or None)``.
    ``meter(n)`` hears each block. A failure leaves no partial file behind."""
    hasher = new_hasher(hash_format) if hash_format is not None else None
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(dest), _CREATE_FLAGS, 0o666)
    written = 0
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                body = client.get_object(Bucket=bucket, Key=key)["Body"]
                for block in body.iter_chunks(READ_BYTES):
                    out.write(block)
                    if hasher is not None:
                        hasher.update(block)
                    written += len(block)
                    if meter is not None:
                        meter(len(block))
            except OSError:
                raise
            except Exception as err:  # botocore and urllib3 raise many types mid-stream
                raise describe_client_error(err, endpoint, f"reading s3://{bucket}/{key}") from None
    except BaseException:
        try:
            dest.unlink()
        except OSError:
            pass
        raise
    return written, (hasher.hexdigest() if hasher is not None else None)


def is_history_path(rel: str) -> bool:
    """Whether ``rel`` lies in the take's ``ascmhl/`` folder."""
    return rel == HISTORY_DIRNAME or rel.startswith(HISTORY_DIRNAME + "/")


def is_ignored(rel: str, patterns: Sequence[str]) -> bool:
    """Whether the history's ignore ``patterns`` leave ``rel`` out: a pattern holding a ``/`` is
    matched against the whole path, one without against each name in it."""
    parts = rel.split("/")
    for pattern in patterns:
        bare = pattern.rstrip("/")
        if not bare or bare == HISTORY_DIRNAME:
            continue
        if "/" in bare:
            if fnmatchcase(rel, bare):
                return True
        elif any(fnmatchcase(part, bare) for part in parts):
            return True
    return False
