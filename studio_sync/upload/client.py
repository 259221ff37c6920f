"""The uploader's S3 calls: one thread-safe boto3 client, every answer checked, every error one sentence.

boto3 clients are thread-safe; one is shared by all part threads with a connection pool of
``concurrency + 2``. Every answer is checked for what S3 always returns (an upload id, an ETag,
the bucket's name): an endpoint that answers HTML with status 200 makes boto3 return an empty
result rather than fail, and is reported as :class:`~studio_sync.upload.errors.NotS3Error`.
Every part and small object is sent with its ``Content-MD5``, so a store refuses a body damaged
on the way (``BadDigest``), and the ETag it answers must be that MD5 (S3's and SeaweedFS's part
ETag: the MD5 hex of the bytes, in quotes).

Request bodies are wrapped just before they are written to the socket (botocore's
``before-send`` event, after signing and hashing): the wrapper draws from the shared
:class:`~studio_sync.upload.bandwidth.TokenBucket` and tells the progress meter of the calling
thread how many bytes left, and takes them back when botocore rewinds the body to retry.
"""

from __future__ import annotations

import base64
import contextlib
import io
import threading
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from config.studio import StudioConfig
from studio_sync.storage import CredentialsError, describe_client_error, s3_client
from studio_sync.upload.bandwidth import TokenBucket
from studio_sync.upload.errors import NotS3Error, StoreError, StoreKeysError, UploadGoneError

__all__ = ["StoreClient", "normalize_etag", "content_md5", "LIST_PARTS_PAGE", "READ_CHUNK"]

#: Parts asked for per ListParts request (S3's maximum is 1000).
LIST_PARTS_PAGE = 1000
#: Bytes per block when an object is read back.
READ_CHUNK = 1 << 20
_SEND_BLOCK = 64 * 1024
# Answers worth another attempt: the store or the way to it had a bad moment, or a body was damaged.
_RETRYABLE_CODES = frozenset({"BadDigest", "XAmzContentSHA256Mismatch", "IncompleteBody", "RequestTimeout",
                              "InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeTooSkewed"})


def normalize_etag(etag: object) -> str:
    """An ETag as lower-case text without its quotes (``"9b2c..."`` → ``9b2c...``)."""
    return str(etag or "").strip().strip('"').lower()


def content_md5(md5_hex: str) -> str:
    """The ``Content-MD5`` header of a body whose MD5 is ``md5_hex``: base64 of the 16 bytes."""
    return base64.b64encode(bytes.fromhex(md5_hex)).decode("ascii")


class _MeteredBody(io.RawIOBase):
    """A request body that draws from the bandwidth bucket and tells a meter as it is read for sending."""

    def __init__(self, inner: Any, limit: Optional[TokenBucket], meter: Optional[Callable[[int], None]]) -> None:
        super().__init__()
        self._inner, self._limit, self._meter = inner, limit, meter
        self._sent = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > _SEND_BLOCK:
            n = _SEND_BLOCK
        if self._limit is not None:
            self._limit.take(n)
        data = self._inner.read(n)
        if data and self._meter is not None:
            self._meter(len(data))
        self._sent += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        position = self._inner.seek(offset, whence)
        if self._meter is not None and position != self._sent:
            self._meter(position - self._sent)  # a rewind to retry takes the bytes back
        self._sent = position
        return position

    def tell(self) -> int:
        return self._inner.tell()


