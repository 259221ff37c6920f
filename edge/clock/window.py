"""The samples a clock model fits: the newest ``span_ns`` of sensor time, at most ``capacity`` of them.

A ring of (x, y, ok) with the running sums of the ``ok`` (gated) samples, so a least-squares line
costs O(1) a sample. ``x`` is sensor time and ``y`` the offset, both int ns relative to the model's
reference pair. Only a gated sample moves the window's notion of "now": a rejected sample with a
wild stamp (days in the future, within int64) must not flush the history.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

__all__ = ["SampleWindow"]


class SampleWindow:
    """A time-bounded ring of samples with the running sums of the gated ones (module docstring)."""

    def __init__(self, span_ns: int, capacity: int) -> None:
        if span_ns <= 0 or capacity < 1:
            raise ValueError(f"need span_ns > 0 and capacity >= 1, got {span_ns} and {capacity}")
        self.span_ns = int(span_ns)
        self.capacity = int(capacity)
        self._x = np.zeros(self.capacity, dtype=np.int64)
        self._y = np.zeros(self.capacity, dtype=np.int64)
        self._ok = np.zeros(self.capacity, dtype=bool)
        self.clear()

    def clear(self) -> None:
        self.count = 0  # samples held
        self.n = 0  # gated samples among them
        self._head = 0  # next slot written
        self.sx = self.sy = self.sxx = self.sxy = 0.0
        self._ok[:] = False

    def _tail(self) -> int:
        return (self._head - self.count) % self.capacity

    def _evict_oldest(self) -> None:
        tail = self._tail()
        if self._ok[tail]:
            xo, yo = float(self._x[tail]), float(self._y[tail])
            self.sx -= xo
            self.sy -= yo
            self.sxx -= xo * xo
            self.sxy -= xo * yo
            self.n -= 1
            self._ok[tail] = False
        self.count -= 1

    def add(self, x: int, y: int, ok: bool) -> None:
        """Append one sample; a gated one first evicts what is older than ``x - span_ns``."""
        if ok:
            oldest = x - self.span_ns
            while self.count and self._x[self._tail()] < oldest:
                self._evict_oldest()
        if self.count == self.capacity:
            self._evict_oldest()
        head = self._head
        self._x[head], self._y[head], self._ok[head] = x, y, ok
        self._head = head + 1 if head + 1 < self.capacity else 0
        self.count += 1
        if ok:
            xf, yf = float(x), float(y)
            self.sx += xf
            self.sy += yf
            self.sxx += xf * xf
            self.sxy += xf * yf
            self.n += 1

    def ordered(self, newest: int = -1) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of (x, y, ok), oldest first; only the ``newest`` samples when that is >= 0."""
        m = self.count if newest < 0 else min(int(newest), self.count)
        index = (np.arange(self._head - m, self._head)) % self.capacity
        return self._x[index], self._y[index], self._ok[index]

    def replace(self, x: np.ndarray, y: np.ndarray, ok: np.ndarray) -> None:
        """Hold exactly these samples (oldest first; at most ``capacity``) and re-sum the gated ones."""
        m = int(x.size)
        if not (m == y.size == ok.size) or m > self.capacity:
            raise ValueError(f"need equal lengths of at most {self.capacity}, got {x.size}, {y.size}, {ok.size}")
        self.clear()
        self._x[:m], self._y[:m], self._ok[:m] = x, y, ok
        self.count, self._head = m, m % self.capacity
        xf, yf = x[ok].astype(np.float64), y[ok].astype(np.float64)
        self.n = int(xf.size)
        self.sx, self.sy = float(xf.sum()), float(yf.sum())
        self.sxx, self.sxy = float(np.sum(xf * xf)), float(np.sum(xf * yf))

    def mean_gap_ns(self) -> float:
        """Mean sensor time between the samples held (ns); 0 with fewer than two."""
        if self.count < 2:
            return 0.0
        return float(self.newest_x() - int(self._x[self._tail()])) / (self.count - 1)

    def newest_x(self) -> int:
        """Sensor time of the newest sample (relative, ns); 0 when empty."""
        return int(self._x[(self._head - 1) % self.capacity]) if self.count else 0
