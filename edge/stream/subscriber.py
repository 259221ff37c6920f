"""Receives fused frames from a :class:`~edge.stream.publisher.FusedFramePublisher` (ZeroMQ SUB).

Messages are received without a copy (``recv_multipart(copy=False)``) and decoded by
:func:`edge.stream.wire.decode_frame`: the frame's ``rgb`` and ``depth_m`` are read-only numpy views
of the received ZeroMQ frames. Each array holds a reference to its ``zmq.Frame`` (``array.base``),
so it stays valid after the next :meth:`FusedFrameSubscriber.recv` and for as long as the consumer
keeps it; nothing is reused or overwritten. Copy an array before writing into it.

Counters: ``received`` (frames returned), ``lost`` (frames of a publisher's stream that never
arrived: gaps in its ``seq``, counted per ``stream_id`` from the first message seen, so frames sent
before this subscriber joined are not lost frames), ``rejected`` (messages that are not a readable
fused frame: bad magic or version, malformed header, parts that disagree with it, a repeated
``seq``). A rejected message is dropped and counted; it never raises out of ``recv``.

``rcv_hwm`` bounds this side's queue: a consumer slower than the stream loses the frames that do
not fit, and only this consumer loses them. One thread uses a subscriber.

**Loss reports.** The publisher cannot see what a subscriber lost, so the subscriber tells it:
every ``report_interval_s`` (and on its first frame of a stream, and once more on close) it sends
a :class:`~edge.stream.reports.LossReport` per stream, named ``consumer``, to the report endpoint
that stream's headers announce (a PUSH socket, never blocking; a report that cannot leave at once
is skipped and counted in ``reports_skipped``, the next one carries the same totals). Reports go
only to loopback TCP, ``ipc://`` or ``inproc://`` endpoints, at most :data:`MAX_REPORT_PEERS` of
them: a header cannot make a consumer connect elsewhere. Reports are sent while :meth:`recv` runs
(it wakes for them while it waits), so a consumer that stops calling it is, rightly, seen as gone.
"""

from __future__ import annotations

import math
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, Optional, Sequence, Union

import zmq

from edge.stream.errors import StreamBindError, StreamClosedError, StreamError, WireError
from edge.stream.publisher import check_bind_endpoint
from edge.stream.reports import LossReport, encode_report
from edge.stream.wire import WireMeta, decode_frame
from sensors.vocabulary import FusedFrame

__all__ = ["FusedFrameSubscriber", "MAX_REPORT_PEERS"]

# Publishers remembered for gap counting; a long-lived consumer of restarting nodes forgets the oldest.
_MAX_STREAMS = 64
#: Report endpoints one subscriber connects to at most (one per publisher it listens to).
MAX_REPORT_PEERS = 8
#: How long close() lets the last report leave, ms (bounds the context's termination).
_REPORT_LINGER_MS = 200


@dataclass
class _Stream:
    """What this subscriber knows of one publisher instance (``stream_id``)."""

    next_seq: int
    received: int = 0
    lost: int = 0
    report: Optional[str] = None


def _reportable(endpoint: str) -> bool:
    """True for an endpoint a loss report may go to: loopback TCP, ipc:// or inproc://."""
    if "://" not in endpoint:
        return False
    try:
        check_bind_endpoint(endpoint)
    except StreamBindError:
        return False
    return not endpoint.startswith("tcp://") or endpoint.rpartition(":")[2] not in ("0", "*")


