"""The takes in the studio's storage, read with the reader identity: listed, and streamed to disk while hashed.

A take lies in the bucket at ``<prefix><take name>/<path in the take>`` for every file of it, its
``ascmhl/`` folder included (the uploader's layout, ``studio_sync/upload``). A key is trusted
only as a path inside the take: :func:`key_problem` refuses an empty, ``.`` or ``..`` part, a
backslash or a control character before anything is written under a local folder, so a key
crafted to climb out of the download folder never does. Keys ending in ``/`` are folder markers
some S3 tools write, not files.

:func:`download` streams an object into a new file (never over an existing one) in blocks of
:data:`studio_sync.custody.READ_BYTES`, feeding the digest ASC MHL recorded for it as the bytes
pass: one read of the store for both the check and the copy the labels are derived from.
Digests are xxHash's canonical hex (``xxh64``: XXH64 seed 0; ``xxh128``: XXH3-128), the
strings ascmhl writes and :func:`studio_sync.custody.file_digest` computes.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import xxhash

from studio_sync.custody import READ_BYTES
from studio_sync.storage import describe_client_error

__all__ = ["StoredObject", "HASHERS", "take_prefix", "key_problem", "name_problem", "list_take_names",
           "list_take_objects", "download"]

#: The digests ASC MHL records that ingest checks, by their MHL names.
HASHERS: Dict[str, Callable[[], Any]] = {"xxh64": xxhash.xxh64, "xxh128": xxhash.xxh3_128}


@dataclass(frozen=True)
class StoredObject:
    """One object of a take: ``rel`` its POSIX path in the take, ``key`` its key, ``size`` bytes,
    ``last_modified`` ISO 8601 UTC (None when the store does not say)."""

    rel: str
    key: str
    size: int
    last_modified: Optional[str]


def take_prefix(prefix: str, name: str) -> str:
    """The key prefix of take ``name``'s objects."""
    return f"{prefix}{name}/"


def name_problem(name: str) -> Optional[str]:
    """Why ``name`` cannot be a take's folder name, or None."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or any(ord(c) < 32 for c in name):
        return f"{name!r} is not a take folder name"
    return None


def key_problem(rel: str) -> Optional[str]:
    """Why ``rel`` (a key less its take's prefix) cannot be a file of the take, or None."""
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return f"{rel!r} has an empty, '.' or '..' part"
    if "\\" in rel or any(ord(c) < 32 for c in rel):
        return f"{rel!r} holds a backslash or a control character"
    return None


def _iso(value: Any) -> Optional[str]:
    if value is None or not hasattr(value, "isoformat"):
        return None
    return value.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def list_take_names(client: Any, bucket: str, prefix: str, endpoint: str) -> List[str]:
    """The names of the takes under ``prefix`` (one per ``<prefix><name>/``), sorted."""
    names = set()
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes") or []:
                names.add(str(common["Prefix"])[len(prefix):].rstrip("/"))
    except Exception as err:  # botocore raises many types; each becomes one sentence
        raise describe_client_error(err, endpoint, f"listing s3://{bucket}/{prefix}") from None
    return sorted(n for n in names if n)


def list_take_objects(client: Any, bucket: str, prefix: str, name: str, endpoint: str
                      ) -> Tuple[List[StoredObject], List[str]]:
    """``(objects, problems)`` of take ``name``: every object under its prefix, sorted by path, and
    one sentence per key that cannot be a file of the take (:func:`key_problem`)."""
    base = take_prefix(prefix, name)
    objects: List[StoredObject] = []
    problems: List[str] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=base):
            for item in page.get("Contents") or []:
                key = str(item["Key"])
                rel = key[len(base):]
                if key.endswith("/") and int(item.get("Size") or 0) == 0:
                    continue  # a folder marker
                problem = key_problem(rel)
                if problem:
                    problems.append(f"unsafe key: {key} ({problem}); a take's keys are paths inside the take")
                    continue
                objects.append(StoredObject(rel, key, int(item.get("Size") or 0), _iso(item.get("LastModified"))))
    except Exception as err:  # botocore raises many types; each becomes one sentence
        raise describe_client_error(err, endpoint, f"listing s3://{bucket}/{base}") from None
    return sorted(objects, key=lambda o: o.rel), problems


def download(client: Any, bucket: str, obj: StoredObject, dest: Path, endpoint: str,
             hash_format: Optional[str] = None, meter: Optional[Callable[[int], None]] = None
             ) -> Tuple[int, Optional[str]]:
    """Stream ``obj`` into the new file ``dest`` (its folders made), hashing it in ``hash_format``
    (None: not hashed) as it passes; ``(bytes written, hex digest or None)``. ``meter(n)`` hears
    each block. A failure leaves no partial file behind."""
    hasher = HASHERS[hash_format]() if hash_format is not None else None
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(dest), os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    written = 0
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                body = client.get_object(Bucket=bucket, Key=obj.key)["Body"]
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
                raise describe_client_error(err, endpoint, f"reading s3://{bucket}/{obj.key}") from None
    except BaseException:
        try:
            dest.unlink()
        except OSError:
            pass
        raise
    return written, (hasher.hexdigest() if hasher is not None else None)
