"""Timecode family: exact SMPTE ST 12-1 arithmetic, the SMPTE 12M LTC frame codec, a simulated LTC
generator on a drifting clock (and its RTP sender), the streaming LTC decoder, its inputs and the driver.

- :mod:`~sensors.timecode.smpte` frames <-> labels <-> seconds at every project rate (drop-frame exact);
- :mod:`~sensors.timecode.ltc` the 80-bit LTC frame <-> timecode, user bits and flags; half rate above 30 fps;
- :mod:`~sensors.timecode.sim` LTC audio (uint8 mono) of the stage's timecode generator, RTP L16 sender;
- :mod:`~sensors.timecode.decoder` biphase-mark decoding of LTC audio, bad frames counted by reason;
- :mod:`~sensors.timecode.rtp` RTP L16 / L24 packets, reordering on the RTP timestamp, arrival clock;
- :mod:`~sensors.timecode.wav` WAV files (PCM of any width, float);
- :mod:`~sensors.timecode.inputs` the inputs: RTP socket, ``pulsesrc`` / ``alsasrc``, WAV file;
- :mod:`~sensors.timecode.driver` the driver: input -> decoder -> ``TimecodeSample`` (``LtcReading``).

Imports numpy and the config models; GStreamer is imported by the sound-device input when it starts.
"""

from __future__ import annotations

from sensors.timecode.decoder import LtcDecoder
from sensors.timecode.driver import TimecodeDriver
from sensors.timecode.errors import (
    DropFrameSeparatorError,
    DroppedLabelError,
    LtcBcdError,
    LtcError,
    LtcFrameError,
    LtcLabelError,
    LtcRateError,
    LtcSyncError,
    LtcWrongRateError,
    RtpPacketError,
    TimecodeError,
    TimecodeInputError,
    TimecodeParseError,
    TimecodeRangeError,
    TimecodeSyntaxError,
    WavFormatError,
)
from sensors.timecode.ltc import (
    LTC_FRAME_BITS,
    LTC_SYNC_WORD,
    decode_ltc_bits,
    decode_ltc_frame,
    encode_ltc_bits,
    ltc_frames_per_label,
    ltc_rate,
)
from sensors.timecode.sim import LtcRtpSender, LtcSim, ltc_audio_for_frames, render_ltc_samples
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
from sensors.timecode.types import LtcFrame, LtcReading

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
    "LtcFrame",
    "LtcReading",
    "LTC_FRAME_BITS",
    "LTC_SYNC_WORD",
    "encode_ltc_bits",
    "decode_ltc_bits",
    "decode_ltc_frame",
    "ltc_rate",
    "ltc_frames_per_label",
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
    "LtcRtpSender",
    "ltc_audio_for_frames",
    "render_ltc_samples",
    "LtcDecoder",
    "TimecodeDriver",
]
