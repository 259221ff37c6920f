"""Checks on what enters the pipeline: frames, exposure offsets and seeds, once, with the values named."""

from __future__ import annotations

import math
import numbers

import numpy as np

from engines.style.film.errors import FilmInputError

__all__ = ["MAX_EXPOSURE_STOPS", "check_code_values", "check_exposure_stops", "check_seed"]

#: Largest extra exposure, in stops either way, a look accepts (beyond it every curve is flat).
MAX_EXPOSURE_STOPS = 10.0


def check_code_values(values: object, name: str, *, frame: bool) -> np.ndarray:
    """``values`` as float64 after checking it is a float32/float64 array of Rec.709 code values
    in [0, 1], shaped (H, W, 3) with H, W >= 2 when ``frame``, else (..., 3)."""
    if not isinstance(values, np.ndarray):
        raise FilmInputError(f"{name} must be a numpy array of code values, got {type(values).__name__}")
    if values.dtype not in (np.float32, np.float64):
        hint = " (divide 8-bit code values by 255 first)" if values.dtype.kind in "ui" else ""
        raise FilmInputError(f"{name} must be float32 or float64 code values in [0, 1], got dtype {values.dtype}{hint}")
    if frame and (values.ndim != 3 or values.shape[2] != 3 or values.shape[0] < 2 or values.shape[1] < 2):
        raise FilmInputError(f"{name} must be an RGB frame shaped (H, W, 3) with H, W >= 2, got shape {values.shape}")
    if not frame and (values.ndim < 1 or values.shape[-1] != 3):
        raise FilmInputError(f"{name} must be shaped (..., 3) RGB, got shape {values.shape}")
    bad = ~np.isfinite(values)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise FilmInputError(f"{name} has {int(bad.sum())} NaN or infinite values (the first at index {first})")
    low, high = float(values.min()), float(values.max())
    if low < 0.0 or high > 1.0:
        where = tuple(int(i) for i in np.unravel_index(int(np.argmin(values) if low < 0.0 else np.argmax(values)), values.shape))
        raise FilmInputError(
            f"{name} must hold code values in [0, 1]; it spans [{low:.6g}, {high:.6g}] (e.g. at index {where})"
        )
    return values.astype(np.float64)


def check_exposure_stops(exposure_stops: object) -> float:
    """``exposure_stops`` as a float after checking it is a real number within +-:data:`MAX_EXPOSURE_STOPS`."""
    if isinstance(exposure_stops, bool) or not isinstance(exposure_stops, numbers.Real):
        raise FilmInputError(f"exposure_stops must be a number of stops, got {exposure_stops!r}")
    stops = float(exposure_stops)
    if not (math.isfinite(stops) and abs(stops) <= MAX_EXPOSURE_STOPS):
        raise FilmInputError(f"exposure_stops must be finite and within +-{MAX_EXPOSURE_STOPS:g}, got {stops!r}")
    return stops


def check_seed(seed: object) -> int:
    """``seed`` as an int after checking it is a whole number >= 0."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0:
        raise FilmInputError(f"seed must be a whole number >= 0, got {seed!r}")
    return int(seed)
