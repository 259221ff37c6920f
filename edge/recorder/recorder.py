"""``TakeRecorder``: the thread-safe take recorder the node feeds with CDR bytes.

::

    recorder = TakeRecorder(RecorderConfig(takes_dir=Path("/takes")), rig)
    recorder.start("12", "3", 4, tc_in=timecode_now)    # plan={...}: the capture plan it is shot for
    recorder.write("/onset/camera/image_raw", "sensor_msgs/msg/Image", cdr_bytes, log_time_ns)
    recorder.write_message("/tf", "tf2_msgs/msg/TFMessage", tf_message)   # rosbags message object
    info = recorder.stop(tc_out=timecode_now)

``write`` never blocks the caller on the disk: a bounded queue feeds a writer thread, and a full
queue, a failed take or an unknown type is a counted drop. See :mod:`edge.recorder.session`.
"""

from __future__ import annotations

import atexit
import copy
import threading
import time
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from config.recorder import QosPreset, RecorderConfig
from edge.recorder.errors import RecorderStateError
from edge.recorder.session import DROP_REASONS, TakeSession, free_bytes
from edge.recorder.take import TakeStatus, validate_plan, validate_slate
from edge.recorder.typestore import MessageTypes

__all__ = ["TakeRecorder", "TakeInfo", "RecorderStatus"]


@dataclass(frozen=True)
class TakeInfo:
    """A take as the recorder sees it. Times are master-clock ns; ``message_count`` counts messages
    handed to the bag (``flushed_messages`` of them are in complete chunks on disk); ``plan``: the
    capture plan it is shot for (``take.json`` ``plan``), or None."""

    name: str
    path: Path
    scene: str
    shot: str
    take: int
    status: str
    tc_in: Optional[str]
    tc_out: Optional[str]
    start_ns: int
    stop_ns: Optional[int]
    message_count: int
    flushed_messages: int
    chunks: int
    size_bytes: int
    topic_counts: Dict[str, int] = field(default_factory=dict)
    dropped: Dict[str, int] = field(default_factory=dict)
    error: Optional[str] = None
    notes: tuple = ()
    plan: Optional[Dict[str, Any]] = None

    @property
    def duration_s(self) -> Optional[float]:
        return None if self.stop_ns is None else (self.stop_ns - self.start_ns) / 1e9

    def to_dict(self) -> Dict[str, Any]:
        out = asdict(self)
        out["path"] = str(self.path)
        out["notes"] = list(self.notes)
        out["duration_s"] = self.duration_s
        return out


@dataclass(frozen=True)
class RecorderStatus:
    """``state``: ``idle``, ``recording`` or ``failed`` (a take that stopped on an error and awaits ``stop``).

    ``take``: the current take, or the last one when idle. Queue figures are messages and bytes
    waiting for the writer thread; ``free_bytes`` is what is left on the takes file system.
    """

    state: str
    take: Optional[TakeInfo]
    queued_messages: int
    queued_bytes: int
    dropped: Dict[str, int]
    error: Optional[str]
    takes_dir: Path
    free_bytes: Optional[int]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "state": self.state,
            "take": self.take.to_dict() if self.take else None,
            "queued_messages": self.queued_messages,
            "queued_bytes": self.queued_bytes,
            "dropped": dict(self.dropped),
            "error": self.error,
            "takes_dir": str(self.takes_dir),
            "free_bytes": self.free_bytes,
        }


def _info(session: TakeSession) -> TakeInfo:
    bag = session.bag
    complete = session.state is TakeStatus.COMPLETE
    topics = bag.topics if bag is not None else []
    return TakeInfo(
        name=session.name,
        path=session.folder,
        scene=session.slate.scene,
        shot=session.slate.shot,
        take=session.slate.take,
        status=session.state.value,
        tc_in=session.tc_in,
        tc_out=session.tc_out,
        start_ns=session.start_ns,
        stop_ns=session.stop_ns,
        message_count=bag.messages_written if bag is not None else 0,
        flushed_messages=bag.messages_flushed if bag is not None else 0,
        chunks=bag.chunks_written if bag is not None else 0,
        size_bytes=bag.size_bytes if bag is not None else 0,
        topic_counts={t.name: (t.message_count if complete or session.state is TakeStatus.RECORDING
                               else t.flushed_count) for t in topics},
        dropped=dict(session.dropped),
        error=session.error,
        notes=tuple(session.notes),
        plan=copy.deepcopy(session.plan),  # the caller's copy: take.json keeps the session's
    )


def _stop_at_exit(ref: "weakref.ReferenceType[TakeRecorder]") -> None:
    recorder = ref()
    if recorder is not None:
        recorder.close()


