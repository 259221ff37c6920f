"""The synchronizer: every sensor on the master clock, each camera frame fused by its deadline.

:class:`Synchronizer` takes camera frames, LiDAR sweeps, telemetry and timecode from any thread,
maps every stamp to the master clock through a clock model per sensor (:mod:`edge.sync.timing`),
keeps bounded per-sensor buffers (:mod:`edge.sync.buffers`) and, for each frame in order, calls
:func:`edge.fusion.fuse_frame` once the frame's data are in or its deadline has passed, flagging
late and missing sensors on the frame. Settings: :class:`SyncConfig`.
"""

from __future__ import annotations

from edge.sync.buffers import Admit, PointBuffer, PointChunk, SeriesBuffer
from config.sync import SensorClockConfig, SyncConfig
from edge.sync.feeds import SensorStatus, SyncSnapshot
from edge.sync.synchronizer import Synchronizer
from edge.sync.timing import FrameTiming, SensorTiming, TimecodeTiming

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
    "TimecodeTiming",
]
