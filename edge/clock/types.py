"""Values the clock models hand out for diagnostics (the mapping itself is
:class:`edge.clock.fit.ClockMapping`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from edge.clock.fit import ClockMapping

__all__ = ["ClockSnapshot"]


@dataclass(frozen=True)
class ClockSnapshot:
    """A consistent view of one clock model for diagnostics.

    ``offset_ns`` is master minus sensor time at the newest sample's sensor time; ``drift_ppm`` the
    sensor clock's rate error; ``residual_jitter_ns`` the robust spread (1.4826 MAD) of the samples
    about the fit; ``error_estimate_ns`` and ``drift_error_ppm`` the fit's own standard errors of the
    mapping at the newest sample and of the drift; ``window_samples`` the gated samples in the fit;
    ``outliers`` the samples judged outside the gate (clock-step samples excluded).
    Fields are None until the model has the data for them.
    """

    name: str
    delay_model: str
    observed: int
    window_samples: int
    converged: bool
    steps: int
    outliers: int
    offset_ns: Optional[int]
    drift_ppm: Optional[float]
    residual_jitter_ns: Optional[float]
    error_estimate_ns: Optional[float]
    drift_error_ppm: Optional[float]
    last_sensor_ns: Optional[int]
    last_host_ns: Optional[int]
    mapping: Optional[ClockMapping]
