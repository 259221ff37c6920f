"""The synchronizer: every sensor on the master clock, each camera frame fused once its data are
in or its deadline has passed, never later (DESIGN.md, Data flow and Time).

Feeding, from any thread (each call takes a short lock and returns; nothing waits on fusion):
:meth:`Synchronizer.add_frame`, :meth:`~Synchronizer.add_cloud`, :meth:`~Synchronizer.add_telemetry`,
:meth:`~Synchronizer.add_timecode`, and :meth:`~Synchronizer.observe_clock` for extra stamp pairs
(e.g. one per LiDAR packet, where a node has them). Every stamp goes through its sensor's clock
model (:mod:`edge.sync.timing`); samples land in bounded per-sensor buffers (:mod:`edge.sync.buffers`).

Fusing: :meth:`~Synchronizer.poll` fuses, in frame order, every waiting frame that is *ready*
(each LiDAR has delivered points past the end of the frame's window; each telemetry sensor has a
sample at or past that time, or past the frame time when there is no LiDAR) or whose deadline
(``host arrival + deadline_ns``) is at or before ``now_ns``; each goes to ``on_fused`` on the
polling thread. Tests call ``poll(now_ns)`` with a pinned clock. :meth:`~Synchronizer.start` runs
a worker thread that polls on every arrival and at the head frame's deadline; :meth:`close` stops it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Callable, Deque, Dict, List, NamedTuple, Optional

import numpy as np

from config.models import RigConfig
from edge.fusion import LidarPoints, PoseTrack, fuse_frame, interpolate_values
from edge.sync.buffers import Admit, PointBuffer, SeriesBuffer
from config.sync import SyncConfig
from edge.sync.feeds import RATE_SPAN_NS, Feed, LidarMount, SensorStatus, SyncSnapshot, rate_hz
from edge.sync.timing import FrameTiming, SensorTiming, TimecodeTiming
from sensors.vocabulary import (
    NS_PER_MS,
    NS_PER_S,
    FusedFrame,
    ImageFrame,
    LensState,
    PointCloud,
    SensorSync,
    SyncStatus,
    TelemetrySample,
    TimecodeSample,
    matrix_to_quat,
    rotation_from_pan_tilt_roll,
)

__all__ = ["Synchronizer"]

log = logging.getLogger(__name__)

_IDLE_WAIT_S = 0.5
# Telemetry rows: position (3), orientation xyzw (4), then focal length mm, focus m, T-stop (NaN: none).
_POS, _QUAT, _LENS, _FOCAL = slice(0, 3), slice(3, 7), slice(7, 10), 7


class _Pending(NamedTuple):
    image: ImageFrame
    t_ns: int
    deadline_ns: int


class Synchronizer:
    """Puts ``rig``'s sensors on one clock and fuses every camera frame (see the module docstring).

    ``deadline_ns`` (default: the config's, else one frame period) bounds how long after its
    arrival a frame waits; ``lidar_window_ns`` is a half-width or ``(before, after)`` around the
    exposure mid-time (default: the config's, +/- 50 ms); ``clock_ns`` is the master clock.
    """

    def __init__(
        self,
        rig: RigConfig,
        on_fused: Callable[[FusedFrame], None],
        deadline_ns: Optional[int] = None,
        lidar_window_ns=None,
        clock_ns: Callable[[], int] = time.time_ns,
        *,
        config: Optional[SyncConfig] = None,
    ) -> None:
        cfg = config or SyncConfig()
        if lidar_window_ns is not None:
            window = lidar_window_ns if isinstance(lidar_window_ns, (tuple, list)) else (lidar_window_ns,) * 2
            cfg = SyncConfig.model_validate({**cfg.model_dump(), "lidar_window_ns": tuple(int(v) for v in window)})
        fps = rig.camera.frame_rate.fps
        period_ns = -(-NS_PER_S * fps.denominator // fps.numerator)
        self.deadline_ns = int(deadline_ns if deadline_ns is not None else cfg.deadline_ns or period_ns)
        if self.deadline_ns <= 0 or self.deadline_ns + sum(cfg.lidar_window_ns) >= cfg.buffer_ns:
            raise ValueError(
                f"deadline_ns must be positive and, with the LiDAR window, shorter than buffer_ns {cfg.buffer_ns}; "
                f"got {self.deadline_ns}"
            )
        self.rig, self.config, self.on_fused, self.clock_ns = rig, cfg, on_fused, clock_ns
        self.window_ns = (int(cfg.lidar_window_ns[0]), int(cfg.lidar_window_ns[1]))
        camera = rig.camera.name
        self._camera = Feed(camera, "camera", FrameTiming(camera, cfg.clock(camera), fps, cfg.dejitter_frames))
        self._lidars: Dict[str, Feed] = {
            c.name: Feed(c.name, "lidar", SensorTiming(c.name, cfg.clock(c.name)),
                         PointBuffer(cfg.buffer_ns, cfg.max_points), LidarMount(c.mount.matrix()))
            for c in rig.lidars
        }
        self._telemetry: Dict[str, Feed] = {
            c.name: Feed(c.name, "telemetry", SensorTiming(c.name, cfg.clock(c.name)), SeriesBuffer(10, cfg.buffer_ns))
            for c in rig.telemetry
        }
        if cfg.pose_sensor is not None and cfg.pose_sensor not in self._telemetry:
            raise ValueError(
                f"pose_sensor {cfg.pose_sensor!r} is not a telemetry sensor of the rig {list(self._telemetry)}"
            )
        self._pose_sensor = cfg.pose_sensor or next(iter(self._telemetry), None)
        self._timecode = Feed("timecode", "timecode",
                              TimecodeTiming("timecode", cfg.clock("timecode"), rig.timecode.frame_rate))
        self._lock = threading.Lock()
        self._poll_lock = threading.Lock()
        self._pending: Deque[_Pending] = deque()
        self._last_frame: Optional[tuple] = None  # (frame_index, t_ns) of the newest frame accepted
        self._last_focal_mm: Optional[float] = None
        self._emitted: Deque[int] = deque(maxlen=256)
        sensors = [camera, *self._lidars, *self._telemetry]
        self.fused = self.fused_complete = 0
        self.late = dict.fromkeys(sensors, 0)
        self.missing = dict.fromkeys(sensors, 0)
        self.unsynced = dict.fromkeys(sensors, 0)
        self.dropped: Dict[str, int] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    # -- feeding -------------------------------------------------------------------------------

    def _drop(self, sensor: str, reason: str, count: int = 1) -> bool:
        key = f"{sensor}:{reason}"
        self.dropped[key] = self.dropped.get(key, 0) + int(count)
        return False

    def _too_new(self, t_ns: int, host_ns: int) -> bool:
        return t_ns > host_ns + self.config.future_tolerance_ns

    def add_frame(self, frame: ImageFrame) -> bool:
        """Take a camera frame (its exposure mid-time stamps); False if it was refused (counted)."""
        name, stamp = self._camera.name, frame.exposure_mid
        with self._lock:
            self._camera.arrived(stamp.host_ns)
            rgb = frame.rgb
            if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
                return self._drop(name, "malformed")
            if self._last_frame is not None and frame.frame_index == self._last_frame[0]:
                return self._drop(name, "duplicate")  # before its stamps reach the clock models
            t = self._camera.timing.frame_master_ns(frame.frame_index, stamp.sensor_ns, stamp.host_ns)
            if self._too_new(t, stamp.host_ns):
                return self._drop(name, "future")
            if self._last_frame is not None and t <= self._last_frame[1]:
                return self._drop(name, "backwards")
            self._last_frame = (frame.frame_index, t)
            self._pending.append(_Pending(frame, t, int(stamp.host_ns) + self.deadline_ns))
            if len(self._pending) > self.config.max_pending_frames:
                self._pending.popleft()
                self._drop(name, "pending_overflow")
        self._wake.set()
        return True

    def add_cloud(self, sensor: str, cloud: PointCloud) -> bool:
        """Take one LiDAR sweep (per-point times on the LiDAR's clock); False if refused (counted)."""
        feed = self._lidars.get(sensor)
        if feed is None:
            with self._lock:
                return self._drop(sensor, "unknown_sensor")
        xyz, t = np.asarray(cloud.xyz_m), np.asarray(cloud.t_ns)
        if xyz.ndim != 2 or xyz.shape[1:] != (3,) or t.shape != (xyz.shape[0],) or t.dtype.kind not in "iu":
            with self._lock:
                return self._drop(sensor, "malformed")
        finite = np.isfinite(xyz).all(axis=1)
        host = int(cloud.stamp.host_ns)
        with self._lock:
            feed.arrived(host)
            if t.size == 0:
                return self._drop(sensor, "empty")
            if not finite.all():
                self._drop(sensor, "nonfinite_points", int(t.size - np.count_nonzero(finite)))
                xyz, t = xyz[finite], t[finite]
                if t.size == 0:
                    return False
            t = t.astype(np.int64, copy=False)
            signature = (int(t.min()), int(t.max()), int(t.size))
            if signature in feed.extra.recent:
                return self._drop(sensor, "duplicate")  # the same sweep again, by the sensor's own times
            feed.extra.recent.append(signature)
            if cloud.stamp.sensor_ns is None:
                master = t - feed.timing.latency_ns  # host-stamped points
            else:
                feed.timing.observe(int(t.max()), host)  # the last point and the packet that carried it
                master = feed.timing.to_master_ns(t)
            if self._too_new(int(master.max()), host):
                return self._drop(sensor, "future")
            admit = feed.buffer.add(xyz, master)
            if admit is Admit.STALE:
                return self._drop(sensor, admit.value)
            if admit is Admit.OVERFLOW:
                self._drop(sensor, "overflow")
        self._wake.set()
        return True

    def add_telemetry(self, sensor: str, sample: TelemetrySample) -> bool:
        """Take one telemetry sample (rig pose and lens); False if refused (counted)."""
        feed = self._telemetry.get(sensor)
        if feed is None:
            with self._lock:
                return self._drop(sensor, "unknown_sensor")
        try:
            position = np.asarray(sample.position_m, dtype=np.float64).reshape(3)
            angles = np.array([sample.pan_deg, sample.tilt_deg, sample.roll_deg], dtype=np.float64)
            lens = sample.lens
            lens_row = [np.nan, np.nan, np.nan] if lens is None else [
                lens.focal_length_mm, lens.focus_distance_m, np.nan if lens.t_stop is None else lens.t_stop]
            ok = bool(np.isfinite(position).all() and np.isfinite(angles).all())
        except (TypeError, ValueError):
            ok = False
        stamp = sample.stamp
        with self._lock:
            feed.arrived(stamp.host_ns)
            if not ok:
                return self._drop(sensor, "malformed")
            feed.timing.observe(stamp.sensor_ns, stamp.host_ns)
            if stamp.sensor_ns is None:
                t = feed.timing.host_to_master_ns(stamp.host_ns)
            else:
                t = int(feed.timing.to_master_ns(int(stamp.sensor_ns)))
            if self._too_new(t, stamp.host_ns):
                return self._drop(sensor, "future")
            quat = matrix_to_quat(rotation_from_pan_tilt_roll(*angles))
            admit = feed.buffer.add(t, np.concatenate([position, quat, lens_row]))
            if admit in (Admit.DUPLICATE, Admit.BACKWARDS, Admit.STALE):
                return self._drop(sensor, admit.value)
            if sensor == self._pose_sensor and lens is not None and np.isfinite(lens.focal_length_mm):
                self._last_focal_mm = float(lens.focal_length_mm)
        self._wake.set()
        return True

    def add_timecode(self, sample: TimecodeSample) -> bool:
        """Take one timecode reading; it labels frames that arrive without a timecode of their own."""
        with self._lock:
            self._timecode.arrived(sample.stamp.host_ns)
            if sample.stamp.sensor_ns is None or sample.timecode.rate != self._timecode.timing.rate:
                return self._drop("timecode", "malformed")
            self._timecode.timing.observe(sample.stamp.sensor_ns, sample.stamp.host_ns)
        return True

    def to_master_ns(self, sensor: str, sensor_ns):
        """Master time(s) of ``sensor``'s own stamp(s) (int or int64 array) through its clock model,
        for publishing samples as they arrive; None while the model has no fit yet."""
        feed = self._lidars.get(sensor) or self._telemetry.get(sensor)
        if feed is None and sensor == self._camera.name:
            feed = self._camera
        if feed is None:
            raise KeyError(f"no sensor named {sensor!r} in the synchronizer")
        with self._lock:
            if feed.timing.model.mapping is None:
                return None
            return feed.timing.to_master_ns(sensor_ns)

    def observe_clock(self, sensor: str, sensor_ns: int, host_ns: int) -> None:
        """An extra (sensor stamp, host receive stamp) pair for ``sensor``'s clock model."""
        feed = self._lidars.get(sensor) or self._telemetry.get(sensor)
        if feed is None and sensor == self._camera.name:
            feed = self._camera
        with self._lock:
            if feed is None:
                self._drop(sensor, "unknown_sensor")
            else:
                feed.timing.observe(int(sensor_ns), int(host_ns))

    # -- fusing --------------------------------------------------------------------------------

    def _ready(self, t_ns: int) -> bool:
        end = t_ns + self.window_ns[1]
        for feed in self._lidars.values():
            if feed.buffer.newest_ns is None or feed.buffer.newest_ns < end:
                return False
        need = end if self._lidars else t_ns
        return all(f.buffer.newest_ns is not None and f.buffer.newest_ns >= need for f in self._telemetry.values())

    def _sync_entry(self, feed: Feed, status: SyncStatus, gap_ns: float) -> SensorSync:
        if status is SyncStatus.OK and not feed.timing.converged:
            status = SyncStatus.UNSYNCED
        return SensorSync(feed.name, status, float(gap_ns) / NS_PER_MS, feed.timing.residual_jitter_ns / NS_PER_MS)

    def _gather(self, frame: _Pending) -> dict:
        """Everything the fusion of ``frame`` needs, copied out of the buffers (under the lock)."""
        t = frame.t_ns
        start, end = t - self.window_ns[0], t + self.window_ns[1]
        sync = [self._sync_entry(self._camera, SyncStatus.OK, 0.0)]
        points = []
        for feed in self._lidars.values():
            xyz, times = feed.buffer.window(start, end)
            if times.size == 0:
                sync.append(self._sync_entry(feed, SyncStatus.MISSING, np.nan))
                continue
            covered = feed.buffer.newest_ns is not None and feed.buffer.newest_ns >= end
            sync.append(self._sync_entry(feed, SyncStatus.OK if covered else SyncStatus.LATE, t - int(times.max())))
            points.append(LidarPoints(xyz, times, feed.extra.T_rig_lidar))
        poses, lens = None, None
        for feed in self._telemetry.values():
            times, rows = feed.buffer.window(start, end)
            hold = self.config.hold_ns
            if times.size == 0 or times[-1] < t - hold or times[0] > t + hold:
                sync.append(self._sync_entry(feed, SyncStatus.MISSING, np.nan))
                continue
            after = times[times >= t]
            bracketed = after.size > 0 and times[0] <= t
            used = int(after[0]) if after.size else int(times[-1])
            sync.append(self._sync_entry(feed, SyncStatus.OK if bracketed else SyncStatus.LATE, t - used))
            if feed.name == self._pose_sensor:
                poses = PoseTrack.from_samples(times, rows[:, _POS], rows[:, _QUAT])
                has_lens = np.isfinite(rows[:, _FOCAL])
                if has_lens.any():
                    focal, focus, t_stop = interpolate_values(np.array([t]), times[has_lens], rows[has_lens, _LENS])[0]
                    lens = LensState(float(focal), float(focus), None if np.isnan(t_stop) else float(t_stop))
        timecode = frame.image.timecode
        if timecode is None:
            timecode = self._timecode.timing.timecode_at(t)
        focal_mm = self._last_focal_mm if self._last_focal_mm is not None else self.config.default_focal_length_mm
        return dict(image=frame.image, t_frame_ns=t, timecode=timecode, points=points, poses=poses, lens=lens,
                    sync=tuple(sync), default_focal_length_mm=focal_mm)

    def _count(self, fused: FusedFrame) -> None:
        self.fused += 1
        self.fused_complete += int(fused.complete)
        for entry in fused.sync:
            counter = {SyncStatus.LATE: self.late, SyncStatus.MISSING: self.missing,
                       SyncStatus.UNSYNCED: self.unsynced}.get(entry.status)
            if counter is not None:
                counter[entry.sensor] = counter.get(entry.sensor, 0) + 1

    def poll(self, now_ns: Optional[int] = None) -> List[FusedFrame]:
        """Fuse, in order, every waiting frame that is ready or due at ``now_ns`` (default: the
        clock); each goes to ``on_fused`` and the list of them is returned."""
        out: List[FusedFrame] = []
        with self._poll_lock:
            now = int(self.clock_ns() if now_ns is None else now_ns)
            while True:
                with self._lock:
                    if not self._pending:
                        break
                    head = self._pending[0]
                    if now < head.deadline_ns and not self._ready(head.t_ns):
                        break
                    self._pending.popleft()
                    inputs = self._gather(head)
                try:
                    fused = fuse_frame(camera=self.rig.camera, window_ns=self.window_ns, deskew=self.config.deskew,
                                       knot_spacing_ns=self.config.knot_spacing_ns, **inputs)
                except Exception:  # noqa: BLE001 - one bad frame must not stop the stream
                    log.exception("fusing frame %d failed", head.image.frame_index)
                    with self._lock:
                        self._drop(self._camera.name, "fuse_error")
                    continue
                with self._lock:
                    self._count(fused)
                    self._emitted.append(now)
                try:
                    self.on_fused(fused)
                except Exception:  # noqa: BLE001 - a consumer's error is its own; the stream goes on
                    log.exception("on_fused raised for frame %d", fused.frame_index)
                    with self._lock:
                        self._drop("on_fused", "callback_error")
                out.append(fused)
        return out

    def next_deadline_ns(self) -> Optional[int]:
        """The head frame's deadline (master ns), or None when no frame waits."""
        with self._lock:
            return self._pending[0].deadline_ns if self._pending else None

    # -- worker --------------------------------------------------------------------------------

    def start(self) -> "Synchronizer":
        """Poll on a worker thread: at every arrival and at the head frame's deadline."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="onset-sync", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - keep the stream alive; poll already guards each frame
                log.exception("synchronizer poll failed")
            deadline = self.next_deadline_ns()
            wait_s = _IDLE_WAIT_S
            if deadline is not None:
                wait_s = min(max(deadline - self.clock_ns(), 0) / NS_PER_S, _IDLE_WAIT_S)
            if wait_s > 0:
                self._wake.wait(wait_s)
            self._wake.clear()

    def close(self) -> None:
        """Stop the worker (frames still waiting stay unfused); safe to call twice."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def __enter__(self) -> "Synchronizer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- diagnostics ---------------------------------------------------------------------------

    def points(self, sensor: str, start_ns: int, end_ns: int) -> LidarPoints:
        """Copies of a LiDAR's buffered points with master times in ``[start_ns, end_ns]``."""
        feed = self._lidars[sensor]
        with self._lock:
            xyz, t = feed.buffer.window(start_ns, end_ns)
        return LidarPoints(xyz, t, feed.extra.T_rig_lidar)

    def poses(self, sensor: str, start_ns: int, end_ns: int) -> Optional[PoseTrack]:
        """A telemetry sensor's buffered poses in ``[start_ns, end_ns]`` (and one either side)."""
        feed = self._telemetry[sensor]
        with self._lock:
            times, rows = feed.buffer.window(start_ns, end_ns)
        return PoseTrack.from_samples(times, rows[:, _POS], rows[:, _QUAT]) if times.size else None

    def snapshot(self) -> SyncSnapshot:
        """Counters, rates, clock models and buffer fill, for health reporting."""
        with self._lock:
            camera = self._camera
            sensors: Dict[str, SensorStatus] = {
                camera.name: camera.status(len(self._pending), self._last_frame[1] if self._last_frame else None),
                "timecode": self._timecode.status(0, None),
            }
            for feed in [*self._lidars.values(), *self._telemetry.values()]:
                sensors[feed.name] = feed.status(len(feed.buffer), feed.buffer.newest_ns)
            return SyncSnapshot(
                fused=self.fused,
                fused_complete=self.fused_complete,
                fused_fps=rate_hz(self._emitted, RATE_SPAN_NS),
                pending=len(self._pending),
                late=dict(self.late),
                missing=dict(self.missing),
                unsynced=dict(self.unsynced),
                dropped=dict(self.dropped),
                sensors=sensors,
            )
