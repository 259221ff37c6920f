"""Publishes fused frames to any number of consumers in other processes (ZeroMQ PUB).

Every frame goes out as one multipart message in the format of :mod:`edge.stream.wire`; the
arrays leave as the frame's own buffers (``copy=False``), so publishing a 640x360 frame costs tens
of microseconds whatever its size.

**Never blocks the node.** ``publish`` sends with ``NOBLOCK``. ZeroMQ keeps one queue per
subscriber, at most ``send_hwm`` messages deep; when a subscriber's queue is full (a slow
consumer), ZeroMQ drops that subscriber's copy of the message and keeps serving the others. A PUB
socket cannot tell the sender which subscriber lost what, so per-consumer losses are counted on
the consumer's side, from gaps in the header's ``seq`` (:class:`~edge.stream.subscriber.FusedFrameSubscriber`
``.lost``). The publisher's own ``dropped`` counts the messages ZeroMQ refused outright (``EAGAIN``),
which a PUB socket does only in states where it cannot queue at all. ``seq`` advances for every
frame offered, sent or dropped, so each consumer's ``lost`` is everything of the stream it missed.
With no subscriber connected, frames are discarded by ZeroMQ and still count as ``sent``.

Queues are bounded with ``SNDHWM``/``RCVHWM``, not ``CONFLATE`` (which keeps the newest *part*
and so breaks multipart messages). pyzmq copies parts under 64 KiB anyway (``copy_threshold``):
cheaper than tracking them; the image and depth parts of a real frame are far above that.

**Do not write into a frame's arrays after publishing it**: ZeroMQ's I/O thread reads them while
it sends (a FusedFrame is immutable by contract: the producer makes new arrays for every frame).

Bind addresses: loopback only (``127.0.0.0/8``, ``::1``, ``localhost``), an ``ipc://`` path or
``inproc://``, unless ``allow_remote=True``; ``0.0.0.0``, ``*`` and other interfaces are refused so
the frames of a take never leave the machine by accident. Port ``0`` (or ``*``) picks a free port;
:attr:`FusedFramePublisher.endpoint` reports the one bound. One thread publishes; counters may be
read from any thread.
"""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from typing import Callable, Optional

import zmq

from edge.stream.errors import StreamBindError, StreamClosedError, StreamError
from edge.stream.wire import WireMeta, encode_frame
from sensors.vocabulary import FusedFrame

__all__ = ["DEFAULT_ENDPOINT", "FusedFramePublisher", "check_bind_endpoint"]

DEFAULT_ENDPOINT = "tcp://127.0.0.1:0"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind_endpoint(endpoint: str, allow_remote: bool = False) -> str:
    """The ZeroMQ endpoint to bind for ``endpoint``, or :class:`StreamBindError` if it may not be bound.

    A bare filesystem path means ``ipc://<path>``. ``tcp://HOST:PORT`` needs a loopback HOST unless
    ``allow_remote``; ``ipc://`` and ``inproc://`` never leave the machine.
    """
    if not isinstance(endpoint, str) or not endpoint:
        raise StreamBindError(f"endpoint must be a non-empty string, got {endpoint!r}")
    if "://" not in endpoint:
        return f"ipc://{endpoint}"
    transport, _, address = endpoint.partition("://")
    if transport in ("ipc", "inproc"):
        if not address:
            raise StreamBindError(f"endpoint {endpoint!r} names no path")
        return endpoint
    if transport != "tcp":
        if allow_remote:
            return endpoint
        raise StreamBindError(f"endpoint {endpoint!r}: only tcp (loopback), ipc and inproc are allowed without allow_remote")
    host, sep, port = address.rpartition(":")
    if not sep or not host or not (port == "*" or port.isdigit()) or (port.isdigit() and int(port) > 65535):
        raise StreamBindError(f"endpoint {endpoint!r} is not tcp://HOST:PORT")
    if not allow_remote and not _is_loopback(host):
        raise StreamBindError(
            f"refusing to bind {endpoint!r}: {host} is not a loopback address; fused frames stay on this "
            f"machine unless the publisher is created with allow_remote=True"
        )
    return endpoint


