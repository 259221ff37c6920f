"""The 80-bit LTC frame: layout, roundtrips, bad frames, and libltc's encoder as the referee."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.errors import DecodeError
from sensors.timecode import (
    LTC_SYNC_WORD,
    LtcBcdError,
    LtcFrame,
    LtcFrameError,
    LtcLabelError,
    LtcSyncError,
    LtcWrongRateError,
    add_frames,
    decode_ltc_bits,
    decode_ltc_frame,
    encode_ltc_bits,
    frames_per_day,
    frames_to_timecode,
    ltc_frames_per_label,
    ltc_rate,
    parse_timecode,
)
from sensors.vocabulary import FrameRate, Timecode
from tests.sensors.timecode import _libltc

LTC_RATES = [r for r in FrameRate if r.nominal_fps <= 30]


def field(bits: np.ndarray, first: int, width: int) -> int:
    return sum(int(bits[first + i]) << i for i in range(width))


def labels(rate: FrameRate) -> st.SearchStrategy:
    return st.integers(0, frames_per_day(rate) - 1).map(lambda n: frames_to_timecode(n, rate))


def test_layout_at_30_family() -> None:
    rate = FrameRate.FPS_29_97_DF
    bits = encode_ltc_bits(parse_timecode("12:34:56;17", rate), user_bits=0x87654321, colour_frame=True, binary_group_flags=0b101)
    assert [field(bits, a, w) for a, w in ((0, 4), (8, 2), (16, 4), (24, 3), (32, 4), (40, 3), (48, 4), (56, 2))] == [7, 1, 6, 5, 4, 3, 2, 1]
    assert [field(bits, a, 4) for a in (4, 12, 20, 28, 36, 44, 52, 60)] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert bits[10] == 1 and bits[11] == 1  # drop frame, colour frame
    assert (bits[43], bits[58], bits[59]) == (1, 0, 1)  # BGF0, BGF1, BGF2
    assert list(bits[64:]) == [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1]
    assert int(bits.sum()) % 2 == 0


def test_layout_at_25() -> None:
    rate = FrameRate.FPS_25
    tc = parse_timecode("00:00:00:00", rate)
    for flags, position in ((0b001, 27), (0b010, 58), (0b100, 43)):
        bits = encode_ltc_bits(tc, binary_group_flags=flags)
        others = [p for p in (27, 43, 58) if p != position]
        assert bits[position] == 1 and not bits[others].any()
        assert decode_ltc_frame(bits, rate).binary_group_flags == flags
    # The polarity bit is 59 at 25 fps: set when the rest has an odd number of ones.
    one_flag = encode_ltc_bits(tc, binary_group_flags=0b001)
    assert one_flag[59] == (int(one_flag.sum() - one_flag[59]) % 2)
    assert bits[10] == 0


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(LTC_RATES).flatmap(lambda r: labels(r)), st.integers(0, 2**32 - 1), st.booleans(), st.integers(0, 7))
def test_roundtrip(tc: Timecode, user_bits: int, colour: bool, flags: int) -> None:
    bits = encode_ltc_bits(tc, user_bits, colour_frame=colour, binary_group_flags=flags)
    assert bits.shape == (80,) and bits.dtype == np.uint8
    assert int(bits.sum()) % 2 == 0  # even ones and even zeros: every frame starts on one polarity
    assert np.array_equal(bits[64:], LTC_SYNC_WORD)
    assert decode_ltc_frame(bits, tc.rate) == LtcFrame(tc, user_bits, colour, flags)
    assert decode_ltc_bits(bits, tc.rate) == (tc, user_bits)


@pytest.mark.parametrize(
    "rate", [FrameRate.FPS_24, FrameRate.FPS_25, FrameRate.FPS_29_97_DF, FrameRate.FPS_30, FrameRate.FPS_23_976], ids=lambda r: r.label
)
def test_bits_match_libltc_encoder(rate: FrameRate) -> None:
    start = frames_to_timecode(frames_per_day(rate) - 40, rate)  # runs through midnight
    if rate.drop_frame:
        start = parse_timecode("00:00:59;20", rate)  # and through a dropped minute
    _, their_frames = _libltc.libltc_encode(start, 60, 48000)
    for k, theirs in enumerate(their_frames):
        tc = add_frames(start, k)
        assert np.array_equal(encode_ltc_bits(tc), theirs), (k, str(tc))
        assert decode_ltc_bits(theirs, rate) == (tc, 0)


def bits_of(tc: Timecode) -> np.ndarray:
    return encode_ltc_bits(tc).copy()


def test_bad_frames_raise_narrow_errors() -> None:
    rate = FrameRate.FPS_30
    good = bits_of(parse_timecode("10:20:30:15", rate))
    no_sync = good.copy()
    no_sync[70] ^= 1
    with pytest.raises(LtcSyncError, match="sync word"):
        decode_ltc_bits(no_sync, rate)
    bad_digit = good.copy()
    bad_digit[0:4] = [0, 1, 0, 1]  # frame units 10
    with pytest.raises(LtcBcdError, match="frame units digit is 10"):
        decode_ltc_bits(bad_digit, rate)
    bad_hours = good.copy()
    bad_hours[56:58] = [1, 1]  # hours tens 3
    with pytest.raises(LtcBcdError, match="hours tens"):
        decode_ltc_bits(bad_hours, rate)
    hour_25 = bits_of(parse_timecode("20:00:00:00", rate))
    hour_25[48:52] = [1, 0, 1, 0]  # 25:00:00:00
    with pytest.raises(LtcLabelError, match="out of range"):
        decode_ltc_bits(hour_25, rate)
    frame_29_at_25 = bits_of(parse_timecode("00:00:00:29", rate))
    with pytest.raises(LtcLabelError):
        decode_ltc_bits(frame_29_at_25, FrameRate.FPS_25)
    with pytest.raises(LtcLabelError, match="drop-frame flag is clear"):
        decode_ltc_bits(good, FrameRate.FPS_29_97_DF)
    dropped = bits_of(parse_timecode("00:01:00:00", FrameRate.FPS_29_97_NDF))
    dropped[10] = 1
    with pytest.raises(LtcLabelError, match="does not exist"):
        decode_ltc_bits(dropped, FrameRate.FPS_29_97_DF)
    with pytest.raises(LtcFrameError, match="80 bits"):
        decode_ltc_bits(good[:79], rate)
    with pytest.raises(LtcFrameError, match="0 or 1"):
        decode_ltc_bits(good * 2, rate)
    assert issubclass(LtcFrameError, DecodeError)


@pytest.mark.parametrize("rate", [r for r in FrameRate if r.nominal_fps > 30], ids=lambda r: r.label)
def test_high_rates_ride_half_rate_ltc(rate: FrameRate) -> None:
    half = ltc_rate(rate)
    assert half.fps == rate.fps / 2 and half.drop_frame == rate.drop_frame and ltc_frames_per_label(rate) == 2
    tc = parse_timecode("00:00:59;58", rate) if rate.drop_frame else add_frames(Timecode(0, 0, 0, 0, rate), -2)
    bits = encode_ltc_bits(tc, user_bits=0x12345678)
    # On the wire: the pair's label at the half rate, in the half rate's layout.
    assert field(bits, 0, 4) + 10 * field(bits, 8, 2) == tc.frames // 2
    assert np.array_equal(bits, encode_ltc_bits(Timecode(tc.hours, tc.minutes, tc.seconds, tc.frames // 2, half), 0x12345678))
    assert decode_ltc_frame(bits, rate).timecode == tc
    with pytest.raises(LtcLabelError, match="second frame"):
        encode_ltc_bits(add_frames(tc, 1))
    # A frame number the half rate never reaches belongs to another rate.
    too_high = encode_ltc_bits(Timecode(0, 0, 0, 0, half))
    too_high[8:10] = [1, 1]  # frame tens 3: frame 30, two more ones keep the count even
    with pytest.raises(LtcWrongRateError):
        decode_ltc_frame(too_high, rate)


def test_user_bits_must_fit() -> None:
    with pytest.raises(ValueError, match="user bits"):
        encode_ltc_bits(Timecode(0, 0, 0, 0, FrameRate.FPS_24), user_bits=1 << 32)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 1), min_size=80, max_size=80), st.booleans(), st.sampled_from(LTC_RATES))
def test_random_bits_decode_or_raise_a_frame_error(bits: list, with_sync: bool, rate: FrameRate) -> None:
    arr = np.array(bits, dtype=np.uint8)
    if with_sync:
        arr[64:] = LTC_SYNC_WORD
    try:
        frame = decode_ltc_frame(arr, rate)
    except LtcFrameError:
        return
    # Whatever decodes re-encodes to the same bits, the polarity bit aside.
    again = encode_ltc_bits(frame.timecode, frame.user_bits, colour_frame=frame.colour_frame, binary_group_flags=frame.binary_group_flags)
    polarity = 59 if rate.nominal_fps == 25 else 27
    keep = np.arange(80) != polarity
    assert np.array_equal(again[keep], arr[keep])
