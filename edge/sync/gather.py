"""When a waiting frame is ready, and what its fusion gets: pure functions over the feeds.

A frame at exposure mid-time ``t`` with the LiDAR window ``(before, after)`` is *ready* when
every LiDAR has delivered a point at or past ``t + after`` and every telemetry sensor a sample at
or past that time (at or past ``t`` when the rig has no LiDAR): then nothing that arrives later
can change it. LiDAR arrives in slices of a few milliseconds, so with ``after = 0`` a frame is
ready within a slice of its exposure; a positive ``after`` buys fresher depth on moving actors
for that much latency (docs/architecture.md, Latency).

:func:`gather_inputs` copies out of the buffers everything :func:`edge.fusion.fuse_frame` needs and
judges each sensor for the frame (:class:`~sensors.vocabulary.SensorSync`): OK, LATE (its data stop
short of the frame), MISSING (nothing usable) or UNSYNCED (its clock model has not converged).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from config.sync import SyncConfig
from edge.fusion import LidarPoints, PoseTrack, interpolate_values
from edge.sync.feeds import Feed, SyncFeeds
from sensors.vocabulary import NS_PER_MS, LensState, SensorSync, SyncStatus

__all__ = ["frame_ready", "gather_inputs", "sensor_sync"]

_LENS_FIELDS = ("focal_length_mm", "focus_distance_m", "t_stop")


def frame_ready(feeds: SyncFeeds, t_ns: int, window_ns: Tuple[int, int]) -> bool:
    """True when every LiDAR and telemetry sensor has data at or past what the frame needs."""
    end = t_ns + window_ns[1]
    for feed in feeds.lidars.values():
        if feed.buffer.newest_ns is None or feed.buffer.newest_ns < end:
            return False
    need = end if feeds.lidars else t_ns
    return all(f.buffer.newest_ns is not None and f.buffer.newest_ns >= need for f in feeds.telemetry.values())


def sensor_sync(feed_name: str, converged: bool, jitter_ns: float, status: SyncStatus, gap_ns: float) -> SensorSync:
    """One sensor's entry on a frame; OK turns UNSYNCED while the sensor's clock has not converged."""
    if status is SyncStatus.OK and not converged:
        status = SyncStatus.UNSYNCED
    return SensorSync(feed_name, status, float(gap_ns) / NS_PER_MS, float(jitter_ns) / NS_PER_MS)


def _entry(feed: Feed, status: SyncStatus, gap_ns: float) -> SensorSync:
    return sensor_sync(feed.name, feed.timing.converged, feed.timing.residual_jitter_ns, status, gap_ns)


def _lens_at(t_ns: int, times: np.ndarray, rows: np.ndarray) -> Optional[LensState]:
    has_lens = np.isfinite(rows["focal_length_mm"])
    if not has_lens.any():
        return None
    values = np.stack([rows[name][has_lens] for name in _LENS_FIELDS], axis=1)
    focal, focus, t_stop = interpolate_values(np.array([t_ns]), times[has_lens], values)[0]
    return LensState(float(focal), float(focus), None if np.isnan(t_stop) else float(t_stop))


def gather_inputs(feeds: SyncFeeds, config: SyncConfig, window_ns: Tuple[int, int], t_ns: int) -> Dict[str, Any]:
    """Points, poses, lens and sync entries for a frame at master time ``t_ns`` (copies)."""
    start, end = t_ns - window_ns[0], t_ns + window_ns[1]
    sync = [_entry(feeds.camera, SyncStatus.OK, 0.0)]
    points = []
    for feed in feeds.lidars.values():
        xyz, times = feed.buffer.window(start, end)
        if times.size == 0:
            sync.append(_entry(feed, SyncStatus.MISSING, np.nan))
            continue
        covered = feed.buffer.newest_ns is not None and feed.buffer.newest_ns >= end
        sync.append(_entry(feed, SyncStatus.OK if covered else SyncStatus.LATE, t_ns - int(times.max())))
        points.append(LidarPoints(xyz, times, feed.extra.T_rig_lidar))
    poses, lens = None, None
    hold = config.hold_ns
    for feed in feeds.telemetry.values():
        times, rows = feed.buffer.window(start, end)
        if times.size == 0 or times[-1] < t_ns - hold or times[0] > t_ns + hold:
            sync.append(_entry(feed, SyncStatus.MISSING, np.nan))
            continue
        after = times[times >= t_ns]
        bracketed = after.size > 0 and times[0] <= t_ns
        used = int(after[0]) if after.size else int(times[-1])
        sync.append(_entry(feed, SyncStatus.OK if bracketed else SyncStatus.LATE, t_ns - used))
        if feed.name == feeds.pose_sensor:
            poses = PoseTrack.from_samples(times, rows["position_m"], rows["quat_xyzw"])
            lens = _lens_at(t_ns, times, rows)
    return dict(points=points, poses=poses, lens=lens, sync=sync)
