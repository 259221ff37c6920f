"""The simulated cinema camera's image: ray-cast, shaded, exposed, vignetted and sRGB-encoded.

One frame is the stage at one instant seen through the pixel rays of
:mod:`sensors.sim.pixel_grid`:

1. floor and walls are intersected analytically for every pixel (the camera is inside the
   room); only the pixels whose tiles can see a piece of dressing or an actor (their bounding
   boxes projected into the image) are cast with Open3D, which keeps a 640x360 frame well
   inside its real-time budget;
2. Lambertian shading under the key/fill/ambient of :mod:`sensors.sim.lighting`; the floor is a
   1 m checkerboard so camera motion shows;
3. exposure ``(2.8 / T)^2``: at T2.8 an 18 % grey surface under unit irradiance renders
   linear 0.18, i.e. sRGB mid-grey (118); vignetting from the pixel grid; sRGB encoding through a
   4096-entry table. Focus distance is metadata only (no defocus blur).
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from sensors.sim.actors import ACTOR_HEIGHT_M, ACTOR_RADIUS_M, actor_poses
from sensors.sim.lighting import Lighting, irradiance
from sensors.sim.pixel_grid import PixelGrid, pixels_in_tiles, tiles_seeing_boxes
from sensors.sim.scene import FLOOR_ID, StageScene

__all__ = ["REFERENCE_T_STOP", "SKY_LINEAR", "CHECKER_M", "exposure_gain", "encode_srgb", "render_frame"]

#: The T-stop at which exposure gain is 1.
REFERENCE_T_STOP = 2.8
#: Linear radiance of a ray that leaves the set over the walls (the dark studio grid).
SKY_LINEAR = np.array([0.02, 0.02, 0.025], dtype=np.float32)
#: Side of the floor's checker tiles, metres, and the albedo of its light and dark tiles.
CHECKER_M = 1.0
_CHECKER_ALBEDO = np.array([[0.36, 0.35, 0.33], [0.22, 0.21, 0.20]], dtype=np.float32)

_SRGB_LUT_SIZE = 4096


def _srgb_lut() -> np.ndarray:
    lin = np.linspace(0.0, 1.0, _SRGB_LUT_SIZE)
    srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1.0 / 2.4) - 0.055)
    return np.clip(np.rint(srgb * 255.0), 0, 255).astype(np.uint8)


_LUT = _srgb_lut()


def exposure_gain(t_stop: float) -> float:
    """Linear exposure relative to T2.8: brightness is proportional to ``1 / T^2``."""
    if t_stop <= 0.0:
        raise ValueError(f"T-stop must be positive, got {t_stop}")
    return (REFERENCE_T_STOP / float(t_stop)) ** 2


def encode_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear RGB (any shape, float) to sRGB uint8 (clipped at white)."""
    idx = np.clip(linear * np.float32(_SRGB_LUT_SIZE - 1) + np.float32(0.5), 0, _SRGB_LUT_SIZE - 1).astype(np.int32)
    return _LUT[idx]


