"""The stage's geometry in Open3D ray-casting scenes, and exact ray casting against moving actors.

Static geometry (floor, four walls, set dressing; the top is open like a studio's grid) lives
in one :class:`open3d.t.geometry.RaycastingScene`. All actors share one humanoid mesh, held in
a second scene in the actor's own frame. A ray sees an actor at the ray's own time exactly: it
is moved into the actor's frame at that time (actors are rigid, so this is exact) and cast
against the actor scene. Only rays that enter the actor's bounding cylinder before their static
hit are cast there, so the cost is two Open3D calls per batch whatever the number of actors.

A camera's rays all start at one point at one instant: :meth:`StageScene.merge_actors_from_point`
handles that case in float32 on the pixels that may see each actor, and the renderer shades
per face (faces are flat), using the global face ids the casts record.

Object ids: 0 floor, 1..4 walls, then the dressing pieces, then the actors; -1 is a miss.
Normals come from the triangles' winding here; :meth:`sensors.sim.stage.Stage.cast_rays` turns
them to face against the ray (surfaces are two-sided).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from config.models import StageConfig
from sensors.sim.actors import ACTOR_HEIGHT_M, ACTOR_RADIUS_M, Actor, actor_mesh_parts, actor_poses
from sensors.sim.dressing import DressingPiece, piece_parts

__all__ = ["StageObject", "RayHits", "StageScene", "FLOOR_ID", "WALL_IDS", "SHELL_NORMALS"]

FLOOR_ID = 0
#: Walls at x = +W/2, x = -W/2, y = +D/2, y = -D/2.
WALL_IDS = (1, 2, 3, 4)
_WALL_NAMES = ("wall_east", "wall_west", "wall_north", "wall_south")
_FLOOR_ALBEDO = (0.29, 0.28, 0.265)  # mean of the render's checker tiles
#: Inward normals of floor and walls by object id.
SHELL_NORMALS = np.array([[0, 0, 1], [-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0]], dtype=np.float32)
_WALL_ALBEDO = ((0.18, 0.18, 0.18), (0.20, 0.19, 0.17), (0.18, 0.18, 0.18), (0.17, 0.18, 0.20))
#: Rays per Open3D ``cast_rays`` call. The call holds the GIL throughout: a whole frame's rays in
#: one call kept the camera's sending thread from the wire for up to 30 ms (a render ahead of
#: time made the frame due now late); in batches this size the sender waits about a millisecond.
CAST_BATCH_RAYS = 16_384


def _cast_in_batches(ray_scene, rays: np.ndarray, nthreads: int, keys: Sequence[str]) -> List[np.ndarray]:
    """``ray_scene.cast_rays`` of ``rays`` (N,6) float32 in :data:`CAST_BATCH_RAYS` batches: the
    outputs named ``keys`` as numpy arrays, in ray order."""
    import open3d as o3d

    parts: List[List[np.ndarray]] = [[] for _ in keys]
    for start in range(0, max(rays.shape[0], 1), CAST_BATCH_RAYS):
        out = ray_scene.cast_rays(o3d.core.Tensor(np.ascontiguousarray(rays[start:start + CAST_BATCH_RAYS])),
                                  nthreads=nthreads)
        for part, key in zip(parts, keys):
            part.append(out[key].numpy())
    return [part[0] if len(part) == 1 else np.concatenate(part) for part in parts]


def _open3d():
    try:
        import open3d as o3d
    except ImportError as err:  # pragma: no cover - open3d-cpu is a core dependency
        raise ImportError("the simulated stage needs Open3D: pip install open3d-cpu==0.20.*") from err
    return o3d


@dataclass(frozen=True)
class StageObject:
    """Something on the stage: ``object_id`` (as in :class:`RayHits`), a unique ``name``, its
    linear albedo (3,) 0..1 and its ``kind`` (floor, wall, crate, table, column, sofa, cabinet,
    actor). The floor's albedo is the mean of its two checker tiles."""

    object_id: int
    name: str
    albedo_rgb: Tuple[float, float, float]
    kind: str


@dataclass(frozen=True)
class RayHits:
    """Nearest hit per ray: ``distance_m`` (N,) float64 (``np.inf`` for a miss), ``object_id`` (N,)
    int32 (-1 for a miss), ``normal_stage`` (N,3) float64 unit normal facing the ray (zero for a miss)."""

    distance_m: np.ndarray
    object_id: np.ndarray
    normal_stage: np.ndarray


