"""The edge node starts all or nothing, and says which part failed."""

from __future__ import annotations

import socket

import pytest

from config import load_rig
from edge.node import EdgeNode
from sensors.errors import SensorOpenError
from sensors.ports import free_loopback_port

pytestmark = pytest.mark.gst


def _assert_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", port))


def test_a_failing_part_closes_the_parts_already_open():
    freed_port = free_loopback_port()
    rig = load_rig({"lidars": [{"name": "ouster", "source": "ros", "port": 0}],
                    "telemetry": [{"name": "freed", "port": freed_port}]})
    node = EdgeNode(rig, with_ros=False, stream_endpoint="tcp://127.0.0.1:0")
    with pytest.raises(SensorOpenError, match="'ouster' has source: ros, which needs the ROS 2 node"):
        node.start()
    assert node.sensors is not None and node.sensors.handles == []  # the drivers were closed again
    _assert_port_free(freed_port)


def test_the_recorder_needs_a_control_token(tmp_path):
    rig = load_rig({"lidars": [{"port": free_loopback_port()}], "telemetry": [{"port": free_loopback_port()}]})
    node = EdgeNode(rig, with_ros=False, recorder_config=rig.recorder.model_copy(update={"takes_dir": tmp_path}),
                    stream_endpoint="tcp://127.0.0.1:0")
    with pytest.raises(SensorOpenError, match="ONSET_CONTROL_TOKEN"):
        node.start()


def test_without_ros_the_node_fuses_and_closes_cleanly():
    lidar_port, freed_port = free_loopback_port(), free_loopback_port()
    rig = load_rig({"lidars": [{"port": lidar_port}], "telemetry": [{"port": freed_port}]})
    with EdgeNode(rig, with_ros=False, stream_endpoint="tcp://127.0.0.1:0") as node:
        assert node.ros is None and node.stream.endpoint.startswith("tcp://127.0.0.1:")
        assert {h.family for h in node.sensors.handles} == {"lidar", "telemetry", "camera", "timecode"}
    _assert_port_free(lidar_port)
    _assert_port_free(freed_port)
