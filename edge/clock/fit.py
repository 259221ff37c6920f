"""Pure line fitting for clock models: robust spread, Huber line, lower envelope, step test, and
the fitted sensor -> master mapping as an immutable value.

Every function takes plain arrays and returns new values; nothing here keeps state. Callers pass
stamps *relative to a reference pair* (``x = sensor_ns - sensor_ref_ns``, ``y = offset_ns -
offset_ref_ns``) so that float64 holds them to well under a nanosecond: an absolute epoch stamp
(~1.7e18 ns) has a float64 resolution of 256 ns, a stamp relative to a pair a minute old one of
about 1e-5 ns.

Units: ``x`` and ``y`` are in the same unit (ns in the clock model), so slopes are dimensionless
and intercepts, residuals and spreads are in the unit of ``y``.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import NamedTuple, Optional, Tuple

import numpy as np

__all__ = [
    "MAD_TO_SIGMA",
    "ClockMapping",
    "LineFit",
    "mad",
    "robust_sigma",
    "weighted_line_fit",
    "resistant_line",
    "huber_line_fit",
    "lower_envelope_fit",
    "detect_step",
]

#: 1 / Phi^-1(3/4): turns a median absolute deviation into a Gaussian standard deviation.
MAD_TO_SIGMA = 1.482602218505602

#: Default slope search range for the lower envelope, +/- 1 % (10 000 ppm): ten times the largest
#: drift a sensor clock may have in the rig configuration.
_ENVELOPE_SLOPE_BOUNDS = (-1e-2, 1e-2)


@dataclass(frozen=True)
class LineFit:
    """``y = intercept + slope * x`` with the robust spread of the residuals of its inliers.

    ``sigma`` is ``MAD_TO_SIGMA * MAD`` of the inliers' residuals (unit of y); ``inliers`` marks the
    points the fit kept; ``iterations`` counts reweighting rounds.
    """

    intercept: float
    slope: float
    sigma: float
    inliers: np.ndarray
    iterations: int

    def predict(self, x) -> np.ndarray:
        """The line at ``x`` (same unit and reference as the fitted ``x``)."""
        return self.intercept + self.slope * np.asarray(x, dtype=np.float64)


class ClockMapping(NamedTuple):
    """An immutable sensor -> master line:
    ``master_ns = sensor_ns + offset_ref_ns + intercept_ns + slope * (sensor_ns - sensor_ref_ns)``.

    ``sensor_ref_ns`` and ``offset_ref_ns`` (master minus sensor time of the reference pair) are exact
    integers; ``intercept_ns`` and ``slope`` are the small fitted corrections relative to them.
    """

    sensor_ref_ns: int
    offset_ref_ns: int
    intercept_ns: float
    slope: float

    def to_master_ns(self, sensor_ns):
        """Master time (int ns) of sensor time(s) ``sensor_ns`` (int, or an integer numpy array -> int64 array)."""
        if isinstance(sensor_ns, (np.ndarray, list, tuple)):
            s = np.asarray(sensor_ns)
            if s.dtype.kind not in "iu":
                raise TypeError(f"sensor stamps must be integer ns, got dtype {s.dtype}")
            s = s.astype(np.int64, copy=False)
            since = (s - np.int64(self.sensor_ref_ns)).astype(np.float64)
            correction = np.rint(self.intercept_ns + self.slope * since).astype(np.int64)
            return s + (correction + np.int64(self.offset_ref_ns))
        s = operator.index(sensor_ns)
        return s + self.offset_ref_ns + round(self.intercept_ns + self.slope * float(s - self.sensor_ref_ns))

    @property
    def drift_ppm(self) -> float:
        """How fast the sensor clock runs against the master clock, parts per million."""
        return (1.0 / (1.0 + self.slope) - 1.0) * 1e6


def _as_xy(x, y) -> Tuple[np.ndarray, np.ndarray]:
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"x and y differ in length: {xa.size} vs {ya.size}")
    if xa.size == 0:
        raise ValueError("no points to fit")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise ValueError("x and y must be finite")
    return xa, ya


def mad(values) -> float:
    """Median absolute deviation from the median (unit of ``values``); ValueError when empty."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        raise ValueError("MAD of no values")
    return float(np.median(np.abs(v - np.median(v))))


