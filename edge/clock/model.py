"""A per-sensor clock model: an online robust fit of sensor time to master time.

Each sample is a pair (``sensor_ns``, the sensor's own stamp; ``host_ns``, the host's receive time
on the master clock). ``host_ns - latency_ns - sensor_ns`` against ``sensor_ns`` is a line (offset
and drift) plus stamp jitter and transport delay. The model keeps that line:

* gate: a sample further from the line than ``reject_sigmas`` prediction spreads is an outlier (a
  stalled network stack, a wild stamp) and stays out of the fit;
* fit: least squares over the gated samples of the newest ``window_s`` seconds of sensor time
  (:class:`edge.clock.window.SampleWindow`, at most ``max_samples`` of them), as running sums (O(1)
  a sample); every ``refit_every`` samples a Huber fit (:func:`edge.clock.fit.huber_line_fit`) of
  the whole window re-measures the spread, re-gates every sample and moves the reference pair forward;
* steps outside the gate: rejects that agree with each other for ``step_min_samples`` samples and
  ``step_min_span_ns`` of sensor time are a clock step;
* steps inside the gate: a two-sided CUSUM (:mod:`edge.clock.change`) raises an alarm, and the
  samples since its change-point estimate are the new segment. A sensor that gives at least 8
  samples per 50 ms (LiDAR packets or slices) is weighed one block at a time, by the block's
  smallest residual against the line as it stood before the evidence began: a burst of late
  packets on a loaded host leaves some sample of the block on time, a step moves them all.
  Slower sensors (FreeD, frames, LTC) are weighed by each sample's rank score.

On a step the history is dropped, the window re-seeded with the step's samples, and the drift
measured before is kept as a prior on the slope, so only the offset is re-learnt. ``converged``
is false from the step until ``min_samples`` gated samples after it (the agreeing rejects count)
and the new line's own error is within bound again.

Time to detect a step of ``delta`` jitter spreads (``sigma``, :attr:`ClockModel.residual_jitter_ns`)
at ``rate_hz`` samples a second, counted from the first sample after the step, with the defaults
(gate ``g = 4`` spreads, CUSUM ``k = 1``, ``h = 10``, ``step_min_samples = 8``,
``step_min_span_ns = 100 ms``), for Gaussian jitter:

* ``k < delta <= g - 1`` (0.5x the gate is 2 sigma): weighed by samples, the CUSUM alarms within
  ``m(delta) = ceil(((3.09 + sqrt(9.55 + 4 h (delta - k))) / (2 (delta - k)))**2)`` samples at 99.9 %
  (:func:`edge.clock.change.detection_bound_samples`): 26 samples for 2 sigma, 10 for 3 sigma, that
  is 34 ms of LiDAR packets at 754/s, 0.26 s of FreeD at 100/s, 1.1 s of frames or LTC at 24/s
  (73 samples for 1.5 sigma). Weighed by blocks (``k = 1``, ``h = 5``), within ``m(delta) + 2``
  blocks of 50 ms, ``m`` from the same formula with ``h = 5``: 21 blocks for 2 sigma (1.05 s; 7 on
  average), 9 for 3 sigma. A step of ``k`` (1 sigma) or less has no bound: it may be found,
  or the line absorbs it over one window, never more than the step (the jitter) off meanwhile;
* ``delta >= g + 2`` (2x the gate and more): every sample is rejected; ``converged`` turns false
  at the ``step_min_samples``-th reject (rejects later than the line, as a burst of late packets
  is too: once they span half ``step_min_span_ns``, the frames meanwhile flagged late, not unsynced)
  and the step is taken after
  ``M = max(step_min_samples, ceil(rate_hz * step_min_span_ns / 1e9) + 2)`` samples on the new
  offset (the span is measured on the stamps: jitter may shorten it by one period): 78 at 754/s
  (0.10 s), 12 at 100/s (0.12 s), 8 at 24/s (0.33 s); a stalled packet among them (not on the new
  offset either) adds one;
* in between (around the gate) part of the samples pass the gate and feed the CUSUM with scores
  near the gate, the rest feed the reject test; whichever is first, within ``max(2 m(g - 1), M)``
  samples: 20 at 24/s and 100/s; by blocks ``max(2 (m(g - 1) + 2), M)`` blocks' worth, 18 blocks
  at 754/s. By blocks, part of the step's samples pass the gate and end the runs of rejects, so
  ``converged`` may come back between them until the step is taken (never after it).

Samples that arrive bunched with the previous one (a released backlog) are not weighed by the
CUSUM; they delay an alarm by their number.

``delay_model`` picks the line that maps sensor time to master time:

* ``"mean"`` (default): the least-squares line. It sits at the *mean* transport delay (set
  ``latency_ns`` to that where known) and averages stamp jitter away at 1/sqrt(n): the lower error
  whenever stamps carry jitter comparable to the delay's spread (software stamps, the sim stage).
* ``"lower_envelope"``: the minimum-delay line under the gated samples
  (:func:`edge.clock.fit.lower_envelope_fit`). It sits at the *minimum* delay (set ``latency_ns``
  to that), ignores any tail of delays, but stamp jitter drags it early by ~3-4 jitter sigmas:
  for hardware-stamped sensors (PTP, GPS PPS) behind a jittery network.

Stamps stay integers, relative to a reference pair; only small relative values become floats.
One thread calls :meth:`ClockModel.observe`; any thread may map stamps (one immutable
:class:`~edge.clock.fit.ClockMapping` is read).
"""

