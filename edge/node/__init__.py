"""The edge node: drivers, synchronizer, fused-frame stream, ROS 2 topics, recorder and control API
wired together (:class:`EdgeNode`), and its health (status table, diagnostics)."""

from edge.node.app import EdgeNode
from edge.node.health import NodeStatus, diagnostics_entries, format_node_status

__all__ = ["EdgeNode", "NodeStatus", "diagnostics_entries", "format_node_status"]
