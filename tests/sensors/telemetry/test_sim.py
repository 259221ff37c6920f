"""Simulated FreeD tracking system: determinism, drifting clock, ground truth through the driver."""

from __future__ import annotations

import time

import numpy as np
import pytest

from config.models import ClockConfig
from sensors.telemetry.driver import FreedDriver
from sensors.telemetry.freed import decode_d1
from sensors.telemetry.lens import lens_step_per_count
from sensors.telemetry.sim import FreedSender, FreedSim
from sensors.vocabulary import NS_PER_S, TelemetrySample, pan_tilt_roll_from_rotation, quat_to_matrix
from tests.sensors.telemetry.support import (
    EPOCH_NS,
    angle_diff_deg,
    dolly_pose_at,
    free_udp_port,
    sim_stage_config,
    wait_for,
)

ANGLE_LSB = 1.0 / 32768
POSITION_LSB_M = 1.0 / 64 / 1000
EPS = 1e-9


def _sim(seed: int = 0, **changes) -> FreedSim:
    return FreedSim(sim_stage_config(**changes), dolly_pose_at(EPOCH_NS), EPOCH_NS, seed=seed)


def _assert_matches_truth(sample: TelemetrySample, frame, config) -> None:
    """A decoded sample equals the sim's ground truth within D1 and lens quantization."""
    assert np.max(np.abs(sample.position_m - frame.pose.position_m)) <= POSITION_LSB_M + EPS
    truth = pan_tilt_roll_from_rotation(quat_to_matrix(frame.pose.orientation_xyzw))
    for got, want in zip((sample.pan_deg, sample.tilt_deg, sample.roll_deg), truth):
        assert angle_diff_deg(got, want) <= ANGLE_LSB + EPS
    focal_step, focus_step = lens_step_per_count(config.lens)
    assert abs(sample.lens.focal_length_mm - frame.lens.focal_length_mm) <= focal_step / 2 + EPS
    assert abs(sample.lens.focus_distance_m - frame.lens.focus_distance_m) <= focus_step / 2 + EPS


def test_same_seed_same_packets_in_any_windows():
    start, end = EPOCH_NS + 3 * NS_PER_S, EPOCH_NS + 5 * NS_PER_S
    whole = _sim(seed=4).packets_between(start, end)
    sim = _sim(seed=4)
    cuts = [start, start + 123_456_789, start + 700_000_000, start + 701_000_000, end]
    pieces = [p for a, b in zip(cuts, cuts[1:]) for p in sim.packets_between(a, b)]
    assert pieces == whole and len(whole) == pytest.approx(200, abs=2)
    assert _sim(seed=5).packets_between(start, end) != whole
    assert sim.packets_between(end, start) == []
    assert _sim().packets_between(EPOCH_NS - NS_PER_S, EPOCH_NS - 1) == []  # nothing before switch-on


def test_packets_carry_a_wrapping_counter_and_the_configured_camera():
    sim = _sim(seed=1)
    frames = sim.frames_between(EPOCH_NS, EPOCH_NS + 2 * NS_PER_S)
    counters = [decode_d1(f.payload).spare for f in frames]
    assert counters == [(sim.counter_start + f.index) % 65536 for f in frames]
    assert [f.index for f in frames] == list(range(frames[0].index, frames[0].index + len(frames)))
    assert all(decode_d1(f.payload).camera_id == 1 for f in frames)
    times = [f.master_ns for f in frames]
    assert times == sorted(times)


def test_send_times_follow_the_drifting_clock():
    drift_ppm = 400.0
    sim = _sim(clock=ClockConfig(offset_ns=5_000_000, drift_ppm=drift_ppm, jitter_ns=0))
    frames = sim.frames_between(EPOCH_NS, EPOCH_NS + 20 * NS_PER_S)
    span_ns = frames[-1].master_ns - frames[0].master_ns
    periods = frames[-1].index - frames[0].index
    # A fast clock reaches each tick early: the master period shrinks by 1 / (1 + drift).
    assert span_ns / periods == pytest.approx(1e7 / (1 + drift_ppm * 1e-6), abs=0.01)
    assert frames[0].master_ns == EPOCH_NS and frames[0].index == 0  # offset does not move tick 0


