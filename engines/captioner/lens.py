"""Lens labels: focal length, its 35 mm equivalent, and zoom direction over a short window.

Everything here is computed from what a rig measures (the lens encoders, mapped to a
:class:`~sensors.vocabulary.LensState` by the lens calibration) and the camera's configured sensor
width (``config.models.IntrinsicsConfig.sensor_width_mm``); a lens that reports nothing gives a
label marked missing, never an invented one.

**35 mm equivalent (horizontal angle of view).** A lens of focal length ``f`` on a sensor
``w`` wide sees a horizontal angle of view ``2 atan(w / 2f)``; the full-frame lens that sees the
same horizontal angle is ``f_35 = f * 36 / w`` (full frame is 36 x 24 mm), so the crop factor is
``36 / w`` by *width*. On Super 35 (24.89 mm) that is 1.446, and 50 mm frames like 72.3 mm. A
diagonal equivalence (43.27 mm / sensor diagonal) would differ for a 16:9 sensor: full frame is
3:2, so a 16:9 image of the same width is shorter and its diagonal is relatively shorter too
(Super 35 16:9, 24.89 x 14.00 mm: diagonal 28.56 mm, factor 1.515, 50 mm -> 75.8 mm). Film and
video are framed and delivered by width, so the horizontal equivalence is the one a camera crew
means when it says "a 72 on full frame".

**Zoom over a window.** The focal-length rate is the slope of a least-squares line through the
window's samples (mm/s); its percentage is that slope over the window's mean focal length, i.e.
the line's value at the mean sample time (%/s: the relative change of magnification per second,
comparable between a 24 mm and a 290 mm setting). A zoom encoder dithers by a count or two
(~0.05 mm on a 50 mm setting): over 0.5 s at 24 Hz that moves the slope by ~0.2 %/s (1 sigma),
so a lens zooms only when the rate reaches :data:`ZOOM_THRESHOLD_PCT_PER_S` (5 sigma).

**Windows.** Every windowed label (this module's zoom, ``movement.py``'s camera movement) uses the
same rules, in :func:`window_problem`: at least :data:`MIN_WINDOW_SAMPLES` samples, strictly
increasing times, no gap over :data:`MAX_SAMPLE_GAP_NS`, and at least
:data:`MIN_WINDOW_SPAN_NS` between the first and last sample (a short span turns encoder noise
into a large rate). A window that breaks one is a missing label saying which.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from sensors.vocabulary import NS_PER_MS, NS_PER_S, LensState

__all__ = [
    "FULL_FRAME_WIDTH_MM",
    "SUPER35_WIDTH_MM",
    "ZOOM_THRESHOLD_PCT_PER_S",
    "MIN_WINDOW_SAMPLES",
    "MAX_SAMPLE_GAP_NS",
    "MIN_WINDOW_SPAN_NS",
    "FocalLabel",
    "ZoomDirection",
    "ZoomLabel",
    "crop_factor",
    "equivalent_focal_length_mm",
    "horizontal_fov_deg",
    "focal_label",
    "window_problem",
    "zoom_over_window",
]

#: Width of the full-frame (35 mm still) format the equivalence refers to, mm.
FULL_FRAME_WIDTH_MM = 36.0

#: Super 35 active width, mm: the default of ``config.models.IntrinsicsConfig.sensor_width_mm``.
SUPER35_WIDTH_MM = 24.89

#: Smallest focal-length rate that counts as a zoom, percent of the focal length per second.
ZOOM_THRESHOLD_PCT_PER_S = 1.0

#: Fewest samples a windowed label is computed from.
MIN_WINDOW_SAMPLES = 6

#: Longest gap between consecutive samples (or between a window edge and its nearest sample), ns.
MAX_SAMPLE_GAP_NS = 100 * NS_PER_MS

#: Shortest span from a window's first sample to its last, ns.
MIN_WINDOW_SPAN_NS = 250 * NS_PER_MS


@dataclass(frozen=True)
class FocalLabel:
    """Focal length of one frame. All lengths in mm; ``horizontal_fov_deg`` in degrees.

    ``missing_reason`` is None for a measured label; otherwise it says why there is none and the
    lens fields are None (``sensor_width_mm`` and ``crop_factor`` are the camera's, always known).
    """

    focal_length_mm: Optional[float]
    equivalent_35mm_mm: Optional[float]
    horizontal_fov_deg: Optional[float]
    sensor_width_mm: float
    crop_factor: float
    missing_reason: Optional[str] = None

    @property
    def missing(self) -> bool:
        return self.missing_reason is not None


class ZoomDirection(str, enum.Enum):
    """Which way the lens zooms over a window."""

    IN = "in"  # focal length growing: the picture magnifies
    OUT = "out"
    STATIC = "static"  # rate below ZOOM_THRESHOLD_PCT_PER_S
    MISSING = "missing"  # no usable window; see ZoomLabel.missing_reason


@dataclass(frozen=True)
class ZoomLabel:
    """Zoom over a window: direction, rate in mm/s and in percent of the focal length per second.

    Rates are signed (positive: zooming in) and None when the label is missing.
    ``mean_focal_length_mm`` is the focal length the percentage is taken of.
    """

    direction: ZoomDirection
    rate_mm_per_s: Optional[float]
    rate_pct_per_s: Optional[float]
    mean_focal_length_mm: Optional[float]
    samples: int
    missing_reason: Optional[str] = None

    @property
    def missing(self) -> bool:
        return self.direction is ZoomDirection.MISSING


def _check_sensor_width(sensor_width_mm: float) -> None:
    if not (math.isfinite(sensor_width_mm) and sensor_width_mm > 0.0):
        raise ValueError(f"sensor_width_mm must be a positive number of mm, got {sensor_width_mm!r}")


def crop_factor(sensor_width_mm: float = SUPER35_WIDTH_MM) -> float:
    """Width crop factor ``36 mm / sensor_width_mm`` (horizontal angle-of-view equivalence)."""
    _check_sensor_width(sensor_width_mm)
    return FULL_FRAME_WIDTH_MM / sensor_width_mm


def equivalent_focal_length_mm(focal_length_mm: float, sensor_width_mm: float = SUPER35_WIDTH_MM) -> float:
    """Full-frame focal length, mm, with the same horizontal angle of view as ``focal_length_mm``
    on a sensor ``sensor_width_mm`` wide (see the module docstring for why by width)."""
    return focal_length_mm * crop_factor(sensor_width_mm)


def horizontal_fov_deg(focal_length_mm: float, sensor_width_mm: float = SUPER35_WIDTH_MM) -> float:
    """Horizontal angle of view, degrees, of a rectilinear lens focused at infinity."""
    _check_sensor_width(sensor_width_mm)
    return math.degrees(2.0 * math.atan(sensor_width_mm / (2.0 * focal_length_mm)))


def _focal_problem(focal_length_mm: Optional[float]) -> Optional[str]:
    """Why a reported focal length (mm) is unusable, or None."""
    if focal_length_mm is None:
        return "no focal length reported"
    value = float(focal_length_mm)
    if not (math.isfinite(value) and value > 0.0):
        return f"focal length {focal_length_mm!r} mm is not a positive number"
    return None


def focal_label(lens: Optional[LensState], sensor_width_mm: float = SUPER35_WIDTH_MM) -> FocalLabel:
    """Focal-length label of one frame from its lens state and the camera's sensor width (mm).

    ``lens`` None (no lens data for the frame) or an unusable focal length gives a missing label.
    Raises ``ValueError`` for a sensor width that is not positive (a configuration error).
    """
    factor = crop_factor(sensor_width_mm)
    problem = "no lens state for the frame" if lens is None else _focal_problem(lens.focal_length_mm)
    if problem is not None:
        return FocalLabel(None, None, None, sensor_width_mm, factor, missing_reason=problem)
    focal = float(lens.focal_length_mm)
    return FocalLabel(
        focal_length_mm=focal,
        equivalent_35mm_mm=focal * factor,
        horizontal_fov_deg=horizontal_fov_deg(focal, sensor_width_mm),
        sensor_width_mm=sensor_width_mm,
        crop_factor=factor,
    )


def window_problem(
    t_ns: Sequence[int],
    *,
    start_ns: Optional[int] = None,
    end_ns: Optional[int] = None,
    min_samples: int = MIN_WINDOW_SAMPLES,
    max_gap_ns: int = MAX_SAMPLE_GAP_NS,
    min_span_ns: int = MIN_WINDOW_SPAN_NS,
) -> Optional[str]:
    """Why samples at ``t_ns`` (int ns) cannot carry a windowed label, or None when they can.

    ``start_ns``/``end_ns``, when given, are the window's edges: the first and last sample must
    lie within ``max_gap_ns`` of them, so a window the data only partly covers is a gap too.
    """
    t = np.asarray(t_ns, dtype=np.int64).reshape(-1)
    if t.size < min_samples:
        return f"{t.size} samples in the window, at least {min_samples} needed"
    steps = np.diff(t)
    if np.any(steps <= 0):
        i = int(np.argmax(steps <= 0))
        return f"sample times do not increase: t[{i + 1}] = {int(t[i + 1])} ns after t[{i}] = {int(t[i])} ns"
    if steps.size and int(steps.max()) > max_gap_ns:
        i = int(np.argmax(steps))
        gap_ms, limit_ms = steps[i] / NS_PER_MS, max_gap_ns / NS_PER_MS
        return f"gap of {gap_ms:.1f} ms after t = {int(t[i])} ns (at most {limit_ms:.1f} ms)"
    if start_ns is not None and int(t[0]) - start_ns > max_gap_ns:
        return f"no sample in the first {(int(t[0]) - start_ns) / NS_PER_MS:.1f} ms of the window"
    if end_ns is not None and end_ns - int(t[-1]) > max_gap_ns:
        return f"no sample in the last {(end_ns - int(t[-1])) / NS_PER_MS:.1f} ms of the window"
    span_ns = int(t[-1] - t[0])
    if span_ns < min_span_ns:
        return f"samples span {span_ns / NS_PER_MS:.1f} ms, at least {min_span_ns / NS_PER_MS:.1f} ms needed"
    return None


def _missing_zoom(reason: str, samples: int) -> ZoomLabel:
    return ZoomLabel(ZoomDirection.MISSING, None, None, None, samples, missing_reason=reason)


def zoom_over_window(
    t_ns: Sequence[int],
    focal_lengths_mm: Sequence[Optional[float]],
    *,
    threshold_pct_per_s: float = ZOOM_THRESHOLD_PCT_PER_S,
) -> ZoomLabel:
    """Zoom direction and rate over a short window of focal lengths (mm) at times ``t_ns`` (int ns).

    The rate is the least-squares slope (mm/s) and that slope over the mean focal length (%/s);
    the lens zooms in (out) when the percentage is at least ``threshold_pct_per_s`` (at most minus
    it). A window that breaks :func:`window_problem`'s rules, or holds a missing or unusable focal
    length, gives a missing label saying why.
    """
    if len(t_ns) != len(focal_lengths_mm):
        raise ValueError(f"{len(t_ns)} times but {len(focal_lengths_mm)} focal lengths")
    samples = len(t_ns)
    for i, focal in enumerate(focal_lengths_mm):
        problem = _focal_problem(focal)
        if problem is not None:
            return _missing_zoom(f"sample {i}: {problem}", samples)
    problem = window_problem(t_ns)
    if problem is not None:
        return _missing_zoom(problem, samples)
    t = np.asarray(t_ns, dtype=np.int64)
    t_s = (t - t[0]) / NS_PER_S
    f = np.asarray(focal_lengths_mm, dtype=np.float64)
    rate_mm_per_s = float(np.polyfit(t_s, f, 1)[0])
    mean_mm = float(f.mean())
    rate_pct_per_s = 100.0 * rate_mm_per_s / mean_mm
    if rate_pct_per_s >= threshold_pct_per_s:
        direction = ZoomDirection.IN
    elif rate_pct_per_s <= -threshold_pct_per_s:
        direction = ZoomDirection.OUT
    else:
        direction = ZoomDirection.STATIC
    return ZoomLabel(direction, rate_mm_per_s, rate_pct_per_s, mean_mm, samples)
