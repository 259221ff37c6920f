"""Shared pieces of the LiDAR tests: a box-room stage double, configs, ground-truth matching."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from config.models import ClockConfig, LidarConfig, LidarModel
from sensors.lidar.types import LidarGroundTruth
from sensors.lidar.velodyne import laser_table
from sensors.vocabulary import PointCloud

#: 0.2 s before a top of the hour (2026-01-01 10:00:00 UTC): sweeps cross the hour wrap.
EPOCH_NS = 1_767_261_600_000_000_000 - 200_000_000
#: The default profile's LiDAR clock: offset, drift and jitter all at work.
SIM_CLOCK = ClockConfig(offset_ns=-1_200_000, drift_ppm=-35.0, jitter_ns=20_000)
MODELS = [LidarModel.VLP16, LidarModel.VLP32C]


class BoxStage:
    """Stands in for ``sensors.sim.stage.Stage``: a closed 12 x 16 x 5 m room with a pillar,
    ray-cast with Open3D, and a rig that dollies at 0.8 m/s while panning at 20 deg/s."""

    def __init__(self, epoch_ns: int = EPOCH_NS) -> None:
        import open3d as o3d

        self.epoch_ns = epoch_ns
        self.scene = o3d.t.geometry.RaycastingScene()
        room = o3d.geometry.TriangleMesh.create_box(12.0, 16.0, 5.0).translate((-6.0, -8.0, 0.0))
        pillar = o3d.geometry.TriangleMesh.create_box(1.0, 1.0, 3.0).translate((3.0, 1.5, 0.0))
        for mesh in (room, pillar):
            self.scene.add_triangles(o3d.t.geometry.TriangleMesh.from_legacy(mesh))
        self._o3d = o3d

    def rig_matrices(self, t_ns) -> np.ndarray:
        t_s = (np.asarray(t_ns, dtype=np.int64) - self.epoch_ns) / 1e9
        yaw = np.radians(10.0 + 20.0 * t_s)
        T = np.tile(np.eye(4), (t_s.size, 1, 1))
        T[:, 0, 0], T[:, 0, 1], T[:, 1, 0], T[:, 1, 1] = np.cos(yaw), -np.sin(yaw), np.sin(yaw), np.cos(yaw)
        T[:, 0, 3] = -3.0 + 0.8 * t_s
        T[:, 1, 3] = -2.0 + 0.1 * t_s
        T[:, 2, 3] = 1.5
        return T

    def cast_rays(self, origins_m, directions, t_ns):
        rays = np.concatenate([origins_m, directions], axis=1).astype(np.float32)
        ans = self.scene.cast_rays(self._o3d.core.Tensor(rays))
        distance = ans["t_hit"].numpy().astype(np.float64)
        miss = ~np.isfinite(distance)
        object_id = np.where(miss, -1, ans["geometry_ids"].numpy().astype(np.int64)).astype(np.int32)
        normal = ans["primitive_normals"].numpy().astype(np.float64)
        normal = np.where((np.einsum("ij,ij->i", normal, directions) > 0)[:, None], -normal, normal)
        normal[miss] = 0.0
        return SimpleNamespace(distance_m=np.where(miss, np.inf, distance), object_id=object_id, normal_stage=normal)


def lidar_config(model: LidarModel, port: int = 2368, **extra) -> LidarConfig:
    return LidarConfig(name=f"lidar-{model.value}", model=model, port=port, clock=SIM_CLOCK, **extra)


def any_port(config: LidarConfig) -> LidarConfig:
    """The config with port 0: the driver binds a free port and reports it as ``driver.port``."""
    return config.model_copy(update={"port": 0})


def match_truth(cloud: PointCloud, truth: LidarGroundTruth) -> np.ndarray:
    """Index into ``truth`` of each decoded point: the same ring, the nearest firing time."""
    rings = int(cloud.ring.max()) + 1 if len(cloud) else 0
    order = np.lexsort((truth.t_sensor_ns, truth.ring))
    ring_sorted, t_sorted = truth.ring[order], truth.t_sensor_ns[order]
    index = np.full(len(cloud), -1, dtype=np.int64)
    for ring in range(rings):
        sel = np.flatnonzero(cloud.ring == ring)
        lo, hi = np.searchsorted(ring_sorted, ring), np.searchsorted(ring_sorted, ring, "right")
        if sel.size == 0 or hi == lo:
            continue
        times, t = t_sorted[lo:hi], cloud.t_ns[sel]
        j = np.searchsorted(times, t)
        left, right = np.clip(j - 1, 0, times.size - 1), np.clip(j, 0, times.size - 1)
        pick = np.where(np.abs(times[left] - t) <= np.abs(times[right] - t), left, right)
        index[sel] = order[lo + pick]
    return index


def azimuth_deg(xyz_m: np.ndarray) -> np.ndarray:
    """Velodyne azimuth (clockwise from +x, degrees [0, 360)) of points in the lidar frame."""
    return np.degrees(np.arctan2(-xyz_m[:, 1], xyz_m[:, 0])) % 360.0


def laser_origins(model: LidarModel, laser: np.ndarray) -> np.ndarray:
    origins = np.zeros((laser.size, 3))
    origins[:, 2] = laser_table(model).vertical_offset_m[laser]
    return origins
