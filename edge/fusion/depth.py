"""LiDAR points into a depth map aligned with the camera image: extrinsics, projection, z-buffer.

Frames: ``T_optical_lidar = T_rig_camera_optical^-1 T_rig_lidar`` takes lidar points into the
camera's optical frame (z forward, x right, y down; the camera sits at the rig's origin).
Intrinsics follow the lens: ``K`` from the focal length at the frame time through
:func:`sensors.camera.optics.intrinsics_matrix`, and Brown-Conrady distortion through
:func:`sensors.camera.optics.project_points` -- the same functions the simulated camera renders
with, so a point lands on the pixel that images it.

Pixels follow OpenCV's convention (pixel ``(u, v)`` covers ``[u - 0.5, u + 0.5)``). The depth is
the distance along the optical axis (REP-118), NaN where no point landed; where several points
land on one pixel the nearest wins.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple, Optional, Sequence, Tuple

import numpy as np

from config.models import CameraConfig
from sensors.camera import optics
from sensors.vocabulary import T_RIG_CAMERA_OPTICAL

__all__ = [
    "DepthProjection",
    "T_optical_lidar",
    "camera_intrinsics",
    "image_bounds_normalized",
    "project_to_depth",
]

#: Points nearer than this along the optical axis are not projected (behind or inside the lens).
MIN_DEPTH_M = 0.05

_T_OPTICAL_RIG = np.linalg.inv(T_RIG_CAMERA_OPTICAL)


class DepthProjection(NamedTuple):
    """A z-buffered projection: ``depth_m`` (H,W) float32, NaN where empty; ``uv_px`` (K,2) int32
    column and row of each kept point; ``index`` (K,) int64 which input point each kept one is."""

    depth_m: np.ndarray
    uv_px: np.ndarray
    index: np.ndarray


def T_optical_lidar(T_rig_lidar: np.ndarray) -> np.ndarray:
    """``T_camera_optical_lidar`` (4,4) of a LiDAR mounted at ``T_rig_lidar`` on the camera body."""
    return _T_OPTICAL_RIG @ np.asarray(T_rig_lidar, dtype=np.float64)


def camera_intrinsics(
    camera: CameraConfig, focal_length_mm: float, width_px: Optional[int] = None, height_px: Optional[int] = None
) -> Tuple[np.ndarray, Tuple[float, float, float, float, float]]:
    """``(K (3,3), distortion (k1, k2, p1, p2, k3))`` of ``camera`` at ``focal_length_mm``, for an
    image of ``width_px`` x ``height_px`` (default: the configured size; a configured principal
    point is scaled to another size)."""
    width = int(camera.width_px if width_px is None else width_px)
    height = int(camera.height_px if height_px is None else height_px)
    pp = camera.intrinsics.principal_point_px
    if pp is not None and (width, height) != (camera.width_px, camera.height_px):
        pp = ((pp[0] + 0.5) * width / camera.width_px - 0.5, (pp[1] + 0.5) * height / camera.height_px - 0.5)
    K = optics.intrinsics_matrix(focal_length_mm, camera.intrinsics.sensor_width_mm, width, height, pp)
    distortion = tuple(float(v) for v in camera.intrinsics.distortion)
    return K, distortion  # type: ignore[return-value]


@lru_cache(maxsize=64)
def _bounds(
    K_key: Tuple[float, ...], distortion: Tuple[float, ...], width_px: int, height_px: int
) -> Tuple[float, ...]:
    K = np.array(K_key).reshape(3, 3)
    # The image's border, a pixel outside it all round, in distorted normalised coordinates. The
    # undistorted border is smooth, so 65 samples an edge and a 2 % pad make a safe superset.
    u = np.linspace(-1.0, float(width_px), 65)
    v = np.linspace(-1.0, float(height_px), 65)
    border = np.concatenate(
        [
            np.stack([u, np.full_like(u, -1.0)], 1),
            np.stack([u, np.full_like(u, float(height_px))], 1),
            np.stack([np.full_like(v, -1.0), v], 1),
            np.stack([np.full_like(v, float(width_px)), v], 1),
        ]
    )
    yd = (border[:, 1] - K[1, 2]) / K[1, 1]
    xd = (border[:, 0] - K[0, 2] - K[0, 1] * yd) / K[0, 0]
    xy = optics.undistort_normalized(np.stack([xd, yd], axis=-1), distortion)
    x_min, x_max, y_min, y_max = xy[:, 0].min(), xy[:, 0].max(), xy[:, 1].min(), xy[:, 1].max()
    pad_x, pad_y = 0.02 * (x_max - x_min), 0.02 * (y_max - y_min)
    return float(x_min - pad_x), float(x_max + pad_x), float(y_min - pad_y), float(y_max + pad_y)


def image_bounds_normalized(
    K: np.ndarray, distortion: Sequence[float], width_px: int, height_px: int
) -> Tuple[float, float, float, float]:
    """``(x_min, x_max, y_min, y_max)`` of undistorted normalised coordinates that can reach the
    image (a pixel of margin). Points outside never land in it; testing this *before* distorting
    keeps points far off-axis, where the distortion polynomial folds back, out of the image."""
    key = tuple(float(v) for v in np.asarray(K, dtype=np.float64).ravel())
    d = tuple(float(v) for v in distortion)
    return _bounds(key, d, int(width_px), int(height_px))  # type: ignore[return-value]


def project_to_depth(
    xyz_optical: np.ndarray,
    K: np.ndarray,
    distortion: Sequence[float],
    width_px: int,
    height_px: int,
    *,
    min_depth_m: float = MIN_DEPTH_M,
) -> DepthProjection:
    """Project points (N,3) in ``camera_optical`` through ``K`` and distortion into a depth map
    (``height_px``, ``width_px``) float32: NaN-filled, the nearest point's optical-axis depth (m)
    wherever points land. Also the pixel of each kept point and its index into the input."""
    if width_px <= 0 or height_px <= 0:
        raise ValueError(f"image size must be positive, got {width_px} x {height_px}")
    pts = np.asarray(xyz_optical, dtype=np.float64).reshape(-1, 3)
    depth = np.full((int(height_px), int(width_px)), np.nan, dtype=np.float32)
    empty = DepthProjection(depth, np.zeros((0, 2), dtype=np.int32), np.zeros(0, dtype=np.int64))
    if pts.shape[0] == 0:
        return empty
    z = pts[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = np.isfinite(pts).all(axis=1) & (z > min_depth_m)
        idx = np.flatnonzero(ok)
        x = pts[idx, 0] / z[idx]
        y = pts[idx, 1] / z[idx]
    x_min, x_max, y_min, y_max = image_bounds_normalized(K, distortion, width_px, height_px)
    seen = (x >= x_min) & (x <= x_max) & (y >= y_min) & (y <= y_max)
    idx, x, y = idx[seen], x[seen], y[seen]
    if idx.size == 0:
        return empty
    xy_d = optics.distort_normalized(np.stack([x, y], axis=-1), distortion)
    Km = np.asarray(K, dtype=np.float64)
    u = Km[0, 0] * xy_d[:, 0] + Km[0, 1] * xy_d[:, 1] + Km[0, 2]
    v = Km[1, 1] * xy_d[:, 1] + Km[1, 2]
    col = np.floor(u + 0.5).astype(np.int64)
    row = np.floor(v + 0.5).astype(np.int64)
    inside = (col >= 0) & (col < width_px) & (row >= 0) & (row < height_px)
    idx, col, row = idx[inside], col[inside], row[inside]
    if idx.size == 0:
        return empty
    pixel = row * int(width_px) + col
    # Sort by pixel, then by depth: the first of each pixel's run is its nearest point.
    order = np.lexsort((z[idx], pixel))
    pixel_sorted = pixel[order]
    first = np.empty(order.size, dtype=bool)
    first[0] = True
    np.not_equal(pixel_sorted[1:], pixel_sorted[:-1], out=first[1:])
    keep = order[first]
    depth.ravel()[pixel[keep]] = z[idx[keep]]
    uv = np.stack([col[keep], row[keep]], axis=-1).astype(np.int32)
    return DepthProjection(depth, uv, idx[keep].astype(np.int64))
