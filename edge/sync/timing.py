"""Each sensor's stamps onto the master clock: one :class:`edge.clock.ClockModel` per sensor.

:class:`SensorTiming` feeds a sensor's (sensor stamp, host receive stamp) pairs to its clock model
and maps sensor times (one, or a whole sweep's per-point times) to master time. A sensor without
a clock of its own (``sensor_ns`` None) is placed at its host receive time minus its latency.

:class:`FrameTiming` does the same for a camera, and first puts each frame's stamp on the camera's
own frame schedule: frame ``k`` is exposed ``k / fps`` after frame 0 *on the camera's clock*, so a
second clock model fits the stamps against that schedule and the frame's de-jittered stamp is the
fitted line at ``k / fps``. Both models see the same stamps, so the stamps' jitter that biases the
one cancels in the other; what is left is the host-delay noise of the mapping. A frame whose
stamp disagrees with the schedule by more than a quarter frame (a restarted pipeline, a skipped
index) is taken at its raw stamp until the schedule model has re-learnt the step. Whether the camera
is synced is judged by a third model of the schedule straight against host time: its fit error is,
to first order, the de-jittered mapping's (the stamps' jitter no longer counts), whereas the stamp
model's own error estimate still carries the jitter the composition cancels.

A sensor whose clock is locked to the master (PTP: ST 2110 cameras, PTP-capable LiDARs;
``sync.clocks.<name>.locked``) is placed by its own stamps: they are master time, so it needs
neither a clock model nor a latency. Timecode has a clock of its own: :mod:`edge.sync.labels`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Optional

from edge.clock import ClockModel, ClockSnapshot
from config.sync import SensorClockConfig
from sensors.vocabulary import NS_PER_S

__all__ = ["SensorTiming", "FrameTiming"]


class SensorTiming:
    """One sensor's clock model and latency (see the module docstring)."""

    def __init__(self, name: str, config: SensorClockConfig) -> None:
        self.name = name
        self.latency_ns = int(config.latency_ns)
        self.model = ClockModel(
            name,
            window_s=config.window_s,
            delay_model=config.delay_model,
            latency_ns=self.latency_ns,
            converged_error_ns=config.converged_error_ns,
        )
        self.host_stamped = False  # set once a sample came without a sensor clock
        self.locked = bool(getattr(config, "locked", False))

    def observe(self, sensor_ns: Optional[int], host_ns: int) -> None:
        """Feed one stamp pair (nothing to learn when the sensor has no clock)."""
        if sensor_ns is None:
            self.host_stamped = True
            return
        self.model.observe(int(sensor_ns), int(host_ns))

    def to_master_ns(self, sensor_ns):
        """Master time(s) of sensor time(s): an int, or an int64 array (unchanged when locked)."""
        if self.locked:
            return sensor_ns
        return self.model.to_master_ns(sensor_ns)

    def shift_master(self, step_ns: int) -> None:
        """The master clock stepped by ``step_ns``: re-base the model (locked stamps step with it)."""
        if not self.locked:
            self.model.shift_master(int(step_ns))

    @property
    def ready(self) -> bool:
        """True when sensor times can be mapped (locked, or the model has a fit)."""
        return self.locked or self.model.mapping is not None

    def host_to_master_ns(self, host_ns: int) -> int:
        """Master time of a sample the sensor did not stamp: its arrival less the latency."""
        return int(host_ns) - self.latency_ns

    @property
    def converged(self) -> bool:
        """True when the clock model's error is within its bound (always, for host-stamped and
        locked sensors)."""
        return self.locked or self.model.converged or (self.host_stamped and self.model.observed == 0)

    @property
    def residual_jitter_ns(self) -> float:
        jitter = self.model.residual_jitter_ns
        return 0.0 if jitter is None else float(jitter)

    def snapshot(self) -> ClockSnapshot:
        return self.model.snapshot()


class FrameTiming(SensorTiming):
    """A camera's timing: stamps de-jittered onto its frame schedule, then mapped (module docstring)."""

    def __init__(self, name: str, config: SensorClockConfig, fps: Fraction, dejitter: bool = True) -> None:
        super().__init__(name, config)
        self.fps = Fraction(fps)
        self.dejitter = bool(dejitter)
        self.schedule = ClockModel(f"{name}:schedule", window_s=config.window_s)
        self.direct = ClockModel(
            f"{name}:frames", window_s=config.window_s, latency_ns=self.latency_ns,
            converged_error_ns=config.converged_error_ns,
        )
        self.off_schedule = 0  # frames taken at their raw stamp because they left the schedule

    @property
    def converged(self) -> bool:
        if self.locked:
            return True
        if self.dejitter and self.direct.observed:
            return self.direct.converged
        return super().converged

    def shift_master(self, step_ns: int) -> None:
        super().shift_master(step_ns)
        if not self.locked:
            self.direct.shift_master(int(step_ns))  # the schedule model maps camera time only

    def schedule_ns(self, frame_index: int) -> int:
        """``frame_index / fps`` in ns (nearest integer), the frame's place on the camera's clock."""
        num, den = self.fps.numerator, self.fps.denominator
        return (2 * int(frame_index) * NS_PER_S * den + num) // (2 * num)

    def frame_master_ns(self, frame_index: int, sensor_ns: Optional[int], host_ns: int) -> int:
        """Observe one frame's stamps and return its exposure mid-time on the master clock."""
        if sensor_ns is None:
            self.observe(None, host_ns)
            return self.host_to_master_ns(host_ns)
        stamp = int(sensor_ns)
        self.model.observe(stamp, int(host_ns))
        if not self.dejitter:
            return int(self.to_master_ns(stamp))
        place = self.schedule_ns(frame_index)
        self.schedule.observe(place, stamp)
        self.direct.observe(place, int(host_ns))
        smooth = int(self.schedule.to_master_ns(place))
        quarter_frame_ns = NS_PER_S * self.fps.denominator // (4 * self.fps.numerator)
        if self.schedule.observed < 4 or abs(smooth - stamp) > quarter_frame_ns:
            if self.schedule.observed >= 4:
                self.off_schedule += 1
            smooth = stamp
        return int(self.to_master_ns(smooth))
