"""The engine workers beside the edge node and the simulated stage, as ``make demo`` runs them.

``onset node run`` on the default profile (the simulated stage, ROS 2 on a domain of its own,
no recorder) runs twice for the same length: without engines (the baseline) and with
``--engines`` (the captioner and the style worker). For each run, over the seconds after a
warm-up: the fused-frame rate and the in-sync share the node itself reports (its once-a-second
status lines), the CPU share of each process of the run (node, the stage's processes, each
worker), and, with the workers, what the captioner says of itself in its last result (frames
processed, skipped, lost) with the result latency.
"""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

__all__ = ["on_stage_runs"]

_STATUS = re.compile(r"^--\s+(?P<t>[\d.]+) s -- fused [\d.]+ fps \((?P<frames>\d+) frames\), "
                     r"in sync (?P<sync>[\d.]+) %")
_ROOT = Path(__file__).resolve().parents[1]


def _role(cmdline: List[str]) -> str:
    text = " ".join(cmdline)
    if "engines.worker.child" in text:
        return "style" if " style" in text else "captioner"
    if "multiprocessing" in text:
        return "resource tracker" if "resource_tracker" in text else "stage"
    return "node"


class _Status:
    """The node's status lines as they come: (elapsed s, frames fused, in-sync %)."""

    def __init__(self, stream) -> None:
        self.lines: List[tuple] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            m = _STATUS.match(line)
            if m:
                self.lines.append((float(m["t"]), int(m["frames"]), float(m["sync"])))

    def latest(self) -> Optional[tuple]:
        return self.lines[-1] if self.lines else None


def _cpu_by_role(root_pid: int) -> Dict[str, float]:
    import psutil

    out: Dict[str, float] = {}
    try:
        root = psutil.Process(root_pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return out
    for p in procs:
        try:
            role = _role(p.cmdline())
            t = p.cpu_times()
            out[f"{role}:{p.pid}"] = t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return out


def _one_run(profile: Path, engines: bool, seconds: float, warmup_s: float, results_endpoint: str) -> dict:
    from engines.worker.results import ResultSubscriber

    env = dict(os.environ, PYTHONUNBUFFERED="1", ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST", ROS_LOCALHOST_ONLY="1",
               ROS_DOMAIN_ID=str(random.randint(120, 200)))
    argv = [sys.executable, "-m", "edge.cli.main", "node", "run", "--profile", str(profile), "--no-record",
            "--duration", str(warmup_s + seconds + 5), "--engines" if engines else "--no-engines"]
    node = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=_ROOT, env=env,
                            start_new_session=True)
    status = _Status(node.stdout)
    results = None
    try:
        time.sleep(warmup_s)
        # Subscribed only now: results of the warm-up would wait in the socket and count as the run's.
        results = ResultSubscriber(results_endpoint) if engines else None
        first, cpu0, t0 = status.latest(), _cpu_by_role(node.pid), time.monotonic()
        latencies, first_result, last_result = [], None, None
        while time.monotonic() - t0 < seconds:
            if results is None:
                time.sleep(0.2)
                continue
            message = results.recv(timeout_ms=200)
            if message is not None:
                latencies.append(message["latency_ms"])
                first_result = first_result or message
                last_result = message
        wall, cpu1, last = time.monotonic() - t0, _cpu_by_role(node.pid), status.latest()
    finally:
        if results is not None:
            results.close()
        try:
            os.killpg(node.pid, 15)
            node.wait(20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(node.pid, 9)
    if first is None or last is None or last[1] <= first[1]:
        return {"error": "the node printed no status over the run (did it start?)"}
    by_role: Dict[str, float] = {}
    for key, t in cpu1.items():
        role = key.split(":")[0]
        by_role[role] = by_role.get(role, 0.0) + (t - cpu0.get(key, 0.0)) / wall
    span_s = last[0] - first[0]
    synced = last[2] / 100 * last[1] - first[2] / 100 * first[1]
    row = {"fused_fps": (last[1] - first[1]) / span_s, "in_sync": synced / (last[1] - first[1]), "cpu": by_role,
           "frames": last[1] - first[1]}
    if engines:
        if last_result is None:
            row["worker"] = None
        else:
            w0, w1 = first_result["worker"], last_result["worker"]
            row["worker"] = {k: w1[k] - w0[k] for k in ("processed", "skipped", "lost")}
            row["latency_ms"] = sorted(latencies)
    return row


def on_stage_runs(seconds: float, warmup_s: float = 15.0) -> Dict[str, dict]:
    """{"node and stage": row, "with both engine workers": row} (module docstring)."""
    import yaml

    from sensors.ports import free_loopback_port
    from tests.e2e.support import sim_profile_on_free_ports

    with tempfile.TemporaryDirectory() as scratch:
        profile = Path(scratch) / "sim.yaml"
        results_endpoint = f"tcp://127.0.0.1:{free_loopback_port(socket.SOCK_STREAM)}"
        sim_profile_on_free_ports(profile)
        data = yaml.safe_load(profile.read_text())
        data["stream"] = {**(data.get("stream") or {}), "endpoint": f"tcp://127.0.0.1:{free_loopback_port(socket.SOCK_STREAM)}"}
        style = {key: f"tcp://127.0.0.1:{free_loopback_port(socket.SOCK_STREAM)}"
                 for key in ("results_endpoint", "styled_endpoint", "control_endpoint")}
        data["engines"] = {"captioner": {"results_endpoint": results_endpoint}, "style": style}
        profile.write_text(yaml.safe_dump(data))
        return {"node and stage": _one_run(profile, False, seconds, warmup_s, results_endpoint),
                "with both engine workers": _one_run(profile, True, seconds, warmup_s, results_endpoint)}
