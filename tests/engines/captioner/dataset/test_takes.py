"""The in-process takes write what the node writes: every message's CDR decodes to the same values
as the node's own conversions (``edge/ros/messages.py``) serialized by rclpy, and the take lists the
node's topics with their types."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from edge.recorder.typestore import MessageTypes
from sensors.vocabulary import FrameRate, ImageFrame, LensState, PointCloud, RigPose, Stamp, Timecode
from tests.engines.captioner.dataset.conftest import FULL, NO_LENS
from tests.engines.captioner.dataset.takes import node_messages

T0_NS = 1_767_225_600_135_411_111


def _plain(value):
    """A rosbags message as nested dicts and lists, for comparing values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not f.name.startswith("__")}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@pytest.mark.ros
def test_every_message_is_what_the_node_would_write(pan):
    pytest.importorskip("rclpy", reason="needs rclpy and the ROS 2 message packages")
    from rclpy.serialization import serialize_message

    from edge.ros import messages as conv

    rig = pan.rig
    ros = rig.ros_config()
    types = MessageTypes()
    ours = node_messages(types, rig)
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (36, 64, 3), dtype=np.uint8)
    xyz = rng.normal(size=(50, 3)).astype(np.float32)
    intensity = rng.uniform(0, 100, 50).astype(np.float32)
    ring = (np.arange(50) % 16).astype(np.uint16)
    point_t = T0_NS + np.arange(50, dtype=np.int64) * 55_296
    pose = RigPose(T0_NS, np.array([1.0, -2.0, 1.5]), np.array([0.0, 0.0, np.sin(0.3), np.cos(0.3)]))
    tc = Timecode(1, 0, 0, 5, FrameRate.FPS_24)
    K = np.array([[700.0, 0.0, 319.5], [0.0, 700.0, 179.5], [0.0, 0.0, 1.0]])
    lens = LensState(35.0, 3.0)
    pairs = [
        ("sensor_msgs/msg/Image", ours.image(rgb, T0_NS),
         conv.image_to_msg(ImageFrame(rgb, Stamp(None, T0_NS), 0), T0_NS, ros.camera_frame)),
        ("sensor_msgs/msg/PointCloud2", ours.cloud(xyz, intensity, ring, point_t),
         conv.cloud_to_msg(PointCloud(xyz, intensity, ring, point_t, Stamp(0, 0)), int(point_t[0]), point_t,
                           ros.lidar_frame)),
        ("geometry_msgs/msg/TransformStamped", ours.pose(pose), conv.pose_to_msg(pose, ros.stage_frame, ros.rig_frame)),
        ("sensor_msgs/msg/TimeReference", ours.timecode(tc, T0_NS, "verified"),
         conv.timecode_to_msg(tc, T0_NS, "verified")),
        ("sensor_msgs/msg/CameraInfo", ours.camera_info(K, (-0.05, 0.01, 0.0, 0.0, 0.0), 640, 360, T0_NS),
         conv.camera_info_to_msg(K, (-0.05, 0.01, 0.0, 0.0, 0.0), 640, 360, T0_NS, ros.camera_frame)),
        ("std_msgs/msg/String", ours.lens(lens, T0_NS, 100, 200), conv.lens_to_msg(lens, T0_NS, 100, 200)),
    ]
    for msgtype, rosbags_msg, rclpy_msg in pairs:
        ours_cdr, node_cdr = types.serialize(rosbags_msg, msgtype), bytes(serialize_message(rclpy_msg))
        # Same layout and the same values; alignment padding is whatever Fast CDR's buffer held.
        assert len(ours_cdr) == len(node_cdr), msgtype
        assert _plain(types.deserialize(ours_cdr, msgtype)) == _plain(types.deserialize(node_cdr, msgtype)), msgtype


def test_a_take_lists_the_nodes_topics_and_the_variants_leave_theirs_out(pan):
    document = json.loads((pan.takes[FULL] / "take.json").read_text())
    topics = {t["name"]: t["type"] for t in document["topics"]}
    assert topics == {
        "/onset/camera/image_raw": "sensor_msgs/msg/Image", "/onset/camera/camera_info": "sensor_msgs/msg/CameraInfo",
        "/onset/lidar/points": "sensor_msgs/msg/PointCloud2", "/onset/rig/pose": "geometry_msgs/msg/TransformStamped",
        "/onset/rig/lens": "std_msgs/msg/String", "/onset/timecode": "sensor_msgs/msg/TimeReference",
        "/onset/camera/timecode": "sensor_msgs/msg/TimeReference", "/tf": "tf2_msgs/msg/TFMessage",
        "/tf_static": "tf2_msgs/msg/TFMessage"}
    without = {t["name"] for t in json.loads((pan.takes[NO_LENS] / "take.json").read_text())["topics"]}
    assert without == set(topics) - {"/onset/rig/lens"}
    assert document["status"] == "complete" and not any(document["dropped"].values())
