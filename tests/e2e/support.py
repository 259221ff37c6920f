"""What the end-to-end tests share: free loopback ports, and the shipped sim-stage profile moved
onto them so that runs never meet each other (or a `make demo` running on the same machine)."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from config import PROFILE_DIR
from sensors.ports import free_loopback_port

__all__ = ["free_port", "sim_profile_on_free_ports", "ProcessOutput"]

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


class ProcessOutput:
    """What a child process (``process``, text stdout) printed, read on a thread of its own;
    :meth:`wait_for` a line. Call :meth:`_follow` once the process is started."""

    process: subprocess.Popen

    def _follow(self) -> None:
        self.lines: List[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout_s: float = 60.0) -> re.Match:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output)
            if match:
                return match
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no {pattern!r} in the output:\n{self.output[-6000:]}")
