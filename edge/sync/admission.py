"""Admission: every sample is validated, put on the master clock and filed, once, as it arrives.

The synchronizer calls these functions under its lock; each returns at once (nothing waits on
fusion). A sample that cannot be used is refused and counted under ``"sensor:reason"``
(:class:`~edge.sync.counters.SyncCounters`), never raised:

* camera frames: malformed images, the same frame index again (before its stamps reach the clock
  models), a master time too far in the future or not after the previous frame's;
* LiDAR points (sweeps or slices of a few milliseconds, any order within the buffer's horizon):
  malformed arrays, empty clouds, non-finite points (dropped, the rest kept), the same points again
  (recognised by their own sensor times), points too far in the future or beyond the horizon;
* telemetry: non-finite poses, duplicates, samples older than the newest, too far in the future.

Placing stamps: a sensor with a clock of its own goes through its clock model
(:mod:`edge.sync.timing`); a sensor without one (``sensor_ns`` None) is placed at its host
arrival minus its configured latency.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from config.sync import SyncConfig
from edge.sync.buffers import Admit
from edge.sync.counters import SyncCounters
from edge.sync.feeds import Feed, SyncFeeds
from edge.sync.rows import telemetry_row
from sensors.vocabulary import ImageFrame, PointCloud, TelemetrySample

__all__ = ["PendingFrame", "admit_cloud", "admit_frame", "admit_telemetry"]


class PendingFrame(NamedTuple):
    """A camera frame waiting to be fused: its exposure mid-time ``t_ns`` on the master clock and
    the master time by which it must be fused at the latest."""

    image: ImageFrame
    t_ns: int
    deadline_ns: int


def _too_new(config: SyncConfig, t_ns: int, host_ns: int) -> bool:
    return t_ns > host_ns + config.future_tolerance_ns


def admit_frame(feeds: SyncFeeds, config: SyncConfig, counters: SyncCounters, frame: ImageFrame,
                last: Optional[tuple], deadline_ns: int) -> Optional[PendingFrame]:
    """The frame as it will wait for fusion, or None when refused. ``last`` is ``(frame_index,
    t_ns)`` of the newest frame admitted before it."""
    camera, stamp = feeds.camera, frame.exposure_mid
    camera.arrived(stamp.host_ns)
    rgb = frame.rgb
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        counters.drop(camera.name, "malformed")
        return None
    if last is not None and frame.frame_index == last[0]:
        counters.drop(camera.name, "duplicate")  # before its stamps reach the clock models
        return None
    t = camera.timing.frame_master_ns(frame.frame_index, stamp.sensor_ns, stamp.host_ns)
    if _too_new(config, t, stamp.host_ns):
        counters.drop(camera.name, "future")
        return None
    if last is not None and t <= last[1]:
        counters.drop(camera.name, "backwards")
        return None
    return PendingFrame(frame, int(t), int(stamp.host_ns) + int(deadline_ns))


def admit_cloud(feed: Feed, config: SyncConfig, counters: SyncCounters, cloud: PointCloud) -> bool:
    """File LiDAR points (per-point times on the LiDAR's clock); False when refused."""
    name = feed.name
    xyz, t = np.asarray(cloud.xyz_m), np.asarray(cloud.t_ns)
    if xyz.ndim != 2 or xyz.shape[1:] != (3,) or t.shape != (xyz.shape[0],) or t.dtype.kind not in "iu":
        return counters.drop(name, "malformed")
    host = int(cloud.stamp.host_ns)
    feed.arrived(host)
    if t.size == 0:
        return counters.drop(name, "empty")
    finite = np.isfinite(xyz).all(axis=1)
    if not finite.all():
        counters.drop(name, "nonfinite_points", int(t.size - np.count_nonzero(finite)))
        xyz, t = xyz[finite], t[finite]
        if t.size == 0:
            return False
    t = t.astype(np.int64, copy=False)
    signature = (int(t.min()), int(t.max()), int(t.size))
    if signature in feed.extra.recent:
        return counters.drop(name, "duplicate")  # the same points again, by the sensor's own times
    feed.extra.recent.append(signature)
    if cloud.stamp.sensor_ns is None:
        master = t - feed.timing.latency_ns  # host-stamped points
    else:
        feed.timing.observe(int(t.max()), host)  # the last point and the packet that carried it
        master = feed.timing.to_master_ns(t)
    if _too_new(config, int(master.max()), host):
        return counters.drop(name, "future")
    admit = feed.buffer.add(xyz, master)
    if admit is Admit.STALE:
        return counters.drop(name, admit.value)
    if admit is Admit.OVERFLOW:
        counters.drop(name, "overflow")
    return True


def admit_telemetry(feed: Feed, config: SyncConfig, counters: SyncCounters, sample: TelemetrySample) -> bool:
    """File one telemetry sample (rig pose and lens); False when refused."""
    name, stamp = feed.name, sample.stamp
    feed.arrived(stamp.host_ns)
    row = telemetry_row(sample)
    if row is None:
        return counters.drop(name, "malformed")
    feed.timing.observe(stamp.sensor_ns, stamp.host_ns)
    if stamp.sensor_ns is None:
        t = feed.timing.host_to_master_ns(stamp.host_ns)
    else:
        t = int(feed.timing.to_master_ns(int(stamp.sensor_ns)))
    if _too_new(config, t, stamp.host_ns):
        return counters.drop(name, "future")
    admit = feed.buffer.add(t, row)
    if admit in (Admit.DUPLICATE, Admit.BACKWARDS, Admit.STALE):
        return counters.drop(name, admit.value)
    return True
