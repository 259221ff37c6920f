"""Onset's ROS 2 layer: config, QoS, message conversions and the rclpy node (docs/architecture.md, ROS 2).

- :mod:`config.ros` — :class:`RosConfig` (node, topics, frame ids, vendor input topics);
  importable without ROS.
- :mod:`edge.ros.qos` — sensor-data and latched profiles.
- :mod:`edge.ros.messages` (with :mod:`edge.ros.clouds`, :mod:`edge.ros.stamps`) — pure
  conversions between ``sensors.vocabulary`` objects and standard messages, both ways.
- :mod:`edge.ros.lens` — the lens topic's versioned JSON (``std_msgs/String`` beside the pose);
  pure Python, so take readers without ROS decode it too.
- :mod:`edge.ros.node` — :class:`OnsetRosNode`, the node at the I/O edge.

Everything but the config and the errors needs rclpy and the message packages; those are
imported on first use, and a missing one raises :class:`RosUnavailableError` saying what to install.
"""

from __future__ import annotations

import importlib

from config.ros import LidarTimeField, RosConfig, RosInputs
from edge.ros.errors import (
    CloudLayoutError,
    ImageLayoutError,
    RosError,
    RosMessageError,
    RosNodeError,
    RosUnavailableError,
    StampRangeError,
)

__all__ = [
    "RosConfig",
    "RosInputs",
    "LidarTimeField",
    "RosError",
    "RosUnavailableError",
    "RosMessageError",
    "CloudLayoutError",
    "ImageLayoutError",
    "StampRangeError",
    "RosNodeError",
    "OnsetRosNode",
    "TopicInfo",
    "TopicCounters",
    "rig_static_transforms",
    "DiagnosticEntry",
    "DiagnosticLevel",
    "CameraCalibration",
]

# Names that need rclpy / message packages: resolved lazily (PEP 562) so `import edge.ros` is light.
_LAZY = {
    "OnsetRosNode": "edge.ros.node",
    "TopicInfo": "edge.ros.node",
    "TopicCounters": "edge.ros.node",
    "rig_static_transforms": "edge.ros.node",
    "DiagnosticEntry": "edge.ros.messages",
    "DiagnosticLevel": "edge.ros.messages",
    "CameraCalibration": "edge.ros.messages",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'edge.ros' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
