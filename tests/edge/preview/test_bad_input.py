"""Bad input: a malformed WebSocket message gets an error and the socket stays open; an oversize
or flooding viewer is closed (1008) alone; REST bodies that cannot be taken get a 4xx that says
why, an oversize one 413, and nothing a client sends makes a 500."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from tests.polling import wait_for

from .fakes import TOKEN, connect, is_frame, is_text, make_frame, next_message, publish_until

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def preview(make_preview):
    return make_preview()


def _error(ws) -> str:
    return next_message(ws, is_text("error"))["error"]


def test_malformed_messages_get_an_error_and_the_socket_stays_open(preview):
    with connect(preview) as ws:
        next_message(ws, is_text("hello"))
        cases = [
            ("{not json", "a message must be JSON"),
            ("[1, 2]", "a message must be a JSON object with a type"),
            ('{"type": "dance"}', "unknown message type 'dance'; the page sends parts, ping, drawn"),
            ('{"parts": ["styled"]}', "unknown message type None"),
            ('{"type": "parts", "parts": "styled"}', "parts must be a list of part names out of styled, raw, depth"),
            ('{"type": "parts", "parts": ["styled", "thermal"]}', "unknown part 'thermal'; the parts are styled, raw"),
            ('{"type": "ping", "id": 1}', "ping client_ms must be a finite number"),
            ('{"type": "ping", "id": [1], "client_ms": 5}', "ping id must be a number or a string"),
            ('{"type": "ping", "id": 1, "client_ms": true}', "ping client_ms must be a finite number"),
            ('{"type": "drawn", "seq": -1, "drawn_ns": 5}', "drawn seq must be a whole number"),
            ('{"type": "drawn", "seq": 1.5, "drawn_ns": 5}', "drawn seq must be a whole number"),
            ('{"type": "drawn", "seq": 99999, "drawn_ns": 5}', "drawn seq 99999 was not sent to this viewer"),
            ("\"" + "[" * 3000 + "\"", "a message must be a JSON object"),
            ("[" * 3000, "a message must be JSON"),
        ]
        for text, words in cases:
            ws.send(text)
            assert words in _error(ws), text
        ws.send(b"\x00\x01binary")
        assert "not binary ones" in _error(ws)
        ws.send('{"type": "ping", "id": "still-open", "client_ms": 1.5}')
        pong = next_message(ws, is_text("pong"))
        assert pong["id"] == "still-open" and pong["client_ms"] == 1.5
    assert preview.service.client_errors == len(cases) + 1


def test_an_oversize_message_closes_that_viewer_only(preview, stage):
    stage.open_node()
    with connect(preview) as bystander, connect(preview) as offender:
        next_message(offender, is_text("hello"))
        offender.send(json.dumps({"type": "ping", "id": "x" * 4100, "client_ms": 1}))
        with pytest.raises(ConnectionClosed) as closed:
            next_message(offender, lambda m: False)
        assert closed.value.rcvd.code == 1008 and "over 4096" in closed.value.rcvd.reason
        publish_until(stage, bystander, lambda m: True)  # the other viewer still gets frames
        bystander.send('{"type": "ping", "id": 2, "client_ms": 3}')
        assert next_message(bystander, is_text("pong"))["id"] == 2
    assert preview.service.hub.closed == {"oversize": 1}
    with connect(preview) as huge:
        next_message(huge, is_text("hello"))
        huge.send("x" * 70_000)  # over the protocol's own limit: closed before the app reads it
        with pytest.raises(ConnectionClosed) as closed:
            next_message(huge, lambda m: False)
        assert closed.value.rcvd.code == 1009


def test_a_flooding_viewer_is_closed_and_the_others_keep_their_frames(preview, stage):
    stage.open_node()
    with connect(preview) as bystander, connect(preview) as flooder:
        next_message(flooder, is_text("hello"))
        start = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(2000):
                flooder.send('{"type": "parts", "parts": ["styled"]}')
            next_message(flooder, lambda m: False)
        assert time.monotonic() - start < 5.0
        assert closed.value.rcvd.code == 1008 and "more than 150 messages a second" in closed.value.rcvd.reason
        publish_until(stage, bystander, lambda m: True)
    assert preview.service.hub.closed == {"flood": 1}


def test_a_page_sending_under_the_limit_is_never_closed(preview, stage):
    stage.open_node()
    with connect(preview) as ws:
        next_message(ws, is_text("hello"))
        _, index = publish_until(stage, ws, lambda m: True)
        for i in range(90):  # a burst of 90 (under the 100 allowed), then 40 a second
            ws.send(json.dumps({"type": "ping", "id": i, "client_ms": 1.0}))
        for i in range(20):
            time.sleep(1 / 40)
            ws.send(json.dumps({"type": "ping", "id": 100 + i, "client_ms": 1.0}))
        assert next_message(ws, lambda m: is_text("pong")(m) and m["id"] == 119)["id"] == 119
        stage.publish(make_frame(index))
        next_message(ws, is_frame)
    assert preview.service.hub.closed == {}


REST_CASES = [
    ("/api/look", b"{not json", 400, "the body is not JSON"),
    ("/api/look", b"[1, 2]", 400, "the body must be a JSON object, got list"),
    ("/api/look", b'{"look": 7}', 400, 'send {"look": NAME}'),
    ("/api/look", b'{"look": "../../etc/passwd"}', 400, 'send {"look": NAME}'),
    ("/api/look", b'{"look": "35mm", "force": true}', 400, "unknown field 'force' in a look switch; it takes look"),
    ("/api/look", b"\xff\xfe", 400, "the body is not JSON"),
    ("/api/engines/style", b'{"enabled": "yes"}', 400, 'send {"enabled": true}'),
    ("/api/engines/style", b"{}", 400, 'send {"enabled": true}'),
    ("/api/engines/radar", b'{"enabled": true}', 404, "no engine 'radar'; the engines are captioner, style"),
    ("/api/take/start", b"{}", 400, "missing scene, shot"),
    ("/api/take/start", b'{"scene": "1"}', 400, "missing shot"),
    ("/api/take/start", b'{"scene": "1 2", "shot": "3"}', 400, "scene '1 2' cannot name a take"),
    ("/api/take/start", b'{"scene": "1", "shot": "3", "take": 0}', 400, "take must be between 1 and 9999"),
    ("/api/take/start", b'{"scene": "1", "shot": "3", "take": "x"}', 400, "take must be a whole number"),
    ("/api/take/start", b'{"scene": "1", "shot": "3", "take": true}', 400, "take must be a whole number"),
    ("/api/take/start", b'{"scene": "1", "shot": "3", "sceen": "2"}', 400, "unknown field 'sceen' in a take start"),
    ("/api/take/start", b'{"scene": "1_2", "shot": "3"}', 400, "cannot name a take"),
    ("/api/take/stop", b'{"now": 1}', 400, "unknown field 'now' in a take stop"),
    ("/api/look", b'{"look": "' + b"x" * 17000 + b'"}', 413, "at most 16384 bytes"),
]


def test_bad_rest_bodies_get_a_4xx_that_says_why(preview):
    with httpx.Client(base_url=preview.url, headers=AUTH, timeout=10) as client:
        for path, body, status, words in REST_CASES:
            answer = client.post(path, content=body, headers={"Content-Type": "application/json"})
            assert answer.status_code == status and words in answer.json()["error"], (path, body[:60], answer.text)

        def chunks():
            for _ in range(40):
                yield b" " * 1024

        streamed = client.post("/api/look", content=chunks())  # no Content-Length: counted as it comes
        assert streamed.status_code == 413 and "at most 16384 bytes" in streamed.json()["error"]
        assert client.get("/api/look").status_code == 405 and "does not take GET" in client.get("/api/look").json()["error"]
        assert client.get("/api/nothing").json()["error"] == "no endpoint GET /api/nothing (see /openapi.json)"
        for take_id in ("nope", "..", "...", "%2E%2E%2Fetc", "a%00b"):
            answer = client.get(f"/api/takes/{take_id}/thumbnail.jpg")
            assert answer.status_code == 404 and "error" in answer.json(), take_id
        assert client.get("/openapi.json").json()["info"]["title"] == "Onset preview"


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=4), max_leaves=12)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({}, optional={"scene": json_values, "shot": json_values, "take": json_values,
                                        "look": json_values, "enabled": json_values}).map(lambda v: json.dumps(v).encode()),
)


def test_nothing_a_client_posts_makes_a_500(preview):
    with httpx.Client(base_url=preview.url, headers=AUTH, timeout=10) as client:

        @settings(max_examples=150, deadline=None)
        @given(path=st.sampled_from(["/api/look", "/api/engines/style", "/api/engines/x", "/api/take/start",
                                     "/api/take/stop"]), body=bodies)
        def post(path, body):
            answer = client.post(path, content=body)
            assert answer.status_code != 500 and "error" in answer.json() or answer.status_code == 200, answer.text
            if answer.status_code >= 500:  # only "the worker / node is not there", never a fault
                assert answer.status_code == 503, answer.text

        post()


def test_a_frame_that_cannot_be_previewed_is_skipped_and_the_next_one_shown(preview, stage):
    import dataclasses

    import numpy as np

    stage.open_node()
    with connect(preview) as ws:
        _, index = publish_until(stage, ws, lambda m: True)
        empty = dataclasses.replace(make_frame(index), rgb=np.zeros((0, 0, 3), np.uint8),
                                    depth_m=np.zeros((0, 0), np.float32))
        stage.publish(empty)
        assert wait_for(lambda: preview.service.pipeline.failed == 1, 3.0)
        (header, _), _ = publish_until(stage, ws, lambda m: True, first=index + 1)
    assert header["frame_index"] > index and preview.service.pipeline.failed == 1
    assert "cannot be previewed" in preview.service.state()["frames"]["last_error"]
