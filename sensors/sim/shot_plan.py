"""The shot plan: keyframes of rig and lens, interpolated smoothly through time.

Each channel (dolly position, crane lift, pan, tilt, roll, focal length, focus distance,
T-stop) is a piecewise cubic Hermite curve through its keys with monotone (Fritsch-Carlson,
as in PCHIP) tangents:

* it passes exactly through every key at the key's time;
* it is C1 (position and velocity continuous) everywhere inside the plan;
* it never overshoots between two keys, so a dolly stays on its track and a crane inside
  its limits; evenly spaced keys on a straight line give exactly constant speed.

A plan that does not loop starts and ends at rest (zero tangent at the first and last key)
and holds its first key before it and its last key after it. A looping plan replays the span
from the first to the last key forever; a channel whose last key equals its first is
periodic and C1 across the wrap, one that does not jumps back (a plan that should loop
smoothly ends where it starts). Angles are interpolated as plain numbers: 350 -> 370 pans
20 degrees, 350 -> 10 pans 340 degrees the other way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from config.models import ShotKeyframe

__all__ = ["CHANNELS", "ShotPlan", "plan_from_keyframes"]

#: Channel order of :meth:`ShotPlan.sample` columns (units in the names).
CHANNELS = (
    "dolly_m",
    "crane_lift_deg",
    "pan_deg",
    "tilt_deg",
    "roll_deg",
    "focal_length_mm",
    "focus_distance_m",
    "t_stop",
)


def _pchip_tangent(d_prev: np.ndarray, d_next: np.ndarray, h_prev: float, h_next: float) -> np.ndarray:
    """Fritsch-Carlson tangent at a key between slopes ``d_prev`` and ``d_next`` (per channel)."""
    w1 = 2.0 * h_next + h_prev
    w2 = h_next + 2.0 * h_prev
    same_sign = d_prev * d_next > 0.0
    safe_prev = np.where(same_sign, d_prev, 1.0)
    safe_next = np.where(same_sign, d_next, 1.0)
    harmonic = (w1 + w2) / (w1 / safe_prev + w2 / safe_next)
    return np.where(same_sign, harmonic, 0.0)


@dataclass(frozen=True)
class ShotPlan:
    """A compiled shot plan. ``times_s`` (K,), ``values`` and ``tangents`` (K, C) per channel
    of :data:`CHANNELS` (tangents in channel units per second); ``coeffs`` (K-1, C, 4) the same
    curves as cubics in the segment's normalised time ``s`` in [0, 1]:
    ``((c[0] s + c[1]) s + c[2]) s + c[3]``."""

    times_s: np.ndarray
    values: np.ndarray
    tangents: np.ndarray
    coeffs: np.ndarray
    loop: bool

    @property
    def duration_s(self) -> float:
        """Time from the first to the last key (the loop period when looping)."""
        return float(self.times_s[-1] - self.times_s[0])

    def _local_time(self, t_s: np.ndarray) -> np.ndarray:
        t0, t1 = float(self.times_s[0]), float(self.times_s[-1])
        if t_s.size and t0 <= t_s.min() and t_s.max() < t1:
            return t_s  # inside the plan: nothing to wrap or hold
        if self.loop and t1 > t0:
            return np.where(t_s >= t0, t0 + np.mod(t_s - t0, t1 - t0), t0)
        return np.clip(t_s, t0, t1)

    def _evaluate(self, t_s, channels: Optional[Sequence[int]], derivative: bool) -> List[np.ndarray]:
        """One array per requested channel, each of ``t_s``'s shape."""
        cols = range(len(CHANNELS)) if channels is None else [int(c) for c in channels]
        t = self._local_time(np.asarray(t_s, dtype=float))
        if self.times_s.size == 1:
            return [np.full(t.shape, 0.0 if derivative else self.values[0, j]) for j in cols]
        k = np.clip(np.searchsorted(self.times_s, t, side="right") - 1, 0, self.times_s.size - 2)
        if k.size and k.min() == k.max():
            # One segment for the whole batch (the usual case: a LiDAR packet, a frame): scalar
            # coefficients, no gathers.
            k0 = int(k.flat[0])
            h = float(self.times_s[k0 + 1] - self.times_s[k0])
            s = (t - self.times_s[k0]) * (1.0 / h)
            coeffs = [self.coeffs[k0, j] for j in cols]
        else:
            h = self.times_s[k + 1] - self.times_s[k]
            s = (t - self.times_s[k]) / h
            coeffs = [self.coeffs[k, j].T for j in cols]  # each (4, ...)
        if derivative:
            return [((3.0 * c[0] * s + 2.0 * c[1]) * s + c[2]) / h for c in coeffs]
        return [((c[0] * s + c[1]) * s + c[2]) * s + c[3] for c in coeffs]

    def sample_channels(self, t_s, channels: Sequence[int]) -> List[np.ndarray]:
        """Like :meth:`sample`, as one array per channel (cheaper for large batches)."""
        return self._evaluate(t_s, channels, derivative=False)

    def sample(self, t_s, channels: Optional[Sequence[int]] = None) -> np.ndarray:
        """Channel values at plan time(s) ``t_s`` (seconds since the plan's start): shape
        ``t_s.shape + (C,)``; ``channels`` picks columns (indices into :data:`CHANNELS`)."""
        return np.stack(self._evaluate(t_s, channels, derivative=False), axis=-1)

    def rate(self, t_s, channels: Optional[Sequence[int]] = None) -> np.ndarray:
        """Time derivative of the channels (units per second) at plan time(s) ``t_s``.

        Zero where the plan holds (before its start, after its end when not looping)."""
        t_in = np.asarray(t_s, dtype=float)
        out = np.stack(self._evaluate(t_in, channels, derivative=True), axis=-1)
        t0, t1 = float(self.times_s[0]), float(self.times_s[-1])
        holding = (t_in < t0) if self.loop else ((t_in < t0) | (t_in > t1))
        return np.where(holding[..., None], 0.0, out)


