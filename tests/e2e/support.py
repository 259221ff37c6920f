"""What the end-to-end tests share: free loopback ports, and the shipped sim-stage profile moved
onto them so that runs never meet each other (or a `make demo` running on the same machine)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Dict, Optional

import yaml

from config import PROFILE_DIR
from sensors.ports import free_loopback_port

__all__ = ["free_port", "sim_profile_on_free_ports"]

#: The sim-stage profile's UDP inputs, by the name the e2e tests give their ports.
_UDP_INPUTS = ("lidar", "freed", "camera", "timecode")


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port on 127.0.0.1 that nothing holds (UDP by default), outside the ephemeral range."""
    return free_loopback_port(kind)


def sim_profile_on_free_ports(path: Path, ports: Optional[Dict[str, int]] = None, **edit) -> Dict[str, int]:
    """Write the sim-stage profile to ``path`` with every UDP input (LiDAR, FreeD, camera RTP, LTC
    RTP) on ``ports`` (free ones where not given); ``edit`` replaces top-level sections' keys,
    e.g. ``ros={"interfaces": None}``. Returns the ports used."""
    data = yaml.safe_load((PROFILE_DIR / "sim-stage.yaml").read_text())
    chosen = {name: (ports or {}).get(name) or free_port() for name in _UDP_INPUTS}
    data["lidars"][0]["port"] = chosen["lidar"]
    data["telemetry"][0]["port"] = chosen["freed"]
    data["camera"]["port"] = chosen["camera"]
    data["timecode"]["input"]["port"] = chosen["timecode"]
    # The node's Foxglove server on a port of its own too (a `make demo` may hold the default).
    data["foxglove"] = {**(data.get("foxglove") or {}), "port": free_loopback_port(socket.SOCK_STREAM)}
    for section, values in edit.items():
        data[section] = {**(data.get(section) or {}), **values}
    path.write_text(yaml.safe_dump(data))
    return chosen
