"""Change-point test on a clock model's residuals: a two-sided CUSUM of normalised residuals.

A clock step smaller than the outlier gate moves every residual by the same amount but rejects
none of them, so the gate cannot see it. Page's cumulative sum can. Each residual ``r`` (ns, the
distance of a gated sample from the line predicted before it arrived) becomes a normal score
``z`` and is clipped to ``+/- clip``; then

    upper = max(0, upper + z - drift)        lower = max(0, lower - z - drift)

and an alarm is raised when either sum passes ``threshold``.

The normal score is ``Phi^-1`` of the residual's rank among the window's own residuals
(:func:`score_table`, :func:`normal_score`), not ``r / sigma``: transport delays are skewed (a
gamma or exponential tail of late packets), and on ``r / sigma`` such a tail alone walks the upper
sum to an alarm. Ranked, any jitter distribution gives ``z ~ N(0, 1)`` without a step, so the
false-alarm rate below holds for every clock; for Gaussian jitter ``z = r / sigma``, and the
detection bounds below are stated for that case (a shift of ``delta`` spreads moves ``z`` by
``delta``). Until the window holds :data:`MIN_TABLE_SAMPLES` residuals the model uses
``r / sigma``. The residual is first divided by the square root of the line's leverage at that
sensor time (prediction variance over the jitter's), so a short history does not inflate ``z``. ``drift`` (``k``) is half the
smallest shift to be found quickly, in spreads; ``threshold`` (``h``) sets the false-alarm rate.
The clip bounds what one residual can add, so a single stalled packet cannot raise an alarm.

Time to detect. After a step of ``delta`` spreads (``drift < delta``, up to the clip), the sum on
the step's side grows by at least ``sum(z_i - k)``, a Gaussian of mean ``m (delta - k)`` and
variance ``m`` after ``m`` samples (dropping the ``max(0, .)`` only lowers it). So the alarm has come
by ``m`` samples with probability at least ``Phi(q)`` once ``m (delta - k) - q sqrt(m) >= h``:

    m(delta) = ceil(((q + sqrt(q**2 + 4 (delta - k) h)) / (2 (delta - k)))**2)

(:func:`detection_bound_samples`; ``q = 3.09`` for 99.9 %), and ``m(delta) / rate_hz`` seconds.
With the defaults (``k = 1``, ``h = 10``, clip 4): 26 samples for 2 spreads
(half a 4-spread gate), 10 for 3, 7 for 4 or more (the clip caps what one sample adds, see
:func:`detection_bound_samples`). The mean is about Siegmund's ``(h + 1.166) / (delta - k)``:
11, 6 and 4 samples.

False alarms. For Gaussian residuals each side's mean run length between false alarms is about
``(exp(2 k b) - 2 k b - 1) / (2 k**2)`` with ``b = h + 1.166``: 2.5e9 samples with the defaults,
nine days of LiDAR packets at 754/s even with a spread underestimated by 10 %.

Blocks for fast sensors. The false-alarm rate above assumes independent residuals. On a loaded
host they are not: a CPU burst delays a run of packets, a quiet spell lets a run arrive at the
minimum delay, and either walks a sum to an alarm within a dozen samples (the sim stage's LiDAR
on two cores: one false step every 26 s, 34 % of slices more than 1 ms late in runs of up to 46 ms).
A clock step moves *every* sample, the earliest ones included; a load burst leaves some sample of
each block on time. So a sensor that gives at least :data:`BLOCK_MIN_SAMPLES` samples per
:data:`BLOCK_NS` of its own time is weighed one block at a time (:class:`BlockMinima`): the score
is the block's smallest residual less the median of the recent blocks' smallest, over the spread.
A step of ``delta`` spreads moves it by ``delta``, and its noise is that of a minimum of several
samples (0.2 spreads on the sim stage's LiDAR); the bounds above then hold in blocks, plus the
block the step fell in, and a run of late packets shorter than a block moves nothing.

The test state is an immutable :class:`CusumState`; :func:`cusum_update` returns the next one.
Besides the two sums it counts, for each side, the samples since that side was last zero: on an
alarm, that is how many of the newest samples came after the step (the CUSUM's change-point
estimate).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from statistics import NormalDist, median
from typing import Deque, NamedTuple, Optional, Tuple

import numpy as np

__all__ = [
    "CUSUM_DRIFT",
    "CUSUM_THRESHOLD",
    "CUSUM_CLIP",
    "BLOCK_NS",
    "BLOCK_MIN_SAMPLES",
    "BLOCK_DRIFT",
    "BLOCK_THRESHOLD",
    "BlockMinima",
    "split_at_shift",
    "MIN_TABLE_SAMPLES",
    "CusumState",
    "ScoreTable",
    "cusum_update",
    "detection_bound_samples",
    "normal_score",
    "score_table",
]

#: Default drift ``k`` in spreads: half of 2 spreads, the smallest step that must be found quickly
#: (half of the model's default 4-spread outlier gate).
CUSUM_DRIFT = 1.0
#: Default alarm threshold ``h`` in spreads (see the module docstring for its false-alarm rate).
CUSUM_THRESHOLD = 10.0
#: Default clip of one normalised residual, in spreads (the model's default gate).
CUSUM_CLIP = 4.0
#: Residuals needed before ranks replace ``r / sigma``: the outer tabulated quantiles (0.6 % and
#: 99.4 %) then rest on at least one or two samples each.
MIN_TABLE_SAMPLES = 256

#: A step-test block, ns of the sensor's own time (module docstring, Blocks for fast sensors).
BLOCK_NS = 50_000_000
#: Samples a block must hold on average for blocks to be used: the minimum of fewer is nearly as
#: noisy as one sample, and a slower sensor is weighed a sample at a time (FreeD at 100 Hz, frames).
BLOCK_MIN_SAMPLES = 8
#: ``k`` and ``h`` of the block test, in spreads of one sample: a block's minimum varies by about
#: a fifth of that, so half a spread of drift and a threshold of 5 still leave false alarms out of
#: reach while a 2-spread step is found in 4 blocks on average (10 by the bound, 99.9 %).
BLOCK_DRIFT = 1.0
BLOCK_THRESHOLD = 5.0

# Normal scores at which the residual quantiles are tabulated, and their probabilities.
_SCORES = tuple(float(v) for v in np.linspace(-2.5, 2.5, 41))
_PROBS = np.array([NormalDist().cdf(v) for v in _SCORES])
_TAIL = 8  # entries spanning one unit of score: the slope used beyond the table's ends


class ScoreTable(NamedTuple):
    """Residual quantiles (ns, non-decreasing) and the normal scores they stand for."""

    residuals: Tuple[float, ...]
    scores: Tuple[float, ...]


def score_table(residuals) -> Optional[ScoreTable]:
    """The empirical quantiles of ``residuals`` (ns) at the normal scores -2.5 ... 2.5, or None
    with fewer than :data:`MIN_TABLE_SAMPLES` finite values or no spread between the outer ones."""
    r = np.asarray(residuals, dtype=np.float64).ravel()
    r = r[np.isfinite(r)]
    if r.size < MIN_TABLE_SAMPLES:
        return None
    q = np.maximum.accumulate(np.quantile(r, _PROBS))
    if not q[-1] > q[0]:
        return None
    return ScoreTable(tuple(float(v) for v in q), _SCORES)


def normal_score(residual: float, table: ScoreTable) -> float:
    """``Phi^-1`` of ``residual``'s place among the tabulated quantiles (dimensionless): linear
    between them; beyond the ends along the slope of the outermost unit of score."""
    q, s = table.residuals, table.scores
    r = float(residual)
    i = bisect.bisect_left(q, r)
    if i == 0:
        lo, hi = 0, _TAIL
    elif i == len(q):
        lo, hi = len(q) - 1 - _TAIL, len(q) - 1
    else:
        lo, hi = i - 1, i
    width = q[hi] - q[lo]
    if width <= 0.0:  # tied quantiles (rounded stamps): the middle of the tie
        return 0.5 * (s[lo] + s[hi])
    return s[lo] + (s[hi] - s[lo]) * (r - q[lo]) / width


class CusumState(NamedTuple):
    """Both sums (in spreads) and, per side, the samples since that sum was last zero."""

    upper: float = 0.0
    lower: float = 0.0
    upper_run: int = 0
    lower_run: int = 0


def cusum_update(
    state: CusumState,
    z: Optional[float],
    *,
    drift: float = CUSUM_DRIFT,
    threshold: float = CUSUM_THRESHOLD,
    clip: float = CUSUM_CLIP,
) -> Tuple[CusumState, int]:
    """One sample's step of the two-sided CUSUM; returns ``(next state, alarm)``.

    ``z`` is the sample's residual over its prediction spread (dimensionless), or None for a sample
    the test does not weigh (one outside the gate): the sums stay, the runs still count it, since
    it came after the change too. ``alarm`` is +1 (the residuals moved up: the sensor clock stepped
    back against the master), -1 (down) or 0. The state after an alarm is the caller's to reset.
    """
    upper, lower = state.upper, state.lower
    if z is not None:
        if not math.isfinite(z):
            raise ValueError(f"normalised residual must be finite, got {z}")
        zc = min(max(float(z), -clip), clip)
        upper = max(0.0, upper + zc - drift)
        lower = max(0.0, lower - zc - drift)
    upper_run = state.upper_run + 1 if upper > 0.0 else 0
    lower_run = state.lower_run + 1 if lower > 0.0 else 0
    alarm = 1 if upper > threshold else -1 if lower > threshold else 0
    if alarm and upper > threshold and lower > threshold:  # cannot happen for k >= 0; stay defined
        alarm = 1 if upper >= lower else -1
    return CusumState(upper, lower, upper_run, lower_run), alarm


def detection_bound_samples(
    shift: float,
    *,
    drift: float = CUSUM_DRIFT,
    threshold: float = CUSUM_THRESHOLD,
    clip: float = CUSUM_CLIP,
    q: float = 3.09,
) -> int:
    """Samples within which a shift of ``shift`` spreads raises the alarm with probability
    ``Phi(q)`` (99.9 % for the default ``q``): ``m(delta)`` of the module docstring.

    ``shift`` is taken as its absolute value and must exceed ``drift``. The clip caps the mean of
    a clipped residual: a residual centred at ``delta`` adds at least ``min(delta, clip - 0.4)``
    (``1 / sqrt(2 pi)`` below the clip when centred on it), with a variance below 1. Divide by the
    sample rate (Hz) for seconds.
    """
    gain = min(abs(float(shift)), clip - 0.4) - drift
    if gain <= 0.0 or threshold <= 0.0 or q < 0.0:
        raise ValueError(f"need |shift| > drift, threshold > 0, q >= 0; got {shift}, {drift}, {threshold}, {q}")
    root = (q + math.sqrt(q * q + 4.0 * gain * threshold)) / (2.0 * gain)
    return int(math.ceil(root * root))



class BlockMinima:
    """The step test's blocks: the smallest residual of each ``block_ns`` of sensor time, scored
    against the median of the newest ``reference_blocks`` blocks' smallest (module docstring).

    Blocks are aligned on the sensor's absolute time (``sensor_ns // block_ns``), so re-referencing
    the model does not split one. No score until ``min_reference`` blocks are known.
    """

    def __init__(self, block_ns: int = BLOCK_NS, reference_blocks: int = 64, min_reference: int = 16) -> None:
        if block_ns <= 0 or not 1 <= min_reference <= reference_blocks:
            raise ValueError(f"need block_ns > 0 and 1 <= min_reference <= reference_blocks, got "
                             f"{block_ns}, {min_reference}, {reference_blocks}")
        self.block_ns = int(block_ns)
        self._min_reference = int(min_reference)
        self._minima: Deque[float] = deque(maxlen=int(reference_blocks))
        self._block: Optional[int] = None
        self._lowest = math.inf

    def clear(self) -> None:
        """Forget every block (after a step the residuals are about another line)."""
        self._minima.clear()
        self._block, self._lowest = None, math.inf

    def add(self, sensor_ns: int, residual: float, sigma: float) -> Optional[float]:
        """File one residual (ns) at sensor time ``sensor_ns``. When it opens a new block, return
        the block it closes as a score, ``(its minimum - reference) / sigma``; otherwise, or while
        fewer than ``min_reference`` blocks are known, None (the sample is not weighed alone)."""
        block = int(sensor_ns) // self.block_ns
        if self._block is None or block <= self._block:  # a late one joins the open block
            self._block = block
            self._lowest = min(self._lowest, float(residual))
            return None
        closed, self._block, self._lowest = self._lowest, block, float(residual)
        score = None
        if len(self._minima) >= self._min_reference:
            score = (closed - median(self._minima)) / float(sigma)
        self._minima.append(closed)
        return score


def split_at_shift(residuals) -> int:
    """Where a run of residuals (ns, oldest first) that ends on a new offset leaves the old one (at 0).

    The new offset is the median of the run's newer half; the split is the index, in the older
    half, that minimises the absolute deviations of the residuals before it from 0 plus those from
    it on from the new offset. The block test's alarm only says in which blocks the step lies;
    this says at which sample, so the new segment starts with samples after the step only.
    """
    r = np.asarray(residuals, dtype=np.float64).ravel()
    n = r.size
    if n < 2:
        return 0
    shift = float(np.median(r[n // 2:]))
    before = np.concatenate(([0.0], np.cumsum(np.abs(r))))  # before[j]: cost of r[:j] about 0
    after = np.concatenate((np.cumsum(np.abs(r - shift)[::-1])[::-1], [0.0]))  # after[j]: r[j:] about shift
    cost = before[: n // 2 + 1] + after[: n // 2 + 1]
    return int(np.argmin(cost))
