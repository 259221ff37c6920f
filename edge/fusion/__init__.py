"""Fusion: a camera frame plus pose, lens and deskewed LiDAR depth on the master clock.

Pure functions of arrays (docs/architecture.md, Data flow): :mod:`~edge.fusion.interpolate` gives the rig
pose at any time (position linear, rotation slerp); :mod:`~edge.fusion.deskew` moves each LiDAR
point to where it lies at the frame time; :mod:`~edge.fusion.depth` projects points through the
extrinsics, intrinsics and distortion into a z-buffered depth map; :mod:`~edge.fusion.fuse`
puts one :class:`~sensors.vocabulary.FusedFrame` together. The synchronizer (``edge.sync``)
decides what goes in and when.
"""

from __future__ import annotations

from edge.fusion.depth import (
    MIN_DEPTH_M,
    DepthProjection,
    T_optical_lidar,
    camera_intrinsics,
    image_bounds_normalized,
    project_to_depth,
)
from edge.fusion.deskew import DEFAULT_KNOT_SPACING_NS, PoseSource, deskew_points, transform_points
from edge.fusion.fuse import DEFAULT_FOCAL_LENGTH_MM, LidarPoints, fuse_frame, lidar_in_optical, window_bounds
from edge.fusion.interpolate import (
    PoseTrack,
    extrapolated,
    interpolate_poses,
    interpolate_values,
    pose_matrices,
    quats_to_matrices,
    slerp,
)

__all__ = [
    "DEFAULT_FOCAL_LENGTH_MM",
    "DEFAULT_KNOT_SPACING_NS",
    "MIN_DEPTH_M",
    "DepthProjection",
    "LidarPoints",
    "PoseSource",
    "PoseTrack",
    "T_optical_lidar",
    "camera_intrinsics",
    "deskew_points",
    "extrapolated",
    "fuse_frame",
    "image_bounds_normalized",
    "interpolate_poses",
    "interpolate_values",
    "lidar_in_optical",
    "pose_matrices",
    "project_to_depth",
    "quats_to_matrices",
    "slerp",
    "transform_points",
    "window_bounds",
]
