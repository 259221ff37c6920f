"""The lens topic the node publishes beside the rig pose, which takes need for their focal length:
its versioned JSON both ways, and the rclpy node publishing it over DDS."""

from __future__ import annotations

import json
import math
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.ros.errors import RosMessageError
from edge.ros.lens import LENS_FORMAT_VERSION, lens_from_json, lens_to_json, lens_topic_beside
from sensors.vocabulary import LensState

T0_NS = 1_767_225_601_802_083_005


@given(st.floats(1.0, 2000.0), st.floats(0.1, 1e4), st.one_of(st.none(), st.floats(0.7, 64.0)),
       st.integers(0, 2**63 - 1), st.integers(0, 65535), st.integers(0, 65535))
def test_a_lens_reading_comes_back_as_it_went_out(focal, focus, t_stop, t_ns, zoom_raw, focus_raw):
    reading = lens_from_json(lens_to_json(LensState(focal, focus, t_stop), t_ns, zoom_raw, focus_raw))
    assert reading.lens == LensState(focal, focus, t_stop)
    assert (reading.t_ns, reading.zoom_raw, reading.focus_raw) == (t_ns, zoom_raw, focus_raw)


def test_the_json_is_the_documented_versioned_object():
    text = lens_to_json(LensState(35.0, 3.0), T0_NS, 21845, 4000)
    assert json.loads(text) == {"v": 1, "t_ns": T0_NS, "focal_length_mm": 35.0, "focus_distance_m": 3.0,
                                "t_stop": None, "zoom_raw": 21845, "focus_raw": 4000}
    assert lens_topic_beside("/onset/rig/pose") == "/onset/rig/lens"
    assert lens_topic_beside("/set/crane/pose") == "/set/crane/lens" and lens_topic_beside("pose") == "lens"


@pytest.mark.parametrize("document, problem", [
    ("not json", "not JSON"),
    ("[1, 2]", "must be a JSON object"),
    ({"v": LENS_FORMAT_VERSION + 1}, "version 2: this Onset reads version 1 to 1"),
    ({"v": True}, "version True"),
    ({"v": 1, "t_ns": 5}, "lacks focal_length_mm, focus_distance_m, zoom_raw, focus_raw"),
    ({"v": 1, "t_ns": 5.5, "focal_length_mm": 35, "focus_distance_m": 3, "zoom_raw": 1, "focus_raw": 1}, "'t_ns'"),
    ({"v": 1, "t_ns": 5, "focal_length_mm": "35", "focus_distance_m": 3, "zoom_raw": 1, "focus_raw": 1},
     "'focal_length_mm' must be a finite number"),
    ({"v": 1, "t_ns": 5, "focal_length_mm": 0.0, "focus_distance_m": 3, "zoom_raw": 1, "focus_raw": 1},
     "must be positive"),
    ({"v": 1, "t_ns": 5, "focal_length_mm": 35, "focus_distance_m": 3, "t_stop": True, "zoom_raw": 1,
      "focus_raw": 1}, "'t_stop'"),
])
def test_what_is_not_a_lens_reading_is_refused_saying_why(document, problem):
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(RosMessageError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        lens_from_json(text)
    with pytest.raises(ValueError):
        lens_to_json(LensState(math.nan, 3.0), T0_NS, 0, 0)


@pytest.mark.ros
def test_the_node_publishes_the_lens_beside_the_pose_only_when_given_a_lens_topic():
    pytest.importorskip("rclpy", reason="needs rclpy and the ROS 2 message packages")
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from std_msgs.msg import String

    from config.models import RigConfig
    from edge.ros import OnsetRosNode, RosConfig, RosNodeError
    from edge.ros import messages as conv
    from edge.ros.qos import sensor_data_qos

    got: list = []
    context = Context()
    context.init(args=[])
    echo = Node("lens_echo", context=context, start_parameter_services=False)
    echo.create_subscription(String, "/onset/rig/lens", got.append, sensor_data_qos(5))
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(echo)
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            executor.spin_once(timeout_sec=0.05)

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    lens = LensState(50.0, 2.5, 2.8)
    try:
        with OnsetRosNode(RosConfig(), RigConfig(), lens_topic="/onset/rig/lens") as node:
            topics = {t.name: t.msgtype for t in node.topics()}
            assert topics["/onset/rig/lens"] == "std_msgs/msg/String"
            deadline = time.monotonic() + 10.0
            while not got and time.monotonic() < deadline:
                node.publish_lens(lens, T0_NS, 100, 200)  # best effort: the first ones may go before discovery
                time.sleep(0.05)
            assert got, "no lens message arrived"
            assert conv.lens_from_msg(got[0]) == (T0_NS, lens, 100, 200)
            assert node.counters()["/onset/rig/lens"].published >= 1
        with OnsetRosNode(RosConfig(), RigConfig()) as plain:
            assert "/onset/rig/lens" not in {t.name for t in plain.topics()}
            with pytest.raises(RosNodeError, match="publishes no lens topic"):
                plain.publish_lens(lens, T0_NS, 0, 0)
    finally:
        stop.set()
        spinner.join(timeout=5.0)
        executor.shutdown(timeout_sec=2.0)
        echo.destroy_node()
        context.try_shutdown()
