"""SMPTE ST 12-1 arithmetic, refereed by an enumeration of every label of the day and by the
classic drop-frame formula, both written here independently of ``sensors.timecode.smpte``."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.errors import SensorError
from sensors.timecode import (
    DropFrameSeparatorError,
    DroppedLabelError,
    TimecodeError,
    TimecodeParseError,
    TimecodeRangeError,
    TimecodeSyntaxError,
    add_frames,
    frames_per_day,
    frames_to_ns,
    frames_to_timecode,
    parse_timecode,
    seconds_to_frames,
    timecode_to_frames,
    timecode_to_ns,
    timecode_to_seconds,
)
from sensors.vocabulary import FrameRate, Timecode

RATES = list(FrameRate)
DF = FrameRate.FPS_29_97_DF
DF60 = FrameRate.FPS_59_94_DF


def tc(text: str, rate: FrameRate) -> Timecode:
    return parse_timecode(text, rate)


# -- referees -----------------------------------------------------------------------------------


def label_table(rate: FrameRate) -> np.ndarray:
    """Every label of the day in order, (N, 4) of h, m, s, f: all digit combinations, the dropped
    ones removed. Row i is frame count i."""
    n = rate.nominal_fps
    h, m, s, f = np.meshgrid(np.arange(24), np.arange(60), np.arange(60), np.arange(n), indexing="ij")
    rows = np.stack([h.ravel(), m.ravel(), s.ravel(), f.ravel()], axis=1).astype(np.int16)
    if rate.drop_frame:
        dropped = 2 if n == 30 else 4
        gone = (rows[:, 2] == 0) & (rows[:, 1] % 10 != 0) & (rows[:, 3] < dropped)
        rows = rows[~gone]
    return rows


def classic_df_label(frame_number: int, nominal: int) -> tuple:
    """The classic drop-frame conversion, e.g. at 29.97: ``n + 18*D + 2*((M - 2) // 1798)``."""
    drop = 2 if nominal == 30 else 4
    per_ten = nominal * 600 - 9 * drop  # 17982 at 29.97
    per_minute = nominal * 60 - drop  # 1798 at 29.97
    D, M = divmod(frame_number, per_ten)
    if M > drop:
        frame_number += 9 * drop * D + drop * ((M - drop) // per_minute)
    else:
        frame_number += 9 * drop * D
    return (
        frame_number // (nominal * 3600),
        (frame_number // (nominal * 60)) % 60,
        (frame_number // nominal) % 60,
        frame_number % nominal,
    )


def classic_df_frames(h: int, m: int, s: int, f: int, nominal: int) -> int:
    drop = 2 if nominal == 30 else 4
    total_minutes = 60 * h + m
    return nominal * 3600 * h + nominal * 60 * m + nominal * s + f - drop * (total_minutes - total_minutes // 10)


# -- known values -------------------------------------------------------------------------------


def test_drop_frame_known_values() -> None:
    assert str(frames_to_timecode(1800, DF)) == "00:01:00;02"
    assert str(frames_to_timecode(17982, DF)) == "00:10:00;00"
    assert str(frames_to_timecode(1799, DF)) == "00:00:59;29"
    assert str(add_frames(tc("00:00:59;29", DF), 1)) == "00:01:00;02"
    assert str(add_frames(tc("00:01:00;02", DF), -1)) == "00:00:59;29"
    assert str(add_frames(tc("00:09:59;29", DF), 1)) == "00:10:00;00"  # minute 10 keeps 00 and 01
    assert str(add_frames(tc("23:59:59;29", DF), 1)) == "00:00:00;00"
    assert timecode_to_frames(tc("01:00:00;00", DF)) == 107892
    assert frames_per_day(DF) == 2_589_408
    assert str(frames_to_timecode(3600, DF60)) == "00:01:00;04"
    assert str(add_frames(tc("00:00:59;59", DF60), 1)) == "00:01:00;04"
    assert frames_per_day(DF60) == 2 * 2_589_408


def test_23_976_counts_24_labels_per_second_and_runs_slow() -> None:
    r = FrameRate.FPS_23_976
    assert str(frames_to_timecode(24, r)) == "00:00:01:00"
    one_hour = tc("01:00:00:00", r)
    assert timecode_to_frames(one_hour) == 86400
    assert timecode_to_seconds(one_hour) == Fraction(36036, 10)  # 3603.6 s of real time
    assert frames_per_day(r) == 24 * 86400


@pytest.mark.parametrize("rate", RATES, ids=lambda r: r.label)
def test_midnight_rollover(rate: FrameRate) -> None:
    last = frames_to_timecode(frames_per_day(rate) - 1, rate)
    assert (last.hours, last.minutes, last.seconds, last.frames) == (23, 59, 59, rate.nominal_fps - 1)
    zero = Timecode(0, 0, 0, 0, rate)
    assert add_frames(last, 1) == zero
    assert add_frames(zero, -1) == last
    assert frames_to_timecode(-1, rate) == last
    assert frames_to_timecode(frames_per_day(rate), rate) == zero
    assert add_frames(zero, 3 * frames_per_day(rate) + 5) == frames_to_timecode(5, rate)


@pytest.mark.parametrize("rate", RATES, ids=lambda r: r.label)
def test_every_rate_against_enumerated_labels(rate: FrameRate) -> None:
    table = label_table(rate)
    assert table.shape[0] == frames_per_day(rate)
    rng = np.random.default_rng(12)
    # Both ends of the day, every minute boundary of the first eleven minutes, and random frames.
    minute_edges = [int(i) for k in range(12) for i in np.flatnonzero((table[:, 1] == k) & (table[:, 0] == 0))[:6]]
    picks = list(range(0, 200)) + list(range(table.shape[0] - 200, table.shape[0])) + minute_edges
    picks += [int(i) for i in rng.integers(0, table.shape[0], 1500)]
    for i in picks:
        h, m, s, f = (int(v) for v in table[i])
        label = frames_to_timecode(i, rate)
        assert (label.hours, label.minutes, label.seconds, label.frames) == (h, m, s, f), i
        assert timecode_to_frames(Timecode(h, m, s, f, rate)) == i


# -- properties ---------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(RATES), st.data())
def test_roundtrip_over_the_whole_day(rate: FrameRate, data: st.DataObject) -> None:
    n = data.draw(st.integers(0, frames_per_day(rate) - 1))
    label = frames_to_timecode(n, rate)
    assert timecode_to_frames(label) == n
    assert parse_timecode(str(label), rate) == label
    assert add_frames(label, 1) == frames_to_timecode(n + 1, rate)
    assert seconds_to_frames(timecode_to_seconds(label), rate) == n


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([DF, DF60]), st.data())
def test_drop_frame_against_the_classic_formula(rate: FrameRate, data: st.DataObject) -> None:
    n = data.draw(st.integers(0, frames_per_day(rate) - 1))
    label = frames_to_timecode(n, rate)
    assert (label.hours, label.minutes, label.seconds, label.frames) == classic_df_label(n, rate.nominal_fps)
    assert timecode_to_frames(label) == classic_df_frames(label.hours, label.minutes, label.seconds, label.frames, rate.nominal_fps)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(RATES), st.integers(-(10**9), 10**9), st.integers(-(10**7), 10**7))
def test_add_frames_is_modular_addition(rate: FrameRate, a: int, n: int) -> None:
    start = frames_to_timecode(a, rate)
    assert timecode_to_frames(add_frames(start, n)) == (a + n) % frames_per_day(rate)


# -- seconds and nanoseconds --------------------------------------------------------------------


def test_seconds_are_exact() -> None:
    assert timecode_to_seconds(tc("00:10:00;00", DF)) == Fraction(17982 * 1001, 30000)  # 599.9994 s
    assert timecode_to_seconds(tc("00:00:01:00", FrameRate.FPS_25)) == 1
    assert seconds_to_frames(Fraction(1001, 30000), FrameRate.FPS_29_97_NDF) == 1
    assert seconds_to_frames(Fraction(1001, 30000) - Fraction(1, 10**12), FrameRate.FPS_29_97_NDF) == 0
    assert seconds_to_frames(1.5, FrameRate.FPS_24) == 36
    assert seconds_to_frames(-0.01, FrameRate.FPS_24) == -1  # floor, not truncation
    assert frames_to_ns(1, FrameRate.FPS_24) == 41_666_667
    assert frames_to_ns(3, FrameRate.FPS_29_97_NDF) == 100_100_000
    assert timecode_to_ns(tc("01:00:00:00", FrameRate.FPS_23_976)) == 3_603_600_000_000


def test_frame_counts_must_be_integers() -> None:
    with pytest.raises(TypeError):
        frames_to_timecode(1.0, FrameRate.FPS_24)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        add_frames(tc("00:00:00:00", FrameRate.FPS_24), 0.5)  # type: ignore[arg-type]
    assert frames_to_timecode(np.int64(25), FrameRate.FPS_25) == tc("00:00:01:00", FrameRate.FPS_25)


# -- parsing ------------------------------------------------------------------------------------


def test_parse_separators() -> None:
    assert tc("01:02:03:04", FrameRate.FPS_25) == Timecode(1, 2, 3, 4, FrameRate.FPS_25)
    assert tc("01:02:03.04", FrameRate.FPS_25) == Timecode(1, 2, 3, 4, FrameRate.FPS_25)
    assert tc("01:02:03;04", DF) == Timecode(1, 2, 3, 4, DF)
    assert tc("01:02:03:04", DF) == Timecode(1, 2, 3, 4, DF)
    assert tc(" 1:02:03:04 ", "24") == Timecode(1, 2, 3, 4, FrameRate.FPS_24)


def test_parse_errors_say_why() -> None:
    with pytest.raises(DropFrameSeparatorError, match="does not drop frames"):
        tc("00:00:10;00", FrameRate.FPS_29_97_NDF)
    with pytest.raises(DroppedLabelError, match="dropped at the start of minute 1"):
        tc("00:01:00;01", DF)
    with pytest.raises(DroppedLabelError, match="00..03"):
        tc("00:21:00;03", DF60)
    assert tc("00:20:00;00", DF) == Timecode(0, 20, 0, 0, DF)
    with pytest.raises(TimecodeRangeError, match="frames 25"):
        tc("00:00:00:25", FrameRate.FPS_25)
    with pytest.raises(TimecodeRangeError, match="hours 24"):
        tc("24:00:00:00", FrameRate.FPS_25)
    with pytest.raises(TimecodeSyntaxError, match="HH:MM:SS:FF"):
        tc("1:2:3:4", FrameRate.FPS_25)
    err = pytest.raises(TimecodeParseError, tc, "banana", FrameRate.FPS_24).value
    assert isinstance(err, TimecodeError) and isinstance(err, SensorError) and isinstance(err, ValueError)
    assert err.text == "banana" and err.rate is FrameRate.FPS_24


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789:;.,- x", max_size=16), st.sampled_from(RATES))
def test_parse_never_raises_anything_else(text: str, rate: FrameRate) -> None:
    try:
        label = parse_timecode(text, rate)
    except TimecodeParseError:
        return
    assert parse_timecode(str(label), rate) == label
