"""Every object read back from the studio and hashed with its MHL's algorithm before it counts as verified.

An object is ``verified`` only when the bytes the studio returns for its key, read back whole
after CompleteMultipartUpload (or PutObject), are as many as the MHL records and hash to the
MHL's digest (xxh64 or xxh128, with ``xxhash`` as ascmhl and ``xxhsum`` compute them). No ETag
or checksum the store reports is trusted for this: a multipart ETag is an MD5 of part MD5s,
which says nothing about the MHL's digest. A take is ``verified`` only when every object of its
MHL generation is, and the history's own files (``ascmhl/``) are uploaded and read back too, so
the studio can re-verify the take from what it holds.
"""

from __future__ import annotations

from typing import Any

from studio_sync.custody import CustodyError
from studio_sync.custody import new_hasher as custody_hasher
from studio_sync.upload.client import StoreClient
from studio_sync.upload.errors import VerificationError
from studio_sync.upload.types import QueuedObject

__all__ = ["new_hasher", "verify_object"]


def new_hasher(hash_format: str) -> Any:
    """A fresh incremental hasher of ``hash_format`` (custody's: ``update``, ``hexdigest``);
    a format Onset does not check is a :class:`VerificationError`."""
    try:
        return custody_hasher(hash_format)
    except CustodyError as err:
        raise VerificationError(str(err)) from None


def verify_object(store: StoreClient, obj: QueuedObject) -> None:
    """Read ``obj`` back from the studio and compare its size and digest with the MHL's;
    :class:`VerificationError` when they differ (a store error is a ``StoreError``)."""
    hasher = new_hasher(obj.hash_format)
    announced, blocks = store.read(obj.key)
    received = 0
    for block in blocks:
        received += len(block)
        hasher.update(block)
    if announced != obj.size or received != obj.size:
        raise VerificationError(f"the studio holds {received} bytes for {obj.rel} (announced {announced}); "
                                f"its MHL records {obj.size}")
    actual = hasher.hexdigest()
    if actual != obj.digest:
        raise VerificationError(f"the studio's copy of {obj.rel} hashes to {obj.hash_format} {actual}; its MHL "
                                f"records {obj.digest}")