class FusedFrameSubscriber:
    """A ZeroMQ SUB socket connected to one or more fused-frame publishers.

    ``endpoint``: a publisher's endpoint (its ``endpoint`` property), or several. ``rcv_hwm``:
    messages queued on this side. ``max_message_bytes``: a larger message part makes ZeroMQ drop the
    connection (a hostile or misconfigured peer). ``context``: a ZeroMQ context to share
    (otherwise one of its own, terminated on close). ``consumer``: the name this subscriber
    reports its loss under (unique per stream; default ``pid<PID>-<random>``); ``report_interval_s``:
    seconds between loss reports (None: send none). ``monotonic_s``: the clock of that period.
    """

    def __init__(
        self,
        endpoint: Union[str, Sequence[str]],
        rcv_hwm: int = 2,
        *,
        max_message_bytes: int = 256 * 1024 * 1024,
        context: Optional[zmq.Context] = None,
        consumer: Optional[str] = None,
        report_interval_s: Optional[float] = 0.5,
        monotonic_s: Callable[[], float] = time.monotonic,
    ) -> None:
        if rcv_hwm < 1:
            raise ValueError(f"rcv_hwm must be at least 1, got {rcv_hwm}")
        if report_interval_s is not None and not report_interval_s > 0:
            raise ValueError(f"report_interval_s must be positive or None, got {report_interval_s}")
        name = consumer if consumer is not None else f"pid{os.getpid()}-{os.urandom(3).hex()}"
        if not isinstance(name, str) or not 0 < len(name) <= 128:
            raise ValueError(f"consumer must be a name of 1 to 128 characters, got {consumer!r:.80}")
        endpoints = [endpoint] if isinstance(endpoint, str) else list(endpoint)
        self._own_context = context is None
        self._context = zmq.Context(io_threads=1) if context is None else context
        self._socket = self._context.socket(zmq.SUB)
        try:
            self._socket.setsockopt(zmq.RCVHWM, int(rcv_hwm))
            self._socket.setsockopt(zmq.LINGER, 0)
            self._socket.setsockopt(zmq.MAXMSGSIZE, int(max_message_bytes))
            self._socket.setsockopt(zmq.SUBSCRIBE, b"")
            for address in endpoints:
                if address.startswith("tcp://["):
                    self._socket.setsockopt(zmq.IPV6, 1)
                self._socket.connect(address if "://" in address else f"ipc://{address}")
        except zmq.ZMQError as err:
            self._socket.close(linger=0)
            if self._own_context:
                self._context.term()
            raise StreamError(f"cannot connect fused-frame subscriber to {endpoints}: {err}") from err
        self._endpoints = tuple(endpoints)
        self._streams: "OrderedDict[str, _Stream]" = OrderedDict()
        self._consumer = name
        self._report_interval_s = report_interval_s
        self._monotonic_s = monotonic_s
        self._next_report_s = monotonic_s()
        self._reporters: Dict[str, zmq.Socket] = {}
        self._reports_sent = 0
        self._reports_skipped = 0
        self._closed = False
        self._received = 0
        self._lost = 0
        self._rejected = 0
        self._last_meta: Optional[WireMeta] = None
        self._last_error: Optional[str] = None

    @property
    def endpoints(self) -> tuple:
        return self._endpoints

    @property
    def received(self) -> int:
        """Fused frames returned by :meth:`recv`."""
        return self._received

    @property
    def lost(self) -> int:
        """Frames of the publishers' streams that never reached this subscriber (sequence gaps)."""
        return self._lost

    @property
    def rejected(self) -> int:
        """Messages dropped because they were not a readable fused frame."""
        return self._rejected

    @property
    def streams(self) -> int:
        """Publisher instances (``stream_id``) heard from, restarts included."""
        return len(self._streams)

    @property
    def consumer(self) -> str:
        """The name this subscriber's loss reports carry."""
        return self._consumer

    @property
    def report_peers(self) -> tuple:
        """The report endpoints this subscriber has connected to."""
        return tuple(self._reporters)

    @property
    def reports_sent(self) -> int:
        """Loss reports handed to ZeroMQ."""
        return self._reports_sent

    @property
    def reports_skipped(self) -> int:
        """Loss reports not sent: no connected publisher, a full queue, or an endpoint not allowed."""
        return self._reports_skipped

    def report(self, stream_id: str) -> Optional[LossReport]:
        """This subscriber's counts for one publisher instance, as its next report will carry them."""
        stream = self._streams.get(stream_id)
        if stream is None or stream.received == 0:
            return None
        return LossReport(self._consumer, stream_id, stream.received, stream.lost, stream.next_seq - 1, self._rejected)

    @property
    def last_meta(self) -> Optional[WireMeta]:
        """Wire metadata of the newest frame returned (``seq``, ``stream_id``, ``sent_ns``)."""
        return self._last_meta

    @property
    def last_error(self) -> Optional[str]:
        """Why the newest rejected message was rejected."""
        return self._last_error

    @property
    def closed(self) -> bool:
        return self._closed

    def _reject(self, reason: str) -> None:
        self._rejected += 1
        self._last_error = reason

    def _in_sequence(self, meta: WireMeta) -> bool:
        """Counts the frame and the gap before ``meta.seq``; False for a repeated or backwards ``seq``."""
        stream = self._streams.get(meta.stream_id)
        new = stream is None
        if stream is None:
            stream = _Stream(next_seq=meta.seq)
        elif meta.seq < stream.next_seq:
            self._reject(f"stream {meta.stream_id}: seq {meta.seq} repeats (expected {stream.next_seq} or later)")
            return False
        gap = meta.seq - stream.next_seq
        stream.lost += gap
        stream.received += 1
        stream.next_seq = meta.seq + 1
        stream.report = meta.report
        self._lost += gap
        self._streams[meta.stream_id] = stream
        self._streams.move_to_end(meta.stream_id)
        if len(self._streams) > _MAX_STREAMS:
            self._streams.popitem(last=False)
        if new:
            self._next_report_s = self._monotonic_s()  # a new publisher hears of this consumer at once
        return True

    def _reporter(self, endpoint: str) -> Optional[zmq.Socket]:
        socket = self._reporters.get(endpoint)
        if socket is not None:
            return socket
        if len(self._reporters) >= MAX_REPORT_PEERS or not _reportable(endpoint):
            return None
        socket = self._context.socket(zmq.PUSH)
        try:
            socket.setsockopt(zmq.LINGER, _REPORT_LINGER_MS)
            socket.setsockopt(zmq.SNDHWM, 4)
            socket.setsockopt(zmq.IMMEDIATE, 1)  # nothing queues for a publisher that is not there
            if endpoint.startswith("tcp://["):
                socket.setsockopt(zmq.IPV6, 1)
            socket.connect(endpoint)
        except zmq.ZMQError:
            socket.close(linger=0)
            return None
        self._reporters[endpoint] = socket
        return socket

    def _send_reports(self, force: bool = False) -> None:
        """Send every stream's report when one is due (or ``force``); never blocks, never raises."""
        if self._report_interval_s is None:
            return
        now = self._monotonic_s()
        if not force and now < self._next_report_s:
            return
        self._next_report_s = now + self._report_interval_s
        for stream_id, stream in self._streams.items():
            if stream.report is None:
                continue
            socket = self._reporter(stream.report)
            report = self.report(stream_id)
            if socket is None or report is None:
                self._reports_skipped += 1
                continue
            try:
                socket.send(encode_report(report), flags=zmq.NOBLOCK)
                self._reports_sent += 1
            except (zmq.ZMQError, ValueError):  # zmq.Again included: the next report carries the same totals
                self._reports_skipped += 1

    def _wait_ms(self, deadline: Optional[float]) -> Optional[int]:
        """How long one poll may wait: until the deadline, and no later than the next report."""
        now = self._monotonic_s()
        waits = []
        if deadline is not None:
            waits.append(max(0, math.ceil((deadline - time.monotonic()) * 1000.0)))
        if self._report_interval_s is not None and self._streams:
            waits.append(max(0, math.ceil((self._next_report_s - now) * 1000.0)))
        return min(waits) if waits else None

    def recv(self, timeout_ms: Optional[float] = None) -> Optional[FusedFrame]:
        """The next readable fused frame, or None when none came within ``timeout_ms``.

        ``timeout_ms`` None waits indefinitely, 0 only takes what is already queued. Bad messages
        met on the way are counted in ``rejected`` and skipped within the same timeout.
        """
        if self._closed:
            raise StreamClosedError(f"subscriber to {self._endpoints} is closed")
        deadline = None if timeout_ms is None else time.monotonic() + max(0.0, timeout_ms) / 1000.0
        while True:
            self._send_reports()
            if not self._socket.poll(self._wait_ms(deadline), zmq.POLLIN):
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                continue  # woken for a report
            try:
                parts = self._socket.recv_multipart(flags=zmq.NOBLOCK, copy=False)
            except zmq.Again:
                continue
            try:
                frame, meta = decode_frame(parts)
            except WireError as err:
                self._reject(str(err))
                continue
            if not self._in_sequence(meta):
                continue
            self._received += 1
            self._last_meta = meta
            self._send_reports()
            return frame

    def frames(self, timeout_ms: Optional[float] = None) -> Iterator[FusedFrame]:
        """Yield frames until one does not come within ``timeout_ms`` (never, if None) or the subscriber closes."""
        while not self._closed:
            frame = self.recv(timeout_ms)
            if frame is None:
                return
            yield frame

    def __iter__(self) -> Iterator[FusedFrame]:
        return self.frames()

    def close(self) -> None:
        """Disconnect and release the socket (idempotent). Frames already returned stay valid."""
        if self._closed:
            return
        self._send_reports(force=True)  # the final totals; each report socket lingers briefly to send them
        self._closed = True
        self._socket.close(linger=0)
        for socket in self._reporters.values():
            socket.close()
        self._reporters.clear()
        if self._own_context:
            self._context.term()

    def __enter__(self) -> "FusedFrameSubscriber":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"FusedFrameSubscriber({list(self._endpoints)!r}, received={self._received}, "
                f"lost={self._lost}, rejected={self._rejected})")
