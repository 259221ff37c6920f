"""``GET /status`` on the control API: the node's health as JSON, behind the same token."""

from __future__ import annotations

import http.client
import json
import socket
import time

import numpy as np
import pytest

from config import load_rig
from edge.recorder import ControlClient, ControlError, ControlServer
from sensors.ports import free_loopback_port
from sensors.telemetry.sim import FreedSim
from sensors.vocabulary import LensState, RigPose
from tests.polling import wait_for


def _get(server, path, token="s3cret"):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def test_status_answers_the_callable_behind_the_token(recorder):
    calls = []

    def status():
        calls.append(1)
        return {"v": 1, "fused": {"fused_hz": 24.0}}

    with ControlServer(recorder, token="s3cret", status=status) as server:
        assert ControlClient(server.url, "s3cret").node_status() == {"v": 1, "fused": {"fused_hz": 24.0}}
        assert _get(server, "/status", token=None)[0] == 401
        assert _get(server, "/status", token="wrong")[0] == 401
        assert len(calls) == 1  # a refused request never gathers the status
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("POST", "/status", body=b"{}", headers={"Authorization": "Bearer s3cret"})
        assert conn.getresponse().status == 405
        conn.close()


def test_a_server_without_status_says_so_and_a_failing_status_is_a_503(recorder):
    with ControlServer(recorder, token="s3cret") as server:
        code, body = _get(server, "/status")
        assert code == 404 and body["error"].endswith("there are /take/status, /take/start, /take/stop")

    def broken():
        raise RuntimeError("synchronizer gone")

    with ControlServer(recorder, token="s3cret", status=broken) as server:
        with pytest.raises(ControlError, match="synchronizer gone") as err:
            ControlClient(server.url, "s3cret").node_status()
        assert err.value.status == 503
        assert ControlClient(server.url, "s3cret").status()["state"] == "idle"  # the server still serves


@pytest.mark.gst
def test_the_node_reports_its_sensors_rates_drops_and_clocks(tmp_path):
    from edge.node import EdgeNode

    freed_port = free_loopback_port()
    rig = load_rig({"lidars": [{"port": free_loopback_port()}],
                    "telemetry": [{"port": freed_port, "spare_is_counter": True}]})
    node = EdgeNode(rig, with_ros=False, stream_endpoint="tcp://127.0.0.1:0",
                    recorder_config=rig.recorder.model_copy(update={"takes_dir": tmp_path}),
                    control_token="tok", control_port=free_loopback_port(socket.SOCK_STREAM))
    with node:
        still = (RigPose(0, np.zeros(3), np.array([0.0, 0.0, 0.0, 1.0])), LensState(35.0, 3.0, 2.8))
        start = time.time_ns()
        sim = FreedSim(rig.telemetry[0], lambda t: still, start)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
            for _ in range(3):
                out.sendto(b"not a FreeD packet", ("127.0.0.1", freed_port))
            for send_ns, payload in sim.packets_between(start, start + 600_000_000):
                time.sleep(max(0.0, (send_ns - time.time_ns()) / 1e9))
                out.sendto(payload, ("127.0.0.1", freed_port))
        client = ControlClient(node.control.url, "tok")
        assert wait_for(lambda: client.node_status()["sensors"]["freed"]["level"] is not None, 3.0)
        doc = client.node_status()
    freed = doc["sensors"]["freed"]
    assert doc["v"] == 1 and doc["node"] == rig.name and doc["recorder"]["state"] == "idle"
    assert set(doc["sensors"]) == {"lidar", "freed", "camera", "timecode"}
    assert freed["family"] == "telemetry" and freed["decoded"] >= 50 and freed["rate_hz"] > 0
    assert freed["dropped"] == 3 and sum(freed["drop_reasons"].values()) == 3
    assert freed["samples"] >= 50 and freed["clock"] is not None and freed["clock"]["observed"] >= 50
    assert doc["sensors"]["lidar"]["level"] == 3 and doc["sensors"]["lidar"]["message"] == "no data"
    assert doc["fused"]["fused"] == 0 and doc["fused"]["latency_ms"] is None
    assert doc["stream"]["endpoint"] == node.stream.endpoint
    json.dumps(doc, allow_nan=False)
