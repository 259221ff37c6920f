"""Errors of the fused-frame stream: one root, narrow subclasses that say what went wrong."""

from __future__ import annotations

__all__ = [
    "StreamError",
    "WireError",
    "WireVersionError",
    "WireFormatError",
    "FrameContractError",
    "StreamBindError",
    "StreamClosedError",
]


class StreamError(Exception):
    """Root of every error raised by :mod:`edge.stream`."""


class WireError(StreamError):
    """A received message that is not a fused frame this decoder can read.

    Subscribers catch these, count the message as rejected and go on; they never reach a consumer.
    """


class WireVersionError(WireError):
    """The header's magic is not ``ONSETFF`` or its major version is not one this decoder reads."""


class WireFormatError(WireError):
    """A header of a known version that is malformed, or parts that disagree with it."""


class FrameContractError(StreamError, ValueError):
    """A fused frame handed to the encoder breaks the ``FusedFrame`` contract (shape, dtype, type)."""


class StreamBindError(StreamError):
    """An endpoint the publisher may not or cannot bind: not loopback, malformed, or in use."""


class StreamClosedError(StreamError):
    """A publisher or subscriber used after ``close()``."""
