"""OnsetRosNode over real DDS: a second rclpy node (own context) echoes every topic it publishes,
camera info is latched, raw CDR is what ROS 2 Humble's types read, inputs from Onset's and from
vendor topics become vocabulary objects, malformed messages and failing consumers are counted."""

from __future__ import annotations

import importlib.util
import threading
import time
from collections import defaultdict

import numpy as np
import pytest

pytest.importorskip("rclpy", reason="needs rclpy and the ROS 2 message packages (pip install -e '.[ros]')")

from rclpy.context import Context  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.node import Node  # noqa: E402
from sensor_msgs.msg import PointCloud2, PointField  # noqa: E402

from config.models import RigConfig  # noqa: E402
from edge.ros import OnsetRosNode, RosConfig, RosInputs, RosNodeError  # noqa: E402
from edge.ros import messages as conv  # noqa: E402
from edge.ros.node import message_class, rig_static_transforms  # noqa: E402
from edge.ros.qos import latched_qos, sensor_data_qos  # noqa: E402
from sensors.vocabulary import (  # noqa: E402
    T_RIG_CAMERA_OPTICAL,
    FrameRate,
    ImageFrame,
    PointCloud,
    RigPose,
    Stamp,
    Timecode,
    quat_to_matrix,
)

pytestmark = pytest.mark.ros

T0_NS = 1_700_000_000_000_000_000
DEADLINE_S = 10.0
K = np.array([[700.0, 0.0, 320.0], [0.0, 700.0, 180.0], [0.0, 0.0, 1.0]])
DISTORTION = (-0.05, 0.01, 0.0, 0.0, 0.0)


class Echo:
    """``ros2 topic echo`` in-process: its own context and node, spinning on a thread, keeping what arrives."""

    def __init__(self, name: str = "echo") -> None:
        self.context = Context()
        self.context.init(args=[])
        self.node = Node(name, context=self.context, start_parameter_services=False)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.received = defaultdict(list)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while not self._stop.is_set():
            self.executor.spin_once(timeout_sec=0.05)

    def subscribe(self, topic: str, msg_class: type, qos, raw: bool = False) -> None:
        def keep(msg) -> None:
            with self._lock:
                self.received[topic].append(msg)

        self.node.create_subscription(msg_class, topic, keep, qos, raw=raw)

    def got(self, topic: str) -> list:
        with self._lock:
            return list(self.received[topic])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        self.executor.shutdown(timeout_sec=2.0)
        self.node.destroy_node()
        self.context.try_shutdown()


@pytest.fixture
def echo():
    e = Echo()
    yield e
    e.close()


