"""One take being recorded: its folder, its bag, the bounded queue and the writer thread that drains it.

Callers hand messages to :meth:`TakeSession.offer`, which never blocks: it appends to a queue
bounded in messages and bytes, or counts a drop with its reason. The writer thread owns the bag:
it writes, closes a chunk on the flush interval, fsyncs on the fsync interval, and checks the
free-space floor after every chunk. A write error (``ENOSPC``) or the floor stops recording: the
take turns ``failed`` with the error in ``take.json``, and later messages are counted as dropped.
"""

from __future__ import annotations

import collections
import errno
import fcntl
import os
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional, Set, Tuple

from edge.recorder.bag import BagWriter
from config.recorder import QosPreset, RecorderConfig
from edge.recorder.errors import DiskSpaceError, RecorderError
from edge.recorder.metadata import BAG_METADATA_VERSION, STORAGE_IDENTIFIER, qos_profiles_yaml
from edge.recorder.recover import bag_is_complete
from edge.recorder.take import (
    BAG_DIRNAME,
    LOCK_FILE,
    RESERVE_FILE,
    TAKE_FORMAT,
    TAKE_FORMAT_VERSION,
    Slate,
    TakeStatus,
    calibration_from_rig,
    software_versions,
    take_folder_name,
    topics_document,
    utc_iso,
    write_take_json,
)
from edge.recorder.typestore import MessageTypes

__all__ = ["TakeSession", "DROP_REASONS", "free_bytes"]

DROP_REASONS = ("queue_full", "take_failed", "unknown_type", "type_mismatch", "bad_message")
_STOP = object()
_NS_PER_S = 1_000_000_000
_STALL_MIN_NS = _NS_PER_S  # a topic silent this long (and > 10 of its periods) is noted in take.json
_MAX_U64 = (1 << 64) - 1


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged writer may still use on ``path``'s file system."""
    return int(shutil.disk_usage(str(path)).free)


def _human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n:.1f} GB"


class _BelowFloorError(Exception):
    pass


