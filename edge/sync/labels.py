"""Timecode labels for camera frames: computed at once from the timecode clock model, verified
when the LTC frame that covers them has been decoded (docs/architecture.md, Time).

The timecode clock. Every decoded LTC frame is a sample ``(c, s)``: ``c`` its label as a count of
project-rate frames since the midnight label, unwrapped across midnight (``+ frames_per_day`` at
each rollover, so the count never runs backwards), and ``s`` the master time of its first edge.
A clock model (:class:`edge.clock.ClockModel`) maps ``c * P`` to master time, ``P`` the exact
frame period of the project rate (1001/24000 s at 23.976). Counting frames, not ``HH:MM:SS:FF``
digits, is what keeps drop-frame exact: 29.97 DF drops labels, never frames.

Where in the exposure a label lies. A frame exposed over ``[t_mid - e/2, t_mid + e/2]``, with the
exposure ``e = shutter_angle / 360 * P`` (``camera.shutter_angle_deg``), is labelled with the
timecode frame whose start lies nearest its *exposure start*. A genlocked camera opens its
shutter on the timecode frame edge, so the label is the frame in progress while it is exposed and
the decision has half a frame of margin either way (20.8 ms at 24 fps): stamp jitter or an audio
latency of a few milliseconds cannot tip it.

High rates (48, 50, 59.94, 60): LTC runs at half rate and each LTC frame labels a pair of video
frames. The timecode driver reports each LTC frame at the project rate (the pair's first frame,
``2 x`` the LTC frame number), so counts advance by two per sample and the same mapping labels
both frames of the pair; verification expects ``decoded + round((start - s) / P)``.

Verification. A frame's predicted label waits (:class:`LabelVerifier`) until the LTC frame whose
span ``[s - P/2, s + m P - P/2)`` holds its exposure start has been decoded (``m`` video frames per
LTC frame: 1, or 2 at high rates), then is :data:`LabelOutcome.VERIFIED`, or
:data:`LabelOutcome.CORRECTED` (with the decoded label) when they differ: a re-jam, a gap in
record-run timecode, a timecode clock that had not converged. A frame no LTC frame covered
within ``timeout_ns`` is :data:`LabelOutcome.UNVERIFIED`. A decoded label that the model did not
predict is a *jump*: counted, and the clock re-learns from it at once (its history belongs to
the timecode before the jump). The clock is *locked* (its labels count as in sync) once
:data:`LOCK_SAMPLES` LTC frames in a row came as it predicted.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import Deque, List, NamedTuple, Optional

from config.sync import SensorClockConfig
from edge.sync.timing import SensorTiming
from sensors.timecode.smpte import frames_per_day, frames_to_timecode, timecode_to_frames
from sensors.vocabulary import NS_PER_S, FrameRate, Timecode

__all__ = [
    "JUMP_TOLERANCE_FRAMES",
    "LOCK_SAMPLES",
    "LabelCheck",
    "LabelOutcome",
    "LabelVerifier",
    "TimecodeClock",
    "exposure_start_ns",
    "frame_period_ns",
    "video_frames_per_ltc_frame",
]


def frame_period_ns(rate: FrameRate) -> Fraction:
    """The exact frame period of ``rate`` in ns (a Fraction: 1001/24000 s is not a whole ns)."""
    return Fraction(NS_PER_S) / rate.fps


def video_frames_per_ltc_frame(rate: FrameRate) -> int:
    """How many project-rate frames one LTC frame labels: 2 above 30 fps (SMPTE ST 12-1), else 1."""
    return 2 if rate.nominal_fps > 30 else 1


def exposure_start_ns(t_mid_ns: int, rate: FrameRate, shutter_angle_deg: float) -> int:
    """Master time the shutter opened for a frame whose exposure mid-time is ``t_mid_ns``."""
    half_exposure = frame_period_ns(rate) * Fraction(shutter_angle_deg).limit_denominator(10_000) / 720
    return int(t_mid_ns) - round(half_exposure)


#: The timecode clock is *locked* (frames labelled from it count as in sync) once this many LTC
#: frames in a row came with the label it predicted for their instant. What a label needs is the
#: right frame with half a frame of margin, not a sub-millisecond fit: host stamps that shift by
#: a millisecond (an arrival envelope settling, a loaded host) leave labels right and the lock on.
LOCK_SAMPLES = 12

#: How far (in frames) a decoded label may sit from the clock's prediction and still be taken
#: as host-stamp jitter rather than a jump, when the decoder did not flag it.
JUMP_TOLERANCE_FRAMES = 3


class TimecodeClock:
    """Project-rate frame counts to master time and back (see the module docstring)."""

    def __init__(self, name: str, config: SensorClockConfig, rate: FrameRate) -> None:
        self.name = name
        self.rate = rate
        self._config = config
        self.period_ns = frame_period_ns(rate)
        self._day = frames_per_day(rate)
        self.timing = SensorTiming(name, config)
        self._last_count: Optional[int] = None
        self._agreeing = 0  # LTC frames in a row whose label the clock predicted
        self.samples = 0
        self.jumps = 0

    # -- counts ------------------------------------------------------------------------------

    def count_ns(self, count: int) -> int:
        """``count * P`` in ns, rounded to the nearest ns (the clock model's sensor time)."""
        return round(count * self.period_ns)

    def unwrap(self, label: Timecode) -> int:
        """The running frame count of ``label``: its frames since midnight, plus whole days so that
        a rollover (23:59:59:xx -> 00:00:00:00) keeps counting up."""
        frames = timecode_to_frames(label)
        if self._last_count is None:
            return frames
        days, last_frames = divmod(self._last_count, self._day)
        if frames < last_frames - self._day // 2:
            days += 1  # past midnight
        elif frames > last_frames + self._day // 2 and days > 0:
            days -= 1  # back across midnight (a re-jam to the evening before)
        return days * self._day + frames

    def label(self, count: int) -> Timecode:
        """The ``HH:MM:SS:FF`` label of a running count."""
        return frames_to_timecode(int(count) % self._day, self.rate)

    # -- learning ----------------------------------------------------------------------------

    def observe(self, label: Timecode, master_ns: int, jumped: bool = False) -> Optional[int]:
        """Learn one decoded LTC frame (its label and the master time of its start).

        A *jump* is a label that does not follow the one before: ``jumped`` (the decoder saw it
        on its own sample counter), or a count that does not advance with master time as the
        clock says it should (by more than :data:`JUMP_TOLERANCE_FRAMES` frames: host stamps
        jitter, a label that skips does not). Then the clock starts again from this label and
        the jump in frames is returned; otherwise None.
        """
        count = self.unwrap(label)
        jump = None
        if self._last_count is not None:
            predicted = self.count_at(master_ns)
            off = None if predicted is None else count - predicted
            if jumped or (off is not None and abs(off) > JUMP_TOLERANCE_FRAMES):
                jump = off if off is not None else count - self._last_count
                self.jumps += 1
                self.timing = SensorTiming(self.name, self._config)
            self._agreeing = self._agreeing + 1 if off == 0 and jump is None else 0
        self._last_count = count
        self.samples += 1
        self.timing.observe(self.count_ns(count), int(master_ns))
        return jump

    @property
    def ready(self) -> bool:
        return self.timing.model.mapping is not None

    @property
    def converged(self) -> bool:
        """Locked: the newest :data:`LOCK_SAMPLES` LTC frames all came as predicted."""
        return self.ready and self._agreeing >= LOCK_SAMPLES

    def count_at(self, master_ns: int) -> Optional[int]:
        """The count of the timecode frame whose start lies nearest master time ``master_ns``,
        or None before the first sample."""
        model = self.timing.model
        last = model.snapshot().last_sensor_ns
        if model.mapping is None or last is None:
            return None
        # The mapping is the identity plus a slowly drifting offset: two fixed-point steps invert it.
        guess = int(master_ns) - (int(model.to_master_ns(int(last))) - int(last))
        guess -= int(model.to_master_ns(guess)) - int(master_ns)
        return round(guess / self.period_ns)

    def master_ns_of(self, count: int) -> Optional[int]:
        """Master time at which the timecode frame ``count`` starts (None before the first sample)."""
        if not self.ready:
            return None
        return int(self.timing.model.to_master_ns(self.count_ns(count)))


class LabelOutcome(str, enum.Enum):
    """What verification found for a frame's label."""

    VERIFIED = "verified"  # the decoded LTC frame says the same
    CORRECTED = "corrected"  # it says otherwise: the decoded label is the true one
    UNVERIFIED = "unverified"  # no LTC frame covered the frame within the timeout


@dataclass(frozen=True)
class LabelCheck:
    """The verdict on one frame's label: ``label`` is what should be recorded (the decoded label
    when there is one, else the prediction); ``predicted`` what the frame went out with."""

    frame_index: int
    t_ns: int
    predicted: Optional[Timecode]
    label: Optional[Timecode]
    outcome: LabelOutcome


class _Waiting(NamedTuple):
    frame_index: int
    t_ns: int
    start_ns: int
    predicted: Optional[int]  # running count, None when the frame went out without a label
    since_ns: int


class LabelVerifier:
    """Frames whose label awaits its LTC frame (see the module docstring). Not thread-safe."""

    def __init__(self, clock: TimecodeClock, timeout_ns: int, capacity: int = 512) -> None:
        self.clock = clock
        self.timeout_ns = int(timeout_ns)
        self._span_frames = video_frames_per_ltc_frame(clock.rate)
        self._waiting: Deque[_Waiting] = deque(maxlen=capacity)
        self._recent: Deque[tuple] = deque(maxlen=8)  # (count, master_ns) of the newest LTC frames
        self.counts = {outcome: 0 for outcome in LabelOutcome}

    def __len__(self) -> int:
        return len(self._waiting)

    def expect(self, frame_index: int, t_ns: int, start_ns: int, predicted: Optional[int], now_ns: int) -> List[LabelCheck]:
        """A frame went out with running count ``predicted`` for its exposure start ``start_ns``;
        the verdict comes at once when its LTC frame was decoded before the frame arrived."""
        item = _Waiting(int(frame_index), int(t_ns), int(start_ns), predicted, int(now_ns))
        for count, master_ns in self._recent:
            decoded = self._covering(count, master_ns, item.start_ns)
            if decoded is not None:
                return [self._verdict(item, decoded)]
        self._waiting.append(item)
        return []

    def _covering(self, count: int, master_ns: int, start_ns: int) -> Optional[int]:
        """The running count an LTC frame ``(count, master_ns)`` gives a frame exposed from
        ``start_ns``, or None when that frame lies outside its span."""
        period = self.clock.period_ns
        offset = start_ns - master_ns
        if -period / 2 <= offset < self._span_frames * period - period / 2:
            return count + round(offset / period)
        return None

    def decoded(self, count: int, master_ns: int) -> List[LabelCheck]:
        """An LTC frame with running count ``count`` started at ``master_ns``: the verdicts on the
        frames it covers, and on older frames that no LTC frame will cover any more."""
        self._recent.append((int(count), int(master_ns)))
        lo = master_ns - self.clock.period_ns / 2
        out: List[LabelCheck] = []
        kept: Deque[_Waiting] = deque(maxlen=self._waiting.maxlen)
        for item in self._waiting:
            decoded = self._covering(count, master_ns, item.start_ns)
            if decoded is not None:
                out.append(self._verdict(item, decoded))
            elif item.start_ns < lo:
                out.append(self._verdict(item, None))  # its LTC frame never came
            else:
                kept.append(item)
        self._waiting = kept
        return out

    def expire(self, now_ns: int) -> List[LabelCheck]:
        """Verdicts on frames that have waited longer than the timeout for their LTC frame."""
        out: List[LabelCheck] = []
        while self._waiting and now_ns - self._waiting[0].since_ns > self.timeout_ns:
            out.append(self._verdict(self._waiting.popleft(), None))
        return out

    def _verdict(self, item: _Waiting, decoded: Optional[int]) -> LabelCheck:
        predicted = None if item.predicted is None else self.clock.label(item.predicted)
        if decoded is None:
            outcome, label = LabelOutcome.UNVERIFIED, predicted
        elif decoded == item.predicted:
            outcome, label = LabelOutcome.VERIFIED, predicted
        else:
            outcome, label = LabelOutcome.CORRECTED, self.clock.label(decoded)
        self.counts[outcome] += 1
        return LabelCheck(item.frame_index, item.t_ns, predicted, label, outcome)
