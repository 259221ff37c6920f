"""Nothing listens beyond what the profile names: every socket that `onset node run` and the
simulated stage's processes hold is bound to loopback (127.0.0.1, ::1) while the node runs and
streams, ROS 2 included (Fast DDS interface allowlist, ``ros.interfaces``).

The same check run on a node whose profile lifts the allowlist (``ros.interfaces: null``) must
find DDS on every interface: the check can fail, and does when DDS is not restricted.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.support import free_port, sim_profile_on_free_ports

psutil = pytest.importorskip("psutil")

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = {"127.0.0.1", "::1"}
START_DEADLINE_S = 90.0
SAMPLES = 10  # socket listings taken while the node runs, 0.3 s apart

pytestmark = [pytest.mark.ros, pytest.mark.gst, pytest.mark.slow]




def _sockets(root: int) -> dict:
    """(address, port, type) -> 'pid name' of every inet socket bound by ``root`` and its descendants."""
    out = {}
    try:
        procs = [psutil.Process(root)]
        procs += procs[0].children(recursive=True)
    except psutil.NoSuchProcess:
        return out
    for proc in procs:
        try:
            name = f"{proc.pid} {' '.join(proc.cmdline())[:100]}"
            for conn in proc.net_connections(kind="inet"):
                if conn.laddr:
                    kind = "udp" if conn.type == socket.SOCK_DGRAM else "tcp"
                    out[(conn.laddr.ip, conn.laddr.port, kind)] = name
        except psutil.Error:
            continue
    return out


def _domain() -> int:
    return 215 + (os.getpid() + 4) % 9  # 215..223: DDS ports clear of Linux's ephemeral range


def _dds_ports(seen: dict) -> set:
    """The UDP ports in ``seen`` that are in the domain's DDS range (7400 + 250 * domain, 250 wide)."""
    base = 7400 + 250 * _domain()
    return {port for (_, port, kind) in seen if kind == "udp" and base <= port < base + 250}


def _run_and_list(tmp_path: Path, ros: dict) -> dict:
    profile = tmp_path / "sockets.yaml"
    sim_profile_on_free_ports(profile, **({"ros": ros} if ros else {}))
    env = dict(os.environ, PYTHONUNBUFFERED="1", ROS_DOMAIN_ID=str(_domain()),
               ROS_LOCALHOST_ONLY="1", ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
    for key in ("FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE"):
        env.pop(key, None)  # the node's own allowlist, not a profile left in this environment
    process = subprocess.Popen(
        [sys.executable, "-m", "edge.cli.main", "node", "run", "--profile", str(profile), "--duration", "60",
         "--takes-dir", str(tmp_path / "takes"), "--stream", f"tcp://127.0.0.1:{free_port(socket.SOCK_STREAM)}",
         "--control-port", "0", "--control-token", "e2e-sockets"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env, start_new_session=True)
    lines: list = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    seen: dict = {}
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while not re.search(r"-- +\d+\.\d s --", "".join(lines)):  # running, with a status line printed
            assert time.monotonic() < deadline and process.poll() is None, "".join(lines)[-3000:]
            time.sleep(0.2)
        for _ in range(SAMPLES):
            seen.update(_sockets(process.pid))
            time.sleep(0.3)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)
        reader.join(timeout=5)
    assert seen, "no socket seen at all: the listing does not work"
    return seen


def test_every_socket_of_the_node_and_the_stage_is_on_loopback(tmp_path):
    seen = _run_and_list(tmp_path, ros={})
    outside = {key: who for key, who in seen.items() if key[0] not in LOOPBACK}
    assert not outside, "bound outside loopback:\n" + "\n".join(
        f"  {ip}:{port}/{kind} by {who}" for (ip, port, kind), who in sorted(outside.items()))
    assert _dds_ports(seen), f"no DDS socket among those checked: {sorted(seen)}"


def test_without_the_allowlist_the_check_finds_dds_on_every_interface(tmp_path):
    seen = _run_and_list(tmp_path, ros={"interfaces": None})
    outside = {key for key in seen if key[0] not in LOOPBACK}
    assert outside, f"DDS without an allowlist was expected to bind beyond loopback; saw only {sorted(seen)}"
