"""Value objects of the LiDAR family: laser tables, packet headers and the sim's ground truth.

Azimuths follow Velodyne: degrees clockwise seen from above, 0 along the sensor's +x (forward),
90 along -y (right). Points are in the ``lidar`` frame (x forward, y left, z up).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from config.models import LidarModel

__all__ = ["LaserTable", "PacketHeader", "LidarGroundTruth"]


@dataclass(frozen=True)
class LaserTable:
    """Geometry and timing constants of one Velodyne model, per laser id (the channel index).

    A laser fires from ``(0, 0, vertical_offset_m[i])`` in the lidar frame, at elevation
    ``elevation_deg[i]`` and azimuth ``head azimuth + azimuth_offset_deg[i]``. ``ring[i]`` is the
    laser's rank by elevation (0 = lowest). ``distance_resolution_m`` is one distance count.
    """

    model: LidarModel
    product_id: int
    elevation_deg: np.ndarray
    azimuth_offset_deg: np.ndarray
    vertical_offset_m: np.ndarray
    ring: np.ndarray
    distance_resolution_m: float
    sequences_per_block: int

    @property
    def lasers(self) -> int:
        return int(self.elevation_deg.shape[0])

    @property
    def max_distance_m(self) -> float:
        """Longest distance a packet can carry (65535 counts)."""
        return 65535 * self.distance_resolution_m


@dataclass(frozen=True)
class PacketHeader:
    """What a validated data packet says about itself (not its distances).

    ``timestamp_us`` is microseconds past the top of the hour on the sensor's clock, the time
    of the packet's first firing; ``block_azimuths_deg`` (12,) the head azimuth of each block.
    """

    model: LidarModel
    return_mode: int
    timestamp_us: int
    block_azimuths_deg: np.ndarray


@dataclass(frozen=True)
class LidarGroundTruth:
    """What the simulated LiDAR really measured, one row per channel record (packet-major).

    ``packet_index`` (N,) which packet; ``laser`` (N,) laser id and ``ring`` its elevation rank;
    ``t_master_ns`` / ``t_sensor_ns`` (N,) int64 the firing time on the master clock and on the
    sensor's noiseless clock; ``azimuth_deg`` (N,) the ray's true azimuth (Velodyne convention);
    ``range_m`` (N,) distance from the laser's origin to the hit (inf: no hit);
    ``returned`` (N,) bool, True where the packet carries a return (in range);
    ``point_stage_m`` / ``point_lidar_m`` (N,3) the hit in the stage frame and in the lidar
    frame at the firing time (NaN where nothing was hit); ``object_id`` (N,) what was hit.
    """

    packet_index: np.ndarray
    laser: np.ndarray
    ring: np.ndarray
    t_master_ns: np.ndarray
    t_sensor_ns: np.ndarray
    azimuth_deg: np.ndarray
    range_m: np.ndarray
    returned: np.ndarray
    point_stage_m: np.ndarray
    point_lidar_m: np.ndarray
    object_id: np.ndarray

    def __len__(self) -> int:
        return int(self.laser.shape[0])
