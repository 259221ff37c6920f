"""Timecode labels from the timecode clock, and their verification, against the LTC generator."""

from __future__ import annotations

import numpy as np
import pytest

from config.models import ClockConfig, TimecodeConfig
from config.sync import SensorClockConfig
from edge.sync.labels import (
    LOCK_SAMPLES,
    LabelOutcome,
    LabelVerifier,
    TimecodeClock,
    exposure_start_ns,
    frame_period_ns,
    video_frames_per_ltc_frame,
)
from sensors.timecode.sim import LtcSim
from sensors.timecode.smpte import parse_timecode, timecode_to_frames
from sensors.vocabulary import NS_PER_S, FrameRate

EPOCH_NS = 1_767_225_600_000_000_000


def _learn(clock: TimecodeClock, ltc: LtcSim, frames: int, jitter_ns: int = 30_000, seed: int = 4) -> None:
    """Feed the clock what a decoder reports: each LTC frame's label and (a jittered) start."""
    period = int(frame_period_ns(clock.rate))
    rng = np.random.default_rng(seed)
    for j in range(frames):
        label, start_ns = ltc.timecode_at(EPOCH_NS + j * period + period // 2)
        assert clock.observe(label, start_ns + int(rng.integers(0, jitter_ns))) is None


def test_the_label_of_an_instant_is_the_timecode_frame_starting_nearest_it():
    config = TimecodeConfig(rate="29.97DF", start="00:59:59;00", clock=ClockConfig(drift_ppm=10.0, offset_ns=-3_000))
    ltc = LtcSim(config, EPOCH_NS, seed=3)
    clock = TimecodeClock("timecode", SensorClockConfig(), FrameRate.FPS_29_97_DF)
    assert clock.count_at(EPOCH_NS) is None and not clock.ready
    _learn(clock, ltc, 300)  # ten seconds, through the drop-frame minute at 01:00:00;00
    period = frame_period_ns(clock.rate)
    checked = 0
    for offset_ns in range(0, 9_000_000_000, 12_345_679):
        t = EPOCH_NS + offset_ns
        expected, start_ns = ltc.timecode_at(t + int(period / 2))
        if abs(abs(t - start_ns) - period / 2) < 100_000:
            continue  # a tie the mapping cannot call
        assert clock.label(clock.count_at(t)) == expected
        checked += 1
    assert checked > 700 and clock.converged and clock.jumps == 0


def test_counts_run_on_across_midnight_and_labels_wrap():
    rate = FrameRate.FPS_29_97_DF
    config = TimecodeConfig(rate="29.97DF", start="23:59:58;00")
    ltc = LtcSim(config, EPOCH_NS, seed=5)
    clock = TimecodeClock("timecode", SensorClockConfig(), rate)
    _learn(clock, ltc, 120)  # 4 s: through 00:00:00;00
    period = int(frame_period_ns(rate))
    before = clock.count_at(EPOCH_NS + 30 * period)
    after = clock.count_at(EPOCH_NS + 90 * period)
    assert after - before == 60  # no day lost at the rollover
    assert str(clock.label(clock.count_at(EPOCH_NS + 60 * period))) == "00:00:00;00"
    assert str(clock.label(clock.count_at(EPOCH_NS + 59 * period))) == "23:59:59;29"


def test_a_label_the_clock_did_not_predict_is_a_jump_and_the_clock_follows_it():
    rate = FrameRate.FPS_24
    ltc = LtcSim(TimecodeConfig(rate="24", start="01:00:00:00"), EPOCH_NS, seed=6)
    clock = TimecodeClock("timecode", SensorClockConfig(), rate)
    _learn(clock, ltc, 48)
    period = int(frame_period_ns(rate))
    start = EPOCH_NS + 48 * period
    rejam = parse_timecode("02:00:00:00", rate)  # the sound department re-jams
    assert clock.observe(rejam, start) == timecode_to_frames(rejam) - timecode_to_frames(
        parse_timecode("01:00:02:00", rate))
    assert clock.jumps == 1 and not clock.converged  # unlocked until it has predicted again
    for j in range(1, 24):
        clock.observe(parse_timecode(f"02:00:00:{j:02d}", rate), start + j * period)
        assert clock.converged == (j >= LOCK_SAMPLES)
    assert str(clock.label(clock.count_at(start + 30 * period))) == "02:00:01:06"


def test_a_one_frame_jump_the_decoder_flags_is_taken_and_stamp_jitter_is_not():
    rate = FrameRate.FPS_25
    ltc = LtcSim(TimecodeConfig(rate="25", start="10:00:00:00"), EPOCH_NS, seed=7)
    clock = TimecodeClock("timecode", SensorClockConfig(), rate)
    _learn(clock, ltc, 50)
    period = int(frame_period_ns(rate))
    start = EPOCH_NS + 50 * period
    # A burst of host load: the frame 10:00:02:00 reaches the host two frames late. Not a jump.
    assert clock.observe(parse_timecode("10:00:02:00", rate), start + 2 * period) is None
    # Record-run TC skipping one frame, seen on the decoder's own sample counter: a jump.
    assert clock.observe(parse_timecode("10:00:02:02", rate), start + period, jumped=True) == 1
    assert clock.jumps == 1


@pytest.mark.parametrize("shutter_deg, expected_ms", [(180.0, 10.4166), (360.0, 20.8333), (90.0, 5.2083)])
def test_the_exposure_starts_half_the_shutter_before_its_mid_time(shutter_deg, expected_ms):
    t = EPOCH_NS
    assert (t - exposure_start_ns(t, FrameRate.FPS_24, shutter_deg)) / 1e6 == pytest.approx(expected_ms, abs=1e-3)


def _verifier(rate: FrameRate, start: str):
    clock = TimecodeClock("timecode", SensorClockConfig(), rate)
    period = int(frame_period_ns(rate))
    per = video_frames_per_ltc_frame(rate)
    first = timecode_to_frames(parse_timecode(start, rate))
    for j in range(24):  # a second of LTC frames, each labelling `per` video frames
        clock.observe(clock.label(first + j * per), EPOCH_NS + j * per * period)
    return clock, LabelVerifier(clock, timeout_ns=12 * period), period, per, first


def test_a_predicted_label_is_verified_by_the_ltc_frame_that_covers_it():
    clock, verifier, period, per, first = _verifier(FrameRate.FPS_24, "01:00:00:00")
    start = EPOCH_NS + 24 * period - period // 4  # a quarter frame before the next LTC frame starts
    count = clock.count_at(start)
    assert verifier.expect(7, start, start, count, now_ns=start) == []
    (check,) = verifier.decoded(first + 24, EPOCH_NS + 24 * period)
    assert check.outcome is LabelOutcome.VERIFIED and str(check.label) == "01:00:01:00"


def test_a_wrong_prediction_is_corrected_with_the_decoded_label():
    clock, verifier, period, per, first = _verifier(FrameRate.FPS_24, "01:00:00:00")
    start = EPOCH_NS + 24 * period
    verifier.expect(7, start, start, clock.count_at(start), now_ns=start)
    (check,) = verifier.decoded(first + 24 + 100, start)  # record-run TC resumed 100 frames on
    assert check.outcome is LabelOutcome.CORRECTED
    assert str(check.predicted) == "01:00:01:00" and str(check.label) == "01:00:05:04"


def test_frames_no_ltc_frame_covered_are_unverified():
    clock, verifier, period, per, first = _verifier(FrameRate.FPS_24, "01:00:00:00")
    start = EPOCH_NS + 24 * period
    verifier.expect(7, start, start, clock.count_at(start), now_ns=start)
    (check,) = verifier.decoded(first + 26, start + 2 * period)  # LTC frame 24 was lost
    assert check.outcome is LabelOutcome.UNVERIFIED and str(check.label) == "01:00:01:00"
    verifier.expect(8, start + 3 * period, start + 3 * period, first + 27, now_ns=start)
    (expired,) = verifier.expire(start + 13 * period)
    assert expired.frame_index == 8 and expired.outcome is LabelOutcome.UNVERIFIED
    assert verifier.counts[LabelOutcome.UNVERIFIED] == 2


@pytest.mark.parametrize("rate", [FrameRate.FPS_48, FrameRate.FPS_50, FrameRate.FPS_59_94_DF, FrameRate.FPS_60])
def test_at_high_rates_one_ltc_frame_verifies_a_pair_of_video_frames(rate):
    clock, verifier, period, per, first = _verifier(rate, "00:09:59;50" if rate.drop_frame else "01:00:00:00")
    assert per == 2
    ltc_start = EPOCH_NS + 24 * per * period
    starts = [ltc_start + k * period for k in (0, 1)]
    for k, start in enumerate(starts):
        verifier.expect(k, start, start, clock.count_at(start), now_ns=start)
    checks = verifier.decoded(first + 24 * per, ltc_start)
    assert [c.outcome for c in checks] == [LabelOutcome.VERIFIED] * 2
    assert [timecode_to_frames(c.label) - timecode_to_frames(checks[0].label) for c in checks] == [0, 1]


def test_a_frame_that_arrives_after_its_ltc_frame_is_verified_at_once():
    clock, verifier, period, per, first = _verifier(FrameRate.FPS_25, "10:00:00:00")
    verifier.decoded(first + 24, EPOCH_NS + 24 * period)
    start = EPOCH_NS + 24 * period + 1_000_000
    (check,) = verifier.expect(3, start, start, clock.count_at(start), now_ns=start)
    assert check.outcome is LabelOutcome.VERIFIED and str(check.label) == "10:00:00:24"
    assert NS_PER_S // 25 == period
