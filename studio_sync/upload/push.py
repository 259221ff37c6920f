"""``onset sync push``: queue takes, then upload the queue take by take, each object verified in the studio.

A push:

1. makes one signed request to the studio that only S3 answers right; an endpoint that answers
   something else (an HTML page) stops the push before anything is hashed or written anywhere;
   when the studio refuses the keys or cannot be reached, the takes are still verified and queued,
   ``queued`` with that reason, to be sent later;
2. verifies each take it is given against its MHL history (:func:`~studio_sync.upload.plan.plan_take`);
   a take that does not verify, has no history, or whose keys are not allowed is refused and not
   queued; a take already verified in this studio at its current generation is not sent again;
3. takes the queue's lock (one push at a time) and queues the takes;
4. uploads the takes it was given (or, given none, every ``queued`` and interrupted take), one
   after the other: each object resumably (:mod:`studio_sync.upload.multipart`), then read back and
   verified (:mod:`studio_sync.upload.verify`); the take is ``verified`` once every object is.

A take whose file changed since it was sealed, or that the studio returns different bytes for,
is ``failed`` with the reason; the push goes on with the next take. A studio that fails past the
retries leaves the take ``queued`` (resumable: nothing sent is sent again) and stops the push.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

from config.studio import StudioConfig
from studio_sync.upload.bandwidth import MIB, bucket_for
from studio_sync.upload.client import StoreClient
from studio_sync.upload.errors import NotS3Error, QueueError, StoreError, UploadError, VerificationError
from studio_sync.upload.keys import take_file_path
from studio_sync.upload.multipart import UploadContext, upload_object
from studio_sync.upload.plan import plan_take
from studio_sync.upload.lock import queue_lock
from studio_sync.upload.queue import UploadQueue
from studio_sync.upload.types import (
    NullProgress,
    ObjectResult,
    ObjectState,
    ProgressSink,
    QueuedTake,
    TakeOutcome,
    TakePlan,
    TakeState,
)
from studio_sync.upload.verify import verify_object

__all__ = ["PushReport", "push", "ALREADY_VERIFIED"]

ALREADY_VERIFIED = "already verified in the studio at this generation; nothing to send"


@dataclass(frozen=True)
class PushReport:
    """What a push did: one outcome per take it uploaded (or found verified), the takes it refused
    (``(TAKE, why)``), why it stopped early (None when it did not), and the queue's failed takes it
    did not retry (``(name, reason)``)."""

    outcomes: Tuple[TakeOutcome, ...] = ()
    refused: Tuple[Tuple[str, str], ...] = ()
    stopped: Optional[str] = None
    failed_earlier: Tuple[Tuple[str, str], ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when every take is verified in the studio and none was refused."""
        return (all(o.ok for o in self.outcomes) and not self.refused and self.stopped is None
                and not self.failed_earlier)


def _already_verified(config: StudioConfig, folder: Path) -> bool:
    """Whether the queue holds this take verified, from this folder, at its current generation, in this studio."""
    from studio_sync.custody import CustodyError, read_history

    path = config.upload.queue_path
    if not path.exists() or not folder.is_dir():
        return False
    try:
        with UploadQueue(path, create=False) as queue:
            row = queue.take(folder.resolve().name)
        if row is None or row.state is not TakeState.VERIFIED or row.source != str(folder.resolve()):
            return False
        if (row.endpoint, row.bucket, row.prefix) != (config.endpoint_url(), config.storage.bucket,
                                                        config.storage.prefix):
            return False
        return read_history(folder.resolve()).latest.file_name == row.generation_file
    except (QueueError, CustodyError, OSError):
        return False


