"""Resumable uploads: a file goes up in parts (several at once) and survives any crash of the uploader.

boto3 cannot resume a multipart upload in another process; Onset can, because it keeps the
upload id (and each acknowledged part's size and MD5) in the queue *before* the first part is
sent. Running the upload again:

1. asks the store which parts it holds (ListParts, every page); an upload the store no longer
   knows (NoSuchUpload) is started afresh, unless the object is already complete at its key
   (a run killed between CompleteMultipartUpload and writing that down), which then goes
   straight to verification;
2. reads the file once from its start, in part order, hashing it with the MHL's algorithm as it
   goes and taking each part's MD5; a part counts as finished only when the store lists it
   with that part's size and an ETag equal to its MD5 (the store may list one number several
   times), and is then never sent again; any other part is sent, ``concurrency`` at a time, each
   with ``Content-MD5`` and up to ``retries`` more attempts;
3. before completing, checks that the whole file hashed to the MHL's digest and that its size
   and modification time are still the ones hashed when the take was queued; otherwise the
   upload is aborted (nothing of it stays in the studio) and :class:`FileChangedError` says
   ``FILE changed since it was sealed``.

A file smaller than one part is read whole, checked against the MHL first, and sent in one
PutObject with ``Content-MD5``. Parts are held in memory while they are sent: at most
``concurrency + 1`` parts of ``part_size`` bytes at once. A part's size is the object's stored
part size on resume (a changed ``--part-size`` applies to new uploads only), raised where needed
so that no file needs more than S3's 10 000 parts.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set, Tuple

from studio_sync.upload.client import StoreClient
from studio_sync.upload.errors import FileChangedError, StoreError, UnsafeUploadPathError, UploadError, UploadGoneError
from studio_sync.upload.queue import UploadQueue
from studio_sync.upload.types import ObjectResult, QueuedObject, StoredPart
from studio_sync.upload.verify import new_hasher

__all__ = ["UploadContext", "upload_object", "part_plan", "MAX_PARTS", "changed"]

MAX_PARTS = 10000
_MIB = 1 << 20
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def changed(rel: str, detail: str) -> FileChangedError:
    """``FILE changed since it was sealed (detail)``."""
    return FileChangedError(f"{rel} changed since it was sealed ({detail})")


def part_plan(size: int, part_size: int) -> List[Tuple[int, int, int]]:
    """``(part number, offset, size)`` of each part of a ``size``-byte file (at most 10 000 parts)."""
    if size > part_size * MAX_PARTS:
        part_size = -(-size // MAX_PARTS)
        part_size = -(-part_size // _MIB) * _MIB
    plan, offset, number = [], 0, 1
    while offset < size:
        length = min(part_size, size - offset)
        plan.append((number, offset, length))
        offset += length
        number += 1
    return plan


@dataclass
class UploadContext:
    """What every object upload of one push shares: the store, the queue, the part threads, the settings.

    ``part_size`` and ``retries`` come from ``studio.upload``; ``on_bytes(n)`` is told the bytes
    as they leave (negative when an attempt is taken back); ``on_part(rel, number)`` is called
    after each part is kept in the queue (a hook for progress logs and tests)."""

    store: StoreClient
    queue: UploadQueue
    pool: ThreadPoolExecutor
    concurrency: int
    part_size: int
    retries: int
    on_bytes: Callable[[int], None]
    on_part: Optional[Callable[[str, int], None]] = None
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.cancel = threading.Event()


class _AttemptMeter:
    """Counts one attempt's bytes so that a failed attempt can be taken back from the progress."""

    def __init__(self, sink: Callable[[int], None]) -> None:
        self._sink, self.net = sink, 0
        self._lock = threading.Lock()

    def __call__(self, n: int) -> None:
        with self._lock:
            self.net += n
        self._sink(n)

    def rollback(self) -> None:
        with self._lock:
            net, self.net = self.net, 0
        if net:
            self._sink(-net)


def _backoff_s(attempt: int) -> float:
    return min(8.0, 0.25 * (2 ** attempt))


def _with_retries(ctx: UploadContext, send: Callable[[], str]) -> str:
    """``send()`` (under a fresh meter) up to ``retries + 1`` times while its errors are retryable."""
    attempt = 0
    while True:
        if ctx.cancel.is_set():
            raise StoreError("stopped: another part of this file failed")
        meter = _AttemptMeter(ctx.on_bytes)
        try:
            with ctx.store.metering(meter):
                return send()
        except StoreError as err:
            meter.rollback()
            if not err.retryable or attempt >= ctx.retries:
                raise
        except BaseException:
            meter.rollback()
            raise
        if ctx.cancel.wait(_backoff_s(attempt)):
            raise StoreError("stopped: another part of this file failed")
        attempt += 1


