"""Actors: humanoid proxies walking closed loops on the stage floor.

An actor is a rigid body (legs, torso, arms, neck, head with a nose that shows where it
faces; 1.75 m tall) whose local frame has x forward, y left, z up and its origin on the floor
between the feet. It walks a *stadium* loop (two straight walks joined by half circles) at a
constant speed, always facing along the path, so its pose is an exact, smooth function of
time: ``T_stage_actor(t)`` is a yaw and a translation. Actors never stop: every stage, whatever
its profile, has moving actors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np

from config.models import StageConfig
from sensors.sim.layout import Capsule, capsules_clear, inside_room, track_corridor

__all__ = [
    "ACTOR_HEIGHT_M",
    "ACTOR_RADIUS_M",
    "ActorPath",
    "Actor",
    "actor_poses",
    "actor_matrices",
    "generate_actors",
    "actor_mesh_parts",
]

#: Height of the humanoid proxy (top of the head) and the radius of a vertical cylinder that
#: contains it; the cylinder bounds every ray test.
ACTOR_HEIGHT_M = 1.75
ACTOR_RADIUS_M = 0.36


@dataclass(frozen=True)
class ActorPath:
    """A stadium loop: straights of ``straight_m`` joined by half circles of ``radius_m``,
    centred at ``centre_xy`` (stage metres) with its straights along ``yaw_deg``; walked at
    ``speed_mps`` starting ``phase_m`` along the loop, counter-clockwise unless ``clockwise``."""

    centre_xy: Tuple[float, float]
    yaw_deg: float
    straight_m: float
    radius_m: float
    speed_mps: float
    phase_m: float
    clockwise: bool

    @property
    def length_m(self) -> float:
        return 2.0 * self.straight_m + 2.0 * np.pi * self.radius_m

    def footprint(self) -> Capsule:
        """The floor the walking actor can touch."""
        a = np.radians(self.yaw_deg)
        u = np.array([np.cos(a), np.sin(a)]) * self.straight_m / 2.0
        c = np.asarray(self.centre_xy, dtype=float)
        return Capsule(tuple(c - u), tuple(c + u), self.radius_m + ACTOR_RADIUS_M)


@dataclass(frozen=True)
class Actor:
    """One actor: a name, the linear albedo (3,) of its clothes and the loop it walks."""

    name: str
    albedo_rgb: Tuple[float, float, float]
    path: ActorPath


def actor_poses(path: ActorPath, t_s) -> Tuple[np.ndarray, np.ndarray]:
    """Position (..., 3) on the floor (z = 0) and heading (...,) in radians at time(s) ``t_s``.

    The loop in its own frame: straight from (-a, -r) to (a, -r) heading 0, half circle about
    (a, 0), straight back from (a, r) to (-a, r), half circle about (-a, 0); clockwise loops are
    its mirror image. Then turned by ``yaw_deg`` and moved to ``centre_xy``.
    """
    if np.ndim(t_s) == 0:
        return _pose_at(path, float(t_s))
    t = np.asarray(t_s, dtype=float)
    a, r, straight = path.straight_m / 2.0, path.radius_m, path.straight_m
    arc = np.pi * r
    s = np.mod(path.phase_m + path.speed_mps * t, path.length_m)
    on_a = s < straight
    on_arc1 = (s >= straight) & (s < straight + arc)
    on_b = (s >= straight + arc) & (s < 2.0 * straight + arc)
    theta1 = -np.pi / 2.0 + (s - straight) / max(r, 1e-12)
    theta2 = np.pi / 2.0 + (s - 2.0 * straight - arc) / max(r, 1e-12)
    parts = [on_a, on_arc1, on_b]
    x = np.select(
        parts,
        [-a + s, a + r * np.cos(theta1), a - (s - straight - arc)],
        -a + r * np.cos(theta2),
    )
    y = np.select(parts, [np.full_like(s, -r), r * np.sin(theta1), np.full_like(s, r)], r * np.sin(theta2))
    heading = np.select(parts, [np.zeros_like(s), theta1 + np.pi / 2.0, np.full_like(s, np.pi)], theta2 + np.pi / 2.0)
    if path.clockwise:
        y, heading = -y, -heading
    yaw = np.radians(path.yaw_deg)
    c, sn = np.cos(yaw), np.sin(yaw)
    pos = np.stack([path.centre_xy[0] + c * x - sn * y, path.centre_xy[1] + sn * x + c * y, np.zeros_like(x)], axis=-1)
    return pos, np.mod(heading + yaw + np.pi, 2.0 * np.pi) - np.pi


def _pose_at(path: ActorPath, t_s: float) -> Tuple[np.ndarray, np.ndarray]:
    """:func:`actor_poses` for one time, in plain floats (called per ray batch, so kept cheap)."""
    a, r, straight = path.straight_m / 2.0, path.radius_m, path.straight_m
    arc = math.pi * r
    s = (path.phase_m + path.speed_mps * t_s) % path.length_m
    if s < straight:
        x, y, heading = -a + s, -r, 0.0
    elif s < straight + arc:
        theta = -math.pi / 2.0 + (s - straight) / max(r, 1e-12)
        x, y, heading = a + r * math.cos(theta), r * math.sin(theta), theta + math.pi / 2.0
    elif s < 2.0 * straight + arc:
        x, y, heading = a - (s - straight - arc), r, math.pi
    else:
        theta = math.pi / 2.0 + (s - 2.0 * straight - arc) / max(r, 1e-12)
        x, y, heading = -a + r * math.cos(theta), r * math.sin(theta), theta + math.pi / 2.0
    if path.clockwise:
        y, heading = -y, -heading
    yaw = math.radians(path.yaw_deg)
    c, sn = math.cos(yaw), math.sin(yaw)
    pos = np.array([path.centre_xy[0] + c * x - sn * y, path.centre_xy[1] + sn * x + c * y, 0.0])
    return pos, np.array((heading + yaw + math.pi) % (2.0 * math.pi) - math.pi)


def actor_matrices(actors: List[Actor], t_s: float) -> np.ndarray:
    """``T_stage_actor`` (A, 4, 4) of every actor at one time ``t_s``."""
    out = np.tile(np.eye(4), (len(actors), 1, 1))
    for i, actor in enumerate(actors):
        pos, heading = actor_poses(actor.path, float(t_s))
        c, s = np.cos(heading), np.sin(heading)
        out[i, :3, :3] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
        out[i, :3, 3] = pos
    return out


_CLOTHES = [
    (0.55, 0.12, 0.10),
    (0.10, 0.22, 0.50),
    (0.45, 0.40, 0.12),
    (0.12, 0.38, 0.18),
    (0.40, 0.15, 0.42),
    (0.60, 0.35, 0.20),
]


def _try_path(rng: np.random.Generator, stage: StageConfig, relax: int) -> ActorPath:
    straight = float(rng.uniform(1.0, 4.0) / (1 + relax))
    radius = float(rng.uniform(0.5, 1.2) / (1 + relax))
    centre = (
        float(rng.uniform(-stage.width_m / 2, stage.width_m / 2)),
        float(rng.uniform(-stage.depth_m / 2, stage.depth_m / 2)),
    )
    return ActorPath(
        centre_xy=centre,
        yaw_deg=float(rng.uniform(-180.0, 180.0)),
        straight_m=straight,
        radius_m=radius,
        speed_mps=float(rng.uniform(0.8, 1.4)),
        phase_m=float(rng.uniform(0.0, 2.0 * straight + 2.0 * np.pi * radius)),
        clockwise=bool(rng.integers(0, 2)),
    )


def _facing_side(stage: StageConfig, centre_xy) -> bool:
    """True when ``centre_xy`` is on the same side of the track as the middle of the room
    (where the camera usually looks), or on its left when the track runs through the middle."""
    corridor = track_corridor(stage)
    a, b = np.asarray(corridor.a_xy), np.asarray(corridor.b_xy)
    d = b - a

    def side(p) -> float:
        p = np.asarray(p, dtype=float) - a
        return float(d[0] * p[1] - d[1] * p[0])

    middle = side((0.0, 0.0))
    return side(centre_xy) * (middle if abs(middle) > 1e-9 else 1.0) > 0.0


def generate_actors(stage: StageConfig, rng: np.random.Generator) -> List[Actor]:
    """``stage.actor_count`` actors on loops inside the room, clear of the dolly track and of
    each other, preferably on the side of the track the camera faces. Deterministic for a
    generator state. When the room is too crowded the loops shrink; as a last resort a loop is
    placed where it fits in the room even if near the track, so actors always move."""
    corridor = track_corridor(stage)
    taken: List[Capsule] = []
    actors: List[Actor] = []
    for i in range(stage.actor_count):
        path = None
        for attempt in range(1200):
            relax = attempt // 300  # 0: preferred layout ... 3: small loops anywhere clear
            candidate = _try_path(rng, stage, relax)
            foot = candidate.footprint()
            if not inside_room(foot, stage.width_m, stage.depth_m, margin_m=0.3):
                continue
            if relax < 3 and not capsules_clear(foot, corridor, gap_m=0.3):
                continue
            if relax < 2 and not _facing_side(stage, candidate.centre_xy):
                continue
            if all(capsules_clear(foot, other, gap_m=0.2) for other in taken) or relax >= 3:
                path = candidate
                break
        if path is None:
            # A tiny circle in the middle of the room: the room is at least 2 m wide.
            path = ActorPath((0.0, 0.0), 0.0, 0.0, 0.3, 0.8, 0.0, bool(i % 2))
        taken.append(path.footprint())
        albedo = _CLOTHES[int(rng.integers(0, len(_CLOTHES)))]
        actors.append(Actor(name=f"actor_{i + 1}", albedo_rgb=albedo, path=path))
    return actors


def actor_mesh_parts() -> List[Tuple[np.ndarray, np.ndarray]]:
    """The humanoid proxy as triangle meshes in the actor's frame: a list of
    ``(vertices (V,3) float64 metres, triangles (F,3) int)``, faces wound outwards."""
    try:
        import open3d as o3d
    except ImportError as err:  # pragma: no cover - open3d-cpu is a core dependency
        raise ImportError("the simulated stage needs Open3D: pip install open3d-cpu==0.20.*") from err

    def cylinder(radius: float, z0: float, z1: float, x: float = 0.0, y: float = 0.0, sx: float = 1.0, sy: float = 1.0):
        m = o3d.geometry.TriangleMesh.create_cylinder(radius=radius, height=z1 - z0, resolution=20, split=1)
        v = np.asarray(m.vertices).copy()
        v[:, 0] = v[:, 0] * sx + x
        v[:, 1] = v[:, 1] * sy + y
        v[:, 2] += (z0 + z1) / 2.0
        return v, np.asarray(m.triangles).copy()

    def sphere(radius: float, centre) -> tuple:
        m = o3d.geometry.TriangleMesh.create_sphere(radius=radius, resolution=16)
        return np.asarray(m.vertices) + np.asarray(centre), np.asarray(m.triangles).copy()

    def box(size, centre) -> tuple:
        m = o3d.geometry.TriangleMesh.create_box(*size)
        return np.asarray(m.vertices) - np.asarray(size) / 2.0 + np.asarray(centre), np.asarray(m.triangles).copy()

    head_r = 0.115
    return [
        cylinder(0.075, 0.0, 0.86, y=0.10),  # legs
        cylinder(0.075, 0.0, 0.86, y=-0.10),
        cylinder(1.0, 0.84, 1.46, sx=0.13, sy=0.21),  # torso, wider than deep
        cylinder(0.05, 0.80, 1.42, y=0.27),  # arms
        cylinder(0.05, 0.80, 1.42, y=-0.27),
        cylinder(0.05, 1.44, 1.54),  # neck
        sphere(head_r, (0.0, 0.0, ACTOR_HEIGHT_M - head_r)),
        box((0.06, 0.04, 0.04), (head_r + 0.01, 0.0, ACTOR_HEIGHT_M - head_r)),  # nose: the way it faces
    ]
