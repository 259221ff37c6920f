"""Per-sensor buffers on the master clock: time-ordered, bounded by age and by size.

:class:`SeriesBuffer` keeps one row of values per sample in preallocated arrays (telemetry:
one :data:`edge.sync.rows.TELEMETRY_ROW` record each); :class:`PointBuffer` keeps LiDAR sweeps as chunks of points. Both take
telemetry in time order only (a sample not newer than the newest one -- a duplicate, a replay, a
clock gone backwards -- is refused and the caller counts why); LiDAR sweeps in any order within
the horizon. Neither is thread-safe on
its own; the synchronizer guards them with its lock.
"""

from __future__ import annotations

import enum
from collections import deque
from typing import Deque, NamedTuple, Optional, Tuple

import numpy as np

__all__ = ["Admit", "SeriesBuffer", "PointChunk", "PointBuffer"]


class Admit(str, enum.Enum):
    """What a buffer did with a sample."""

    OK = "ok"
    DUPLICATE = "duplicate"  # the same time as the newest sample
    BACKWARDS = "backwards"  # older than the newest sample
    STALE = "stale"  # older than the buffer's horizon behind the newest sample
    OVERFLOW = "overflow"  # admitted, but the oldest samples were dropped to make room


class SeriesBuffer:
    """Samples of one sensor: ``t_ns`` int64 and a value each -- a row of ``width`` float64, or one
    record of the structured ``dtype`` -- strictly time-ordered, at most ``horizon_ns`` behind the
    newest and at most ``capacity`` of them."""

    def __init__(self, width: Optional[int] = None, horizon_ns: int = 0, capacity: int = 4096, *,
                 dtype: Optional[np.dtype] = None) -> None:
        if (dtype is None and (width is None or width < 1)) or capacity < 2 or horizon_ns <= 0:
            raise ValueError(
                f"need width >= 1 (or a dtype), capacity >= 2 and horizon_ns > 0, got {width}, {capacity}, {horizon_ns}"
            )
        self.horizon_ns = int(horizon_ns)
        self.capacity = int(capacity)
        # Twice the capacity so that dropping old samples is an occasional block move, not per sample.
        self._t = np.zeros(2 * self.capacity, dtype=np.int64)
        if dtype is not None:
            self._v = np.zeros(2 * self.capacity, dtype=dtype)
        else:
            self._v = np.zeros((2 * self.capacity, int(width)), dtype=np.float64)
        self._start = 0
        self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    @property
    def newest_ns(self) -> Optional[int]:
        return int(self._t[self._end - 1]) if self._end > self._start else None

    @property
    def oldest_ns(self) -> Optional[int]:
        return int(self._t[self._start]) if self._end > self._start else None

    def add(self, t_ns: int, values) -> Admit:
        """Append one sample at master time ``t_ns``; refuses anything not strictly newer."""
        t = int(t_ns)
        newest = self.newest_ns
        if newest is not None:
            if t == newest:
                return Admit.DUPLICATE
            if t < newest:
                return Admit.STALE if t < newest - self.horizon_ns else Admit.BACKWARDS
        status = Admit.OK
        if self._end == self._t.size:
            keep = self._end - self._start
            self._t[:keep] = self._t[self._start:self._end]
            self._v[:keep] = self._v[self._start:self._end]
            self._start, self._end = 0, keep
        self._t[self._end] = t
        self._v[self._end] = values
        self._end += 1
        if len(self) > self.capacity:
            self._start = self._end - self.capacity
            status = Admit.OVERFLOW
        cut = int(np.searchsorted(self._t[self._start:self._end], t - self.horizon_ns, side="left"))
        self._start += cut
        return status

    def window(self, start_ns: int, end_ns: int) -> Tuple[np.ndarray, np.ndarray]:
        """Copies of the samples in ``[start_ns, end_ns]`` plus the one just outside on each side
        (so interpolation at the window's edges is bracketed when the data allow)."""
        t = self._t[self._start:self._end]
        lo = max(int(np.searchsorted(t, int(start_ns), side="left")) - 1, 0)
        hi = min(int(np.searchsorted(t, int(end_ns), side="right")) + 1, t.size)
        return t[lo:hi].copy(), self._v[self._start + lo:self._start + hi].copy()

    def shift(self, step_ns: int) -> None:
        """Move every sample by ``step_ns`` (the master clock stepped)."""
        self._t[self._start:self._end] += int(step_ns)

    def first_at_or_after(self, t_ns: int) -> Optional[int]:
        """Time of the first sample at or after ``t_ns`` (None if there is none)."""
        t = self._t[self._start:self._end]
        i = int(np.searchsorted(t, int(t_ns), side="left"))
        return int(t[i]) if i < t.size else None


