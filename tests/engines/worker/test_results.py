"""Result envelopes: versioned JSON that never carries NaN, refused when newer or malformed."""

from __future__ import annotations

import json

import pytest

from edge.stream.errors import StreamBindError
from engines.worker import RESULT_VERSION, ResultError, ResultPublisher, ResultVersionError, decode_result, encode_result
from engines.worker.results import envelope
from edge.stream.wire import WireMeta
from tests.edge.stream.frames import make_frame


def test_an_envelope_names_the_frame_and_round_trips_as_strict_json():
    frame = make_frame(7)
    message = envelope("captioner", frame, WireMeta("s", 41, frame.t_ns), {"distance_m": float("nan"), "x": [1.5]},
                       latency_ms=2.25, worker={"processed": 1})
    data = encode_result(message)
    json.loads(data, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    back = decode_result(data)
    assert back["v"] == RESULT_VERSION and back["seq"] == 41 and back["frame_index"] == 7
    assert back["timecode"] == "01:00:10;12" and back["rate"] == "29.97DF"
    assert back["result"] == {"distance_m": None, "x": [1.5]}


@pytest.mark.parametrize("data, error, words", [
    (b"\xff\xfe", ResultError, "UTF-8 JSON"),
    (b"[1, 2]", ResultError, "version field"),
    (b'{"v": 0}', ResultError, "positive integer"),
    (json.dumps({"v": RESULT_VERSION + 1}).encode(), ResultVersionError, "newer"),
    (json.dumps({"v": 1, "engine": "x", "t_ns": 1, "result": {}}).encode(), ResultError, "frame_index"),
])
def test_unreadable_results_are_refused_saying_why(data, error, words):
    with pytest.raises(error, match=words):
        decode_result(data)


def test_the_result_stream_binds_only_this_machine():
    with pytest.raises(StreamBindError, match="loopback"):
        ResultPublisher("tcp://0.0.0.0:0")
