"""Errors of Onset's ROS 2 layer: one root, narrow subclasses that say what went wrong."""

from __future__ import annotations

from sensors.errors import DecodeError

__all__ = [
    "RosError",
    "RosUnavailableError",
    "RosMessageError",
    "CloudLayoutError",
    "ImageLayoutError",
    "StampRangeError",
    "RosNodeError",
]

_INSTALL_HINT = (
    "on a ROS 2 Humble host source /opt/ros/humble/setup.bash; elsewhere "
    "pip install 'ros-rclpy[fastrtps]' ros-sensor-msgs ros-std-msgs ros-geometry-msgs ros-diagnostic-msgs "
    "(or the project's [ros] extra)"
)


class RosError(Exception):
    """Root of every error raised by :mod:`edge.ros`."""


class RosUnavailableError(RosError, ImportError):
    """rclpy or a ROS 2 message package is not importable here; says what to install."""

    def __init__(self, missing: str) -> None:
        self.missing = missing
        super().__init__(f"ROS 2 Python package {missing!r} is not importable: {_INSTALL_HINT}")


class RosMessageError(RosError, DecodeError):
    """A received ROS message that cannot become a vocabulary object (bad layout, values or frames).

    The node catches these, counts the message as malformed and goes on.
    """


class CloudLayoutError(RosMessageError):
    """A ``sensor_msgs/PointCloud2`` whose fields, steps or data length do not describe its points."""


class ImageLayoutError(RosMessageError):
    """A ``sensor_msgs/Image`` with an unsupported encoding or a step/size that does not add up."""


class StampRangeError(RosError, ValueError):
    """A master time in ns that a ``builtin_interfaces/Time`` (int32 seconds) cannot carry."""


class RosNodeError(RosError):
    """The node used before ``start()``, after ``close()``, or failing to start."""
