"""Live health of one sensor as its driver sees it: rate, drops and clock behaviour.

The clock figures come from a line through recent (sensor stamp, host stamp) pairs, fitted by
least squares and fitted again without the pairs that lie far off it (a packet held up in a
busy host): ``offset_ms`` is host minus sensor time at the newest sample, ``drift_ppm`` the
line's slope error, ``jitter_ms`` the robust spread of the residuals (1.4826 × their median
absolute deviation, the standard deviation for Gaussian jitter). The edge node's robust clock
model replaces this for synchronization; this is what a crew reads on a status line.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Deque, Optional, Tuple

import numpy as np

__all__ = ["ClockFit", "fit_clock_line", "SensorStats", "StatsSnapshot"]


@dataclass(frozen=True)
class ClockFit:
    offset_ms: float
    drift_ppm: float
    jitter_ms: float
    samples: int


def fit_clock_line(sensor_ns: np.ndarray, host_ns: np.ndarray) -> Optional[ClockFit]:
    """Least-squares ``host = a + (1 + drift) * sensor`` over paired stamps; None under 3 pairs."""
    s = np.asarray(sensor_ns, dtype=np.int64)
    h = np.asarray(host_ns, dtype=np.int64)
    if s.size < 3 or np.ptp(s) == 0:
        return None
    # Work relative to the newest pair so float64 keeps sub-microsecond resolution.
    ds = (s - s[-1]).astype(np.float64)
    dh = (h - h[-1]).astype(np.float64)
    slope, intercept = np.polyfit(ds, dh, 1)
    residual = dh - (slope * ds + intercept)
    spread = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    inliers = np.abs(residual - np.median(residual)) <= max(5.0 * spread, 1.0)
    if 3 <= int(inliers.sum()) < residual.size and np.ptp(ds[inliers]) > 0:
        slope, intercept = np.polyfit(ds[inliers], dh[inliers], 1)
        residual = dh - (slope * ds + intercept)
    offset_ns = float(h[-1] - s[-1]) + intercept
    return ClockFit(
        offset_ms=float(offset_ns / 1e6),
        drift_ppm=float((1.0 / slope - 1.0) * 1e6),  # sensor seconds per host second, minus one
        jitter_ms=1.4826 * float(np.median(np.abs(residual - np.median(residual)))) / 1e6,
        samples=int(s.size),
    )


@dataclass(frozen=True)
class StatsSnapshot:
    name: str
    rate_hz: float
    received: int
    decoded: int
    dropped: int
    drop_reasons: Tuple[Tuple[str, int], ...]
    clock: Optional[ClockFit]
    last_host_ns: Optional[int]


class SensorStats:
    """Thread-safe counters and stamp history for one sensor."""

    def __init__(
        self,
        name: str,
        max_pairs: int = 16384,
        clock_window_s: float = 10.0,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        """The clock fit uses the stamp pairs of the last ``clock_window_s`` (at most ``max_pairs``),
        so a 750 packet/s LiDAR and a 24 fps camera are judged over the same span of time."""
        self.name = name
        self._lock = threading.Lock()
        self._clock_ns = clock_ns
        self._pairs: Deque[Tuple[int, int]] = deque(maxlen=max_pairs)
        self._clock_window_ns = int(clock_window_s * 1e9)
        self._arrivals: Deque[int] = deque(maxlen=8192)
        self._drops: dict = {}
        self.received = 0
        self.decoded = 0

    def record_received(self) -> None:
        with self._lock:
            self.received += 1

    def record_sample(self, sensor_ns: Optional[int], host_ns: int) -> None:
        """A sample decoded; ``sensor_ns`` None when the format carries no sensor time."""
        with self._lock:
            self.decoded += 1
            self._arrivals.append(host_ns)
            if sensor_ns is not None:
                self._pairs.append((int(sensor_ns), int(host_ns)))
                while self._pairs and host_ns - self._pairs[0][1] > self._clock_window_ns:
                    self._pairs.popleft()

    def record_drop(self, reason: str, count: int = 1) -> None:
        """A packet or sample lost: bad bytes, a sequence gap, a queue overflow."""
        with self._lock:
            self._drops[reason] = self._drops.get(reason, 0) + count

    @property
    def dropped(self) -> int:
        with self._lock:
            return sum(self._drops.values())

    def drops(self, reason: str) -> int:
        with self._lock:
            return self._drops.get(reason, 0)

    def snapshot(self, rate_window_s: float = 1.0) -> StatsSnapshot:
        now = self._clock_ns()
        with self._lock:
            since = now - int(rate_window_s * 1e9)
            recent = sum(1 for t in self._arrivals if t >= since)
            pairs = list(self._pairs)
            drops = tuple(sorted(self._drops.items()))
            last = self._arrivals[-1] if self._arrivals else None
            received, decoded = self.received, self.decoded
        fit = None
        if len(pairs) >= 3:
            arr = np.array(pairs, dtype=np.int64)
            fit = fit_clock_line(arr[:, 0], arr[:, 1])
        return StatsSnapshot(
            name=self.name,
            rate_hz=recent / rate_window_s,
            received=received,
            decoded=decoded,
            dropped=sum(n for _, n in drops),
            drop_reasons=drops,
            clock=fit,
            last_host_ns=last,
        )
