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
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from typing import Iterator, Optional, Sequence, Union

import zmq

from edge.stream.errors import StreamClosedError, StreamError, WireError
from edge.stream.wire import WireMeta, decode_frame
from sensors.vocabulary import FusedFrame

__all__ = ["FusedFrameSubscriber"]

# Publishers remembered for gap counting; a long-lived consumer of restarting nodes forgets the oldest.
_MAX_STREAMS = 64


class FusedFrameSubscriber:
    """A ZeroMQ SUB socket connected to one or more fused-frame publishers.

    ``endpoint``: a publisher's endpoint (its ``endpoint`` property), or several. ``rcv_hwm``:
    messages queued on this side. ``max_message_bytes``: a larger message part makes ZeroMQ drop the
    connection (a hostile or misconfigured peer). ``context``: a ZeroMQ context to share
    (otherwise one of its own, terminated on close).
    """

    def __init__(
        self,
        endpoint: Union[str, Sequence[str]],
        rcv_hwm: int = 2,
        *,
        max_message_bytes: int = 256 * 1024 * 1024,
        context: Optional[zmq.Context] = None,
    ) -> None:
        if rcv_hwm < 1:
            raise ValueError(f"rcv_hwm must be at least 1, got {rcv_hwm}")
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
        self._next_seq: "OrderedDict[str, int]" = OrderedDict()
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
        return len(self._next_seq)

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
        """Counts the gap before ``meta.seq``; False for a repeated or backwards ``seq``."""
        expected = self._next_seq.get(meta.stream_id)
        if expected is not None:
            if meta.seq < expected:
                self._reject(f"stream {meta.stream_id}: seq {meta.seq} repeats (expected {expected} or later)")
                return False
            self._lost += meta.seq - expected
        self._next_seq[meta.stream_id] = meta.seq + 1
        self._next_seq.move_to_end(meta.stream_id)
        if len(self._next_seq) > _MAX_STREAMS:
            self._next_seq.popitem(last=False)
        return True

    def recv(self, timeout_ms: Optional[float] = None) -> Optional[FusedFrame]:
        """The next readable fused frame, or None when none came within ``timeout_ms``.

        ``timeout_ms`` None waits indefinitely, 0 only takes what is already queued. Bad messages
        met on the way are counted in ``rejected`` and skipped within the same timeout.
        """
        if self._closed:
            raise StreamClosedError(f"subscriber to {self._endpoints} is closed")
        deadline = None if timeout_ms is None else time.monotonic() + max(0.0, timeout_ms) / 1000.0
        while True:
            if deadline is None:
                wait_ms = None
            else:
                wait_ms = max(0, math.ceil((deadline - time.monotonic()) * 1000.0))
            if not self._socket.poll(wait_ms, zmq.POLLIN):
                return None
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
        self._closed = True
        self._socket.close(linger=0)
        if self._own_context:
            self._context.term()

    def __enter__(self) -> "FusedFrameSubscriber":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"FusedFrameSubscriber({list(self._endpoints)!r}, received={self._received}, "
                f"lost={self._lost}, rejected={self._rejected})")