def test_jitter_is_a_seeded_bounded_delivery_delay():
    sim = _sim(seed=2, clock=ClockConfig(jitter_ns=200_000))
    again = _sim(seed=2, clock=ClockConfig(jitter_ns=200_000))
    exact = _sim(seed=2, clock=ClockConfig(jitter_ns=0))
    index = np.arange(0, 5000)
    delay = sim.send_times_ns(index) - exact.send_times_ns(index)
    assert np.array_equal(sim.send_times_ns(index), again.send_times_ns(index))
    assert np.array_equal(sim.sample_times_ns(index), exact.sample_times_ns(index))  # sampling stays on the clock
    # Half-normal: never early, mean sigma * sqrt(2/pi), spread sigma * sqrt(1 - 2/pi), under 0.9 period.
    assert delay.min() >= 0 and delay.max() < 0.9 * 1e7 + 1
    assert np.mean(delay) == pytest.approx(200_000 * np.sqrt(2 / np.pi), rel=0.05)
    assert np.std(delay) == pytest.approx(200_000 * np.sqrt(1 - 2 / np.pi), rel=0.1)


def test_decoded_poses_match_the_ground_truth_pure_path():
    config = sim_stage_config()
    sim = FreedSim(config, dolly_pose_at(EPOCH_NS), EPOCH_NS, seed=6)
    driver = FreedDriver(config)
    frames = sim.frames_between(EPOCH_NS, EPOCH_NS + 15 * NS_PER_S)  # pan crosses +-180
    for frame in frames:
        sample = driver.decode_datagram(frame.payload, frame.master_ns)
        assert sample is not None and sample.counter == frame.counter
        _assert_matches_truth(sample, frame, config)
    assert driver.stats.dropped == 0 and driver.stats.decoded == len(frames)


@pytest.mark.parametrize("jitter_ns, tolerance_ppm", [(0, 0.01), (200_000, 20.0)])
def test_drift_shows_in_the_driver_clock_fit(jitter_ns, tolerance_ppm):
    """Over the stats' 10 s clock window (1000 packets) the drift is measurable; in 1 s of loopback it is not."""
    config = sim_stage_config(clock=ClockConfig(offset_ns=800_000, drift_ppm=50.0, jitter_ns=jitter_ns))
    sim = FreedSim(config, dolly_pose_at(EPOCH_NS), EPOCH_NS, seed=8)
    driver = FreedDriver(config, clock_ns=lambda: EPOCH_NS + 30 * NS_PER_S)
    for send_ns, payload in sim.packets_between(EPOCH_NS, EPOCH_NS + 30 * NS_PER_S):
        driver.decode_datagram(payload, send_ns)
    fit = driver.stats.snapshot().clock
    assert fit is not None and 995 <= fit.samples <= 1001
    assert fit.drift_ppm == pytest.approx(50.0, abs=tolerance_ppm)
    if jitter_ns:
        assert fit.jitter_ms == pytest.approx(0.2 * np.sqrt(1 - 2 / np.pi), rel=0.2)  # half-normal delay


def test_sim_and_driver_over_udp_loopback():
    config = sim_stage_config(port=free_udp_port())
    samples = []
    with FreedDriver(config, on_sample=samples.append) as driver:
        epoch_ns = time.time_ns()
        sim = FreedSim(config, dolly_pose_at(epoch_ns), epoch_ns, seed=11)
        with FreedSender(sim, "127.0.0.1", driver.port) as sender:
            assert wait_for(lambda: sender.sent >= 101, timeout_s=10.0)
        end_ns = time.time_ns()
        assert wait_for(lambda: driver.stats.received == sender.sent, timeout_s=2.0)
    assert sender.send_errors == 0
    snap = driver.stats.snapshot()
    assert snap.dropped == 0 and snap.decoded == snap.received == len(samples) == sender.sent
    span_s = (samples[-1].stamp.host_ns - samples[0].stamp.host_ns) / 1e9
    assert (len(samples) - 1) / span_s == pytest.approx(100.0, rel=0.03)
    assert snap.clock is not None and snap.clock.samples == len(samples)
    # The same seeded sim, asked again through the pure path, is the referee.
    truth = {f.counter: f for f in sim.frames_between(epoch_ns, end_ns + NS_PER_S)}
    for sample in samples:
        frame = truth[sample.counter]
        _assert_matches_truth(sample, frame, config)
        assert sample.stamp.host_ns >= frame.master_ns  # received after it was sent
