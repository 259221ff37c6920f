"""One thread per stream the preview reads, each keeping only what is newest.

:class:`FrameReader` reads a fused-frame stream (the node's, or the style worker's styled one)
with :class:`~edge.stream.FusedFrameSubscriber`. Each time it wakes it drains its socket and keeps
the last frame (the ones drained past are counted in ``passed_over``); it remembers the
:data:`FRAMES_KEPT` newest so that a styled frame finds the raw frame of the same index, and
tells the pipeline (``on_frame``) that something new is there. ZeroMQ ``CONFLATE`` is not used:
it keeps the newest *part*, which breaks multipart messages.

:class:`ResultReader` reads an engine's result stream (:class:`~engines.worker.results.ResultSubscriber`)
and keeps the :data:`RESULTS_KEPT` newest envelopes, so a frame gets its own result or the newest
one before it (:meth:`ResultReader.at_or_before`). Results are small; none is passed over.

Sockets connect lazily: a reader starts with nobody publishing and picks the stream up when the
first message arrives (its :class:`~edge.preview.sources.SourceState` goes ``live``). Each socket
is created by :meth:`start` and from then on used, and closed, by its thread alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, NamedTuple, Optional

from edge.preview.sources import SourceState
from edge.preview.threads import SourceThread
from edge.stream import FusedFrameSubscriber, StreamError, WireMeta
from engines.worker.results import ResultSubscriber
from sensors.vocabulary import FusedFrame

__all__ = ["FRAMES_KEPT", "RESULTS_KEPT", "Received", "FrameReader", "ResultReader"]

#: Newest frames a frame reader remembers for matching by index.
FRAMES_KEPT = 4
#: Newest results a result reader remembers for attaching to frames.
RESULTS_KEPT = 64
#: How long one wait on a socket lasts, ms: bounds how long a reader takes to stop.
_POLL_MS = 100
_log = logging.getLogger(__name__)


class Received(NamedTuple):
    """A frame as a reader kept it: ``number`` counts the frames this reader kept (from 1),
    ``received_s`` is when (monotonic seconds)."""

    number: int
    frame: FusedFrame
    meta: WireMeta
    received_s: float


class FrameReader(SourceThread):
    """Reads one fused-frame stream on a thread of its own (module docstring).

    ``consumer``: the name the stream's publisher hears this reader's loss under.
    ``on_frame``: called (on the reader's thread) after each new newest frame.
    """

    def __init__(self, endpoint: str, state: SourceState, consumer: str,
                 on_frame: Callable[[], None] = lambda: None) -> None:
        super().__init__(f"preview-{state.name}")
        self.endpoint = endpoint
        self.state = state
        self._consumer = consumer
        self._on_frame = on_frame
        self._lock = threading.Lock()
        self._kept: Deque[Received] = deque(maxlen=FRAMES_KEPT)
        self._subscriber: Optional[FusedFrameSubscriber] = None
        self.kept = 0
        self.passed_over = 0
        self.lost = 0
        self.rejected = 0

    def _open(self) -> None:
        self._subscriber = FusedFrameSubscriber(self.endpoint, rcv_hwm=2, consumer=self._consumer)

    def _run(self) -> None:
        subscriber = self._subscriber
        try:
            while not self._stop.is_set():
                try:
                    self._read(subscriber)
                except StreamError as err:  # the socket itself failed: say so, wait, go on
                    self.state.problem(f"cannot read {self.endpoint}: {err}")
                    _log.warning("preview: reading %s failed: %s", self.endpoint, err)
                    self._stop.wait(1.0)
        finally:
            subscriber.close()

    def _read(self, subscriber: FusedFrameSubscriber) -> None:
        frame = subscriber.recv(_POLL_MS)
        if frame is None:
            self._note_rejects(subscriber)
            return
        meta = subscriber.last_meta
        while True:  # drain: only the newest frame is worth showing
            newer = subscriber.recv(0)
            if newer is None:
                break
            self.passed_over += 1
            frame, meta = newer, subscriber.last_meta
        self._keep(frame, meta)
        self._note_rejects(subscriber)
        self.state.heard()
        self._on_frame()

    def _note_rejects(self, subscriber: FusedFrameSubscriber) -> None:
        self.lost = subscriber.lost
        if subscriber.rejected != self.rejected:
            self.rejected = subscriber.rejected
            self.state.problem(f"rejected a message: {subscriber.last_error}")

    def _keep(self, frame: FusedFrame, meta: WireMeta) -> None:
        with self._lock:
            self.kept += 1
            self._kept.append(Received(self.kept, frame, meta, time.monotonic()))

    def latest(self) -> Optional[Received]:
        """The newest frame kept, or None before the first."""
        with self._lock:
            return self._kept[-1] if self._kept else None

    def find(self, frame_index: int, t_ns: int) -> Optional[Received]:
        """The kept frame of this index and exposure time (the same camera frame), or None."""
        with self._lock:
            for item in reversed(self._kept):
                if item.frame.frame_index == frame_index and item.frame.t_ns == t_ns:
                    return item
        return None



def _usable(message: Dict[str, Any]) -> bool:
    index = message.get("frame_index")
    return isinstance(index, int) and not isinstance(index, bool) and isinstance(message.get("result"), dict)


class ResultReader(SourceThread):
    """Reads one engine's result stream on a thread of its own (module docstring)."""

    def __init__(self, endpoint: str, state: SourceState) -> None:
        super().__init__(f"preview-{state.name}")
        self.endpoint = endpoint
        self.state = state
        self._lock = threading.Lock()
        self._kept: Deque[Dict[str, Any]] = deque(maxlen=RESULTS_KEPT)
        self._subscriber: Optional[ResultSubscriber] = None
        self.received = 0
        self.rejected = 0

    def _open(self) -> None:
        self._subscriber = ResultSubscriber(self.endpoint)

    def _run(self) -> None:
        subscriber = self._subscriber
        try:
            while not self._stop.is_set():
                message = subscriber.recv(_POLL_MS)
                while message is not None:
                    if _usable(message):
                        with self._lock:
                            self._kept.append(message)
                            self.received += 1
                        self.state.heard()
                    else:
                        self.rejected += 1
                        self.state.problem("rejected a result without an integer frame_index and a result object")
                    message = subscriber.recv(0)
                if subscriber.rejected:
                    self.rejected += subscriber.rejected
                    subscriber.rejected = 0
                    self.state.problem(f"rejected a message: {subscriber.last_error}")
        finally:
            subscriber.close()

    def newest(self) -> Optional[Dict[str, Any]]:
        with self._lock:
            return self._kept[-1] if self._kept else None

    def at_or_before(self, frame_index: int, stream_id: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """The result for ``frame_index``, else the newest one before it (of ``stream_id``, the
        node's stream the frame came on, when known); None when there is none."""
        with self._lock:
            best = None
            for message in self._kept:
                if stream_id is not None and message.get("stream_id") not in (None, stream_id):
                    continue
                index = message["frame_index"]
                if index <= frame_index and (best is None or index >= best["frame_index"]):
                    best = message
            return best

