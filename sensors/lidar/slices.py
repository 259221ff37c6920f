"""Slices and sweeps of a Velodyne's packet stream (pure functions of arrays).

The driver decodes every data packet once, on arrival, into its returns: an ``(n, 8)`` float32
array in velodyne-decoder's point layout (x y z intensity time column ring return_type) whose
``time`` is seconds after the packet's first firing. Returns become a :class:`PointCloud` here:

* **slices**: the returns of a few consecutive packets (:func:`packets_per_slice`), so the
  synchronizer has each few milliseconds of points as soon as their last packet is in;
* **sweeps**: one revolution, the concatenation of its slices (a slice never straddles two
  sweeps), for ROS ``PointCloud2`` consumers that expect revolutions.

Per-point time is exact: ``t_ns = packet_ns + rint(time * 1e9)`` where ``packet_ns`` is the
packet's own timestamp (integer ns on the sensor's clock) and ``time`` is below one packet
period, where float32 resolves far better than 1 ns (firing offsets are whole ns: 2.304 us steps).
A sweep's times are therefore exactly its slices' times (a sweep decoded in one piece carries
float32 offsets of up to 0.1 s, good to about 4 ns).

Sweep cut: a sweep ends with the packet whose last block's azimuth carries the head past
``cut_deg`` after it has covered more than half a turn since the previous cut, the same rule as
velodyne-decoder's scan batcher, so sweeps hold whole packets and match that library's sweeps.
"""

from __future__ import annotations

from typing import List, Sequence

import numpy as np

from config.models import LidarModel
from sensors.lidar.velodyne import packet_period_ns
from sensors.vocabulary import PointCloud, Stamp

__all__ = [
    "MAX_SWEEP_NS",
    "packets_per_slice",
    "sweep_coverage_cdeg",
    "closes_sweep",
    "cloud_from_packets",
    "join_clouds",
]

#: A sweep longer than this on the sensor's clock (a 5 Hz turn takes 0.2 s) is cut before the
#: packet that would stretch it further: the sensor paused, or the stream had a gap.
MAX_SWEEP_NS = 300_000_000
_TURN_CDEG = 36000
_FIELDS = 8  # x y z intensity time column ring return_type


def packets_per_slice(model: LidarModel, slice_ms: float) -> int:
    """Packets in one slice of ``slice_ms`` milliseconds: the nearest whole number, at least one.

    5 ms is 4 VLP-16 packets (1.327 ms each) or 8 VLP-32C packets (0.664 ms); 0 is every packet.
    """
    period_ns = packet_period_ns(model)
    return max(1, int(round(float(slice_ms) * 1e6 / period_ns)))


def sweep_coverage_cdeg(last_block_azimuth_deg: float, cut_deg: float) -> int:
    """How far past the cut azimuth the head is at a packet's last block, 0.01 deg in [0, 36000)."""
    azimuth = int(round(float(last_block_azimuth_deg) * 100.0))
    cut = int(round(float(cut_deg) * 100.0)) % _TURN_CDEG
    return (azimuth - cut) % _TURN_CDEG


def closes_sweep(previous_cdeg: int, coverage_cdeg: int) -> bool:
    """True when a packet at ``coverage_cdeg`` ends the sweep whose last packet was at ``previous_cdeg``:
    the head had covered more than half a turn and has now wrapped past the cut."""
    return previous_cdeg > _TURN_CDEG // 2 and coverage_cdeg < previous_cdeg


def cloud_from_packets(
    points: Sequence[np.ndarray], packet_ns: Sequence[int], host_ns: int, frame_id: str
) -> PointCloud:
    """One cloud of the returns of consecutive packets.

    ``points[i]``: packet i's returns, ``(n_i, 8)`` float32 in velodyne-decoder's layout with
    ``time`` in seconds after that packet's first firing; ``packet_ns[i]``: that first firing on
    the sensor's clock (ns); ``host_ns``: when the last packet arrived (master clock, ns). The
    stamp's sensor time is the first point's (the first packet's first firing if none returned).
    """
    counts = np.fromiter((p.shape[0] for p in points), dtype=np.int64, count=len(points))
    raw = np.concatenate(points, axis=0) if len(points) else np.zeros((0, _FIELDS), dtype=np.float32)
    raw = raw.reshape(-1, _FIELDS)
    base_ns = np.repeat(np.asarray(packet_ns, dtype=np.int64), counts)
    t_ns = base_ns + np.rint(raw[:, 4].astype(np.float64) * 1e9).astype(np.int64)
    first_ns = int(t_ns.min()) if t_ns.size else int(packet_ns[0]) if len(packet_ns) else 0
    return PointCloud(
        xyz_m=np.ascontiguousarray(raw[:, 0:3], dtype=np.float32),
        intensity=np.ascontiguousarray(raw[:, 3], dtype=np.float32),
        ring=raw[:, 6].astype(np.uint16),
        t_ns=t_ns,
        stamp=Stamp(sensor_ns=first_ns, host_ns=int(host_ns)),
        frame_id=frame_id,
    )


def join_clouds(parts: List[PointCloud], first_packet_ns: int, host_ns: int, frame_id: str) -> PointCloud:
    """The concatenation of consecutive slices (a sweep): their points in order, the stamp of the
    first point (``first_packet_ns`` if none returned) and of the last packet's arrival ``host_ns``."""
    if len(parts) == 1:
        part = parts[0]
        return PointCloud(part.xyz_m, part.intensity, part.ring, part.t_ns,
                          Stamp(part.stamp.sensor_ns, int(host_ns)), frame_id)
    xyz = np.concatenate([p.xyz_m for p in parts]) if parts else np.zeros((0, 3), dtype=np.float32)
    t_ns = np.concatenate([p.t_ns for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    return PointCloud(
        xyz_m=xyz,
        intensity=np.concatenate([p.intensity for p in parts]) if parts else np.zeros(0, dtype=np.float32),
        ring=np.concatenate([p.ring for p in parts]) if parts else np.zeros(0, dtype=np.uint16),
        t_ns=t_ns,
        stamp=Stamp(sensor_ns=int(t_ns.min()) if t_ns.size else int(first_packet_ns), host_ns=int(host_ns)),
        frame_id=frame_id,
    )