def robust_sigma(values) -> float:
    """Gaussian-consistent robust spread, ``1.4826 * MAD`` (unit of ``values``)."""
    return MAD_TO_SIGMA * mad(values)


def weighted_line_fit(
    x, y, weights=None, slope_prior: Optional[Tuple[float, float]] = None
) -> Tuple[float, float]:
    """Weighted least squares ``y = a + b x``; returns ``(a, b)``.

    ``slope_prior = (b0, strength)`` pulls the slope towards ``b0`` as if ``strength`` more units of
    ``sum(w * (x - mean)**2)`` had been observed with slope ``b0`` (a ridge towards a known slope,
    e.g. a clock's drift measured before a step). With no spread in ``x`` and no prior the slope is 0.
    """
    xa, ya = _as_xy(x, y)
    w = np.ones_like(xa) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if w.shape != xa.shape or np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite, non-negative and one per point")
    total = float(w.sum())
    if total <= 0.0:
        raise ValueError("all weights are zero")
    x_mean = float(np.sum(w * xa)) / total
    y_mean = float(np.sum(w * ya)) / total
    dx = xa - x_mean
    sxx = float(np.sum(w * dx * dx))
    sxy = float(np.sum(w * dx * (ya - y_mean)))
    b0, strength = slope_prior if slope_prior is not None else (0.0, 0.0)
    if strength < 0:
        raise ValueError(f"slope prior strength must be >= 0, got {strength}")
    denom = sxx + strength
    slope = (sxy + strength * b0) / denom if denom > 0.0 else float(b0)
    return y_mean - slope * x_mean, slope


