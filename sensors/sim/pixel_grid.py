"""The simulated camera's pixel rays, vignetting and image tiles, cached per lens state.

A :class:`PixelGrid` holds, for one focal length and camera geometry, the unit ray through
every *distorted* pixel centre in ``camera_optical`` (so the rendered image is natively
distorted exactly as :func:`sensors.camera.optics.project_points` predicts), the vignetting
gain of every pixel, and per 8x8-pixel tile the bounds of its rays in undistorted normalised
coordinates (used to cast only the rays that can see an object).

Grids are cached per (focal length, size, sensor, principal point, distortion, vignetting):
a focal length change costs one recompute (a few milliseconds at 640x360, so a zoom that
changes every frame stays inside the frame budget). With radial-only distortion (``p1 = p2 = 0``)
the undistortion is a function of the pixel's radius alone: it is solved by Newton's method on
a dense table of radii and interpolated linearly (error below 1e-9 in normalised units, far
under 1e-3 px); with tangential terms every pixel goes through
:func:`sensors.camera.optics.undistort_normalized`.
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
_TABLE_SIZE = 1 << 14


@dataclass(frozen=True)
class PixelGrid:
    """Rays of one camera state. ``dir_x``, ``dir_y``, ``dir_z`` (H*W,) float32: components of the
    unit ray of every pixel in ``camera_optical``, row-major (kept as separate contiguous arrays:
    whole-array arithmetic on them is several times faster than on an (N,3) array);
    ``vignette`` (H*W,) float32 gain (1 at the centre, ``1 - vignetting`` in the corners);
    ``tile_bounds`` (4, Ty, Tx) min x, max x, min y, max y of undistorted normalised coordinates;
    ``tile_index`` (H*W,) int32 tile of each pixel; ``K`` the camera matrix."""

    width_px: int
    height_px: int
    K: np.ndarray
    dir_x: np.ndarray
    dir_y: np.ndarray
    dir_z: np.ndarray
    vignette: np.ndarray
    tile_bounds: np.ndarray
    tile_index: np.ndarray

    @property
    def dirs_optical(self) -> np.ndarray:
        """The unit rays as one (H*W,3) float32 array."""
        return np.stack([self.dir_x, self.dir_y, self.dir_z], axis=-1)

    @property
    def tile_count(self) -> int:
        return int(self.tile_bounds.shape[1] * self.tile_bounds.shape[2])


@dataclass(frozen=True)
class _Layout:
    """What depends on the image size and principal point only, not on the lens."""

    du: np.ndarray  # (N,) float64, u - cx
    dv: np.ndarray  # (N,) float64, v - cy
    rho_max_px: float  # largest distance of a pixel centre from the principal point
    table_pos: np.ndarray  # (N,) int32 index of each pixel's radius in the radial table
    table_frac: np.ndarray  # (N,) float64 position between that entry and the next
    tile_index: np.ndarray


@lru_cache(maxsize=4)
def _layout(width_px: int, height_px: int, cx: float, cy: float) -> _Layout:
    uv = optics.pixel_grid(width_px, height_px)
    du, dv = uv[:, 0] - cx, uv[:, 1] - cy
    rho = np.hypot(du, dv)
    rho_max = float(rho.max()) + 1e-9
    pos = rho * ((_TABLE_SIZE - 1) / rho_max)
    table_pos = np.minimum(pos.astype(np.int32), _TABLE_SIZE - 2)
    tx = -(-width_px // TILE_PX)
    v, u = np.divmod(np.arange(width_px * height_px), width_px)
    tile_index = ((v // TILE_PX) * tx + u // TILE_PX).astype(np.int32)
    for a in (du, dv, table_pos, tile_index):
        a.setflags(write=False)
    return _Layout(du, dv, rho_max, table_pos, pos - table_pos, tile_index)


def _undistort_radii(r_d: np.ndarray, k1: float, k2: float, k3: float) -> np.ndarray:
    """Undistorted radii of distorted radii ``r_d`` for the radial-only model (Newton)."""
    r = r_d.copy()
    for _ in range(50):
        r2 = r * r
        f = r * (1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))) - r_d
        df = 1.0 + r2 * (3.0 * k1 + r2 * (5.0 * k2 + 7.0 * k3 * r2))
        step = f / np.where(np.abs(df) < 1e-9, 1e-9, df)
        r = r - step
        if float(np.max(np.abs(step))) < 1e-15:
            break
    return r


def _lerp(table: np.ndarray, layout: _Layout) -> np.ndarray:
    lo = table[layout.table_pos]
    return lo + (table[layout.table_pos + 1] - lo) * layout.table_frac


def _fold(ufunc, blocks: np.ndarray) -> np.ndarray:
    """Reduce the middle axis (length TILE_PX, a power of two) of (a, TILE_PX, b) by halving:
    numpy's own multi-axis reductions over such small strided blocks are ~20x slower."""
    while blocks.shape[1] > 1:
        half = blocks.shape[1] // 2
        blocks = ufunc(blocks[:, :half], blocks[:, half:])
    return blocks[:, 0]


