"""A simulated sensor link with known clocks for the clock-model tests.

Master times tick at a rate with a little period jitter; the sensor stamps them on a
:class:`sensors.sim.clock.DriftingClock` (offset, drift, stamp jitter); the host receives each
sample after a transport delay of ``delay_min_ns`` plus gamma-distributed jitter; a fraction of
samples is held up by a stalled network stack (``outlier_ns`` extra, or a whole backlog released
at once); on a loaded host, bursts hold up every sample for a few tens of milliseconds (a CPU
busy with something else), leaving them their spacing; the sensor clock may step.
Everything comes from one seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Tuple

import numpy as np

from config.models import ClockConfig
from edge.clock import ClockModel
from sensors.sim.clock import DriftingClock

__all__ = ["EPOCH_NS", "Link", "Run", "simulate", "run_model"]

EPOCH_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z, a realistic time.time_ns() magnitude


@dataclass(frozen=True)
class Link:
    master_ns: np.ndarray  # true master time of each sample
    sensor_ns: np.ndarray  # the sensor's stamp as sent (jitter and steps included)
    exact_sensor_ns: np.ndarray  # the sensor clock's noiseless reading at master_ns (steps included)
    host_ns: np.ndarray  # host receive time
    stalled: np.ndarray  # bool: held up by a stall
    delay_mean_ns: float  # mean transport delay without stalls
    burst: np.ndarray  # bool: held up by a load burst


def simulate(
    *,
    drift_ppm: float,
    jitter_ns: int,
    rate_hz: float = 100.0,
    duration_s: float = 40.0,
    offset_ns: int = 2_500_000,
    delay_min_ns: int = 300_000,
    delay_shape: float = 2.0,
    delay_scale_ns: float = 50_000.0,
    stall_fraction: float = 0.0,
    outlier_ns: Tuple[int, int] = (5_000_000, 50_000_000),
    steps: Iterable[Tuple[float, int]] = (),
    stalls: Iterable[Tuple[float, float]] = (),
    bursts: Optional[Tuple[float, float, float]] = None,
    seed: int = 0,
) -> Link:
    """One link; ``steps`` are (time s, step ns) at which the sensor clock jumps; ``stalls`` are
    (time s, duration s) during which the host receives nothing and then the whole backlog at once;
    ``bursts`` are (bursts a second, longest s, most extra delay ns): each burst, of a random length
    up to the longest, delays every sample in it by one random amount up to the most."""
    link_seed, clock_seed = np.random.SeedSequence(seed).spawn(2)  # independent streams
    rng = np.random.default_rng(link_seed)
    n = int(round(duration_s * rate_hz))
    period_ns = 1e9 / rate_hz
    ticks = np.arange(n) * period_ns + rng.normal(0.0, 0.02 * period_ns, n)
    master = EPOCH_NS + 1_000_000_000 + np.rint(ticks).astype(np.int64)
    config = ClockConfig(offset_ns=offset_ns, drift_ppm=drift_ppm, jitter_ns=jitter_ns)
    clock = DriftingClock(config, EPOCH_NS, int(clock_seed.generate_state(1)[0]))
    exact = clock.sensor_ns_exact(master)
    stamped = clock.sensor_ns(master)
    jump = np.zeros(n, dtype=np.int64)
    for at_s, step_ns in steps:
        jump[int(at_s * rate_hz):] += step_ns
    jitter = rng.gamma(delay_shape, delay_scale_ns, n) if delay_scale_ns > 0 else np.zeros(n)
    delay = delay_min_ns + jitter
    stalled = rng.random(n) < stall_fraction
    delay = delay + np.where(stalled, rng.uniform(outlier_ns[0], outlier_ns[1], n), 0.0)
    burst = np.zeros(n, dtype=bool)
    if bursts is not None:
        per_s, longest_s, most_ns = bursts
        count = rng.poisson(per_s * duration_s)
        for start, length, extra in zip(
            rng.uniform(0.0, duration_s, count), rng.uniform(0.2, 1.0, count) * longest_s,
            rng.uniform(0.1, 1.0, count) * most_ns,
        ):
            hit = (ticks >= start * 1e9) & (ticks < (start + length) * 1e9)
            delay = delay + np.where(hit & ~burst, extra, 0.0)
            burst |= hit
    host = master + np.rint(delay).astype(np.int64)
    for at_s, held_s in stalls:
        start = int(master[0] + at_s * 1e9)
        end = start + int(held_s * 1e9)
        held = (master >= start) & (master < end)
        host[held] = end + np.rint(delay[held]).astype(np.int64)
        stalled |= held
    return Link(master, stamped + jump, exact + jump, host, stalled, delay_min_ns + delay_shape * delay_scale_ns, burst)


@dataclass(frozen=True)
class Run:
    """Per sample, right after the model observed it: the causal mapping error of that sample's
    exact sensor time (model minus true master time, ns), and the model's state."""

    error_ns: np.ndarray
    converged: np.ndarray
    accepted: np.ndarray
    steps: np.ndarray

    def first_converged(self, after: int = 0) -> int:
        """Index of the first converged sample at or after ``after`` (len if never)."""
        hits = np.flatnonzero(self.converged[after:])
        return after + int(hits[0]) if hits.size else self.converged.size

    def p99_abs_error_ns(self, start: int, stop: Optional[int] = None) -> float:
        return float(np.percentile(np.abs(self.error_ns[start:stop]), 99))


def run_model(model: ClockModel, link: Link) -> Run:
    """Feed the link sample by sample, mapping each sample's exact sensor time after observing it."""
    n = link.master_ns.size
    error = np.zeros(n, dtype=np.int64)
    converged = np.zeros(n, dtype=bool)
    accepted = np.zeros(n, dtype=bool)
    steps = np.zeros(n, dtype=np.int64)
    sensor, host = link.sensor_ns.tolist(), link.host_ns.tolist()
    exact, master = link.exact_sensor_ns.tolist(), link.master_ns.tolist()
    for k in range(n):
        accepted[k] = model.observe(sensor[k], host[k])
        error[k] = model.to_master_ns(exact[k]) - master[k]
        converged[k] = model.converged
        steps[k] = model.steps
    return Run(error, converged, accepted, steps)
