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

__all__ = [
    "TILE_PX",
    "VIGNETTE_LEVELS",
    "PixelGrid",
    "pixel_grid_for",
    "vignette_gains",
    "tiles_seeing_boxes",
    "pixels_in_tiles",
]

#: Side of the square image tiles used for culling, pixels.
TILE_PX = 8
#: Quantisation of the vignetting gain for table-driven shading.
VIGNETTE_LEVELS = 4096
_TABLE_SIZE = 1 << 12


@dataclass(frozen=True)
class PixelGrid:
    """Rays of one camera state. ``dir_x``, ``dir_y``, ``dir_z`` (H*W,) float32: components of the
    unit ray of every pixel in ``camera_optical``, row-major (kept as separate contiguous arrays:
    whole-array arithmetic on them is several times faster than on an (N,3) array);
    ``vignette`` (H*W,) float32 gain (1 at the centre, ``1 - vignetting`` in the corners);
    ``vignette_level`` (H*W,) intp the same gain quantised to :data:`VIGNETTE_LEVELS` steps
    between ``1 - vignetting`` and 1 (see :func:`vignette_gains`);
    ``tile_bounds`` (4, Ty, Tx) min x, max x, min y, max y of undistorted normalised coordinates;
    ``tile_index`` (H*W,) int32 tile of each pixel; ``tile_pixels`` (T, 64) int32 the pixels of
    each tile (-1 pads tiles cut by the image border); ``K`` the camera matrix."""

    width_px: int
    height_px: int
    K: np.ndarray
    dir_x: np.ndarray
    dir_y: np.ndarray
    dir_z: np.ndarray
    vignette: np.ndarray
    vignette_level: np.ndarray
    tile_bounds: np.ndarray
    tile_index: np.ndarray
    tile_pixels: np.ndarray

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
    du32: np.ndarray  # the same in float32
    dv32: np.ndarray
    rho2_32: np.ndarray  # du^2 + dv^2, float32
    rho_max_px: float  # largest distance of a pixel centre from the principal point
    table_pos: np.ndarray  # (N,) intp index of each pixel's radius in the radial table
    table_next: np.ndarray  # (N,) intp, table_pos + 1 (intp: gathers with int32 are 3x slower)
    table_frac: np.ndarray  # (N,) float32 position between that entry and the next
    tile_index: np.ndarray  # (N,) int32
    tile_pixels: np.ndarray  # (T, TILE_PX**2) int32 pixel indices of each tile, -1 padding
    tile_extent: np.ndarray  # (6, T): min/max of du, dv and radius over each tile


def _fold(ufunc, blocks: np.ndarray) -> np.ndarray:
    """Reduce the middle axis (length TILE_PX, a power of two) of (a, TILE_PX, b) by halving:
    numpy's own multi-axis reductions over such small strided blocks are ~20x slower."""
    while blocks.shape[1] > 1:
        half = blocks.shape[1] // 2
        blocks = ufunc(blocks[:, :half], blocks[:, half:])
    return blocks[:, 0]


