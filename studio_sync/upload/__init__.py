"""The upload queue: takes go to the studio's S3 storage resumably, each object verified against its MHL.

``onset sync push`` queues takes in a persistent SQLite queue (:mod:`~studio_sync.upload.queue`),
each verified first against its ASC MHL history (:mod:`~studio_sync.upload.plan`), and uploads
them with S3 multipart: parallel parts, a shared bandwidth cap, and a resume after any crash that
asks the store which parts it holds and never sends a finished part again
(:mod:`~studio_sync.upload.multipart`). Every object is then read back and hashed against the
MHL (:mod:`~studio_sync.upload.verify`); only then is the take ``verified``. ``onset sync
status`` shows the queue (:mod:`~studio_sync.upload.status`). See docs/studio-sync/upload.md.

Modules: ``types``, ``errors``, ``keys`` (object keys and paths refused), ``queue``, ``lock``, ``plan``,
``bandwidth``, ``client`` (the S3 calls, each answer checked), ``multipart``, ``verify``,
``push`` (the orchestrator), ``status``, ``progress`` (tqdm bars).
"""

from __future__ import annotations

from studio_sync.upload.bandwidth import TokenBucket, bucket_for
from studio_sync.upload.client import StoreClient, normalize_etag
from studio_sync.upload.errors import (
    FileChangedError,
    InvalidKeyError,
    NotS3Error,
    QueueBusyError,
    QueueError,
    StoreError,
    StoreKeysError,
    TakeRefusedError,
    UnsafeUploadPathError,
    UploadError,
    UploadGoneError,
    VerificationError,
)
from studio_sync.upload.keys import MAX_KEY_BYTES, key_problem, object_key, take_file_path, validate_key
from studio_sync.upload.multipart import part_plan
from studio_sync.upload.plan import plan_take
from studio_sync.upload.progress import TqdmProgress
from studio_sync.upload.push import ALREADY_VERIFIED, PushReport, push
from studio_sync.upload.lock import lock_holder, queue_lock
from studio_sync.upload.queue import SCHEMA_VERSION, UploadQueue
from studio_sync.upload.status import STATES, SyncRow, status_rows, sync_states
from studio_sync.upload.types import (
    NullProgress,
    ObjectResult,
    ObjectState,
    PlannedObject,
    ProgressSink,
    QueuedObject,
    QueuedTake,
    StoredPart,
    TakeOutcome,
    TakePlan,
    TakeState,
)
from studio_sync.upload.verify import verify_object

__all__ = [
    "push",
    "plan_take",
    "status_rows",
    "sync_states",
    "verify_object",
    "part_plan",
    "PushReport",
    "SyncRow",
    "STATES",
    "ALREADY_VERIFIED",
    "UploadQueue",
    "SCHEMA_VERSION",
    "queue_lock",
    "lock_holder",
    "StoreClient",
    "normalize_etag",
    "TokenBucket",
    "bucket_for",
    "TqdmProgress",
    "NullProgress",
    "ProgressSink",
    "MAX_KEY_BYTES",
    "key_problem",
    "validate_key",
    "object_key",
    "take_file_path",
    "TakeState",
    "ObjectState",
    "PlannedObject",
    "TakePlan",
    "QueuedTake",
    "QueuedObject",
    "StoredPart",
    "ObjectResult",
    "TakeOutcome",
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
