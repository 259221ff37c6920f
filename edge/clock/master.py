"""Steps of the master clock itself: the host's wall clock against its monotonic clock.

Host receive stamps are wall-clock time (``time.time_ns``), the master clock. When NTP or PTP
steps that clock, every sensor's offset jumps by the same amount at once, and each clock model
would take it for a step of its own sensor. ``time.monotonic_ns`` does not step, so
``wall - monotonic`` is constant but for a slew (NTP may slew up to 500 ppm) and for steps.
:class:`MasterClockWatch` reads both clocks on every :meth:`~MasterClockWatch.check` and reports
a change of that difference beyond what slewing and the reading itself explain, so a node can
re-base all its models at once (:meth:`edge.clock.ClockModel.shift_master`).

Reading the pair is bracketed, monotonic - wall - monotonic: a preemption between the reads
widens the bracket, and the bracket's width is added to the tolerance rather than being mistaken
for a step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

__all__ = ["MasterClockStep", "MasterClockWatch"]


@dataclass(frozen=True)
class MasterClockStep:
    """A step of the master (wall) clock seen between two checks.

    ``step_ns``: the new wall reading minus the one expected from the monotonic clock (positive:
    the clock jumped forward); hand it to :meth:`edge.clock.ClockModel.shift_master`. The step
    happened between the monotonic times ``after_monotonic_ns`` (the previous check) and
    ``seen_monotonic_ns`` (this one); ``seen_wall_ns`` is the wall time read at this check.
    """

    step_ns: int
    after_monotonic_ns: int
    seen_monotonic_ns: int
    seen_wall_ns: int


class MasterClockWatch:
    """Reports steps of the host wall clock (module docstring); clocks are injectable for tests.

    ``tolerance_ns``: smallest change reported as a step. ``max_slew_ppm``: the rate at which the
    clock may be slewed, allowed for between checks (500 ppm: the Linux kernel's limit).
    """

    def __init__(
        self,
        *,
        tolerance_ns: int = 20_000,
        max_slew_ppm: float = 500.0,
        wall_ns: Callable[[], int] = time.time_ns,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        if tolerance_ns < 0 or max_slew_ppm < 0:
            raise ValueError(f"need tolerance_ns >= 0 and max_slew_ppm >= 0, got {tolerance_ns}, {max_slew_ppm}")
        self.tolerance_ns = int(tolerance_ns)
        self.max_slew = float(max_slew_ppm) * 1e-6
        self._wall = wall_ns
        self._mono = monotonic_ns
        self.steps = 0  # steps reported
        self._offset, self._at, self._width = self._read()

    def _read(self) -> Tuple[int, int, int]:
        """(wall minus monotonic, monotonic mid-time, bracket width), all int ns."""
        before = int(self._mono())
        wall = int(self._wall())
        after = int(self._mono())
        mid = (before + after) // 2
        return wall - mid, mid, max(after - before, 0)

    @property
    def offset_ns(self) -> int:
        """Wall minus monotonic time at the last check, ns."""
        return self._offset

    def check(self) -> Optional[MasterClockStep]:
        """Read both clocks; the step since the previous check, or None when there was none."""
        offset, at, width = self._read()
        step = offset - self._offset
        allowed = self.tolerance_ns + self.max_slew * max(at - self._at, 0) + width + self._width
        previous_at = self._at
        self._offset, self._at, self._width = offset, at, width
        if abs(step) <= allowed:
            return None
        self.steps += 1
        return MasterClockStep(step, previous_at, at, offset + at)
