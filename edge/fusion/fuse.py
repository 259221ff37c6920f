"""Fuse one camera frame: pose and lens at its exposure time, deskewed LiDAR depth, timecode.

:func:`fuse_frame` is a pure function of what the synchronizer gathered for the frame; it does
not decide what is late or missing (the ``sync`` entries it is given say that), it only builds
the :class:`~sensors.vocabulary.FusedFrame` from whatever there is:

* no pose track: the pose is None and LiDAR points go into the camera through the extrinsics
  alone (as if the rig stood still over the window);
* no lens state: ``K`` comes from ``default_focal_length_mm``;
* no LiDAR points: the depth map is all NaN.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from config.models import CameraConfig
from edge.fusion.deskew import DEFAULT_KNOT_SPACING_NS, deskew_points, transform_points
from edge.fusion.depth import (
    DepthProjection,
    T_optical_lidar,
    camera_intrinsics,
    image_bounds_normalized,
    project_to_depth,
)
from edge.fusion.interpolate import PoseTrack
from sensors.vocabulary import FusedFrame, ImageFrame, LensState, RigPose, SensorSync, Timecode

__all__ = [
    "DEFAULT_FOCAL_LENGTH_MM",
    "LidarPoints",
    "fuse_frame",
    "lidar_in_optical",
    "view_candidates",
    "window_bounds",
]

#: Focal length used for ``K`` when no lens state is known at all.
DEFAULT_FOCAL_LENGTH_MM = 35.0

# View culling: points nearer the camera than (rig shift over the window) / _PARALLAX_RAD are always
# kept; farther ones turn by at most the rig's rotation plus _PARALLAX_RAD as seen from the camera.
_PARALLAX_RAD = 0.05
_CULL_SLACK_RAD = 0.02

Window = Union[int, Tuple[int, int]]


class LidarPoints(NamedTuple):
    """LiDAR points from one sensor: ``xyz_m`` (N,3) in its own frame, ``t_ns`` (N,) int64 each
    point's time on the *master* clock, ``T_rig_lidar`` (4,4) where it sits on the camera body."""

    xyz_m: np.ndarray
    t_ns: np.ndarray
    T_rig_lidar: np.ndarray


def window_bounds(t_frame_ns: int, window_ns: Window) -> Tuple[int, int]:
    """``[start, end]`` master times of the LiDAR window around a frame: ``window_ns`` is a
    half-width (points within +/- it) or ``(before_ns, after_ns)``."""
    if isinstance(window_ns, (tuple, list)):
        before, after = (int(v) for v in window_ns)
    else:
        before = after = int(window_ns)
    if before < 0 or after < 0:
        raise ValueError(f"window must not be negative, got {window_ns}")
    return int(t_frame_ns) - before, int(t_frame_ns) + after


def lidar_in_optical(
    points: LidarPoints,
    t_frame_ns: int,
    poses: Optional[PoseTrack],
    *,
    deskew: bool = True,
    knot_spacing_ns: int = DEFAULT_KNOT_SPACING_NS,
) -> np.ndarray:
    """The points (N,3) in ``camera_optical`` at the frame time: deskewed with ``poses`` when
    given (and ``deskew``), else through the extrinsics alone."""
    T_ol = T_optical_lidar(points.T_rig_lidar)
    if deskew and poses is not None and poses.samples > 0:
        return deskew_points(
            points.xyz_m, points.t_ns, t_frame_ns, poses, points.T_rig_lidar,
            T_target_lidar=T_ol, knot_spacing_ns=knot_spacing_ns,
        )
    return transform_points(T_ol, points.xyz_m)


def _motion_bound(
    poses: Optional[PoseTrack], t_frame_ns: int, t_min: int, t_max: int, lever_m: float
) -> Tuple[float, float]:
    """``(rotation_rad, shift_m)``: how far the rig turns, and how far a point ``lever_m`` from the
    rig's origin moves, between the frame time and any time in ``[t_min, t_max]`` (poses are
    piecewise slerp/linear, so the extremes lie at the window's ends or at pose samples)."""
    if poses is None or poses.samples == 0:
        return 0.0, 0.0
    inside = poses.t_ns[(poses.t_ns > t_min) & (poses.t_ns < t_max)]
    times = np.concatenate([np.array([t_min, t_max], dtype=np.int64), inside])
    position, quat = poses.at(times)
    position_f, quat_f = poses.at(np.array([int(t_frame_ns)], dtype=np.int64))
    cos_half = np.clip(np.abs(quat @ quat_f[0]), 0.0, 1.0)
    rotation = float(2.0 * np.arccos(cos_half.min()))
    shift = float(np.linalg.norm(position - position_f[0], axis=1).max()) + lever_m * rotation
    return rotation, shift


