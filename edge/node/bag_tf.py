"""``/tf`` and ``/tf_static`` for the take's bag, built with the recorder's Humble typestore.

The PyPI ROS 2 wheels have no ``tf2_msgs``, so the node cannot publish ``/tf`` off the set; a
recorded take must still carry it so that Foxglove or RViz show the rig moving. These messages
are rosbags objects serialized by the recorder, not rclpy messages.
"""

from __future__ import annotations

from typing import Any, Iterable, Tuple

import numpy as np

from sensors.vocabulary import NS_PER_S, matrix_to_quat

__all__ = ["tf_message", "TF_MSGTYPE"]

TF_MSGTYPE = "tf2_msgs/msg/TFMessage"


def tf_message(types: Any, transforms: Iterable[Tuple[np.ndarray, int, str, str]]) -> Any:
    """A ``tf2_msgs/msg/TFMessage`` of (``T_parent_child`` 4x4, stamp ns, parent, child) tuples."""
    cls = types.message_class
    Time, Header = cls("builtin_interfaces/msg/Time"), cls("std_msgs/msg/Header")
    Vector3, Quaternion = cls("geometry_msgs/msg/Vector3"), cls("geometry_msgs/msg/Quaternion")
    Transform, TransformStamped = cls("geometry_msgs/msg/Transform"), cls("geometry_msgs/msg/TransformStamped")
    out = []
    for T, stamp_ns, parent, child in transforms:
        T = np.asarray(T, dtype=float)
        x, y, z, w = (float(v) for v in matrix_to_quat(T[:3, :3]))
        sec, nanosec = divmod(int(stamp_ns), NS_PER_S)
        out.append(TransformStamped(
            header=Header(stamp=Time(sec=sec, nanosec=nanosec), frame_id=parent),
            child_frame_id=child,
            transform=Transform(translation=Vector3(x=float(T[0, 3]), y=float(T[1, 3]), z=float(T[2, 3])),
                                rotation=Quaternion(x=x, y=y, z=z, w=w)),
        ))
    return cls(TF_MSGTYPE)(transforms=out)