class TakeRecorder:
    """Records takes into ``config.takes_dir``. Every method is safe to call from any thread.

    ``clock_ns`` is the master clock (ns since the Unix epoch): it stamps start and stop, names the
    folder, and is the log time of :meth:`write_message` when none is given.
    """

    def __init__(self, config: RecorderConfig, rig: Any = None, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self.config = config
        self.rig = rig
        self._clock_ns = clock_ns
        self._types = MessageTypes()
        self._qos: Dict[str, QosPreset] = dict(config.topic_qos)
        self._lock = threading.Lock()
        self._session: Optional[TakeSession] = None
        self._last: Optional[TakeInfo] = None
        atexit.register(_stop_at_exit, weakref.ref(self))

    # -- configuration -------------------------------------------------------------------------
    @property
    def types(self) -> MessageTypes:
        """The recorder's Humble typestore (register vendor types here)."""
        return self._types

    def declare_topic(self, topic: str, qos: QosPreset) -> None:
        """Record ``qos`` as the offered QoS of ``topic`` (takes effect for takes started afterwards)."""
        self._qos[topic] = QosPreset(qos)

    def _qos_of(self, topic: str) -> QosPreset:
        return self._qos.get(topic, self.config.default_qos)

    # -- takes ---------------------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        session = self._session
        return session is not None and session.state is TakeStatus.RECORDING

    def start(self, scene: str, shot: str, take: int, tc_in: Any = None,
              plan: Optional[Dict[str, Any]] = None) -> TakeInfo:
        """Open a new take and start recording. ``tc_in``: the timecode at start (a ``Timecode`` or text).
        ``plan``: the capture plan the take is shot for, written into ``take.json`` ``plan``
        (:func:`~edge.recorder.take.validate_plan` says what it must hold).

        Raises :class:`SlateError` for a bad slate or plan, :class:`RecorderStateError` while a take
        is recording, :class:`DiskSpaceError` below the free-space floor. A take that failed (full
        disk) is finalized first.
        """
        slate = validate_slate(scene, shot, take)
        checked_plan = validate_plan(plan)
        with self._lock:
            current = self._session
            if current is not None and current.state is TakeStatus.RECORDING:
                raise RecorderStateError(
                    f"take {current.name} is recording: stop it before starting {slate}"
                )
            if current is not None:
                self._finish(current, None)
            session = TakeSession(self.config, self.rig, self._types, slate,
                                  None if tc_in is None else str(tc_in), self._clock_ns(), self._qos_of,
                                  plan=checked_plan)
            session.open()
            self._session = session
            return _info(session)

    def stop(self, tc_out: Any = None, sensors: Optional[Dict[str, Any]] = None) -> TakeInfo:
        """Drain the queue, close the bag and write the final take.json; returns the finished take.

        ``sensors``: per sensor, what its driver decoded during the take (``take.json`` ``sensors``).
        Raises :class:`RecorderStateError` when no take is open.
        """
        with self._lock:
            session = self._session
            if session is None:
                raise RecorderStateError("no take is recording: start one first (onset take start ...)")
            return self._finish(session, None if tc_out is None else str(tc_out), sensors)

    def _finish(self, session: TakeSession, tc_out: Optional[str], sensors: Optional[Dict[str, Any]] = None) -> TakeInfo:
        session.stop(self._clock_ns(), tc_out, sensors)
        self._session = None
        self._last = _info(session)
        return self._last

    def write(self, topic: str, msgtype: str, data: bytes, log_time_ns: int) -> bool:
        """Queue one CDR-serialized message (as an rclpy raw subscription delivers it) for the take.

        Returns True when queued. False when no take is recording (not a drop), or when the message
        was dropped and counted: queue full, take failed, unknown type, type changed, bad arguments.
        Never raises for a message, never waits for the disk.
        """
        session = self._session
        if session is None:
            return False
        return session.offer(topic, msgtype, data, log_time_ns)

    def write_message(self, topic: str, msgtype: str, msg: Any, log_time_ns: Optional[int] = None) -> bool:
        """Serialize a rosbags message object with the Humble typestore and :meth:`write` it.

        ``log_time_ns`` defaults to the master clock now. The node writes ``/tf`` this way.
        """
        session = self._session
        if session is None:
            return False
        if session.state is not TakeStatus.RECORDING:
            session.count_drop("take_failed")
            return False
        if msgtype not in self._types:
            session.count_drop("unknown_type")
            return False
        try:
            data = self._types.serialize(msg, msgtype)
        except Exception:  # noqa: BLE001 - a message object that does not fit its type
            session.count_drop("bad_message")
            return False
        return self.write(topic, msgtype, data, self._clock_ns() if log_time_ns is None else log_time_ns)

    def note(self, text: str) -> None:
        """Add a note to the take that is recording (e.g. a sensor that stopped); kept in take.json."""
        session = self._session
        if session is not None:
            session.notes.append(str(text))

    def add_calibration(self, name: str, data: Dict[str, Any]) -> None:
        """Add a calibration record (e.g. clock-model fits) to the current take's take.json."""
        session = self._session
        if session is not None:
            session.extra_calibration[str(name)] = data

    def status(self) -> RecorderStatus:
        """What the recorder is doing now; cheap enough to poll every second."""
        session = self._session
        try:
            free: Optional[int] = free_bytes(self.config.takes_dir)
        except OSError:
            free = None
        if session is None:
            last = self._last
            return RecorderStatus("idle", last, 0, 0, dict(last.dropped) if last else {r: 0 for r in DROP_REASONS},
                                  None, self.config.takes_dir, free)
        queued, queued_bytes = session.queued()
        state = "recording" if session.state is TakeStatus.RECORDING else "failed"
        return RecorderStatus(state, _info(session), queued, queued_bytes, dict(session.dropped),
                              session.error, self.config.takes_dir, free)

    def close(self) -> Optional[TakeInfo]:
        """Stop the open take, if any (also runs at interpreter exit)."""
        with self._lock:
            session = self._session
            if session is None:
                return None
            return self._finish(session, None)

    def __enter__(self) -> "TakeRecorder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
