"""Seeded sample messages of every recorded type, and the independent readers the tests check bags with.

Readers: rosbags' ``AnyReader`` (metadata.yaml + MCAP, deserialized with the bag's own
definitions), the ``mcap`` reader with the ``mcap_ros2`` decoder (MCAP schemas only), and, where
the ROS message packages are installed, rclpy's own CDR deserializer.
"""

from __future__ import annotations

import array
import dataclasses
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

from edge.recorder.typestore import RECORDED_MSGTYPES, MessageTypes

BASE_NS = 1_800_000_000 * 1_000_000_000
TOPICS = {
    "sensor_msgs/msg/PointCloud2": "/onset/lidar/points",
    "sensor_msgs/msg/Image": "/onset/camera/image_raw",
    "sensor_msgs/msg/CompressedImage": "/onset/camera/image_raw/compressed",
    "sensor_msgs/msg/CameraInfo": "/onset/camera/camera_info",
    "sensor_msgs/msg/TimeReference": "/onset/timecode",
    "geometry_msgs/msg/TransformStamped": "/onset/rig/pose",
    "tf2_msgs/msg/TFMessage": "/tf",
    "diagnostic_msgs/msg/DiagnosticArray": "/diagnostics",
}
assert set(TOPICS) == set(RECORDED_MSGTYPES)


def _header(types: MessageTypes, i: int, frame_id: str) -> Any:
    T = types.store.types
    stamp = T["builtin_interfaces/msg/Time"](sec=1_800_000_000 + i, nanosec=(i * 7919) % 10**9)
    return T["std_msgs/msg/Header"](stamp=stamp, frame_id=frame_id)


def _transform(types: MessageTypes, i: int, parent: str, child: str) -> Any:
    T = types.store.types
    rng = np.random.default_rng(i)
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    return T["geometry_msgs/msg/TransformStamped"](
        header=_header(types, i, parent), child_frame_id=child,
        transform=T["geometry_msgs/msg/Transform"](
            translation=T["geometry_msgs/msg/Vector3"](x=float(i) * 0.01, y=float(rng.normal()), z=1.5),
            rotation=T["geometry_msgs/msg/Quaternion"](x=float(q[0]), y=float(q[1]), z=float(q[2]), w=float(q[3]))))


