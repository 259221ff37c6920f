"""Latency of a session: wall time per ``run`` call, summarized as p50, p99 and mean in ms.

Each run is timed with a monotonic clock (``time.perf_counter_ns``) around ``session.run``, so it
includes the input checks and, for a GPU backend, the copies to and from the device: what an engine
worker pays per frame. Warm-up runs (first-call allocations, lazy kernel selection) are run and not
counted. Percentiles are numpy's linear interpolation between order statistics; with fewer than
100 timed runs the p99 is close to the maximum, so a benchmark that reports it should time several
hundred.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = ["LatencyProfile", "latency_profile", "summarize_latencies"]

_NS_PER_MS = 1e6


@dataclass(frozen=True)
class LatencyProfile:
    """Per-run latency in milliseconds over ``runs`` timed runs (after ``warmup`` untimed ones)."""

    runs: int
    warmup: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float


def summarize_latencies(durations_ns: Sequence[int], warmup: int = 0) -> LatencyProfile:
    """The profile of measured run durations (ns)."""
    ms = np.asarray(durations_ns, dtype=np.float64) / _NS_PER_MS
    if ms.size == 0:
        raise ValueError("no durations to summarize")
    if np.any(ms < 0):
        raise ValueError("durations must not be negative")
    return LatencyProfile(runs=int(ms.size), warmup=int(warmup), p50_ms=float(np.percentile(ms, 50)),
                          p99_ms=float(np.percentile(ms, 99)), mean_ms=float(ms.mean()),
                          min_ms=float(ms.min()), max_ms=float(ms.max()))


def latency_profile(session: Any, inputs: Mapping[str, np.ndarray], runs: int = 200, warmup: int = 20,
                    clock_ns: Callable[[], int] = time.perf_counter_ns) -> LatencyProfile:
    """Run ``session.run(inputs)`` ``warmup`` times untimed, then ``runs`` times timed."""
    if not isinstance(runs, int) or runs < 1:
        raise ValueError(f"runs must be a positive integer, got {runs!r}")
    if not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be a non-negative integer, got {warmup!r}")
    for _ in range(warmup):
        session.run(inputs)
    durations = []
    for _ in range(runs):
        start = clock_ns()
        session.run(inputs)
        durations.append(clock_ns() - start)
    return summarize_latencies(durations, warmup)
