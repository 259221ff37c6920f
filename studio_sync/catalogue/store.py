"""The takes in the studio's storage, as the catalogue's ingest finds them: their names, each one folder.

Every take lies under ``<prefix><take name>/`` (the uploader's layout, ``studio_sync/upload``);
:func:`list_take_names` lists those folders and :func:`name_problem` refuses a name that cannot
be one folder before anything is read or written for it. A take's own objects are listed and
streamed down by :mod:`studio_sync.storage.objects`.
"""

from __future__ import annotations

from typing import Any, List, Optional

from studio_sync.storage import describe_client_error

__all__ = ["name_problem", "list_take_names"]


def name_problem(name: str) -> Optional[str]:
    """Why ``name`` cannot be a take's folder name, or None."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or any(ord(c) < 32 for c in name):
        return f"{name!r} is not a take folder name"
    return None


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
