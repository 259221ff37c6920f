"""Telemetry as typed rows: one numpy structured record per sample, fields named with their units.

:data:`TELEMETRY_ROW` is what the synchronizer buffers for every telemetry sample (rig pose and
lens); :func:`telemetry_row` validates a :class:`~sensors.vocabulary.TelemetrySample` into one
(None when it is not usable: a non-finite position or angle). A lens field is NaN when the sample
carries no lens state, ``t_stop`` NaN when the lens reports no T-stop.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from sensors.vocabulary import TelemetrySample, matrix_to_quat, rotation_from_pan_tilt_roll

__all__ = ["TELEMETRY_ROW", "telemetry_row"]

#: One telemetry sample: ``T_stage_rig`` as position and unit quaternion (x, y, z, w), and the lens.
TELEMETRY_ROW = np.dtype([
    ("position_m", np.float64, (3,)),
    ("quat_xyzw", np.float64, (4,)),
    ("focal_length_mm", np.float64),
    ("focus_distance_m", np.float64),
    ("t_stop", np.float64),
])


def telemetry_row(sample: TelemetrySample) -> Optional[np.ndarray]:
    """The sample as a 0-d :data:`TELEMETRY_ROW` record, or None when its pose is not finite."""
    try:
        position = np.asarray(sample.position_m, dtype=np.float64).reshape(3)
        angles = np.array([sample.pan_deg, sample.tilt_deg, sample.roll_deg], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if not (np.isfinite(position).all() and np.isfinite(angles).all()):
        return None
    row = np.zeros((), dtype=TELEMETRY_ROW)
    row["position_m"] = position
    row["quat_xyzw"] = matrix_to_quat(rotation_from_pan_tilt_roll(*angles))
    lens = sample.lens
    if lens is None:
        row["focal_length_mm"] = row["focus_distance_m"] = row["t_stop"] = np.nan
    else:
        row["focal_length_mm"] = lens.focal_length_mm
        row["focus_distance_m"] = lens.focus_distance_m
        row["t_stop"] = np.nan if lens.t_stop is None else lens.t_stop
    return row
