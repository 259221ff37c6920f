"""`make demo`'s engines: `onset node run --engines` starts the captioner and style workers, the
captioner's results come out on the result stream naming the node's frames and saying how often the
look changed what it read (the closed loop), a take records both workers' results, and the workers
stop with the node."""

from __future__ import annotations

import json
import socket
import time

import psutil
import pytest

from engines.worker import ResultSubscriber
from tests.e2e.support import free_port, sim_profile_on_free_ports
from tests.e2e.test_node import TOKEN, RunningNode

pytestmark = [pytest.mark.slow, pytest.mark.ros]


def test_the_node_runs_the_captioner_worker_and_a_take_records_its_results(tmp_path, monkeypatch):
    def endpoint():
        return f"tcp://127.0.0.1:{free_port(socket.SOCK_STREAM)}"

    results_endpoint = endpoint()
    style = {"results_endpoint": endpoint(), "styled_endpoint": endpoint(), "control_endpoint": endpoint()}
    real_profile = sim_profile_on_free_ports

    def with_engines(path, ports=None, **edit):
        return real_profile(path, ports, engines={"captioner": {"results_endpoint": results_endpoint},
                                                  "style": style}, **edit)

    monkeypatch.setattr("tests.e2e.test_node.sim_profile_on_free_ports", with_engines)
    node = RunningNode(tmp_path, duration_s=150, extra_args=["--engines"])
    results = ResultSubscriber(results_endpoint)
    try:
        url = node.wait_for(r"control API (http://127\.0\.0\.1:\d+)", timeout_s=90).group(1)
        node.wait_for(r"captioner worker -> ", timeout_s=10)
        first = None
        for _ in range(120):  # up to 120 s: the worker imports, loads its model, the node syncs
            first = results.recv(timeout_ms=1000)
            if first is not None:
                break
        assert first is not None, f"no captioner result in 120 s:\n{node.output}"
        assert first["engine"] == "captioner" and isinstance(first["frame_index"], int) and first["t_ns"] > 0
        assert set(first["result"]) == {"labels", "model", "closed_loop"}
        looped = None
        for _ in range(600):  # the style worker's frames read too: up to 60 s more
            message = results.recv(timeout_ms=100)
            if message is not None and message["result"]["closed_loop"]["frames"] > 0:
                looped = message["result"]["closed_loop"]
                break
        assert looped is not None, f"no closed-loop reading in 60 s:\n{node.output}"
        assert looped["look"] == "35mm" and 0.0 <= looped["shot_size_changed"] <= 1.0
        assert node.onset("take", "start", "--scene", "cap", "--shot", "1", "--take", "1",
                          "--control", url, "--token", TOKEN).returncode == 0
        seen = []
        deadline = time.monotonic() + 2.0  # a take of 2 s: the results are recorded from its start
        while time.monotonic() < deadline:
            message = results.recv(timeout_ms=500)
            if message is not None:
                seen.append(message)
        assert node.onset("take", "stop", "--control", url, "--token", TOKEN).returncode == 0
        assert seen, "the worker stopped sending results while the take rolled"
        workers = [p for p in psutil.Process(node.process.pid).children(recursive=True)
                   if "engines.worker.child" in " ".join(p.cmdline())]
        assert len(workers) == 2
    finally:
        results.close()
        node.stop()
    assert all(not w.is_running() or w.status() == psutil.STATUS_ZOMBIE for w in workers)
    take = next(node.takes_dir.iterdir())
    assert json.loads((take / "take.json").read_text())["status"] == "complete"
    shown = node.onset("takes", "show", str(take)).stdout
    assert "/onset/captioner/results" in shown, shown
    line = next(row for row in shown.splitlines() if row.startswith("/onset/captioner/results"))
    assert int(line.split()[2]) > 0, line
    assert "/onset/style/results" in shown, shown
