"""ClockModel's contract: integer mapping, readiness, snapshots, bad input, parameters."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.models import ClockConfig
from edge.clock import ClockMapping, ClockModel, ClockNotReadyError, ClockSnapshot
from sensors.sim.clock import DriftingClock

from .stage import EPOCH_NS, run_model, simulate


def _noiseless(model: ClockModel, clock: DriftingClock, master: np.ndarray, delay_ns: int) -> None:
    for m in master.tolist():
        model.observe(clock.sensor_ns_exact(m), m + delay_ns)


@settings(max_examples=25)
@given(
    st.integers(-10**12, 10**12),  # sensor clock offset, +/- 1000 s
    st.floats(-1000.0, 1000.0),  # drift ppm
    st.integers(0, 5_000_000),  # constant transport delay, known
    st.sampled_from([30.0, 100.0, 750.0]),
)
def test_noiseless_clocks_map_to_the_nanosecond(offset_ns, drift_ppm, delay_ns, rate_hz):
    clock = DriftingClock(ClockConfig(offset_ns=offset_ns, drift_ppm=drift_ppm, jitter_ns=0), EPOCH_NS)
    master = EPOCH_NS + 5_000_000_000 + np.arange(int(2 * rate_hz) + 20, dtype=np.int64) * int(1e9 / rate_hz)
    model = ClockModel("sim", latency_ns=delay_ns)
    _noiseless(model, clock, master, delay_ns)
    later = master[-1] + np.array([0, 10**9, 10 * 10**9], dtype=np.int64)  # extrapolate up to 10 s
    got = model.to_master_ns(clock.sensor_ns_exact(later))
    # The simulated clock rounds each reading to 1 ns, so the fitted drift can be off by up to about
    # 1 ns over the fit's span: extrapolating dt past the last sample adds up to dt / span ns.
    span_s = (master[-1] - master[0]) / 1e9
    allowed_ns = 2 + (later - master[-1]) / 1e9 / span_s
    assert np.all(np.abs(got - later) <= allowed_ns), (got - later, allowed_ns)
    assert model.drift_ppm == pytest.approx(drift_ppm, abs=1e-3)
    assert model.converged and model.steps == 0 and model.outliers == 0


def test_an_hour_at_epoch_magnitude_loses_no_precision():
    # float64 of a time.time_ns() stamp has a resolution of 256 ns; the model must not inherit that.
    clock = DriftingClock(ClockConfig(offset_ns=123_456_789, drift_ppm=50.0, jitter_ns=0), EPOCH_NS)
    master = EPOCH_NS + np.arange(0, 3600 * 10**9, 10**8, dtype=np.int64)  # an hour at 10 Hz
    model = ClockModel("sim", latency_ns=300_000)
    _noiseless(model, clock, master, 300_000)
    assert np.abs(model.to_master_ns(clock.sensor_ns_exact(master[-2000:])) - master[-2000:]).max() <= 2
    assert np.float64(EPOCH_NS + 100) == np.float64(EPOCH_NS)  # what a float64 fit would have faced


def test_array_and_scalar_mapping_agree():
    link = simulate(drift_ppm=50.0, jitter_ns=200_000, duration_s=5.0, seed=11)
    model = ClockModel("sim", latency_ns=int(link.delay_mean_ns))
    run_model(model, link)
    stamps = link.sensor_ns[::7]
    mapped = model.to_master_ns(stamps)
    assert mapped.dtype == np.int64 and mapped.shape == stamps.shape
    assert mapped.tolist() == [model.to_master_ns(int(s)) for s in stamps]
    assert isinstance(model.to_master_ns(np.int64(stamps[0])), int)
    assert model.to_master_ns(stamps.tolist()).tolist() == mapped.tolist()


def test_nothing_to_map_before_the_first_sample():
    model = ClockModel("lidar")
    with pytest.raises(ClockNotReadyError, match="lidar"):
        model.to_master_ns(123)
    assert model.offset_ns is None and model.drift_ppm is None and model.residual_jitter_ns is None
    assert not model.converged
    snap = model.snapshot()
    assert snap.observed == 0 and snap.mapping is None and snap.error_estimate_ns is None


def test_non_integer_stamps_are_refused():
    model = ClockModel("x")
    with pytest.raises(TypeError):
        model.observe(1.5e18, 1_700_000_000_000_000_000)
    model.observe(1_000, 2_000)
    with pytest.raises(TypeError):
        model.to_master_ns(np.array([1.0, 2.0]))
    with pytest.raises(TypeError):
        model.to_master_ns(2.5)


def test_snapshot_is_frozen_and_consistent():
    link = simulate(drift_ppm=-35.0, jitter_ns=20_000, rate_hz=750.0, duration_s=4.0, stall_fraction=0.02, seed=4)
    model = ClockModel("lidar", latency_ns=int(link.delay_mean_ns))
    run_model(model, link)
    snap = model.snapshot()
    assert isinstance(snap, ClockSnapshot) and isinstance(snap.mapping, ClockMapping)
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.steps = 3  # type: ignore[misc]
    assert snap.observed == link.sensor_ns.size
    assert snap.last_sensor_ns == int(link.sensor_ns[-1]) and snap.last_host_ns == int(link.host_ns[-1])
    assert snap.offset_ns == model.offset_ns and snap.drift_ppm == model.drift_ppm
    assert snap.window_samples + snap.outliers == snap.observed  # window not yet full: every sample is one or the other
    assert snap.converged and 0 < snap.error_estimate_ns < 5_000 and 0 < snap.drift_error_ppm < 5
    # offset: master minus sensor at the newest sensor time; the sim clock runs 2.5 ms ahead.
    assert snap.offset_ns == pytest.approx(-2_500_000 + 35e-6 * 5e9, abs=20_000)


def test_impossible_stamps_are_outliers_not_steps():
    link = simulate(drift_ppm=20.0, jitter_ns=100_000, duration_s=20.0, seed=2)
    model = ClockModel("freed", latency_ns=int(link.delay_mean_ns))
    run_model(model, link)
    before = model.mapping
    s, h = int(link.sensor_ns[-1]), int(link.host_ns[-1])
    hostile = [
        (s + 10**15, h + 10_000_000),  # eleven days in the future
        (s - 5 * 10**9, h + 20_000_000),  # five seconds backwards
        (s, h + 30_000_000),  # a duplicate stamp, late
        (2**70, h + 40_000_000),  # beyond int64
        (-(2**70), h + 50_000_000),
    ]
    outliers_before = model.outliers
    for pair in hostile:
        assert model.observe(*pair) is False
    assert model.outliers == outliers_before + len(hostile) and model.steps == 0
    assert model.mapping == before
    assert model.to_master_ns(s) == before.to_master_ns(s)


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="delay_model"):
        ClockModel("x", delay_model="median")
    with pytest.raises(ValueError, match="min_samples"):
        ClockModel("x", max_samples=8)
    with pytest.raises(ValueError):
        ClockModel("x", reject_sigmas=1.0)
    with pytest.raises(ValueError):
        ClockModel("x", converged_error_ns=0)
