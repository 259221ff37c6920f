"""Device ticks for a telemetry feed that carries no time: arrivals placed on the sender's schedule.

A FreeD device without a packet counter says nothing about when it sampled. What it does have is
a steady clock: it sends one packet every ``period = 1 / rate_hz`` of its own time. Arrivals on
the host are those ticks plus a transport delay that jitters. So the arrivals are fitted with a
line, ``host_ns ~ origin_ns + index * host_period_ns`` (least squares over a window of recent
on-schedule arrivals; the slope is the device's period as the host sees it, within
``MAX_RATE_ERROR`` of nominal), each new arrival gets the index of the nearest tick of that line,
and its device time is ``sensor_ns = index * period`` (nominal ns on the device's clock since the
first packet). A clock model downstream then fits the device's real rate and offset from
(sensor_ns, host_ns) pairs, and what is left of the arrival jitter is only its residual.

A lost packet leaves a gap of ticks (its index is skipped, the schedule does not move). An
arrival more than ``gate_ticks`` from the nearest tick, or on a tick already used, is *off
schedule*: it is taken at arrival (``sensor_ns`` is its arrival read on the schedule's axis,
unrounded), counted, and kept out of the fit; its time need not come after the previous
sample's (packets bunched before one tick keep their arrival times, not a made-up spacing).
After ``relock_after`` off-schedule arrivals in a row (a host clock step, a device restarted on
another phase) the schedule is re-anchored at the newest arrival and counted as a relock.

This assumes a device that sends on a steady clock with a transport jitter well under half a
period (on a wired network, tenths of a millisecond against 10-20 ms periods). A device that
sends when it feels like it, or jitter near half a period, gives off-schedule arrivals (taken at
arrival, so no better than host stamping) and relocks, which the counters show.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Deque, Optional, Tuple

from sensors.vocabulary import NS_PER_S

__all__ = ["MAX_RATE_ERROR", "TickSchedule", "Placement", "fit_schedule", "ArrivalSchedule"]

#: How far the device's rate may be from nominal, as the host sees it (1000 ppm).
MAX_RATE_ERROR = 1e-3


@dataclass(frozen=True)
class TickSchedule:
    """The line through a device's arrivals: tick ``index`` arrives at
    ``ref_host_ns + offset_ns + (index - ref_index) * host_period_ns`` (master clock, ns).

    Kept relative to a reference pair (ints) so float64 keeps sub-ns resolution at any epoch."""

    ref_index: int
    ref_host_ns: int
    offset_ns: float
    host_period_ns: float

    def ticks_at(self, host_ns: int) -> float:
        """Where on the schedule (in ticks, fractional) an arrival at ``host_ns`` lies."""
        return self.ref_index + (int(host_ns) - self.ref_host_ns - self.offset_ns) / self.host_period_ns


@dataclass(frozen=True)
class Placement:
    """Where one arrival landed: its tick ``index`` (None when off schedule), its device time
    ``sensor_ns``, how many ticks it skipped (``lost`` packets) and whether a relock happened."""

    index: Optional[int]
    sensor_ns: int
    lost: int = 0
    relocked: bool = False

    @property
    def on_schedule(self) -> bool:
        return self.index is not None


def fit_schedule(index, host_ns, nominal_period_ns: float, min_span_ticks: int) -> TickSchedule:
    """The least-squares schedule through (tick index, arrival ns) pairs, computed exactly in
    integers relative to the first pair. Below ``min_span_ticks`` of indices the slope is the
    nominal period (a short window says little about the rate); it is always kept within
    ``MAX_RATE_ERROR`` of nominal."""
    i0, h0 = int(index[0]), int(host_ns[0])
    di = [int(i) - i0 for i in index]
    dh = [int(h) - h0 for h in host_ns]
    return _fit_sums(len(di), sum(di), sum(dh), sum(i * i for i in di), sum(i * h for i, h in zip(di, dh)),
                     i0, h0, di[-1] - di[0] if di else 0, nominal_period_ns, min_span_ticks)


def _fit_sums(n: int, si: int, sh: int, sii: int, sih: int, ref_index: int, ref_host_ns: int, span_ticks: int,
              nominal_period_ns: float, min_span_ticks: int) -> TickSchedule:
    period = float(nominal_period_ns)
    if n >= 2 and span_ticks >= min_span_ticks:
        den = n * sii - si * si
        if den > 0:
            fitted = (n * sih - si * sh) / den
            low, high = nominal_period_ns * (1 - MAX_RATE_ERROR), nominal_period_ns * (1 + MAX_RATE_ERROR)
            period = min(max(fitted, low), high)
    return TickSchedule(ref_index, ref_host_ns, (sh - period * si) / n, period)


class _Window:
    """Recent on-schedule (index, host) pairs and the exact integer sums of their offsets from
    the oldest pair (rebased as the oldest leaves, so the sums stay small)."""

    def __init__(self, size: int, index: int, host_ns: int) -> None:
        self.pairs: Deque[Tuple[int, int]] = deque()
        self.size = size
        self.ref_index, self.ref_host_ns = int(index), int(host_ns)
        self.n = self.si = self.sh = self.sii = self.sih = 0
        self.add(index, host_ns)

    def add(self, index: int, host_ns: int) -> None:
        self.pairs.append((int(index), int(host_ns)))
        self._accumulate(int(index) - self.ref_index, int(host_ns) - self.ref_host_ns, +1)
        if len(self.pairs) > self.size:
            old_i, old_h = self.pairs.popleft()
            self._accumulate(old_i - self.ref_index, old_h - self.ref_host_ns, -1)
            self._rebase(*self.pairs[0])

    def _accumulate(self, i: int, h: int, sign: int) -> None:
        self.n += sign
        self.si += sign * i
        self.sh += sign * h
        self.sii += sign * i * i
        self.sih += sign * i * h

    def _rebase(self, index: int, host_ns: int) -> None:
        a, d = index - self.ref_index, host_ns - self.ref_host_ns
        # sums of (i - a) and (h - d) from sums of i and h
        self.sih = self.sih - d * self.si - a * self.sh + self.n * a * d
        self.sii = self.sii - 2 * a * self.si + self.n * a * a
        self.si -= self.n * a
        self.sh -= self.n * d
        self.ref_index, self.ref_host_ns = index, host_ns

    def fit(self, nominal_period_ns: float, min_span_ticks: int) -> TickSchedule:
        span = self.pairs[-1][0] - self.pairs[0][0]
        return _fit_sums(self.n, self.si, self.sh, self.sii, self.sih, self.ref_index, self.ref_host_ns, span,
                         nominal_period_ns, min_span_ticks)


class ArrivalSchedule:
    """Places each arrival of a steady-clocked sender on its tick (module docstring).

    ``rate_hz``: the device's nominal packet rate; ``window_s``: how much recent history the fit
    uses; ``gate_ticks``: how far from a tick an arrival may be and still be placed on it;
    ``relock_after``: off-schedule arrivals in a row that re-anchor the schedule. Counters:
    ``off_schedule`` (arrivals taken at arrival) and ``relocks``. Not thread-safe: the driver
    calls it under its lock.
    """

    def __init__(self, rate_hz: float, window_s: float = 10.0, gate_ticks: float = 0.25, relock_after: int = 8) -> None:
        if not 0.0 < gate_ticks < 0.5:
            raise ValueError(f"gate_ticks must be in (0, 0.5), got {gate_ticks}")
        self.period_ns = NS_PER_S / float(rate_hz)
        self.gate_ticks = float(gate_ticks)
        self.relock_after = int(relock_after)
        self._window_size = max(16, int(round(window_s * rate_hz)))
        self._min_span = max(8, int(round(rate_hz)))  # a second of ticks before the rate is fitted
        self._window: Optional[_Window] = None
        self._schedule: Optional[TickSchedule] = None
        self._last_index = 0
        self._off_in_a_row = 0
        self.off_schedule = 0
        self.relocks = 0

    @property
    def schedule(self) -> Optional[TickSchedule]:
        """The current fit; None before the first arrival."""
        return self._schedule

    def place(self, host_ns: int) -> Placement:
        """The tick and device time of an arrival at ``host_ns`` (master clock, ns)."""
        host_ns = int(host_ns)
        if self._schedule is None:
            self._anchor(0, host_ns, self.period_ns)
            return Placement(index=0, sensor_ns=0)
        ticks = self._schedule.ticks_at(host_ns)
        nearest = int(round(ticks))
        if abs(ticks - nearest) <= self.gate_ticks and nearest > self._last_index:
            lost = nearest - self._last_index - 1
            self._take(nearest, host_ns)
            return Placement(index=nearest, sensor_ns=self._sensor_ns(nearest), lost=lost)
        self.off_schedule += 1
        self._off_in_a_row += 1
        if self._off_in_a_row >= self.relock_after:
            index = max(self._last_index + 1, nearest)
            lost = index - self._last_index - 1
            self.relocks += 1
            self._anchor(index, host_ns, self._schedule.host_period_ns)
            return Placement(index=index, sensor_ns=self._sensor_ns(index), lost=lost, relocked=True)
        return Placement(index=None, sensor_ns=int(round(ticks * self.period_ns)))

    def _sensor_ns(self, index: int) -> int:
        return int(round(index * self.period_ns))

    def _anchor(self, index: int, host_ns: int, host_period_ns: float) -> None:
        self._window = _Window(self._window_size, index, host_ns)
        self._schedule = TickSchedule(index, host_ns, 0.0, host_period_ns)
        self._last_index, self._off_in_a_row = index, 0

    def _take(self, index: int, host_ns: int) -> None:
        window = self._window
        assert window is not None
        window.add(index, host_ns)
        self._schedule = window.fit(self.period_ns, self._min_span)
        self._last_index, self._off_in_a_row = index, 0
