"""The control API over HTTP on 127.0.0.1: a token is required; start, stop and status work end to end."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from edge.recorder import (
    ControlAuthError,
    ControlClient,
    ControlError,
    ControlServer,
    ControlUnavailableError,
    read_take_json,
)


@pytest.fixture
def server(recorder):
    with ControlServer(recorder, port=0, token="s3cret", timecode_now=lambda: "01:02:03:04") as srv:
        yield srv


def _raw(server, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}"), dict(response.getheaders())
    finally:
        conn.close()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"},
                                     {"Authorization": "Basic s3cret"}, {"Authorization": "Bearer "}])
@pytest.mark.parametrize("method, path", [("GET", "/take/status"), ("POST", "/take/start"),
                                          ("POST", "/take/stop"), ("GET", "/nowhere")])
def test_every_endpoint_needs_the_token(server, recorder, headers, method, path):
    body = json.dumps({"scene": "1", "shot": "1", "take": 1}) if method == "POST" else None
    status, answer, response_headers = _raw(server, method, path, body, headers)
    assert status == 401 and "token" in answer["error"]
    assert response_headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert not recorder.recording


def test_start_status_stop_through_the_client(server, recorder):
    client = ControlClient(server.url, "s3cret")
    assert client.status()["state"] == "idle"
    started = client.start("12", "3", 4)
    assert started["status"] == "recording" and started["tc_in"] == "01:02:03:04"
    assert recorder.recording and client.status()["take"]["name"] == started["name"]
    recorder.write("/a", "sensor_msgs/msg/TimeReference",
                   recorder.types.serialize(recorder.types.message_class("sensor_msgs/msg/TimeReference")(
                       header=recorder.types.message_class("std_msgs/msg/Header")(
                           stamp=recorder.types.message_class("builtin_interfaces/msg/Time")(sec=1, nanosec=2),
                           frame_id="x"),
                       time_ref=recorder.types.message_class("builtin_interfaces/msg/Time")(sec=3, nanosec=4),
                       source="ltc"), "sensor_msgs/msg/TimeReference"), 10**18)
    stopped = client.stop(tc_out="01:02:10:00")
    assert stopped["status"] == "complete" and stopped["message_count"] == 1 and stopped["tc_out"] == "01:02:10:00"
    doc = read_take_json(recorder.status().take.path)
    assert doc["timecode"]["in"] == "01:02:03:04" and doc["timecode"]["out"] == "01:02:10:00"


def test_errors_come_back_with_their_status_and_reason(server):
    client = ControlClient(server.url, "s3cret")
    with pytest.raises(ControlError, match="no take is recording") as err:
        client.stop()
    assert err.value.status == 409
    with pytest.raises(ControlError, match="scene is empty") as err:
        client.start("", "3", 4)
    assert err.value.status == 400
    client.start("1", "1", 1)
    with pytest.raises(ControlError, match="is recording: stop it") as err:
        client.start("1", "1", 2)
    assert err.value.status == 409
    auth = {"Authorization": "Bearer s3cret"}
    assert _raw(server, "POST", "/take/start", b"{not json", auth)[0] == 400
    assert _raw(server, "POST", "/take/start", b"[1, 2]", auth)[0] == 400
    assert _raw(server, "POST", "/take/start", json.dumps({"scene": "1"}), auth)[1]["error"].startswith("missing shot")
    assert _raw(server, "POST", "/take/start", b"x" * 70_000, auth)[0] == 413
    assert _raw(server, "GET", "/take/stop", None, auth)[0] == 405
    assert _raw(server, "POST", "/take/status", b"{}", auth)[0] == 405
    assert _raw(server, "GET", "/elsewhere", None, auth)[0] == 404
    assert client.stop()["status"] == "complete"


def test_the_client_says_when_the_token_is_wrong_or_no_node_listens(server):
    with pytest.raises(ControlAuthError, match="refused the token"):
        ControlClient(server.url, "nope").status()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    with pytest.raises(ControlUnavailableError, match=f"no Onset node is listening at http://127.0.0.1:{free_port}"):
        ControlClient(f"http://127.0.0.1:{free_port}", "s3cret").status()


def test_the_server_binds_loopback_only_and_makes_a_token_when_none_is_given(recorder):
    for host in ("0.0.0.0", "192.168.1.10", "example.com"):
        with pytest.raises(ControlError, match="loopback"):
            ControlServer(recorder, host=host)
    with pytest.raises(ControlError, match="empty"):
        ControlServer(recorder, token="  ")
    with ControlServer(recorder) as srv:
        assert len(srv.token) >= 24 and srv.url.startswith("http://127.0.0.1:")
        assert ControlClient(srv.url, srv.token).status()["state"] == "idle"
