"""RosConfig: defaults, vendor presets, and names ROS 2 would reject (no rclpy needed)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.models import CameraConfig, LidarConfig, RigConfig, TelemetryConfig
from config.ros import LidarTimeField, RosConfig, RosInputs


def test_defaults_name_every_stream_and_frame():
    ros = RosConfig()
    assert (ros.lidar_topic, ros.lidar_frame) == ("/onset/lidar/points", "lidar")
    assert (ros.image_topic, ros.camera_info_topic, ros.camera_frame) == (
        "/onset/camera/image_raw",
        "/onset/camera/camera_info",
        "camera_optical",
    )
    assert (ros.timecode_topic, ros.pose_topic) == ("/onset/timecode", "/onset/rig/pose")
    assert (ros.stage_frame, ros.rig_frame) == ("stage", "rig")
    assert (ros.tf_topic, ros.tf_static_topic, ros.diagnostics_topic) == ("/tf", "/tf_static", "/diagnostics")
    assert ros.publish_tf is True
    # Inputs default to the node's own outputs: the synchronizer reads topics, not drivers.
    assert ros.inputs.lidar_points == ros.lidar_topic and ros.inputs.image == ros.image_topic
    assert ros.inputs.pose == ros.pose_topic and ros.inputs.timecode == ros.timecode_topic
    assert ros.inputs.lidar_time_field is LidarTimeField.TIME


def test_vendor_presets():
    assert (RosInputs.ouster().lidar_points, RosInputs.ouster().lidar_time_field) == ("/ouster/points", LidarTimeField.T)
    velodyne = RosInputs.velodyne(image="/cam/image")
    assert (velodyne.lidar_points, velodyne.lidar_time_field, velodyne.image) == (
        "/velodyne_points",
        LidarTimeField.TIME,
        "/cam/image",
    )


def test_loads_from_a_profile_dict():
    ros = RosConfig.model_validate(
        {"namespace": "/stage_a", "inputs": {"lidar_points": "/ouster/points", "lidar_time_field": "t"}}
    )
    assert ros.inputs.lidar_time_field is LidarTimeField.T and ros.namespace == "/stage_a"


@pytest.mark.parametrize(
    "overrides",
    [
        {"lidar_topic": "/onset//points"},
        {"image_topic": "/onset/camera/"},
        {"pose_topic": "/onset/9rig"},
        {"diagnostics_topic": "/diag nostics"},
        {"camera_frame": "/camera_optical"},
        {"lidar_frame": ""},
        {"node_name": "onset-edge"},
        {"namespace": "stage_a"},
        {"timecode_source": "LTC reader"},
        {"domain_id": 233},
        {"sensor_qos_depth": 0},
        {"inputs": {"lidar_time_field": "stamp"}},
        {"inputs": {"image": "cam image"}},
        {"unknown_key": 1},
    ],
)
def test_rejects_what_ros_would_reject(overrides):
    with pytest.raises(ValidationError):
        RosConfig.model_validate(overrides)


def test_from_rig_takes_the_rigs_topics_and_frames():
    assert RosConfig.from_rig(RigConfig()) == RosConfig()
    rig = RigConfig(
        lidars=[LidarConfig(topic="/set/lidar_top/points", frame_id="lidar_top")],
        camera=CameraConfig(topic="/set/cam_a/image", frame_id="cam_a_optical"),
        telemetry=[TelemetryConfig(topic="/set/crane/pose")],
    )
    ros = RosConfig.from_rig(rig, node_name="set_edge")
    assert (ros.lidar_topic, ros.lidar_frame) == ("/set/lidar_top/points", "lidar_top")
    assert (ros.image_topic, ros.camera_info_topic, ros.camera_frame) == ("/set/cam_a/image", "/set/cam_a/camera_info", "cam_a_optical")
    assert (ros.pose_topic, ros.node_name) == ("/set/crane/pose", "set_edge")
    assert (ros.inputs.lidar_points, ros.inputs.image, ros.inputs.pose) == ("/set/lidar_top/points", "/set/cam_a/image", "/set/crane/pose")
    assert RosConfig.from_rig(rig, inputs=RosInputs.ouster()).inputs.lidar_points == "/ouster/points"