class PointChunk(NamedTuple):
    """One admitted sweep (or part of one): ``xyz_m`` (N,3) float32, ``t_ns`` (N,) int64 master."""

    xyz_m: np.ndarray
    t_ns: np.ndarray
    t_min_ns: int
    t_max_ns: int


class PointBuffer:
    """LiDAR points of one sensor on the master clock, a chunk per sweep, bounded by age
    (``horizon_ns`` behind the newest point) and by ``max_points``."""

    def __init__(self, horizon_ns: int, max_points: int = 4_000_000) -> None:
        if horizon_ns <= 0 or max_points < 1:
            raise ValueError(f"need horizon_ns > 0 and max_points >= 1, got {horizon_ns}, {max_points}")
        self.horizon_ns = int(horizon_ns)
        self.max_points = int(max_points)
        self._chunks: Deque[PointChunk] = deque()
        self._points = 0
        self.newest_ns: Optional[int] = None

    def __len__(self) -> int:
        return self._points

    @property
    def chunks(self) -> int:
        return len(self._chunks)

    @property
    def oldest_ns(self) -> Optional[int]:
        return self._chunks[0].t_min_ns if self._chunks else None

    def add(self, xyz_m: np.ndarray, t_ns: np.ndarray) -> Admit:
        """Admit a sweep's points unless they all lie beyond the horizon behind the newest point.

        Sweeps need not arrive in time order: packets that overtake each other on the network
        make the decoder cut a rotation into pieces, and a late piece still belongs to the
        frames around it. (Replays are the caller's to recognise, by the sensor's own stamps.)
        """
        t = np.asarray(t_ns, dtype=np.int64)
        if t.size == 0:
            return Admit.OK
        t_min, t_max = int(t.min()), int(t.max())
        if self.newest_ns is not None and t_max < self.newest_ns - self.horizon_ns:
            return Admit.STALE
        self._chunks.append(PointChunk(np.asarray(xyz_m, dtype=np.float32), t, t_min, t_max))
        self._points += t.size
        self.newest_ns = t_max if self.newest_ns is None else max(self.newest_ns, t_max)
        status = Admit.OK
        horizon = self.newest_ns - self.horizon_ns
        if self._chunks[0].t_max_ns < horizon:
            kept = [c for c in self._chunks if c.t_max_ns >= horizon]
            self._points = sum(c.t_ns.size for c in kept)
            self._chunks = deque(kept)
        while self._points > self.max_points and len(self._chunks) > 1:
            self._points -= self._chunks.popleft().t_ns.size
            status = Admit.OVERFLOW
        return status

    def shift(self, step_ns: int) -> None:
        """Move every point by ``step_ns`` (the master clock stepped)."""
        step = int(step_ns)
        self._chunks = deque(PointChunk(c.xyz_m, c.t_ns + step, c.t_min_ns + step, c.t_max_ns + step)
                             for c in self._chunks)
        if self.newest_ns is not None:
            self.newest_ns += step

    def window(self, start_ns: int, end_ns: int) -> Tuple[np.ndarray, np.ndarray]:
        """``(xyz_m (N,3) float32, t_ns (N,) int64)`` of the points in ``[start_ns, end_ns]`` (copies)."""
        xyz_parts, t_parts = [], []
        for chunk in self._chunks:
            if chunk.t_max_ns < start_ns or chunk.t_min_ns > end_ns:
                continue
            if chunk.t_min_ns >= start_ns and chunk.t_max_ns <= end_ns:
                xyz_parts.append(chunk.xyz_m)
                t_parts.append(chunk.t_ns)
                continue
            keep = (chunk.t_ns >= start_ns) & (chunk.t_ns <= end_ns)
            xyz_parts.append(chunk.xyz_m[keep])
            t_parts.append(chunk.t_ns[keep])
        if not t_parts:
            return np.zeros((0, 3), dtype=np.float32), np.zeros(0, dtype=np.int64)
        return np.concatenate(xyz_parts), np.concatenate(t_parts)
