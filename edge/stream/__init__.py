"""The fused-frame stream: :class:`~sensors.vocabulary.FusedFrame` over ZeroMQ to other processes.

:class:`FusedFramePublisher` (PUB, never blocks the node) sends each frame as one multipart message
in the versioned format of :mod:`edge.stream.wire` (a JSON header, then the arrays' own bytes,
without a copy); :class:`FusedFrameSubscriber` (SUB) receives them without a copy, counting frames
it lost (sequence gaps) and messages it rejected, and reporting those counts back to the
publisher, which keeps them per consumer (:meth:`FusedFramePublisher.consumers`,
:class:`ConsumerLoss`; report format in :mod:`edge.stream.reports`). See docs/architecture.md, Data flow.
"""

from __future__ import annotations

from edge.stream.consumers import ConsumerLoss, ConsumerTable, describe_consumers
from edge.stream.errors import (
    FrameContractError,
    StreamBindError,
    StreamClosedError,
    StreamError,
    WireError,
    WireFormatError,
    WireVersionError,
)
from edge.stream.publisher import DEFAULT_ENDPOINT, FusedFramePublisher, check_bind_endpoint, report_bind_endpoint
from edge.stream.reports import REPORT_MAGIC, REPORT_MINOR, REPORT_VERSION, LossReport, decode_report, encode_report
from edge.stream.subscriber import FusedFrameSubscriber
from edge.stream.wire import MAGIC, MAX_HEADER_BYTES, WIRE_MINOR, WIRE_VERSION, WireMeta, decode_frame, encode_frame

__all__ = [
    "DEFAULT_ENDPOINT",
    "REPORT_MAGIC",
    "REPORT_MINOR",
    "REPORT_VERSION",
    "ConsumerLoss",
    "ConsumerTable",
    "LossReport",
    "decode_report",
    "describe_consumers",
    "encode_report",
    "report_bind_endpoint",
    "MAGIC",
    "MAX_HEADER_BYTES",
    "WIRE_MINOR",
    "WIRE_VERSION",
    "FrameContractError",
    "FusedFramePublisher",
    "FusedFrameSubscriber",
    "StreamBindError",
    "StreamClosedError",
    "StreamError",
    "WireError",
    "WireFormatError",
    "WireMeta",
    "WireVersionError",
    "check_bind_endpoint",
    "decode_frame",
    "encode_frame",
]
