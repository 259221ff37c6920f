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


def rotations_from_pan_tilt_roll(pan_deg, tilt_deg, roll_deg) -> np.ndarray:
    """``R_stage_rig`` (..., 3, 3): vectorised :func:`sensors.vocabulary.rotation_from_pan_tilt_roll`
    (``Rz(pan) @ Ry(-tilt) @ Rx(roll)``)."""
    p, t, r = (np.radians(np.asarray(v, dtype=float)) for v in (pan_deg, tilt_deg, roll_deg))
    if not (p.shape == t.shape == r.shape):
        p, t, r = np.broadcast_arrays(p, t, r)
    cp, sp = np.cos(p), np.sin(p)
    ct, st = np.cos(t), np.sin(t)  # Ry(-tilt): cos(-t) = ct, sin(-t) = -st
    cr, sr = np.cos(r), np.sin(r)
    R = np.empty(p.shape + (3, 3))
    # Rz(p) @ Ry(-t) = [[cp ct, -sp, -cp st], [sp ct, cp, -sp st], [st, 0, ct]]; then @ Rx(r).
    R[..., 0, 0] = cp * ct
    R[..., 0, 1] = -sp * cr - cp * st * sr
    R[..., 0, 2] = sp * sr - cp * st * cr
    R[..., 1, 0] = sp * ct
    R[..., 1, 1] = cp * cr - sp * st * sr
    R[..., 1, 2] = -cp * sr - sp * st * cr
    R[..., 2, 0] = st
    R[..., 2, 1] = ct * sr
    R[..., 2, 2] = ct * cr
    return R


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
    dolly, lift, pan, tilt, roll = np.moveaxis(plan.sample(t_s, _POSE_CHANNELS), -1, 0)
    T = np.empty(np.shape(dolly) + (4, 4))
    T[..., :3, :3] = rotations_from_pan_tilt_roll(pan, tilt, roll)
    T[..., :3, 3] = rig_positions(geometry, dolly, lift)
    T[..., 3, :3] = 0.0
    T[..., 3, 3] = 1.0
    return T


def rig_velocities(geometry: RigGeometry, plan: ShotPlan, t_s) -> tuple:
    """Analytic rates at plan time(s) ``t_s``: ``(velocity_mps (..., 3) of the camera body in stage,
    pan/tilt/roll rates (..., 3) in degrees per second)``."""
    ch = plan.sample(t_s)
    rate = plan.rate(t_s)
    lift = np.radians(ch[..., _LIFT])[..., None]
    lift_rate = np.radians(rate[..., _LIFT])[..., None]
    h = geometry.track_direction
    z = np.array([0.0, 0.0, 1.0])
    velocity = rate[..., _DOLLY][..., None] * h + geometry.crane_arm_m * lift_rate * (-np.sin(lift) * h + np.cos(lift) * z)
    return velocity, rate[..., [_PAN, _TILT, _ROLL]]
