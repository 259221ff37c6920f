"""Forward kinematics of the camera rig: dolly on a straight track, crane arm, pan/tilt/roll head.

Geometry (stage frame, z up, metres):

* the dolly runs on a straight track from ``track_origin_m`` along the horizontal heading
  ``track_heading_deg`` (counter-clockwise from stage +x); ``dolly_m`` is the distance along it;
* the crane's pivot stands ``crane_pivot_height_m`` above the dolly; its arm, ``crane_arm_m``
  long, points along the track heading and is lifted ``crane_lift_deg`` above horizontal;
* the remote head sits at the arm's tip and is kept level by the crane's parallelogram, so its
  pan is the camera's yaw in the stage (not relative to the arm) and tilt/roll are relative to
  the horizon; the camera body (frame ``rig``) is at the head's centre.

Everything is vectorised over time: one call gives thousands of poses (one per LiDAR firing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from config.models import StageConfig
from sensors.sim.shot_plan import CHANNELS, ShotPlan

__all__ = ["RigGeometry", "rotations_from_pan_tilt_roll", "rig_positions", "rig_matrices", "rig_velocities"]

_POSE_CHANNELS = tuple(CHANNELS.index(n) for n in ("dolly_m", "crane_lift_deg", "pan_deg", "tilt_deg", "roll_deg"))
_DOLLY, _LIFT, _PAN, _TILT, _ROLL = _POSE_CHANNELS


@dataclass(frozen=True)
class RigGeometry:
    """Fixed dimensions of the dolly track and crane (from :class:`StageConfig`)."""

    track_origin_m: np.ndarray
    track_heading_deg: float
    track_length_m: float
    crane_pivot_height_m: float
    crane_arm_m: float

    @classmethod
    def from_stage(cls, stage: StageConfig) -> "RigGeometry":
        return cls(
            track_origin_m=np.asarray(stage.track_origin_m, dtype=float),
            track_heading_deg=float(stage.track_heading_deg),
            track_length_m=float(stage.track_length_m),
            crane_pivot_height_m=float(stage.crane_pivot_height_m),
            crane_arm_m=float(stage.crane_arm_m),
        )

    @property
    def track_direction(self) -> np.ndarray:
        """Unit horizontal vector (3,) along the track."""
        a = np.radians(self.track_heading_deg)
        return np.array([np.cos(a), np.sin(a), 0.0])


def _rotation_entries(pan_deg, tilt_deg, roll_deg) -> list:
    """The nine entries (row-major) of ``Rz(pan) @ Ry(-tilt) @ Rx(roll)``, each an array."""
    p, t, r = (np.radians(np.asarray(v, dtype=float)) for v in (pan_deg, tilt_deg, roll_deg))
    cp, sp = np.cos(p), np.sin(p)
    ct, st = np.cos(t), np.sin(t)  # Ry(-tilt): cos(-t) = ct, sin(-t) = -st
    cr, sr = np.cos(r), np.sin(r)
    # Rz(p) @ Ry(-t) = [[cp ct, -sp, -cp st], [sp ct, cp, -sp st], [st, 0, ct]]; then @ Rx(r).
    cpst, spst = cp * st, sp * st
    return [
        cp * ct, cpst * -sr - sp * cr, sp * sr - cpst * cr,
        sp * ct, cp * cr - spst * sr, -cp * sr - spst * cr,
        st, ct * sr, ct * cr,
    ]


def rotations_from_pan_tilt_roll(pan_deg, tilt_deg, roll_deg) -> np.ndarray:
    """``R_stage_rig`` (..., 3, 3): vectorised :func:`sensors.vocabulary.rotation_from_pan_tilt_roll`
    (``Rz(pan) @ Ry(-tilt) @ Rx(roll)``)."""
    entries = np.broadcast_arrays(*_rotation_entries(pan_deg, tilt_deg, roll_deg))
    return np.stack(entries, axis=-1).reshape(entries[0].shape + (3, 3))


def rig_positions(geometry: RigGeometry, dolly_m, crane_lift_deg) -> np.ndarray:
    """Camera body positions (..., 3) in stage for dolly positions and crane lifts."""
    dolly = np.asarray(dolly_m, dtype=float)[..., None]
    lift = np.radians(np.asarray(crane_lift_deg, dtype=float))[..., None]
    h = geometry.track_direction
    z = np.array([0.0, 0.0, 1.0])
    pivot = geometry.track_origin_m + dolly * h + geometry.crane_pivot_height_m * z
    return pivot + geometry.crane_arm_m * (np.cos(lift) * h + np.sin(lift) * z)


def rig_matrices(geometry: RigGeometry, plan: ShotPlan, t_s) -> np.ndarray:
    """``T_stage_rig`` (..., 4, 4) at plan time(s) ``t_s`` (seconds since the plan's start)."""
    dolly, lift, pan, tilt, roll = plan.sample_channels(t_s, _POSE_CHANNELS)
    shape = np.shape(dolly)
    r = _rotation_entries(pan, tilt, roll)
    # Position, written out per axis: broadcasting (N,1) x (3,) is slow in numpy.
    h = geometry.track_direction
    lift_rad = np.radians(lift)
    along = dolly + geometry.crane_arm_m * np.cos(lift_rad)
    x = geometry.track_origin_m[0] + along * h[0]
    y = geometry.track_origin_m[1] + along * h[1]
    z = (geometry.track_origin_m[2] + geometry.crane_pivot_height_m) + geometry.crane_arm_m * np.sin(lift_rad)
    # Filled entry-major, then transposed in one copy: writing 16 strided columns is 3x slower.
    entries = np.empty((16,) + shape)
    for i, value in enumerate((r[0], r[1], r[2], x, r[3], r[4], r[5], y, r[6], r[7], r[8], z, 0.0, 0.0, 0.0, 1.0)):
        entries[i] = value
    return np.ascontiguousarray(np.moveaxis(entries, 0, -1)).reshape(shape + (4, 4))


def rig_velocities(geometry: RigGeometry, plan: ShotPlan, t_s) -> tuple:
    """Analytic rates at plan time(s) ``t_s``: ``(velocity_mps (..., 3) of the camera body in stage,
    pan/tilt/roll rates (..., 3) in degrees per second)``."""
    ch = plan.sample(t_s)
    rate = plan.rate(t_s)
    lift = np.radians(ch[..., _LIFT])[..., None]
    lift_rate = np.radians(rate[..., _LIFT])[..., None]
    h = geometry.track_direction
    z = np.array([0.0, 0.0, 1.0])
    arm_velocity = geometry.crane_arm_m * lift_rate * (-np.sin(lift) * h + np.cos(lift) * z)
    velocity = rate[..., _DOLLY][..., None] * h + arm_velocity
    return velocity, rate[..., [_PAN, _TILT, _ROLL]]