def _face_planes(v: np.ndarray, f: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Unit normals (F,3) (by winding, as Open3D reports them) and first corners (F,3) of faces."""
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    n = np.cross(b - a, c - a)
    return n / np.linalg.norm(n, axis=1, keepdims=True), a


def _stack_faces(parts) -> np.ndarray:
    offsets = np.cumsum([0] + [len(v) for v, _ in parts[:-1]])
    return np.concatenate([f + o for (_, f), o in zip(parts, offsets)])


def _quad(p0, p1, p2, p3) -> Tuple[np.ndarray, np.ndarray]:
    return np.array([p0, p1, p2, p3], dtype=float), np.array([[0, 1, 2], [0, 2, 3]])


class StageScene:
    """Ray-casting scenes of one stage layout (static set plus the shared actor mesh)."""

    def __init__(self, stage: StageConfig, dressing: Sequence[DressingPiece], actors: Sequence[Actor]) -> None:
        o3d = _open3d()
        self.half_width_m = stage.width_m / 2.0
        self.half_depth_m = stage.depth_m / 2.0
        self.height_m = float(stage.height_m)
        self.actors: List[Actor] = list(actors)
        W, D, H = self.half_width_m, self.half_depth_m, self.height_m
        meshes = [
            _quad((-W, -D, 0), (W, -D, 0), (W, D, 0), (-W, D, 0)),
            _quad((W, -D, 0), (W, D, 0), (W, D, H), (W, -D, H)),
            _quad((-W, -D, 0), (-W, -D, H), (-W, D, H), (-W, D, 0)),
            _quad((-W, D, 0), (-W, D, H), (W, D, H), (W, D, 0)),
            _quad((-W, -D, 0), (W, -D, 0), (W, -D, H), (-W, -D, H)),
        ]
        objects = [StageObject(FLOOR_ID, "floor", _FLOOR_ALBEDO, "floor")]
        objects += [StageObject(i, n, a, "wall") for i, n, a in zip(WALL_IDS, _WALL_NAMES, _WALL_ALBEDO)]
        bounds = []
        for piece in dressing:
            parts = piece_parts(piece)
            meshes.append((np.concatenate([v for v, _ in parts]), _stack_faces(parts)))
            bounds += [(v.min(axis=0), v.max(axis=0)) for v, _ in parts]
            objects.append(StageObject(len(objects), piece.name, piece.albedo_rgb, piece.kind))
        self.first_actor_id = len(objects)
        objects += [
            StageObject(self.first_actor_id + i, a.name, a.albedo_rgb, "actor") for i, a in enumerate(self.actors)
        ]
        self.objects: List[StageObject] = objects
        #: World-space bounds (P, 2, 3) of every part of every dressing piece, for image culling.
        self.dressing_bounds = np.array(bounds, dtype=float).reshape(-1, 2, 3)

        self._static = o3d.t.geometry.RaycastingScene()
        gid_to_object = []
        for object_id, (v, f) in enumerate(meshes):
            gid = self._static.add_triangles(
                o3d.core.Tensor(np.ascontiguousarray(v, dtype=np.float32)),
                o3d.core.Tensor(np.ascontiguousarray(f, dtype=np.uint32)),
            )
            gid_to_object.append((gid, object_id))
        self._gid_to_object = np.full(max(g for g, _ in gid_to_object) + 1, -1, dtype=np.int32)
        for gid, object_id in gid_to_object:
            self._gid_to_object[gid] = object_id
        # Faces of the static set, numbered object by object (a face's global id is its
        # object's offset plus Open3D's primitive id): their normals, one of their points and
        # their object, for shading a frame per face instead of per pixel.
        normals, points = zip(*(_face_planes(v, f) for v, f in meshes))
        counts = [len(n) for n in normals]
        #: (objects,) first global face id of each static object.
        self.static_face_offset = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
        self.static_face_normals = np.concatenate(normals)
        self.static_face_points = np.concatenate(points)
        self.static_face_object = np.repeat(np.arange(len(meshes)), counts)

        parts = actor_mesh_parts()
        verts = np.concatenate([v for v, _ in parts])
        tris = _stack_faces(parts)
        #: Faces of the actor mesh in the actor's frame (actor k's face j has global id
        #: ``len(static_face_normals) + k * len(actor_face_normals) + j``).
        self.actor_face_normals, self.actor_face_points = _face_planes(verts, tris)
        self._actor_scene = o3d.t.geometry.RaycastingScene()
        self._actor_scene.add_triangles(
            o3d.core.Tensor(verts.astype(np.float32)), o3d.core.Tensor(tris.astype(np.uint32))
        )
        self._o3d = o3d
        # Open3D builds a scene's BVH on its first query; do it now so that threads querying
        # the stage concurrently never race on it.
        probe = np.array([[0.0, 0.0, 1.0, 0.0, 0.0, -1.0]], dtype=np.float32)
        self._static.cast_rays(o3d.core.Tensor(probe))
        self._actor_scene.cast_rays(o3d.core.Tensor(probe))

    def cast_static(
        self, rays: np.ndarray, nthreads: int = 0, faces: bool = False
    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cast rays (N,6) float32 (origin, unit direction) at the static set.

        Returns ``(t (N,) float32 with inf for misses, object_id (N,) int32, normal (N,3) float32)``,
        or with ``faces`` the global face id (N,) intp (-1 for a miss) in place of the normal."""
        if rays.shape[0] == 0:
            last = np.zeros(0, np.intp) if faces else np.zeros((0, 3), np.float32)
            return np.zeros(0, np.float32), np.zeros(0, np.int32), last
        last_key = "primitive_ids" if faces else "primitive_normals"
        t, gids, last = _cast_in_batches(self._static, np.asarray(rays, dtype=np.float32), nthreads,
                                         ("t_hit", "geometry_ids", last_key))
        # Misses carry Open3D's invalid id (2^32 - 1): clipped onto a trailing -1 entry.
        gid = np.minimum(gids.astype(np.intp), self._gid_to_object.size)
        obj = np.take(np.append(self._gid_to_object, -1), gid).astype(np.int32)
        if not faces:
            return t, obj, last
        face = np.take(np.append(self.static_face_offset, -1), obj) + last.astype(np.intp)
        face[obj < 0] = -1
        return t, obj, face

    def inside_room(self, point: np.ndarray) -> bool:
        """True when ``point`` (3,) is inside the room, below the top of the walls."""
        x, y, z = (float(v) for v in point)
        return abs(x) < self.half_width_m and abs(y) < self.half_depth_m and 0.0 < z < self.height_m

    def cast_room_shell(
        self, origin: np.ndarray, dx: np.ndarray, dy: np.ndarray, dz: np.ndarray
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Analytic hits of rays from one ``origin`` (3,) inside the room (see :meth:`inside_room`)
        with the floor and walls only. Directions come as three float32 arrays (N,).

        Returns ``(t (N,) float32, object_id (N,) intp)``; rays leaving over the walls miss.
        Agrees with :meth:`cast_static` on rays that meet no dressing (same planes, float
        rounding apart). Written as whole-array operations without ``where``: this runs on
        every pixel of every frame.
        """
        ox, oy, oz = (np.float32(v) for v in origin)
        W, D, H = np.float32(self.half_width_m), np.float32(self.half_depth_m), np.float32(self.height_m)
        with np.errstate(divide="ignore", invalid="ignore"):
            # Distance to the wall each ray points at; a zero component divides to +inf.
            tx = np.copysign(W, dx)
            tx -= ox
            tx /= dx
            ty = np.copysign(D, dy)
            ty -= oy
            ty /= dy
            tz = np.negative(dz)
            np.maximum(tz, np.float32(0.0), out=tz)
            np.divide(oz, tz, out=tz)  # upward rays never meet the floor: oz / 0 = inf
        # Masks are applied arithmetically: masked numpy writes (copyto/where) with an
        # image-shaped, irregular mask cost ten times a plain operation.
        x_wall = (tx <= ty).view(np.int8)
        t = np.minimum(tx, ty)
        not_floor = (t <= tz).view(np.int8)
        np.minimum(t, tz, out=t)
        # wall ids: +x 1, -x 2, +y 3, -y 4; the floor 0
        wall_y = (dy <= 0).view(np.int8) + np.int8(3)
        wall_x = (dx <= 0).view(np.int8) + np.int8(1)
        wall_x -= wall_y
        wall_x *= x_wall
        wall_y += wall_x
        wall_y *= not_floor
        obj = wall_y
        z_hit = t * dz
        z_hit += oz
        over = (z_hit > H).view(np.int8)
        over *= not_floor
        with np.errstate(divide="ignore"):
            t /= (np.int8(1) - over).astype(np.float32)  # over the wall: t / 0 = inf
        obj *= np.int8(1) - over
        obj -= over
        return t, obj.astype(np.intp)

    def merge_actors(
        self,
        origins: np.ndarray,
        directions: np.ndarray,
        t_s,
        best_t: np.ndarray,
        best_obj: np.ndarray,
        best_normal: np.ndarray,
        subsets: Optional[Sequence[Optional[np.ndarray]]] = None,
        nthreads: int = 0,
    ) -> None:
        """Bring the actors into the hits ``best_*`` (updated in place).

        ``origins``/``directions`` (N,3) are in stage; ``t_s`` is one time for all rays or one per
        ray (seconds since the stage epoch). ``subsets`` optionally restricts each actor to the
        ray indices that may see it (a superset is fine: the bounding-cylinder test follows).
        A batch first meets each actor's bounding cylinder at the batch's middle time, widened by
        the distance the actor walks in half the batch's span; only rays that pass are moved
        into the actor's frame at their own time and cast.
        """
        if not self.actors or origins.shape[0] == 0:
            return
        per_ray = np.ndim(t_s) > 0
        times = np.asarray(t_s, dtype=float)
        batches, owners = [], []
        for k, actor in enumerate(self.actors):
            subset = None if subsets is None else subsets[k]
            if subset is not None and subset.size == 0:
                continue
            o = origins if subset is None else origins[subset]
            d = directions if subset is None else directions[subset]
            t_k = times if subset is None or not per_ray else times[subset]
            t_lo, t_hi = (float(t_k.min()), float(t_k.max())) if per_ray else (float(times), float(times))
            centre, _ = actor_poses(actor.path, 0.5 * (t_lo + t_hi))
            slack = actor.path.speed_mps * 0.5 * (t_hi - t_lo)
            enter = _cylinder_entry(
                o[:, 0] - centre[0], o[:, 1] - centre[1], o[:, 2], d[:, 0], d[:, 1], d[:, 2], ACTOR_RADIUS_M + slack
            )
            keep = np.flatnonzero(enter < (best_t if subset is None else best_t[subset]))
            if keep.size == 0:
                continue
            rows = keep if subset is None else subset[keep]
            o, d = o[keep], d[keep]
            pos, yaw = actor_poses(actor.path, t_k[keep] if per_ray else float(times))
            c, s = np.cos(yaw), np.sin(yaw)
            rel = o - pos
            local = np.empty((rows.size, 6), dtype=np.float32)
            local[:, 0] = c * rel[:, 0] + s * rel[:, 1]
            local[:, 1] = -s * rel[:, 0] + c * rel[:, 1]
            local[:, 2] = rel[:, 2]
            local[:, 3] = c * d[:, 0] + s * d[:, 1]
            local[:, 4] = -s * d[:, 0] + c * d[:, 1]
            local[:, 5] = d[:, 2]
            batches.append(local)
            owners.append((k, rows, c, s))
        self._apply_actor_hits(batches, owners, best_t, best_obj, best_normal, nthreads)

    def merge_actors_from_point(
        self,
        origin: np.ndarray,
        dx: np.ndarray,
        dy: np.ndarray,
        dz: np.ndarray,
        t_s: float,
        best_t: np.ndarray,
        best_obj: np.ndarray,
        best_face: np.ndarray,
        subsets: Sequence[np.ndarray],
        nthreads: int = 0,
    ) -> None:
        """:meth:`merge_actors` for a camera: every ray starts at ``origin`` (3,) at one time
        ``t_s``; directions are float32 component arrays (N,); ``subsets[k]`` holds the indices
        of the rays that may see actor ``k``. Works in float32 on the subsets only and records
        the global face id hit (see :attr:`actor_face_normals`) in ``best_face``."""
        batches, owners = [], []
        for k, actor in enumerate(self.actors):
            idx = subsets[k]
            if idx.size == 0:
                continue
            pos, yaw = actor_poses(actor.path, float(t_s))
            c, s = float(np.cos(yaw)), float(np.sin(yaw))
            rx, ry, rz = (float(v) for v in np.asarray(origin, dtype=float) - pos)
            olx, oly = c * rx + s * ry, -s * rx + c * ry
            gx, gy, gz = np.take(dx, idx), np.take(dy, idx), np.take(dz, idx)
            lx = gx * np.float32(c)
            lx += gy * np.float32(s)
            ly = gy * np.float32(c)
            ly -= gx * np.float32(s)
            enter = _cylinder_entry(np.float32(olx), np.float32(oly), np.float32(rz), lx, ly, gz, ACTOR_RADIUS_M)
            keep = np.flatnonzero(enter < np.take(best_t, idx))
            if keep.size == 0:
                continue
            local = np.empty((keep.size, 6), dtype=np.float32)
            local[:, 0], local[:, 1], local[:, 2] = olx, oly, rz
            local[:, 3], local[:, 4], local[:, 5] = np.take(lx, keep), np.take(ly, keep), np.take(gz, keep)
            batches.append(local)
            owners.append((k, idx[keep], c, s))
        self._apply_actor_hits(batches, owners, best_t, best_obj, best_face, nthreads, faces=True)

    def _apply_actor_hits(
        self, batches, owners, best_t, best_obj, best_out, nthreads: int, faces: bool = False
    ) -> None:
        """Cast the actor-frame rays of all actors in one call and keep hits nearer than
        ``best_t``; ``best_out`` receives stage normals, or global face ids with ``faces``."""
        if not batches:
            return
        t_all, per_ray = _cast_in_batches(self._actor_scene, np.concatenate(batches), nthreads,
                                          ("t_hit", "primitive_ids" if faces else "primitive_normals"))
        if faces:
            per_ray = per_ray.astype(np.intp)
        first_face = len(self.static_face_normals)
        start = 0
        for (k, rows, c, s), batch in zip(owners, batches):
            t = t_all[start : start + len(batch)]
            n = per_ray[start : start + len(batch)]
            start += len(batch)
            nearer = t < best_t[rows]
            if not np.any(nearer):
                continue
            r = rows[nearer]
            best_t[r] = t[nearer]
            best_obj[r] = self.first_actor_id + k
            if faces:
                best_out[r] = first_face + k * len(self.actor_face_normals) + n[nearer]
                continue
            cc = c if np.ndim(c) == 0 else c[nearer]
            ss = s if np.ndim(s) == 0 else s[nearer]
            nl = n[nearer]
            best_out[r, 0] = cc * nl[:, 0] - ss * nl[:, 1]
            best_out[r, 1] = ss * nl[:, 0] + cc * nl[:, 1]
            best_out[r, 2] = nl[:, 2]


def _cylinder_entry(ox, oy, oz, dx, dy, dz, radius_m: float) -> np.ndarray:
    """Distance at which rays enter a vertical cylinder of ``radius_m`` standing on the floor at
    the origin of x/y, as tall as an actor (``inf`` if never). Rays are given relative to it."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = dx * dx + dy * dy
        b = ox * dx + oy * dy
        c = ox * ox + oy * oy - radius_m * radius_m
        disc = b * b - a * c
        vertical = a < 1e-12
        root = np.sqrt(np.maximum(disc, 0.0))
        t0 = np.where(vertical, -np.inf, (-b - root) / a)
        t1 = np.where(vertical, np.inf, (-b + root) / a)
        radial_ok = np.where(vertical, c <= 0.0, disc >= 0.0)
        flat = np.abs(dz) < 1e-12
        z0 = np.where(flat, -np.inf, (0.0 - oz) / dz)
        z1 = np.where(flat, np.inf, (ACTOR_HEIGHT_M + 0.01 - oz) / dz)
        zlo, zhi = np.minimum(z0, z1), np.maximum(z0, z1)
        z_ok = np.where(flat, (oz >= 0.0) & (oz <= ACTOR_HEIGHT_M + 0.01), True)
        enter = np.maximum(np.maximum(t0, zlo), 0.0)
        leave = np.minimum(t1, zhi)
        hit = radial_ok & z_ok & (enter <= leave)
    return np.where(hit, enter, np.inf)
