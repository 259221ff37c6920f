"""What can go wrong with the studio's storage, in words a data wrangler can act on."""

from __future__ import annotations

__all__ = ["StudioStorageError", "StudioNotRunningError", "CredentialsError", "StorageRequestError"]


class StudioStorageError(Exception):
    """The studio storage could not be started, stopped or reached."""


class StudioNotRunningError(StudioStorageError):
    """No embedded studio runs from this data folder."""


class CredentialsError(StudioStorageError):
    """No usable keys, or keys the store refused."""


class StorageRequestError(StudioStorageError):
    """An S3 request failed: the store said no, or answered something that is not S3."""