def poll(done, retry=None, deadline_s: float = DEADLINE_S) -> bool:
    """Call ``retry`` (republish: best-effort samples sent before discovery are lost) until ``done()``."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if done():
            return True
        if retry is not None:
            retry()
        time.sleep(0.05)
    return done()


def _cloud(n: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    xyz = rng.uniform(1.0, 20.0, (n, 3)).astype(np.float32)
    t_ns = np.arange(n, dtype=np.int64) * 50_000
    cloud = PointCloud(xyz, rng.uniform(0, 100, n).astype(np.float32), (np.arange(n) % 16).astype(np.uint16), t_ns, Stamp(0, 0))
    return cloud, T0_NS + t_ns


def _frame(seed: int = 0) -> ImageFrame:
    rgb = np.random.default_rng(seed).integers(0, 256, (36, 64, 3), dtype=np.uint8)
    return ImageFrame(rgb=rgb, exposure_mid=Stamp(None, T0_NS), frame_index=0)


POSE = RigPose(T0_NS + 5, np.array([1.0, -2.0, 1.5]), np.array([0.0, 0.0, np.sin(0.3), np.cos(0.3)]))
TC = Timecode(1, 0, 0, 5, FrameRate.FPS_24)


def _publish_one_of_each(node: OnsetRosNode) -> None:
    cloud, point_t_ns = _cloud()
    node.publish_cloud(cloud, T0_NS, point_t_ns)
    node.publish_image(_frame(), T0_NS)
    node.publish_camera_info(K, DISTORTION, 64, 36, T0_NS)
    node.publish_timecode(TC, T0_NS)
    node.publish_frame_timecode(TC, T0_NS + 7, "verified")
    node.publish_pose(POSE)
    node.publish_diagnostics([("lidar", 0, "ok", {"rate_hz": 10.0}), ("camera", 1, "late", {})], T0_NS)


def test_echo_node_reads_every_topic(echo):
    with OnsetRosNode(RosConfig(), RigConfig()) as node:
        topics = {info.name: info for info in node.topics()}
        expected = {"/onset/lidar/points", "/onset/camera/image_raw", "/onset/camera/camera_info", "/onset/timecode",
                    "/onset/camera/timecode", "/onset/rig/pose", "/diagnostics"}  # fmt: skip
        if node.tf_available:
            expected |= {"/tf", "/tf_static"}
        assert set(topics) == expected
        for info in topics.values():
            echo.subscribe(info.name, message_class(info.msgtype), info.qos)
        assert poll(lambda: all(echo.got(name) for name in topics), lambda: _publish_one_of_each(node))

        cloud = conv.cloud_from_msg(echo.got("/onset/lidar/points")[0], "time", 0)
        assert len(cloud) == 200 and cloud.stamp.sensor_ns == T0_NS
        np.testing.assert_array_equal(conv.image_from_msg(echo.got("/onset/camera/image_raw")[0], 0, 0).rgb, _frame().rgb)
        calib = conv.camera_info_from_msg(echo.got("/onset/camera/camera_info")[0])
        assert calib.distortion == DISTORTION and calib.frame_id == "camera_optical"
        assert echo.got("/onset/timecode")[0].source == "LTC 01:00:00:05 @24"
        frame_tc = echo.got("/onset/camera/timecode")[0]
        assert frame_tc.source == "verified 01:00:00:05 @24" and frame_tc.header.stamp.nanosec == (T0_NS + 7) % 10**9
        pose = conv.pose_from_msg(echo.got("/onset/rig/pose")[0])
        np.testing.assert_array_equal(pose.position_m, POSE.position_m)
        assert pose.t_ns == POSE.t_ns
        _, entries = conv.diagnostics_from_msg(echo.got("/diagnostics")[0])
        assert [(e.name, int(e.level)) for e in entries] == [("lidar", 0), ("camera", 1)]
        counters = node.counters()
        assert all(counters[name].published >= 1 for name in topics if name != "/tf_static")


def test_camera_info_is_latched_for_a_late_subscriber():
    with OnsetRosNode(RosConfig(), RigConfig()) as node:
        node.publish_camera_info(K, DISTORTION, 64, 36, T0_NS)  # once, before anyone listens
        late = Echo("late")
        try:
            late.subscribe("/onset/camera/camera_info", message_class("sensor_msgs/msg/CameraInfo"), latched_qos())
            assert poll(lambda: late.got("/onset/camera/camera_info"))  # no republish
            calib = conv.camera_info_from_msg(late.got("/onset/camera/camera_info")[0])
            np.testing.assert_array_equal(calib.K, K)
            assert calib.stamp_ns == T0_NS and node.counters()["/onset/camera/camera_info"].published == 1
        finally:
            late.close()


def test_raw_subscription_yields_cdr_that_rosbags_humble_reads():
    from rosbags.typesys import Stores, get_typestore

    typestore = get_typestore(Stores.ROS2_HUMBLE)
    raw = defaultdict(list)
    with OnsetRosNode(RosConfig(), RigConfig()) as node:
        node.subscribe_raw("/onset/camera/image_raw", "sensor_msgs/msg/Image", lambda d, t: raw["image"].append((d, t)))
        node.subscribe_raw("/onset/lidar/points", "sensor_msgs/msg/PointCloud2", lambda d, t: raw["cloud"].append((d, t)))
        node.subscribe_raw("/onset/camera/camera_info", "sensor_msgs/msg/CameraInfo", lambda d, t: raw["info"].append((d, t)))
        cloud, point_t_ns = _cloud()

        def publish() -> None:
            node.publish_image(_frame(), T0_NS + 7)
            node.publish_cloud(cloud, T0_NS, point_t_ns)
            node.publish_camera_info(K, DISTORTION, 64, 36, T0_NS)

        assert poll(lambda: all(raw[k] for k in ("image", "cloud", "info")), publish)

    data, recv_ns = raw["image"][0]
    assert isinstance(data, bytes) and abs(recv_ns - time.time_ns()) < 60 * 10**9
    image = typestore.deserialize_cdr(data, "sensor_msgs/msg/Image")
    assert (image.header.stamp.sec, image.header.stamp.nanosec) == divmod(T0_NS + 7, 10**9)
    assert (image.encoding, image.height, image.width) == ("rgb8", 36, 64)
    np.testing.assert_array_equal(image.data.reshape(36, 64, 3), _frame().rgb)
    points = typestore.deserialize_cdr(raw["cloud"][0][0], "sensor_msgs/msg/PointCloud2")
    assert [f.name for f in points.fields] == ["x", "y", "z", "intensity", "ring", "time"] and points.width == 200
    xyz = np.frombuffer(points.data.tobytes(), conv.CLOUD_DTYPE)
    np.testing.assert_array_equal(xyz["x"], cloud.xyz_m[:, 0])
    info = typestore.deserialize_cdr(raw["info"][0][0], "sensor_msgs/msg/CameraInfo")
    assert info.distortion_model == "plumb_bob" and list(info.d) == list(DISTORTION)


def test_inputs_from_own_topics_become_vocabulary_objects():
    got = defaultdict(list)
    with OnsetRosNode(RosConfig(), RigConfig()) as node:
        node.subscribe_inputs(got["cloud"].append, got["image"].append, got["pose"].append, got["timecode"].append)
        assert poll(lambda: all(got[k] for k in ("cloud", "image", "pose", "timecode")), lambda: _publish_one_of_each(node))
        assert all(c.malformed == 0 and c.callback_errors == 0 for c in node.counters().values())
    cloud, point_t_ns = _cloud()
    received = got["cloud"][0]
    np.testing.assert_array_equal(received.xyz_m, cloud.xyz_m)
    assert np.abs(received.t_ns - point_t_ns).max() <= 10  # master times, float32 offsets over 10 ms
    assert received.stamp.sensor_ns == T0_NS and received.frame_id == "lidar"
    np.testing.assert_array_equal(got["image"][0].rgb, _frame().rgb)
    assert got["image"][0].exposure_mid.sensor_ns == T0_NS
    assert got["pose"][0].t_ns == POSE.t_ns
    np.testing.assert_allclose(got["pose"][0].orientation_xyzw, POSE.orientation_xyzw, atol=1e-15)
    assert got["timecode"][0].timecode == TC and got["timecode"][0].stamp.sensor_ns == T0_NS


def _ouster_cloud(bad: bool = False) -> PointCloud2:
    """An ouster-ros style cloud (48-byte points, ``t`` uint32 ns); ``bad`` declares a field past point_step."""
    names, offsets, types = ["x", "y", "z", "intensity", "t", "ring"], [0, 4, 8, 16, 20, 26], ["f4", "f4", "f4", "f4", "u4", "u2"]
    dtype = np.dtype({"names": names, "formats": ["<" + t for t in types], "offsets": offsets, "itemsize": 48})
    points = np.zeros(64, dtype=dtype)
    points["x"], points["y"], points["z"] = 5.0, np.linspace(-1, 1, 64), 0.5
    points["t"] = np.arange(64) * 781_250
    points["ring"] = np.arange(64) % 16
    datatypes = {"f4": PointField.FLOAT32, "u4": PointField.UINT32, "u2": PointField.UINT16}
    fields = [PointField(name=n, offset=o + (40 if bad and n == "t" else 0), datatype=datatypes[t], count=1)
              for n, o, t in zip(names, offsets, types)]  # fmt: skip
    return PointCloud2(header=conv.header(T0_NS, "os_sensor"), height=1, width=64, fields=fields, is_bigendian=False,
                       point_step=48, row_step=48 * 64, data=conv.bytes_into_msg(points.view(np.uint8)), is_dense=True)  # fmt: skip


def test_vendor_topic_input_and_malformed_messages_are_counted(echo):
    ros = RosConfig(inputs=RosInputs.ouster())
    clouds = []
    with OnsetRosNode(ros, RigConfig()) as node:
        node.subscribe_inputs(on_cloud=clouds.append)
        vendor = echo.node.create_publisher(PointCloud2, "/ouster/points", sensor_data_qos())
        counters = lambda: node.counters()["/ouster/points"]  # noqa: E731
        assert poll(lambda: counters().malformed >= 1, lambda: vendor.publish(_ouster_cloud(bad=True)))
        assert not clouds
        assert poll(lambda: clouds, lambda: vendor.publish(_ouster_cloud()))
        assert "overruns point_step" in counters().last_error
        assert counters().received == counters().malformed + len(clouds)
    cloud = clouds[0]
    assert len(cloud) == 64 and cloud.frame_id == "os_sensor"
    np.testing.assert_array_equal(cloud.t_ns, T0_NS + np.arange(64) * 781_250)


def test_failing_consumer_is_counted_and_the_node_keeps_going():
    poses = []

    def flaky(pose: RigPose) -> None:
        poses.append(pose)
        if len(poses) == 1:
            raise RuntimeError("consumer bug")

    with OnsetRosNode(RosConfig(), RigConfig()) as node:
        node.subscribe_inputs(on_pose=flaky)
        assert poll(lambda: len(poses) >= 3, lambda: node.publish_pose(POSE))
        counter = node.counters()["/onset/rig/pose"]
        assert counter.callback_errors == 1 and "consumer bug" in counter.last_error


def test_lifecycle_two_nodes_coexist_and_use_before_start_or_after_close_fails():
    first = OnsetRosNode(RosConfig(node_name="first"), RigConfig())
    with pytest.raises(RosNodeError, match="start"):
        first.publish_pose(POSE)
    with first, OnsetRosNode(RosConfig(node_name="second", namespace="/stage_b"), RigConfig()) as second:
        assert poll(lambda: "second" in first.node.get_node_names() and "first" in second.node.get_node_names())
        assert second.resolve("points") == "/stage_b/points" and second.resolve("~/health") == "/stage_b/second/health"
    with pytest.raises(RosNodeError, match="closed"):
        first.publish_pose(POSE)
    first.close()  # idempotent
    with pytest.raises(RosNodeError, match="closed"):
        first.start()


def test_static_transforms_and_tf_availability():
    ros, rig = RosConfig(), RigConfig()
    transforms = {t.child_frame_id: t for t in rig_static_transforms(ros, rig, T0_NS)}
    assert set(transforms) == {"camera_optical", "lidar"}
    assert all(t.header.frame_id == "rig" for t in transforms.values())
    r = transforms["camera_optical"].transform.rotation
    np.testing.assert_allclose(quat_to_matrix(np.array([r.x, r.y, r.z, r.w])), T_RIG_CAMERA_OPTICAL[:3, :3], atol=1e-12)
    assert transforms["lidar"].transform.translation.z == pytest.approx(0.12)
    tf2 = importlib.util.find_spec("tf2_msgs") is not None
    assert OnsetRosNode(ros, rig).tf_available is tf2
    assert OnsetRosNode(RosConfig(publish_tf=False), rig).tf_available is False


def test_message_class_names():
    assert message_class("sensor_msgs/msg/Image").__name__ == "Image"
    assert message_class("geometry_msgs/TransformStamped").__name__ == "TransformStamped"
    with pytest.raises(ValueError):
        message_class("sensor_msgs/srv/Image")
    with pytest.raises(ValueError):
        message_class("sensor_msgs/msg/NoSuchThing")
    with pytest.raises(ImportError):
        message_class("no_such_msgs/msg/Thing")


def test_failed_start_rolls_back_and_says_why(monkeypatch):
    import edge.ros.node as node_module

    contexts = []

    class TrackedContext(Context):
        def __init__(self) -> None:
            super().__init__()
            contexts.append(self)

    def no_executor(*args, **kwargs):
        raise RuntimeError("no executor today")

    monkeypatch.setattr(node_module, "Context", TrackedContext)
    monkeypatch.setattr(node_module, "MultiThreadedExecutor", no_executor)
    node = OnsetRosNode(RosConfig(), RigConfig())
    with pytest.raises(RosNodeError, match="onset_edge.*no executor today"):
        node.start()
    assert len(contexts) == 1 and not contexts[0].ok()  # the context it opened is shut again
    assert node.topics() == []
    with pytest.raises(RosNodeError, match="start"):
        node.publish_pose(POSE)
