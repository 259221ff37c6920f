"""The simulated film stage: ground truth of the set, the actors, the rig and the lens at every instant.

:class:`Stage` is what the simulated sensors ask. Time is the master clock in int nanoseconds;
the shot plan's t = 0 is ``epoch_ns``. Everything derives from the :class:`StageConfig` and its
seed, so the same config and epoch give an identical stage, identical ray hits and identical
images. A stage is safe to query from several threads at once (the camera renders while the
LiDAR casts).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from config.models import CameraConfig, RigConfig, StageConfig
from sensors.sim.actors import Actor, actor_matrices, generate_actors
from sensors.sim.dressing import DressingPiece, generate_dressing
from sensors.sim.lighting import Lighting, seeded_lighting
from sensors.sim.pixel_grid import pixel_grid_for
from sensors.sim.render import render_frame
from sensors.sim.rig import RigGeometry, rig_matrices, rig_velocities
from sensors.sim.scene import RayHits, StageObject, StageScene
from sensors.sim.shot_plan import CHANNELS, ShotPlan, plan_from_keyframes
from sensors.vocabulary import NS_PER_S, T_RIG_CAMERA_OPTICAL, LensState, RigPose, matrix_to_quat

__all__ = ["Stage", "stage_rngs"]

_FOCAL, _FOCUS, _TSTOP = (CHANNELS.index(n) for n in ("focal_length_mm", "focus_distance_m", "t_stop"))


def stage_rngs(seed: int) -> Tuple[np.random.Generator, np.random.Generator]:
    """Separate generators for the actors and for the dressing of a stage seed."""
    root = int(seed) % (1 << 64)
    return np.random.default_rng([root, 1]), np.random.default_rng([root, 2])


class Stage:
    """The stage of ``config`` whose shot plan starts at master time ``epoch_ns``.

    The room is centred on the stage origin: x spans ``width_m``, y spans ``depth_m``, walls rise
    ``height_m`` from the floor at z = 0 and the top is open. ``lighting`` replaces the default
    key/fill/ambient; ``nthreads`` is passed to Open3D's ray casting (0: all cores). A keyframe
    that puts the dolly off its track raises ``ValueError``.
    """

    def __init__(
        self, config: StageConfig, epoch_ns: int, lighting: Optional[Lighting] = None, nthreads: int = 0
    ) -> None:
        for i, key in enumerate(config.shot):
            if not 0.0 <= key.dolly_m <= config.track_length_m:
                raise ValueError(
                    f"shot keyframe {i} (t_s={key.t_s}) puts the dolly at {key.dolly_m} m, "
                    f"off the {config.track_length_m} m track (expected 0..{config.track_length_m})"
                )
        self.config = config
        self.epoch_ns = int(epoch_ns)
        self.lighting = seeded_lighting(config.seed) if lighting is None else lighting
        self.nthreads = int(nthreads)
        rng_actors, rng_dressing = stage_rngs(config.seed)
        self.actors: List[Actor] = generate_actors(config, rng_actors)
        self.dressing: List[DressingPiece] = generate_dressing(
            config, rng_dressing, keep_clear=[a.path.footprint() for a in self.actors]
        )
        self.scene = StageScene(config, self.dressing, self.actors)
        self.plan: ShotPlan = plan_from_keyframes(config.shot, config.loop)
        self.geometry = RigGeometry.from_stage(config)

    @classmethod
    def from_rig(cls, rig: RigConfig, epoch_ns: int, **kwargs) -> "Stage":
        """The stage of a rig profile (its ``stage`` section)."""
        return cls(rig.stage, epoch_ns, **kwargs)

    @property
    def objects(self) -> List[StageObject]:
        """Every object (floor, walls, dressing, actors) with its id, name, albedo and kind."""
        return self.scene.objects

    def plan_time_s(self, t_ns) -> np.ndarray:
        """Seconds since the epoch (float64) of master time(s) ``t_ns``."""
        return (np.asarray(t_ns, dtype=np.int64) - np.int64(self.epoch_ns)) / NS_PER_S

    # --- the rig and the lens ---------------------------------------------------------------

    def rig_matrices(self, t_ns) -> np.ndarray:
        """``T_stage_rig`` (N,4,4) at master times ``t_ns`` (N,) int64 (vectorised)."""
        return rig_matrices(self.geometry, self.plan, self.plan_time_s(np.atleast_1d(t_ns)))

    def rig_pose(self, t_ns: int) -> RigPose:
        """Pose of the camera body at master time ``t_ns``."""
        T = rig_matrices(self.geometry, self.plan, float(self.plan_time_s(t_ns)))
        return RigPose(t_ns=int(t_ns), position_m=T[:3, 3].copy(), orientation_xyzw=matrix_to_quat(T[:3, :3]))

    def lens(self, t_ns: int) -> LensState:
        """Focal length, focus distance and T-stop at master time ``t_ns``."""
        ch = self.plan.sample(float(self.plan_time_s(t_ns)))
        return LensState(float(ch[_FOCAL]), float(ch[_FOCUS]), float(ch[_TSTOP]))

    def rig_state(self, t_ns: int) -> Tuple[RigPose, LensState]:
        """``(rig_pose(t_ns), lens(t_ns))``."""
        return self.rig_pose(t_ns), self.lens(t_ns)

    def shot_channels(self, t_ns: int) -> Dict[str, float]:
        """Every shot-plan channel (dolly_m, crane_lift_deg, pan_deg, ...) at ``t_ns``."""
        ch = self.plan.sample(float(self.plan_time_s(t_ns)))
        return {name: float(v) for name, v in zip(CHANNELS, ch)}

    def rig_velocity(self, t_ns: int) -> Tuple[np.ndarray, np.ndarray]:
        """``(velocity_mps (3,) of the camera body in stage, pan/tilt/roll rates (3,) deg/s)``."""
        v, w = rig_velocities(self.geometry, self.plan, float(self.plan_time_s(t_ns)))
        return np.asarray(v, dtype=float), np.asarray(w, dtype=float)

    def T_stage_optical(self, t_ns: int) -> np.ndarray:
        """``T_stage_camera_optical`` (4,4) at ``t_ns`` (the camera sits at the rig's origin)."""
        return rig_matrices(self.geometry, self.plan, float(self.plan_time_s(t_ns))) @ T_RIG_CAMERA_OPTICAL

    # --- the set ----------------------------------------------------------------------------

    def actor_matrices(self, t_ns: int) -> np.ndarray:
        """``T_stage_actor`` (A,4,4) of every actor at master time ``t_ns``."""
        return actor_matrices(self.actors, float(self.plan_time_s(t_ns)))

    def cast_rays(self, origins_m: np.ndarray, directions: np.ndarray, t_ns) -> RayHits:
        """Nearest hit of each ray at its own master time.

        ``origins_m`` (N,3) and unit ``directions`` (N,3) in stage; ``t_ns`` (N,) int64 or one
        int for all. Each actor is seen exactly where it is at each ray's time.
        """
        o = np.asarray(origins_m, dtype=float).reshape(-1, 3)
        d = np.asarray(directions, dtype=float).reshape(-1, 3)
        if o.shape != d.shape:
            raise ValueError(f"origins {o.shape} and directions {d.shape} must have the same shape (N,3)")
        t_s = self.plan_time_s(t_ns)
        if t_s.ndim and t_s.shape != (o.shape[0],):
            raise ValueError(f"t_ns must be one time or one per ray ({o.shape[0]}), got shape {t_s.shape}")
        rays = np.concatenate([o, d], axis=1).astype(np.float32)
        t, obj, normal = self.scene.cast_static(rays, nthreads=self.nthreads)
        normal = normal.copy()
        self.scene.merge_actors(o, d, t_s if t_s.ndim else float(t_s), t, obj, normal, nthreads=self.nthreads)
        normal = normal.astype(float)
        flip = np.einsum("ij,ij->i", normal, d) > 0.0
        normal[flip] *= -1.0
        normal[obj < 0] = 0.0
        return RayHits(distance_m=t.astype(float), object_id=obj.astype(np.int32), normal_stage=normal)

    # --- the camera -------------------------------------------------------------------------

    def camera_matrix(self, t_ns: int, camera: CameraConfig) -> np.ndarray:
        """Intrinsics ``K`` (3,3) of ``camera`` with the lens's focal length at ``t_ns``."""
        return pixel_grid_for(camera, self.lens(t_ns).focal_length_mm).K.copy()

    def render(self, t_ns: int, camera: CameraConfig, with_depth: bool = False):
        """The camera's image at master time ``t_ns``: (H,W,3) uint8 sRGB, or
        ``(rgb, depth_m (H,W) float32)`` when ``with_depth`` (optical-axis depth, inf on a miss)."""
        lens = self.lens(t_ns)
        grid = pixel_grid_for(camera, lens.focal_length_mm)
        rgb, depth = render_frame(
            self.scene,
            self.lighting,
            grid,
            self.T_stage_optical(t_ns),
            float(self.plan_time_s(t_ns)),
            lens.t_stop,
            camera.intrinsics.vignetting,
            with_depth=with_depth,
            nthreads=self.nthreads,
        )
        return (rgb, depth) if with_depth else rgb
