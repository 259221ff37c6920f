"""GStreamer first, then a ROS 2 node, in one process: the order a test run or a benchmark may take."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_SCRIPT = """
import sys
from config import load_profile
from sensors.camera.driver import CameraDriver
rig = load_profile()
camera = CameraDriver(rig.camera).start()
camera.close()
from edge.ros import OnsetRosNode  # rclpy's libraries load here unless GStreamer's loader took them first
node = OnsetRosNode(rig.ros_config(), rig).start()
node.close()
print("both started")
"""


@pytest.mark.ros
@pytest.mark.gst
def test_a_ros_node_starts_after_a_camera_pipeline():
    env = dict(os.environ, ROS_DOMAIN_ID=str(224 + os.getpid() % 9), ROS_LOCALHOST_ONLY="1",
               ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
    result = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, cwd=ROOT, env=env,
                            timeout=120)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert "both started" in result.stdout
