"""Publishes fused frames to any number of consumers in other processes (ZeroMQ PUB).

Every frame goes out as one multipart message in the format of :mod:`edge.stream.wire`; the
arrays leave as the frame's own buffers (``copy=False``), so publishing a 640x360 frame costs tens
of microseconds whatever its size.

**Never blocks the node.** ``publish`` sends with ``NOBLOCK``. ZeroMQ keeps one queue per
subscriber, at most ``send_hwm`` messages deep; when a subscriber's queue is full (a slow
consumer), ZeroMQ drops that subscriber's copy of the message, silently, and keeps serving the
others: a PUB socket never refuses a message (no ``EAGAIN``) and never says who lost what. So loss
is counted where it happens, by each consumer, from gaps in the header's ``seq``
(:class:`~edge.stream.subscriber.FusedFrameSubscriber` ``.lost``), and each consumer reports its
counts back: the publisher binds a second socket (PULL) beside the PUB one, announces it in every
frame header (``report``) and keeps each consumer's newest report (:meth:`FusedFramePublisher.consumers`,
by consumer name; a consumer quiet for ``consumer_expiry_s`` is forgotten). Reports it cannot read,
or that are about another stream, are counted in ``reports_rejected``, never raised. ``seq``
advances for every frame, so a consumer's ``lost`` is everything of the stream it missed since its
first frame. With no subscriber connected, frames are discarded by ZeroMQ and still count as ``sent``.

The report socket binds the PUB endpoint's host on a free port (``tcp://127.0.0.1:0``), or the
PUB path plus ``.reports`` for ``ipc://`` and ``inproc://``; subscribers only report to a loopback,
``ipc://`` or ``inproc://`` endpoint, so a stream bound with ``allow_remote`` hears no remote consumer.

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
from typing import Callable, Dict, Optional

import zmq

from edge.stream.consumers import ConsumerLoss, ConsumerTable
from edge.stream.errors import StreamBindError, StreamClosedError, StreamError, WireError
from edge.stream.reports import decode_report
from edge.stream.wire import WireMeta, encode_frame
from sensors.vocabulary import FusedFrame

__all__ = ["DEFAULT_ENDPOINT", "FusedFramePublisher", "check_bind_endpoint", "report_bind_endpoint"]

DEFAULT_ENDPOINT = "tcp://127.0.0.1:0"
#: Reports read per publish() or consumers() call at most: a flood of reports cannot stall the node.
_MAX_REPORTS_PER_DRAIN = 256


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


def report_bind_endpoint(bound_endpoint: str) -> str:
    """Where the loss-report socket binds beside a PUB socket bound at ``bound_endpoint``.

    ``tcp://HOST:PORT`` -> ``tcp://HOST:0`` (same interface, a free port); ``ipc://P`` and
    ``inproc://P`` -> the same transport at ``P.reports``.
    """
    transport, _, address = bound_endpoint.partition("://")
    if transport == "tcp":
        host = address.rpartition(":")[0]
        return f"tcp://{host}:0"
    return f"{bound_endpoint}.reports"


class FusedFramePublisher:
    """A bound ZeroMQ PUB socket that sends :class:`FusedFrame` messages without blocking.

    ``endpoint``: where to bind (see :func:`check_bind_endpoint`). ``send_hwm``: messages queued per
    subscriber before ZeroMQ drops that subscriber's copies. ``stream_id``: names this publisher in
    every header (random when None). ``clock_ns``: the master clock for the header's ``sent_ns``.
    ``context``: a ZeroMQ context to share (otherwise one of its own, terminated on close).
    ``reports``: bind the loss-report socket (see the module docstring); ``consumer_expiry_s``:
    seconds without a report after which a consumer is forgotten. ``monotonic_s``: the clock of
    that expiry (seconds).
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
        reports: bool = True,
        consumer_expiry_s: float = 5.0,
        monotonic_s: Callable[[], float] = time.monotonic,
    ) -> None:
        if send_hwm < 1:
            raise ValueError(f"send_hwm must be at least 1, got {send_hwm}")
        address = check_bind_endpoint(endpoint, allow_remote)
        self._own_context = context is None
        self._context = zmq.Context(io_threads=1) if context is None else context
        self._socket = self._context.socket(zmq.PUB)
        self._reports: Optional[zmq.Socket] = None
        self._report_endpoint: Optional[str] = None
        try:
            self._socket.setsockopt(zmq.SNDHWM, int(send_hwm))
            self._socket.setsockopt(zmq.LINGER, 0)  # close never waits on a consumer
            if address.startswith("tcp://["):
                self._socket.setsockopt(zmq.IPV6, 1)
            self._socket.bind(address)
            self._endpoint = self._socket.getsockopt(zmq.LAST_ENDPOINT).decode()
            if reports:
                self._reports = self._context.socket(zmq.PULL)
                self._reports.setsockopt(zmq.LINGER, 0)
                self._reports.setsockopt(zmq.RCVHWM, 1024)
                self._reports.setsockopt(zmq.MAXMSGSIZE, 64 * 1024)  # reports are tiny: a bigger one is hostile
                if address.startswith("tcp://["):
                    self._reports.setsockopt(zmq.IPV6, 1)
                self._reports.bind(report_bind_endpoint(self._endpoint))
                self._report_endpoint = self._reports.getsockopt(zmq.LAST_ENDPOINT).decode()
        except zmq.ZMQError as err:
            self._socket.close(linger=0)
            if self._reports is not None:
                self._reports.close(linger=0)
            if self._own_context:
                self._context.term()
            in_use = " (address in use: another publisher?)" if err.errno == zmq.EADDRINUSE else ""
            raise StreamBindError(f"cannot bind fused-frame publisher to {address!r}: {err}{in_use}") from err
        self._stream_id = stream_id if stream_id is not None else os.urandom(8).hex()
        self._clock_ns = clock_ns
        self._monotonic_s = monotonic_s
        self._lock = threading.Lock()
        self._closed = False
        self._seq = 0
        self._sent = 0
        self._table = ConsumerTable(self._stream_id, consumer_expiry_s)

    @property
    def endpoint(self) -> str:
        """The bound endpoint, with the actual port (``tcp://127.0.0.1:40123``)."""
        return self._endpoint

    @property
    def stream_id(self) -> str:
        return self._stream_id

    @property
    def report_endpoint(self) -> Optional[str]:
        """The bound loss-report endpoint announced to consumers (None with ``reports=False``)."""
        return self._report_endpoint

    @property
    def sent(self) -> int:
        """Messages handed to ZeroMQ (each delivered to every subscriber whose queue had room)."""
        return self._sent

    @property
    def reports_rejected(self) -> int:
        """Loss reports that could not be used: unreadable, about another stream, or a full table."""
        return self._table.rejected

    @property
    def last_report_error(self) -> Optional[str]:
        """Why the newest rejected report was rejected."""
        return self._table.last_error

    @property
    def consumers_expired(self) -> int:
        """Consumers forgotten so far because they went quiet (died, hung or disconnected)."""
        return self._table.expired

    def consumers(self) -> Dict[str, ConsumerLoss]:
        """Every consumer heard from within ``consumer_expiry_s``, by name, as its newest report says.

        Reads the reports waiting on the report socket first (never blocks). Empty with
        ``reports=False`` or before any consumer has reported.
        """
        with self._lock:
            if not self._closed:
                self._drain_reports()
            return self._table.snapshot(self._monotonic_s())

    def _drain_reports(self) -> None:
        """Take the reports already received (caller holds the lock); bad ones are counted."""
        if self._reports is None:
            return
        for _ in range(_MAX_REPORTS_PER_DRAIN):
            try:
                if not self._reports.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                    return
                parts = self._reports.recv_multipart(flags=zmq.NOBLOCK, copy=True)
            except zmq.Again:
                return
            except zmq.ZMQError as err:
                self._table.reject(f"report socket: {err}")
                return
            try:
                report = decode_report(parts)
            except WireError as err:
                self._table.reject(str(err))
                continue
            self._table.update(report, self._monotonic_s())

    @property
    def next_seq(self) -> int:
        """The ``seq`` the next frame will carry (frames offered so far)."""
        return self._seq

    @property
    def closed(self) -> bool:
        return self._closed

    def publish(self, frame: FusedFrame) -> bool:
        """Hand ``frame`` to ZeroMQ for every subscriber; returns True (kept for callers that count).

        Never blocks, and never learns here whether a subscriber lost the frame: each consumer's
        loss is in :meth:`consumers`. Raises :class:`~edge.stream.errors.FrameContractError` for a
        frame that breaks the ``FusedFrame`` contract and :class:`StreamClosedError` after :meth:`close`.
        """
        with self._lock:
            if self._closed:
                raise StreamClosedError(f"publisher {self._endpoint} is closed")
            meta = WireMeta(self._stream_id, self._seq, self._clock_ns(), report=self._report_endpoint)
            parts = encode_frame(frame, meta)
            self._seq += 1
            try:
                # Reading EVENTS makes ZeroMQ process its pending commands now (sends throttle that to
                # ~1 ms): the subscribers' "I have read" acks, without which back-to-back frames would be
                # dropped for queues that are in fact empty.
                self._socket.getsockopt(zmq.EVENTS)
                # A PUB socket drops at its high-water mark without raising: NOBLOCK only guarantees
                # that this call never waits.
                self._socket.send_multipart(parts, flags=zmq.NOBLOCK, copy=False)
            except zmq.ZMQError as err:
                raise StreamError(f"publisher {self._endpoint}: send failed: {err}") from err
            self._sent += 1
            self._drain_reports()
            return True

    def close(self) -> None:
        """Unbind and release the socket (idempotent). Queued messages are discarded."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._socket.close(linger=0)
            if self._reports is not None:
                self._reports.close(linger=0)
            if self._own_context:
                self._context.term()

    def __enter__(self) -> "FusedFramePublisher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"FusedFramePublisher({self._endpoint!r}, {state}, sent={self._sent})"
