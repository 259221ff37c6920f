"""A real worker process on a real fused-frame stream: results go out, a killed worker is restarted
by its supervisor and the results go on, a model that cannot load leaves the labels serving."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import sys
import time

import pytest

from edge.stream import FusedFramePublisher
from engines.worker import ResultSubscriber, Supervisor
from tests.edge.stream.frames import make_frame
from sensors.ports import free_loopback_port

pytestmark = pytest.mark.slow


def _port() -> int:
    return free_loopback_port(socket.SOCK_STREAM)


def _pump(publisher, results, frames, seconds, first_index=0):
    """Publish at 24 fps for ``seconds``; every result received meanwhile."""
    got, i, deadline = [], first_index, time.monotonic() + seconds
    while time.monotonic() < deadline:
        publisher.publish(dataclasses.replace(frames[i % len(frames)], frame_index=i))
        i += 1
        message = results.recv(timeout_ms=1000 / 24)
        while message is not None:
            got.append(message)
            message = results.recv(timeout_ms=0)
    return got, i


def test_a_worker_serves_labels_is_restarted_when_killed_and_the_results_go_on(tmp_path):
    publisher = FusedFramePublisher("tcp://127.0.0.1:0")
    results_endpoint = f"tcp://127.0.0.1:{_port()}"
    argv = [sys.executable, "-m", "engines.worker.child", "captioner", "--model", str(tmp_path / "no-such-model"),
            "--stream", publisher.endpoint, "--results", results_endpoint, "--no-ros"]
    sup = Supervisor(argv, name="captioner", backoff_s=0.2).start()
    results = ResultSubscriber(results_endpoint)
    frames = [make_frame(i) for i in range(4)]
    try:
        got, next_index = _pump(publisher, results, frames, 25)
        assert got, "the worker sent no result in 25 s"
        last = got[-1]
        assert last["engine"] == "captioner" and last["stream_id"] == publisher.stream_id
        assert "not loaded" in last["result"]["model"]["missing"]
        assert last["result"]["labels"]["focal_length_mm"] == pytest.approx(35.0)
        assert last["worker"]["restarts"] == 0
        first_pid = sup.pid
        os.kill(first_pid, signal.SIGKILL)
        after, _ = _pump(publisher, results, frames, 25, next_index)
        restarted = [m for m in after if m["worker"]["restarts"] == 1]
        assert restarted, "no result from a restarted worker within 25 s"
        assert sup.restarts == 1 and sup.pid not in (None, first_pid)
        assert restarted[-1]["frame_index"] > last["frame_index"]
    finally:
        sup.stop()
        results.close()
        publisher.close()
    assert not sup.running
