"""QoS profiles of Onset's topics, built only from ``rclpy.qos`` names ROS 2 Humble has.

- Streams (LiDAR, image, pose, timecode): the sensor-data profile. Best effort, keep last a few,
  volatile: a late sample is worth less than the next one, and a slow subscriber must never make
  the publisher block or buffer.
- Camera info and static transforms (calibration): reliable + transient local, keep last 1, so a
  subscriber that joins late (the recorder, Foxglove, ``ros2 topic echo``) still gets the current
  calibration: the ROS 2 form of a latched topic.
- ``/tf`` and ``/diagnostics``: reliable, volatile, as tf2_ros and diagnostic_updater publish them,
  so stock subscribers (which ask for reliable) match.

Compatibility: a best-effort subscriber matches both reliable and best-effort publishers; a
transient-local subscriber does NOT match a volatile publisher. Subscriptions to topics of unknown
origin therefore use :func:`sensor_data_qos`.
"""

from __future__ import annotations

try:
    # ReliabilityPolicy / DurabilityPolicy / HistoryPolicy are the Galactic+ names (Humble has them;
    # the older QoS*Policy aliases are deprecated there and removed in newer releases).
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
except ImportError as err:  # pragma: no cover - exercised only where rclpy is missing
    from edge.ros.errors import RosUnavailableError

    raise RosUnavailableError("rclpy") from err

__all__ = [
    "SENSOR_DEPTH",
    "sensor_data_qos",
    "latched_qos",
    "tf_qos",
    "diagnostics_qos",
    "describe_qos",
]

#: Keep-last depth of the sensor streams (rclpy's qos_profile_sensor_data uses 5 too).
SENSOR_DEPTH = 5


def sensor_data_qos(depth: int = SENSOR_DEPTH) -> QoSProfile:
    """Best effort, keep last ``depth``, volatile: for every sensor stream."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.VOLATILE,
    )


def latched_qos(depth: int = 1) -> QoSProfile:
    """Reliable, keep last ``depth``, transient local: camera info, calibration, ``/tf_static``."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )


def tf_qos() -> QoSProfile:
    """Reliable, keep last 100, volatile: what tf2_ros' TransformBroadcaster and listeners use."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=100,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.VOLATILE,
    )


def diagnostics_qos() -> QoSProfile:
    """Reliable, keep last 10, volatile: the system-default profile diagnostic_updater publishes with."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=10,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.VOLATILE,
    )


def describe_qos(qos: QoSProfile) -> str:
    """Short human form, e.g. ``best_effort/volatile/keep_last(5)``, for logs and ``onset`` output."""
    history = f"keep_last({qos.depth})" if qos.history == HistoryPolicy.KEEP_LAST else "keep_all"
    return f"{qos.reliability.name.lower()}/{qos.durability.name.lower()}/{history}"
