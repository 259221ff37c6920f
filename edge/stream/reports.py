"""The consumer loss report, version 1: what one consumer of a fused-frame stream received and lost.

Pure functions, no sockets. A ZeroMQ PUB socket drops a slow subscriber's copies silently at its
high-water mark, so only the consumer can count what it lost (gaps in the frames' ``seq``).
Each :class:`~edge.stream.subscriber.FusedFrameSubscriber` therefore sends a small report, now
and then, back to the publisher's report socket (announced in every frame header as ``report``,
see :mod:`edge.stream.wire`), and the publisher keeps the newest report of every consumer
(:meth:`~edge.stream.publisher.FusedFramePublisher.consumers`).

Message layout: one part, a UTF-8 JSON object of at most :data:`MAX_REPORT_BYTES`::

    {"magic": "ONSETLR", "version": 1, "minor": 0,
     "consumer": "captioner", "stream_id": "5f0c...",
     "received": 1201, "lost": 17, "last_seq": 1217, "rejected": 0}

``consumer`` names the consumer (unique per stream: a restarted worker keeps its name and its
counts restart from zero); ``stream_id`` is the publisher instance the counts are about;
``received`` (frames returned to the consumer), ``lost`` (frames of that stream that never reached
it, from sequence gaps, counted from the first frame it saw) and ``last_seq`` (the ``seq`` of the
newest frame it got) are cumulative since the consumer joined, so a lost report costs nothing:
the next one carries the same totals. ``rejected`` counts the consumer's unreadable messages.

Versioning rule (the same as the frame format's): ``version`` is the major version; a decoder
reads exactly :data:`REPORT_VERSION` and rejects another, or a wrong ``magic``, with
:class:`~edge.stream.errors.WireVersionError`. A newer ``minor`` may only add keys, which older
decoders ignore; removing or renaming a key or changing a meaning makes a new major version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from edge.stream.errors import WireFormatError, WireVersionError

__all__ = ["REPORT_MAGIC", "REPORT_VERSION", "REPORT_MINOR", "MAX_REPORT_BYTES", "LossReport",
           "encode_report", "decode_report"]

REPORT_MAGIC = "ONSETLR"
REPORT_VERSION = 1
REPORT_MINOR = 0
MAX_REPORT_BYTES = 4096
_MAX_NAME = 128
_INT64 = 1 << 63


@dataclass(frozen=True)
class LossReport:
    """One consumer's cumulative counts for one stream (``stream_id``); see the module docstring."""

    consumer: str
    stream_id: str
    received: int
    lost: int
    last_seq: int
    rejected: int = 0
    minor: int = REPORT_MINOR


def encode_report(report: LossReport) -> bytes:
    """The one message part of ``report``; ValueError for a name that is too long or a negative count."""
    for what in ("consumer", "stream_id"):
        value = getattr(report, what)
        if not isinstance(value, str) or not value or len(value) > _MAX_NAME:
            raise ValueError(f"{what} must be a string of 1 to {_MAX_NAME} characters, got {value!r:.80}")
    counts = {}
    for what in ("received", "lost", "last_seq", "rejected"):
        value = int(getattr(report, what))
        if not 0 <= value < _INT64:
            raise ValueError(f"{what} {value} is outside [0, 2**63)")
        counts[what] = value
    body = {"magic": REPORT_MAGIC, "version": REPORT_VERSION, "minor": REPORT_MINOR,
            "consumer": report.consumer, "stream_id": report.stream_id, **counts}
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def _count(body: dict, key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _INT64:
        raise WireFormatError(f"report {key!r} must be an integer in [0, 2**63), got {value!r:.80}")
    return value


def _name(body: dict, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value or len(value) > _MAX_NAME:
        raise WireFormatError(f"report {key!r} must be a string of 1 to {_MAX_NAME} characters, got {value!r:.80}")
    return value


def decode_report(parts: Sequence[Any]) -> LossReport:
    """The report in one received message (a list of parts: bytes, memoryviews or ``zmq.Frame``).

    Raises :class:`WireVersionError` for a wrong magic or major version and
    :class:`WireFormatError` for anything else malformed; nothing else escapes.
    """
    if len(parts) != 1:
        raise WireFormatError(f"a loss report is one part, got {len(parts)}")
    try:
        view = memoryview(parts[0])
    except TypeError as err:
        raise WireFormatError(f"report part must be a buffer: {err}") from err
    if view.nbytes > MAX_REPORT_BYTES:
        raise WireFormatError(f"report of {view.nbytes} bytes exceeds {MAX_REPORT_BYTES}")
    try:
        body = json.loads(view.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise WireFormatError(f"report is not UTF-8 JSON: {str(err):.120}") from err
    if not isinstance(body, dict):
        raise WireFormatError(f"report must be a JSON object, got {type(body).__name__}")
    if body.get("magic") != REPORT_MAGIC:
        raise WireVersionError(f"magic {body.get('magic')!r:.40} is not {REPORT_MAGIC!r}: not a loss report")
    version = body.get("version")
    if isinstance(version, bool) or version != REPORT_VERSION:
        raise WireVersionError(f"report version {version!r:.40} is not supported (this decoder reads {REPORT_VERSION})")
    minor = body.get("minor", 0)
    if isinstance(minor, bool) or not isinstance(minor, int) or minor < 0:
        raise WireFormatError(f"report minor must be a non-negative integer, got {minor!r:.40}")
    report = LossReport(
        consumer=_name(body, "consumer"), stream_id=_name(body, "stream_id"),
        received=_count(body, "received"), lost=_count(body, "lost"), last_seq=_count(body, "last_seq"),
        rejected=_count(body, "rejected"), minor=minor,
    )
    if report.received == 0 and report.last_seq != 0:
        raise WireFormatError("report has a last_seq but no frame received")
    return report
