"""The fit window is seconds of sensor time: the ring's contents and sums, the model's window at
each sensor's rate, the memory cap, and the config that sets it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from config.sync import SensorClockConfig, SyncConfig
from edge.clock import ClockModel, SampleWindow

from .stage import run_model, simulate

samples = st.lists(
    st.tuples(st.integers(0, 3_000), st.integers(-10**6, 10**6), st.booleans()), min_size=1, max_size=300
)


@settings(max_examples=60)
@given(samples, st.integers(1, 20_000), st.integers(1, 64))
def test_window_holds_what_a_plain_list_would(steps, span_ns, capacity):
    window = SampleWindow(span_ns, capacity)
    held = []  # the reference: (x, y, ok), oldest first
    x = 0
    for gap, y, ok in steps:
        x += gap
        if ok:
            while held and held[0][0] < x - span_ns:
                held.pop(0)
        if len(held) == capacity:
            held.pop(0)
        held.append((x, y, ok))
        window.add(x, y, ok)
    xs, ys, oks = window.ordered()
    assert list(zip(xs.tolist(), ys.tolist(), oks.tolist())) == held
    gated = np.array([(a, b) for a, b, ok in held if ok], dtype=np.float64).reshape(-1, 2)
    assert window.count == len(held) and window.n == len(gated)
    assert window.sx == pytest.approx(gated[:, 0].sum(), abs=1e-6)
    assert window.sxy == pytest.approx((gated[:, 0] * gated[:, 1]).sum(), rel=1e-9, abs=1e-3)
    newest = window.ordered(3)
    assert newest[0].tolist() == [h[0] for h in held[-3:]]


def test_a_rejected_wild_stamp_does_not_flush_the_window():
    window = SampleWindow(1_000, 16)
    for x in range(0, 1_000, 100):
        window.add(x, 0, True)
    window.add(10**15, 5, False)  # eleven days ahead, rejected by the gate
    assert window.count == 11 and window.n == 10
    window.add(1_050, 0, True)  # time moves on only with gated samples: x = 0 is now too old
    assert window.n == 10 and window.ordered()[0][0] == 100


def test_replace_resums_and_rejects_too_many():
    window = SampleWindow(10**9, 4)
    window.replace(np.array([1, 2, 3]), np.array([4, 5, 6]), np.array([True, False, True]))
    assert (window.count, window.n, window.sx, window.sy, window.sxy) == (3, 2, 4.0, 10.0, 22.0)
    with pytest.raises(ValueError):
        window.replace(np.arange(5), np.arange(5), np.ones(5, dtype=bool))
    with pytest.raises(ValueError):
        SampleWindow(0, 4)


@pytest.mark.parametrize("rate_hz", [754.0, 100.0, 24.0], ids=["lidar", "freed", "camera"])
def test_the_model_keeps_the_newest_window_s_seconds_at_any_rate(rate_hz):
    link = simulate(drift_ppm=20.0, jitter_ns=20_000, rate_hz=rate_hz, duration_s=25.0, seed=3)
    model = ClockModel("sensor", window_s=10.0, latency_ns=int(link.delay_mean_ns))
    run_model(model, link)
    held = model.snapshot().window_samples
    # 10 s of samples whatever the rate, less the ~1 % of the delay tail the gate keeps out.
    assert 0.97 * 10.0 * rate_hz - 2 <= held <= 10.0 * rate_hz + 2
    assert model.converged


def test_the_sample_cap_bounds_memory():
    link = simulate(drift_ppm=20.0, jitter_ns=20_000, rate_hz=754.0, duration_s=8.0, seed=3)
    model = ClockModel("lidar", window_s=60.0, max_samples=2048, latency_ns=int(link.delay_mean_ns))
    run = run_model(model, link)
    assert model.snapshot().window_samples <= 2048
    assert run.p99_abs_error_ns(run.first_converged()) < 50_000


def test_window_parameters_are_checked():
    with pytest.raises(ValueError, match="window_s"):
        ClockModel("x", window_s=0.0)
    with pytest.raises(ValueError, match="window_s"):
        ClockModel("x", window_s=float("nan"))
    with pytest.raises(ValueError, match="min_samples"):
        ClockModel("x", max_samples=32)


def test_sensor_clock_config_is_in_seconds_and_says_whether_the_clock_is_locked():
    config = SensorClockConfig()
    assert config.window_s == 30.0 and config.locked is False
    assert SensorClockConfig(window_s=12.5, locked=True).locked is True
    with pytest.raises(ValidationError):
        SensorClockConfig(window=4096)  # the old sample count is gone, not silently ignored
    with pytest.raises(ValidationError):
        SensorClockConfig(window_s=0.0)
    sync = SyncConfig(clocks={"lidar": {"window_s": 5.0}})
    assert sync.clock("lidar").window_s == 5.0 and sync.clock("camera").window_s == 30.0


def test_sensor_timing_builds_its_models_with_the_window():
    from fractions import Fraction

    from edge.sync.timing import FrameTiming, SensorTiming

    assert SensorTiming("lidar", SensorClockConfig(window_s=7.0)).model.window_s == 7.0
    camera = FrameTiming("camera", SensorClockConfig(window_s=9.0), Fraction(24))
    assert camera.model.window_s == camera.schedule.window_s == camera.direct.window_s == 9.0
