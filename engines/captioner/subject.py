"""The subject of a fused frame, from its LiDAR depth: a standing person's distance, place and top.

Only what the rig measured is used: the frame's depth map (LiDAR returns projected into the
image, optical-axis depth), the intrinsics it was projected with and the camera's pose in the
stage (from the tracking telemetry; the floor is the stage's ``z = 0``, as tracking systems are set).

1. Every return is lifted back into the stage (distortion is ignored: near the frame's centre,
   where subjects are framed, it moves a return by well under a pixel's worth of metres).
2. Returns on the floor (below :data:`FLOOR_CLEARANCE_M`) are dropped; the rest are grouped by
   where they stand: connected cells of :data:`CELL_M` on the stage floor plan.
3. A group is a person when it is a person's size: at least :data:`MIN_RETURNS` returns, no wider
   than :data:`PERSON_MAX_WIDTH_M` along its longest horizontal extent (shoulders and arms), its
   highest return between :data:`PERSON_MIN_TOP_M` and :data:`PERSON_MAX_TOP_M` above the floor
   (crates, tables and sofas are lower, cabinets wider, columns and walls taller or wider). A
   group that the frame's top may cut (its highest return within :data:`TOP_EDGE_MARGIN_PX` of
   the image's top row) has an unknown top: it is a person only if what is left of it at the top
   is a head's width, :data:`HEAD_MAX_WIDTH_M` (the top of a column or a door frame is wider).
4. The subject is the person nearest the frame's centre column (a camera operator frames the
   subject there), the nearer one on a tie. No person: no subject (the labels say ``none``; a
   frame without a person is never given a guessed subject).

Its **distance** is the median optical-axis depth of its returns (what a focus puller measures to,
the subject's front); its **place** the median of their stage ``x, y``; its **top** the highest
return, which the LiDAR's beam spacing puts up to a beam's gap below the head's true top (a
VLP-16's 2 degrees: 10 cm at 3 m). ``top_in_frame`` is False when the frame's upper edge may cut
the subject (its highest return within :data:`TOP_EDGE_MARGIN_PX` of the image's top): its top
is then unknown.

Limits, said plainly: a pole or a column no wider than a head, with its top out of frame, is taken
for a person; a person whose head *and* shoulders are out of frame is not found; two people
standing touching are one group; a seated person is lower than :data:`PERSON_MIN_TOP_M` and is
not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

__all__ = [
    "FLOOR_CLEARANCE_M",
    "CELL_M",
    "MIN_RETURNS",
    "PERSON_MAX_WIDTH_M",
    "PERSON_MIN_TOP_M",
    "PERSON_MAX_TOP_M",
    "TOP_EDGE_MARGIN_PX",
    "HEAD_MAX_WIDTH_M",
    "HEAD_BAND_M",
    "Subject",
    "find_subject",
]

#: Returns lower than this above the floor are the floor's.
FLOOR_CLEARANCE_M = 0.10
#: Floor-plan cell size of the grouping: returns in touching cells are one group.
CELL_M = 0.15
#: Fewest returns a person must have in the frame.
MIN_RETURNS = 12
#: Widest horizontal extent of a standing person (arms at the sides: ~0.65 m).
PERSON_MAX_WIDTH_M = 0.8
#: Lowest and highest top of a standing person above the floor.
PERSON_MIN_TOP_M = 1.2
PERSON_MAX_TOP_M = 2.2
#: A group whose highest return lies this close to the image's top row may be cut by it.
TOP_EDGE_MARGIN_PX = 12
#: Widest a head is (0.23 m on the stage's actors, with the nose), over the returns within
#: :data:`HEAD_BAND_M` of a group's highest one.
HEAD_MAX_WIDTH_M = 0.3
HEAD_BAND_M = 0.1


@dataclass(frozen=True)
class Subject:
    """A framed person as the LiDAR saw it (module docstring): ``distance_m`` (optical-axis depth,
    median of its returns), ``position_xy_m`` (stage floor plan, median), ``top_z_m`` (highest
    return above the stage's z = 0), ``top_in_frame``, ``returns`` (how many), ``centre_u_px``
    (mean image column of its returns)."""

    distance_m: float
    position_xy_m: Tuple[float, float]
    top_z_m: float
    top_in_frame: bool
    returns: int
    centre_u_px: float


def _components(cells: np.ndarray) -> np.ndarray:
    """Label of each floor-plan cell (N,2 int) among its 8-connected groups."""
    from scipy import ndimage

    lo = cells.min(axis=0)
    shape = tuple(int(v) for v in cells.max(axis=0) - lo + 1)
    grid = np.zeros(shape, dtype=bool)
    grid[tuple((cells - lo).T)] = True
    labels, _ = ndimage.label(grid, structure=np.ones((3, 3), dtype=bool))
    return labels[tuple((cells - lo).T)]


def _width(xy: np.ndarray) -> float:
    """Longest horizontal extent (m) of points ``xy`` (N,2), along their principal axis."""
    centred = xy - xy.mean(axis=0)
    if len(xy) < 2:
        return 0.0
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    along = centred @ vt.T
    return float(np.ptp(along, axis=0).max())


def _upper_edge_z(K: np.ndarray, T: np.ndarray, u_px: float, points: np.ndarray) -> float:
    """Stage height where the ray through the image's top row at column ``u_px`` meets the
    vertical plane through ``points`` (their median), facing the camera."""
    ray = T[:3, :3] @ (np.linalg.inv(K) @ np.array([u_px, -0.5, 1.0]))
    centre = np.median(points, axis=0)
    normal = np.array([centre[0] - T[0, 3], centre[1] - T[1, 3], 0.0])
    norm = float(np.hypot(normal[0], normal[1]))
    denom = float(ray @ normal)
    if norm < 1e-6 or abs(denom) < 1e-9:
        return float("inf")
    return float(T[2, 3] + ray[2] * float((centre - T[:3, 3]) @ normal) / denom)


def _beam_gap_m(depth_m: np.ndarray) -> float:
    """How far below a surface's top its highest return may lie: a 2-degree beam gap (VLP-16) at
    the group's median depth, at least :data:`HEAD_BAND_M`."""
    return max(HEAD_BAND_M, float(np.median(depth_m)) * float(np.tan(np.radians(2.0))))


def find_subject(depth_m: np.ndarray, K: np.ndarray, T_stage_optical: np.ndarray,
                 floor_z_m: float = 0.0) -> Optional[Subject]:
    """The frame's subject from its depth map ``depth_m`` (H,W; NaN where no return), intrinsics
    ``K`` (3,3) and camera pose ``T_stage_optical`` (4,4), or None when no person is in frame."""
    depth = np.asarray(depth_m, dtype=np.float64)
    v, u = np.nonzero(np.isfinite(depth) & (depth > 0.0))
    if v.size < MIN_RETURNS:
        return None
    z = depth[v, u]
    K = np.asarray(K, dtype=float)
    cam = np.stack([(u - K[0, 2]) / K[0, 0] * z, (v - K[1, 2]) / K[1, 1] * z, z], axis=1)
    T = np.asarray(T_stage_optical, dtype=float)
    stage = cam @ T[:3, :3].T + T[:3, 3]
    height = stage[:, 2] - floor_z_m
    keep = height > FLOOR_CLEARANCE_M
    if np.count_nonzero(keep) < MIN_RETURNS:
        return None
    u, v, z, stage, height = u[keep], v[keep], z[keep], stage[keep], height[keep]
    labels = _components(np.floor(stage[:, :2] / CELL_M).astype(np.int64))
    cx = float(K[0, 2])
    width_px = depth.shape[1]
    best: Optional[Tuple[float, float, Subject]] = None
    for label in np.unique(labels):
        mine = labels == label
        if np.count_nonzero(mine) < MIN_RETURNS:
            continue
        top = float(height[mine].max())
        if not PERSON_MIN_TOP_M <= top <= PERSON_MAX_TOP_M or _width(stage[mine, :2]) > PERSON_MAX_WIDTH_M:
            continue
        top_in_frame = bool(v[mine][np.argmax(height[mine])] > TOP_EDGE_MARGIN_PX) and (
            _upper_edge_z(K, T, float(u[mine].mean()), stage[mine]) - floor_z_m - top > _beam_gap_m(z[mine]))
        if not top_in_frame:
            if u[mine].min() <= TOP_EDGE_MARGIN_PX or u[mine].max() >= width_px - 1 - TOP_EDGE_MARGIN_PX:
                continue  # cut by the top and a side: its size is unknown
            band = mine & (height >= top - HEAD_BAND_M)
            if _width(stage[band, :2]) > HEAD_MAX_WIDTH_M:
                continue  # cut by the frame's top and wider than a head: a column, a door frame
        centre_u = float(u[mine].mean())
        subject = Subject(
            distance_m=float(np.median(z[mine])),
            position_xy_m=(float(np.median(stage[mine, 0])), float(np.median(stage[mine, 1]))),
            top_z_m=top,
            top_in_frame=top_in_frame,
            returns=int(np.count_nonzero(mine)),
            centre_u_px=centre_u,
        )
        key = (abs(centre_u - cx), subject.distance_m)
        if best is None or key < best[:2]:
            best = (key[0], key[1], subject)
    return None if best is None else best[2]
