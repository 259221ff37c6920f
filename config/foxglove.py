"""Settings of the node's Foxglove server (``foxglove:`` in a profile): where it listens, what it sends.

The edge node speaks the Foxglove WebSocket protocol (the ``foxglove-sdk`` package's server,
:mod:`edge.foxglove`, docs/foxglove.md), so a ROS engineer opens Foxglove, connects to
``ws://127.0.0.1:8767`` and sees the stage in 3D. Like the node's control API it binds loopback
only (``127.0.0.1``, ``::1``, ``localhost``): a Foxglove on another machine reaches it through an
SSH tunnel. A stage-network address is refused unless ``allow_remote`` says so, since whoever
reaches the port sees the camera's picture and the set in 3D, with no token asked.

Port 8767: 8765 is the node's control API, 8080 the preview. JPEG quality is OpenCV's (10-100).
"""

from __future__ import annotations

import ipaddress
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

__all__ = ["FoxgloveConfig", "DEFAULT_FOXGLOVE_PORT", "is_loopback_host"]

DEFAULT_FOXGLOVE_PORT = 8767


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost`` (the control API's rule)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class FoxgloveConfig(BaseModel):
    """The node's Foxglove WebSocket server: bind address, image encoding, cloud rate, engine results."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="serve the live stage to Foxglove (the Foxglove WebSocket protocol)")
    allow_remote: bool = Field(
        False, description="allow a non-loopback host: anyone who reaches it sees the camera and the stage, "
                           "no token is asked")
    host: str = Field("127.0.0.1", description="address to bind: loopback (an SSH tunnel brings a remote "
                                               "Foxglove in); a stage-network address needs allow_remote")
    port: int = Field(DEFAULT_FOXGLOVE_PORT, ge=0, le=65535,
                      description="TCP port of the WebSocket (0: any free port, for tests)")
    jpeg_quality: int = Field(80, ge=10, le=100, description="JPEG quality of the camera image (10-100)")
    cloud_every_n_sweeps: int = Field(
        1, ge=1, le=100, description="send one LiDAR sweep in this many (1: every sweep, 10 Hz for a VLP-16 "
                                     "at 600 RPM)")
    client_backlog_messages: int = Field(
        128, ge=8, le=4096, description="messages queued per Foxglove client before its oldest are dropped "
                                        "(a slow client skips, never holds the node)")
    captions: bool = Field(True, description="relay the captioner worker's results on /onset/captioner/captions")
    captions_endpoint: Optional[str] = Field(
        None, description="zmq endpoint of the captioner's results (None: engines.captioner.results_endpoint)")
    style_results: bool = Field(True, description="relay the style worker's results on /onset/style/results")
    style_endpoint: Optional[str] = Field(
        None, description="zmq endpoint of the style worker's results (None: engines.style.results_endpoint)")

    @field_validator("host")
    @classmethod
    def _address(cls, value: str, info: ValidationInfo) -> str:
        if value != "localhost":
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise ValueError(f"host must be an IP address or localhost, got {value!r}") from None
        # allow_remote is declared before host, so it has been validated (or failed) already.
        if not is_loopback_host(value) and not info.data.get("allow_remote", False):
            raise ValueError(
                f"{value!r} is not a loopback address: the Foxglove server binds loopback only unless "
                "allow_remote is true (a remote Foxglove comes in through an SSH tunnel instead: "
                f"ssh -L {DEFAULT_FOXGLOVE_PORT}:127.0.0.1:{DEFAULT_FOXGLOVE_PORT} <edge box>)")
        return value
