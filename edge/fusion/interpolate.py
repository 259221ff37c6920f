"""Rig poses at any time from timestamped samples: position linear, rotation slerp (shortest arc).

Pure functions of arrays, vectorised over the query times (one call interpolates a pose for each
of tens of thousands of LiDAR points). Times are int64 nanoseconds on the master clock; fractions
are taken from int64 differences, so absolute epoch stamps (~1.8e18 ns) lose no precision.
Quaternions are ``(x, y, z, w)``, rotating ``rig`` into ``stage`` (``T_stage_rig``).

Outside the samples a pose is *held* (clamped to the first or last sample), never extrapolated:
:func:`extrapolated` tells which query times that happened to, so a frame knows when its pose
is a held one.
"""

from __future__ import annotations

from typing import NamedTuple, Tuple

import numpy as np

__all__ = [
    "PoseTrack",
    "interpolate_poses",
    "interpolate_values",
    "extrapolated",
    "slerp",
    "quats_to_matrices",
    "pose_matrices",
]

# Below this angle between two quaternions (rad on the 4-sphere) slerp's sin() ratio loses digits;
# normalised linear interpolation agrees with slerp there to ~1e-13 relative.
_SMALL_ANGLE = 1e-6


def _as_times(t_ns) -> np.ndarray:
    t = np.asarray(t_ns)
    if t.dtype.kind not in "iu":
        raise TypeError(f"times must be integer nanoseconds, got dtype {t.dtype}")
    return np.atleast_1d(t.astype(np.int64, copy=False))


def _check_samples(sample_t_ns, positions_m, quats_xyzw) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated samples: int64 strictly increasing times, finite (N,3) positions, unit (N,4) quaternions."""
    t = _as_times(sample_t_ns)
    p = np.asarray(positions_m, dtype=np.float64)
    q = np.asarray(quats_xyzw, dtype=np.float64)
    n = t.size
    if n == 0:
        raise ValueError("no pose samples to interpolate between")
    if p.shape != (n, 3) or q.shape != (n, 4):
        raise ValueError(f"{n} sample times need positions (N,3) and quaternions (N,4), got {p.shape} and {q.shape}")
    if n > 1 and np.any(np.diff(t) <= 0):
        bad = int(np.flatnonzero(np.diff(t) <= 0)[0])
        raise ValueError(f"sample times must increase strictly: sample {bad + 1} at {t[bad + 1]} follows {t[bad]}")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
        raise ValueError("pose samples must be finite")
    norm = np.linalg.norm(q, axis=1)
    if np.any(norm < 1e-9):
        raise ValueError(f"quaternion {int(np.argmin(norm))} has zero length")
    return t, p, q / norm[:, None]


def _bracket(t: np.ndarray, s: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Index ``i`` of the segment ``[s[i], s[i+1]]`` holding each time and the fraction along it,
    clamped to [0, 1] outside the samples (needs two or more samples)."""
    clamped = np.clip(t, s[0], s[-1])  # also keeps the int64 differences below from overflowing
    i = np.clip(np.searchsorted(s, clamped, side="right") - 1, 0, s.size - 2)
    frac = (clamped - s[i]).astype(np.float64) / (s[i + 1] - s[i]).astype(np.float64)
    return i, frac


