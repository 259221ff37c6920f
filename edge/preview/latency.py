"""Where a frame's time went, stage by stage, from exposure to the glass.

Every preview frame carries master-clock stamps (docs/preview.md): ``exposure`` (its exposure
mid-time), ``fused`` (the node sent it), ``engines`` (the style worker sent its styled frame),
``sent`` (this server handed it to a viewer's socket) and, reported back by the page, ``drawn``.
A *stage* is the time between two of them:

=================  ==========================================  recorded
``exposure_fused``  exposure to the node's stream               once per frame
``fused_engines``   the node's stream to the style worker's     once per frame with a styled image
``engines_sent``    the style worker's stream to a viewer       per viewer, frames with a styled image
``fused_sent``      the node's stream to a viewer               per viewer
``sent_drawn``      a viewer's socket to its page's draw        per ``drawn`` report
``fused_drawn``     the node's stream to the draw               per ``drawn`` report
``exposure_drawn``  exposure to the draw: the whole budget      per ``drawn`` report
=================  ==========================================  recorded

:class:`LatencyStages` keeps, per stage, a cumulative histogram over :data:`BUCKETS_S` (for
``/metrics``: counts only grow) and the newest :data:`RECENT` values for p50/p95/p99 (for the
``state`` message: what the latency is now).
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from dataclasses import dataclass
from typing import Deque, Dict, List, Tuple

import numpy as np

__all__ = ["STAGES", "BUCKETS_S", "RECENT", "StageHistogram", "LatencyStages"]

STAGES: Tuple[str, ...] = ("exposure_fused", "fused_engines", "engines_sent", "fused_sent", "sent_drawn",
                           "fused_drawn", "exposure_drawn")
#: Upper bounds of the histogram buckets, seconds (one frame at 24 fps is 0.0417 s).
BUCKETS_S: Tuple[float, ...] = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.042, 0.05, 0.067, 0.084, 0.1,
                                0.15, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0)
#: Values per stage the percentiles are taken over (43 s at 24 fps).
RECENT = 1024


@dataclass(frozen=True)
class StageHistogram:
    """One stage's histogram: ``buckets`` are (upper bound s, cumulative count), ``+Inf`` excluded."""

    stage: str
    buckets: Tuple[Tuple[float, int], ...]
    count: int
    sum_s: float


class LatencyStages:
    """Per-stage latency (module docstring); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Dict[str, List[int]] = {s: [0] * (len(BUCKETS_S) + 1) for s in STAGES}
        self._sums: Dict[str, float] = {s: 0.0 for s in STAGES}
        self._recent: Dict[str, Deque[float]] = {s: deque(maxlen=RECENT) for s in STAGES}

    def observe(self, stage: str, seconds: float) -> None:
        """One frame's time in ``stage`` (a KeyError for a stage not in :data:`STAGES`)."""
        with self._lock:
            self._counts[stage][bisect.bisect_left(BUCKETS_S, seconds)] += 1
            self._sums[stage] += seconds
            self._recent[stage].append(seconds)

    def observe_ns(self, stage: str, start_ns: int, end_ns: int) -> None:
        self.observe(stage, (int(end_ns) - int(start_ns)) / 1e9)

    def summary(self) -> Dict[str, Dict[str, object]]:
        """``{stage: {"p50_ms", "p95_ms", "p99_ms", "count"}}`` over the newest values; stages
        with none yet have null percentiles. ``count`` is every value since the start."""
        with self._lock:
            recent = {s: np.array(self._recent[s], dtype=np.float64) for s in STAGES}
            totals = {s: sum(self._counts[s]) for s in STAGES}
        out: Dict[str, Dict[str, object]] = {}
        for stage, values in recent.items():
            if values.size:
                p50, p95, p99 = np.percentile(values, [50, 95, 99], method="inverted_cdf") * 1e3
                out[stage] = {"p50_ms": round(float(p50), 3), "p95_ms": round(float(p95), 3),
                              "p99_ms": round(float(p99), 3), "count": totals[stage]}
            else:
                out[stage] = {"p50_ms": None, "p95_ms": None, "p99_ms": None, "count": 0}
        return out

    def histograms(self) -> List[StageHistogram]:
        """Every stage's cumulative histogram, in :data:`STAGES` order."""
        with self._lock:
            counts = {s: list(self._counts[s]) for s in STAGES}
            sums = dict(self._sums)
        out = []
        for stage in STAGES:
            running, buckets = 0, []
            for bound, n in zip(BUCKETS_S, counts[stage]):
                running += n
                buckets.append((bound, running))
            out.append(StageHistogram(stage, tuple(buckets), sum(counts[stage]), sums[stage]))
        return out