def _open(path: Path, rel: str) -> int:
    try:
        fd = os.open(str(path), _OPEN_FLAGS)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise UnsafeUploadPathError(f"{rel} is a symbolic link now; a take holds plain files only") from err
        if err.errno == errno.ENOENT:
            raise changed(rel, "it is gone") from err
        raise UploadError(f"cannot read {path}: {err.strerror or err}") from err
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeUploadPathError(f"{rel} is not a plain file now")
    return fd


def _check_stat(fd: int, obj: QueuedObject) -> None:
    info = os.fstat(fd)
    if info.st_size != obj.size:
        raise changed(obj.rel, f"{info.st_size} bytes now, {obj.size} when it was hashed")
    if info.st_mtime_ns != obj.mtime_ns:
        raise changed(obj.rel, "modified after it was hashed")


def _read_exactly(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left > 0:
        chunk = os.read(fd, min(left, 8 * _MIB))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def upload_object(ctx: UploadContext, obj: QueuedObject, path: Path) -> ObjectResult:
    """Upload the file at ``path`` as ``obj`` (resuming its multipart upload) and mark it ``uploaded``.

    Raises :class:`FileChangedError` when the file is not what was hashed, a ``StoreError`` when
    the store fails past the retries (the object stays resumable)."""
    ctx.cancel.clear()  # a file that failed before must not stop this one
    fd = _open(path, obj.rel)
    try:
        _check_stat(fd, obj)
        if obj.size < ctx.part_size and not (obj.upload_id and obj.part_size):
            return _put_small(ctx, obj, fd)
        return _multipart(ctx, obj, fd)
    except OSError as err:
        raise UploadError(f"cannot read {path}: {err.strerror or err}") from err
    finally:
        os.close(fd)


def _put_small(ctx: UploadContext, obj: QueuedObject, fd: int) -> ObjectResult:
    data = _read_exactly(fd, obj.size)
    hasher = new_hasher(obj.hash_format)
    hasher.update(data)
    if len(data) != obj.size or os.read(fd, 1):
        raise changed(obj.rel, "its size differs from what was hashed")
    if hasher.hexdigest() != obj.digest:
        raise changed(obj.rel, f"{obj.hash_format} {hasher.hexdigest()} now, {obj.digest} in the MHL")
    _check_stat(fd, obj)
    md5 = hashlib.md5(data).hexdigest()
    etag = _with_retries(ctx, lambda: ctx.store.put_object(obj.key, data, md5))
    ctx.queue.object_uploaded(obj.id, etag)
    return ObjectResult(obj.rel, parts_sent=1, parts_reused=0, bytes_sent=len(data), single_put=True)


def _resume(ctx: UploadContext, obj: QueuedObject) -> Tuple[Optional[str], Dict[int, List[Tuple[int, str]]], bool]:
    """``(upload id, parts the store holds, found complete)`` of the object's kept upload."""
    if not obj.upload_id:
        return None, {}, False
    listed = ctx.store.list_parts(obj.key, obj.upload_id)
    if listed is not None:
        return obj.upload_id, listed, False
    # The store no longer knows the upload: completed by a run killed before it wrote that down,
    # or aborted. An object of the right size at the key goes to verification, which decides.
    found = ctx.store.head(obj.key)
    if found is not None and found[0] == obj.size:
        return obj.upload_id, {}, True
    return None, {}, False


def _multipart(ctx: UploadContext, obj: QueuedObject, fd: int) -> ObjectResult:
    upload_id, listed, complete = _resume(ctx, obj)
    if complete:
        ctx.queue.object_uploaded(obj.id, "")
        return ObjectResult(obj.rel, 0, 0, 0, single_put=False, found_complete=True)
    part_size = obj.part_size if (upload_id and obj.part_size) else ctx.part_size
    if upload_id is None:
        upload_id = ctx.store.create_upload(obj.key)
        ctx.queue.start_upload(obj.id, upload_id, part_size)
    kept = ctx.queue.parts(obj.id)
    ctx.queue.forget_parts(obj.id, [n for n in kept if n not in listed])
    try:
        return _send_parts(ctx, obj, fd, upload_id, part_plan(obj.size, part_size), listed, kept)
    except FileChangedError:
        _abort(ctx, obj, upload_id)
        raise


def _abort(ctx: UploadContext, obj: QueuedObject, upload_id: str) -> None:
    """Abort the upload in the store and start the object over in the queue."""
    try:
        ctx.store.abort(obj.key, upload_id)
    except StoreError:
        ctx.queue.reset_object(obj.id)  # remembered as stale: the next push aborts it
        return
    ctx.queue.reset_object(obj.id)
    ctx.queue.drop_stale(upload_id)


def _send_parts(ctx: UploadContext, obj: QueuedObject, fd: int, upload_id: str, plan: List[Tuple[int, int, int]],
                listed: Dict[int, List[Tuple[int, str]]], kept: Dict[int, StoredPart]) -> ObjectResult:
    hasher = new_hasher(obj.hash_format)
    md5s: List[Tuple[int, str]] = []
    in_flight: Set[Future] = set()
    found: List[StoredPart] = []
    sent = reused = sent_bytes = 0

    def settle(done: Set[Future]) -> None:
        nonlocal sent, sent_bytes
        for future in done:
            in_flight.discard(future)
            part = future.result()  # raises the part's error
            ctx.queue.record_parts(obj.id, [part])
            sent += 1
            sent_bytes += part.size
            if ctx.on_part is not None:
                ctx.on_part(obj.rel, part.part_number)

    try:
        for number, offset, size in plan:
            data = _read_exactly(fd, size)
            if len(data) != size:
                raise changed(obj.rel, f"it ends at {offset + len(data)} bytes, {obj.size} when it was hashed")
            hasher.update(data)
            md5 = hashlib.md5(data).hexdigest()
            md5s.append((number, md5))
            before = kept.get(number)
            if before is not None and (before.md5 != md5 or before.size != size):
                # What was sent then is not what the file holds now; the whole-file digest below
                # decides whether the file is still the sealed one, and the part is sent again.
                ctx.queue.forget_parts(obj.id, [number])
                before = None
            if any(s == size and e == md5 for s, e in listed.get(number, ())):
                reused += 1
                ctx.on_bytes(size)
                if before is None:
                    found.append(StoredPart(upload_id, number, offset, size, md5, md5))
                continue
            while len(in_flight) >= ctx.concurrency:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                settle(done)
            in_flight.add(ctx.pool.submit(_send_part, ctx, obj.key, upload_id, number, offset, data, md5))
            del data
        while in_flight:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            settle(done)
    except BaseException:
        ctx.cancel.set()
        for future in in_flight:
            future.cancel()
        wait(in_flight)
        ctx.queue.record_parts(obj.id, [f.result() for f in in_flight if not f.cancelled() and f.exception() is None])
        raise
    finally:
        ctx.queue.record_parts(obj.id, found)
    if os.read(fd, 1):
        raise changed(obj.rel, f"it is longer than the {obj.size} bytes hashed")
    _check_stat(fd, obj)
    if hasher.hexdigest() != obj.digest:
        raise changed(obj.rel, f"{obj.hash_format} {hasher.hexdigest()} now, {obj.digest} in the MHL")
    try:
        etag = ctx.store.complete(obj.key, upload_id, md5s)
    except UploadGoneError as err:
        raise StoreError(f"{err}; the next push starts it again") from err
    ctx.queue.object_uploaded(obj.id, etag)
    _abort_leftovers(ctx, obj.key, upload_id)
    return ObjectResult(obj.rel, parts_sent=sent, parts_reused=reused, bytes_sent=sent_bytes, single_put=False)


def _send_part(ctx: UploadContext, key: str, upload_id: str, number: int, offset: int, data: bytes,
               md5: str) -> StoredPart:
    etag = _with_retries(ctx, lambda: ctx.store.upload_part(key, upload_id, number, data, md5))
    return StoredPart(upload_id, number, offset, len(data), md5, etag)


def _abort_leftovers(ctx: UploadContext, key: str, keep: str) -> None:
    """Abort other unfinished uploads of the same key (a run killed between starting an upload
    and keeping its id leaves one behind); a store that cannot list them is left as it is."""
    try:
        for upload_id in ctx.store.uploads_of(key):
            if upload_id != keep:
                ctx.store.abort(key, upload_id)
    except StoreError:
        pass

