"""OnsetRosNode: Onset's rclpy node at the I/O edge, publishing every sensor as standard messages.

The node owns its own ``rclpy.Context`` (init in :meth:`OnsetRosNode.start`, shutdown in
:meth:`OnsetRosNode.close`; no global ``rclpy.init``, so several nodes coexist in one process and
no signal handler is installed behind the caller's back), one rclpy ``Node`` and a
``MultiThreadedExecutor`` spinning on a background thread. Publishing is thread-safe.

Subscriptions convert messages into vocabulary objects; a malformed message is counted (and
logged once per topic), never raised into the executor. A consumer callback that raises is
counted the same way: the executor thread must outlive any one bad message or consumer.

DDS binds only the configured interfaces (``RosConfig.interfaces``, loopback by default): a Fast
DDS profile with an interface allowlist is put in place before the participant is created
(:mod:`edge.ros.dds_profile`), unless the user has a profile of their own.

ROS 2 Humble compatibility (the set runs Humble's system rclpy on Python 3.10): only APIs Humble
has are used: ``Context.init(args, domain_id=)``, ``Node(context=, namespace=,
start_parameter_services=)``, ``create_subscription(..., raw=True)``, ``MultiThreadedExecutor(
num_threads, context=)``, ``spin_once(timeout_sec=)``, ``count_subscribers``. No event handlers
(``rclpy.qos_event`` in Humble became ``rclpy.event_handler`` later), no type-hash or
``MessageInfo`` callbacks (Iron and newer), no ``Node.resolve_topic_name`` (topic names are
resolved here).
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import threading
import time
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional

import numpy as np

from config.models import RigConfig
from edge.ros import messages as conv
from config.ros import RosConfig
from edge.ros.dds_profile import DdsProfile, apply_dds_profile
from edge.ros.errors import RosMessageError, RosNodeError, RosUnavailableError
from edge.ros.qos import diagnostics_qos, latched_qos, sensor_data_qos, tf_qos
from sensors.vocabulary import (
    T_RIG_CAMERA_OPTICAL,
    ImageFrame,
    LensState,
    PointCloud,
    RigPose,
    Timecode,
    TimecodeSample,
)

try:
    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import TransformStamped
    from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
    from rclpy.context import Context
    from rclpy.executors import MultiThreadedExecutor
    from rclpy.node import Node
    from rclpy.qos import QoSProfile
    from sensor_msgs.msg import CameraInfo, Image, PointCloud2, TimeReference
    from std_msgs.msg import String
except ImportError as err:  # pragma: no cover - exercised only where rclpy is missing
    raise RosUnavailableError(getattr(err, "name", None) or "rclpy") from err

try:
    from tf2_msgs.msg import TFMessage
except ImportError:  # the PyPI wheels have no tf2_msgs; ROS 2 hosts do (bags get /tf from the recorder)
    TFMessage = None

__all__ = ["OnsetRosNode", "TopicInfo", "TopicCounters", "rig_static_transforms", "message_class", "msgtype_name"]

_log = logging.getLogger(__name__)
#: How long the executor thread waits for work before checking whether it should stop, s.
_SPIN_PERIOD_S = 0.05


class TopicInfo(NamedTuple):
    """A topic the node publishes: fully resolved ``name``, ``msgtype`` (``pkg/msg/Name``), its QoS."""

    name: str
    msgtype: str
    qos: QoSProfile
    role: str


@dataclasses.dataclass
class TopicCounters:
    """Per-topic counts: messages published, received, malformed (dropped) and consumer errors."""

    published: int = 0
    received: int = 0
    malformed: int = 0
    callback_errors: int = 0
    last_error: str = ""


def msgtype_name(msg_class: type) -> str:
    """``pkg/msg/Name`` of a generated message class (``sensor_msgs/msg/Image``)."""
    return f"{msg_class.__module__.split('.')[0]}/msg/{msg_class.__name__}"


def message_class(msgtype: str) -> type:
    """The generated class of ``pkg/msg/Name`` (or ``pkg/Name``); a missing package says what is missing."""
    parts = msgtype.split("/")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[1] != "msg") or not all(parts):
        raise ValueError(f"message type {msgtype!r} is not 'pkg/msg/Name'")
    package, name = parts[0], parts[-1]
    try:
        module = importlib.import_module(f"{package}.msg")
    except ImportError as err:
        raise RosUnavailableError(package) from err
    cls = getattr(module, name, None)
    if cls is None or not hasattr(cls, "_TYPE_SUPPORT"):
        raise ValueError(f"package {package!r} has no message {name!r}")
    return cls


def rig_static_transforms(ros: RosConfig, rig: RigConfig, stamp_ns: int) -> List[TransformStamped]:
    """The rig's fixed mounts as TransformStamped: rig -> camera_optical, rig -> each LiDAR.

    The first LiDAR is the one published on ``ros.lidar_topic`` and gets ``ros.lidar_frame``; any
    further LiDAR keeps the frame id its own config names.
    """
    transforms = [conv.transform_to_msg(T_RIG_CAMERA_OPTICAL, stamp_ns, ros.rig_frame, ros.camera_frame)]
    children = {ros.camera_frame}
    for index, lidar in enumerate(rig.lidars):
        child = ros.lidar_frame if index == 0 else lidar.frame_id
        if child not in children:
            children.add(child)
            transforms.append(conv.transform_to_msg(lidar.mount.matrix(), stamp_ns, ros.rig_frame, child))
    return transforms


class OnsetRosNode:
    """Onset's ROS 2 node: publishes clouds, images, camera info, timecode, pose, lens, diagnostics, tf.

    Use as ``with OnsetRosNode(ros, rig) as node: ...`` or call :meth:`start` / :meth:`close`.
    ``clock_ns`` is the master clock used for receive times and default stamps. ``lens_topic``:
    where each telemetry sample's lens state goes (``std_msgs/String`` JSON, :mod:`edge.ros.lens`;
    the edge node puts it beside the pose topic); None publishes no lens topic.
    """

    def __init__(self, ros: RosConfig, rig: RigConfig, *, clock_ns: Callable[[], int] = time.time_ns,
                 lens_topic: Optional[str] = None) -> None:
        self._ros, self._rig, self._clock_ns = ros, rig, clock_ns
        self._lens_topic = lens_topic
        self._lock = threading.Lock()
        self._counters: Dict[str, TopicCounters] = {}
        self._topics: Dict[str, TopicInfo] = {}
        self._publishers: Dict[str, object] = {}
        self._context: Optional[Context] = None
        self._node: Optional[Node] = None
        self._executor: Optional[MultiThreadedExecutor] = None
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self._closed = False
        self._dds: Optional[DdsProfile] = None
        self._image_index = 0
        #: ``tap(topic, msgtype, msg)`` hears every message this node publishes, after it went out:
        #: the recorder takes the node's own topics here rather than back through DDS.
        self.tap: Optional[Callable[[str, str, object], None]] = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def tf_available(self) -> bool:
        """True when ``/tf`` and ``/tf_static`` are published (tf2_msgs importable and publish_tf set)."""
        return TFMessage is not None and self._ros.publish_tf

    @property
    def node(self) -> Node:
        """The rclpy Node (for what this class does not wrap); only between start() and close()."""
        return self._require()

    def start(self) -> "OnsetRosNode":
        """Init the context, create the node and its publishers, start spinning; all or nothing."""
        if self._closed:
            raise RosNodeError("this OnsetRosNode was closed; create a new one")
        if self._node is not None:
            return self
        ros = self._ros
        # Before the context and node exist: Fast DDS reads its profile when the participant is made.
        self._dds = apply_dds_profile(ros.interfaces, ros.node_name)
        if not self._dds.applied:
            _log.info("DDS interfaces not restricted by Onset: %s", self._dds.reason)
        context = Context()
        node = None
        try:
            # Own context, no rclpy.init(): no global state and no signal handlers installed.
            context.init(args=[], domain_id=ros.domain_id)
            # No parameters are declared, so the parameter services would be endpoints for nothing.
            node = Node(ros.node_name, namespace=ros.namespace or None, context=context, start_parameter_services=False)
            self._node = node
            sensor = sensor_data_qos(ros.sensor_qos_depth)
            self._advertise("lidar", PointCloud2, ros.lidar_topic, sensor)
            self._advertise("image", Image, ros.image_topic, sensor)
            self._advertise("camera_info", CameraInfo, ros.camera_info_topic, latched_qos())
            self._advertise("timecode", TimeReference, ros.timecode_topic, sensor)
            self._advertise("frame_timecode", TimeReference, ros.frame_timecode_topic, sensor)
            self._advertise("pose", TransformStamped, ros.pose_topic, sensor)
            if self._lens_topic is not None:
                self._advertise("lens", String, self._lens_topic, sensor)
            self._advertise("diagnostics", DiagnosticArray, ros.diagnostics_topic, diagnostics_qos())
            if self.tf_available:
                self._advertise("tf", TFMessage, ros.tf_topic, tf_qos())
                self._advertise("tf_static", TFMessage, ros.tf_static_topic, latched_qos())
            executor = MultiThreadedExecutor(num_threads=2, context=context)
            executor.add_node(node)
        except Exception as err:
            self._node = None
            self._publishers.clear()
            self._topics.clear()
            if node is not None:
                node.destroy_node()
            context.try_shutdown()
            self._dds.restore()
            raise RosNodeError(f"ROS 2 node {ros.node_name!r} failed to start: {err}") from err
        self._context, self._executor = context, executor
        self._thread = threading.Thread(target=self._spin, name=f"onset-ros-{ros.node_name}", daemon=True)
        self._thread.start()
        if self.tf_available:
            transforms = rig_static_transforms(ros, self._rig, self._clock_ns())
            self._publish("tf_static", TFMessage(transforms=transforms))
        return self

    def _spin(self) -> None:
        # Own loop instead of executor.spin(): it stops on our flag within _SPIN_PERIOD_S, whatever
        # the release's executor.shutdown() does with a blocked wait.
        while not self._stop.is_set() and self._context is not None and self._context.ok():
            try:
                self._executor.spin_once(timeout_sec=_SPIN_PERIOD_S)
            except Exception as err:  # shutdown races end the loop; anything else is logged and spun past
                if self._stop.is_set() or not self._context.ok():
                    break
                _log.error("ROS executor: %s", err)
                self._stop.wait(_SPIN_PERIOD_S)  # a persistent fault must not become a busy loop

    def close(self) -> None:
        """Stop spinning, destroy the node, shut the context down. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        if self._executor is not None:
            self._executor.shutdown(timeout_sec=2.0)
        if self._node is not None:
            self._node.destroy_node()
        if self._context is not None:
            self._context.try_shutdown()
        if self._dds is not None:
            self._dds.restore()
        self._node = self._executor = self._thread = None

    def __enter__(self) -> "OnsetRosNode":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _require(self) -> Node:
        if self._node is None:
            raise RosNodeError("OnsetRosNode is closed" if self._closed else "OnsetRosNode.start() was not called")
        return self._node

    # -- names, topics, counters -----------------------------------------------------------

    def resolve(self, topic: str) -> str:
        """Fully qualified name of ``topic`` as this node sees it (namespace and ``~`` applied)."""
        namespace = self._ros.namespace
        if topic.startswith("/"):
            return topic
        if topic.startswith("~/"):
            return f"{namespace}/{self._ros.node_name}/{topic[2:]}"
        return f"{namespace}/{topic}"

    def _advertise(self, role: str, msg_class: type, topic: str, qos: QoSProfile) -> None:
        name = self.resolve(topic)
        self._publishers[role] = self._node.create_publisher(msg_class, name, qos)
        self._topics[role] = TopicInfo(name, msgtype_name(msg_class), qos, role)
        self._counter(name)

    def topics(self) -> List[TopicInfo]:
        """Every topic this node publishes (``/tf`` and ``/tf_static`` only where tf2_msgs exists)."""
        return list(self._topics.values())

    def qos_for(self, topic: str) -> QoSProfile:
        """The QoS this node publishes ``topic`` with, or the sensor-data profile for any other topic."""
        name = self.resolve(topic)
        for info in self._topics.values():
            if info.name == name:
                return info.qos
        return sensor_data_qos(self._ros.sensor_qos_depth)

    def subscriber_count(self, topic: str) -> int:
        """Subscribers the graph shows on ``topic`` (discovery may lag by a second or two)."""
        return int(self._require().count_subscribers(self.resolve(topic)))

    def _counter(self, name: str) -> TopicCounters:
        with self._lock:
            return self._counters.setdefault(name, TopicCounters())

    def counters(self) -> Dict[str, TopicCounters]:
        """A snapshot of per-topic counters, keyed by resolved topic name."""
        with self._lock:
            return {name: dataclasses.replace(c) for name, c in self._counters.items()}

    def _count_error(self, name: str, kind: str, err: BaseException) -> None:
        counter = self._counter(name)
        with self._lock:
            first = getattr(counter, kind) == 0
            setattr(counter, kind, getattr(counter, kind) + 1)
            counter.last_error = f"{type(err).__name__}: {err}"
        (_log.warning if first else _log.debug)("%s on %s: %s", kind, name, counter.last_error)

    # -- publishing --------------------------------------------------------------------------

    def _publish(self, role: str, msg) -> None:
        self._require()
        info = self._topics[role]
        self._publishers[role].publish(msg)
        counter = self._counter(info.name)
        with self._lock:
            counter.published += 1
        tap = self.tap
        if tap is not None:
            tap(info.name, info.msgtype, msg)

    def publish_cloud(self, cloud: PointCloud, stamp_ns: int, point_t_ns: np.ndarray) -> None:
        """One sweep as PointCloud2; ``stamp_ns`` and ``point_t_ns`` are master times (see edge.ros.clouds)."""
        self._publish("lidar", conv.cloud_to_msg(cloud, stamp_ns, point_t_ns, self._ros.lidar_frame))

    def publish_image(self, frame: ImageFrame, stamp_ns: int) -> None:
        """One camera frame as rgb8 Image stamped ``stamp_ns`` (master exposure mid-time)."""
        self._publish("image", conv.image_to_msg(frame, stamp_ns, self._ros.camera_frame))

    def publish_camera_info(
        self, K: np.ndarray, distortion, width_px: int, height_px: int, stamp_ns: int, P: Optional[np.ndarray] = None
    ) -> None:
        """The camera's calibration, latched (a late subscriber gets the last one)."""
        msg = conv.camera_info_to_msg(K, distortion, width_px, height_px, stamp_ns, self._ros.camera_frame, P)
        self._publish("camera_info", msg)

    def publish_timecode(self, tc: Timecode, stamp_ns: int) -> None:
        """A timecode frame starting at master time ``stamp_ns`` as TimeReference."""
        self._publish("timecode", conv.timecode_to_msg(tc, stamp_ns, self._ros.timecode_source))

    def publish_frame_timecode(self, tc: Timecode, frame_stamp_ns: int, verdict: str) -> None:
        """A camera frame's label once verified against its LTC frame, as TimeReference stamped with
        the frame's exposure time; ``verdict`` (verified, corrected, unverified) opens ``source``."""
        self._publish("frame_timecode", conv.timecode_to_msg(tc, frame_stamp_ns, verdict))

    def publish_pose(self, pose: RigPose) -> None:
        """``T_stage_rig`` as TransformStamped, and on ``/tf`` where tf2_msgs is available."""
        msg = conv.pose_to_msg(pose, self._ros.stage_frame, self._ros.rig_frame)
        self._publish("pose", msg)
        if self.tf_available:
            self._publish("tf", TFMessage(transforms=[msg]))

    def publish_lens(self, lens: LensState, t_ns: int, zoom_raw: int, focus_raw: int) -> None:
        """One telemetry sample's lens state (master time ``t_ns``, as its pose) on the lens topic."""
        self._require()
        if "lens" not in self._topics:
            raise RosNodeError("this node publishes no lens topic: create it with lens_topic=...")
        self._publish("lens", conv.lens_to_msg(lens, t_ns, zoom_raw, focus_raw))

    def publish_diagnostics(self, entries: Iterable, stamp_ns: Optional[int] = None) -> None:
        """(name, level, message, key/values[, hardware_id]) entries as one DiagnosticArray."""
        stamp = self._clock_ns() if stamp_ns is None else stamp_ns
        self._publish("diagnostics", conv.diagnostics_to_msg(entries, stamp))

    # -- subscribing -------------------------------------------------------------------------

    def _subscribe(self, msg_class: type, topic: str, qos: QoSProfile, handler: Callable, raw: bool = False):
        node = self._require()
        self._counter(topic)  # listed in counters() from now on, even before the first message
        # One mutually exclusive group per subscription: topics run in parallel, each stays in order.
        group = MutuallyExclusiveCallbackGroup()
        return node.create_subscription(msg_class, topic, handler, qos, callback_group=group, raw=raw)

    def _converting(self, name: str, convert: Callable, deliver: Callable) -> Callable:
        def on_message(msg) -> None:
            recv_ns = self._clock_ns()
            counter = self._counter(name)
            with self._lock:
                counter.received += 1
            try:
                value = convert(msg, recv_ns)
            except (RosMessageError, ValueError, TypeError) as err:
                self._count_error(name, "malformed", err)
                return
            try:
                deliver(value)
            except Exception as err:  # a consumer's bug must not stop the executor thread
                self._count_error(name, "callback_errors", err)

        return on_message

    def subscribe_inputs(
        self,
        on_cloud: Optional[Callable[[PointCloud], None]] = None,
        on_image: Optional[Callable[[ImageFrame], None]] = None,
        on_pose: Optional[Callable[[RigPose], None]] = None,
        on_timecode: Optional[Callable[[TimecodeSample], None]] = None,
    ) -> List[object]:
        """Subscribe the configured input topics (sensor-data QoS) and deliver vocabulary objects.

        Stamps: ``sensor_ns`` is the message's header stamp (the publisher's clock; master time on
        Onset's own topics), ``host_ns`` the master time it arrived. Returns the subscriptions.
        """
        ros, inputs = self._ros, self._ros.inputs
        sensor = sensor_data_qos(ros.sensor_qos_depth)
        wanted = [
            (on_cloud, PointCloud2, inputs.lidar_points, lambda m, t: conv.cloud_from_msg(m, inputs.lidar_time_field, t)),
            (on_image, Image, inputs.image, self._image_from_msg),
            (on_pose, TransformStamped, inputs.pose, lambda m, t: conv.pose_from_msg(m, ros.stage_frame, ros.rig_frame)),
            (on_timecode, TimeReference, inputs.timecode, conv.timecode_from_msg),
        ]
        subscriptions = []
        for deliver, msg_class, topic, convert in wanted:
            if deliver is not None:
                name = self.resolve(topic)
                handler = self._converting(name, convert, deliver)
                subscriptions.append(self._subscribe(msg_class, name, sensor, handler))
        return subscriptions

    def _image_from_msg(self, msg: Image, recv_ns: int) -> ImageFrame:
        frame = conv.image_from_msg(msg, self._image_index, recv_ns)
        self._image_index += 1  # only this subscription's (mutually exclusive) callback touches it
        return frame

    def subscribe_raw(
        self, topic: str, msgtype: str, callback: Callable[[bytes, int], None], qos: Optional[QoSProfile] = None
    ):
        """Deliver ``topic``'s serialized CDR bytes and their master receive time (for the recorder).

        ``qos`` defaults to :meth:`qos_for` (latched topics of this node are received latched).
        """
        name = self.resolve(topic)
        counter = self._counter(name)

        def on_bytes(data: bytes) -> None:
            recv_ns = self._clock_ns()
            with self._lock:
                counter.received += 1
            try:
                callback(data, recv_ns)
            except Exception as err:  # a consumer's bug must not stop the executor thread
                self._count_error(name, "callback_errors", err)

        return self._subscribe(message_class(msgtype), name, qos or self.qos_for(name), on_bytes, raw=True)

    def unsubscribe(self, subscription) -> None:
        """Destroy a subscription returned by :meth:`subscribe_inputs` or :meth:`subscribe_raw`."""
        self._require().destroy_subscription(subscription)