def plan_from_keyframes(keys: Sequence[ShotKeyframe], loop: bool) -> ShotPlan:
    """Compile keyframes (already validated: at least one, strictly increasing times)."""
    times = np.array([k.t_s for k in keys], dtype=float)
    values = np.array([[float(getattr(k, name)) for name in CHANNELS] for k in keys], dtype=float)
    n = times.size
    tangents = np.zeros_like(values)
    if n >= 2:
        h = np.diff(times)
        slopes = np.diff(values, axis=0) / h[:, None]
        for i in range(1, n - 1):
            tangents[i] = _pchip_tangent(slopes[i - 1], slopes[i], h[i - 1], h[i])
        if loop:
            closed = np.isclose(values[0], values[-1], rtol=0.0, atol=1e-9)
            wrap = _pchip_tangent(slopes[-1], slopes[0], h[-1], h[0])
            tangents[0] = np.where(closed, wrap, 0.0)
            tangents[-1] = tangents[0]
    coeffs = np.zeros((max(n - 1, 0), len(CHANNELS), 4))
    if n >= 2:
        # Hermite basis in s with tangents scaled by the segment length, expanded to a cubic.
        h = np.diff(times)[:, None]
        y0, y1 = values[:-1], values[1:]
        m0, m1 = tangents[:-1] * h, tangents[1:] * h
        coeffs[..., 0] = 2.0 * y0 - 2.0 * y1 + m0 + m1
        coeffs[..., 1] = -3.0 * y0 + 3.0 * y1 - 2.0 * m0 - m1
        coeffs[..., 2] = m0
        coeffs[..., 3] = y0
    return ShotPlan(times_s=times, values=values, tangents=tangents, coeffs=coeffs, loop=bool(loop))