class _Pusher:
    def __init__(self, config: StudioConfig, progress: ProgressSink, store: StoreClient,
                 on_part: Optional[Callable[[str, int], None]]) -> None:
        self.config, self.progress, self.store, self.on_part = config, progress, store, on_part
        self.upload = config.upload

    def run(self, queue: UploadQueue, plans: Sequence[TakePlan], queue_only: bool,
            stopped: Optional[str]) -> Tuple[List[TakeOutcome], Optional[str]]:
        queued = [queue.enqueue(plan, reason=stopped) for plan in plans]
        if queue_only:
            queued = queue.takes([TakeState.QUEUED, TakeState.UPLOADING])
        if stopped is not None:
            queue.set_reason([t.id for t in queued], stopped)
            return [TakeOutcome(t.name, TakeState.QUEUED.value, stopped, bytes_total=t.bytes_total)
                    for t in queued], stopped
        self._abort_stale(queue)
        self.progress.begin(tuple((t.name, t.bytes_total, self._done_bytes(queue, t)) for t in queued))
        outcomes: List[TakeOutcome] = []
        with ThreadPoolExecutor(max_workers=self.upload.concurrency, thread_name_prefix="onset-part") as pool:
            ctx = UploadContext(self.store, queue, pool, self.upload.concurrency, self.upload.part_size_mib * MIB,
                                self.upload.retries, on_bytes=lambda n: None, on_part=self.on_part)
            for index, take in enumerate(queued):
                outcome, store_failed = self._take(ctx, queue, take)
                outcomes.append(outcome)
                if store_failed and outcome.reason:
                    stopped = outcome.reason
                    rest = queued[index + 1:]
                    queue.set_reason([t.id for t in rest], f"not tried: {outcome.reason}")
                    outcomes += [TakeOutcome(t.name, TakeState.QUEUED.value, f"not tried: {outcome.reason}",
                                             bytes_total=t.bytes_total) for t in rest]
                    break
        return outcomes, stopped

    @staticmethod
    def _done_bytes(queue: UploadQueue, take: QueuedTake) -> int:
        return sum(o.size for o in queue.objects(take.id) if o.state in (ObjectState.UPLOADED, ObjectState.VERIFIED))

    def _abort_stale(self, queue: UploadQueue) -> None:
        for bucket, key, upload_id in queue.stale_uploads():
            if bucket != self.store.bucket:
                continue
            try:
                self.store.abort(key, upload_id)
            except StoreError:
                continue
            queue.drop_stale(upload_id)

    def _take(self, ctx: UploadContext, queue: UploadQueue, take: QueuedTake) -> Tuple[TakeOutcome, bool]:
        """Upload and verify one take; its outcome, and whether the studio failed (which stops the push)."""
        here = (self.config.endpoint_url(), self.config.storage.bucket, self.config.storage.prefix)
        if (take.endpoint, take.bucket, take.prefix) != here:
            reason = (f"queued for s3://{take.bucket}/{take.prefix} at {take.endpoint}, but this profile uploads to "
                      f"s3://{here[1]}/{here[2]} at {here[0]}: push it by name to queue it for this studio")
            queue.set_reason([take.id], reason)
            return TakeOutcome(take.name, TakeState.QUEUED.value, reason, bytes_total=take.bytes_total), False
        if not Path(take.source).is_dir():
            reason = f"the take folder {take.source} is not there (a drive not mounted?); it stays queued"
            queue.set_reason([take.id], reason)
            return TakeOutcome(take.name, TakeState.QUEUED.value, reason, bytes_total=take.bytes_total), False
        ctx.on_bytes = lambda n: self.progress.advance(take.name, n)
        queue.set_take_state(take.id, TakeState.UPLOADING)
        self.progress.take_started(take.name, take.bytes_total, self._done_bytes(queue, take))
        results: List[ObjectResult] = []
        state, reason, store_failed = TakeState.VERIFIED, None, False
        try:
            for obj in queue.objects(take.id):
                if obj.state is ObjectState.VERIFIED:
                    continue
                result = self._object(ctx, queue, take, obj.id)
                if result is not None:
                    results.append(result)
                queue.object_verified(obj.id)
        except StoreError as err:
            state, reason, store_failed = TakeState.QUEUED, str(err), True
        except UploadError as err:
            state, reason = TakeState.FAILED, f"{err}; the take is not marked synced"
        queue.set_take_state(take.id, state, reason)
        self.progress.take_finished(take.name, state.value)
        return TakeOutcome(take.name, state.value, reason, tuple(results), take.bytes_total), store_failed

    def _object(self, ctx: UploadContext, queue: UploadQueue, take: QueuedTake, object_id: int) -> Optional[ObjectResult]:
        """Upload (unless complete) and verify one object; a verification that fails on an object
        found complete from an earlier run starts it over once."""
        obj = queue.object(object_id)
        result = None
        if obj.state is not ObjectState.UPLOADED:
            result = upload_object(ctx, obj, take_file_path(Path(take.source), obj.rel))
        try:
            verify_object(self.store, queue.object(object_id))
        except VerificationError:
            queue.reset_object(object_id)
            if result is not None and not result.found_complete:
                raise
            result = upload_object(ctx, queue.object(object_id), take_file_path(Path(take.source), obj.rel))
            verify_object(self.store, queue.object(object_id))
        return result


