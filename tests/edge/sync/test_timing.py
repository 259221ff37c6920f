"""Per-sensor timing against the simulated camera's and timecode generator's known clocks."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from config.models import CameraConfig, ClockConfig
from edge.sync import FrameTiming, SensorClockConfig, SensorTiming
from sensors.camera.sim import CameraSim

EPOCH_NS = 1_767_225_600_000_000_000
LATENCY_NS = 9_000_000


def _camera(jitter_ns: int, fps: str = "24") -> CameraSim:
    clock = ClockConfig(offset_ns=2_500_000, drift_ppm=50.0, jitter_ns=jitter_ns)
    return CameraSim(CameraConfig(fps=fps, clock=clock), None, None, EPOCH_NS, seed=5)


def _errors(timing: FrameTiming, sim: CameraSim, frames, rng) -> np.ndarray:
    out = []
    for k in frames:
        truth = sim.truth(k)
        host = truth.master_ns + LATENCY_NS - 1_000_000 + int(rng.gamma(2.0, 500_000))
        out.append(timing.frame_master_ns(k, truth.sensor_ns, host) - truth.master_ns)
    return np.asarray(out)


def test_camera_stamps_on_the_frame_schedule_lose_their_jitter():
    """2 ms stamp jitter: mapped one by one the frames land ~5 ms off (p99); put on the camera's
    own frame schedule first, within a fraction of a millisecond."""
    sim = _camera(2_000_000)
    config = SensorClockConfig(latency_ns=LATENCY_NS)
    raw = FrameTiming("camera", config, Fraction(24), dejitter=False)
    smooth = FrameTiming("camera", config, Fraction(24))
    raw_err = _errors(raw, sim, range(600), np.random.default_rng(1))
    smooth_err = _errors(smooth, sim, range(600), np.random.default_rng(1))
    assert np.percentile(np.abs(raw_err[240:]), 99) > 3_000_000
    assert np.percentile(np.abs(smooth_err[240:]), 99) < 250_000
    assert smooth.converged and not raw.converged  # the stamps' model alone still carries the jitter


def test_a_restarted_frame_count_is_taken_at_its_stamp_until_relearnt():
    sim = _camera(100_000, fps="25")
    timing = FrameTiming("camera", SensorClockConfig(latency_ns=LATENCY_NS), Fraction(25))
    rng = np.random.default_rng(2)
    _errors(timing, sim, range(300), rng)
    out = []
    for k in range(300, 600):  # the pipeline restarted: its index counts from 0 again
        truth = sim.truth(k)
        host = truth.master_ns + LATENCY_NS - 1_000_000 + int(rng.gamma(2.0, 500_000))
        out.append(timing.frame_master_ns(k - 300, truth.sensor_ns, host) - truth.master_ns)
    assert timing.off_schedule > 0 and timing.schedule.steps == 1
    assert np.abs(out).max() < 1_000_000  # never off by the 12 s the index jumped
    assert np.percentile(np.abs(out[50:]), 99) < 100_000


def test_host_stamped_sensors_sit_at_arrival_less_latency():
    timing = SensorTiming("freed", SensorClockConfig(latency_ns=400_000))
    timing.observe(None, 10_000_000)
    assert timing.host_to_master_ns(10_000_000) == 9_600_000 and timing.converged
