"""The simulated drifting clock: exact both ways, jitter seeded."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from config import ClockConfig
from sensors.sim.clock import DriftingClock

EPOCH = 1_700_000_000_000_000_000


@given(st.integers(-5_000_000, 5_000_000), st.floats(-100, 100), st.integers(0, 3600 * 10**9))
def test_exact_mapping_inverts(offset_ns, drift_ppm, elapsed_ns):
    clock = DriftingClock(ClockConfig(offset_ns=offset_ns, drift_ppm=drift_ppm), EPOCH)
    master = EPOCH + elapsed_ns
    assert abs(clock.master_ns(clock.sensor_ns_exact(master)) - master) <= 1


def test_drift_accumulates_at_the_configured_rate():
    clock = DriftingClock(ClockConfig(offset_ns=2_000, drift_ppm=50.0), EPOCH)
    assert clock.sensor_ns_exact(EPOCH) - EPOCH == 2_000
    assert clock.sensor_ns_exact(EPOCH + 10**9) - (EPOCH + 10**9) == 2_000 + 50_000


def test_jitter_is_seeded_and_sized():
    cfg = ClockConfig(jitter_ns=100_000)
    t = EPOCH + np.arange(2000, dtype=np.int64) * 1_000_000
    a = DriftingClock(cfg, EPOCH, seed=1).sensor_ns(t)
    b = DriftingClock(cfg, EPOCH, seed=1).sensor_ns(t)
    c = DriftingClock(cfg, EPOCH, seed=2).sensor_ns(t)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert 80_000 < np.std(a - t) < 120_000