def _box_corners(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Corners (B, 8, 3) of axis-aligned boxes ``lo``/``hi`` (B, 3)."""
    sel = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], dtype=bool)
    return np.where(sel[None], hi[:, None, :], lo[:, None, :])


def render_frame(
    scene: StageScene,
    lighting: Lighting,
    grid: PixelGrid,
    T_stage_optical: np.ndarray,
    t_s: float,
    t_stop: float,
    with_depth: bool = False,
    nthreads: int = 0,
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Render the stage at stage time ``t_s`` from a camera at ``T_stage_optical`` (4,4).

    Returns ``(rgb (H,W,3) uint8, depth_m (H,W) float32 or None)``; depth is the optical-axis
    depth ``z`` of the hit in ``camera_optical`` (``inf`` where the ray leaves the set).
    """
    R = np.asarray(T_stage_optical[:3, :3], dtype=np.float32)
    origin = np.asarray(T_stage_optical[:3, 3], dtype=float)
    dirs = grid.dirs_optical @ R.T  # (N,3) float32, stage frame
    n_px = dirs.shape[0]

    # Which tiles can see dressing, and each actor (bounding boxes into camera_optical).
    R64 = np.asarray(T_stage_optical[:3, :3], dtype=float)
    dressing_tiles = np.zeros(grid.tile_bounds.shape[1] * grid.tile_bounds.shape[2], dtype=bool)
    if scene.dressing_bounds.shape[0]:
        corners = _box_corners(scene.dressing_bounds[:, 0], scene.dressing_bounds[:, 1])
        dressing_tiles = tiles_seeing_boxes(grid, (corners - origin) @ R64).any(axis=0)
    actor_subsets = []
    if scene.actors:
        T_actors = np.stack([_actor_box(scene, k, t_s) for k in range(len(scene.actors))])
        corners = _box_corners(T_actors[:, 0], T_actors[:, 1])
        actor_tiles = tiles_seeing_boxes(grid, (corners - origin) @ R64)
        actor_subsets = [pixels_in_tiles(grid, tiles) for tiles in actor_tiles]

    if scene.inside_room(origin):
        t, obj, normal = scene.cast_room_shell(origin, dirs)
        cast_idx = pixels_in_tiles(grid, dressing_tiles)
    else:
        t = np.full(n_px, np.inf, dtype=np.float32)
        obj = np.full(n_px, -1, dtype=np.int32)
        normal = np.zeros((n_px, 3), dtype=np.float32)
        cast_idx = np.arange(n_px)
    shell_only = np.ones(n_px, dtype=bool)
    if cast_idx.size:
        rays = np.empty((cast_idx.size, 6), dtype=np.float32)
        rays[:, :3] = origin
        rays[:, 3:] = dirs[cast_idx]
        t[cast_idx], obj[cast_idx], normal[cast_idx] = scene.cast_static(rays, nthreads=nthreads)
        shell_only[cast_idx] = False
    if actor_subsets:
        origins = np.broadcast_to(origin, (n_px, 3))
        before = t.copy() if any(s.size for s in actor_subsets) else t
        scene.merge_actors(origins, dirs, t_s, t, obj, normal, subsets=actor_subsets, nthreads=nthreads)
        shell_only &= t == before

    rgb_linear = _shade(scene, lighting, origin, dirs, t, obj, normal, shell_only)
    rgb_linear *= (exposure_gain(t_stop) * grid.vignette)[:, None]
    rgb = encode_srgb(rgb_linear).reshape(grid.height_px, grid.width_px, 3)
    depth = None
    if with_depth:
        depth = (t * grid.dirs_optical[:, 2]).astype(np.float32).reshape(grid.height_px, grid.width_px)
    return rgb, depth


def _actor_box(scene: StageScene, k: int, t_s: float) -> np.ndarray:
    """Axis-aligned bounds (2,3) of actor ``k``'s bounding cylinder at ``t_s``."""
    pos, _ = actor_poses(scene.actors[k].path, float(t_s))
    lo = pos + np.array([-ACTOR_RADIUS_M, -ACTOR_RADIUS_M, 0.0])
    hi = pos + np.array([ACTOR_RADIUS_M, ACTOR_RADIUS_M, ACTOR_HEIGHT_M + 0.01])
    return np.stack([lo, hi])


def _shade(
    scene: StageScene,
    lighting: Lighting,
    origin: np.ndarray,
    dirs: np.ndarray,
    t: np.ndarray,
    obj: np.ndarray,
    normal: np.ndarray,
    shell_only: np.ndarray,
) -> np.ndarray:
    """Linear RGB (N,3) float32 radiance of every ray before exposure."""
    albedo = np.array([o.albedo_rgb for o in scene.objects] + [(0.0, 0.0, 0.0)], dtype=np.float32)
    out = np.empty((obj.size, 3), dtype=np.float32)

    # Floor and walls seen directly: the normal is constant per plane, so is the irradiance.
    shell_normals = np.array([[0, 0, 1], [-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0]], dtype=np.float32)
    shell_radiance = albedo[:5] * irradiance(shell_normals, lighting)
    idx = np.flatnonzero(shell_only & (obj >= 0))
    out[idx] = shell_radiance[obj[idx]]

    # Everything else: per-pixel normals, flipped to face the camera.
    idx = np.flatnonzero(~shell_only & (obj >= 0))
    if idx.size:
        n = normal[idx]
        facing = np.einsum("ij,ij->i", n, dirs[idx]) > 0.0
        n = np.where(facing[:, None], -n, n)
        out[idx] = albedo[obj[idx]] * irradiance(n, lighting)

    # The floor's checkerboard modulates its albedo (irradiance of a floor pixel is the same for all).
    floor = np.flatnonzero(obj == FLOOR_ID)
    if floor.size:
        hit = origin[:2].astype(np.float32) + t[floor, None] * dirs[floor, :2]
        parity = (np.floor(hit[:, 0] / CHECKER_M) + np.floor(hit[:, 1] / CHECKER_M)).astype(np.int64) & 1
        floor_irr = irradiance(shell_normals[:1], lighting)[0]
        out[floor] = _CHECKER_ALBEDO[parity] * floor_irr
    out[obj < 0] = SKY_LINEAR
    return out
