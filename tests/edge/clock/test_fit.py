"""The pure line-fitting functions: exact cases, robustness, and properties (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from edge.clock.fit import (
    MAD_TO_SIGMA,
    detect_step,
    huber_line_fit,
    lower_envelope_fit,
    mad,
    resistant_line,
    robust_sigma,
    weighted_line_fit,
)

intercepts = st.floats(-1e7, 1e7, allow_nan=False)
slopes = st.floats(-1e-3, 1e-3, allow_nan=False)  # +/- 1000 ppm, the rig's drift range
sizes = st.integers(8, 400)


def _times(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.uniform(-30e9, 0.0, n))  # 30 s of sensor time in ns, relative to the newest


# -- spread -----------------------------------------------------------------------------------


def test_mad_of_known_values():
    assert mad([1.0, 2.0, 3.0, 4.0, 100.0]) == 1.0
    assert robust_sigma([1.0, 2.0, 3.0, 4.0, 100.0]) == pytest.approx(MAD_TO_SIGMA)


def test_robust_sigma_is_gaussian_consistent():
    values = np.random.default_rng(1).normal(0.0, 2e6, 20000)
    assert robust_sigma(values) == pytest.approx(2e6, rel=0.03)


def test_mad_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="no values"):
        mad([])


@given(st.lists(st.floats(-1e9, 1e9), min_size=1, max_size=60), st.floats(-1e9, 1e9), st.floats(0.01, 100))
def test_mad_is_shift_invariant_and_scale_equivariant(values, shift, scale):
    v = np.array(values)
    base = mad(v)
    assert base >= 0.0
    assert mad(v + shift) == pytest.approx(base, abs=1e-6 * (1 + abs(shift)))
    assert mad(v * scale) == pytest.approx(base * scale, rel=1e-9, abs=1e-9)


# -- least squares ----------------------------------------------------------------------------


@given(intercepts, slopes, sizes, st.integers(0, 2**16))
def test_weighted_fit_matches_polyfit(a, b, n, seed):
    x = _times(n, seed)
    y = a + b * x + np.random.default_rng(seed + 1).normal(0, 1e5, n)
    got_a, got_b = weighted_line_fit(x, y)
    ref_b, ref_a = np.polyfit(x, y, 1)
    assert got_b == pytest.approx(ref_b, rel=1e-6, abs=1e-12)
    assert got_a == pytest.approx(ref_a, rel=1e-6, abs=1e-3)


def test_slope_prior_pins_the_slope_when_x_has_no_spread():
    a, b = weighted_line_fit([5.0, 5.0, 5.0], [1.0, 2.0, 3.0], slope_prior=(0.5, 10.0))
    assert b == 0.5
    assert a == pytest.approx(2.0 - 0.5 * 5.0)


def test_slope_prior_weighs_against_the_data():
    x = np.array([-1.0, 1.0])
    y = np.array([-1.0, 1.0])  # data slope 1, sum((x - mean)**2) = 2
    _, b = weighted_line_fit(x, y, slope_prior=(0.0, 2.0))
    assert b == pytest.approx(0.5)


def test_bad_weights_are_rejected():
    with pytest.raises(ValueError, match="weights"):
        weighted_line_fit([0, 1, 2], [0, 1, 2], [1, -1, 1])
    with pytest.raises(ValueError, match="all weights are zero"):
        weighted_line_fit([0, 1, 2], [0, 1, 2], [0, 0, 0])
    with pytest.raises(ValueError, match="differ in length"):
        weighted_line_fit([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="finite"):
        weighted_line_fit([0, 1, np.nan], [0, 1, 2])


# -- robust line ------------------------------------------------------------------------------


@given(intercepts, slopes, sizes, st.integers(0, 2**16))
def test_huber_recovers_a_noiseless_line(a, b, n, seed):
    x = _times(n, seed)
    fit = huber_line_fit(x, a + b * x)
    assert fit.slope == pytest.approx(b, abs=1e-12)
    assert fit.intercept == pytest.approx(a, abs=1e-3)
    assert fit.inliers.all()


@settings(max_examples=60)
@given(intercepts, slopes, st.integers(60, 400), st.floats(0.0, 0.15), st.integers(0, 2**16))
def test_huber_ignores_gross_one_sided_outliers(a, b, n, fraction, seed):
    rng = np.random.default_rng(seed)
    x = _times(n, seed)
    sigma = 1e5
    y = a + b * x + rng.normal(0.0, sigma, n)
    bad = rng.random(n) < fraction
    y[bad] += rng.uniform(5e6, 5e7, int(bad.sum()))  # stalled packets: 5-50 ms late
    fit = huber_line_fit(x, y)
    # A clean least-squares fit would be within about sigma * sqrt(4 / n) at the ends.
    tolerance = 8 * sigma / np.sqrt(n)
    assert abs(fit.predict(x[-1]) - (a + b * x[-1])) < tolerance
    assert abs(fit.predict(x[0]) - (a + b * x[0])) < tolerance
    assert not fit.inliers[bad].any()
    assert fit.sigma == pytest.approx(sigma, rel=0.35)


def test_resistant_line_survives_a_wild_x():
    x = np.arange(30, dtype=float) * 1e7
    y = 100.0 + 1e-5 * x
    x[4] = -1.7e18  # a sensor stamp from a clock reset to zero
    a, b = resistant_line(x, y)
    assert b == pytest.approx(1e-5, rel=0.05)  # a starting point, shifted but not levered
    fit = huber_line_fit(x, y)
    assert not fit.inliers[4]
    assert fit.slope == pytest.approx(1e-5, rel=1e-9)


def test_huber_rejects_bad_tuning():
    with pytest.raises(ValueError, match="huber_k"):
        huber_line_fit([0, 1, 2], [0, 1, 2], huber_k=3.0, reject_sigmas=2.0)


# -- lower envelope ---------------------------------------------------------------------------


def _lp_envelope(x: np.ndarray, y: np.ndarray):
    """Referee: Moon's linear programme solved by scipy (maximise n*a + b*sum(x) with a + b x <= y)."""
    xc = x - x.mean()
    res = linprog(
        c=[-x.size, 0.0], A_ub=np.column_stack([np.ones_like(xc), xc]), b_ub=y, bounds=[(None, None), (-1e-2, 1e-2)],
        method="highs",
    )
    assert res.status == 0
    return res.x[0], res.x[1]  # (height at mean x, slope)


