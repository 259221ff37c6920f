"""Floor-plan geometry used to lay out a stage: capsules (a segment with a radius) on the floor.

Every footprint on the stage floor is approximated from outside by a capsule: the dolly track
corridor, an actor's walking loop, a piece of set dressing (a segment of length zero, i.e.
its bounding circle). Two footprints are clear of each other when their capsules do not meet.
All coordinates are stage x/y in metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from config.models import StageConfig

__all__ = ["Capsule", "segment_distance", "capsules_clear", "inside_room", "track_corridor", "TRACK_CLEARANCE_M"]

#: Half-width of the floor kept free around the dolly track and the crane's reach (metres).
TRACK_CLEARANCE_M = 1.2


@dataclass(frozen=True)
class Capsule:
    """Points within ``radius_m`` of the segment ``a_xy``-``b_xy`` (each (2,), metres)."""

    a_xy: tuple
    b_xy: tuple
    radius_m: float


def _point_segment(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    denom = float(ab @ ab)
    s = 0.0 if denom == 0.0 else float(np.clip((p - a) @ ab / denom, 0.0, 1.0))
    return float(np.linalg.norm(p - (a + s * ab)))


def segment_distance(a0, a1, b0, b1) -> float:
    """Shortest distance between 2-D segments ``a0-a1`` and ``b0-b1`` (metres)."""
    a0, a1, b0, b1 = (np.asarray(v, dtype=float) for v in (a0, a1, b0, b1))
    # Segments that cross have distance zero; otherwise the minimum is at an endpoint.
    d1, d2 = a1 - a0, b1 - b0

    def cross(u: np.ndarray, v: np.ndarray) -> float:
        return float(u[0] * v[1] - u[1] * v[0])

    denom = cross(d1, d2)
    if denom != 0.0:
        s = cross(b0 - a0, d2) / denom
        t = cross(b0 - a0, d1) / denom
        if 0.0 <= s <= 1.0 and 0.0 <= t <= 1.0:
            return 0.0
    return min(
        _point_segment(a0, b0, b1),
        _point_segment(a1, b0, b1),
        _point_segment(b0, a0, a1),
        _point_segment(b1, a0, a1),
    )


def capsules_clear(c1: Capsule, c2: Capsule, gap_m: float = 0.0) -> bool:
    """True when the two capsules are at least ``gap_m`` apart."""
    return segment_distance(c1.a_xy, c1.b_xy, c2.a_xy, c2.b_xy) >= c1.radius_m + c2.radius_m + gap_m


def inside_room(c: Capsule, width_m: float, depth_m: float, margin_m: float = 0.0) -> bool:
    """True when the capsule lies inside the room ``|x| <= width/2``, ``|y| <= depth/2`` with
    ``margin_m`` to spare (the room is centred on the stage origin)."""
    limit = np.array([width_m / 2.0, depth_m / 2.0]) - (c.radius_m + margin_m)
    if np.any(limit < 0.0):
        return False
    return bool(np.all(np.abs(np.asarray(c.a_xy)) <= limit) and np.all(np.abs(np.asarray(c.b_xy)) <= limit))


def track_corridor(stage: StageConfig) -> Capsule:
    """The floor the dolly and crane sweep: the track from its origin to its end plus the crane
    arm's reach, :data:`TRACK_CLEARANCE_M` to each side."""
    a = np.radians(stage.track_heading_deg)
    h = np.array([np.cos(a), np.sin(a)])
    start = np.asarray(stage.track_origin_m[:2], dtype=float)
    end = start + h * (stage.track_length_m + stage.crane_arm_m)
    return Capsule(tuple(start), tuple(end), TRACK_CLEARANCE_M)