def _tile_bounds(values: np.ndarray, height_px: int, width_px: int) -> Tuple[np.ndarray, np.ndarray]:
    """Per-tile minimum and maximum (T,) of per-pixel ``values`` (N,)."""
    ty, tx = -(-height_px // TILE_PX), -(-width_px // TILE_PX)
    img = values.reshape(height_px, width_px)
    if ty * TILE_PX != height_px or tx * TILE_PX != width_px:
        img = np.pad(img, ((0, ty * TILE_PX - height_px), (0, tx * TILE_PX - width_px)), mode="edge")
    cols = img.reshape(ty * TILE_PX * tx, TILE_PX, 1)  # each row cut into tiles' widths
    out = []
    for ufunc in (np.minimum, np.maximum):
        per_row = _fold(ufunc, cols).reshape(ty, TILE_PX, tx)
        out.append(_fold(ufunc, per_row).ravel())
    return out[0], out[1]


@lru_cache(maxsize=4)
def _layout(width_px: int, height_px: int, cx: float, cy: float) -> _Layout:
    uv = optics.pixel_grid(width_px, height_px)
    du, dv = uv[:, 0] - cx, uv[:, 1] - cy
    rho = np.hypot(du, dv)
    rho_max = float(rho.max()) + 1e-9
    pos = rho * ((_TABLE_SIZE - 1) / rho_max)
    table_pos = np.minimum(pos.astype(np.intp), _TABLE_SIZE - 2)
    ty, tx = -(-height_px // TILE_PX), -(-width_px // TILE_PX)
    v, u = np.divmod(np.arange(width_px * height_px), width_px)
    tile_index = ((v // TILE_PX) * tx + u // TILE_PX).astype(np.int32)
    order = np.argsort(tile_index, kind="stable")
    counts = np.bincount(tile_index, minlength=ty * tx)
    slot = np.arange(order.size) - np.repeat(np.cumsum(counts) - counts, counts)
    tile_pixels = np.full((ty * tx, TILE_PX * TILE_PX), -1, dtype=np.int32)
    tile_pixels[tile_index[order], slot] = order
    extent = np.stack([b for values in (du, dv, rho) for b in _tile_bounds(values, height_px, width_px)])
    du32, dv32, table_next = du.astype(np.float32), dv.astype(np.float32), table_pos + 1
    rho2 = (rho * rho).astype(np.float32)
    frac = (pos - table_pos).astype(np.float32)
    for a in (du, dv, du32, dv32, rho2, table_pos, table_next, frac, tile_index, tile_pixels, extent):
        a.setflags(write=False)
    return _Layout(du, dv, du32, dv32, rho2, rho_max, table_pos, table_next, frac, tile_index, tile_pixels, extent)


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
    """Per-pixel linear interpolation of a float32 table over the radius."""
    lo = np.take(table, layout.table_pos)
    hi = np.take(table, layout.table_next)
    hi -= lo
    hi *= layout.table_frac
    hi += lo
    return hi


def _vignette(cos_axis: np.ndarray, span: float, vignetting: float) -> np.ndarray:
    """Gain ``1 - vignetting * (1 - cos^4) / span`` (float32) from the cosine of each ray's angle
    to the optical axis; ``span`` is ``1 - cos^4`` in the image corner, so the corners lose exactly
    ``vignetting`` of their light."""
    if span <= 1e-12:
        return np.ones_like(cos_axis)
    out = np.square(cos_axis)
    np.square(out, out=out)
    out -= np.float32(1.0)
    out *= np.float32(vignetting / span)
    out += np.float32(1.0)
    return out


def _radial_grid(layout: _Layout, f_px: float, k1: float, k2: float, k3: float, vignetting: float):
    """Rays, vignetting and tile bounds for radial-only distortion, from 1-D tables of the radius."""
    rho = np.linspace(0.0, layout.rho_max_px, _TABLE_SIZE)
    r_d = rho / f_px
    r_u = _undistort_radii(r_d, k1, k2, k3)
    g = np.full_like(r_d, 1.0 / f_px)  # undistorted normalised coordinate per pixel of offset
    g[1:] = r_u[1:] / rho[1:]
    h = 1.0 / np.sqrt(1.0 + r_u * r_u)  # cosine of the ray's angle to the optical axis
    q = _lerp((g * h).astype(np.float32), layout)
    # The axial component follows from unit length: (rho q)^2 + z^2 = 1.
    z = np.square(q)
    z *= layout.rho2_32
    np.subtract(np.float32(1.0), z, out=z)
    np.sqrt(z, out=z)
    dirs = [q * layout.du32, np.multiply(q, layout.dv32, out=q), z]
    vignette = _vignette(dirs[2], 1.0 - float(h[-1]) ** 4, vignetting)
    # Tile bounds by interval arithmetic: x_u = du * g(rho) over the tile's du and rho ranges;
    # g is monotonic in rho for any lens whose distortion is one-to-one (checked, else per pixel).
    if np.all(np.diff(g) >= 0.0) or np.all(np.diff(g) <= 0.0):
        du0, du1, dv0, dv1, rho0, rho1 = layout.tile_extent
        ga, gb = np.interp(rho0, rho, g), np.interp(rho1, rho, g)
        g0, g1 = np.minimum(ga, gb) * (1.0 - 1e-9), np.maximum(ga, gb) * (1.0 + 1e-9)
        xs = np.stack([du0 * g0, du0 * g1, du1 * g0, du1 * g1])
        ys = np.stack([dv0 * g0, dv0 * g1, dv1 * g0, dv1 * g1])
        bounds = np.stack([xs.min(axis=0), xs.max(axis=0), ys.min(axis=0), ys.max(axis=0)])
    else:
        bounds = None
    return dirs, vignette, bounds


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
    bounds = None
    if p1 == 0.0 and p2 == 0.0:
        dirs, vignette, bounds = _radial_grid(layout, f_px, k1, k2, k3, vignetting)
    else:
        xy = optics.undistort_normalized(np.stack([layout.du / f_px, layout.dv / f_px], axis=-1), distortion)
        inv_norm = 1.0 / np.sqrt(xy[:, 0] ** 2 + xy[:, 1] ** 2 + 1.0)
        dirs = [(c * inv_norm).astype(np.float32) for c in (xy[:, 0], xy[:, 1], 1.0)]
        vignette = _vignette(dirs[2], 1.0 - float(inv_norm.min()) ** 4, vignetting)
    if bounds is None:
        # Undistorted normalised coordinates are dir / dir_z.
        bounds = np.stack([b for c in dirs[:2] for b in _tile_bounds(c / dirs[2], height_px, width_px)])
    ty, tx = -(-height_px // TILE_PX), -(-width_px // TILE_PX)
    floor = 1.0 - vignetting
    if vignetting > 0.0:
        scaled = (vignette - np.float32(floor)) * np.float32((VIGNETTE_LEVELS - 1) / vignetting)
        np.clip(scaled, 0.0, VIGNETTE_LEVELS - 1, out=scaled)
        scaled += np.float32(0.5)
        level = scaled.astype(np.intp)
    else:
        level = np.zeros(vignette.shape, dtype=np.intp)
    for a in (*dirs, vignette, level):
        a.setflags(write=False)
    return PixelGrid(
        width_px, height_px, K, *dirs, vignette, level, bounds.reshape(4, ty, tx), layout.tile_index, layout.tile_pixels
    )


def vignette_gains(vignetting: float) -> np.ndarray:
    """The gain (VIGNETTE_LEVELS,) float32 of each ``vignette_level``: evenly spaced from
    ``1 - vignetting`` to 1 (steps of ``vignetting / 4095``, well under one 8-bit code value)."""
    return np.linspace(1.0 - vignetting, 1.0, VIGNETTE_LEVELS).astype(np.float32)


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
    """Pixel indices (int64, grouped by tile, each pixel once) of the tiles marked in
    ``tiles`` (Ty*Tx,) bool."""
    picked = grid.tile_pixels[np.asarray(tiles, dtype=bool)].ravel()
    if picked.size and picked.min() < 0:
        picked = picked[picked >= 0]
    return picked.astype(np.int64)
