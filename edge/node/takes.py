"""Takes on the edge node: what the control API drives.

A take records every topic the node publishes, through raw (CDR) subscriptions as ``ros2 bag
record`` does. The subscriptions exist only while a take rolls: with nobody recording, no frame
is copied through DDS a second time. ``/tf_static`` (the rig's mounts) opens every take's bag,
and ``/tf`` follows the pose (:meth:`EdgeNode._record_tf`), so a bag always carries the rig.
"""

from __future__ import annotations

import threading
from typing import Any, List, Optional

from edge.node.bag_tf import TF_MSGTYPE, tf_message

__all__ = ["NodeTakes"]


class NodeTakes:
    """``start`` / ``stop`` / ``status`` of a :class:`~edge.recorder.TakeRecorder`, plus the node's
    raw subscriptions and the static transforms, for :class:`~edge.recorder.ControlServer`."""

    def __init__(self, recorder: Any, ros: Any, rig: Any, clock_ns) -> None:
        self.recorder, self._ros, self._rig, self._clock_ns = recorder, ros, rig, clock_ns
        self._subscriptions: List[Any] = []
        self._lock = threading.Lock()
        self._declare_topics()

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

    def start(self, scene: str, shot: str, take: int, tc_in: Optional[Any] = None):
        with self._lock:
            info = self.recorder.start(scene, shot, take, tc_in=tc_in)
            self._write_static_transforms()
            if self._ros is not None:
                for topic in self._ros.topics():
                    self._subscriptions.append(self._ros.subscribe_raw(
                        topic.name, topic.msgtype, self._writer(topic.name, topic.msgtype), qos=topic.qos))
            return info

    def stop(self, tc_out: Optional[Any] = None):
        with self._lock:
            self._unsubscribe()
            return self.recorder.stop(tc_out=tc_out)

    def close(self) -> None:
        with self._lock:
            self._unsubscribe()

    def _unsubscribe(self) -> None:
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
