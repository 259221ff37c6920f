"""An engine's results on ROS 2: the result envelope's JSON as ``std_msgs/msg/String``.

A custom message cannot be generated without a ROS 2 build (colcon), so each result goes out as
the same versioned JSON as the result stream (:mod:`engines.worker.results`) on
``/onset/<engine>/results`` (reliable, depth 50: a take's recorder subscribes to it). The worker's
node has a context of its own and binds DDS only to the profile's interfaces, as the edge node
does (:func:`edge.ros.dds_profile.apply_dds_profile`). Humble APIs only.
"""

from __future__ import annotations

import logging
from typing import Any, Dict

from engines.worker.results import encode_result

__all__ = ["RosResultPublisher", "results_topic", "RESULT_MSGTYPE"]

_log = logging.getLogger(__name__)
RESULT_MSGTYPE = "std_msgs/msg/String"


def results_topic(engine: str, namespace: str = "/onset") -> str:
    return f"{namespace.rstrip('/')}/{engine}/results"


class RosResultPublisher:
    """Publishes result envelopes on :func:`results_topic`; ``close()`` shuts its context down."""

    def __init__(self, engine: str, ros_config: Any) -> None:
        try:
            from rclpy.context import Context
            from rclpy.node import Node
            from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
            from std_msgs.msg import String
        except ImportError as err:
            from edge.ros.errors import RosUnavailableError

            raise RosUnavailableError(getattr(err, "name", None) or "rclpy") from err
        from edge.ros.dds_profile import apply_dds_profile

        self.topic = results_topic(engine)
        self._String = String
        self._dds = apply_dds_profile(ros_config.interfaces, f"onset_{engine}")
        self._context = Context()
        self._context.init(args=[], domain_id=ros_config.domain_id)
        self._node = Node(f"onset_{engine}", context=self._context, start_parameter_services=False)
        qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)
        self._publisher = self._node.create_publisher(String, self.topic, qos)
        self.sent = 0

    def publish(self, message: Dict[str, Any]) -> None:
        self._publisher.publish(self._String(data=encode_result(message).decode("utf-8")))
        self.sent += 1

    def close(self) -> None:
        self._node.destroy_node()
        self._context.try_shutdown()
        self._dds.restore()
