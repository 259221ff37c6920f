"""An engine's results on the wire: versioned JSON envelopes on a ZeroMQ PUB stream of its own.

Every result names the frame it is about as the node streamed it — the stream's ``stream_id`` and
``seq``, the frame's index, its exposure mid-time on the master clock (``t_ns``) and its timecode —
so a consumer (the preview, a take's bag) can put it beside the right frame. The envelope::

    {"v": 1, "engine": "captioner", "stream_id": "...", "seq": 812, "frame_index": 4410,
     "t_ns": 1796207410123456789, "timecode": "01:00:03:18", "rate": "24",
     "latency_ms": 3.1, "worker": {"processed": 800, "skipped": 12, "lost": 0, "rejected": 0,
     "restarts": 0}, "result": {...the engine's own payload...}}

``latency_ms`` is the time from the node sending the frame to the result being ready (both on
this host's clock). ``v`` is :data:`RESULT_VERSION`; a reader meets a newer major version with
:class:`ResultVersionError`, never a guess. The same JSON goes out on ROS 2 as ``std_msgs/String``
(:mod:`engines.worker.ros_out`), where no custom message can be generated.

The stream binds loopback, ``ipc://`` or ``inproc://`` only (the same rule as the fused-frame
stream, :func:`edge.stream.publisher.check_bind_endpoint`), sends without blocking, and a slow
reader loses results at its high-water mark rather than holding the worker up.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, Optional

import zmq

from edge.stream.errors import StreamBindError
from edge.stream.publisher import check_bind_endpoint

__all__ = ["RESULT_VERSION", "ResultError", "ResultVersionError", "encode_result", "decode_result",
           "envelope", "ResultPublisher", "ResultSubscriber"]

RESULT_VERSION = 1


class ResultError(ValueError):
    """A message that is not a readable engine result; the message says what was expected."""


class ResultVersionError(ResultError):
    """A result of a newer major version than this reader knows."""


def _finite(value: Any) -> Any:
    """JSON without NaN or infinities (not JSON): non-finite floats become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def envelope(engine: str, frame: Any, meta: Any, result: Dict[str, Any], *, latency_ms: float,
             worker: Dict[str, int]) -> Dict[str, Any]:
    """The envelope of ``result`` for ``frame`` (a FusedFrame) as it came with wire ``meta``."""
    tc = frame.timecode
    return {
        "v": RESULT_VERSION,
        "engine": engine,
        "stream_id": None if meta is None else meta.stream_id,
        "seq": None if meta is None else int(meta.seq),
        "frame_index": int(frame.frame_index),
        "t_ns": int(frame.t_ns),
        "timecode": None if tc is None else str(tc),
        "rate": None if tc is None else tc.rate.label,
        "latency_ms": round(float(latency_ms), 3),
        "worker": dict(worker),
        "result": result,
    }


def encode_result(message: Dict[str, Any]) -> bytes:
    return json.dumps(_finite(message), separators=(",", ":"), allow_nan=False).encode("utf-8")


def decode_result(data: bytes) -> Dict[str, Any]:
    """The envelope in ``data``; :class:`ResultError` if it is not one this reader can read."""
    try:
        message = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ResultError(f"engine result is not UTF-8 JSON: {err}") from None
    if not isinstance(message, dict) or "v" not in message:
        raise ResultError("engine result must be a JSON object with a version field 'v'")
    version = message["v"]
    if not isinstance(version, int) or version < 1:
        raise ResultError(f"engine result version must be a positive integer, got {version!r}")
    if version > RESULT_VERSION:
        raise ResultVersionError(
            f"engine result version {version} is newer than this reader's {RESULT_VERSION}; update Onset")
    for key in ("engine", "frame_index", "t_ns", "result"):
        if key not in message:
            raise ResultError(f"engine result lacks {key!r}")
    return message


class ResultPublisher:
    """A PUB socket for one engine's results (module docstring); ``endpoint`` after binding."""

    def __init__(self, endpoint: str, send_hwm: int = 50, context: Optional[zmq.Context] = None) -> None:
        address = check_bind_endpoint(endpoint)
        self._own_context = context is None
        self._context = zmq.Context(io_threads=1) if context is None else context
        self._socket = self._context.socket(zmq.PUB)
        self._socket.setsockopt(zmq.SNDHWM, int(send_hwm))
        self._socket.setsockopt(zmq.LINGER, 200)
        try:
            if address.startswith("tcp://") and address.rsplit(":", 1)[1] in ("0", "*"):
                port = self._socket.bind_to_random_port(address.rsplit(":", 1)[0])
                address = f"{address.rsplit(':', 1)[0]}:{port}"
            else:
                self._socket.bind(address)
        except zmq.ZMQError as err:
            self.close()
            raise StreamBindError(f"cannot bind the result stream to {endpoint!r}: {err}") from err
        self.endpoint = address
        self.sent = 0

    def publish(self, message: Dict[str, Any]) -> None:
        try:
            self._socket.send(encode_result(message), flags=zmq.NOBLOCK)
        except zmq.Again:  # pragma: no cover - a PUB socket drops at its high-water mark instead
            return
        self.sent += 1

    def close(self) -> None:
        if not self._socket.closed:
            self._socket.close()
        if self._own_context:
            self._context.term()


class ResultSubscriber:
    """Reads an engine's result stream; unreadable messages are counted in ``rejected``."""

    def __init__(self, endpoint: str, rcv_hwm: int = 100) -> None:
        self._context = zmq.Context(io_threads=1)
        self._socket = self._context.socket(zmq.SUB)
        self._socket.setsockopt(zmq.RCVHWM, int(rcv_hwm))
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.SUBSCRIBE, b"")
        self._socket.connect(endpoint)
        self.rejected = 0
        self.last_error: Optional[str] = None

    def recv(self, timeout_ms: float = 1000) -> Optional[Dict[str, Any]]:
        while self._socket.poll(int(timeout_ms), zmq.POLLIN):
            data = self._socket.recv(flags=zmq.NOBLOCK)
            try:
                return decode_result(data)
            except ResultError as err:
                self.rejected += 1
                self.last_error = str(err)
        return None

    def close(self) -> None:
        self._socket.close(linger=0)
        self._context.term()
