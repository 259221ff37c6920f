"""Settings of the synchronizer: how long a frame may wait, which LiDAR window it takes, buffers,
and each sensor's clock model (validated once, like every other config section).

Meant to hang off the rig profile as ``RigConfig.sync`` (a ``sync:`` section in the YAML); until
then :class:`~edge.sync.synchronizer.Synchronizer` takes one directly.
"""

from __future__ import annotations

from typing import Dict, Literal, Optional, Tuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["SensorClockConfig", "SyncConfig"]

_MS = 1_000_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SensorClockConfig(_Model):
    """One sensor's clock model (see :class:`edge.clock.ClockModel`)."""

    latency_ns: int = Field(
        0, ge=0, description="transport delay from the stamped instant to the host receive stamp: the mean "
        "delay for delay_model 'mean', the minimum for 'lower_envelope' (a camera's pipeline latency goes here)",
    )
    delay_model: Literal["mean", "lower_envelope"] = "mean"
    window_s: float = Field(
        30.0, gt=0.0, le=3600.0, description="seconds of sensor time whose stamp pairs the fit keeps (the newest)",
    )
    converged_error_ns: int = Field(125_000, gt=0, description="fit error below which the sensor counts as synced")
    locked: bool = Field(
        False, description="the sensor's clock is locked to the master clock (PTP): its stamps are master time, "
        "no clock model needed",
    )


class SyncConfig(_Model):
    """How the synchronizer waits for and fuses each camera frame (times on the master clock)."""

    deadline_ns: Optional[int] = Field(
        None, gt=0, description="a frame is fused at the latest this long after it reached the host; "
        "None: half a frame period of the camera's rate (the latency budget allows no more)",
    )
    lidar_window_ns: Tuple[int, int] = Field(
        (100 * _MS, 0), description="LiDAR points from (before, after) the exposure mid-time. A spinning "
        "LiDAR sees the camera's view once a revolution: (100 ms, 0) at 10 Hz takes the newest revolution "
        "and fuses as soon as the frame's instant is covered; every ms of 'after' waits that much longer "
        "for fresher depth on moving actors (see benchmarks: python -m benchmarks window)",
    )
    buffer_ns: int = Field(2_000 * _MS, gt=0, description="how much history each sensor's buffer keeps")
    hold_ns: int = Field(
        250 * _MS, ge=0, description="a pose this much older (or newer) than the frame is still held (LATE); "
        "beyond it the sensor is MISSING",
    )
    future_tolerance_ns: int = Field(
        1_000 * _MS, ge=0, description="samples whose master time lies this far past their own arrival are dropped",
    )
    max_pending_frames: int = Field(64, ge=1, description="frames waiting at once; beyond it the oldest is dropped")
    max_points: int = Field(4_000_000, ge=1, description="points buffered per LiDAR")
    pose_sensor: Optional[str] = Field(None, description="telemetry sensor giving the rig pose (None: the first)")
    default_focal_length_mm: float = Field(35.0, gt=1.0, description="for K while no lens state was ever seen")
    knot_spacing_ns: int = Field(1 * _MS, ge=0, description="deskew knot spacing (0: exact pose per point)")
    deskew: bool = True
    dejitter_frames: bool = Field(
        True, description="put camera stamps on the camera's own frame schedule (frame index / fps) before "
        "mapping them: removes the stamps' jitter",
    )
    clocks: Dict[str, SensorClockConfig] = Field(default_factory=dict, description="per sensor name")

    @model_validator(mode="after")
    def _consistent(self) -> "SyncConfig":
        before, after = self.lidar_window_ns
        if before < 0 or after < 0:
            raise ValueError(f"lidar_window_ns must not be negative, got {self.lidar_window_ns}")
        waits = (self.deadline_ns or 0) + after + before
        if waits >= self.buffer_ns:
            raise ValueError(
                f"buffer_ns {self.buffer_ns} must exceed deadline_ns + the LiDAR window ({waits} ns), or a waiting "
                "frame's samples would be pruned before it is fused"
            )
        return self

    def clock(self, sensor: str) -> SensorClockConfig:
        """The clock settings of ``sensor`` (defaults when it has none)."""
        return self.clocks.get(sensor, SensorClockConfig())
