"""Velodyne VLP-16 / VLP-32C LiDAR: the data packet, its driver and its simulator.

``velodyne`` holds the packet layout, laser tables and firing timing as pure functions;
``driver`` turns UDP data packets into :class:`sensors.vocabulary.PointCloud` slices of a few
milliseconds and whole sweeps, with exact per-point time and ring (decoding each packet with
velodyne-decoder); ``slices`` holds the pure functions that cut and join them; ``sim`` ray-casts
the simulated stage with the same scan pattern and sends genuine packets. Importing this package
imports neither velodyne-decoder nor Open3D.
"""

from __future__ import annotations

from sensors.lidar.errors import (
    AzimuthError,
    BlockFlagError,
    DecoderFailure,
    LidarError,
    LidarPacketError,
    ModelMismatchError,
    PacketEncodeError,
    PacketLengthError,
    ReturnModeError,
    TimestampError,
    UnknownProductError,
)
from sensors.lidar.types import LaserTable, LidarGroundTruth, PacketHeader

__all__ = [
    "VelodyneDriver",
    "VelodyneSim",
    "VelodyneSender",
    "LaserTable",
    "LidarGroundTruth",
    "PacketHeader",
    "LidarError",
    "LidarPacketError",
    "PacketEncodeError",
    "PacketLengthError",
    "BlockFlagError",
    "UnknownProductError",
    "ReturnModeError",
    "AzimuthError",
    "TimestampError",
    "ModelMismatchError",
    "DecoderFailure",
]


def __getattr__(name: str):
    # The driver pulls in velodyne-decoder; load it (and the sim) only when asked for.
    if name == "VelodyneDriver":
        from sensors.lidar.driver import VelodyneDriver

        return VelodyneDriver
    if name in ("VelodyneSim", "VelodyneSender"):
        from sensors.lidar import sim

        return getattr(sim, name)
    raise AttributeError(f"module 'sensors.lidar' has no attribute {name!r}")
