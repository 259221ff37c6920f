"""SMPTE 12M (ST 12-1) linear timecode: the 80-bit frame <-> timecode, user bits and flags.

Bit 0 is sent first; every BCD digit and user group is sent least-significant bit first.

=======  ==============================  =====================================
bits     24 / 30-frame family            25-frame family (25 fps)
=======  ==============================  =====================================
0-3      frame units (BCD)               same
4-7      user group 1                    same
8-9      frame tens (BCD, 0..2)          same
10       drop-frame flag                 same (always 0 at 25)
11       colour-frame flag               same
12-15    user group 2                    same
16-19    seconds units                   same
20-23    user group 3                    same
24-26    seconds tens (0..5)             same
27       polarity correction             BGF0
28-31    user group 4                    same
32-35    minutes units                   same
36-39    user group 5                    same
40-42    minutes tens (0..5)             same
43       BGF0                            BGF2
44-47    user group 6                    same
48-51    hours units                     same
52-55    user group 7                    same
56-57    hours tens (0..2)               same
58       BGF1                            BGF1
59       BGF2                            polarity correction
60-63    user group 8                    same
64-79    sync word 0011 1111 1111 1101   same
=======  ==============================  =====================================

The polarity-correction (biphase mark phase correction) bit is set so the whole 80-bit word
holds an even number of ones, hence of zeros: biphase mark makes one transition per bit plus one
per ``1``, so every frame then starts on the same signal polarity. This is the layout libltc
uses (``LTCFrame`` and ``ltc_frame_set_parity``). The 23.976 and 29.97 rates use the 30/24
family layout; 29.97 DF sets bit 10.

High-rate projects (48, 50, 59.94 DF/NDF, 60 fps): the frame-tens field has two bits, so LTC runs at
half the project rate (24, 25, 29.97 DF/NDF, 30; :func:`ltc_rate`) and each LTC frame labels a pair
of video frames, as SMPTE ST 12-1 and cameras do. The LTC frame carries the pair's label at the half
rate; the project label is the first frame of the pair: project frame number = 2 x LTC frame number
(drop-frame stays exact: 29.97 DF drops LTC frames 0-1, i.e. project frames 0-3 at 59.94 DF).
:func:`encode_ltc_bits` and :func:`decode_ltc_frame` take and return labels at the project rate;
encoding the second frame of a pair raises :class:`LtcLabelError` (no LTC frame starts there).
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from sensors.timecode.errors import (
    LtcBcdError,
    LtcFrameError,
    LtcLabelError,
    LtcRateError,
    LtcSyncError,
    LtcWrongRateError,
)
from sensors.timecode.types import LtcFrame
from sensors.vocabulary import FrameRate, Timecode

__all__ = [
    "LTC_FRAME_BITS",
    "LTC_SYNC_WORD",
    "encode_ltc_bits",
    "decode_ltc_bits",
    "decode_ltc_frame",
    "ltc_polarity_bit",
    "check_ltc_rate",
    "ltc_rate",
    "ltc_frames_per_label",
    "to_ltc_label",
    "from_ltc_label",
    "parity_ok",
]

LTC_FRAME_BITS = 80
#: Bits 64..79 in transmission order.
LTC_SYNC_WORD = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1], dtype=np.uint8)

# (name, first bit, width, largest digit allowed)
_DIGITS = (
    ("frame units", 0, 4, 9),
    ("frame tens", 8, 2, 3),
    ("seconds units", 16, 4, 9),
    ("seconds tens", 24, 3, 5),
    ("minutes units", 32, 4, 9),
    ("minutes tens", 40, 3, 5),
    ("hours units", 48, 4, 9),
    ("hours tens", 56, 2, 2),
)
_USER_GROUP_BITS = (4, 12, 20, 28, 36, 44, 52, 60)
_DROP_FRAME_BIT = 10
_COLOUR_FRAME_BIT = 11
# Binary group flags BGF0, BGF1, BGF2 and the polarity bit, by family.
_BGF_30 = (43, 58, 59)
_BGF_25 = (27, 58, 43)
_POLARITY_30 = 27
_POLARITY_25 = 59


_HALF_RATE = {
    FrameRate.FPS_48: FrameRate.FPS_24,
    FrameRate.FPS_50: FrameRate.FPS_25,
    FrameRate.FPS_59_94_NDF: FrameRate.FPS_29_97_NDF,
    FrameRate.FPS_59_94_DF: FrameRate.FPS_29_97_DF,
    FrameRate.FPS_60: FrameRate.FPS_30,
}


def ltc_rate(rate: FrameRate) -> FrameRate:
    """The rate LTC runs at for project rate ``rate``: the rate itself up to 30 fps, half above."""
    if rate.nominal_fps <= 30:
        return rate
    half = _HALF_RATE.get(rate)
    if half is None:  # pragma: no cover - every FrameRate above 30 has a half rate
        raise LtcRateError(rate)
    return half


def ltc_frames_per_label(rate: FrameRate) -> int:
    """Project frames labelled by one LTC frame: 1 up to 30 fps, 2 (a frame pair) above."""
    return 1 if rate.nominal_fps <= 30 else 2


def check_ltc_rate(rate: FrameRate) -> FrameRate:
    """The LTC rate carrying project rate ``rate`` (:func:`ltc_rate`); :class:`LtcRateError` if none."""
    return ltc_rate(rate)


def to_ltc_label(tc: Timecode) -> Timecode:
    """The label the LTC frame carries for project label ``tc`` (at the LTC rate).

    Above 30 fps ``tc`` must be the first frame of a pair (an even frame number); the second
    frame of a pair has no LTC frame of its own and raises :class:`LtcLabelError`.
    """
    n = ltc_frames_per_label(tc.rate)
    if n == 1:
        return tc
    if tc.frames % n:
        raise LtcLabelError(f"at {tc.rate.label} fps LTC labels frame pairs; {tc} is a pair's second frame", str(tc))
    return Timecode(tc.hours, tc.minutes, tc.seconds, tc.frames // n, ltc_rate(tc.rate))


def from_ltc_label(ltc_tc: Timecode, rate: FrameRate) -> Timecode:
    """Project label (at ``rate``) of the first frame labelled by LTC label ``ltc_tc``."""
    n = ltc_frames_per_label(rate)
    return Timecode(ltc_tc.hours, ltc_tc.minutes, ltc_tc.seconds, ltc_tc.frames * n, rate)


def ltc_polarity_bit(rate: FrameRate) -> int:
    """Index of the polarity-correction bit: 59 in the 25 fps family (25, 50), 27 in the 24/30 family."""
    return _POLARITY_25 if ltc_rate(rate).nominal_fps == 25 else _POLARITY_30


def parity_ok(bits: np.ndarray) -> bool:
    """True when the 80 bits hold an even number of ones (the polarity-correction bit is set right)."""
    return int(np.asarray(bits).sum()) % 2 == 0


def _flag_bits(rate: FrameRate) -> Tuple[int, int, int]:
    return _BGF_25 if ltc_rate(rate).nominal_fps == 25 else _BGF_30


def _put(bits: np.ndarray, first: int, width: int, value: int) -> None:
    for i in range(width):
        bits[first + i] = (value >> i) & 1


def _get(bits: np.ndarray, first: int, width: int) -> int:
    return sum(int(bits[first + i]) << i for i in range(width))


def encode_ltc_bits(
    tc: Timecode, user_bits: int = 0, *, colour_frame: bool = False, binary_group_flags: int = 0
) -> np.ndarray:
    """The 80 bits (uint8 0/1, transmission order) of the LTC frame carrying ``tc``.

    ``user_bits`` is the 32-bit value of the eight user groups (group 1 in the lowest nibble);
    ``binary_group_flags`` packs BGF0..BGF2 in its bits 0..2. Above 30 fps ``tc`` is the first
    frame of a pair and the bits carry its LTC label (see the module docstring).
    """
    project_rate = tc.rate
    tc = to_ltc_label(tc)
    if not 0 <= int(user_bits) < 1 << 32:
        raise ValueError(f"user_bits {user_bits!r} does not fit the 32 LTC user bits")
    if not 0 <= int(binary_group_flags) < 8:
        raise ValueError(f"binary_group_flags {binary_group_flags!r} does not fit BGF0..BGF2")
    bits = np.zeros(LTC_FRAME_BITS, dtype=np.uint8)
    values = (
        tc.frames % 10, tc.frames // 10, tc.seconds % 10, tc.seconds // 10,
        tc.minutes % 10, tc.minutes // 10, tc.hours % 10, tc.hours // 10,
    )
    for (_, first, width, _), value in zip(_DIGITS, values):
        _put(bits, first, width, value)
    for group, first in enumerate(_USER_GROUP_BITS):
        _put(bits, first, 4, (int(user_bits) >> (4 * group)) & 0xF)
    bits[_DROP_FRAME_BIT] = 1 if tc.rate.drop_frame else 0
    bits[_COLOUR_FRAME_BIT] = 1 if colour_frame else 0
    for flag, position in enumerate(_flag_bits(project_rate)):
        bits[position] = (int(binary_group_flags) >> flag) & 1
    bits[64:80] = LTC_SYNC_WORD
    polarity = ltc_polarity_bit(project_rate)
    bits[polarity] = 0
    bits[polarity] = int(bits.sum()) & 1  # make the count of ones (and of zeros) even
    return bits


def decode_ltc_frame(bits: np.ndarray, rate: FrameRate) -> LtcFrame:
    """Decode 80 LTC bits (transmission order) for project rate ``rate``; raise a
    :class:`LtcFrameError` subclass on a wrong shape, a missing sync word, a non-decimal digit or
    an impossible label (:class:`LtcWrongRateError` when the frame number or the drop-frame flag
    does not fit the rate). The returned label is at the project rate (a pair's first frame above
    30 fps). The polarity bit is not checked here (:func:`parity_ok` does that): generators that
    leave it clear exist.
    """
    carrier = ltc_rate(rate)
    arr = np.asarray(bits)
    if arr.shape != (LTC_FRAME_BITS,):
        raise LtcFrameError(f"an LTC frame is {LTC_FRAME_BITS} bits, got an array of shape {arr.shape}")
    if not np.all((arr == 0) | (arr == 1)):
        raise LtcFrameError("LTC bits must be 0 or 1")
    arr = arr.astype(np.uint8)
    if not np.array_equal(arr[64:80], LTC_SYNC_WORD):
        raise LtcSyncError("".join(str(int(b)) for b in arr[64:80]))
    digits = []
    for name, first, width, limit in _DIGITS:
        value = _get(arr, first, width)
        if value > limit:
            raise LtcBcdError(name, value, limit)
        digits.append(value)
    frames = digits[0] + 10 * digits[1]
    seconds = digits[2] + 10 * digits[3]
    minutes = digits[4] + 10 * digits[5]
    hours = digits[6] + 10 * digits[7]
    label = f"{hours:02d}:{minutes:02d}:{seconds:02d}{';' if arr[_DROP_FRAME_BIT] else ':'}{frames:02d}"
    if bool(arr[_DROP_FRAME_BIT]) != rate.drop_frame:
        state = "set" if arr[_DROP_FRAME_BIT] else "clear"
        raise LtcWrongRateError(f"drop-frame flag is {state} but the project rate is {rate.label}", label)
    if frames >= carrier.nominal_fps:
        raise LtcWrongRateError(
            f"frame {frames} does not exist in LTC at {carrier.label} fps (project rate {rate.label})", label
        )
    try:
        tc = from_ltc_label(Timecode(hours, minutes, seconds, frames, carrier), rate)
    except ValueError as err:
        raise LtcLabelError(str(err), label) from err
    user = sum(_get(arr, first, 4) << (4 * group) for group, first in enumerate(_USER_GROUP_BITS))
    flags = sum(int(arr[position]) << flag for flag, position in enumerate(_flag_bits(rate)))
    return LtcFrame(tc, user, bool(arr[_COLOUR_FRAME_BIT]), flags)


def decode_ltc_bits(bits: np.ndarray, rate: FrameRate) -> Tuple[Timecode, int]:
    """Decode 80 LTC bits into ``(timecode, user_bits)``; errors as :func:`decode_ltc_frame`."""
    frame = decode_ltc_frame(bits, rate)
    return frame.timecode, frame.user_bits
