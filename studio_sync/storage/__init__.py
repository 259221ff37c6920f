"""The studio's S3 storage: the embedded SeaweedFS (single process or a cluster), keys and clients.

A take's objects read back from the store (listed, key-checked, streamed to disk while hashed) are
in :mod:`studio_sync.storage.objects`, which the catalogue and the dataset builder import from
there: it reads takes sealed with ASC MHL, so it imports :mod:`studio_sync.custody`, which starting
and reaching the store do not need.
"""

from studio_sync.storage.client import check_access, describe_client_error, ensure_bucket, s3_client
from studio_sync.storage.credentials import Credentials, credentials_path, ensure_credentials_file, resolve_credentials
from studio_sync.storage.embedded import EmbeddedStudio, StudioProcess, StudioState, find_weed
from studio_sync.storage.errors import CredentialsError, StorageRequestError, StudioNotRunningError, StudioStorageError

__all__ = [
    "check_access", "describe_client_error", "ensure_bucket", "s3_client",
    "Credentials", "credentials_path", "ensure_credentials_file", "resolve_credentials",
    "EmbeddedStudio", "StudioProcess", "StudioState", "find_weed",
    "CredentialsError", "StorageRequestError", "StudioNotRunningError", "StudioStorageError",
]
