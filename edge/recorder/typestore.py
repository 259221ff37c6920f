"""Message definitions of every recorded topic, from rosbags' ROS 2 Humble typestore.

The recorder stores opaque CDR bytes (rclpy raw subscriptions hand them over as they came off the
wire); the bag still needs each type's full ``.msg`` definition (MCAP schema encoding
``ros2msg``) so that ``ros2 bag``, the ``mcap`` readers and rosbags can decode it. Definitions
come from the Humble store because Humble is the distribution on the set. ``/tf`` is written as
``tf2_msgs/msg/TFMessage`` with :func:`serialize` since the PyPI ROS wheels lack tf2_msgs.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Tuple

from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from edge.recorder.errors import UnknownMessageTypeError

__all__ = [
    "RECORDED_MSGTYPES",
    "SCHEMA_ENCODING",
    "MESSAGE_ENCODING",
    "MessageTypes",
]

# Every type the node writes into a take (issue 3, point 1); any other type in the Humble store works too.
RECORDED_MSGTYPES: Tuple[str, ...] = (
    "sensor_msgs/msg/PointCloud2",
    "sensor_msgs/msg/Image",
    "sensor_msgs/msg/CompressedImage",
    "sensor_msgs/msg/CameraInfo",
    "sensor_msgs/msg/TimeReference",
    "geometry_msgs/msg/TransformStamped",
    "tf2_msgs/msg/TFMessage",
    "diagnostic_msgs/msg/DiagnosticArray",
)

SCHEMA_ENCODING = "ros2msg"
MESSAGE_ENCODING = "cdr"


class MessageTypes:
    """A private copy of the Humble typestore: definitions, serialization, and vendor types added at run time.

    Thread-safe: the caller's thread checks types while the writer thread asks for definitions.
    """

    def __init__(self) -> None:
        self._store: Typestore = get_typestore(Stores.ROS2_HUMBLE)
        self._definitions: Dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def store(self) -> Typestore:
        """The rosbags typestore (message classes: ``types.store.types['sensor_msgs/msg/Image']``)."""
        return self._store

    def __contains__(self, msgtype: object) -> bool:
        return isinstance(msgtype, str) and msgtype in self._store.types

    def message_class(self, msgtype: str) -> Any:
        """The rosbags dataclass of ``msgtype``."""
        self._require(msgtype)
        return self._store.types[msgtype]

    def definition(self, msgtype: str) -> str:
        """The concatenated ``.msg`` definition rosbag2 stores as an MCAP ``ros2msg`` schema."""
        with self._lock:
            text = self._definitions.get(msgtype)
            if text is None:
                self._require(msgtype)
                text, _ = self._store.generate_msgdef(msgtype, ros_version=2)
                self._definitions[msgtype] = text
            return text

    def serialize(self, msg: Any, msgtype: str) -> bytes:
        """CDR bytes (little endian, with encapsulation header) of a rosbags message object."""
        self._require(msgtype)
        return bytes(self._store.serialize_cdr(msg, msgtype))

    def deserialize(self, data: bytes, msgtype: str) -> Any:
        """The rosbags message object held in CDR ``data``."""
        self._require(msgtype)
        return self._store.deserialize_cdr(data, msgtype)

    def register(self, msgtype: str, msg_definition: str) -> None:
        """Add a vendor type (e.g. a LiDAR driver's custom message) from its ``.msg`` text."""
        with self._lock:
            self._store.register(get_types_from_msg(msg_definition, msgtype))
            self._definitions.pop(msgtype, None)

    def _require(self, msgtype: str) -> None:
        if msgtype not in self:
            raise UnknownMessageTypeError(
                f"message type {msgtype!r} is not in the recorder's ROS 2 Humble typestore; "
                "use a pkg/msg/Type name (e.g. sensor_msgs/msg/Image) or register its definition first"
            )
