"""The simulated cinema camera's image: ray-cast, shaded, exposed, vignetted and sRGB-encoded.

One frame is the stage at one instant seen through the pixel rays of
:mod:`sensors.sim.pixel_grid`:

1. floor and walls are intersected analytically for every pixel (the camera is inside the
   room); only the pixels whose tiles can see a piece of dressing or an actor (their bounding
   boxes projected into the image) are cast with Open3D, which keeps a 640x360 frame well
   inside its real-time budget;
2. Lambertian shading under the key/fill/ambient of :mod:`sensors.sim.lighting`, evaluated once
   per flat face (walls, floor, every triangle of the dressing and of the posed actors) and
   gathered per pixel; the floor is a 1 m checkerboard so camera motion shows;
3. exposure ``(2.8 / T)^2``: at T2.8 an 18 % grey surface under unit irradiance renders
   linear 0.18, i.e. sRGB mid-grey (118); vignetting from the pixel grid (exact per pixel on
   dressing and actors, quantised to 1/4095 of its range on floor and walls, far below one
   code value); sRGB encoding through a 4096-entry table. Focus distance is metadata only (no
   defocus blur).

Per-pixel work is done on separate float32 component arrays with few temporaries and no
masked writes: an (N,3) layout, ``np.where`` or boolean-mask assignment over the whole image
costs several times more. Measured at 640x360 on the 2-core development machine: about
12-18 ms a frame for the default profile (one Open3D call for the dressing's pixels, one for
the actors'), more when a piece of dressing or an actor fills much of the frame.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np

from sensors.sim.actors import ACTOR_HEIGHT_M, ACTOR_RADIUS_M, actor_poses
from sensors.sim.lighting import Lighting, irradiance
from sensors.sim.pixel_grid import VIGNETTE_LEVELS, PixelGrid, pixels_in_tiles, tiles_seeing_boxes, vignette_gains
from sensors.sim.scene import FLOOR_ID, SHELL_NORMALS, WALL_IDS, StageScene

__all__ = [
    "REFERENCE_T_STOP",
    "SKY_LINEAR",
    "CHECKER_M",
    "CHECKER_ALBEDO",
    "exposure_gain",
    "encode_srgb",
    "render_frame",
]

#: The T-stop at which exposure gain is 1.
REFERENCE_T_STOP = 2.8
#: Linear radiance of a ray that leaves the set over the walls (the dark studio grid).
SKY_LINEAR = np.array([0.02, 0.02, 0.025], dtype=np.float32)
#: Side of the floor's checker tiles, metres, and the albedo of its light and dark tiles.
CHECKER_M = 1.0
CHECKER_ALBEDO = np.array([[0.36, 0.35, 0.33], [0.22, 0.21, 0.20]], dtype=np.float32)

_LUT_SIZE = 4096


def _srgb_lut() -> np.ndarray:
    # Entry i encodes the middle of the linear interval [i, i + 1) / 4096.
    lin = (np.arange(_LUT_SIZE) + 0.5) / _LUT_SIZE
    srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1.0 / 2.4) - 0.055)
    return np.clip(np.rint(srgb * 255.0), 0, 255).astype(np.uint8)


_LUT = _srgb_lut()


def exposure_gain(t_stop: float) -> float:
    """Linear exposure relative to T2.8: brightness is proportional to ``1 / T^2``."""
    if not t_stop > 0.0:
        raise ValueError(f"T-stop must be positive, got {t_stop}")
    return (REFERENCE_T_STOP / float(t_stop)) ** 2


def encode_srgb(linear: np.ndarray, gain=1.0) -> np.ndarray:
    """Linear values (any shape, float, >= 0) times ``gain`` (scalar or same shape) to sRGB
    uint8, clipped at white."""
    scale = np.asarray(gain, dtype=np.float32) * np.float32(_LUT_SIZE)
    scaled = np.multiply(np.asarray(linear, dtype=np.float32), scale)
    np.clip(scaled, np.float32(0.0), np.float32(_LUT_SIZE - 1), out=scaled)
    return np.take(_LUT, scaled.astype(np.intp))


def _box_corners(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Corners (B, 8, 3) of axis-aligned boxes ``lo``/``hi`` (B, 3); corner ``4i + 2j + k`` takes
    x from ``hi`` if i, y if j, z if k."""
    sel = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], dtype=bool)
    return np.where(sel[None], hi[:, None, :], lo[:, None, :])


