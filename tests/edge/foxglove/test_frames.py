"""The rig's frames for Foxglove are the node's ROS 2 frames: renamed by a profile's ros section,
the first LiDAR named as ROS names it, a further LiDAR by its own frame id, each mount once."""

from __future__ import annotations

import numpy as np

from config.models import LidarConfig, MountConfig, RigConfig
from config.ros import RosConfig
from edge.foxglove import rig_frames
from sensors.vocabulary import T_RIG_CAMERA_OPTICAL


def test_default_frames():
    frames = rig_frames(RigConfig())
    assert (frames.stage, frames.rig, frames.camera, frames.lidar) == ("stage", "rig", "camera_optical", "lidar")
    assert [child for child, _ in frames.mounts] == ["camera_optical", "lidar"]
    np.testing.assert_array_equal(frames.mounts[0][1], T_RIG_CAMERA_OPTICAL)
    np.testing.assert_array_equal(frames.mounts[1][1][:3, 3], [0.0, 0.0, 0.12])


def test_a_ros_section_renames_them():
    ros = RosConfig(stage_frame="set", rig_frame="camera_body", camera_frame="a_cam_optical", lidar_frame="velodyne")
    frames = rig_frames(RigConfig(ros=ros))
    assert (frames.stage, frames.rig, frames.camera, frames.lidar) == ("set", "camera_body", "a_cam_optical",
                                                                       "velodyne")
    assert [child for child, _ in frames.mounts] == ["a_cam_optical", "velodyne"]


def test_a_second_lidar_keeps_its_own_frame_and_a_repeated_one_is_mounted_once():
    lidars = [LidarConfig(name="top", port=2368), LidarConfig(name="low", port=2369, frame_id="lidar_low",
                                                               mount=MountConfig(xyz_m=(0.0, 0.0, -0.3))),
              LidarConfig(name="again", port=2370, frame_id="lidar_low")]
    frames = rig_frames(RigConfig(lidars=lidars))
    assert [child for child, _ in frames.mounts] == ["camera_optical", "lidar", "lidar_low"]
    np.testing.assert_array_equal(frames.mounts[2][1][:3, 3], [0.0, 0.0, -0.3])
