"""Per-sensor clock models: sensor time -> master (host) time, robust to outliers and clock steps.

:class:`ClockModel` is fed (sensor stamp, host receive time) pairs as samples arrive and keeps an
online robust fit of offset and drift over the newest seconds of sensor time
(:class:`~edge.clock.window.SampleWindow`); :mod:`edge.clock.fit` holds the pure line-fitting
functions it is built from (robust spread, Huber line, lower envelope, reject-cluster step test),
:mod:`edge.clock.change` the CUSUM that finds steps inside the outlier gate, and
:mod:`edge.clock.master` the watch on the master clock's own steps. See docs/architecture.md, Time.
"""

from __future__ import annotations

from edge.clock.change import (
    CUSUM_CLIP,
    CUSUM_DRIFT,
    CUSUM_THRESHOLD,
    CusumState,
    cusum_update,
    detection_bound_samples,
)
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
from edge.clock.master import MasterClockStep, MasterClockWatch
from edge.clock.model import (
    DELAY_MODELS,
    ClockError,
    ClockModel,
    ClockNotReadyError,
    ClockSnapshot,
)
from edge.clock.window import SampleWindow

__all__ = [
    "CUSUM_CLIP",
    "CUSUM_DRIFT",
    "CUSUM_THRESHOLD",
    "DELAY_MODELS",
    "ClockError",
    "ClockMapping",
    "ClockModel",
    "ClockNotReadyError",
    "ClockSnapshot",
    "CusumState",
    "MAD_TO_SIGMA",
    "LineFit",
    "MasterClockStep",
    "MasterClockWatch",
    "SampleWindow",
    "cusum_update",
    "detect_step",
    "detection_bound_samples",
    "huber_line_fit",
    "lower_envelope_fit",
    "mad",
    "resistant_line",
    "robust_sigma",
    "weighted_line_fit",
]
