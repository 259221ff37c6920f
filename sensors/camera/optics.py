"""Pure camera maths: intrinsics from the lens, Brown-Conrady distortion, projection, pixel rays.

Everything here is a function of numpy arrays in the ``camera_optical`` frame (z forward,
x right, y down). Normalised image coordinates are ``(x/z, y/z)``; pixels follow OpenCV's
convention (the centre of the top-left pixel is at ``(0, 0)``, pixel ``(u, v)`` covers
``[u - 0.5, u + 0.5)``). Distortion is OpenCV's five-coefficient model ``(k1, k2, p1, p2, k3)``:

    r2 = x^2 + y^2,  radial = 1 + k1 r2 + k2 r2^2 + k3 r2^3
    x_d = x radial + 2 p1 x y + p2 (r2 + 2 x^2)
    y_d = y radial + p1 (r2 + 2 y^2) + 2 p2 x y

The simulated camera renders through these functions and fusion projects LiDAR points with
them, so the two agree by construction.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "focal_length_px",
    "intrinsics_matrix",
    "distort_normalized",
    "undistort_normalized",
    "project_points",
    "pixel_grid",
    "pixel_rays",
]


def focal_length_px(focal_length_mm: float, sensor_width_mm: float, width_px: int) -> float:
    """Focal length in pixels: ``focal_length_mm / pixel_pitch_mm`` with square pixels,
    ``pixel_pitch_mm = sensor_width_mm / width_px``."""
    if sensor_width_mm <= 0.0 or width_px <= 0:
        raise ValueError(f"sensor width {sensor_width_mm} mm and image width {width_px} px must be positive")
    return float(focal_length_mm) * float(width_px) / float(sensor_width_mm)


def intrinsics_matrix(
    focal_length_mm: float,
    sensor_width_mm: float,
    width_px: int,
    height_px: int,
    principal_point_px: Optional[Sequence[float]] = None,
) -> np.ndarray:
    """Camera matrix ``K`` (3,3) for square pixels; the principal point defaults to the image
    centre ``((W - 1) / 2, (H - 1) / 2)`` in OpenCV's pixel-centre convention."""
    f_px = focal_length_px(focal_length_mm, sensor_width_mm, width_px)
    if principal_point_px is None:
        cx, cy = (width_px - 1) / 2.0, (height_px - 1) / 2.0
    else:
        cx, cy = (float(v) for v in principal_point_px)
    return np.array([[f_px, 0.0, cx], [0.0, f_px, cy], [0.0, 0.0, 1.0]])


def _coefficients(distortion: Sequence[float]) -> Tuple[float, float, float, float, float]:
    d = np.asarray(distortion, dtype=float).ravel()
    if d.shape != (5,):
        raise ValueError(f"distortion needs five coefficients (k1, k2, p1, p2, k3), got {d.size}")
    k1, k2, p1, p2, k3 = (float(v) for v in d)
    return k1, k2, p1, p2, k3


def distort_normalized(xy: np.ndarray, distortion: Sequence[float]) -> np.ndarray:
    """Apply Brown-Conrady distortion to undistorted normalised coordinates ``xy`` (N,2)."""
    k1, k2, p1, p2, k3 = _coefficients(distortion)
    pts = np.asarray(xy, dtype=float)
    x, y = pts[..., 0], pts[..., 1]
    r2 = x * x + y * y
    radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
    xd = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
    yd = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y
    return np.stack([xd, yd], axis=-1)


