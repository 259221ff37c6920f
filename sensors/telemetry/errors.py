"""Narrow errors of the telemetry family (FreeD D1 codec, lens calibration).

Decode errors subclass :class:`sensors.errors.DecodeError` and carry a short ``reason``
(``"length"``, ``"type"``, ``"checksum"``) that the driver uses as its drop reason, plus the
values involved, so a crew reading a log sees what arrived instead of what was expected.
"""

from __future__ import annotations

from sensors.errors import DecodeError, SensorError

__all__ = [
    "TelemetryError",
    "FreedDecodeError",
    "FreedLengthError",
    "FreedMessageTypeError",
    "FreedChecksumError",
    "FreedFieldRangeError",
    "LensCalibrationError",
    "LensValueError",
]


class TelemetryError(SensorError):
    """Root of every error raised by the telemetry family."""


class FreedDecodeError(TelemetryError, DecodeError):
    """Bytes that are not a valid FreeD D1 packet; ``reason`` names the check that failed."""

    reason = "malformed"


class FreedLengthError(FreedDecodeError):
    """A datagram whose length is not the 29 bytes of a D1 packet."""

    reason = "length"

    def __init__(self, received_bytes: int, expected_bytes: int) -> None:
        self.received_bytes, self.expected_bytes = received_bytes, expected_bytes
        super().__init__(
            f"FreeD D1 packet must be exactly {expected_bytes} bytes, received {received_bytes} bytes "
            f"(one datagram carries one packet)"
        )


class FreedMessageTypeError(FreedDecodeError):
    """A 29-byte datagram whose first byte is not the D1 message type."""

    reason = "type"

    def __init__(self, message_type: int, expected_type: int) -> None:
        self.message_type, self.expected_type = message_type, expected_type
        super().__init__(
            f"not a FreeD D1 packet: message type 0x{message_type:02X}, expected 0x{expected_type:02X}"
        )


class FreedChecksumError(FreedDecodeError):
    """A D1 packet whose checksum byte disagrees with its contents (corrupted in transit)."""

    reason = "checksum"

    def __init__(self, received: int, computed: int) -> None:
        self.received, self.computed = received, computed
        super().__init__(
            f"FreeD D1 checksum mismatch: packet says 0x{received:02X}, contents give 0x{computed:02X}"
        )


class FreedFieldRangeError(TelemetryError, ValueError):
    """A value that a D1 field cannot carry (out of its range, not finite, or not an integer)."""

    def __init__(self, field: str, value: object, low: float, high: float, unit: str = "") -> None:
        self.field, self.value, self.low, self.high = field, value, low, high
        unit_text = f" {unit}" if unit else ""
        super().__init__(
            f"FreeD D1 field {field!r} cannot carry {value!r}{unit_text}; "
            f"it holds {low:.10g} .. {high:.10g}{unit_text}"
        )


class LensCalibrationError(TelemetryError, ValueError):
    """A lens calibration table that cannot be used for the requested mapping."""


class LensValueError(TelemetryError, ValueError):
    """A lens value (focal length, focus distance) that cannot be mapped to encoder counts."""