class FusedFramePublisher:
    """A bound ZeroMQ PUB socket that sends :class:`FusedFrame` messages without blocking.

    ``endpoint``: where to bind (see :func:`check_bind_endpoint`). ``send_hwm``: messages queued per
    subscriber before ZeroMQ drops that subscriber's copies. ``stream_id``: names this publisher in
    every header (random when None). ``clock_ns``: the master clock for the header's ``sent_ns``.
    ``context``: a ZeroMQ context to share (otherwise one of its own, terminated on close).
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        send_hwm: int = 2,
        *,
        allow_remote: bool = False,
        stream_id: Optional[str] = None,
        clock_ns: Callable[[], int] = time.time_ns,
        context: Optional[zmq.Context] = None,
    ) -> None:
        if send_hwm < 1:
            raise ValueError(f"send_hwm must be at least 1, got {send_hwm}")
        address = check_bind_endpoint(endpoint, allow_remote)
        self._own_context = context is None
        self._context = zmq.Context(io_threads=1) if context is None else context
        self._socket = self._context.socket(zmq.PUB)
        try:
            self._socket.setsockopt(zmq.SNDHWM, int(send_hwm))
            self._socket.setsockopt(zmq.LINGER, 0)  # close never waits on a consumer
            if address.startswith("tcp://["):
                self._socket.setsockopt(zmq.IPV6, 1)
            self._socket.bind(address)
            self._endpoint = self._socket.getsockopt(zmq.LAST_ENDPOINT).decode()
        except zmq.ZMQError as err:
            self._socket.close(linger=0)
            if self._own_context:
                self._context.term()
            in_use = " (address in use: another publisher?)" if err.errno == zmq.EADDRINUSE else ""
            raise StreamBindError(f"cannot bind fused-frame publisher to {address!r}: {err}{in_use}") from err
        self._stream_id = stream_id if stream_id is not None else os.urandom(8).hex()
        self._clock_ns = clock_ns
        self._lock = threading.Lock()
        self._closed = False
        self._seq = 0
        self._sent = 0
        self._dropped = 0

    @property
    def endpoint(self) -> str:
        """The bound endpoint, with the actual port (``tcp://127.0.0.1:40123``)."""
        return self._endpoint

    @property
    def stream_id(self) -> str:
        return self._stream_id

    @property
    def sent(self) -> int:
        """Messages handed to ZeroMQ (delivered to every subscriber whose queue had room)."""
        return self._sent

    @property
    def dropped(self) -> int:
        """Messages ZeroMQ refused outright; per-subscriber drops are counted by the subscribers."""
        return self._dropped

    @property
    def next_seq(self) -> int:
        """The ``seq`` the next frame will carry (frames offered so far)."""
        return self._seq

    @property
    def closed(self) -> bool:
        return self._closed

    def publish(self, frame: FusedFrame) -> bool:
        """Send ``frame`` now or drop it: True when queued, False when dropped (counted).

        Never blocks. Raises :class:`~edge.stream.errors.FrameContractError` for a frame that breaks
        the ``FusedFrame`` contract and :class:`StreamClosedError` after :meth:`close`.
        """
        with self._lock:
            if self._closed:
                raise StreamClosedError(f"publisher {self._endpoint} is closed")
            parts = encode_frame(frame, WireMeta(self._stream_id, self._seq, self._clock_ns()))
            self._seq += 1
            try:
                # Reading EVENTS makes ZeroMQ process its pending commands now (sends throttle that to
                # ~1 ms): the subscribers' "I have read" acks, without which back-to-back frames would be
                # dropped for queues that are in fact empty.
                self._socket.getsockopt(zmq.EVENTS)
                self._socket.send_multipart(parts, flags=zmq.NOBLOCK, copy=False)
            except zmq.Again:
                self._dropped += 1
                return False
            except zmq.ZMQError as err:
                raise StreamError(f"publisher {self._endpoint}: send failed: {err}") from err
            self._sent += 1
            return True

    def close(self) -> None:
        """Unbind and release the socket (idempotent). Queued messages are discarded."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._socket.close(linger=0)
            if self._own_context:
                self._context.term()

    def __enter__(self) -> "FusedFramePublisher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"FusedFramePublisher({self._endpoint!r}, {state}, sent={self._sent}, dropped={self._dropped})"
