"""Motion compensation of LiDAR points: each point moved to where it lies at the frame time.

A spinning LiDAR takes ~100 ms per sweep; while it turns the rig moves, so a sweep's points are
each seen from a different pose. Point ``i``, measured at master time ``t_i`` in the lidar frame,
is in stage ``p_stage = T_stage_rig(t_i) T_rig_lidar p_i`` (the world is taken as static over
the window); at the frame time ``t_f`` the lidar frame is ``T_stage_rig(t_f) T_rig_lidar``, so

    p_out = T_target_lidar (T_stage_rig(t_f) T_rig_lidar)^-1 T_stage_rig(t_i) T_rig_lidar p_i.

Everything but ``T_stage_rig(t_i)`` is one matrix per frame; the per-point pose is evaluated
exactly at *knots* (every ``knot_spacing_ns`` across the points' time span, plus every pose
sample inside it) and the composed 3x4 transform is interpolated linearly between knots. Between
knots 1 ms apart the rotation turns by ``omega * 1 ms`` (0.5 mrad at 30 deg/s); the chord of a
linear blend departs from the arc by ``theta^2 / 8`` (3e-8 of the point's range: nanometres),
so this is exact for the purpose and keeps the per-point work at a dozen multiply-adds.
"""

from __future__ import annotations

from typing import Callable, Optional, Union

import numpy as np

from edge.fusion.interpolate import PoseTrack

__all__ = ["DEFAULT_KNOT_SPACING_NS", "PoseSource", "deskew_points", "transform_points"]

#: Spacing of the exact-pose knots, ns (see the module docstring).
DEFAULT_KNOT_SPACING_NS = 1_000_000

#: Either a :class:`PoseTrack` or a function ``t_ns (M,) int64 -> T_stage_rig (M,4,4)``.
PoseSource = Union[PoseTrack, Callable[[np.ndarray], np.ndarray]]


def transform_points(T: np.ndarray, xyz: np.ndarray) -> np.ndarray:
    """``T[:3,:3] @ p + T[:3,3]`` for every point (N,3), float64."""
    M = np.asarray(T, dtype=np.float64)
    p = np.asarray(xyz).reshape(-1, 3)
    # Column by column: numpy's matmul of (N,3) by a 3x3 takes a slow generic path (~50x slower).
    x, y, z = (np.asarray(p[:, j], dtype=np.float64) for j in range(3))
    out = np.empty((p.shape[0], 3))
    for r in range(3):
        out[:, r] = M[r, 0] * x + M[r, 1] * y + M[r, 2] * z + M[r, 3]
    return out


def _pose_fn(poses: PoseSource) -> Callable[[np.ndarray], np.ndarray]:
    if isinstance(poses, PoseTrack):
        return poses.matrices
    if callable(poses):
        return lambda t: np.asarray(poses(t), dtype=np.float64).reshape(-1, 4, 4)
    raise TypeError(f"poses must be a PoseTrack or a callable t_ns -> (M,4,4), got {type(poses).__name__}")


def _knots(t_min: int, t_max: int, spacing_ns: int, poses: PoseSource) -> np.ndarray:
    """Knot times covering ``[t_min, t_max]``: an even grid plus the pose samples inside it
    (so piecewise-linear telemetry is followed through its corners)."""
    count = max(1, -(-(t_max - t_min) // spacing_ns))
    grid = t_min + np.rint(np.linspace(0.0, float(t_max - t_min), count + 1)).astype(np.int64)
    if isinstance(poses, PoseTrack):
        inside = poses.t_ns[(poses.t_ns > t_min) & (poses.t_ns < t_max)]
        grid = np.union1d(grid, inside)
    return np.unique(grid)


def deskew_points(
    xyz_lidar: np.ndarray,
    t_ns: np.ndarray,
    t_frame_ns: int,
    poses: PoseSource,
    T_rig_lidar: np.ndarray,
    *,
    T_target_lidar: Optional[np.ndarray] = None,
    knot_spacing_ns: int = DEFAULT_KNOT_SPACING_NS,
) -> np.ndarray:
    """Points (N,3) in the lidar frame at their own master times ``t_ns`` (N,) int64, moved to the
    lidar frame at ``t_frame_ns`` (see the module docstring); returns (N,3) float64.

    ``poses`` gives ``T_stage_rig`` at any time (a :class:`PoseTrack` holds its end poses outside
    its samples). ``T_target_lidar`` (4,4), when given, is applied last (e.g. ``T_optical_lidar``
    to land in the camera's optical frame in the same pass). ``knot_spacing_ns <= 0`` evaluates
    the pose at every point's own time (exact, slower).
    """
    xyz = np.asarray(xyz_lidar, dtype=np.float64).reshape(-1, 3)
    t = np.asarray(t_ns)
    if t.dtype.kind not in "iu":
        raise TypeError(f"point times must be integer nanoseconds, got dtype {t.dtype}")
    t = t.astype(np.int64, copy=False).ravel()
    if t.shape[0] != xyz.shape[0]:
        raise ValueError(f"{xyz.shape[0]} points but {t.shape[0]} point times")
    if xyz.shape[0] == 0:
        return np.zeros((0, 3))
    pose_at = _pose_fn(poses)
    B = np.asarray(T_rig_lidar, dtype=np.float64)
    target = np.eye(4) if T_target_lidar is None else np.asarray(T_target_lidar, dtype=np.float64)
    frame = pose_at(np.array([int(t_frame_ns)], dtype=np.int64))[0] @ B
    A = target @ np.linalg.inv(frame)
    t_min, t_max = int(t.min()), int(t.max())
    if knot_spacing_ns <= 0 or (t_max - t_min) // int(knot_spacing_ns) >= t.size:
        # Exact per point (also when there would be more knots than points).
        M = A @ pose_at(t) @ B  # (N,4,4)
        return np.einsum("nij,nj->ni", M[:, :3, :3], xyz) + M[:, :3, 3]
    knots = _knots(t_min, t_max, int(knot_spacing_ns), poses)
    # (12,K): the rows of each knot's 3x4, entry-major so that every gather below is contiguous.
    Mk = np.ascontiguousarray((A @ pose_at(knots) @ B)[:, :3, :].reshape(-1, 12).T)
    x, y, z = (np.ascontiguousarray(xyz[:, j]) for j in range(3))
    out = np.empty_like(xyz)
    if knots.size == 1:
        for r in range(3):
            m = Mk[4 * r:4 * r + 4, 0]
            out[:, r] = m[0] * x + m[1] * y + m[2] * z + m[3]
        return out
    i = np.clip(np.searchsorted(knots, t, side="right") - 1, 0, knots.size - 2)
    frac = (t - knots[i]).astype(np.float64) / (knots[i + 1] - knots[i]).astype(np.float64)
    dM = np.diff(Mk, axis=1)
    for r in range(3):
        row = Mk[4 * r]
        acc = row[i] + frac * dM[4 * r][i]
        acc *= x
        for c, coord in ((1, y), (2, z)):
            e = 4 * r + c
            acc += (Mk[e][i] + frac * dM[e][i]) * coord
        acc += Mk[4 * r + 3][i] + frac * dM[4 * r + 3][i]
        out[:, r] = acc
    return out
