"""Per-sensor state inside the synchronizer, and the diagnostics it reports.

A :class:`Feed` is one sensor as the synchronizer keeps it: its timing (clock model), its buffer
on the master clock and its arrival times (for the rate); :class:`SyncFeeds` is every feed of a
rig, built by :func:`build_feeds`. :class:`SyncSnapshot` and :class:`SensorStatus` are immutable
views for health reporting.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, Iterable, Optional

import numpy as np

from config.sync import SyncConfig
from edge.clock import ClockSnapshot
from edge.sync.buffers import PointBuffer, SeriesBuffer
from edge.sync.labels import TimecodeClock
from edge.sync.rows import TELEMETRY_ROW
from edge.sync.timing import FrameTiming, SensorTiming
from sensors.vocabulary import NS_PER_S

__all__ = [
    "RATE_SPAN_NS",
    "Feed",
    "LidarMount",
    "SensorStatus",
    "SyncFeeds",
    "SyncSnapshot",
    "build_feeds",
    "rate_hz",
]

#: Rates are measured over the newest two seconds.
RATE_SPAN_NS = 2 * NS_PER_S


def rate_hz(times_ns: Iterable[int], span_ns: int = RATE_SPAN_NS) -> float:
    """Events per second over the newest ``span_ns`` of (increasing) event times."""
    times = list(times_ns)
    if len(times) < 2:
        return 0.0
    recent = [t for t in times if t > times[-1] - span_ns]
    elapsed = recent[-1] - recent[0]
    return (len(recent) - 1) * NS_PER_S / elapsed if elapsed > 0 else 0.0


@dataclass(frozen=True)
class SensorStatus:
    """One sensor as the synchronizer sees it: ``kind`` (camera, lidar, telemetry, timecode),
    arrival ``rate_hz`` (by host time, over the newest 2 s), ``samples`` taken, ``newest_ns``
    master time buffered, ``buffered`` samples (points for a LiDAR, waiting frames for the camera),
    ``synced`` (its clock model has converged) and ``clock`` (its model; None before any stamp)."""

    name: str
    kind: str
    rate_hz: float
    samples: int
    newest_ns: Optional[int]
    buffered: int
    synced: bool
    clock: Optional[ClockSnapshot]


@dataclass(frozen=True)
class SyncSnapshot:
    """Counters and state for diagnostics. ``fused_fps`` by poll time over the newest 2 s;
    ``late``/``missing``/``unsynced``: frames that flagged each sensor so; ``dropped``:
    ``"sensor:reason" -> count`` of samples and frames refused."""

    fused: int
    fused_complete: int
    fused_fps: float
    pending: int
    late: Dict[str, int]
    missing: Dict[str, int]
    unsynced: Dict[str, int]
    dropped: Dict[str, int]
    sensors: Dict[str, SensorStatus] = field(default_factory=dict)
    labels: Dict[str, int] = field(default_factory=dict)
    timecode_jumps: int = 0


class LidarMount:
    """A LiDAR's extrinsics and the sensor-time signatures of its latest sweeps (to spot replays)."""

    def __init__(self, T_rig_lidar: np.ndarray) -> None:
        self.T_rig_lidar = np.asarray(T_rig_lidar, dtype=np.float64)
        self.recent: Deque[tuple] = deque(maxlen=256)


class Feed:
    """One sensor: ``timing``, ``buffer`` (None for the camera and timecode), ``extra`` (a
    :class:`LidarMount` for a LiDAR) and its arrival times."""

    def __init__(self, name: str, kind: str, timing: SensorTiming, buffer: Any = None, extra: Any = None) -> None:
        self.name, self.kind, self.timing, self.buffer, self.extra = name, kind, timing, buffer, extra
        self.arrivals: Deque[int] = deque(maxlen=4096)
        self.samples = 0

    def arrived(self, host_ns: int) -> None:
        self.samples += 1
        self.arrivals.append(int(host_ns))

    def status(self, buffered: int, newest_ns: Optional[int]) -> SensorStatus:
        model = self.timing.model
        clock = model.snapshot() if model.observed else None
        return SensorStatus(self.name, self.kind, rate_hz(self.arrivals), self.samples, newest_ns, buffered,
                            self.timing.converged, clock)


@dataclass
class SyncFeeds:
    """Every sensor of a rig as the synchronizer keeps it: the camera (whose frames are the
    heartbeat), the LiDARs and telemetry by name, the timecode clock and which telemetry sensor
    gives the rig pose."""

    camera: Feed
    lidars: Dict[str, Feed]
    telemetry: Dict[str, Feed]
    timecode: TimecodeClock
    timecode_feed: Feed
    pose_sensor: Optional[str]

    def clocked(self, sensor: str) -> Optional[Feed]:
        """The feed of a sensor that has a clock model of its own (camera, LiDAR, telemetry)."""
        if sensor == self.camera.name:
            return self.camera
        return self.lidars.get(sensor) or self.telemetry.get(sensor)

    def names(self) -> list:
        return [self.camera.name, *self.lidars, *self.telemetry]


def build_feeds(rig: Any, config: SyncConfig) -> SyncFeeds:
    """The feeds of ``rig`` (a :class:`config.models.RigConfig`) with ``config``'s clocks and buffers."""
    camera = rig.camera.name
    fps = rig.camera.frame_rate.fps
    feeds = SyncFeeds(
        camera=Feed(camera, "camera", FrameTiming(camera, config.clock(camera), fps, config.dejitter_frames)),
        lidars={
            c.name: Feed(c.name, "lidar", SensorTiming(c.name, config.clock(c.name)),
                         PointBuffer(config.buffer_ns, config.max_points), LidarMount(c.mount.matrix()))
            for c in rig.lidars
        },
        telemetry={
            c.name: Feed(c.name, "telemetry", SensorTiming(c.name, config.clock(c.name)),
                         SeriesBuffer(horizon_ns=config.buffer_ns, dtype=TELEMETRY_ROW))
            for c in rig.telemetry
        },
        timecode=TimecodeClock("timecode", config.clock("timecode"), rig.timecode.frame_rate),
        timecode_feed=Feed("timecode", "timecode", SensorTiming("timecode", config.clock("timecode"))),
        pose_sensor=None,
    )
    if config.pose_sensor is not None and config.pose_sensor not in feeds.telemetry:
        raise ValueError(
            f"pose_sensor {config.pose_sensor!r} is not a telemetry sensor of the rig {list(feeds.telemetry)}"
        )
    feeds.pose_sensor = config.pose_sensor or next(iter(feeds.telemetry), None)
    return feeds
