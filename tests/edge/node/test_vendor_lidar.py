"""A LiDAR that a vendor driver already publishes (ouster-ros) feeds the node instead of Onset's driver."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from sensors.ports import free_loopback_port

pytestmark = [pytest.mark.ros, pytest.mark.gst]


def _ouster_cloud(stamp_ns: int, beams: int = 16, columns: int = 128):
    """ouster-ros' layout: 48-byte points, per-column ``t`` uint32 ns after the header stamp."""
    from sensor_msgs.msg import PointCloud2, PointField

    from edge.ros import messages as conv

    dtype = np.dtype({"names": ["x", "y", "z", "intensity", "t", "ring"],
                      "formats": ["<f4", "<f4", "<f4", "<f4", "<u4", "<u2"],
                      "offsets": [0, 4, 8, 16, 20, 26], "itemsize": 48})
    points = np.zeros((beams, columns), dtype=dtype)
    azimuth = np.linspace(0, 2 * np.pi, columns, endpoint=False)[None, :]
    points["x"], points["y"], points["z"] = 5 * np.cos(azimuth), 5 * np.sin(azimuth), np.linspace(-1, 1, beams)[:, None]
    points["t"] = (np.arange(columns) * 780_000)[None, :]  # a 100 ms sweep
    points["ring"] = np.arange(beams)[:, None]
    fields = [PointField(name=n, offset=o, datatype=d, count=1) for n, o, d in
              (("x", 0, 7), ("y", 4, 7), ("z", 8, 7), ("intensity", 16, 7), ("t", 20, 6), ("ring", 26, 4))]
    return PointCloud2(header=conv.header(stamp_ns, "os_sensor"), height=beams, width=columns, fields=fields,
                       is_bigendian=False, point_step=48, row_step=48 * columns,
                       data=conv.bytes_into_msg(points.view(np.uint8).reshape(-1)), is_dense=False)


def test_node_takes_a_vendor_pointcloud2_topic(monkeypatch):
    from rclpy.context import Context
    from rclpy.node import Node
    from sensor_msgs.msg import PointCloud2

    from config import load_rig
    from config.ros import RosConfig, RosInputs
    from edge.node import EdgeNode
    from edge.ros.qos import sensor_data_qos

    monkeypatch.setenv("ROS_DOMAIN_ID", str(1 + (os.getpid() * 13) % 99))
    rig = load_rig({
        "lidars": [{"name": "ouster", "source": "ros", "port": 0}],
        "telemetry": [{"name": "freed", "port": free_loopback_port()}],
        "ros": RosConfig(inputs=RosInputs.ouster()).model_dump(mode="json"),
    })
    context = Context()
    context.init(args=[])
    vendor = Node("fake_ouster", context=context, start_parameter_services=False)
    publisher = vendor.create_publisher(PointCloud2, "/ouster/points", sensor_data_qos(5))
    node = EdgeNode(rig, with_ros=True, stream_endpoint="tcp://127.0.0.1:0").start()
    try:
        assert node.sensors.handles and all(h.family != "lidar" for h in node.sensors.handles)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            publisher.publish(_ouster_cloud(time.time_ns()))
            status = node.sync.snapshot().sensors["ouster"]
            if status.samples >= 3:
                break
            time.sleep(0.1)
        status = node.sync.snapshot().sensors["ouster"]
        assert status.samples >= 3, node.sync.snapshot()
        assert status.buffered > 0 and status.newest_ns is not None
        assert abs(status.newest_ns - time.time_ns()) < 2_000_000_000  # host-stamped points, on the master clock
    finally:
        node.close()
        vendor.destroy_node()
        context.try_shutdown()
