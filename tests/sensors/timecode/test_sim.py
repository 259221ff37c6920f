"""The simulated LTC generator: libltc reads its audio, edges never slip, the clock drifts as set."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from config.models import ClockConfig, TimecodeConfig
from sensors.timecode import LtcSim, add_frames, ltc_audio_for_frames, parse_timecode, render_ltc_samples
from sensors.vocabulary import NS_PER_S, FrameRate
from tests.sensors.timecode import _libltc

EPOCH_NS = 1_700_000_000_000_000_000


def make_sim(rate: str, start: str, drift_ppm: float = 0.0, offset_ns: int = 0, sample_rate_hz: int = 48000) -> LtcSim:
    config = TimecodeConfig(
        rate=rate, start=start, sample_rate_hz=sample_rate_hz, clock=ClockConfig(offset_ns=offset_ns, drift_ppm=drift_ppm)
    )
    return LtcSim(config, EPOCH_NS, seed=3)


@pytest.mark.parametrize(
    "rate,start",
    [("24", "23:59:58:00"), ("25", "23:59:59:00"), ("29.97DF", "00:00:58;00"), ("29.97DF", "23:59:59;00"), ("23.976", "00:59:59:00")],
)
def test_libltc_reads_the_sim_exactly(rate: str, start: str) -> None:
    sim = make_sim(rate, start, drift_ppm=25.0)
    fps = sim.rate.fps
    n_frames = 75
    audio = np.concatenate([sim.read(n) for n in (1, 999, 4096, 17) + (3000,) * 60])
    assert audio.size >= int(n_frames * sim.sample_rate_hz / fps)
    frames = _libltc.libltc_decode(audio, sim.rate, sim.sample_rate_hz)
    assert len(frames) >= n_frames
    k0 = round(Fraction(frames[1][1]) * fps / sim.sample_rate_hz) - 1
    for j, (tc, off_start, _) in enumerate(frames):
        k = k0 + j
        assert tc == sim.timecode_of_frame(k), (k, str(tc))
        if j:  # libltc only estimates where the first frame it meets began
            assert abs(off_start - float(sim.frame_start_sample(k))) <= 2
    seen = {str(f[0]) for f in frames}
    if sim.rate.drop_frame and start.startswith("00:00:58"):
        assert {"00:00:59;29", "00:01:00;02"} <= seen and "00:01:00;00" not in seen
    if start.startswith("23:59:59") or start.startswith("23:59:58"):
        assert any(s.startswith("00:00:00") for s in seen)


def test_chunked_reads_equal_one_read_and_the_pure_function() -> None:
    sim = make_sim("29.97DF", "00:00:59;00")
    whole = sim.read(48000)
    sim.reset()
    rng = np.random.default_rng(0)
    parts = []
    while sum(p.size for p in parts) < 48000:
        parts.append(sim.read(int(rng.integers(1, 5000))))
    assert np.array_equal(np.concatenate(parts)[:48000], whole)
    pure = ltc_audio_for_frames(parse_timecode("00:00:59;00", sim.rate), 29, 48000)
    assert pure.size == 46447  # ceil(29 * 48000 * 1001 / 30000) = ceil(46446.4)
    assert np.array_equal(pure, whole[: pure.size])
    again = make_sim("29.97DF", "00:00:59;00").read(48000)
    assert np.array_equal(again, whole)  # deterministic


def test_signal_shape() -> None:
    audio = make_sim("25", "01:00:00:00", sample_rate_hz=192000).read(192000 // 5)
    assert audio.dtype == np.uint8
    assert abs(int(audio.max()) - 128 - 96) <= 1 and abs(128 - int(audio.min()) - 96) <= 1
    # Rise time: a 10 %..90 % ramp of about 25 us is about 5 samples at 192 kHz.
    level = (audio.astype(float) - 128) / 96
    ramp = np.flatnonzero((np.abs(level) < 0.8) & (np.abs(level) > -0.8))
    runs = np.split(ramp, np.flatnonzero(np.diff(ramp) > 1) + 1)
    widths = [r.size for r in runs if r.size]
    assert 3 <= np.median(widths) <= 6


def test_no_slip_after_hours_at_fractional_rates() -> None:
    rate = FrameRate.FPS_29_97_DF
    start = parse_timecode("00:00:00;00", rate)
    k = 3 * 107892 + 1  # three hours of frames later, 1601.6 samples each
    first = int(Fraction(k * 48000 * 1001, 30000)) - 200
    audio = render_ltc_samples(start, first, 6 * 1602, 48000)
    frames = _libltc.libltc_decode(audio, rate, 48000)
    assert [str(f[0]) for f in frames] == ["03:00:00;01", "03:00:00;02", "03:00:00;03", "03:00:00;04", "03:00:00;05"]
    for j, (_, off_start, _) in enumerate(frames[1:], start=1):
        exact = Fraction((k + j) * 48000 * 1001, 30000) - first
        assert abs(off_start - float(exact)) <= 1  # a slip of 0.4 sample per frame would show here


def test_timecode_at_is_the_ground_truth() -> None:
    sim = make_sim("25", "10:00:00:00", drift_ppm=100.0, offset_ns=5_000_000)
    tc, start_ns = sim.timecode_at(EPOCH_NS)
    assert str(tc) == "10:00:00:00" and start_ns == EPOCH_NS
    tc, start_ns = sim.timecode_at(EPOCH_NS + 39_990_000)  # the generator has counted 39.994 ms
    assert str(tc) == "10:00:00:00"
    tc, start_ns = sim.timecode_at(EPOCH_NS + 39_999_000)  # and here 40.003 ms
    assert str(tc) == "10:00:00:01" and start_ns == EPOCH_NS + 39_996_000
    # Frame 25 * 3600 starts when the generator clock, 100 ppm fast, has counted one hour.
    tc, start_ns = sim.timecode_at(EPOCH_NS + 3600 * NS_PER_S)
    assert str(tc) == "11:00:00:09"  # 0.36 s of drift = 9 frames ahead
    for k in (1, 1000, 90_009):
        tc_k, m = sim.timecode_at(EPOCH_NS + k * 40_000_000)
        assert sim.timecode_at(m) == (tc_k, m)
        before, _ = sim.timecode_at(m - 1)
        assert add_frames(before, 1) == tc_k
        assert sim.clock.sensor_ns_exact(m) >= EPOCH_NS + 5_000_000 + int(sim.frame_start_sample(0))
    before_epoch, m = sim.timecode_at(EPOCH_NS - 1)
    assert str(before_epoch) == "09:59:59:24" and m < EPOCH_NS


def test_generator_drift_shows_in_sample_master_ns() -> None:
    sim = make_sim("24", "01:00:00:00", drift_ppm=10.0, offset_ns=-2_000_000)
    assert sim.sample_master_ns(0) == EPOCH_NS  # sample 0 is taken when the generator reads epoch + offset
    span_ns = sim.sample_master_ns(48000 * 100) - sim.sample_master_ns(0)
    # 100 s by the generator's clock is 100 s / (1 + 10 ppm) of master time: about 1 ms less.
    assert abs(span_ns - 100 * NS_PER_S / (1 + 10e-6)) <= 2
    tc, m = sim.timecode_at(sim.sample_master_ns(48000 * 100))
    assert str(tc) == "01:01:40:00" and abs(m - sim.sample_master_ns(48000 * 100)) <= 1


@pytest.mark.parametrize(
    "rate,start", [("48", "00:59:59:00"), ("50", "23:59:59:00"), ("59.94DF", "00:00:58;00"), ("60", "23:59:59:00")]
)
def test_high_rate_sim_is_half_rate_ltc_that_libltc_reads(rate: str, start: str) -> None:
    sim = make_sim(rate, start)
    assert sim.ltc_rate.fps == sim.rate.fps / 2
    audio = sim.read(48000 * 5 // 2)
    frames = _libltc.libltc_decode(audio, sim.ltc_rate, sim.sample_rate_hz)
    assert len(frames) >= 55
    k0 = round(Fraction(frames[1][1]) * sim.ltc_rate.fps / sim.sample_rate_hz) - 1
    for j, (tc, off_start, _) in enumerate(frames):
        k = k0 + j
        pair = sim.timecode_of_frame(k)  # the first frame of the pair LTC frame k labels
        assert pair.frames % 2 == 0 and (tc.hours, tc.minutes, tc.seconds, tc.frames * 2) == (
            pair.hours, pair.minutes, pair.seconds, pair.frames), (k, str(tc))
        if j:
            assert abs(off_start - float(sim.frame_start_sample(k))) <= 2
    # Ground truth is at the project rate: the second half of an LTC frame is the pair's second frame.
    k = k0 + 5
    second_half = sim.sample_master_ns(int(sim.frame_start_sample(k) + sim.frame_start_sample(1) * 3 / 4))
    assert sim.timecode_at(second_half)[0] == add_frames(sim.timecode_of_frame(k), 1)
    seen = {str(sim.timecode_of_frame(k0 + j)) for j in range(len(frames))}
    if sim.rate.drop_frame:
        assert {"00:00:59;58", "00:01:00;04"} <= seen and not {"00:01:00;00", "00:01:00;02"} & seen
    else:
        assert any(label.startswith(("00:00:00", "01:00:00")) for label in seen)


def test_high_rate_start_must_open_a_pair() -> None:
    with pytest.raises(ValueError, match="frame pairs"):
        TimecodeConfig(rate="50", start="00:00:00:01")