from __future__ import annotations

import math
import operator
import threading
from collections import deque
from typing import Deque, Optional, Tuple

import numpy as np

from edge.clock.change import (
    BLOCK_DRIFT,
    BLOCK_MIN_SAMPLES,
    BLOCK_THRESHOLD,
    CUSUM_DRIFT,
    CUSUM_THRESHOLD,
    BlockMinima,
    CusumState,
    ScoreTable,
    cusum_update,
    normal_score,
    score_table,
    split_at_shift,
)
from edge.clock.errors import ClockError, ClockNotReadyError
from edge.clock.fit import ClockMapping, detect_step, huber_line_fit, lower_envelope_fit
from edge.clock.types import ClockSnapshot
from edge.clock.window import SampleWindow

__all__ = ["DELAY_MODELS", "ClockError", "ClockNotReadyError", "ClockSnapshot", "ClockModel"]

DELAY_MODELS = ("mean", "lower_envelope")

# Stamps this far from the reference pair (~146 years) would overflow the int64 window; such a
# sample is an outlier, seen only by the step test (which re-references if the clock really jumped).
# Within it, float64 of the relative values stays exact to 1 ns for 104 days.
_WILD_NS = 1 << 62

# A step the model took this recently (host time, ns) may have been the master clock's own when
# shift_master learns of one of that size: the watch must be checked at least this often.
_REBASE_LOOKBACK_NS = 5_000_000_000


