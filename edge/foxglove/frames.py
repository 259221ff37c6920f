"""The rig's frame names and fixed mounts, as the node's ROS side names them, for Foxglove's transforms.

Frames follow REP-103/105 and :mod:`sensors.vocabulary`: ``stage`` (the world) -> ``rig`` (the
camera body, moved by telemetry) -> ``camera_optical`` (z forward, x right, y down:
:data:`~sensors.vocabulary.T_RIG_CAMERA_OPTICAL`) and ``lidar`` (each LiDAR's
``mount``, ``T_rig_lidar``). The names come from the rig's ROS settings
(:meth:`config.models.RigConfig.ros_config`), so Foxglove shows the same frames as ``/tf`` on the
ROS graph and in recorded takes (``edge/node/bag_tf.py``). As on ROS, the first LiDAR is the one
whose cloud goes out and is named ``ros.lidar_frame``; any further LiDAR keeps its own ``frame_id``.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Tuple

import numpy as np

from sensors.vocabulary import T_RIG_CAMERA_OPTICAL

__all__ = ["RigFrames", "rig_frames"]


class RigFrames(NamedTuple):
    """Frame ids and the fixed ``(child, T_rig_child 4x4)`` mounts under ``rig``."""

    stage: str
    rig: str
    camera: str
    lidar: str
    mounts: Tuple[Tuple[str, np.ndarray], ...]


def rig_frames(rig: Any) -> RigFrames:
    """The frames of ``rig`` (a :class:`config.models.RigConfig`): camera first, then each LiDAR once."""
    ros = rig.ros_config()
    mounts = [(ros.camera_frame, np.array(T_RIG_CAMERA_OPTICAL, dtype=np.float64))]
    children = {ros.camera_frame}
    for index, lidar in enumerate(rig.lidars):
        child = ros.lidar_frame if index == 0 else lidar.frame_id
        if child not in children:
            children.add(child)
            mounts.append((child, np.asarray(lidar.mount.matrix(), dtype=np.float64)))
    return RigFrames(ros.stage_frame, ros.rig_frame, ros.camera_frame, ros.lidar_frame, tuple(mounts))