class TakeSession:
    """The take that is recording (or failed and not yet stopped). Built and owned by ``TakeRecorder``."""

    def __init__(self, config: RecorderConfig, rig: Any, types: MessageTypes, slate: Slate,
                 tc_in: Optional[str], start_ns: int, qos_of: Callable[[str], QosPreset],
                 plan: Optional[Dict[str, Any]] = None) -> None:
        self.config = config
        self.slate = slate
        #: The capture plan the take was shot for (checked by ``validate_plan``), or None.
        self.plan = plan
        self.start_ns = start_ns
        self._types = types
        self._qos_of = qos_of
        self._rig = rig
        self.tc_in = tc_in
        self.name = take_folder_name(slate, start_ns)
        self.folder = config.takes_dir / self.name
        self.bag_dir = self.folder / BAG_DIRNAME
        self._cond = threading.Condition(threading.Lock())
        self._queue: Deque[Any] = collections.deque()
        self._queued_bytes = 0
        self._topic_types: Dict[str, str] = {}
        self._unknown: Set[Tuple[str, str]] = set()
        self.dropped: Dict[str, int] = {reason: 0 for reason in DROP_REASONS}
        self.state = TakeStatus.RECORDING
        self.error: Optional[str] = None
        self.errors: List[Dict[str, Any]] = []
        self.notes: List[str] = []
        self.extra_calibration: Dict[str, Any] = {}
        self.sensor_counts: Dict[str, Any] = {}
        self._closing = False
        self._bag: Optional[BagWriter] = None
        self._lock_fd: Optional[int] = None
        self._thread: Optional[threading.Thread] = None
        self._doc: Dict[str, Any] = {}
        self.stop_ns: Optional[int] = None
        self.tc_out: Optional[str] = None

    # -- start ---------------------------------------------------------------------------------
    def open(self) -> None:
        """Create the folder, lock, reserve, bag and take.json, start the writer; all or nothing."""
        cfg = self.config
        cfg.takes_dir.mkdir(parents=True, exist_ok=True)
        free = free_bytes(cfg.takes_dir)
        if free < cfg.min_free_bytes + cfg.reserve_bytes:
            raise DiskSpaceError(
                f"cannot start {self.slate}: {cfg.takes_dir} has {_human_bytes(free)} free, below the "
                f"{_human_bytes(cfg.min_free_bytes)} floor (recorder.min_free_bytes); free some space"
            )
        suffix = 0
        while True:
            try:
                self.folder.mkdir()
                break
            except FileExistsError:
                suffix += 1
                self.name = f"{take_folder_name(self.slate, self.start_ns)}-{suffix}"
                self.folder = cfg.takes_dir / self.name
                self.bag_dir = self.folder / BAG_DIRNAME
        try:
            self._lock()
            self._reserve()
            self._bag = BagWriter(self.bag_dir, compression=cfg.compression,
                                  chunk_size_bytes=cfg.chunk_size_bytes).open()
            self._doc = self._initial_document()
            write_take_json(self.folder, self._doc)
        except OSError as err:
            self._rollback()
            if err.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskSpaceError(f"cannot start {self.slate}: {cfg.takes_dir} is full ({_describe(err)})") from err
            raise RecorderError(f"cannot start {self.slate} in {self.folder}: {_describe(err)}") from err
        except BaseException:
            self._rollback()
            raise
        self._thread = threading.Thread(target=self._run, name=f"take-writer {self.name}", daemon=True)
        self._thread.start()

    def _lock(self) -> None:
        # An flock dies with its process: a take whose lock is free was interrupted, not live.
        fd = os.open(str(self.folder / LOCK_FILE), os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _reserve(self) -> None:
        size = self.config.reserve_bytes
        if size <= 0:
            return
        fd = os.open(str(self.folder / RESERVE_FILE), os.O_CREAT | os.O_WRONLY, 0o644)
        try:
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(fd, 0, size)
            else:
                os.write(fd, bytes(size))
                os.fsync(fd)
        finally:
            os.close(fd)

    def _release_reserve(self) -> None:
        try:
            (self.folder / RESERVE_FILE).unlink()
        except FileNotFoundError:
            pass

    def _unlock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is None:
            return
        try:
            (self.folder / LOCK_FILE).unlink()
        except OSError:
            pass
        os.close(fd)  # closing drops the flock

    def _rollback(self) -> None:
        if self._bag is not None:
            self._bag.abort()
        self._unlock()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _initial_document(self) -> Dict[str, Any]:
        rig = self._rig
        cfg = self.config
        return {
            "format": TAKE_FORMAT,
            "format_version": TAKE_FORMAT_VERSION,
            "name": self.name,
            "status": TakeStatus.RECORDING.value,
            "slate": {"scene": self.slate.scene, "shot": self.slate.shot, "take": self.slate.take},
            "plan": self.plan,
            "timecode": {"rate": rig.timecode.rate if rig is not None else None, "in": self.tc_in, "out": None},
            "master_time": {"start_ns": self.start_ns, "start_utc": utc_iso(self.start_ns),
                            "stop_ns": None, "stop_utc": None},
            "duration_s": None,
            "bag": {"path": BAG_DIRNAME, "file": self._bag.file_name if self._bag else None,
                    "storage": STORAGE_IDENTIFIER, "metadata_version": BAG_METADATA_VERSION,
                    "compression": cfg.compression.value, "chunk_size_bytes": cfg.chunk_size_bytes},
            "message_count": 0,
            "size_bytes": 0,
            "topics": [],
            "dropped": dict(self.dropped),
            "notes": [],
            "errors": [],
            "recorder": {"host": socket.gethostname(), "pid": os.getpid(),
                         "config": cfg.model_dump(mode="json")},
            "software": software_versions(),
            "rig": rig.model_dump(mode="json") if rig is not None else None,
            "calibration": calibration_from_rig(rig) if rig is not None else {},
        }

    # -- caller side ---------------------------------------------------------------------------
    def offer(self, topic: str, msgtype: str, data: Any, log_time_ns: int) -> bool:
        """Queue one CDR message for the writer thread, or count why it was dropped. Never blocks on I/O."""
        if isinstance(data, bytearray):
            data = bytes(data)
        with self._cond:
            if self._closing:
                return False  # after stop(): not part of the take
            if self.state is not TakeStatus.RECORDING:
                self.dropped["take_failed"] += 1
                return False
            if not (isinstance(topic, str) and topic.startswith("/") and isinstance(data, (bytes, memoryview))
                    and isinstance(log_time_ns, int) and 0 <= log_time_ns <= _MAX_U64):
                self.dropped["bad_message"] += 1
                return False
            known = self._topic_types.get(topic)
            if known is None:
                if msgtype not in self._types:
                    self.dropped["unknown_type"] += 1
                    if (topic, msgtype) not in self._unknown:
                        self._unknown.add((topic, msgtype))
                        self.notes.append(f"topic {topic}: type {msgtype!r} is not in the recorder's typestore; "
                                          "its messages were dropped")
                    return False
                self._topic_types[topic] = msgtype
            elif known != msgtype:
                self.dropped["type_mismatch"] += 1
                return False
            nbytes = data.nbytes if isinstance(data, memoryview) else len(data)
            if (len(self._queue) >= self.config.queue_max_messages
                    or self._queued_bytes + nbytes > self.config.queue_max_bytes):
                self.dropped["queue_full"] += 1
                return False
            self._queue.append((topic, msgtype, data, log_time_ns, nbytes))
            self._queued_bytes += nbytes
            self._cond.notify()
        return True

    def count_drop(self, reason: str) -> None:
        """Count a message the caller could not even hand over (e.g. it did not serialize)."""
        with self._cond:
            self.dropped[reason] += 1

    def queued(self) -> Tuple[int, int]:
        with self._cond:
            return len(self._queue), self._queued_bytes

    # -- writer thread -------------------------------------------------------------------------
    def _next(self, timeout_s: float) -> Any:
        with self._cond:
            if not self._queue:
                self._cond.wait(timeout_s)
            if not self._queue:
                return None
            item = self._queue.popleft()
            if item is not _STOP:
                self._queued_bytes -= item[4]
            return item

    def _run(self) -> None:
        cfg, bag = self.config, self._bag
        assert bag is not None
        last_chunk = last_fsync = time.monotonic()
        unsynced = False  # chunks handed to the OS but not yet fsynced
        try:
            while True:
                now = time.monotonic()
                wait_s = cfg.flush_interval_s - (now - last_chunk)
                if unsynced:
                    wait_s = min(wait_s, cfg.fsync_interval_s - (now - last_fsync))
                item = self._next(max(0.0, wait_s))
                if item is _STOP:
                    break
                chunk = False
                if item is not None:
                    topic, msgtype, data, log_time_ns, _ = item
                    if not bag.has_topic(topic):
                        bag.add_topic(topic, msgtype, self._types.definition(msgtype),
                                      qos_profiles_yaml(self._qos_of(topic)))
                    chunk = bag.write(topic, log_time_ns, data)
                now = time.monotonic()
                if not chunk and now - last_chunk >= cfg.flush_interval_s:
                    chunk = bag.flush_chunk()
                    last_chunk = now  # also when nothing was pending: the interval starts again
                if chunk:
                    last_chunk = now
                    unsynced = True
                    self._check_floor()
                if unsynced and now - last_fsync >= cfg.fsync_interval_s:
                    bag.fsync()
                    last_fsync = now
                    unsynced = False
            bag.close()
        except _BelowFloorError as floor:
            try:
                bag.close()  # the floor leaves room to finish the bag properly
            except BaseException as err:  # noqa: BLE001 - any failure here is recorded on the take
                bag.abort()
                self._fail(f"{floor}; closing the bag failed too: {_describe(err)}")
            else:
                self._fail(f"{floor}; the bag up to here is complete")
        except BaseException as err:  # noqa: BLE001 - the writer thread must never die silently
            bag.abort()
            self._fail(f"recording stopped: {_describe(err)} while writing {bag.path}")

    def _check_floor(self) -> None:
        floor = self.config.min_free_bytes
        if floor <= 0:
            return
        free = free_bytes(self.folder)
        if free < floor:
            raise _BelowFloorError(
                f"free space on {self.config.takes_dir} fell to {_human_bytes(free)}, below the "
                f"{_human_bytes(floor)} floor (recorder.min_free_bytes): recording stopped"
            )

    def _fail(self, message: str) -> None:
        with self._cond:
            self.state = TakeStatus.FAILED
            self.error = message
            self.errors.append({"t_ns": time.time_ns(), "message": message})
            while self._queue:
                item = self._queue.popleft()
                if item is not _STOP:
                    self.dropped["take_failed"] += 1
            self._queued_bytes = 0
        self._release_reserve()  # room for the take.json that says what happened
        self._write_document()

    # -- stop ----------------------------------------------------------------------------------
    def stop(self, stop_ns: int, tc_out: Optional[str], sensors: Optional[Dict[str, Any]] = None) -> None:
        """Drain the queue, close the bag, write the final take.json, release the folder, seal it (ASC MHL).

        ``sensors``: what each driver decoded while the take rolled and what of it was offered to
        the take (``take.json`` ``sensors``), so a reader can check the bag holds all of it."""
        if sensors is not None:
            self.sensor_counts = dict(sensors)
        with self._cond:
            self._closing = True
            self._queue.append(_STOP)
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
        self.stop_ns, self.tc_out = stop_ns, tc_out
        if self.state is TakeStatus.RECORDING:
            self.state = TakeStatus.COMPLETE
        self._note_stalled_topics()
        self._release_reserve()
        self._write_document()
        self._unlock()
        self._seal()

    def _seal(self) -> None:
        """The take's ASC MHL history (the rig's ``studio.custody``), once take.json is final and the lock gone.

        A torn bag is left to ``onset takes recover``, which seals the take it makes whole. A
        failure is kept in take.json's errors (and logged), never raised: the take stays as it is."""
        if self._bag is None or not bag_is_complete(self.bag_dir, self._bag.file_name):
            return
        from studio_sync.custody.hook import seal_closed_take

        problem = seal_closed_take(self.folder, self._rig)
        if problem:
            with self._cond:
                self.errors.append({"t_ns": time.time_ns(), "message": problem})
            self._write_document()

    def _note_stalled_topics(self) -> None:
        if self._bag is None or self.stop_ns is None:
            return
        for t in self._bag.topics:
            if t.last_ns is None or t.first_ns is None or t.message_count < 2:
                continue  # a topic written once (/tf_static, a latched calibration) has no rhythm to break
            period = (t.last_ns - t.first_ns) / max(1, t.message_count - 1)
            limit = max(_STALL_MIN_NS, 10 * period)
            silent = self.stop_ns - t.last_ns
            if silent > limit:
                self.notes.append(f"topic {t.name} stopped {silent / _NS_PER_S:.1f} s before the end of the take")
            if t.max_gap_ns > limit:
                self.notes.append(f"topic {t.name} had a gap of {t.max_gap_ns / _NS_PER_S:.1f} s")

    def document(self) -> Dict[str, Any]:
        """take.json as it stands now."""
        doc = dict(self._doc)
        bag = self._bag
        complete = self.state is TakeStatus.COMPLETE
        doc["status"] = self.state.value
        doc["timecode"] = dict(doc["timecode"], out=self.tc_out)
        doc["master_time"] = dict(doc["master_time"], stop_ns=self.stop_ns, stop_utc=utc_iso(self.stop_ns))
        doc["duration_s"] = None if self.stop_ns is None else round((self.stop_ns - self.start_ns) / _NS_PER_S, 6)
        if bag is not None:
            # A failed bag holds its complete chunks only: those are what a reader (or recovery) will find.
            doc["message_count"] = bag.messages_written if complete else bag.messages_flushed
            doc["size_bytes"] = bag.size_bytes
            doc["topics"] = topics_document(bag.topics, flushed_only=not complete)
        doc["dropped"] = dict(self.dropped)
        doc["notes"] = list(self.notes)
        doc["errors"] = list(self.errors)
        if self.sensor_counts:
            doc["sensors"] = {name: dict(counts) for name, counts in self.sensor_counts.items()}
        if self.extra_calibration:
            doc["calibration"] = dict(doc.get("calibration") or {}, **self.extra_calibration)
        return doc

    def _write_document(self) -> None:
        try:
            write_take_json(self.folder, self.document())
        except OSError as err:
            message = f"take.json could not be updated: {_describe(err)}"
            with self._cond:
                self.errors.append({"t_ns": time.time_ns(), "message": message})
                self.error = f"{self.error}; {message}" if self.error else message

    @property
    def bag(self) -> Optional[BagWriter]:
        return self._bag


def _describe(err: BaseException) -> str:
    if isinstance(err, OSError) and err.errno is not None:
        name = errno.errorcode.get(err.errno, str(err.errno))
        return f"{err.strerror or err} ({name})"
    if isinstance(err, RecorderError):
        return str(err)
    return f"{type(err).__name__}: {err}"
