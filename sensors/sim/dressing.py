"""Set dressing: a seeded generator of furniture-like pieces and their meshes.

Pieces are simple meshes (crates, tables, columns, sofas, cabinets) with a position, a yaw, a
size and a colour drawn from a seeded generator: the same seed gives the identical dressing,
another seed a new one. Pieces never overlap each other, the dolly track corridor (the floor
the dolly and crane sweep) or the actors' walking loops; their footprints are bounded by
circles (:mod:`sensors.sim.layout`) so the test is conservative.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np

from config.models import StageConfig
from sensors.sim.layout import Capsule, capsules_clear, inside_room, track_corridor

__all__ = ["KINDS", "DressingPiece", "generate_dressing", "piece_parts", "piece_mesh"]

#: Kinds of dressing and their (width, depth, height) ranges in metres; a column's height is the
#: room's, a table's height is fixed at 0.75 m.
KINDS = {
    "crate": ((0.4, 1.2), (0.4, 1.2), (0.4, 1.2)),
    "table": ((1.2, 2.0), (0.7, 1.0), (0.75, 0.75)),
    "column": ((0.3, 0.7), (0.3, 0.7), (0.0, 0.0)),
    "sofa": ((1.6, 2.2), (0.8, 0.95), (0.85, 0.95)),
    "cabinet": ((0.8, 1.6), (0.4, 0.6), (1.6, 2.2)),
}


@dataclass(frozen=True)
class DressingPiece:
    """One piece of set dressing: ``size_m`` = (width along its local x, depth along y, height),
    standing on the floor at ``centre_xy`` turned ``yaw_deg``; ``albedo_rgb`` is linear 0..1."""

    name: str
    kind: str
    centre_xy: Tuple[float, float]
    yaw_deg: float
    size_m: Tuple[float, float, float]
    albedo_rgb: Tuple[float, float, float]

    def footprint(self) -> Capsule:
        """Bounding circle of the piece on the floor."""
        return Capsule(self.centre_xy, self.centre_xy, float(np.hypot(self.size_m[0], self.size_m[1]) / 2.0))


def _colour(rng: np.random.Generator) -> Tuple[float, float, float]:
    """A muted paint colour, as linear albedo (sRGB-decoded)."""
    r, g, b = colorsys.hsv_to_rgb(float(rng.uniform()), float(rng.uniform(0.2, 0.6)), float(rng.uniform(0.35, 0.8)))
    return tuple(float(((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92) for c in (r, g, b))


def generate_dressing(
    stage: StageConfig, rng: np.random.Generator, keep_clear: Sequence[Capsule] = ()
) -> List[DressingPiece]:
    """Up to ``stage.dressing_count`` pieces inside the room, clear of the track corridor, of
    ``keep_clear`` (e.g. actor loops) and of each other (0.2 m gap). Deterministic for a
    generator state; a room too small for all of them gets as many as fit after a bounded
    number of tries (the count is a maximum)."""
    corridor = track_corridor(stage)
    blocked: List[Capsule] = [corridor, *keep_clear]
    pieces: List[DressingPiece] = []
    kinds = sorted(KINDS)
    counts = {k: 0 for k in kinds}
    for _ in range(stage.dressing_count):
        for _attempt in range(400):
            kind = kinds[int(rng.integers(0, len(kinds)))]
            (w0, w1), (d0, d1), (h0, h1) = KINDS[kind]
            w = float(rng.uniform(w0, w1))
            d = w if kind == "column" else float(rng.uniform(d0, d1))
            h = float(stage.height_m) if kind == "column" else float(rng.uniform(h0, h1))
            centre = (
                float(rng.uniform(-stage.width_m / 2, stage.width_m / 2)),
                float(rng.uniform(-stage.depth_m / 2, stage.depth_m / 2)),
            )
            yaw = float(rng.uniform(-180.0, 180.0))
            colour = _colour(rng)
            candidate = DressingPiece("", kind, centre, yaw, (w, d, h), colour)
            foot = candidate.footprint()
            if not inside_room(foot, stage.width_m, stage.depth_m, margin_m=0.05):
                continue
            if all(capsules_clear(foot, other, gap_m=0.2) for other in blocked):
                counts[kind] += 1
                pieces.append(DressingPiece(f"{kind}_{counts[kind]}", kind, centre, yaw, (w, d, h), colour))
                blocked.append(foot)
                break
    return pieces


def _box(size, centre) -> Tuple[np.ndarray, np.ndarray]:
    """Axis-aligned box (8 vertices, 12 outward triangles)."""
    sx, sy, sz = (float(v) / 2.0 for v in size)
    cx, cy, cz = (float(v) for v in centre)
    v = np.array([[cx + i * sx, cy + j * sy, cz + k * sz] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)])
    # vertex index = 4*(i>0) + 2*(j>0) + (k>0)
    f = np.array(
        [
            [0, 1, 3], [0, 3, 2],  # -x
            [4, 6, 7], [4, 7, 5],  # +x
            [0, 4, 5], [0, 5, 1],  # -y
            [2, 3, 7], [2, 7, 6],  # +y
            [0, 2, 6], [0, 6, 4],  # -z
            [1, 5, 7], [1, 7, 3],  # +z
        ]
    )
    return v, f


def _column(radius: float, height: float, segments: int = 24) -> Tuple[np.ndarray, np.ndarray]:
    """Closed vertical prism of ``segments`` sides approximating a cylinder, base at z = 0."""
    a = np.linspace(0.0, 2.0 * np.pi, segments, endpoint=False)
    ring = np.stack([radius * np.cos(a), radius * np.sin(a)], axis=1)
    v = np.concatenate(
        [np.c_[ring, np.zeros(segments)], np.c_[ring, np.full(segments, height)], [[0, 0, 0], [0, 0, height]]]
    )
    i = np.arange(segments)
    j = (i + 1) % segments
    sides = np.concatenate([np.stack([i, j, j + segments], 1), np.stack([i, j + segments, i + segments], 1)])
    bottom = np.stack([np.full(segments, 2 * segments), j, i], 1)
    top = np.stack([np.full(segments, 2 * segments + 1), i + segments, j + segments], 1)
    return v, np.concatenate([sides, bottom, top])


def _merge(parts) -> Tuple[np.ndarray, np.ndarray]:
    verts, tris, base = [], [], 0
    for v, f in parts:
        verts.append(v)
        tris.append(f + base)
        base += len(v)
    return np.concatenate(verts), np.concatenate(tris)


def piece_parts(piece: DressingPiece) -> List[Tuple[np.ndarray, np.ndarray]]:
    """The piece's closed parts (a table's top and legs, ...) in stage coordinates: a list of
    ``(vertices (V,3) metres, triangles (F,3))``."""
    w, d, h = piece.size_m
    if piece.kind == "table":
        leg, top = 0.06, 0.05
        lx, ly = w / 2.0 - leg, d / 2.0 - leg
        parts = [_box((w, d, top), (0, 0, h - top / 2.0))]
        parts += [_box((leg, leg, h - top), (sx * lx, sy * ly, (h - top) / 2.0)) for sx in (-1, 1) for sy in (-1, 1)]
    elif piece.kind == "column":
        parts = [_column(w / 2.0, h)]
    elif piece.kind == "sofa":
        seat, back, arm = 0.45, 0.2, 0.2
        parts = [
            _box((w, d, seat), (0, 0, seat / 2.0)),
            _box((w, back, h), (0, d / 2.0 - back / 2.0, h / 2.0)),
            _box((arm, d, 0.62), (-w / 2.0 + arm / 2.0, 0, 0.31)),
            _box((arm, d, 0.62), (w / 2.0 - arm / 2.0, 0, 0.31)),
        ]
    else:  # crate, cabinet: plain boxes
        parts = [_box((w, d, h), (0, 0, h / 2.0))]
    yaw = np.radians(piece.yaw_deg)
    c, s = np.cos(yaw), np.sin(yaw)
    R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    offset = np.array([piece.centre_xy[0], piece.centre_xy[1], 0.0])
    return [(v @ R.T + offset, f) for v, f in parts]


def piece_mesh(piece: DressingPiece) -> Tuple[np.ndarray, np.ndarray]:
    """The piece's mesh in stage coordinates: vertices (V,3) metres, triangles (F,3)."""
    return _merge(piece_parts(piece))