def resistant_line(x, y) -> Tuple[float, float]:
    """Tukey's three-group resistant line ``(a, b)``: medians of the outer thirds set the slope.

    Up to about a sixth of the points may be arbitrarily wrong, wild ``x`` included: they shift the
    medians a little but cannot lever the line. The starting point for reweighting.
    """
    xa, ya = _as_xy(x, y)
    n = xa.size
    if n == 1:
        return float(ya[0]), 0.0
    order = np.argsort(xa, kind="stable")
    third = max(1, n // 3)
    left, right = order[:third], order[n - third:]
    x_left, x_right = np.median(xa[left]), np.median(xa[right])
    slope = 0.0
    if x_right > x_left:
        slope = float((np.median(ya[right]) - np.median(ya[left])) / (x_right - x_left))
    return float(np.median(ya - slope * xa)), slope


def huber_line_fit(
    x,
    y,
    *,
    huber_k: float = 1.345,
    reject_sigmas: float = 4.0,
    min_sigma: float = 0.0,
    initial: Optional[Tuple[float, float]] = None,
    slope_prior: Optional[Tuple[float, float]] = None,
    max_iter: int = 20,
) -> LineFit:
    """Robust line by iteratively reweighted least squares with Huber weights.

    Residuals within ``huber_k`` spreads count fully, larger ones with weight ``huber_k * s / |r|``,
    and those beyond ``reject_sigmas`` spreads not at all (so a handful of wild points cannot lever
    the line). The spread ``s`` is re-estimated each round as ``max(robust_sigma(r), min_sigma)``.
    Starts from ``initial = (a, b)`` or from :func:`resistant_line`.
    """
    xa, ya = _as_xy(x, y)
    if huber_k <= 0 or reject_sigmas <= huber_k:
        raise ValueError(f"need 0 < huber_k < reject_sigmas, got {huber_k} and {reject_sigmas}")
    a, b = initial if initial is not None else resistant_line(xa, ya)
    span = float(np.ptp(xa)) if xa.size > 1 else 0.0
    # Float rounding of the residuals themselves: never reject a point for less than that.
    min_sigma = max(min_sigma, 1e-12 * (float(np.abs(ya).max()) + abs(b) * float(np.abs(xa).max())) + 1e-300)
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - read after the loop
        residual = ya - (a + b * xa)
        sigma = max(robust_sigma(residual), min_sigma)
        u = np.abs(residual) / sigma
        weights = np.where(u <= huber_k, 1.0, huber_k / np.maximum(u, huber_k))
        weights[u > reject_sigmas] = 0.0
        if weights.sum() <= 0.0:
            break
        a_new, b_new = weighted_line_fit(xa, ya, weights, slope_prior)
        moved = abs(a_new - a) + abs(b_new - b) * span
        a, b = a_new, b_new
        if moved <= 1e-3 * sigma:  # far below the fit's own standard error, sigma / sqrt(n)
            break
    residual = ya - (a + b * xa)
    inliers = np.abs(residual) <= reject_sigmas * max(robust_sigma(residual), min_sigma)
    # The spread of the points kept: outliers would inflate a MAD taken over everything.
    sigma = robust_sigma(residual[inliers]) if inliers.any() else robust_sigma(residual)
    return LineFit(float(a), float(b), float(sigma), inliers, iterations)


def lower_envelope_fit(
    x, y, *, slope_bounds: Tuple[float, float] = _ENVELOPE_SLOPE_BOUNDS
) -> Tuple[float, float]:
    """The line under every point that lies highest at the points' mean ``x``; returns ``(a, b)``.

    This is the minimum-delay estimator of clock skew (Moon, Skelly and Towsley's linear programme:
    minimise ``sum(y - a - b x)`` subject to ``y >= a + b x``); its optimum is the edge of the lower
    convex hull above the mean ``x``. The objective ``f(b) = min(y - b (x - mean))`` is concave in
    ``b`` with subgradient ``mean - x[argmin]``, so bisection finds it in O(n log(1/tol)) vectorised
    work without sorting. The slope is kept within ``slope_bounds``.
    """
    xa, ya = _as_xy(x, y)
    lo, hi = float(slope_bounds[0]), float(slope_bounds[1])
    if not lo <= hi:
        raise ValueError(f"slope bounds out of order: {slope_bounds}")
    x_mean = float(xa.mean())
    xc = xa - x_mean
    span = float(np.ptp(xa))
    if span == 0.0:
        b = min(max(0.0, lo), hi)
        return float(ya.min()), b
    k_lo = int(np.argmin(ya - lo * xc))
    k_hi = int(np.argmin(ya - hi * xc))
    if xc[k_lo] >= 0.0:  # f falls from the lower bound on: the bound is the optimum
        b = lo
    elif xc[k_hi] <= 0.0:  # f still rises at the upper bound
        b = hi
    else:
        # Bisect until the bracket moves the line by far less than a unit of y across the data.
        for _ in range(200):
            if (hi - lo) * span <= 1e-3:
                break
            mid = 0.5 * (lo + hi)
            k = int(np.argmin(ya - mid * xc))
            if xc[k] < 0.0:
                lo, k_lo = mid, k
            elif xc[k] > 0.0:
                hi, k_hi = mid, k
            else:
                lo = hi = mid
                break
        b = 0.5 * (lo + hi)
        if k_lo != k_hi and xc[k_hi] > xc[k_lo]:
            # The two supporting points bracket the mean: their chord is the exact hull edge.
            chord = float((ya[k_hi] - ya[k_lo]) / (xa[k_hi] - xa[k_lo]))
            if lo <= chord <= hi:
                b = chord
    a = float(np.min(ya - b * xa))
    return a, float(b)


def detect_step(
    x, residual, *, tolerance: float, min_samples: int, min_span: float
) -> Optional[float]:
    """The size of a clock step shown by rejected samples, or None.

    ``x`` are the samples' sensor times and ``residual`` their distance from the current line. A
    step is at least ``min_samples`` residuals within ``tolerance`` of their median, spread over at
    least ``min_span`` of ``x``. Requiring the span is what tells a step from the backlog of a
    stalled network stack: packets stamped during a stall of length D arrive together with
    delays falling from D to 0, so their residuals cannot stay within ``tolerance`` for longer than
    about ``2 * tolerance`` of sensor time. Returns the median residual of the agreeing samples.
    """
    xa = np.asarray(x, dtype=np.float64).ravel()
    ra = np.asarray(residual, dtype=np.float64).ravel()
    if xa.shape != ra.shape:
        raise ValueError(f"x and residual differ in length: {xa.size} vs {ra.size}")
    if min_samples < 1 or tolerance < 0 or min_span < 0:
        raise ValueError("min_samples must be >= 1, tolerance and min_span >= 0")
    if ra.size < min_samples:
        return None
    center = float(np.median(ra))
    agree = np.abs(ra - center) <= tolerance
    if int(agree.sum()) < min_samples:
        return None
    xs = xa[agree]
    if float(xs.max() - xs.min()) < min_span:
        return None
    return float(np.median(ra[agree]))
