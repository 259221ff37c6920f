"""The simulated camera's pixel rays, vignetting and image tiles, cached per lens state.

A :class:`PixelGrid` holds, for one focal length and camera geometry, the unit ray through
every *distorted* pixel centre in ``camera_optical`` (so the rendered image is natively
distorted exactly as :func:`sensors.camera.optics.project_points` predicts), the vignetting
gain of every pixel, and per 8x8-pixel tile the bounds of its rays in undistorted normalised
coordinates (used to cast only the rays that can see an object).

Grids are cached per (focal length, size, sensor, principal point, distortion, vignetting):
a focal length change costs one recompute. With radial-only distortion (``p1 = p2 = 0``) the
undistortion is a function of the radius alone and is read from a dense 1-D table solved by
Newton's method (interpolation error below 1e-10 in normalised units, i.e. < 1e-6 px); with
tangential terms it falls back to :func:`sensors.camera.optics.undistort_normalized`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Tuple

import numpy as np

from config.models import CameraConfig
from sensors.camera import optics

__all__ = ["TILE_PX", "PixelGrid", "pixel_grid_for", "tiles_seeing_boxes", "pixels_in_tiles"]

#: Side of the square image tiles used for culling, pixels.
TILE_PX = 8
_TABLE_SIZE = 1 << 16


@dataclass(frozen=True)
class PixelGrid:
    """Rays of one camera state. ``dirs_optical`` (H*W,3) float32 unit, row-major;
    ``vignette`` (H*W,) float32 gain (1 at the centre, ``1 - vignetting`` in the corners);
    ``tile_bounds`` (4, Ty, Tx) min x, max x, min y, max y of undistorted normalised coordinates;
    ``tile_index`` (H*W,) int32 tile of each pixel; ``K`` the camera matrix."""

    width_px: int
    height_px: int
    K: np.ndarray
    dirs_optical: np.ndarray
    vignette: np.ndarray
    tile_bounds: np.ndarray
    tile_index: np.ndarray


def _radial_scale_table(k1: float, k2: float, k3: float, r_max: float) -> Tuple[np.ndarray, np.ndarray]:
    """Table of ``r_d`` (distorted radius) and ``r_u / r_d`` for the radial-only model."""
    r_d = np.linspace(0.0, r_max, _TABLE_SIZE)
    r = r_d.copy()
    for _ in range(30):
        r2 = r * r
        f = r * (1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))) - r_d
        df = 1.0 + r2 * (3.0 * k1 + r2 * (5.0 * k2 + 7.0 * k3 * r2))
        step = f / np.where(np.abs(df) < 1e-9, 1e-9, df)
        r = r - step
        if float(np.max(np.abs(step))) < 1e-16:
            break
    scale = np.ones_like(r_d)
    scale[1:] = r[1:] / r_d[1:]
    return r_d, scale


def _tile_bounds(values: np.ndarray, height_px: int, width_px: int) -> Tuple[np.ndarray, np.ndarray]:
    ty, tx = -(-height_px // TILE_PX), -(-width_px // TILE_PX)
    img = values.reshape(height_px, width_px)
    padded = np.pad(img, ((0, ty * TILE_PX - height_px), (0, tx * TILE_PX - width_px)), mode="edge")
    blocks = padded.reshape(ty, TILE_PX, tx, TILE_PX)
    return blocks.min(axis=(1, 3)), blocks.max(axis=(1, 3))


@lru_cache(maxsize=8)
def _grid(
    focal_length_mm: float,
    width_px: int,
    height_px: int,
    sensor_width_mm: float,
    principal_point_px: Optional[Tuple[float, float]],
    distortion: Tuple[float, float, float, float, float],
    vignetting: float,
) -> PixelGrid:
    K = optics.intrinsics_matrix(focal_length_mm, sensor_width_mm, width_px, height_px, principal_point_px)
    uv = optics.pixel_grid(width_px, height_px)
    xd = (uv[:, 0] - K[0, 2]) / K[0, 0]
    yd = (uv[:, 1] - K[1, 2]) / K[1, 1]
    k1, k2, p1, p2, k3 = distortion
    if p1 == 0.0 and p2 == 0.0:
        r_d = np.hypot(xd, yd)
        table_r, table_scale = _radial_scale_table(k1, k2, k3, float(r_d.max()) * (1.0 + 1e-9) + 1e-12)
        scale = np.interp(r_d, table_r, table_scale)
        xu, yu = xd * scale, yd * scale
    else:
        xy = optics.undistort_normalized(np.stack([xd, yd], axis=-1), distortion)
        xu, yu = xy[:, 0], xy[:, 1]
    inv_norm = 1.0 / np.sqrt(xu * xu + yu * yu + 1.0)
    dirs = np.stack([xu * inv_norm, yu * inv_norm, inv_norm], axis=-1).astype(np.float32)
    cos4 = inv_norm**4
    span = 1.0 - float(cos4.min())
    falloff = (1.0 - cos4) / span if span > 1e-12 else np.zeros_like(cos4)
    vignette = (1.0 - vignetting * falloff).astype(np.float32)
    xmin, xmax = _tile_bounds(xu, height_px, width_px)
    ymin, ymax = _tile_bounds(yu, height_px, width_px)
    tx = -(-width_px // TILE_PX)
    v, u = np.divmod(np.arange(width_px * height_px), width_px)
    tile_index = ((v // TILE_PX) * tx + u // TILE_PX).astype(np.int32)
    for a in (dirs, vignette):
        a.setflags(write=False)
    return PixelGrid(width_px, height_px, K, dirs, vignette, np.stack([xmin, xmax, ymin, ymax]), tile_index)


def pixel_grid_for(camera: CameraConfig, focal_length_mm: float) -> PixelGrid:
    """The (cached) pixel grid of ``camera`` at ``focal_length_mm``."""
    intr = camera.intrinsics
    pp = None if intr.principal_point_px is None else tuple(float(v) for v in intr.principal_point_px)
    return _grid(
        float(focal_length_mm),
        int(camera.width_px),
        int(camera.height_px),
        float(intr.sensor_width_mm),
        pp,
        tuple(float(v) for v in intr.distortion),
        float(intr.vignetting),
    )


def tiles_seeing_boxes(grid: PixelGrid, corners_optical: np.ndarray) -> np.ndarray:
    """Which tiles may see each box: ``corners_optical`` (B, 8, 3) box corners in
    ``camera_optical``; returns (B, Ty*Tx) bool. A box wholly behind the camera sees no tile;
    one straddling the camera plane sees every tile (conservative)."""
    c = np.asarray(corners_optical, dtype=float)
    n_tiles = grid.tile_bounds.shape[1] * grid.tile_bounds.shape[2]
    if c.shape[0] == 0:
        return np.zeros((0, n_tiles), dtype=bool)
    z = c[..., 2]
    behind = np.all(z <= 0.0, axis=1)
    straddle = np.any(z <= 1e-6, axis=1) & ~behind
    safe_z = np.where(z > 1e-6, z, 1.0)
    x, y = c[..., 0] / safe_z, c[..., 1] / safe_z
    x0, x1, y0, y1 = x.min(axis=1), x.max(axis=1), y.min(axis=1), y.max(axis=1)
    txmin, txmax, tymin, tymax = (b.reshape(1, -1) for b in grid.tile_bounds)
    hit = (txmax >= x0[:, None]) & (txmin <= x1[:, None]) & (tymax >= y0[:, None]) & (tymin <= y1[:, None])
    hit[behind] = False
    hit[straddle] = True
    return hit


def pixels_in_tiles(grid: PixelGrid, tiles: np.ndarray) -> np.ndarray:
    """Row-major pixel indices (int64, sorted) of the tiles marked in ``tiles`` (Ty*Tx,) bool."""
    if not np.any(tiles):
        return np.zeros(0, dtype=np.int64)
    if np.all(tiles):
        return np.arange(grid.tile_index.size, dtype=np.int64)
    return np.flatnonzero(tiles[grid.tile_index])
