"""Per-sensor clock models: sensor time -> master (host) time, robust to outliers and clock steps.

:class:`ClockModel` is fed (sensor stamp, host receive time) pairs as samples arrive and keeps an
online robust fit of offset and drift; :mod:`edge.clock.fit` holds the pure line-fitting functions
it is built from (robust spread, Huber line, lower envelope, step test). See DESIGN.md, Time.
"""

from __future__ import annotations

from edge.clock.fit import (
    MAD_TO_SIGMA,
    ClockMapping,
    LineFit,
    detect_step,
    huber_line_fit,
    lower_envelope_fit,
    mad,
    resistant_line,
    robust_sigma,
    weighted_line_fit,
)
from edge.clock.model import (
    DELAY_MODELS,
    ClockError,
    ClockModel,
    ClockNotReadyError,
    ClockSnapshot,
)

__all__ = [
    "DELAY_MODELS",
    "ClockError",
    "ClockMapping",
    "ClockModel",
    "ClockNotReadyError",
    "ClockSnapshot",
    "MAD_TO_SIGMA",
    "LineFit",
    "detect_step",
    "huber_line_fit",
    "lower_envelope_fit",
    "mad",
    "resistant_line",
    "robust_sigma",
    "weighted_line_fit",
]