def slerp(q0: np.ndarray, q1: np.ndarray, frac) -> np.ndarray:
    """Spherical linear interpolation (M,4) between unit quaternions ``q0`` and ``q1`` (M,4) at
    ``frac`` (M,) in [0, 1], along the shorter arc; the result is normalised. ``frac`` 0 gives
    ``q0`` and 1 gives ``q1`` exactly (as passed, whatever their signs)."""
    a = np.asarray(q0, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(q1, dtype=np.float64).reshape(-1, 4)
    f = np.broadcast_to(np.asarray(frac, dtype=np.float64).ravel(), (a.shape[0],))
    dot = np.einsum("ij,ij->i", a, b)
    b_near = np.where((dot < 0.0)[:, None], -b, b)  # q and -q are one rotation: take the short way
    cos_theta = np.clip(np.abs(dot), 0.0, 1.0)
    theta = np.arccos(cos_theta)
    sin_theta = np.sin(theta)
    small = theta < _SMALL_ANGLE
    safe_sin = np.where(small, 1.0, sin_theta)
    w0 = np.where(small, 1.0 - f, np.sin((1.0 - f) * theta) / safe_sin)
    w1 = np.where(small, f, np.sin(f * theta) / safe_sin)
    q = w0[:, None] * a + w1[:, None] * b_near
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q = np.where((f == 0.0)[:, None], a, q)
    return np.where((f == 1.0)[:, None], b, q)


def interpolate_poses(t_ns, sample_t_ns, positions_m, quats_xyzw) -> Tuple[np.ndarray, np.ndarray]:
    """Poses at times ``t_ns`` (M,) int64 from samples at ``sample_t_ns`` (N,) (strictly increasing):
    ``(positions_m (M,3), quats_xyzw (M,4))``, position linear and rotation slerp between the two
    samples around each time. Times outside the samples get the nearest end sample (held, see
    :func:`extrapolated`). Raises ValueError on empty, unordered, mis-shaped or non-finite samples."""
    t = _as_times(t_ns)
    s, p, q = _check_samples(sample_t_ns, positions_m, quats_xyzw)
    if s.size == 1:
        return np.repeat(p, t.size, axis=0), np.repeat(q, t.size, axis=0)
    i, frac = _bracket(t, s)
    positions = p[i] + frac[:, None] * (p[i + 1] - p[i])
    return positions, slerp(q[i], q[i + 1], frac)


def interpolate_values(t_ns, sample_t_ns, values) -> np.ndarray:
    """Linear interpolation of per-sample values (N,) or (N,K) at times ``t_ns`` (M,), held outside."""
    t = _as_times(t_ns)
    s = _as_times(sample_t_ns)
    v = np.asarray(values, dtype=np.float64)
    if s.size == 0 or v.shape[0] != s.size:
        raise ValueError(f"need one value per sample time, got {v.shape[0] if v.ndim else 0} for {s.size}")
    if s.size == 1:
        return np.repeat(v[:1], t.size, axis=0)
    i, frac = _bracket(t, s)
    f = frac.reshape((-1,) + (1,) * (v.ndim - 1))
    return v[i] + f * (v[i + 1] - v[i])


def extrapolated(t_ns, sample_t_ns) -> np.ndarray:
    """True (M,) where a time lies outside ``[first, last]`` sample time: its pose was held."""
    t = _as_times(t_ns)
    s = _as_times(sample_t_ns)
    if s.size == 0:
        return np.ones(t.shape, dtype=bool)
    return (t < s[0]) | (t > s[-1])


def quats_to_matrices(quats_xyzw) -> np.ndarray:
    """Rotation matrices (M,3,3) of unit quaternions (M,4) ``(x, y, z, w)`` (vectorised
    :func:`sensors.vocabulary.quat_to_matrix`)."""
    q = np.asarray(quats_xyzw, dtype=np.float64).reshape(-1, 4)
    x, y, z, w = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    xx, yy, zz = x * x, y * y, z * z
    xy, xz, yz, xw, yw, zw = x * y, x * z, y * z, x * w, y * w, z * w
    R = np.empty((q.shape[0], 3, 3))
    R[:, 0, 0] = 1.0 - 2.0 * (yy + zz)
    R[:, 0, 1] = 2.0 * (xy - zw)
    R[:, 0, 2] = 2.0 * (xz + yw)
    R[:, 1, 0] = 2.0 * (xy + zw)
    R[:, 1, 1] = 1.0 - 2.0 * (xx + zz)
    R[:, 1, 2] = 2.0 * (yz - xw)
    R[:, 2, 0] = 2.0 * (xz - yw)
    R[:, 2, 1] = 2.0 * (yz + xw)
    R[:, 2, 2] = 1.0 - 2.0 * (xx + yy)
    return R


def pose_matrices(positions_m, quats_xyzw) -> np.ndarray:
    """Homogeneous ``T_stage_rig`` (M,4,4) of positions (M,3) and quaternions (M,4)."""
    p = np.asarray(positions_m, dtype=np.float64).reshape(-1, 3)
    T = np.zeros((p.shape[0], 4, 4))
    T[:, :3, :3] = quats_to_matrices(quats_xyzw)
    T[:, :3, 3] = p
    T[:, 3, 3] = 1.0
    return T


class PoseTrack(NamedTuple):
    """Timestamped rig poses on the master clock: ``t_ns`` (N,) int64 strictly increasing,
    ``positions_m`` (N,3) in stage, ``quats_xyzw`` (N,4) unit, ``T_stage_rig``.

    Build one with :meth:`from_samples` (validates and normalises); the methods interpolate.
    """

    t_ns: np.ndarray
    positions_m: np.ndarray
    quats_xyzw: np.ndarray

    @classmethod
    def from_samples(cls, t_ns, positions_m, quats_xyzw) -> "PoseTrack":
        t, p, q = _check_samples(t_ns, positions_m, quats_xyzw)
        return cls(t, p, q)

    @property
    def samples(self) -> int:
        return int(self.t_ns.size)

    def at(self, t_ns) -> Tuple[np.ndarray, np.ndarray]:
        """``(positions_m (M,3), quats_xyzw (M,4))`` at times ``t_ns``; held outside the track."""
        return interpolate_poses(t_ns, self.t_ns, self.positions_m, self.quats_xyzw)

    def matrices(self, t_ns) -> np.ndarray:
        """``T_stage_rig`` (M,4,4) at times ``t_ns``."""
        return pose_matrices(*self.at(t_ns))

    def held(self, t_ns) -> np.ndarray:
        """True (M,) where a time is outside the track (its pose is the nearest end's)."""
        return extrapolated(t_ns, self.t_ns)