def undistort_normalized(xy: np.ndarray, distortion: Sequence[float], iterations: int = 20) -> np.ndarray:
    """Invert :func:`distort_normalized`: distorted normalised coordinates (N,2) to undistorted.

    Newton's method on the 2x2 system with the analytic Jacobian, started at the distorted
    point, stopping early once every point moves less than 1e-15. Where the distortion is
    one-to-one over the image (every real lens profile: ``d r_d / d r > 0``) it converges
    quadratically, reaching ~1e-15 in normalised units (well below 1e-9 px) within 3-6 steps;
    ``iterations`` bounds the work for pathological coefficients. A Newton step that would
    leave the image plane's sane region is damped to half, so the result never diverges.
    """
    k1, k2, p1, p2, k3 = _coefficients(distortion)
    target = np.asarray(xy, dtype=float)
    xd, yd = target[..., 0], target[..., 1]
    x, y = xd.copy(), yd.copy()
    if k1 == k2 == p1 == p2 == k3 == 0.0:
        return np.stack([x, y], axis=-1)
    for _ in range(max(1, int(iterations))):
        r2 = x * x + y * y
        radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
        # d radial / d r2
        dradial = k1 + r2 * (2.0 * k2 + 3.0 * k3 * r2)
        fx = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x) - xd
        fy = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y - yd
        # Jacobian of the distortion map
        j11 = radial + 2.0 * x * x * dradial + 2.0 * p1 * y + 6.0 * p2 * x
        j12 = 2.0 * x * y * dradial + 2.0 * p1 * x + 2.0 * p2 * y
        j21 = 2.0 * x * y * dradial + 2.0 * p1 * x + 2.0 * p2 * y
        j22 = radial + 2.0 * y * y * dradial + 6.0 * p1 * y + 2.0 * p2 * x
        det = j11 * j22 - j12 * j21
        det = np.where(np.abs(det) < 1e-12, np.copysign(1e-12, det), det)
        dx = (j22 * fx - j12 * fy) / det
        dy = (j11 * fy - j21 * fx) / det
        # A step longer than the point's own scale means the Jacobian is near singular there.
        limit = 0.5 * (1.0 + np.hypot(x, y))
        step = np.hypot(dx, dy)
        scale = np.where(step > limit, limit / np.maximum(step, 1e-300), 1.0)
        x = x - dx * scale
        y = y - dy * scale
        if float(np.max(step, initial=0.0)) < 1e-15:
            break
    return np.stack([x, y], axis=-1)


def project_points(
    p_optical: np.ndarray, K: np.ndarray, distortion: Sequence[float]
) -> Tuple[np.ndarray, np.ndarray]:
    """Project points (N,3) in ``camera_optical`` to pixels (N,2) through ``K`` and distortion.

    ``in_front`` (N,) is True where ``z > 0``; pixels of points behind the camera are NaN.
    Whether a pixel falls inside the image is the caller's test (it depends on the size).
    """
    pts = np.asarray(p_optical, dtype=float).reshape(-1, 3)
    z = pts[:, 2]
    in_front = z > 1e-12
    safe_z = np.where(in_front, z, 1.0)
    xy = pts[:, :2] / safe_z[:, None]
    xy_d = distort_normalized(xy, distortion)
    Km = np.asarray(K, dtype=float)
    u = Km[0, 0] * xy_d[:, 0] + Km[0, 1] * xy_d[:, 1] + Km[0, 2]
    v = Km[1, 1] * xy_d[:, 1] + Km[1, 2]
    uv = np.stack([u, v], axis=-1)
    uv[~in_front] = np.nan
    return uv, in_front


def pixel_grid(width_px: int, height_px: int) -> np.ndarray:
    """Pixel centres (H*W,2) as ``(u, v)`` in row-major order (row ``v``, then column ``u``)."""
    v, u = np.mgrid[0:height_px, 0:width_px]
    return np.stack([u.ravel(), v.ravel()], axis=-1).astype(float)


def pixel_rays(K: np.ndarray, distortion: Sequence[float], width_px: int, height_px: int) -> np.ndarray:
    """Unit ray directions (H*W,3) in ``camera_optical`` through every pixel centre, row-major.

    The pixel grid is the *distorted* image: each pixel is mapped through ``K^-1`` and then
    undistorted, so a point anywhere on a pixel's ray projects (with :func:`project_points`)
    back onto that pixel's centre.
    """
    Km = np.asarray(K, dtype=float)
    uv = pixel_grid(width_px, height_px)
    yd = (uv[:, 1] - Km[1, 2]) / Km[1, 1]
    xd = (uv[:, 0] - Km[0, 2] - Km[0, 1] * yd) / Km[0, 0]
    xy = undistort_normalized(np.stack([xd, yd], axis=-1), distortion)
    rays = np.concatenate([xy, np.ones((xy.shape[0], 1))], axis=1)
    return rays / np.linalg.norm(rays, axis=1, keepdims=True)
