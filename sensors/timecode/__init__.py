"""Timecode family: exact SMPTE ST 12-1 arithmetic, the SMPTE 12M LTC frame codec, a simulated LTC
generator on a drifting clock, and the streaming LTC audio decoder and driver.

- :mod:`~sensors.timecode.smpte` frames <-> labels <-> seconds at every project rate (drop-frame exact);
- :mod:`~sensors.timecode.ltc` the 80-bit LTC frame <-> timecode, user bits and flags;
- :mod:`~sensors.timecode.sim` LTC audio (uint8 mono) of the stage's timecode generator;
- :mod:`~sensors.timecode.driver` biphase-mark decoding of LTC audio into ``TimecodeSample``.

Imports numpy only.
"""

from __future__ import annotations

from sensors.timecode.driver import LtcDecoder, TimecodeDriver
from sensors.timecode.errors import (
    DropFrameSeparatorError,
    DroppedLabelError,
    LtcBcdError,
    LtcError,
    LtcFrameError,
    LtcLabelError,
    LtcRateError,
    LtcSyncError,
    TimecodeError,
    TimecodeParseError,
    TimecodeRangeError,
    TimecodeSyntaxError,
)
from sensors.timecode.ltc import LTC_FRAME_BITS, LTC_SYNC_WORD, decode_ltc_bits, decode_ltc_frame, encode_ltc_bits
from sensors.timecode.sim import LtcSim, ltc_audio_for_frames, render_ltc_samples
from sensors.timecode.smpte import (
    add_frames,
    dropped_per_minute,
    frames_per_day,
    frames_to_ns,
    frames_to_timecode,
    parse_timecode,
    seconds_to_frames,
    timecode_to_frames,
    timecode_to_ns,
    timecode_to_seconds,
)
from sensors.timecode.types import LtcFrame

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
    "LtcFrame",
    "LTC_FRAME_BITS",
    "LTC_SYNC_WORD",
    "encode_ltc_bits",
    "decode_ltc_bits",
    "decode_ltc_frame",
    "timecode_to_frames",
    "frames_to_timecode",
    "parse_timecode",
    "add_frames",
    "timecode_to_seconds",
    "seconds_to_frames",
    "frames_per_day",
    "dropped_per_minute",
    "frames_to_ns",
    "timecode_to_ns",
    "LtcSim",
    "ltc_audio_for_frames",
    "render_ltc_samples",
    "LtcDecoder",
    "TimecodeDriver",
]
