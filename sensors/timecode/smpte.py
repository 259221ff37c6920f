"""Exact SMPTE ST 12-1 timecode arithmetic at every project rate, in integers only.

A *frame count* is the number of frames since the label 00:00:00:00 (midnight). A label's digits
are not a duration: at 23.976 fps a "second" of labels is 24 frames lasting 1.001 s, and at the
drop-frame rates labels are skipped to keep the clock close to wall time:

- 29.97 DF skips frame numbers 0 and 1 at the start of every minute except minutes 0, 10, 20, ...
  (17982 frames per ten minutes, 2 589 408 per day);
- 59.94 DF skips frame numbers 0..3 the same way (35964 per ten minutes).

Real elapsed time is ``frames / fps`` with fps the exact rational rate (30000/1001 ...), which
:func:`timecode_to_seconds` returns as a :class:`fractions.Fraction`.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Union

from sensors.timecode.errors import (
    DropFrameSeparatorError,
    DroppedLabelError,
    TimecodeRangeError,
    TimecodeSyntaxError,
)
from sensors.vocabulary import NS_PER_S, FrameRate, Timecode

__all__ = [
    "frames_per_day",
    "dropped_per_minute",
    "timecode_to_frames",
    "frames_to_timecode",
    "parse_timecode",
    "add_frames",
    "timecode_to_seconds",
    "seconds_to_frames",
    "frames_to_ns",
    "timecode_to_ns",
]

_SECONDS_PER_DAY = 86400
_LABEL = re.compile(r"^\s*(\d{1,2}):(\d{2}):(\d{2})([:;.])(\d{2})\s*$")


def dropped_per_minute(rate: FrameRate) -> int:
    """Frame numbers skipped at the start of each non-tenth minute: 2 at 29.97 DF, 4 at 59.94 DF, else 0."""
    # ST 12-1 drops 2 labels per 30 nominal frames per second: 2 at 30, 4 at 60.
    return rate.nominal_fps // 15 if rate.drop_frame else 0


def frames_per_day(rate: FrameRate) -> int:
    """Number of labels from 00:00:00:00 to 23:59:59:(last): the modulus of frame counts."""
    per_ten_minutes = rate.nominal_fps * 600 - 9 * dropped_per_minute(rate)
    return per_ten_minutes * 6 * 24


def timecode_to_frames(tc: Timecode) -> int:
    """Frame count since 00:00:00:00 of the label ``tc`` (0 <= result < frames_per_day)."""
    nominal = tc.rate.nominal_fps
    count = ((tc.hours * 60 + tc.minutes) * 60 + tc.seconds) * nominal + tc.frames
    drop = dropped_per_minute(tc.rate)
    if drop:
        total_minutes = tc.hours * 60 + tc.minutes
        count -= drop * (total_minutes - total_minutes // 10)
    return count


def frames_to_timecode(frames: int, rate: FrameRate) -> Timecode:
    """Label of frame count ``frames``; wraps at midnight (modulo frames_per_day), negatives too."""
    count = _as_int(frames, "frames") % frames_per_day(rate)
    nominal = rate.nominal_fps
    drop = dropped_per_minute(rate)
    if drop:
        # Put the skipped labels back in: 9 drops per full ten minutes, plus one per started
        # minute after the first (undropped) minute of the current ten.
        per_minute = nominal * 60 - drop
        per_ten = nominal * 600 - 9 * drop
        tens, rest = divmod(count, per_ten)
        count += 9 * drop * tens
        if rest >= drop:
            count += drop * ((rest - drop) // per_minute)
    frame = count % nominal
    total_seconds = count // nominal
    return Timecode(
        hours=total_seconds // 3600,
        minutes=(total_seconds // 60) % 60,
        seconds=total_seconds % 60,
        frames=frame,
        rate=rate,
    )


def add_frames(tc: Timecode, n: int) -> Timecode:
    """The label ``n`` frames after ``tc`` (before it when ``n`` < 0), wrapping at midnight."""
    return frames_to_timecode(timecode_to_frames(tc) + _as_int(n, "n"), tc.rate)


def parse_timecode(text: str, rate: Union[FrameRate, str]) -> Timecode:
    """Parse ``HH:MM:SS:FF`` (``;`` or ``.`` also accepted before the frames) at ``rate``.

    ``;`` is the drop-frame mark: on a non-drop-frame rate it is an error, as is a drop-frame
    label that does not exist (00:01:00;00 at 29.97 DF). ``:`` is accepted at every rate.
    """
    fr = rate if isinstance(rate, FrameRate) else FrameRate.parse(rate)
    if not isinstance(text, str):
        raise TimecodeSyntaxError(repr(text), fr, f"expected a string, got {type(text).__name__}")
    match = _LABEL.match(text)
    if match is None:
        raise TimecodeSyntaxError(text, fr, "expected HH:MM:SS:FF (':' ';' or '.' before the frames)")
    hours, minutes, seconds, sep, frames = match.groups()
    h, m, s, f = int(hours), int(minutes), int(seconds), int(frames)
    if sep == ";" and not fr.drop_frame:
        raise DropFrameSeparatorError(
            text, fr, f"';' marks drop-frame timecode but {fr.label} fps does not drop frames; use ':'"
        )
    for name, value, limit in (("hours", h, 24), ("minutes", m, 60), ("seconds", s, 60), ("frames", f, fr.nominal_fps)):
        if value >= limit:
            raise TimecodeRangeError(text, fr, f"{name} {value} out of range 0..{limit - 1}")
    drop = dropped_per_minute(fr)
    if drop and s == 0 and m % 10 != 0 and f < drop:
        raise DroppedLabelError(
            text, fr, f"frames 00..{drop - 1:02d} are dropped at the start of minute {m} (not a multiple of ten)"
        )
    return Timecode(h, m, s, f, fr)


def timecode_to_seconds(tc: Timecode) -> Fraction:
    """Exact real seconds from the midnight label to the start of ``tc``'s frame (frames / fps)."""
    return Fraction(timecode_to_frames(tc)) / tc.rate.fps


def seconds_to_frames(seconds: Union[Fraction, float, int], rate: FrameRate) -> int:
    """Frame count of the frame running at ``seconds`` after midnight: floor(seconds * fps), unwrapped.

    Floats are taken at their exact binary value, so 0.1 s is the double nearest 0.1.
    """
    value = Fraction(seconds)
    return (value * rate.fps).__floor__()


def frames_to_ns(frames: int, rate: FrameRate) -> int:
    """Start of frame count ``frames`` in nanoseconds, rounded to the nearest integer.

    At every project rate ``1e9 * den / num`` is a multiple of 1/3 ns, so there are no ties.
    """
    num, den, _ = rate.value
    numerator = _as_int(frames, "frames") * NS_PER_S * den
    return (2 * numerator + num) // (2 * num)


def timecode_to_ns(tc: Timecode) -> int:
    """Start of ``tc``'s frame in nanoseconds since the midnight label (nearest integer)."""
    return frames_to_ns(timecode_to_frames(tc), tc.rate)


def _as_int(value: int, name: str) -> int:
    """An integer (Python or numpy) as ``int``; anything else (floats included) is a TypeError."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an integer frame count, got {value!r}")
    return int(value.__index__())
