"""Lens encoder counts <-> physical lens values through a :class:`LensCalibrationConfig`.

A calibration is two tables of (encoder count, physical value) points: zoom counts to focal length
in millimetres, focus counts to focus distance in metres. Between points the mapping is linear;
outside the table it clamps to the end points (an encoder can read past the last calibrated
point, the lens cannot go past its end stop). Lenses are rarely linear, so a real calibration
lists as many points as it needs.

The inverse (physical value -> nearest integer count) serves the simulated stage. It needs the
physical column to be strictly monotonic (increasing or decreasing: many focus rings count up
towards close focus); a table that is not raises :class:`LensCalibrationError`. A physical value
beyond the table clamps to the end count; an infinite focus distance is the far end stop; NaN
raises :class:`LensValueError`.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import numpy as np

from config.models import LensCalibrationConfig
from sensors.telemetry.errors import LensCalibrationError, LensValueError
from sensors.vocabulary import LensState

__all__ = [
    "focal_length_mm_from_zoom_raw",
    "focus_distance_m_from_focus_raw",
    "zoom_raw_from_focal_length_mm",
    "focus_raw_from_focus_distance_m",
    "lens_from_raw",
    "raw_from_lens",
    "lens_step_per_count",
]


def _forward(raw: int, table_raw: Sequence[int], table_phys: Sequence[float]) -> float:
    """Piecewise-linear count -> physical value, clamped at the table's ends."""
    return float(np.interp(float(raw), np.asarray(table_raw, dtype=float), np.asarray(table_phys, dtype=float)))


def _inverse(value: float, table_raw: Sequence[int], table_phys: Sequence[float], name: str) -> int:
    """Piecewise-linear physical value -> nearest count, clamped at the table's ends."""
    value = float(value)
    if math.isnan(value):
        raise LensValueError(f"{name} is NaN; a lens value must be a number")
    raw = np.asarray(table_raw, dtype=float)
    phys = np.asarray(table_phys, dtype=float)
    steps = np.diff(phys)
    if np.all(steps > 0):
        count = np.interp(value, phys, raw)
    elif np.all(steps < 0):
        # np.interp needs increasing sample points: walk the table backwards.
        count = np.interp(value, phys[::-1], raw[::-1])
    else:
        raise LensCalibrationError(
            f"{name} table {list(table_phys)} is not strictly monotonic, so a {name} does not "
            f"name one encoder count; fix the lens calibration"
        )
    return int(round(float(count)))


def focal_length_mm_from_zoom_raw(zoom_raw: int, calibration: LensCalibrationConfig) -> float:
    """Focal length (mm) at zoom encoder count ``zoom_raw``."""
    return _forward(zoom_raw, calibration.zoom_raw, calibration.focal_length_mm)


def focus_distance_m_from_focus_raw(focus_raw: int, calibration: LensCalibrationConfig) -> float:
    """Focus distance (m) at focus encoder count ``focus_raw``."""
    return _forward(focus_raw, calibration.focus_raw, calibration.focus_distance_m)


def zoom_raw_from_focal_length_mm(focal_length_mm: float, calibration: LensCalibrationConfig) -> int:
    """Nearest zoom encoder count giving ``focal_length_mm`` (clamped to the table)."""
    return _inverse(focal_length_mm, calibration.zoom_raw, calibration.focal_length_mm, "focal_length_mm")


def focus_raw_from_focus_distance_m(focus_distance_m: float, calibration: LensCalibrationConfig) -> int:
    """Nearest focus encoder count giving ``focus_distance_m`` (clamped to the table)."""
    return _inverse(focus_distance_m, calibration.focus_raw, calibration.focus_distance_m, "focus_distance_m")


def lens_from_raw(
    zoom_raw: int, focus_raw: int, calibration: LensCalibrationConfig, t_stop: Optional[float] = None
) -> LensState:
    """The lens state the encoder counts stand for.

    Encoders report zoom and focus only; ``t_stop`` is passed through (FreeD carries no iris).
    """
    return LensState(
        focal_length_mm=focal_length_mm_from_zoom_raw(zoom_raw, calibration),
        focus_distance_m=focus_distance_m_from_focus_raw(focus_raw, calibration),
        t_stop=t_stop,
    )


def raw_from_lens(lens: LensState, calibration: LensCalibrationConfig) -> Tuple[int, int]:
    """(zoom_raw, focus_raw) encoder counts nearest to ``lens``; inverse of :func:`lens_from_raw`."""
    return (
        zoom_raw_from_focal_length_mm(lens.focal_length_mm, calibration),
        focus_raw_from_focus_distance_m(lens.focus_distance_m, calibration),
    )


def lens_step_per_count(calibration: LensCalibrationConfig) -> Tuple[float, float]:
    """Largest change per encoder count: (focal length mm per count, focus distance m per count).

    Half of each is the worst error of a roundtrip through integer counts (quantization bound).
    """

    def steepest(raw: Sequence[int], phys: Sequence[float]) -> float:
        return float(np.max(np.abs(np.diff(np.asarray(phys, dtype=float)) / np.diff(np.asarray(raw, dtype=float)))))

    return (
        steepest(calibration.zoom_raw, calibration.focal_length_mm),
        steepest(calibration.focus_raw, calibration.focus_distance_m),
    )
