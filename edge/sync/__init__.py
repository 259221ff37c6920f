"""The synchronizer: every sensor on the master clock, each camera frame fused by its deadline.

:class:`Synchronizer` takes camera frames, LiDAR sweeps, telemetry and timecode from any thread,
maps every stamp to the master clock through a clock model per sensor (:mod:`edge.sync.timing`),
keeps bounded per-sensor buffers (:mod:`edge.sync.buffers`) and, for each frame in order, calls
:func:`edge.fusion.fuse_frame` once the frame's data are in or its deadline has passed, flagging
late and missing sensors on the frame. Each frame's timecode is computed from the timecode clock
at once and verified when its LTC frame is decoded (:mod:`edge.sync.labels`). Settings:
:class:`SyncConfig`.
"""

from __future__ import annotations

from edge.sync.buffers import Admit, PointBuffer, PointChunk, SeriesBuffer
from config.sync import SensorClockConfig, SyncConfig
from edge.sync.feeds import SensorStatus, SyncSnapshot
from edge.sync.synchronizer import Synchronizer
from edge.sync.labels import LabelCheck, LabelOutcome, LabelVerifier, TimecodeClock
from edge.sync.rows import TELEMETRY_ROW
from edge.sync.timing import FrameTiming, SensorTiming

__all__ = [
    "Admit",
    "FrameTiming",
    "PointBuffer",
    "PointChunk",
    "SensorClockConfig",
    "SensorStatus",
    "SensorTiming",
    "SeriesBuffer",
    "SyncConfig",
    "SyncSnapshot",
    "Synchronizer",
    "TELEMETRY_ROW",
    "TimecodeClock",
    "LabelCheck",
    "LabelOutcome",
    "LabelVerifier",
]
