"""A boto3 S3 client for the studio's storage, and S3 errors turned into sentences.

Request checksums follow ``studio.storage.request_checksums``: ``when_required`` (the default)
keeps boto3 (1.36 and later adds CRC32 checksums to every upload by default) working with
stores that have no CRC support; Onset checks every object against the take's MHL itself.
"""

from __future__ import annotations

from typing import Any, Optional

from config.studio import StudioConfig
from studio_sync.storage.credentials import Credentials, resolve_credentials
from studio_sync.storage.errors import CredentialsError, StorageRequestError

__all__ = ["s3_client", "describe_client_error", "check_access", "ensure_bucket"]

_REFUSED = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken",
            "AuthorizationHeaderMalformed", "403"}


def s3_client(config: StudioConfig, role: str = "writer", credentials: Optional[Credentials] = None,
              max_pool_connections: int = 10, retries: int = 3) -> Any:
    """A boto3 S3 client on the studio's endpoint with ``role``'s keys (signed, path-style)."""
    import boto3
    from botocore.config import Config

    keys = credentials if credentials is not None else resolve_credentials(config, role)
    storage = config.storage
    client_config = Config(
        signature_version="s3v4",
        s3={"addressing_style": storage.addressing},
        connect_timeout=storage.timeout_s,
        read_timeout=storage.timeout_s,
        retries={"max_attempts": retries, "mode": "standard"},
        max_pool_connections=max_pool_connections,
        request_checksum_calculation=storage.request_checksums,
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=config.endpoint_url(),
        region_name=storage.region,
        aws_access_key_id=keys.access_key,
        aws_secret_access_key=keys.secret_key,
        config=client_config,
    )


def describe_client_error(err: BaseException, endpoint: str, doing: str) -> StorageRequestError:
    """One sentence for an S3 failure; wrong keys become a :class:`CredentialsError`."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        code = str(error.get("Code") or err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?"))
        message = error.get("Message") or ""
        if code in _REFUSED:
            return CredentialsError(f"{endpoint} refused the keys while {doing} ({code}: {message or 'access denied'}); "
                                    "check the identity's access key and secret")
        return StorageRequestError(f"{endpoint} answered {code} while {doing}" + (f": {message}" if message else ""))
    if isinstance(err, EndpointConnectionError):
        return StorageRequestError(f"cannot reach {endpoint} while {doing}: is the studio up (`onset studio up`)?")
    if isinstance(err, BotoCoreError):
        return StorageRequestError(f"{endpoint} did not answer like S3 while {doing}: {err}")
    return StorageRequestError(f"{endpoint}: {doing} failed: {err}")


def check_access(client: Any, endpoint: str) -> None:
    """One signed request (ListBuckets); raises with a clear sentence if it does not succeed."""
    try:
        client.list_buckets()
    except Exception as err:  # botocore raises many types; each becomes one sentence
        raise describe_client_error(err, endpoint, "listing buckets") from None


def ensure_bucket(client: Any, bucket: str, endpoint: str) -> bool:
    """Create ``bucket`` unless it exists; whether it was created."""
    from botocore.exceptions import ClientError

    try:
        client.head_bucket(Bucket=bucket)
        return False
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code"))
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise describe_client_error(err, endpoint, f"checking bucket {bucket}") from None
    except Exception as err:
        raise describe_client_error(err, endpoint, f"checking bucket {bucket}") from None
    try:
        client.create_bucket(Bucket=bucket)
    except Exception as err:
        raise describe_client_error(err, endpoint, f"creating bucket {bucket}") from None
    return True

