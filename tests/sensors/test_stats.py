"""Sensor stats: the clock line fit and counters a crew reads on the status line."""

import numpy as np
import pytest

from sensors.stats import SensorStats, fit_clock_line


def test_clock_fit_recovers_offset_drift_and_jitter():
    rng = np.random.default_rng(3)
    host = np.arange(0, 20_000_000_000, 10_000_000, dtype=np.int64) + 1_700_000_000_000_000_000
    sensor = host - 4_000_000 + ((host - host[0]) * 50e-6).astype(np.int64)  # 4 ms behind, 50 ppm fast
    host_noisy = host + rng.normal(0, 200_000, host.size).astype(np.int64)  # 0.2 ms jitter
    fit = fit_clock_line(sensor, host_noisy)
    assert fit.drift_ppm == pytest.approx(50.0, abs=2.0)
    assert fit.jitter_ms == pytest.approx(0.2, rel=0.1)
    # offset at the newest sample: host - sensor = 4 ms - 50 ppm * 20 s = 3 ms
    assert fit.offset_ms == pytest.approx(3.0, abs=0.05)


def test_clock_fit_ignores_packets_held_up_by_the_host():
    rng = np.random.default_rng(5)
    host = np.arange(0, 10_000_000_000, 10_000_000, dtype=np.int64)
    sensor = host + ((host - host[0]) * 20e-6).astype(np.int64)
    delayed = host + rng.normal(0, 100_000, host.size).astype(np.int64)
    late = rng.random(host.size) < 0.05
    delayed[late] += rng.integers(5_000_000, 50_000_000, late.sum())  # 5 % held up 5..50 ms
    fit = fit_clock_line(sensor, delayed)
    assert fit.drift_ppm == pytest.approx(20.0, abs=3.0)
    assert fit.jitter_ms == pytest.approx(0.1, rel=0.15)


def test_clock_fit_needs_three_distinct_samples():
    assert fit_clock_line(np.array([1, 2]), np.array([1, 2])) is None
    assert fit_clock_line(np.array([5, 5, 5]), np.array([1, 2, 3])) is None


def test_counters_and_rate():
    now = [10_000_000_000]
    stats = SensorStats("freed", clock_window_s=1.0, clock_ns=lambda: now[0])
    for i in range(100):
        stats.record_received()
        stats.record_sample(i * 10_000_000, now[0] - 1_000_000_000 + i * 10_000_000)
    stats.record_drop("checksum")
    stats.record_drop("length", 2)
    snap = stats.snapshot()
    assert snap.rate_hz == pytest.approx(100.0, abs=1.0)
    assert snap.received == 100 and snap.decoded == 100
    assert snap.dropped == 3
    assert dict(snap.drop_reasons) == {"checksum": 1, "length": 2}
    assert stats.drops("length") == 2
    assert snap.clock is not None and snap.clock.samples == 100


def test_clock_fit_uses_the_newest_clock_window():
    now = [0]
    stats = SensorStats("lidar", clock_window_s=10.0, clock_ns=lambda: now[0])
    for i in range(2_000):  # 20 s of a 100 Hz sensor that steps its clock by 1 s at 5 s
        now[0] = i * 10_000_000
        stats.record_sample(i * 10_000_000 + (1_000_000_000 if i >= 500 else 0), now[0])
    snap = stats.snapshot()
    assert snap.decoded == 2_000
    assert snap.clock.samples == 1_001  # the newest 10 s only, so the old step is forgotten
    assert snap.clock.jitter_ms < 1e-6 and snap.clock.offset_ms == pytest.approx(-1000.0)
