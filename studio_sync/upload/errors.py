"""What can go wrong while queueing and uploading takes, in words a data wrangler can act on.

Three kinds, because each leaves the queue differently:

- a take that cannot be queued (:class:`TakeRefusedError`, :class:`InvalidKeyError`): nothing is
  written to the queue or the studio;
- a take whose content is wrong (:class:`FileChangedError`, :class:`VerificationError`,
  :class:`UnsafeUploadPathError`): the take is marked ``failed`` with the sentence as its reason
  and is never marked synced;
- a studio that cannot be used now (:class:`StoreError` and its subclasses): the take stays
  ``queued`` with the reason, and the next ``onset sync push`` resumes it.
"""

from __future__ import annotations

__all__ = [
    "UploadError",
    "QueueError",
    "QueueBusyError",
    "TakeRefusedError",
    "InvalidKeyError",
    "UnsafeUploadPathError",
    "FileChangedError",
    "VerificationError",
    "StoreError",
    "StoreKeysError",
    "NotS3Error",
    "UploadGoneError",
]


class UploadError(Exception):
    """Root of every error of the upload queue and its uploads."""


class QueueError(UploadError):
    """The queue file cannot be opened: not an Onset queue, a schema this Onset does not know, unreadable."""


class QueueBusyError(QueueError):
    """Another ``onset sync push`` holds the queue."""


class TakeRefusedError(UploadError):
    """A take that is not queued: not a take, not sealed, or no longer matching its ASC MHL history."""


class InvalidKeyError(UploadError, ValueError):
    """An object key (or a take name or path that makes one) that S3 or Onset does not allow."""


class UnsafeUploadPathError(UploadError):
    """A path that would read from outside the take folder (``..``, an absolute path, a link)."""


class FileChangedError(UploadError):
    """A file whose bytes, size or modification time differ from what was hashed when it was sealed."""


class VerificationError(UploadError):
    """An object read back from the studio whose size or digest is not the one its MHL records."""


class StoreError(UploadError):
    """The studio's S3 failed or refused a request. ``retryable``: whether trying again can help."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class StoreKeysError(StoreError):
    """No keys for the writer identity, or keys the studio refused."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class NotS3Error(StoreError):
    """The endpoint answered, but not like S3 (an HTML page, a proxy's error, a truncated reply)."""


class UploadGoneError(StoreError):
    """The store no longer knows a multipart upload id (aborted, expired or completed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)