def _actor_boxes(scene: StageScene, t_s: float) -> np.ndarray:
    """Axis-aligned bounds (A, 2, 3) of every actor's bounding cylinder at ``t_s``."""
    out = np.empty((len(scene.actors), 2, 3))
    for k, actor in enumerate(scene.actors):
        pos, _ = actor_poses(actor.path, float(t_s))
        out[k, 0] = pos - (ACTOR_RADIUS_M, ACTOR_RADIUS_M, 0.0)
        out[k, 1] = pos + (ACTOR_RADIUS_M, ACTOR_RADIUS_M, ACTOR_HEIGHT_M + 0.01)
    return out


def _palette(scene: StageScene, lighting: Lighting) -> Tuple[np.ndarray, np.ndarray]:
    """Radiance of everything whose shading is constant per object: index 0 sky, 1 light floor
    tile, 2..5 walls, 6 dark floor tile (3 arrays, one per channel); and the map from
    ``object_id + 1`` to that index (0 for objects shaded per pixel)."""
    irr = irradiance(SHELL_NORMALS, lighting)
    walls = np.array([scene.objects[i].albedo_rgb for i in WALL_IDS], dtype=np.float32) * irr[1:]
    rows = np.concatenate([SKY_LINEAR[None], CHECKER_ALBEDO[:1] * irr[0], walls, CHECKER_ALBEDO[1:] * irr[0]])
    index = np.zeros(len(scene.objects) + 1, dtype=np.intp)
    index[1 : 2 + len(WALL_IDS)] = np.arange(1, 2 + len(WALL_IDS))
    return np.ascontiguousarray(rows.T), index


