"""The synchronizer: every sensor on the master clock, each camera frame fused as soon as what it
needs has arrived or its deadline has passed, never later (docs/architecture.md, Data flow, Time).

It is assembled from parts with one job each:

* :mod:`edge.sync.admission` validates each sample, puts its stamps through its clock model and
  files it in its sensor's buffer (:mod:`edge.sync.feeds`, :mod:`edge.sync.buffers`);
* :mod:`edge.sync.gather` says when a waiting frame is ready and copies out what its fusion needs;
* :mod:`edge.sync.labels` labels each frame with its timecode from the timecode clock at once and
  verifies the label when its own LTC frame has been decoded;
* :mod:`edge.sync.counters` counts; :mod:`edge.sync.worker` is the polling thread.

Feeding, from any thread (each call takes a short lock and returns): :meth:`Synchronizer.add_frame`,
:meth:`~Synchronizer.add_cloud` (sweeps or slices), :meth:`~Synchronizer.add_telemetry`,
:meth:`~Synchronizer.add_timecode`, and :meth:`~Synchronizer.observe_clock` for extra stamp pairs.
With a ``master_watch`` (:class:`edge.clock.MasterClockWatch`), every call first checks whether
the host clock itself stepped; if it did, every model, buffer and waiting frame moves with it
(:meth:`~Synchronizer.shift_master`) before the new sample is placed.
Fusing: :meth:`~Synchronizer.poll` fuses, in frame order, every waiting frame that is ready or
whose deadline (``host arrival + deadline_ns``) is at or before ``now_ns``; each goes to
``on_fused``. Label verdicts go to ``on_label`` (:class:`~edge.sync.labels.LabelCheck`). Tests
call ``poll(now_ns)`` with a pinned clock; :meth:`~Synchronizer.start` runs the worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Callable, Deque, Dict, List, Optional

from config.models import RigConfig
from config.sync import SyncConfig
from edge.clock import MasterClockWatch
from edge.fusion import LidarPoints, PoseTrack, fuse_frame
from edge.sync.admission import PendingFrame, admit_cloud, admit_frame, admit_telemetry
from edge.sync.counters import SyncCounters
from edge.sync.feeds import RATE_SPAN_NS, SensorStatus, SyncSnapshot, build_feeds, rate_hz
from edge.sync.gather import frame_ready, gather_inputs, sensor_sync
from edge.sync.labels import LabelCheck, LabelVerifier, exposure_start_ns
from edge.sync.worker import PollWorker
from sensors.vocabulary import (
    NS_PER_S,
    FusedFrame,
    ImageFrame,
    PointCloud,
    SyncStatus,
    TelemetrySample,
    Timecode,
    TimecodeSample,
)

__all__ = ["Synchronizer"]

log = logging.getLogger(__name__)

#: A predicted label waits this many frame periods for its LTC frame before it is unverified.
_LABEL_TIMEOUT_FRAMES = 12
#: A frame exposed this many frame periods after the newest decoded LTC frame started is labelled
#: by the clock's free-run count and flagged LATE (two LTC frames at high rates, plus slack).
_LTC_STALE_FRAMES = 6


class Synchronizer:
    """Puts ``rig``'s sensors on one clock and fuses every camera frame (see the module docstring).

    ``deadline_ns`` (default: the config's, else half a frame period) bounds how long after its
    arrival a frame waits; ``lidar_window_ns`` is a half-width or ``(before, after)`` around the
    exposure mid-time (default: the config's); ``clock_ns`` is the master clock.
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
        on_label: Optional[Callable[[LabelCheck], None]] = None,
        master_watch: Optional[MasterClockWatch] = None,
    ) -> None:
        cfg = config or SyncConfig()
        if lidar_window_ns is not None:
            window = lidar_window_ns if isinstance(lidar_window_ns, (tuple, list)) else (lidar_window_ns,) * 2
            cfg = SyncConfig.model_validate({**cfg.model_dump(), "lidar_window_ns": tuple(int(v) for v in window)})
        fps = rig.camera.frame_rate.fps
        period_ns = -(-NS_PER_S * fps.denominator // fps.numerator)
        self.deadline_ns = int(deadline_ns if deadline_ns is not None else cfg.deadline_ns or period_ns // 2)
        if self.deadline_ns <= 0 or self.deadline_ns + sum(cfg.lidar_window_ns) >= cfg.buffer_ns:
            raise ValueError(
                f"deadline_ns must be positive and, with the LiDAR window, shorter than buffer_ns {cfg.buffer_ns}; "
                f"got {self.deadline_ns}"
            )
        self.rig, self.config, self.on_fused, self.clock_ns = rig, cfg, on_fused, clock_ns
        self.on_label = on_label
        self.window_ns = (int(cfg.lidar_window_ns[0]), int(cfg.lidar_window_ns[1]))
        self.feeds = build_feeds(rig, cfg)
        self._shutter_angle_deg = float(getattr(rig.camera, "shutter_angle_deg", 180.0))
        self._video_rate = rig.timecode.frame_rate
        self._period_ns = period_ns
        self.labels = LabelVerifier(self.feeds.timecode, _LABEL_TIMEOUT_FRAMES * period_ns)
        self.counters = SyncCounters(self.feeds.names())
        self._lock = threading.Lock()
        self._poll_lock = threading.Lock()
        self._pending: Deque[PendingFrame] = deque()
        self._last_frame: Optional[tuple] = None  # (frame_index, t_ns) of the newest frame admitted
        self._last_ltc_ns: Optional[int] = None  # master time of the newest decoded LTC frame's start
        self._worker = PollWorker(self.poll, self.next_deadline_ns, clock_ns)
        self._master_watch = master_watch
        self._watch_lock = threading.Lock()

    # -- counters kept for callers of the old single class ----------------------------------------

    @property
    def fused(self) -> int:
        return self.counters.fused

    @property
    def fused_complete(self) -> int:
        return self.counters.fused_complete

    @property
    def dropped(self) -> Dict[str, int]:
        return self.counters.dropped

    # -- feeding -------------------------------------------------------------------------------

    def _check_master(self) -> None:
        """Before a sample reaches a clock model: has the host clock itself stepped?"""
        watch = self._master_watch
        if watch is None:
            return
        with self._watch_lock:
            step = watch.check()
        if step is not None:
            log.warning("the host clock stepped by %+.3f ms: every clock model re-based", step.step_ns / 1e6)
            self.shift_master(step.step_ns)

    def add_frame(self, frame: ImageFrame) -> bool:
        """Take a camera frame (its exposure mid-time stamps); False if it was refused (counted)."""
        self._check_master()
        with self._lock:
            pending = admit_frame(self.feeds, self.config, self.counters, frame, self._last_frame, self.deadline_ns)
            if pending is None:
                return False
            self._last_frame = (frame.frame_index, pending.t_ns)
            self._pending.append(pending)
            if len(self._pending) > self.config.max_pending_frames:
                self._pending.popleft()
                self.counters.drop(self.feeds.camera.name, "pending_overflow")
        self._worker.wake()
        return True

    def add_cloud(self, sensor: str, cloud: PointCloud) -> bool:
        """Take LiDAR points, a sweep or a slice (per-point times on the LiDAR's clock)."""
        feed = self.feeds.lidars.get(sensor)
        self._check_master()
        with self._lock:
            ok = self.counters.drop(sensor, "unknown_sensor") if feed is None else admit_cloud(
                feed, self.config, self.counters, cloud)
        if ok:
            self._worker.wake()
        return ok

    def add_telemetry(self, sensor: str, sample: TelemetrySample) -> bool:
        """Take one telemetry sample (rig pose and lens); False if refused (counted)."""
        feed = self.feeds.telemetry.get(sensor)
        self._check_master()
        with self._lock:
            ok = self.counters.drop(sensor, "unknown_sensor") if feed is None else admit_telemetry(
                feed, self.config, self.counters, sample)
        if ok:
            self._worker.wake()
        return ok

    def add_timecode(self, sample: TimecodeSample) -> bool:
        """Take one decoded LTC frame (its label and its start on the host); it teaches the
        timecode clock and verifies the labels of the frames it covers."""
        clock = self.feeds.timecode
        self._check_master()
        with self._lock:
            self.feeds.timecode_feed.arrived(sample.stamp.host_ns)
            if sample.timecode.rate != clock.rate:
                return self.counters.drop("timecode", "wrong_rate")
            master_ns = int(sample.stamp.host_ns) - clock.timing.latency_ns
            jump = clock.observe(sample.timecode, master_ns, "jump" in getattr(sample, "flags", ()))
            if jump is not None:
                self.counters.drop("timecode", "jump")
                log.info("timecode jumped by %+d frames at %s", jump, sample.timecode)
            self.feeds.timecode_feed.timing = clock.timing
            self._last_ltc_ns = master_ns
            checks = self.labels.decoded(clock.unwrap(sample.timecode), master_ns)
        self._deliver(checks)
        return True

    def _deliver(self, checks: List[LabelCheck]) -> None:
        if self.on_label is None:
            return
        for check in checks:
            try:
                self.on_label(check)
            except Exception:  # noqa: BLE001 - a consumer's error is its own
                log.exception("on_label raised for frame %d", check.frame_index)

    def to_master_ns(self, sensor: str, sensor_ns):
        """Master time(s) of ``sensor``'s own stamp(s) (int or int64 array) through its clock model,
        for publishing samples as they arrive; None while the model has no fit yet."""
        feed = self.feeds.clocked(sensor)
        if feed is None:
            raise KeyError(f"no sensor named {sensor!r} in the synchronizer")
        with self._lock:
            if not feed.timing.ready:
                return None
            return feed.timing.to_master_ns(sensor_ns)

    def observe_clock(self, sensor: str, sensor_ns: int, host_ns: int) -> None:
        """An extra (sensor stamp, host receive stamp) pair for ``sensor``'s clock model."""
        feed = self.feeds.clocked(sensor)
        self._check_master()
        with self._lock:
            if feed is None:
                self.counters.drop(sensor, "unknown_sensor")
            else:
                feed.timing.observe(int(sensor_ns), int(host_ns))

    def shift_master(self, step_ns: int) -> None:
        """The master clock itself stepped by ``step_ns`` (an NTP/PTP correction of the host clock,
        :class:`edge.clock.MasterClockWatch`): every clock model, buffered sample and waiting frame
        moves with it at once, instead of each sensor's model taking it for a step of its own."""
        step = int(step_ns)
        with self._lock:
            feeds = self.feeds
            for feed in [feeds.camera, *feeds.lidars.values(), *feeds.telemetry.values()]:
                feed.timing.shift_master(step)
                if feed.buffer is not None:
                    feed.buffer.shift(step)
            feeds.timecode.timing.shift_master(step)
            self._pending = deque(p._replace(t_ns=p.t_ns + step, deadline_ns=p.deadline_ns + step)
                                  for p in self._pending)
            if self._last_frame is not None:
                self._last_frame = (self._last_frame[0], self._last_frame[1] + step)
            if self._last_ltc_ns is not None:
                self._last_ltc_ns += step
            self.counters.drop("master_clock", "step")

    # -- fusing --------------------------------------------------------------------------------

    def _label(self, head: PendingFrame, now_ns: int):
        """(timecode, its sync entry, verdicts) of a frame about to be fused (under the lock)."""
        clock = self.feeds.timecode
        own: Optional[Timecode] = head.image.timecode  # SDI RP188: the camera's own label
        start = exposure_start_ns(head.t_ns, self._video_rate, self._shutter_angle_deg)
        gap = float("nan") if self._last_ltc_ns is None else float(start - self._last_ltc_ns)
        jitter = clock.timing.residual_jitter_ns
        if own is not None:
            return own, sensor_sync("timecode", True, jitter, SyncStatus.OK, gap), []
        count = clock.count_at(start)
        checks = self.labels.expect(head.image.frame_index, head.t_ns, start, count, now_ns)
        if count is None:
            return None, sensor_sync("timecode", False, jitter, SyncStatus.MISSING, gap), checks
        # LTC gone quiet: the label is the clock's free-run count, flagged until LTC returns.
        status = SyncStatus.LATE if gap > _LTC_STALE_FRAMES * self._period_ns else SyncStatus.OK
        return clock.label(count), sensor_sync("timecode", clock.converged, jitter, status, gap), checks

    def poll(self, now_ns: Optional[int] = None) -> List[FusedFrame]:
        """Fuse, in order, every waiting frame that is ready or due at ``now_ns`` (default: the
        clock); each goes to ``on_fused`` and the list of them is returned."""
        out: List[FusedFrame] = []
        with self._poll_lock:
            now = int(self.clock_ns() if now_ns is None else now_ns)
            with self._lock:
                checks = self.labels.expire(now)
            self._deliver(checks)
            while True:
                with self._lock:
                    if not self._pending:
                        break
                    head = self._pending[0]
                    if now < head.deadline_ns and not frame_ready(self.feeds, head.t_ns, self.window_ns):
                        break
                    self._pending.popleft()
                    inputs = gather_inputs(self.feeds, self.config, self.window_ns, head.t_ns)
                    timecode, tc_entry, checks = self._label(head, now)
                    inputs["sync"] = tuple([*inputs["sync"], tc_entry])
                    focal_mm = self._last_focal_mm()
                self._deliver(checks)
                try:
                    fused = fuse_frame(camera=self.rig.camera, window_ns=self.window_ns, deskew=self.config.deskew,
                                       knot_spacing_ns=self.config.knot_spacing_ns, image=head.image,
                                       t_frame_ns=head.t_ns, timecode=timecode, default_focal_length_mm=focal_mm,
                                       **inputs)
                except Exception:  # noqa: BLE001 - one bad frame must not stop the stream
                    log.exception("fusing frame %d failed", head.image.frame_index)
                    with self._lock:
                        self.counters.drop(self.feeds.camera.name, "fuse_error")
                    continue
                with self._lock:
                    self.counters.fused_frame(fused, now)
                try:
                    self.on_fused(fused)
                except Exception:  # noqa: BLE001 - a consumer's error is its own; the stream goes on
                    log.exception("on_fused raised for frame %d", fused.frame_index)
                    with self._lock:
                        self.counters.drop("on_fused", "callback_error")
                out.append(fused)
        return out

    def _last_focal_mm(self) -> float:
        """The pose sensor's newest focal length (for K while no lens state brackets the frame)."""
        feed = self.feeds.telemetry.get(self.feeds.pose_sensor) if self.feeds.pose_sensor else None
        newest = None if feed is None else feed.buffer.newest_ns
        if newest is not None:
            _, rows = feed.buffer.window(newest, newest)
            focal = rows["focal_length_mm"][-1] if len(rows) else float("nan")
            if focal == focal:  # not NaN
                return float(focal)
        return float(self.config.default_focal_length_mm)

    def next_deadline_ns(self) -> Optional[int]:
        """The head frame's deadline (master ns), or None when no frame waits."""
        with self._lock:
            return self._pending[0].deadline_ns if self._pending else None

    # -- worker --------------------------------------------------------------------------------

    def start(self) -> "Synchronizer":
        """Poll on a worker thread: at every arrival and at the head frame's deadline."""
        self._worker.start()
        return self

    def close(self) -> None:
        """Stop the worker (frames still waiting stay unfused); safe to call twice."""
        self._worker.close()

    def __enter__(self) -> "Synchronizer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- diagnostics ---------------------------------------------------------------------------

    def points(self, sensor: str, start_ns: int, end_ns: int) -> LidarPoints:
        """Copies of a LiDAR's buffered points with master times in ``[start_ns, end_ns]``."""
        feed = self.feeds.lidars[sensor]
        with self._lock:
            xyz, t = feed.buffer.window(start_ns, end_ns)
        return LidarPoints(xyz, t, feed.extra.T_rig_lidar)

    def poses(self, sensor: str, start_ns: int, end_ns: int) -> Optional[PoseTrack]:
        """A telemetry sensor's buffered poses in ``[start_ns, end_ns]`` (and one either side)."""
        feed = self.feeds.telemetry[sensor]
        with self._lock:
            times, rows = feed.buffer.window(start_ns, end_ns)
        return PoseTrack.from_samples(times, rows["position_m"], rows["quat_xyzw"]) if times.size else None

    def snapshot(self) -> SyncSnapshot:
        """Counters, rates, clock models and buffer fill, for health reporting."""
        with self._lock:
            feeds, counters = self.feeds, self.counters
            camera = feeds.camera
            sensors: Dict[str, SensorStatus] = {
                camera.name: camera.status(len(self._pending), self._last_frame[1] if self._last_frame else None),
                "timecode": feeds.timecode_feed.status(len(self.labels), self._last_ltc_ns),
            }
            for feed in [*feeds.lidars.values(), *feeds.telemetry.values()]:
                sensors[feed.name] = feed.status(len(feed.buffer), feed.buffer.newest_ns)
            return SyncSnapshot(
                fused=counters.fused,
                fused_complete=counters.fused_complete,
                fused_fps=rate_hz(counters.emitted_ns, RATE_SPAN_NS),
                pending=len(self._pending),
                late=dict(counters.late),
                missing=dict(counters.missing),
                unsynced=dict(counters.unsynced),
                dropped=dict(counters.dropped),
                sensors=sensors,
                labels={outcome.value: n for outcome, n in self.labels.counts.items()},
                timecode_jumps=feeds.timecode.jumps,
            )