class ClockModel:
    """Online robust estimate of one sensor's clock against the master clock (see the module doc).

    ``window_s``: seconds of sensor time kept for the fit (the newest ones); ``max_samples``: at
    most that many of them (memory: 17 bytes a sample). ``latency_ns``: known transport delay
    subtracted from ``host_ns`` (the mean delay for ``"mean"``, the minimum for ``"lower_envelope"``).
    ``reject_sigmas``: the outlier gate in robust spreads. ``jitter_floor_ns``: the smallest spread
    the gate assumes, so noiseless clocks do not reject rounding. ``converged_error_ns``: the
    standard error at the newest sample below which the model calls itself converged.
    ``max_drift_ppm``: the drift a sensor clock can plausibly have, a weak prior on the slope.
    ``cusum_drift`` and ``cusum_threshold``: the in-gate step test's ``k`` and ``h`` in spreads
    (:mod:`edge.clock.change`).

    The default window of 30 s keeps 3000 samples at 100 Hz, enough for a 2 ms-jitter clock to get
    within 125 us (``2 sigma / sqrt(n)`` at the newest sample needs n >= 1024), and 22 620 LiDAR
    packets at 754/s under the default cap of 32 768.
    """

    def __init__(
        self,
        name: str,
        window_s: float = 30.0,
        *,
        max_samples: int = 1 << 15,
        delay_model: str = "mean",
        latency_ns: int = 0,
        reject_sigmas: float = 4.0,
        jitter_floor_ns: int = 10_000,
        min_samples: int = 16,
        refit_every: int = 256,
        step_min_samples: int = 8,
        step_min_span_ns: int = 100_000_000,
        step_tolerance_sigmas: float = 4.0,
        converged_error_ns: int = 125_000,
        max_drift_ppm: float = 1000.0,
        cusum_drift: float = CUSUM_DRIFT,
        cusum_threshold: float = CUSUM_THRESHOLD,
    ) -> None:
        if delay_model not in DELAY_MODELS:
            raise ValueError(f"delay_model must be one of {DELAY_MODELS}, got {delay_model!r}")
        if not (math.isfinite(window_s) and window_s > 0):
            raise ValueError(f"window_s must be a positive number of seconds, got {window_s}")
        if not 4 <= min_samples <= max_samples // 4:
            raise ValueError(
                f"need 4 <= min_samples <= max_samples / 4, got min_samples={min_samples}, max_samples={max_samples}"
            )
        if cusum_drift < 0 or cusum_threshold <= 0:
            raise ValueError(f"need cusum_drift >= 0 and cusum_threshold > 0, got {cusum_drift}, {cusum_threshold}")
        if refit_every < min_samples or step_min_samples < 2 or reject_sigmas <= 1.345:
            raise ValueError("need refit_every >= min_samples, step_min_samples >= 2 and reject_sigmas > 1.345")
        if min(jitter_floor_ns, converged_error_ns, step_tolerance_sigmas, max_drift_ppm) <= 0 or step_min_span_ns < 0:
            raise ValueError("jitter_floor_ns, converged_error_ns, step_tolerance_sigmas, max_drift_ppm must be > 0")
        self.name = name
        self.window_s = float(window_s)
        self.max_samples = int(max_samples)
        self.delay_model = delay_model
        self.latency_ns = operator.index(latency_ns)
        self._reject = float(reject_sigmas)
        self._floor = float(jitter_floor_ns)
        self._min_samples = int(min_samples)
        self._refit_every = int(refit_every)
        self._step_min = int(step_min_samples)
        self._step_span = float(step_min_span_ns)
        self._step_tol = float(step_tolerance_sigmas)
        self._converged_error = float(converged_error_ns)
        self._max_drift = float(max_drift_ppm) * 1e-6
        self._cusum_k = float(cusum_drift)
        self._cusum_h = float(cusum_threshold)
        self._blocks = BlockMinima()
        self._test_line: Optional[Tuple[int, int, float, float]] = None  # (s_ref, y_ref, a, b)
        self._by_block = False  # whether the step test weighs blocks (a fast sensor) or samples
        self._lock = threading.Lock()
        # x: sensor_ns - sensor_ref; y: (host - latency - sensor) - offset_ref; ok: inside the gate
        self._win = SampleWindow(max(1, int(round(self.window_s * 1e9))), self.max_samples)
        self._pending: Deque[Tuple[int, int, float]] = deque(maxlen=512)  # rejected: (sensor, offset, residual)
        self.observed = 0
        self.steps = 0
        self.outliers = 0
        self.master_shifts = 0  # shift_master calls that moved the reference
        self._since_step: Optional[int] = None  # gated samples observed since the last step taken
        self._recent_step: Optional[Tuple[float, int]] = None  # (size ns, host ns) of the last step taken
        self._last: Optional[Tuple[int, int]] = None
        self._mapping: Optional[ClockMapping] = None
        self._reset_history(None)

    # -- public view -------------------------------------------------------------------------

    def to_master_ns(self, sensor_ns):
        """Master time (int ns) of sensor time(s) ``sensor_ns`` (int or integer numpy array)."""
        mapping = self._mapping
        if mapping is None:
            raise ClockNotReadyError(f"clock model {self.name!r} has no sample yet")
        return mapping.to_master_ns(sensor_ns)

    @property
    def mapping(self) -> Optional[ClockMapping]:
        """The current sensor -> master line (immutable; None before the first sample)."""
        return self._mapping

    @property
    def offset_ns(self) -> Optional[int]:
        """Master minus sensor time at the newest sample's sensor time, ns."""
        mapping, last = self._mapping, self._last
        if mapping is None or last is None:
            return None
        return mapping.to_master_ns(last[0]) - last[0]

    @property
    def drift_ppm(self) -> Optional[float]:
        """Sensor clock rate error against the master clock, ppm (positive: the sensor runs fast)."""
        mapping = self._mapping
        return None if mapping is None else mapping.drift_ppm

    @property
    def residual_jitter_ns(self) -> Optional[float]:
        """Robust spread (1.4826 MAD) of the window's residuals, ns; None before the first robust fit."""
        return self._sigma

    @property
    def converged(self) -> bool:
        """True once the fit's standard error at the newest sample is within ``converged_error_ns``
        (with a spread measured on at least ``4 * min_samples`` samples); false again during a run of
        ``step_min_samples`` rejects, from a step (either test, module docstring) until the new
        line is within that error again, or past 1.5 times that error (hysteresis)."""
        return self._converged

    def snapshot(self) -> ClockSnapshot:
        with self._lock:
            last = self._last
            return ClockSnapshot(
                name=self.name,
                delay_model=self.delay_model,
                observed=self.observed,
                window_samples=self._win.n,
                converged=self._converged,
                steps=self.steps,
                outliers=self.outliers,
                offset_ns=self.offset_ns,
                drift_ppm=self.drift_ppm,
                residual_jitter_ns=self._sigma,
                error_estimate_ns=self._error_estimate(),
                drift_error_ppm=None if self._sigma is None else self._slope_error() * 1e6,
                last_sensor_ns=None if last is None else last[0],
                last_host_ns=None if last is None else last[1],
                mapping=self._mapping,
            )

    # -- feeding -----------------------------------------------------------------------------

    def observe(self, sensor_ns: int, host_ns: int) -> bool:
        """Add one (sensor stamp, host receive time) pair, both int ns; True if it entered the fit."""
        s = operator.index(sensor_ns)
        h = operator.index(host_ns)
        offset = h - self.latency_ns - s
        with self._lock:
            self.observed += 1
            previous, self._last = self._last, (s, h)
            if self._s_ref is None:
                self._s_ref, self._y_ref = s, offset
            x, y = s - self._s_ref, offset - self._y_ref
            residual = y - (self._a + self._b * x)
            alarm = 0
            if abs(x) >= _WILD_NS or abs(y) >= _WILD_NS:
                ok = False  # a wild stamp never enters the window, only the step test
            else:
                # Cold start (no spread known yet) takes everything; the first robust fit sorts it out.
                gate = math.inf if self._sigma is None else self._gate_ns(x)
                ok = abs(residual) <= gate
                testing = self._testing()
                # A sample that arrives bunched with the one before (under a quarter of the usual
                # gap) was held up on the way: it measures the hold-up, not the clock. The tail of a
                # released backlog is such a run, inside the gate, and must not walk the test.
                bunched = previous is not None and abs(h - previous[1]) < 0.25 * self._win.mean_gap_ns()
                if testing:
                    self._choose_test()
                z = self._score(s, x, y, residual) if ok and testing and not bunched else None
                self._win.add(x, y, ok)
                if testing:
                    drift, threshold = (BLOCK_DRIFT, BLOCK_THRESHOLD) if self._by_block else (self._cusum_k, self._cusum_h)
                    self._cusum, alarm = cusum_update(
                        self._cusum, z, drift=drift, threshold=threshold, clip=self._reject
                    )
            if ok:
                if self._since_step is not None:
                    self._since_step += 1
                self._accept_run += 1
                if self._accept_run >= 3:  # back on the line: earlier rejects were not a step
                    self._pending.clear()
            else:
                self.outliers += 1
                self._accept_run = 0
                self._pending.append((s, offset, float(residual)))
            if alarm:
                self._restart_at_change(alarm)
                self._update_converged()
                return ok
            self._since_refit += 1
            if self._since_refit >= self._refit_interval and self._win.count >= self._min_samples:
                self._refit()
            elif ok:
                self._solve_sums()
                if self.delay_model == "mean" or self._sigma is None:
                    self._publish(self._a, self._b)
            if not ok and self._sigma is not None and len(self._pending) >= self._step_min:
                self._check_step()
            self._update_converged()
            return ok

    def shift_master(self, step_ns: int) -> None:
        """Re-base the model on a master clock that stepped by ``step_ns`` (int ns, new minus old
        reading; e.g. an NTP/PTP correction of the host clock, see :class:`edge.clock.MasterClockWatch`).

        Every stored offset moves with the master clock, so the line, its drift, its spread and its
        convergence stay as they were and the next samples (stamped on the new master time) land
        on the line instead of looking like a sensor clock step.

        Learnt late (the watch checked after samples on the new master time were observed), it
        still comes out right. If the model already took a step of that size within the last 5 s,
        that step was the master's: the model is on the new master time already, and the step is
        not counted. Otherwise the samples observed since the step stay as they were: outside the
        gate they are outliers, inside it they hold the line by their share of the window (a
        second of them in a 30 s window: 1/30 of the step) until they age out.
        """
        step = operator.index(step_ns)
        with self._lock:
            if self._s_ref is None or step == 0:
                return
            self.master_shifts += 1
            self._pending.clear()  # rejects on the old master time: not evidence of a step any more
            self._accept_run = 0
            self._cusum = CusumState()
            self._blocks.clear()
            self._test_line = None
            taken, self._recent_step = self._recent_step, None
            sigma = max(self._sigma or 0.0, self._floor)
            if (
                taken is not None
                and self._last is not None
                and abs(self._last[1] - taken[1]) <= _REBASE_LOOKBACK_NS
                and abs(taken[0] - step) <= self._reject * sigma
            ):
                self.steps -= 1  # it was the master clock's step, already followed
                return
            self._y_ref += step
            mapping = self._mapping
            if mapping is not None:
                self._mapping = mapping._replace(offset_ref_ns=mapping.offset_ref_ns + step)

    # -- internals ---------------------------------------------------------------------------

    def _reset_history(self, prior: Optional[Tuple[float, float]]) -> None:
        self._win.clear()
        self._cusum = CusumState()
        self._blocks.clear()
        self._test_line = None
        if prior is None:
            self._scores: Optional[ScoreTable] = None
        self._s_ref: Optional[int] = None
        self._y_ref = 0
        self._a = 0.0
        self._b = prior[0] if prior else 0.0
        self._step_prior = prior  # (slope, strength in units of sum((x - mean)**2))
        self._x_mean = self._denom = 0.0
        self._since_refit = 0
        self._refit_interval = self._min_samples
        self._accept_run = 0
        self._converged = False
        self._pending.clear()
        if prior is None:
            self._sigma: Optional[float] = None
            self._sigma_n = 0

    def _slope_prior(self) -> Tuple[float, float]:
        """The drift measured before a step, else a weak prior that clocks are within ``max_drift_ppm``
        (it keeps the first few samples' slope sane and fades once the window spans a second or so)."""
        if self._step_prior is not None:
            return self._step_prior
        sigma = self._floor if self._sigma is None else self._sigma  # noiseless clocks: no pull at all
        return 0.0, (sigma / self._max_drift) ** 2

    def _lever(self, x: int) -> float:
        """Prediction variance at sensor time ``x`` over the spread's: 1 plus the line's own."""
        n = self._win.n
        if n == 0 or self._denom <= 0.0:
            return 1.0
        return 1.0 + 1.0 / n + (x - self._x_mean) ** 2 / self._denom

    def _gate_ns(self, x: int) -> float:
        """Largest residual accepted at sensor time ``x``: ``reject_sigmas`` times the prediction
        spread, which includes the line's own uncertainty there (wide while the history is short),
        and a spread raised by two of its standard errors (a MAD of 16 samples is only good to ~30 %)."""
        sigma = max(self._sigma or 0.0, self._floor) * (1.0 + 2.0 / math.sqrt(max(self._sigma_n, 1)))
        return self._reject * sigma * math.sqrt(self._lever(x))

    def _score(self, sensor_ns: int, x: int, y: int, residual: float) -> Optional[float]:
        """The step test's score of a residual (ns) at sensor time ``sensor_ns`` (``x`` relative):
        for a fast sensor, a closed block's minimum over the spread (None inside a block); else the
        sample's normal score (``y``: its relative offset), ranked against the window's residuals once there are enough of them
        and they spread beyond the jitter floor, or over the spread (:mod:`edge.clock.change`)."""
        if self._by_block:
            if self._cusum.upper == 0.0 and self._cusum.lower == 0.0:
                self._test_line = (self._s_ref, self._y_ref, self._a, self._b)
            s_ref, y_ref, a, b = self._test_line
            tx, ty = x + (self._s_ref - s_ref), y + (self._y_ref - y_ref)  # exact ints, then small floats
            scaled = (ty - (a + b * tx)) / math.sqrt(self._lever(x))
            return self._blocks.add(sensor_ns, scaled, max(self._sigma or 0.0, self._floor))
        scaled = residual / math.sqrt(self._lever(x))
        if self._scores is not None:
            return normal_score(scaled, self._scores)
        return scaled / max(self._sigma or 0.0, self._floor)

    def _choose_test(self) -> None:
        """Weigh blocks while the sensor gives :data:`~edge.clock.change.BLOCK_MIN_SAMPLES` samples
        a block, else samples; on a change the sums start again (they are in other units)."""
        gap = self._win.mean_gap_ns()
        by_block = 0.0 < gap * BLOCK_MIN_SAMPLES <= self._blocks.block_ns
        if by_block != self._by_block:
            self._by_block = by_block
            self._cusum = CusumState()
            self._blocks.clear()
            self._test_line = None

    def _testing(self) -> bool:
        """Whether the in-gate step test runs: once the spread is measured as well as convergence
        asks (on ``4 * min_samples`` samples) and the line holds ``min_samples``."""
        return self._sigma is not None and self._sigma_n >= 4 * self._min_samples and self._win.n >= self._min_samples

    def _solve_sums(self) -> None:
        """Least squares (with the slope prior) over the gated samples, from the running sums."""
        w = self._win
        n = w.n
        if n == 0:
            return
        x_mean, y_mean = w.sx / n, w.sy / n
        sxx = max(w.sxx - w.sx * x_mean, 0.0)
        sxy = w.sxy - w.sx * y_mean
        b0, strength = self._slope_prior()
        denom = sxx + strength
        self._b = (sxy + strength * b0) / denom if denom > 0.0 else b0
        self._a = y_mean - self._b * x_mean
        self._x_mean, self._denom = x_mean, denom

    def _refit(self) -> None:
        """Re-reference to the newest sample, Huber-fit the whole window (so the spread is measured
        on everything, not just what the gate let in), re-gate every sample and re-sum."""
        xs, ys, was_ok = self._win.ordered()
        dx, dy = int(xs[-1]), int(ys[-1])
        xs -= dx
        ys -= dy
        self._s_ref += dx
        self._y_ref += dy
        initial = None if self._sigma is None else (self._a + self._b * dx - dy, self._b)
        fit = huber_line_fit(
            xs, ys, reject_sigmas=self._reject, min_sigma=self._floor, initial=initial, slope_prior=self._slope_prior()
        )
        ok = fit.inliers
        self.outliers += int(np.count_nonzero(was_ok & ~ok)) - int(np.count_nonzero(ok & ~was_ok))
        m = xs.size
        if self._step_prior is None or m >= self._sigma_n:
            self._sigma, self._sigma_n = fit.sigma, m
        # else: just after a step: jitter does not step, keep the spread measured on more samples
        self._win.replace(xs, ys, ok)
        xf, yf = xs[ok].astype(np.float64), ys[ok].astype(np.float64)
        self._solve_sums()
        if self._step_prior is not None and self._denom >= 2.0 * self._step_prior[1]:
            self._step_prior = None  # the window now measures the drift at least as well as the prior did
            self._solve_sums()
        self._since_refit = 0
        # A refit costs O(m): at most every m / 16 samples keeps its cost per sample bounded (a 30 s
        # window of LiDAR packets is re-measured every 1.9 s rather than every 0.34 s).
        self._refit_interval = max(min(self._refit_every, max(self._min_samples, m // 2)), m // 16)
        self._scores = self._score_table(xf, yf)
        self._publish_fit(xf, yf)

    def _test_residual(self, xs, ys):
        """Residual(s) (ns, float) of window sample(s) ``xs``, ``ys`` about the block test's line.

        That line is the fit as it stood when both sums were last zero. In the gate, a step's
        samples enter the fit and pull it their way block by block; measured against the line
        they left, they keep their full size until the test has decided."""
        s_ref, y_ref, a, b = self._test_line or (self._s_ref, self._y_ref, self._a, self._b)
        x = np.asarray(xs, dtype=np.int64) + (self._s_ref - s_ref)
        y = np.asarray(ys, dtype=np.int64) + (self._y_ref - y_ref)
        return y.astype(np.float64) - (a + b * x.astype(np.float64))

    def _score_table(self, xf: np.ndarray, yf: np.ndarray) -> Optional[ScoreTable]:
        """Ranks for the step test from the gated residuals about the current line (None: use the
        spread), unless the jitter floor dominates them (noiseless clocks: ranks of rounding)."""
        table = score_table(yf - (self._a + self._b * xf)) if xf.size else None
        if table is None or table.residuals[-1] - table.residuals[0] < 5.0 * self._floor:
            return None
        return table

    def _publish_fit(self, xf: np.ndarray, yf: np.ndarray) -> None:
        """Publish the line of the delay model, fitted to the gated samples ``xf``, ``yf``."""
        a, b = self._a, self._b
        if self.delay_model == "lower_envelope" and xf.size:
            # Let the envelope choose its slope only as far as the centre fit is unsure of it.
            half = max(4.0 * self._slope_error(), 1e-9)
            a, b = lower_envelope_fit(xf, yf, slope_bounds=(self._b - half, self._b + half))
        self._publish(a, b)

    def _publish(self, a: float, b: float) -> None:
        self._mapping = ClockMapping(self._s_ref, self._y_ref, a, b)

    def _slope_error(self) -> float:
        """Standard error of the slope (dimensionless)."""
        if self._denom <= 0.0:
            return self._max_drift
        return max(self._sigma or 0.0, self._floor) / math.sqrt(self._denom)

    def _error_estimate(self) -> Optional[float]:
        """Standard error (ns) of the centre line at the newest sample."""
        n = self._win.n
        if self._sigma is None or n == 0:
            return None
        sigma = max(self._sigma, self._floor)
        newest = float(self._win.newest_x())
        lever = (newest - self._x_mean) ** 2 / self._denom if self._denom > 0 else 0.0
        return sigma * math.sqrt(1.0 / n + lever)

    def _update_converged(self) -> None:
        error = self._error_estimate()
        if error is None or self._win.n < self._min_samples or self._sigma_n < 4 * self._min_samples:
            self._converged = False  # a spread measured on a few dozen samples can be off by half
        elif self._since_step is not None and self._since_step < self._min_samples:
            self._converged = False  # a step was just taken: only samples after it say the new line holds
        elif len(self._pending) >= self._step_min and self._accept_run == 0 and self._rejects_doubt_line():
            self._converged = False  # a run of rejects: the line may no longer describe the clock
        elif error * (1.0 + 2.0 / math.sqrt(self._sigma_n)) <= self._converged_error:
            self._converged = True
        elif error > 1.5 * self._converged_error:
            self._converged = False

    def _rejects_doubt_line(self) -> bool:
        """Whether the current run of rejects puts the line in doubt. Samples early for the line
        cannot be transport delay: at once. Late ones are what a burst of late packets on a busy
        host looks like as much as a clock stepping back: only once they span half the step
        test's ``step_min_span_ns`` (a burst that long is as good as a stall; the step is taken
        at the whole span, so 'converged' is false before it)."""
        pending = self._pending
        if min(p[2] for p in pending) < 0.0:
            return True
        return pending[-1][0] - pending[0][0] >= 0.5 * self._step_span

    def _check_step(self) -> None:
        pending = list(self._pending)
        s0 = pending[0][0]
        sigma = max(self._sigma or 0.0, self._floor)
        tolerance = self._step_tol * sigma
        size = detect_step(
            [float(p[0] - s0) for p in pending],
            [p[2] for p in pending],
            tolerance=tolerance,
            min_samples=self._step_min,
            min_span=self._step_span,
        )
        if size is None or abs(size) <= self._gate_ns(pending[-1][0] - self._s_ref):
            return  # no cluster, or one inside the gate: not a step
        agree = [p for p in pending if abs(p[2] - size) <= tolerance]
        # The drift does not change when a clock steps: carry the slope and how well it was known.
        self._reset_history((self._b, self._denom))  # keeps the spread: jitter does not step either
        self.steps += 1
        self.outliers -= len(agree)
        self._since_step = len(agree)  # all after the step: they agreed on its new offset
        self._recent_step = (size, self._last[1] if self._last else 0)
        self._s_ref, self._y_ref = agree[-1][0], agree[-1][1]
        for s, offset, _ in agree:
            self._win.add(s - self._s_ref, offset - self._y_ref, True)
        self._solve_sums()
        xs, ys, _ = self._win.ordered()
        self._publish_fit(xs.astype(np.float64), ys.astype(np.float64))

    def _prior_before(self, newest: int) -> Tuple[float, float]:
        """The drift and its strength measured on the gated samples before the newest ``newest``.

        Those newest samples are the step's: in the gate, they entered the fit and tilt its slope
        (the block test lets a few hundred LiDAR packets in before it alarms), so the drift carried
        over a step is re-measured without them."""
        xs, ys, ok = self._win.ordered()
        keep = ok[: max(xs.size - int(newest), 0)]
        x = xs[: keep.size][keep].astype(np.float64)
        y = ys[: keep.size][keep].astype(np.float64)
        b0, strength = self._slope_prior()
        if x.size < 2:
            return self._b, self._denom
        dx = x - x.mean()
        sxx = float(dx @ dx)
        return (float(dx @ (y - y.mean())) + strength * b0) / (sxx + strength), sxx + strength

    def _restart_at_change(self, alarm: int) -> None:
        """The CUSUM's step: the samples since its change-point estimate (the alarming side's run)
        are the new segment. Its offset is their median residual; the drift is kept."""
        run = self._cusum.upper_run if alarm > 0 else self._cusum.lower_run
        prior = self._prior_before(run)
        xs, ys, was_ok = self._win.ordered(run)
        if self._by_block:  # the run starts at a block boundary, maybe blocks before the step
            residual = self._test_residual(xs, ys)
            start = split_at_shift(residual)
            xs, ys, was_ok, residual = xs[start:], ys[start:], was_ok[start:], residual[start:]
        else:
            residual = ys.astype(np.float64) - (self._a + self._b * xs.astype(np.float64))
        shift = float(np.median(residual))
        sigma = max(self._sigma or 0.0, self._floor)
        ok = np.abs(residual - shift) <= self._reject * sigma
        s_ref = self._s_ref + int(xs[-1])
        y_ref = self._y_ref + int(ys[-1])
        self.outliers += int(np.count_nonzero(was_ok & ~ok)) - int(np.count_nonzero(ok & ~was_ok))
        self._reset_history(prior)  # keeps the spread: jitter does not step either
        self.steps += 1
        self._since_step = 0
        self._recent_step = (shift, self._last[1] if self._last else 0)
        self._s_ref, self._y_ref = s_ref, y_ref
        self._win.replace(xs - xs[-1], ys - ys[-1], ok)
        self._solve_sums()
        self._publish_fit(
            (xs[ok] - xs[-1]).astype(np.float64), (ys[ok] - ys[-1]).astype(np.float64)
        )