class StoreClient:
    """The writer's S3 client on the studio for uploads (see the module docstring)."""

    def __init__(self, config: StudioConfig, concurrency: int = 4, limit: Optional[TokenBucket] = None,
                 attempts: int = 2, list_parts_page: int = LIST_PARTS_PAGE, client: Any = None) -> None:
        self.endpoint = config.endpoint_url()
        self.bucket = config.storage.bucket
        self.list_parts_page = list_parts_page
        self._limit = limit
        self._local = threading.local()
        if client is None:
            try:
                client = s3_client(config, "writer", max_pool_connections=concurrency + 2, retries=attempts)
            except CredentialsError as err:
                raise StoreKeysError(str(err)) from err
        self._client = client
        for operation in ("UploadPart", "PutObject"):
            client.meta.events.register(f"before-send.s3.{operation}", self._wrap_body)

    # ---- metering -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def metering(self, meter: Optional[Callable[[int], None]]) -> Iterator[None]:
        """Within this block, bodies this thread sends report their bytes to ``meter``."""
        previous = getattr(self._local, "meter", None)
        self._local.meter = meter
        try:
            yield
        finally:
            self._local.meter = previous

    def _wrap_body(self, request: Any, **_kwargs: Any) -> None:
        body = request.body
        if body is None or isinstance(body, _MeteredBody) or isinstance(body, (bytes, bytearray, str)):
            return
        meter = getattr(self._local, "meter", None)
        if meter is None and self._limit is None:
            return
        request.body = _MeteredBody(body, self._limit, meter)

    # ---- errors -------------------------------------------------------------------------------

    def _error(self, err: BaseException, doing: str, body: bool = False) -> StoreError:
        from botocore.exceptions import ClientError, EndpointConnectionError, HTTPClientError
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.parsers import ResponseParserError
        if isinstance(err, ClientError):
            code = str(err.response.get("Error", {}).get("Code") or "")
            status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if code == "NoSuchUpload":
                return UploadGoneError(f"{self.endpoint} no longer has the multipart upload ({doing})")
            if body and code in ("SignatureDoesNotMatch", "XAmzContentSHA256Mismatch"):
                # The signature covers the body's SHA-256: a body damaged or cut short on the way
                # fails it, with keys the store accepted a moment before.
                return StoreError(f"{self.endpoint} refused the signature while {doing} ({code}): the body was "
                                  "probably damaged or cut short on the way", retryable=True)
            described = describe_client_error(err, self.endpoint, doing)
            if isinstance(described, CredentialsError):
                return StoreKeysError(str(described))
            if not code or code == str(status):
                # An error status without an S3 error document: a proxy or a web server answered.
                return NotS3Error(f"{self.endpoint} did not answer like S3 while {doing} (HTTP {status} without "
                                  "an S3 error document): is the endpoint URL right?")
            return StoreError(str(described), retryable=status >= 500 or code in _RETRYABLE_CODES)
        if isinstance(err, EndpointConnectionError):
            return StoreError(f"cannot reach {self.endpoint} while {doing}: is the studio up (`onset studio up`)?",
                              retryable=True)
        if isinstance(err, (HTTPClientError, BotoConnectionError)):
            return StoreError(f"the connection to {self.endpoint} failed while {doing} ({type(err).__name__}): "
                              "is the studio up?", retryable=True)
        if isinstance(err, ResponseParserError):
            return NotS3Error(f"{self.endpoint} did not answer like S3 while {doing}: the reply is not S3's XML "
                              "(is the endpoint URL right?)")
        return StoreError(str(describe_client_error(err, self.endpoint, doing)), retryable=True)

    def _call(self, doing: str, operation: str, body: bool = False, **kwargs: Any) -> Dict[str, Any]:
        try:
            answer = getattr(self._client, operation)(**kwargs)
        except Exception as err:  # botocore raises many types; each becomes one StoreError
            raise self._error(err, doing, body) from err
        if not isinstance(answer, dict):
            raise NotS3Error(f"{self.endpoint} did not answer like S3 while {doing}")
        return answer

    def _not_s3(self, doing: str, missing: str) -> NotS3Error:
        return NotS3Error(f"{self.endpoint} did not answer like S3 while {doing}: the reply has no {missing} "
                          "(an HTML page or another server?); check studio.storage.endpoint_url")

    # ---- requests -----------------------------------------------------------------------------

    def check_bucket(self, prefix: str) -> None:
        """One signed request that only S3 with this bucket answers right (ListObjectsV2, one key)."""
        doing = f"listing s3://{self.bucket}/{prefix}"
        answer = self._call(doing, "list_objects_v2", Bucket=self.bucket, Prefix=prefix, MaxKeys=1)
        if answer.get("Name") != self.bucket:
            raise self._not_s3(doing, "bucket name")

    def create_upload(self, key: str) -> str:
        """A new multipart upload of ``key``; its id."""
        doing = f"starting a multipart upload of {key}"
        upload_id = self._call(doing, "create_multipart_upload", Bucket=self.bucket, Key=key).get("UploadId")
        if not isinstance(upload_id, str) or not upload_id:
            raise self._not_s3(doing, "upload id")
        return upload_id

    def list_parts(self, key: str, upload_id: str) -> Optional[Dict[int, List[Tuple[int, str]]]]:
        """``{part number: [(size, ETag), ...]}`` the store holds for the upload (every page), or None
        when it no longer knows the upload. A store may list one number more than once (SeaweedFS
        keeps every version of a re-sent part; CompleteMultipartUpload picks the one by ETag)."""
        doing = f"listing the stored parts of {key}"
        parts: Dict[int, List[Tuple[int, str]]] = {}
        marker = 0
        while True:
            try:
                answer = self._call(doing, "list_parts", Bucket=self.bucket, Key=key, UploadId=upload_id,
                                    MaxParts=self.list_parts_page, PartNumberMarker=marker)
            except UploadGoneError:
                return None
            if answer.get("UploadId") != upload_id:
                raise self._not_s3(doing, "upload id")
            for part in answer.get("Parts") or []:
                number, size = part.get("PartNumber"), part.get("Size")
                if not isinstance(number, int) or not isinstance(size, int):
                    raise self._not_s3(doing, "part number and size")
                parts.setdefault(number, []).append((size, normalize_etag(part.get("ETag"))))
            if not answer.get("IsTruncated"):
                return parts
            following = answer.get("NextPartNumberMarker")
            if not isinstance(following, int) or following <= marker:
                raise NotS3Error(f"{self.endpoint} listed the parts of {key} in pages that do not advance "
                                 f"(marker {marker}, then {following!r})")
            marker = following

    def upload_part(self, key: str, upload_id: str, number: int, data: bytes, md5_hex: str) -> str:
        """Send part ``number``; its ETag, which must be the MD5 of ``data``."""
        doing = f"sending part {number} of {key}"
        answer = self._call(doing, "upload_part", body=True, Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                            Body=data, ContentMD5=content_md5(md5_hex), ContentLength=len(data))
        return self._check_etag(answer, doing, md5_hex)

    def put_object(self, key: str, data: bytes, md5_hex: str) -> str:
        """Send a whole small object in one request; its ETag, which must be the MD5 of ``data``."""
        doing = f"sending {key}"
        answer = self._call(doing, "put_object", body=True, Bucket=self.bucket, Key=key, Body=data,
                            ContentMD5=content_md5(md5_hex), ContentLength=len(data))
        return self._check_etag(answer, doing, md5_hex)

    def _check_etag(self, answer: Dict[str, Any], doing: str, md5_hex: str) -> str:
        etag = normalize_etag(answer.get("ETag"))
        if not etag:
            raise self._not_s3(doing, "ETag")
        if etag != md5_hex:
            raise StoreError(f"{self.endpoint} answered ETag {etag} while {doing}, not the MD5 of the bytes sent "
                             f"({md5_hex}): the body was damaged on the way", retryable=True)
        return etag

    def complete(self, key: str, upload_id: str, parts: Sequence[Tuple[int, str]]) -> str:
        """Complete the upload from ``(part number, MD5 hex)`` in order; the object's ETag."""
        doing = f"completing the multipart upload of {key}"
        listed = [{"PartNumber": n, "ETag": f'"{md5}"'} for n, md5 in parts]
        answer = self._call(doing, "complete_multipart_upload", Bucket=self.bucket, Key=key, UploadId=upload_id,
                            MultipartUpload={"Parts": listed})
        etag = normalize_etag(answer.get("ETag"))
        if not etag:
            raise self._not_s3(doing, "ETag")
        return etag

    def abort(self, key: str, upload_id: str) -> None:
        """Abort the upload (nothing of it stays in the store); an upload the store lost is fine."""
        try:
            self._call(f"aborting the multipart upload of {key}", "abort_multipart_upload", Bucket=self.bucket,
                       Key=key, UploadId=upload_id)
        except UploadGoneError:
            pass

    def head(self, key: str) -> Optional[Tuple[int, str]]:
        """``(size, ETag)`` of the object at ``key``, or None when there is none."""
        from botocore.exceptions import ClientError

        doing = f"looking up {key}"
        try:
            answer = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as err:
            if str(err.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._error(err, doing) from err
        except Exception as err:
            raise self._error(err, doing) from err
        size = answer.get("ContentLength")
        if not isinstance(size, int):
            raise self._not_s3(doing, "content length")
        return size, normalize_etag(answer.get("ETag"))

    def read(self, key: str) -> Tuple[int, Iterator[bytes]]:
        """The object's announced size and its bytes, streamed in blocks (each read error a StoreError)."""
        doing = f"reading back {key}"
        answer = self._call(doing, "get_object", Bucket=self.bucket, Key=key)
        body, size = answer.get("Body"), answer.get("ContentLength")
        if body is None or not isinstance(size, int):
            raise self._not_s3(doing, "body")

        def blocks() -> Iterator[bytes]:
            try:
                for chunk in body.iter_chunks(READ_CHUNK):
                    yield chunk
            except Exception as err:
                raise self._error(err, doing) from err
            finally:
                body.close()

        return size, blocks()

    def uploads_of(self, key: str) -> List[str]:
        """Ids of the unfinished multipart uploads of exactly ``key``."""
        answer = self._call(f"listing unfinished uploads of {key}", "list_multipart_uploads", Bucket=self.bucket,
                            Prefix=key)
        return [u["UploadId"] for u in answer.get("Uploads") or [] if u.get("Key") == key and u.get("UploadId")]
