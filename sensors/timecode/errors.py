"""Errors of the timecode family: one root, narrow subclasses carrying the values involved.

``TimecodeError`` is the root (a :class:`sensors.errors.SensorError`). Text that is not a
timecode raises a :class:`TimecodeParseError` (also a ``ValueError``); an 80-bit LTC frame that
cannot be trusted raises a :class:`LtcFrameError` (also a :class:`sensors.errors.DecodeError`, so
drivers count it as a drop like any other bad packet).
"""

from __future__ import annotations

from typing import Optional

from sensors.errors import DecodeError, SensorError
from sensors.vocabulary import FrameRate

__all__ = [
    "TimecodeError",
    "TimecodeParseError",
    "TimecodeSyntaxError",
    "TimecodeRangeError",
    "DropFrameSeparatorError",
    "DroppedLabelError",
    "LtcError",
    "LtcRateError",
    "LtcFrameError",
    "LtcSyncError",
    "LtcBcdError",
    "LtcLabelError",
    "LtcWrongRateError",
    "TimecodeInputError",
    "WavFormatError",
    "RtpPacketError",
]


class TimecodeError(SensorError):
    """Root of every error of :mod:`sensors.timecode`."""


class TimecodeParseError(TimecodeError, ValueError):
    """Text that is not a valid timecode label at the given rate; says which text and why."""

    def __init__(self, text: str, rate: FrameRate, reason: str) -> None:
        self.text, self.rate, self.reason = text, rate, reason
        super().__init__(f"timecode {text!r} at {rate.label} fps: {reason}")


class TimecodeSyntaxError(TimecodeParseError):
    """The text is not shaped like ``HH:MM:SS:FF`` (or ``;`` / ``.`` before the frames)."""


class TimecodeRangeError(TimecodeParseError):
    """A field is out of range (hours >= 24, minutes or seconds >= 60, frames >= the rate's count)."""


class DropFrameSeparatorError(TimecodeParseError):
    """A ``;`` (the drop-frame mark) on a timecode of a rate that does not drop frames."""


class DroppedLabelError(TimecodeParseError):
    """A drop-frame label that never occurs (e.g. 00:01:00;00 at 29.97 DF)."""


class LtcError(TimecodeError):
    """Root of the LTC (SMPTE 12M linear timecode) codec's errors."""


class LtcRateError(LtcError, ValueError):
    """A frame rate that LTC cannot carry, neither one label per frame nor at half rate."""

    def __init__(self, rate: FrameRate) -> None:
        self.rate = rate
        super().__init__(
            f"LTC carries one label per frame up to 30 fps and frame pairs at half rate above; "
            f"{rate.label} fps has no LTC rate"
        )


class LtcFrameError(LtcError, DecodeError):
    """An 80-bit LTC frame that cannot be decoded into a trustworthy timecode."""


class LtcSyncError(LtcFrameError):
    """Bits 64..79 are not the LTC sync word ``0011 1111 1111 1101``."""

    def __init__(self, found: str) -> None:
        self.found = found
        super().__init__(f"LTC sync word missing: bits 64..79 are {found}, expected 0011111111111101")


class LtcBcdError(LtcFrameError):
    """A BCD digit of the frame that is not a decimal digit or exceeds its field's range."""

    def __init__(self, field: str, value: int, limit: int) -> None:
        self.field, self.value, self.limit = field, value, limit
        super().__init__(f"LTC {field} digit is {value}, allowed 0..{limit}")


class LtcLabelError(LtcFrameError):
    """Valid digits that still form no label at the rate (dropped label, frame >= fps, DF flag wrong)."""

    def __init__(self, reason: str, label: Optional[str] = None) -> None:
        self.reason, self.label = reason, label
        super().__init__(f"LTC frame {label or ''} is impossible: {reason}".replace("  ", " "))


class LtcWrongRateError(LtcLabelError):
    """A label that belongs to another rate: a frame number the LTC rate never reaches, or a
    drop-frame flag that disagrees with the project rate."""


class TimecodeInputError(TimecodeError):
    """A timecode input (RTP socket, sound device, WAV file) that cannot be opened; says which."""

    def __init__(self, kind: str, where: str, reason: str) -> None:
        self.kind, self.where, self.reason = kind, where, reason
        super().__init__(f"timecode input {kind} {where}: {reason}")


class WavFormatError(TimecodeError, DecodeError):
    """A WAV file that is not RIFF/WAVE PCM (or float) audio Onset can read; says what was found."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"WAV file {path}: {reason}")


class RtpPacketError(TimecodeError, DecodeError):
    """A datagram that is not an RTP audio packet of the configured format; ``reason`` is the drop
    reason counted (``rtp_short``, ``rtp_version``, ``rtp_payload_type``, ``rtp_payload``)."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason, self.detail = reason, detail
        super().__init__(f"RTP packet dropped ({reason}): {detail}")