def render_frame(
    scene: StageScene,
    lighting: Lighting,
    grid: PixelGrid,
    T_stage_optical: np.ndarray,
    t_s: float,
    t_stop: float,
    vignetting: float,
    with_depth: bool = False,
    nthreads: int = 0,
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Render the stage at stage time ``t_s`` from a camera at ``T_stage_optical`` (4,4), whose
    lens is at ``t_stop`` and whose pixel grid was made with ``vignetting``.

    Returns ``(rgb (H,W,3) uint8, depth_m (H,W) float32 or None)``; depth is the optical-axis
    depth ``z`` of the hit in ``camera_optical`` (``inf`` where the ray leaves the set).
    """
    R = np.asarray(T_stage_optical, dtype=float)[:3, :3]
    origin = np.asarray(T_stage_optical, dtype=float)[:3, 3]
    dx, dy, dz = _rotate(grid, R)
    n_px = dx.size

    # Tiles that may see dressing, and each actor (bounding boxes into camera_optical).
    dressing_tiles = np.zeros(grid.tile_count, dtype=bool)
    if scene.dressing_bounds.shape[0]:
        corners = _box_corners(scene.dressing_bounds[:, 0], scene.dressing_bounds[:, 1])
        dressing_tiles = tiles_seeing_boxes(grid, (corners - origin) @ R).any(axis=0)
    actor_subsets: Sequence[np.ndarray] = []
    if scene.actors:
        boxes = _actor_boxes(scene, t_s)
        actor_tiles = tiles_seeing_boxes(grid, (_box_corners(boxes[:, 0], boxes[:, 1]) - origin) @ R)
        actor_subsets = [pixels_in_tiles(grid, tiles) for tiles in actor_tiles]

    if scene.inside_room(origin):
        t, obj = scene.cast_room_shell(origin, dx, dy, dz)
        cast_idx = pixels_in_tiles(grid, dressing_tiles)
    else:  # a camera outside the room (or above its walls) casts everything
        t = np.full(n_px, np.inf, dtype=np.float32)
        obj = np.full(n_px, -1, dtype=np.intp)
        cast_idx = np.arange(n_px)
    face = np.full(n_px, -1, dtype=np.intp)  # global face id where a mesh was hit
    if cast_idx.size:
        rays = np.empty((cast_idx.size, 6), dtype=np.float32)
        rays[:, :3] = origin
        rays[:, 3], rays[:, 4], rays[:, 5] = (np.take(c, cast_idx) for c in (dx, dy, dz))
        t[cast_idx], obj[cast_idx], face[cast_idx] = scene.cast_static(rays, nthreads=nthreads, faces=True)
    if actor_subsets:
        scene.merge_actors_from_point(origin, dx, dy, dz, t_s, t, obj, face, actor_subsets, nthreads=nthreads)

    rgb = _shade(scene, lighting, grid, origin, t_s, dx, dy, t, obj, face, exposure_gain(t_stop), vignetting)
    rgb = rgb.reshape(grid.height_px, grid.width_px, 3)
    depth = None
    if with_depth:
        depth = (t * grid.dir_z).reshape(grid.height_px, grid.width_px)
    return rgb, depth


def _rotate(grid: PixelGrid, R: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel rays into the stage frame, one float32 array per component."""
    out = []
    tmp = np.empty_like(grid.dir_x)
    for row in np.asarray(R, dtype=np.float32):
        c = np.multiply(grid.dir_x, row[0])
        c += np.multiply(grid.dir_y, row[1], out=tmp)
        c += np.multiply(grid.dir_z, row[2], out=tmp)
        out.append(c)
    return out[0], out[1], out[2]


def _face_radiance(scene: StageScene, lighting: Lighting, origin: np.ndarray, t_s: float) -> np.ndarray:
    """Radiance (F,3) float32 of every face of the set and of the actors as posed at ``t_s``,
    seen from ``origin``: faces are flat, so one Lambertian evaluation per face (its normal
    turned towards the camera's side of its plane) shades every pixel on it."""
    normals = [scene.static_face_normals]
    points = [scene.static_face_points]
    objects = [scene.static_face_object]
    for k, actor in enumerate(scene.actors):
        pos, yaw = actor_poses(actor.path, float(t_s))
        c, s = float(np.cos(yaw)), float(np.sin(yaw))
        R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        normals.append(scene.actor_face_normals @ R.T)
        points.append(scene.actor_face_points @ R.T + pos)
        objects.append(np.full(len(scene.actor_face_normals), scene.first_actor_id + k))
    n = np.concatenate(normals)
    side = np.einsum("ij,ij->i", n, np.asarray(origin, dtype=float) - np.concatenate(points))
    n = n * np.where(side < 0.0, -1.0, 1.0)[:, None]
    albedo = np.array([o.albedo_rgb for o in scene.objects], dtype=np.float32)[np.concatenate(objects)]
    return (albedo * irradiance(n, lighting)).astype(np.float32)


def _shade(
    scene: StageScene,
    lighting: Lighting,
    grid: PixelGrid,
    origin: np.ndarray,
    t_s: float,
    dx: np.ndarray,
    dy: np.ndarray,
    t: np.ndarray,
    obj: np.ndarray,
    face: np.ndarray,
    exposure: float,
    vignetting: float,
) -> np.ndarray:
    """sRGB (N,3) uint8 of every ray.

    Sky, floor and walls have one radiance per object (and checker tile): they are encoded
    through a per-frame table indexed by (palette entry, quantised vignetting gain), one gather
    for the whole image. Dressing and actors are shaded per face (:func:`_face_radiance`) and
    exposed with each pixel's exact vignetting.
    """
    rows, index = _palette(scene, lighting)
    shade_idx = np.take(index, obj + 1)
    # The floor's checkerboard: dark tiles take palette row 6. Computed over the whole image
    # (cheaper than gathering the floor's pixels); other pixels are masked out at the end.
    reach = np.minimum(t, np.float32(1e4))  # keeps misses finite
    hx = np.multiply(reach, dx)
    hx += np.float32(origin[0])
    hy = np.multiply(reach, dy, out=reach)
    hy += np.float32(origin[1])
    hx *= np.float32(1.0 / CHECKER_M)
    hy *= np.float32(1.0 / CHECKER_M)
    np.floor(hx, out=hx)
    np.floor(hy, out=hy)
    hx += hy
    dark = hx.astype(np.intp)
    dark &= 1
    dark *= obj == FLOOR_ID
    dark *= 5
    shade_idx += dark
    shade_idx *= VIGNETTE_LEVELS
    shade_idx += grid.vignette_level
    gains = vignette_gains(vignetting) * np.float32(exposure)
    table = encode_srgb(rows.T[:, None, :] * gains[None, :, None]).reshape(-1, 3)
    rgb = np.take(table, shade_idx, axis=0)

    mesh = np.flatnonzero(obj > WALL_IDS[-1])
    if mesh.size:
        radiance = np.take(_face_radiance(scene, lighting, origin, t_s), np.take(face, mesh), axis=0)
        gain = np.take(grid.vignette, mesh) * np.float32(exposure)
        rgb[mesh] = encode_srgb(radiance, gain[:, None])
    return rgb
