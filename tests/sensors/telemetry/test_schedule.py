"""A FreeD device without a packet counter: samples placed on the device's tick schedule by arrival."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import load_profile
from sensors.stats import fit_clock_line
from sensors.telemetry.driver import FreedDriver
from sensors.telemetry.freed import FreedD1, encode_d1
from sensors.telemetry.schedule import ArrivalSchedule, fit_schedule
from tests.sensors.telemetry.support import property_settings

_T0_NS = 1_767_261_600_123_456_789


def _real_crane():
    """The FreeD feed of the shipped real-rig profile (a crane at 50 Hz, no counter)."""
    return load_profile("stage-a-real").telemetry[0]


def _packet(spare: int, step: int = 0) -> bytes:
    return encode_d1(FreedD1(camera_id=1, pan_deg=10.0 + 0.01 * step, tilt_deg=-2.0, roll_deg=0.0,
                             x_mm=10.0 * step, y_mm=0.0, z_mm=1500.0, zoom_raw=1000, focus_raw=2000, spare=spare))


def _device(rate_hz: float, count: int, drift_ppm: float, jitter_ns: float, seed: int):
    """A steady device: tick k leaves at ``k / rate`` of its own clock (``drift_ppm`` fast against the
    host) and arrives after 1 ms plus a half-normal delay of scale ``jitter_ns``.
    Returns (tick index, host arrival ns)."""
    rng = np.random.default_rng(seed)
    ticks = np.arange(count)
    send_ns = _T0_NS + ticks * (1e9 / rate_hz) / (1.0 + drift_ppm * 1e-6)
    arrive_ns = send_ns + 1_000_000 + np.abs(rng.normal(0.0, jitter_ns, count))
    return ticks, np.rint(arrive_ns).astype(np.int64)


@pytest.mark.parametrize("spare", [0x0000, 0xBEEF])
def test_constant_spare_bytes_through_the_real_profile_are_all_decoded(spare):
    config = _real_crane()
    assert config.spare_is_counter is False and config.rate_hz == 50.0
    driver = FreedDriver(config)
    ticks, arrive_ns = _device(config.rate_hz, 3000, drift_ppm=40.0, jitter_ns=400_000, seed=1)  # 60 s
    samples = [driver.decode_datagram(_packet(spare, int(k)), int(h)) for k, h in zip(ticks, arrive_ns)]
    assert all(s is not None for s in samples)
    snap = driver.stats.snapshot()
    assert (snap.received, snap.decoded, snap.dropped) == (3000, 3000, 0)
    assert driver.stats.drops("reordered") == 0 and driver.off_schedule == 0 and driver.schedule_relocks == 0
    sensor_ns = np.array([s.stamp.sensor_ns for s in samples], dtype=np.int64)
    period_ns = 1e9 / config.rate_hz
    # Every sample on its own device tick: the arrival jitter is gone from the sensor times.
    assert np.array_equal(sensor_ns, np.rint(ticks * period_ns).astype(np.int64))
    # A clock line through (device time, arrival) finds the device's rate and leaves only the jitter.
    fit = fit_clock_line(sensor_ns, arrive_ns)
    assert fit.drift_ppm == pytest.approx(40.0, abs=2.0)
    assert 0.1 < fit.jitter_ms < 0.4


def test_a_lost_packet_leaves_a_one_tick_gap():
    config = _real_crane()
    driver = FreedDriver(config)
    ticks, arrive_ns = _device(config.rate_hz, 400, drift_ppm=-25.0, jitter_ns=300_000, seed=2)
    keep = ticks != 237
    samples = [driver.decode_datagram(_packet(0, int(k)), int(h)) for k, h in zip(ticks[keep], arrive_ns[keep])]
    sensor_ns = np.array([s.stamp.sensor_ns for s in samples])
    steps = np.diff(sensor_ns) / (1e9 / config.rate_hz)
    assert np.flatnonzero(np.rint(steps) != 1).tolist() == [236]
    assert steps[236] == pytest.approx(2.0, abs=1e-6)
    assert driver.stats.drops("lost") == 1 and driver.stats.drops("reordered") == 0


def test_an_arrival_far_off_the_schedule_is_taken_at_arrival_and_counted():
    schedule = ArrivalSchedule(rate_hz=100.0)
    period_ns = 10_000_000
    arrive_ns = [_T0_NS + k * period_ns for k in range(300)]
    arrive_ns[150] += int(0.4 * period_ns)  # held up 4 ms
    placed = [schedule.place(h) for h in arrive_ns]
    assert schedule.off_schedule == 1 and schedule.relocks == 0
    assert placed[150].index is None and placed[150].sensor_ns == pytest.approx(150.4 * period_ns, abs=1000)
    assert [p.index for p in placed[151:]] == list(range(151, 300))  # the schedule did not move


def test_a_host_clock_step_relocks_the_schedule():
    schedule = ArrivalSchedule(rate_hz=100.0, relock_after=8)
    period_ns = 10_000_000
    arrive_ns = [_T0_NS + k * period_ns + (4_500_000 if k >= 200 else 0) for k in range(400)]
    placed = [schedule.place(h) for h in arrive_ns]
    assert schedule.relocks == 1 and schedule.off_schedule == 8
    assert all(p.index is None for p in placed[200:207]) and placed[207].relocked
    indices = [p.index for p in placed[207:]]
    assert indices == list(range(indices[0], indices[0] + len(indices)))
    sensor = [p.sensor_ns for p in placed]
    assert all(b > a for a, b in zip(sensor, sensor[1:]))  # device time kept moving forward


@property_settings(max_examples=60)
@given(
    rate_hz=st.sampled_from([25.0, 50.0, 59.94, 100.0]),
    drift_ppm=st.floats(-200.0, 200.0),
    jitter_frac=st.floats(0.0, 0.05),
    losses=st.lists(st.integers(1, 998), max_size=20, unique=True),
    seed=st.integers(0, 2**16),
)
def test_every_tick_is_recovered_under_drift_jitter_and_loss(rate_hz, drift_ppm, jitter_frac, losses, seed):
    ticks, arrive_ns = _device(rate_hz, 1000, drift_ppm, jitter_frac * 1e9 / rate_hz, seed)
    keep = ~np.isin(ticks, losses)
    schedule = ArrivalSchedule(rate_hz)
    placed = [schedule.place(int(h)) for h in arrive_ns[keep]]
    assert [p.index for p in placed] == ticks[keep].tolist()
    assert sum(p.lost for p in placed) == len(losses) and schedule.off_schedule == 0


def test_fit_schedule_is_exact_at_any_epoch():
    index = np.arange(0, 500, 1)
    host = 9_000_000_000_000_000_000 // 5 + index * 20_000_040  # 2 ppm slow, near the year 2027 in ns
    fit = fit_schedule(index.tolist(), host.tolist(), nominal_period_ns=20_000_000.0, min_span_ticks=50)
    assert fit.host_period_ns == pytest.approx(20_000_040.0, abs=1e-6)
    assert fit.ticks_at(int(host[-1]) + 20_000_040) == pytest.approx(500.0, abs=1e-9)
