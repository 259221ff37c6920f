"""The live stage in Foxglove: the node's Foxglove WebSocket server (``foxglove-sdk``), loopback by default.

A ROS engineer opens Foxglove, connects to ``ws://127.0.0.1:8767`` and sees the stage in 3D: the
camera image (JPEG) with its calibration, the LiDAR sweep, the rig's transforms (stage -> rig ->
camera_optical, lidar), each frame's timecode and the captioner's results (docs/foxglove.md).

Modules, one job each: ``bridge`` (the server, its encoder thread, the calls the node makes),
``channels`` (topics and schemas), ``messages`` (Onset's value objects as Foxglove's well-known
messages), ``frames`` (the rig's frame names and mounts), ``handoff`` (keep-newest slots),
``relay`` (an engine's result stream to a channel), ``errors``. ``foxglove`` itself is imported
only when a bridge starts (or a message is built), so the rest of Onset runs without it.
"""

from __future__ import annotations

from edge.foxglove.bridge import BridgeCounters, FoxgloveBridge
from edge.foxglove.channels import TOPICS
from edge.foxglove.errors import FoxgloveError, FoxgloveMessageError, FoxgloveStartError, FoxgloveUnavailableError
from edge.foxglove.frames import RigFrames, rig_frames

__all__ = [
    "BridgeCounters",
    "FoxgloveBridge",
    "FoxgloveError",
    "FoxgloveMessageError",
    "FoxgloveStartError",
    "FoxgloveUnavailableError",
    "RigFrames",
    "TOPICS",
    "rig_frames",
]
