"""What fusion gets for one frame of a take: the builder's counterpart of ``edge/sync/gather.py``.

Pure selection over the take's tracks (:mod:`.bag`), for :mod:`.refuse`:

**Chosen frames** (:class:`FrameChooser`). At ``fps`` (<= the camera's rate) a frame is taken when
its stamp reaches the next point of a grid ``first + n / fps``, less half a camera frame (so the
frame nearest each grid point is taken, whatever the camera's rate; a dropped camera frame costs
one stored frame, the grid does not drift); at or above the camera's rate every frame is.

**For a frame exposed (mid-time) at master time t**, with the take's LiDAR window ``(before,
after)`` (``sync.lidar_window_ns``) and pose hold time (``sync.hold_ns``):

* poses (:func:`pose_track_at`): the samples in ``[t - before, t + after]`` and one either side,
  as the synchronizer buffers them; none when the nearest lies farther than the hold time (the
  synchronizer's MISSING);
* lens (:func:`lens_at`): the readings there, interpolated linearly at t;
* LiDAR (:class:`SweepBuffer`): every point read so far whose own time lies in the window;
* camera (:class:`Optics`): the take's camera (size, sensor width, distortion), else one made from
  the first ``camera_info``; without a lens reading ``K`` is the nearest ``camera_info``'s (its
  focal length from ``fx``), as the node projected with.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Deque, List, Optional, Tuple

import numpy as np

from config.models import CameraConfig, IntrinsicsConfig
from edge.fusion.fuse import LidarPoints
from edge.fusion.interpolate import PoseTrack, interpolate_values
from engines.captioner.dataset.bag import CameraInfoSample, LensSamples, LidarSweep, PoseSamples
from engines.captioner.dataset.errors import DatasetError
from engines.captioner.dataset.source import TakeSource
from sensors.vocabulary import NS_PER_S, LensState

__all__ = ["FrameChooser", "pose_track_at", "lens_at", "nearest", "Optics", "SweepBuffer"]


class FrameChooser:
    """Chooses frames at ``fps`` from stamps in increasing order (module docstring).

    ``camera_period_ns``: the camera's frame period (None: the shortest interval seen so far).
    A frame is taken when it reaches the next grid point less half a camera period; the grid then
    moves past the frame by as much, so a dropped camera frame costs one stored frame, no more.
    """

    def __init__(self, fps: float, camera_period_ns: Optional[float] = None) -> None:
        if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
            raise DatasetError(f"the frame rate must be a positive number of frames per second, got {fps!r}")
        self.period_ns = NS_PER_S / float(fps)
        self._camera_period_ns = None if camera_period_ns is None else float(camera_period_ns)
        self._measure = camera_period_ns is None
        self._due: Optional[float] = None
        self._last: Optional[int] = None
        #: Frames refused because their stamp did not move forward (not a new exposure).
        self.stale = 0

    def take(self, t_ns: int) -> bool:
        t = int(t_ns)
        if self._last is not None and t <= self._last:
            self.stale += 1
            return False
        if self._measure and self._last is not None:
            gap = float(t - self._last)
            self._camera_period_ns = gap if self._camera_period_ns is None else min(self._camera_period_ns, gap)
        self._last = t
        if self._due is None:
            self._due = t + self.period_ns
            return True
        half = 0.5 * (self._camera_period_ns or 0.0)
        if t < self._due - half:
            return False
        while self._due <= t + half:
            self._due += self.period_ns
        return True


def _window(t_samples: np.ndarray, start_ns: int, end_ns: int) -> slice:
    """Samples in ``[start, end]`` plus one either side (``edge/sync/buffers.py`` ``TelemetryBuffer.window``)."""
    lo = max(int(np.searchsorted(t_samples, start_ns, side="left")) - 1, 0)
    hi = min(int(np.searchsorted(t_samples, end_ns, side="right")) + 1, t_samples.size)
    return slice(lo, hi)


def _held_too_long(times: np.ndarray, t_ns: int, hold_ns: int) -> bool:
    return times.size == 0 or times[-1] < t_ns - hold_ns or times[0] > t_ns + hold_ns


def pose_track_at(poses: Optional[PoseSamples], t_ns: int, window_ns: Tuple[int, int], hold_ns: int
                  ) -> Optional[PoseTrack]:
    """The pose samples fusion gets for a frame at ``t_ns`` (module docstring), or None."""
    if poses is None:
        return None
    span = _window(poses.t_ns, t_ns - window_ns[0], t_ns + window_ns[1])
    times = poses.t_ns[span]
    if _held_too_long(times, t_ns, hold_ns):
        return None
    return PoseTrack.from_samples(times, poses.position_m[span], poses.quat_xyzw[span])


def lens_at(lens: Optional[LensSamples], t_ns: int, window_ns: Tuple[int, int], hold_ns: int) -> Optional[LensState]:
    """The lens at ``t_ns`` from the readings around it (``edge/sync/gather.py``), or None."""
    if lens is None:
        return None
    span = _window(lens.t_ns, t_ns - window_ns[0], t_ns + window_ns[1])
    times = lens.t_ns[span]
    if _held_too_long(times, t_ns, hold_ns):
        return None
    values = np.stack([lens.focal_length_mm[span], lens.focus_distance_m[span], lens.t_stop[span]], axis=1)
    focal, focus, t_stop = interpolate_values(np.array([int(t_ns)]), times, values)[0]
    return LensState(float(focal), float(focus), None if np.isnan(t_stop) else float(t_stop))


def nearest(times: np.ndarray, t_ns: int) -> Optional[int]:
    """Index of the time in sorted ``times`` nearest ``t_ns`` (None when there is none)."""
    if times.size == 0:
        return None
    i = int(np.searchsorted(times, t_ns))
    candidates = [j for j in (i - 1, i) if 0 <= j < times.size]
    return min(candidates, key=lambda j: abs(int(times[j]) - int(t_ns)))


class Optics:
    """The camera fusion projects with, and the focal length it takes when no lens reading is there."""

    def __init__(self, source: TakeSource, infos: List[CameraInfoSample], lens: Optional[LensSamples],
                 size_px: Tuple[int, int]) -> None:
        self.infos = infos
        self._info_t = np.array([i.t_ns for i in infos], dtype=np.int64)
        camera = source.camera
        if camera is None and infos:
            first = infos[0]
            sensor_width = IntrinsicsConfig().sensor_width_mm
            if lens is not None and lens.t_ns.size:
                # The sensor width that gives the recorded fx at the lens's focal length then.
                focal = float(np.interp(first.t_ns, lens.t_ns, lens.focal_length_mm))
                sensor_width = focal * first.width_px / float(first.K[0, 0])
            camera = CameraConfig(width_px=first.width_px, height_px=first.height_px, intrinsics=IntrinsicsConfig(
                sensor_width_mm=sensor_width, principal_point_px=(float(first.K[0, 2]), float(first.K[1, 2])),
                distortion=first.distortion))
        self.known = camera is not None
        self.camera = camera if camera is not None else CameraConfig(width_px=size_px[0], height_px=size_px[1])

    def default_focal_mm(self, t_ns: int) -> Optional[float]:
        """The focal length (mm) of the camera_info nearest ``t_ns``; None without one."""
        j = nearest(self._info_t, t_ns)
        if j is None:
            return None
        info = self.infos[j]
        return float(info.K[0, 0]) * self.camera.intrinsics.sensor_width_mm / float(info.width_px)


class SweepBuffer:
    """LiDAR points of the sweeps read so far, kept while a frame may still need them."""

    def __init__(self) -> None:
        self._sweeps: Deque[LidarSweep] = deque()
        self.newest_ns: Optional[int] = None

    def add(self, sweep: LidarSweep) -> None:
        if sweep.t_ns.size == 0:
            return
        self._sweeps.append(sweep)
        top = int(sweep.t_ns.max())
        self.newest_ns = top if self.newest_ns is None else max(self.newest_ns, top)

    def prune(self, before_ns: int) -> None:
        """Forget sweeps wholly older than ``before_ns``."""
        while self._sweeps and int(self._sweeps[0].t_ns.max()) < before_ns:
            self._sweeps.popleft()

    def points(self, start_ns: int, end_ns: int, T_rig_lidar: np.ndarray) -> LidarPoints:
        xyz, t = [], []
        for sweep in self._sweeps:
            keep = (sweep.t_ns >= start_ns) & (sweep.t_ns <= end_ns)
            if keep.any():
                xyz.append(sweep.xyz_m[keep])
                t.append(sweep.t_ns[keep])
        if not t:
            return LidarPoints(np.zeros((0, 3), np.float32), np.zeros(0, np.int64), T_rig_lidar)
        return LidarPoints(np.concatenate(xyz), np.concatenate(t), T_rig_lidar)