@settings(max_examples=60)
@given(intercepts, slopes, st.integers(10, 300), st.floats(1e3, 5e6), st.integers(0, 2**16))
def test_lower_envelope_matches_the_linear_programme(a, b, n, delay_scale, seed):
    rng = np.random.default_rng(seed)
    x = _times(n, seed)
    y = a + b * x + rng.exponential(delay_scale, n)
    got_a, got_b = lower_envelope_fit(x, y)
    residual = y - (got_a + got_b * x)
    assert residual.min() >= -1e-6 * delay_scale  # under every point ...
    assert residual.min() <= 1e-6 * delay_scale  # ... and touching one
    ref_height, _ = _lp_envelope(x, y)
    height = got_a + got_b * x.mean()
    assert height == pytest.approx(ref_height, abs=1e-6 * delay_scale + 1e-3)  # same optimum


def test_lower_envelope_finds_the_minimum_delay_line():
    rng = np.random.default_rng(7)
    x = np.linspace(-60e9, 0.0, 6000)
    true_a, true_b = 3.0e5, -5e-5
    y = true_a + true_b * x + rng.exponential(2e6, x.size)  # 2 ms mean delay jitter above 0
    a, b = lower_envelope_fit(x, y)
    mean_a, mean_b = weighted_line_fit(x, y)
    assert abs(b - true_b) < 1e-8  # 0.01 ppm
    assert abs(a - true_a) < 5e3  # 5 us, where least squares sits 2 ms late
    assert mean_a - true_a == pytest.approx(2e6, rel=0.1)


def test_lower_envelope_respects_slope_bounds_and_degenerate_x():
    x = np.array([0.0, 1.0, 2.0])
    y = np.array([0.0, 1.0, 2.0])
    a, b = lower_envelope_fit(x, y, slope_bounds=(-0.1, 0.1))
    assert b == 0.1 and a == 0.0
    a, b = lower_envelope_fit([3.0, 3.0], [5.0, 4.0])
    assert (a, b) == (4.0, 0.0)
    with pytest.raises(ValueError, match="order"):
        lower_envelope_fit(x, y, slope_bounds=(1.0, -1.0))


# -- step test --------------------------------------------------------------------------------

STEP = dict(tolerance=8e6, min_samples=8, min_span=100e6)


def test_a_sustained_shift_is_a_step():
    rng = np.random.default_rng(3)
    x = np.arange(12) * 10e6  # 100 Hz for 110 ms
    r = -100e6 + rng.normal(0, 2e6, 12)
    assert detect_step(x, r, **STEP) == pytest.approx(-100e6, abs=2e6)


def test_a_stall_backlog_is_not_a_step():
    # Packets stamped during a 300 ms stall arrive together: delays fall from 300 ms to 0.
    x = np.arange(225) * (1e9 / 750)
    r = 300e6 - x
    assert detect_step(x, r, **STEP) is None


def test_too_few_or_too_short_is_not_a_step():
    assert detect_step(np.arange(7) * 20e6, np.full(7, 1e9), **STEP) is None  # 7 samples
    assert detect_step(np.arange(20) * 1e6, np.full(20, 1e9), **STEP) is None  # 19 ms of sensor time


@given(
    st.floats(-2e9, 2e9).filter(lambda s: abs(s) > 20e6),
    st.integers(8, 60),
    st.floats(0.0, 0.3),
    st.integers(0, 2**16),
)
def test_step_size_is_found_among_scattered_outliers(step, n, scatter_fraction, seed):
    rng = np.random.default_rng(seed)
    x = np.arange(n) * 15e6
    r = step + rng.normal(0.0, 1e6, n)
    scattered = rng.random(n) < scatter_fraction
    scattered[: n // 2 + 1] = False  # keep a majority on the step
    r[scattered] = step + rng.uniform(20e6, 50e6, int(scattered.sum()))
    got = detect_step(x, r, **STEP)
    on_step = x[~scattered]
    if on_step.size >= 8 and np.ptp(on_step) >= 100e6:
        assert got is not None
    assert got is None or got == pytest.approx(step, abs=3e6)