def _tile_bounds(values: np.ndarray, height_px: int, width_px: int) -> Tuple[np.ndarray, np.ndarray]:
    ty, tx = -(-height_px // TILE_PX), -(-width_px // TILE_PX)
    img = values.reshape(height_px, width_px)
    if ty * TILE_PX != height_px or tx * TILE_PX != width_px:
        img = np.pad(img, ((0, ty * TILE_PX - height_px), (0, tx * TILE_PX - width_px)), mode="edge")
    cols = img.reshape(ty * TILE_PX * tx, TILE_PX, 1)  # each row cut into tiles' widths
    out = []
    for ufunc in (np.minimum, np.maximum):
        per_row = _fold(ufunc, cols).reshape(ty, TILE_PX, tx)
        out.append(_fold(ufunc, per_row))
    return out[0], out[1]


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
    f_px = float(K[0, 0])
    layout = _layout(width_px, height_px, float(K[0, 2]), float(K[1, 2]))
    k1, k2, p1, p2, k3 = distortion
    if p1 == 0.0 and p2 == 0.0:
        # Radial only: everything is a function of the pixel's radius. Solve on a dense table
        # of radii and interpolate (error ~ 1e-12 in normalised units).
        r_d = np.linspace(0.0, layout.rho_max_px, _TABLE_SIZE) / f_px
        r_u = _undistort_radii(r_d, k1, k2, k3)
        gain = np.full_like(r_d, 1.0 / f_px)  # undistorted normalised coordinate per pixel offset
        gain[1:] = r_u[1:] / r_d[1:] / f_px
        g = _lerp(gain, layout)
        xu, yu = layout.du * g, layout.dv * g
    else:
        xy = optics.undistort_normalized(np.stack([layout.du / f_px, layout.dv / f_px], axis=-1), distortion)
        xu, yu = xy[:, 0], xy[:, 1]
    inv_norm = 1.0 / np.sqrt(xu * xu + yu * yu + 1.0)
    dirs = [(xu * inv_norm).astype(np.float32), (yu * inv_norm).astype(np.float32), inv_norm.astype(np.float32)]
    cos4 = np.square(np.square(dirs[2]))
    span = 1.0 - float(cos4.min())
    vignette = np.float32(1.0) - cos4 if span > 1e-12 else np.zeros_like(cos4)
    vignette *= np.float32(vignetting / span) if span > 1e-12 else np.float32(0.0)
    np.subtract(np.float32(1.0), vignette, out=vignette)
    x32, y32 = xu.astype(np.float32), yu.astype(np.float32)
    xmin, xmax = _tile_bounds(x32, height_px, width_px)
    ymin, ymax = _tile_bounds(y32, height_px, width_px)
    for a in (*dirs, vignette):
        a.setflags(write=False)
    return PixelGrid(width_px, height_px, K, *dirs, vignette, np.stack([xmin, xmax, ymin, ymax]), layout.tile_index)


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


#: Corner pairs of the 12 edges of a box whose corners are ordered as in ``render._box_corners``.
_EDGES = np.array([[a, b] for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1])
#: Boxes are clipped at this depth in front of the camera (metres): a surface closer than
#: 0.1 mm to the lens is out of reach of any set.
_NEAR_M = 1e-4


def tiles_seeing_boxes(grid: PixelGrid, corners_optical: np.ndarray) -> np.ndarray:
    """Which tiles may see each box: ``corners_optical`` (B, 8, 3) box corners in
    ``camera_optical``; returns (B, Ty*Tx) bool.

    The part of a box in front of the camera is the convex hull of its corners in front and of
    the points where its edges cross the near plane; its image lies inside the bounding
    rectangle of their projections, so the test is conservative.
    """
    c = np.asarray(corners_optical, dtype=float)
    if c.shape[0] == 0:
        return np.zeros((0, grid.tile_count), dtype=bool)
    z = c[..., 2]
    p0, p1 = c[:, _EDGES[:, 0]], c[:, _EDGES[:, 1]]  # (B, 12, 3)
    z0, z1 = p0[..., 2], p1[..., 2]
    crosses = (z0 - _NEAR_M) * (z1 - _NEAR_M) < 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(crosses, (_NEAR_M - z0) / (z1 - z0), 0.0)
    cut = p0 + f[..., None] * (p1 - p0)
    points = np.concatenate([c, cut], axis=1)  # (B, 20, 3)
    valid = np.concatenate([z >= _NEAR_M, crosses], axis=1)
    pz = np.where(valid, points[..., 2], 1.0)
    x, y = points[..., 0] / pz, points[..., 1] / pz
    x0 = np.where(valid, x, np.inf).min(axis=1)
    x1 = np.where(valid, x, -np.inf).max(axis=1)
    y0 = np.where(valid, y, np.inf).min(axis=1)
    y1 = np.where(valid, y, -np.inf).max(axis=1)
    txmin, txmax, tymin, tymax = (b.reshape(1, -1) for b in grid.tile_bounds)
    hit = (txmax >= x0[:, None]) & (txmin <= x1[:, None]) & (tymax >= y0[:, None]) & (tymin <= y1[:, None])
    hit[~valid.any(axis=1)] = False  # wholly behind the camera
    return hit


def pixels_in_tiles(grid: PixelGrid, tiles: np.ndarray) -> np.ndarray:
    """Row-major pixel indices (int64, sorted) of the tiles marked in ``tiles`` (Ty*Tx,) bool."""
    if not np.any(tiles):
        return np.zeros(0, dtype=np.int64)
    if np.all(tiles):
        return np.arange(grid.tile_index.size, dtype=np.int64)
    return np.flatnonzero(tiles[grid.tile_index])
