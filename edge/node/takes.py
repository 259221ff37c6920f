"""Takes on the edge node: what the control API drives.

A take records every topic the node publishes. The node's own messages are serialized to CDR
(``rclpy.serialization``, the bytes DDS puts on the wire) as they are published, rather than
received back through DDS as ``ros2 bag record`` would: on a 2-core box that second trip through
the middleware costs a quarter of the frame rate. Topics other nodes publish (``extra_topics``)
are recorded through raw subscriptions. Nothing is serialized or subscribed while no take rolls,
except the engines' small result topics (``standing_topics``), subscribed for the node's life.
``/tf_static`` (the rig's mounts) opens every take's bag, and ``/tf`` follows the pose
(:meth:`EdgeNode._record_tf`), so a bag always carries the rig.

What the drivers decoded while the take rolled is counted independently of what was written
(:class:`SensorTally`): for each sensor, the driver's own running count when the first and the
last sample of the take were handed on gives what it decoded in between; ``take.json`` then says
``decoded`` beside ``offered`` (handed to the recorder), and the bag's messages must match both.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Tuple

from edge.node.bag_tf import TF_MSGTYPE, tf_message

__all__ = ["NodeTakes", "SensorTally"]


class SensorTally:
    """One take's count of each sensor's samples (frames, LiDAR points, telemetry samples).

    :meth:`saw` is called with the driver's running total *including* the sample being handed on
    and the sample's size; ``decoded`` is then the driver's count from the take's first sample
    to its last, ``offered`` what the node handed to the recorder.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict = {}

    def saw(self, sensor: str, unit: str, driver_total: int, n: int = 1) -> None:
        with self._lock:
            entry = self._counts.get(sensor)
            if entry is None:
                entry = self._counts[sensor] = {"unit": unit, "base": int(driver_total) - int(n), "last": 0, "offered": 0}
            entry["last"] = int(driver_total)
            entry["offered"] += int(n)

    def document(self) -> dict:
        """``{sensor: {"unit", "decoded", "offered"}}`` for ``take.json``."""
        with self._lock:
            return {name: {"unit": e["unit"], "decoded": e["last"] - e["base"], "offered": e["offered"]}
                    for name, e in self._counts.items()}


def _serializer():
    from rclpy.serialization import serialize_message

    return serialize_message


class NodeTakes:
    """``start`` / ``stop`` / ``status`` of a :class:`~edge.recorder.TakeRecorder`, plus the node's
    raw subscriptions and the static transforms, for :class:`~edge.recorder.ControlServer`."""

    def __init__(self, recorder: Any, ros: Any, rig: Any, clock_ns, extra_topics: Tuple[Tuple[str, str], ...] = (),
                 standing_topics: Tuple[Tuple[str, str], ...] = ()) -> None:
        self.recorder, self._ros, self._rig, self._clock_ns = recorder, ros, rig, clock_ns
        self._extra_topics = tuple(extra_topics)  # (topic, msgtype) published by other nodes
        self._subscriptions: List[Any] = []
        self._lock = threading.Lock()
        #: Held by a sensor's callback while it counts and publishes one sample, and by start/stop
        #: while they switch the tap: a sample is either counted and written, or neither.
        self.gate = threading.Lock()
        self.tally = SensorTally()
        self._serialize = _serializer() if ros is not None else None
        self._declare_topics()
        # Small topics of other nodes (the engines' results) stay subscribed, so DDS has matched
        # them before a take rolls and a take records them from its first second; the recorder
        # drops what arrives while no take rolls.
        self._standing: List[Any] = []
        if ros is not None:
            for topic, msgtype in standing_topics:
                self._standing.append(ros.subscribe_raw(topic, msgtype, self._writer(topic, msgtype)))

    def _declare_topics(self) -> None:
        """Record each topic with the QoS its publisher offers, so ``ros2 bag play`` offers it again."""
        from config.recorder import QosPreset

        self.recorder.declare_topic("/tf", QosPreset.RELIABLE)
        self.recorder.declare_topic("/tf_static", QosPreset.LATCHED)
        if self._ros is None:
            return
        from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

        for topic in self._ros.topics():
            if topic.qos.durability == DurabilityPolicy.TRANSIENT_LOCAL:
                preset = QosPreset.LATCHED
            elif topic.qos.reliability == ReliabilityPolicy.BEST_EFFORT:
                preset = QosPreset.SENSOR_DATA
            else:
                preset = QosPreset.RELIABLE
            self.recorder.declare_topic(topic.name, preset)

    def status(self):
        return self.recorder.status()

    @property
    def recording(self) -> bool:
        return self.recorder.recording

    def start(self, scene: str, shot: str, take: int, tc_in: Optional[Any] = None,
              plan: Optional[Dict[str, Any]] = None):
        """Start a take on the recorder (``plan``: the capture plan it is shot for, into ``take.json``)."""
        with self._lock:
            with self.gate:
                info = self.recorder.start(scene, shot, take, tc_in=tc_in, plan=plan)
                self.tally = SensorTally()
                self._write_static_transforms()
                if self._ros is not None:
                    self._ros.tap = self._record_published
            if self._ros is not None:
                for topic, msgtype in self._extra_topics:
                    self._subscriptions.append(self._ros.subscribe_raw(topic, msgtype, self._writer(topic, msgtype)))
            return info

    def stop(self, tc_out: Optional[Any] = None):
        with self._lock:
            with self.gate:
                self._unsubscribe()
                sensors = self.tally.document()
            # The bag is drained and closed outside the gate: sensors never wait on the disk.
            return self.recorder.stop(tc_out=tc_out, sensors=sensors)

    def close(self) -> None:
        with self._lock:
            self._unsubscribe()
            while self._standing:
                self._ros.unsubscribe(self._standing.pop())

    def _record_published(self, topic: str, msgtype: str, msg: Any) -> None:
        self.recorder.write(topic, msgtype, self._serialize(msg), self._clock_ns())

    def _unsubscribe(self) -> None:
        if self._ros is not None:
            self._ros.tap = None
        while self._subscriptions:
            self._ros.unsubscribe(self._subscriptions.pop())

    def _writer(self, topic: str, msgtype: str):
        def write(data: bytes, recv_ns: int) -> None:
            self.recorder.write(topic, msgtype, data, recv_ns)
        return write

    def _write_static_transforms(self) -> None:
        if self._ros is not None and self._ros.tf_available:
            return  # /tf_static is published, and recorded through its subscription
        ros = self._rig.ros_config()
        now = int(self._clock_ns())
        mounts = [(self._camera_mount(), now, ros.rig_frame, ros.camera_frame)]
        for index, lidar in enumerate(self._rig.lidars):
            mounts.append((lidar.mount.matrix(), now, ros.rig_frame, ros.lidar_frame if index == 0 else lidar.frame_id))
        self.recorder.write_message("/tf_static", TF_MSGTYPE, tf_message(self.recorder.types, mounts), now)

    @staticmethod
    def _camera_mount():
        from sensors.vocabulary import T_RIG_CAMERA_OPTICAL

        return T_RIG_CAMERA_OPTICAL