def make_message(types: MessageTypes, msgtype: str, i: int) -> Any:
    """The ``i``-th sample of ``msgtype``: deterministic, small, every field set."""
    T = types.store.types
    rng = np.random.default_rng(1000 + i)
    if msgtype == "sensor_msgs/msg/PointCloud2":
        PF = T["sensor_msgs/msg/PointField"]
        n = 50 + i % 7
        fields = [PF(name="x", offset=0, datatype=7, count=1), PF(name="y", offset=4, datatype=7, count=1),
                  PF(name="z", offset=8, datatype=7, count=1), PF(name="intensity", offset=12, datatype=7, count=1),
                  PF(name="ring", offset=16, datatype=4, count=1), PF(name="time", offset=18, datatype=7, count=1)]
        return T[msgtype](header=_header(types, i, "lidar"), height=1, width=n, fields=fields, is_bigendian=False,
                          point_step=22, row_step=22 * n, data=rng.integers(0, 256, 22 * n, dtype=np.uint8),
                          is_dense=True)
    if msgtype == "sensor_msgs/msg/Image":
        return T[msgtype](header=_header(types, i, "camera_optical"), height=6, width=8, encoding="rgb8",
                          is_bigendian=0, step=24, data=rng.integers(0, 256, 6 * 24, dtype=np.uint8))
    if msgtype == "sensor_msgs/msg/CompressedImage":
        return T[msgtype](header=_header(types, i, "camera_optical"), format="jpeg",
                          data=rng.integers(0, 256, 100 + i, dtype=np.uint8))
    if msgtype == "sensor_msgs/msg/CameraInfo":
        return T[msgtype](header=_header(types, i, "camera_optical"), height=360, width=640,
                          distortion_model="plumb_bob", d=rng.normal(size=5) * 0.01,
                          k=np.array([500.0 + i, 0, 320, 0, 500.0 + i, 180, 0, 0, 1]), r=np.eye(3).ravel(),
                          p=np.array([500.0 + i, 0, 320, 0, 0, 500.0 + i, 180, 0, 0, 0, 1, 0]),
                          binning_x=0, binning_y=0,
                          roi=T["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0, width=0,
                                                                    do_rectify=False))
    if msgtype == "sensor_msgs/msg/TimeReference":
        return T[msgtype](header=_header(types, i, "camera_optical"),
                          time_ref=T["builtin_interfaces/msg/Time"](sec=3600 + i // 24, nanosec=(i % 24) * 41_666_667),
                          source=f"ltc 01:00:{i // 24 % 60:02d}:{i % 24:02d}")
    if msgtype == "geometry_msgs/msg/TransformStamped":
        return _transform(types, i, "stage", "rig")
    if msgtype == "tf2_msgs/msg/TFMessage":
        return T[msgtype](transforms=[_transform(types, i, "stage", "rig"), _transform(types, i + 1, "rig", "lidar")])
    if msgtype == "diagnostic_msgs/msg/DiagnosticArray":
        KV = T["diagnostic_msgs/msg/KeyValue"]
        status = T["diagnostic_msgs/msg/DiagnosticStatus"](
            level=i % 3, name="onset: lidar", message="ok" if i % 3 == 0 else "late packets",
            hardware_id="vlp16-1", values=[KV(key="rate_hz", value=f"{10 + i % 3}"), KV(key="drops", value=str(i))])
        return T[msgtype](header=_header(types, i, ""), status=[status])
    raise KeyError(msgtype)


def plain(value: Any) -> Any:
    """A message of any of the readers as nested dicts, lists and numbers, for comparison."""
    if hasattr(value, "get_fields_and_field_types"):  # rclpy message; a scalar `byte` is bytes of length 1
        return {k: int.from_bytes(getattr(value, k), "little") if kind == "octet" else plain(getattr(value, k))
                for k, kind in value.get_fields_and_field_types().items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # rosbags message
        # ROS constants (upper case) and __msgtype__ are class attributes, not fields of the message.
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not (f.name.startswith("__") or f.name.isupper())}
    if hasattr(value, "__slots__") and not isinstance(value, (bytes, str)):  # mcap_ros2 message
        return {k: plain(getattr(value, k)) for k in value.__slots__}
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (bytes, bytearray, memoryview, array.array)):
        return [int(v) if not isinstance(v, float) else float(v) for v in (value.tolist() if hasattr(value, "tolist")
                                                                            else list(value))]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value


def read_rosbags(bag_dir: Path) -> List[Tuple[str, str, int, Any]]:
    """(topic, msgtype, log time ns, plain message) in log-time order, through rosbags' AnyReader."""
    from rosbags.highlevel import AnyReader

    out = []
    with AnyReader([Path(bag_dir)]) as reader:
        for conn, t_ns, raw in reader.messages():
            out.append((conn.topic, conn.msgtype, t_ns, plain(reader.deserialize(raw, conn.msgtype))))
    return out


def read_mcap(mcap_path: Path) -> List[Tuple[str, str, int, Any]]:
    """The same through the ``mcap`` reader and the ``mcap_ros2`` decoder (schemas from the file)."""
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    out = []
    with open(mcap_path, "rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        for schema, channel, message, decoded in reader.iter_decoded_messages(log_time_order=True):
            out.append((channel.topic, schema.name, message.log_time, plain(decoded)))
    return out


def read_raw_mcap(mcap_path: Path) -> List[Tuple[str, int, bytes]]:
    """(topic, log time, CDR bytes) straight from the MCAP file."""
    from mcap.reader import make_reader

    with open(mcap_path, "rb") as f:
        return [(c.topic, m.log_time, m.data) for _, c, m in make_reader(f).iter_messages(log_time_order=True)]


READERS: Dict[str, Callable[[Path], List[Tuple[str, str, int, Any]]]] = {
    "rosbags": lambda take: read_rosbags(take / "bag"),
    "mcap+mcap_ros2": lambda take: read_mcap(take / "bag" / "bag_0.mcap"),
}