def push(config: StudioConfig, takes: Sequence[Path] = (), *, progress: Optional[ProgressSink] = None,
         on_part: Optional[Callable[[str, int], None]] = None, store: Optional[StoreClient] = None,
         plan_progress: Optional[Callable[[str], object]] = None) -> PushReport:
    """Queue the take folders ``takes`` (verified first) and upload them; given none, upload the queue.

    ``progress`` is told the bytes as they leave; ``on_part(rel, part number)`` after each part is
    kept; ``plan_progress(take name)`` may return a ``progress(done, total)`` for the local
    verification. Raises :class:`NotS3Error` when the endpoint is not S3 (nothing was written)
    and :class:`~studio_sync.upload.errors.QueueError` for an unusable queue or another push."""
    from studio_sync.custody import CustodyError

    progress = progress or NullProgress()
    outcomes: List[TakeOutcome] = []
    candidates: List[Path] = []
    for folder in map(Path, takes):
        if _already_verified(config, folder):
            outcomes.append(TakeOutcome(folder.resolve().name, TakeState.VERIFIED.value, ALREADY_VERIFIED))
        else:
            candidates.append(folder)
    queue_only = not takes
    if not candidates and not (queue_only and _pending(config)):
        return PushReport(tuple(outcomes), (), None, _failed(config))
    # The studio is asked first, so that an endpoint that is not S3 stops the push before any take
    # is hashed; keys it refuses or a studio it cannot reach leave the takes queued with the reason.
    stopped: Optional[str] = None
    try:
        if store is None:
            store = StoreClient(config, config.upload.concurrency, bucket_for(config.upload.bandwidth_mib_s),
                                list_parts_page=_list_parts_page())
        store.check_bucket(config.storage.prefix)
    except NotS3Error:
        raise  # nothing was written anywhere
    except StoreError as err:
        stopped = str(err)
    plans: List[TakePlan] = []
    refused: List[Tuple[str, str]] = []
    for folder in candidates:
        try:
            plans.append(plan_take(config, folder, plan_progress(folder.name) if plan_progress else None))
        except (UploadError, CustodyError) as err:
            refused.append((str(folder), str(err)))
    if not plans and not queue_only:
        return PushReport(tuple(outcomes), tuple(refused), None, _failed(config))
    with queue_lock(config.upload.queue_path), UploadQueue(config.upload.queue_path) as queue:
        pusher = _Pusher(config, progress, store, on_part)  # type: ignore[arg-type]
        try:
            done, stopped = pusher.run(queue, plans, queue_only, stopped)
        finally:
            progress.close()
        failed = tuple((t.name, t.reason or "") for t in queue.takes([TakeState.FAILED])
                       if t.name not in {o.name for o in done})
    return PushReport(tuple(outcomes + done), tuple(refused), stopped, failed)


def _pending(config: StudioConfig) -> bool:
    """Whether the queue holds a take to upload (queued, or interrupted while uploading)."""
    if not config.upload.queue_path.exists():
        return False
    with UploadQueue(config.upload.queue_path, create=False) as queue:
        return bool(queue.takes([TakeState.QUEUED, TakeState.UPLOADING]))


def _failed(config: StudioConfig) -> Tuple[Tuple[str, str], ...]:
    if not config.upload.queue_path.exists():
        return ()
    try:
        with UploadQueue(config.upload.queue_path, create=False) as queue:
            return tuple((t.name, t.reason or "") for t in queue.takes([TakeState.FAILED]))
    except QueueError:
        return ()


def _list_parts_page() -> int:
    from studio_sync.upload import client

    return client.LIST_PARTS_PAGE