def view_candidates(
    points: LidarPoints,
    t_frame_ns: int,
    poses: Optional[PoseTrack],
    K: np.ndarray,
    distortion: Sequence[float],
    width_px: int,
    height_px: int,
) -> np.ndarray:
    """Indices of the points that may land in the image once deskewed: a cheap, conservative cut
    (a cone around the optical axis, widened by how far the rig moved over the points' times)
    so that only those go through the per-point deskew."""
    xyz = np.asarray(points.xyz_m, dtype=np.float64).reshape(-1, 3)
    if xyz.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    t = np.asarray(points.t_ns, dtype=np.int64)
    naive = transform_points(T_optical_lidar(points.T_rig_lidar), xyz)
    x_min, x_max, y_min, y_max = image_bounds_normalized(K, distortion, width_px, height_px)
    half_angle = float(np.arctan(np.hypot(max(-x_min, x_max), max(-y_min, y_max))))
    lever = float(np.linalg.norm(np.asarray(points.T_rig_lidar, dtype=np.float64)[:3, 3]))
    rotation, shift = _motion_bound(poses, t_frame_ns, int(t.min()), int(t.max()), lever)
    angle = half_angle + rotation + _PARALLAX_RAD + _CULL_SLACK_RAD
    if angle >= np.pi:
        return np.arange(xyz.shape[0], dtype=np.int64)
    r = np.sqrt(np.einsum("ij,ij->i", naive, naive))
    keep = (naive[:, 2] >= np.cos(angle) * r) | (r <= shift / _PARALLAX_RAD)
    return np.flatnonzero(keep)


def _select(points: LidarPoints, start_ns: int, end_ns: int) -> LidarPoints:
    t = np.asarray(points.t_ns, dtype=np.int64)
    xyz = np.asarray(points.xyz_m).reshape(-1, 3)
    if t.shape[0] != xyz.shape[0]:
        raise ValueError(f"{xyz.shape[0]} LiDAR points but {t.shape[0]} point times")
    keep = (t >= start_ns) & (t <= end_ns)
    if keep.all():
        return LidarPoints(xyz, t, points.T_rig_lidar)
    return LidarPoints(xyz[keep], t[keep], points.T_rig_lidar)


def fuse_frame(
    image: ImageFrame,
    t_frame_ns: int,
    timecode: Optional[Timecode],
    points: Union[LidarPoints, Sequence[LidarPoints]],
    poses: Optional[PoseTrack],
    lens: Optional[LensState],
    camera: CameraConfig,
    window_ns: Window,
    sync: Sequence[SensorSync] = (),
    *,
    deskew: bool = True,
    default_focal_length_mm: float = DEFAULT_FOCAL_LENGTH_MM,
    knot_spacing_ns: int = DEFAULT_KNOT_SPACING_NS,
) -> FusedFrame:
    """Fuse ``image`` exposed (mid-time) at master time ``t_frame_ns`` into a :class:`FusedFrame`.

    ``points``: LiDAR points on the master clock (one :class:`LidarPoints` per sensor; those
    outside ``window_ns`` around the frame are left out). ``poses``: ``T_stage_rig`` samples on the
    master clock (None: no telemetry). ``lens``: the lens at the frame time (None: unknown).
    ``sync``: each sensor's part, carried onto the frame. The depth map has the image's size.
    """
    height, width = image.height_px, image.width_px
    focal_mm = lens.focal_length_mm if lens is not None else float(default_focal_length_mm)
    K, distortion = camera_intrinsics(camera, focal_mm, width, height)
    pose: Optional[RigPose] = None
    if poses is not None and poses.samples > 0:
        position, quat = poses.at(np.array([int(t_frame_ns)], dtype=np.int64))
        pose = RigPose(t_ns=int(t_frame_ns), position_m=position[0], orientation_xyzw=quat[0])
    sources = [points] if isinstance(points, LidarPoints) else list(points)
    start, end = window_bounds(t_frame_ns, window_ns)
    optical = []
    for source in sources:
        selected = _select(source, start, end)
        if selected.t_ns.size == 0:
            continue
        near = view_candidates(selected, t_frame_ns, poses if deskew else None, K, distortion, width, height)
        selected = LidarPoints(selected.xyz_m[near], selected.t_ns[near], selected.T_rig_lidar)
        optical.append(
            lidar_in_optical(selected, t_frame_ns, poses, deskew=deskew, knot_spacing_ns=knot_spacing_ns)
        )
    xyz = np.concatenate(optical) if optical else np.zeros((0, 3))
    projection: DepthProjection = project_to_depth(xyz, K, distortion, width, height)
    return FusedFrame(
        frame_index=int(image.frame_index),
        t_ns=int(t_frame_ns),
        timecode=timecode,
        rgb=image.rgb,
        depth_m=projection.depth_m,
        pose=pose,
        lens=lens,
        K=K,
        distortion=distortion,
        sync=tuple(sync),
        points_used=int(projection.index.size),
    )
