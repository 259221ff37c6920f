"""High-rate projects (48, 50, 59.94 DF/NDF, 60 fps): LTC at half rate, each LTC frame labelling a
pair of frames; decoded labels at the project rate across a drop-frame minute and midnight."""

from __future__ import annotations

from typing import List

import numpy as np
import pytest

from config.models import ClockConfig, TimecodeConfig
from sensors.timecode import LtcDecoder, LtcSim, TimecodeDriver, add_frames, parse_timecode, timecode_to_ns
from sensors.timecode.smpte import frames_per_day, timecode_to_frames
from sensors.vocabulary import FrameRate, Timecode, TimecodeSample
from tests.sensors.timecode import _libltc

EPOCH_NS = 1_790_000_000_000_000_000
HIGH = [FrameRate.FPS_48, FrameRate.FPS_50, FrameRate.FPS_59_94_NDF, FrameRate.FPS_59_94_DF, FrameRate.FPS_60]


def before_midnight(rate: FrameRate, frames: int) -> str:
    return str(add_frames(Timecode(0, 0, 0, 0, rate), -frames))


def run_driver(rate: FrameRate, start: str, seconds: float, drift_ppm: float = 0.0) -> tuple:
    config = TimecodeConfig(rate=rate.label, start=start, clock=ClockConfig(offset_ns=-3_000_000, drift_ppm=drift_ppm))
    sim = LtcSim(config, EPOCH_NS, seed=2)
    driver = TimecodeDriver(config, clock_ns=lambda: EPOCH_NS)
    got: List[TimecodeSample] = []
    rng = np.random.default_rng(1)
    while sim.samples_read < seconds * sim.sample_rate_hz:
        first = sim.samples_read
        got += driver.feed_audio(sim.read(int(rng.integers(100, 3000))), sim.sample_master_ns(first))
    return sim, driver, got


@pytest.mark.parametrize("rate", HIGH, ids=lambda r: r.label)
def test_each_ltc_frame_labels_a_pair_at_the_project_rate(rate: FrameRate) -> None:
    start = "23:59:59;20" if rate.drop_frame else before_midnight(rate, 20)
    sim, driver, got = run_driver(rate, start, 1.5, drift_ppm=-35.0)
    assert len(got) >= 20
    for k, sample in enumerate(got):
        assert sample.timecode.rate is rate and sample.timecode.frames % 2 == 0
        assert sample.timecode == add_frames(sim.start, 2 * k)  # one LTC frame: two project frames
        # The LTC frame's first edge is the pair's first frame: the sim's truth at the project rate.
        truth, start_ns = sim.timecode_at(sample.stamp.host_ns + 30_000)
        assert sample.timecode == truth and abs(sample.stamp.host_ns - start_ns) <= 21_000
        assert sample.stamp.sensor_ns == timecode_to_ns(sample.timecode)
    labels = [str(s.timecode) for s in got]
    midnight = labels.index("00:00:00;00" if rate.drop_frame else "00:00:00:00")
    assert labels[midnight - 1] == str(add_frames(Timecode(0, 0, 0, 0, rate), -2))
    assert driver.stats.dropped == 0 and driver.stats.decoded == len(got)


def test_drop_frame_minute_at_59_94() -> None:
    rate = FrameRate.FPS_59_94_DF
    sim, driver, got = run_driver(rate, "00:00:59;40", 1.0)
    labels = [str(s.timecode) for s in got]
    at = labels.index("00:00:59;58")
    assert labels[at + 1] == "00:01:00;04"  # 00, 02 (LTC 29.97 DF's 00 and 01) do not exist
    assert not {"00:01:00;00", "00:01:00;02"} & set(labels)
    # Exact: frame counts advance by two per LTC frame through the dropped labels.
    counts = [timecode_to_frames(s.timecode) for s in got]
    assert np.all(np.diff(counts) == 2)
    assert frames_per_day(rate) == 2 * frames_per_day(FrameRate.FPS_29_97_DF)
    # Minute ten keeps its labels.
    _, _, tenth = run_driver(rate, "00:09:59;50", 0.5)
    assert "00:10:00;00" in [str(s.timecode) for s in tenth]


@pytest.mark.parametrize("rate", [FrameRate.FPS_50, FrameRate.FPS_59_94_DF, FrameRate.FPS_48], ids=lambda r: r.label)
def test_reads_libltc_half_rate_audio_as_project_labels(rate: FrameRate) -> None:
    half = {FrameRate.FPS_50: FrameRate.FPS_25, FrameRate.FPS_59_94_DF: FrameRate.FPS_29_97_DF, FrameRate.FPS_48: FrameRate.FPS_24}[rate]
    start = parse_timecode("00:00:59;10" if rate.drop_frame else "23:59:59:10", half)
    audio, _ = _libltc.libltc_encode(start, 30, 48000)
    decoder = LtcDecoder(rate, 48000)
    frames = []
    for at in range(0, audio.size, 1000):
        frames += decoder.feed(audio[at : at + 1000], at)
    expected = [add_frames(start, k) for k in range(1, 29)]  # libltc's first frame has no opening edge
    assert [f[0] for f in frames] == [Timecode(t.hours, t.minutes, t.seconds, 2 * t.frames, rate) for t in expected]
    assert decoder.bad_frames == 0


def test_a_project_rate_config_refuses_the_wrong_carrier() -> None:
    # 50 fps LTC (frame numbers up to 49) does not exist: 25 fps LTC read as a 25 fps project is
    # fine, but as a 30 fps project the bit periods are wrong.
    sim, _, _ = run_driver(FrameRate.FPS_50, "10:00:00:00", 0.0)
    audio = sim.read(48000)
    decoder = LtcDecoder(FrameRate.FPS_60, 48000)
    assert decoder.feed(audio, 0) == [] and decoder.counters["wrong_rate"] >= 20
    same_carrier = LtcDecoder(FrameRate.FPS_25, 48000)
    assert [str(f[0]) for f in same_carrier.feed(audio, 0)][:3] == ["10:00:00:00", "10:00:00:01", "10:00:00:02"]
