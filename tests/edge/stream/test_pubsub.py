"""Publisher and subscriber over real sockets, in one process: roundtrip, zero copy, counters, binding."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import zmq
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.stream import (
    FusedFramePublisher,
    FusedFrameSubscriber,
    StreamBindError,
    StreamClosedError,
    WireMeta,
    check_bind_endpoint,
    encode_frame,
)
from sensors.vocabulary import FusedFrame
from tests.edge.stream.frames import assert_same_frame, make_frame

DEADLINE_S = 10.0


def _first_frame(pub: FusedFramePublisher, sub: FusedFrameSubscriber, frame: FusedFrame) -> FusedFrame:
    """Publish ``frame`` until the subscriber has joined and returns it (PUB drops until then)."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        pub.publish(frame)
        got = sub.recv(timeout_ms=20)
        if got is not None:
            return got
    pytest.fail(f"no frame from {pub.endpoint} within {DEADLINE_S} s")


WARM_UP = -1  # frame_index of the frames published until a subscriber has joined


def _join(pub: FusedFramePublisher, sub: FusedFrameSubscriber) -> None:
    _first_frame(pub, sub, make_frame(WARM_UP, 4, 4))


def _next(sub: FusedFrameSubscriber) -> FusedFrame:
    """The next frame that is not a warm-up frame still in flight from :func:`_join`."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        got = sub.recv(timeout_ms=DEADLINE_S * 1000)
        if got is not None and got.frame_index != WARM_UP:
            return got
    pytest.fail("no frame within the deadline")


@pytest.fixture
def pair():
    with FusedFramePublisher(send_hwm=8) as pub, FusedFrameSubscriber(pub.endpoint, rcv_hwm=8) as sub:
        yield pub, sub


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_roundtrip_over_sockets(transport: str, tmp_path) -> None:
    endpoint = "tcp://127.0.0.1:0" if transport == "tcp" else f"ipc://{tmp_path}/fused.sock"
    frame = make_frame(4)
    with FusedFramePublisher(endpoint) as pub, FusedFrameSubscriber(pub.endpoint) as sub:
        assert pub.endpoint.startswith(f"{transport}://") and not pub.endpoint.endswith(":0")
        got = _first_frame(pub, sub, frame)
        assert_same_frame(got, frame)
        assert sub.last_meta.stream_id == pub.stream_id and sub.last_meta.seq < pub.next_seq
        assert sub.received == 1 and sub.rejected == 0


def test_received_arrays_are_views_of_the_zmq_frames(pair) -> None:
    pub, sub = pair
    got = _first_frame(pub, sub, make_frame(1))
    for arr in (got.rgb, got.depth_m):
        owner = arr
        while not isinstance(owner, zmq.Frame):
            owner = owner.base
            assert owner is not None, "the array does not lead back to a zmq.Frame: it was copied"
        frame_bytes = np.frombuffer(owner.buffer, dtype=np.uint8)
        assert arr.ctypes.data == frame_bytes.ctypes.data and arr.nbytes == frame_bytes.nbytes


def test_sender_hands_the_frames_own_buffers_to_zmq_without_copy(pair, monkeypatch) -> None:
    pub, sub = pair
    frame = make_frame(2)
    calls = []
    real_send = pub._socket.send_multipart

    def spy(parts, flags=0, copy=True, track=False, **kw):
        calls.append((list(parts), flags, copy))
        return real_send(parts, flags=flags, copy=copy, track=track, **kw)

    monkeypatch.setattr(pub._socket, "send_multipart", spy)
    assert pub.publish(frame)
    parts, flags, copy = calls[0]
    assert copy is False and flags & zmq.NOBLOCK
    assert parts[1] is frame.rgb and parts[2] is frame.depth_m
    # The same call with track=True: zmq keeps a reference to the very buffer until it is sent.
    tracker = real_send(parts, flags=zmq.NOBLOCK, copy=False, track=True)
    assert isinstance(tracker, zmq.MessageTracker)
    tracker.wait(DEADLINE_S)


def test_arrays_stay_valid_after_next_recv_and_close() -> None:
    pub = FusedFramePublisher(send_hwm=8)
    sub = FusedFrameSubscriber(pub.endpoint, rcv_hwm=8)
    _join(pub, sub)
    for index in range(10, 14):
        assert pub.publish(make_frame(index, seed=index))
    first = _next(sub)
    kept = first.rgb.copy()
    later = [_next(sub) for _ in range(3)]
    assert [f.frame_index for f in later] == [11, 12, 13]
    sub.close()
    pub.close()
    np.testing.assert_array_equal(first.rgb, kept)
    assert first.rgb[0, 0, 0] == 10 and later[-1].rgb[0, 0, 0] == 13


def test_gaps_in_seq_count_as_lost_and_repeats_as_rejected(pair) -> None:
    pub, sub = pair
    raw = pub._socket  # send hand-made sequences through the publisher's own socket
    _join(pub, sub)
    start = pub.next_seq + 100
    lost_before = sub.lost
    for seq in (start, start + 1, start + 5, start + 5, start + 6):
        raw.send_multipart(encode_frame(make_frame(seq, 4, 4), WireMeta(pub.stream_id, seq, 0)), copy=False)
    got = [_next(sub).frame_index for _ in range(4)]
    assert got == [start, start + 1, start + 5, start + 6]
    assert sub.lost - lost_before == 100 + 3 and sub.rejected == 1 and "repeats" in sub.last_error
    other = WireMeta("another-publisher", 0, 0)  # a restarted publisher is a new stream, not a gap
    raw.send_multipart(encode_frame(make_frame(99, 4, 4), other), copy=False)
    assert sub.recv(timeout_ms=DEADLINE_S * 1000).frame_index == 99
    assert sub.lost - lost_before == 103 and sub.streams == 2


_HOSTILE = [
    [b""],
    [b"not json at all", b"x"],
    [json.dumps({"magic": "ONSETFF", "version": 99}).encode()],
    [json.dumps({"magic": "ONSETFF", "version": 1, "arrays": []}).encode()],
    [b"[" * 50_000],
    [b"\xff\xfe" * 10, b"", b""],
]


@settings(max_examples=60)
@given(parts=st.sampled_from(_HOSTILE) | st.lists(st.binary(max_size=64), min_size=1, max_size=4))
def test_hostile_messages_never_raise_out_of_recv(parts) -> None:
    with FusedFramePublisher(send_hwm=64) as pub, FusedFrameSubscriber(pub.endpoint, rcv_hwm=64) as sub:
        _join(pub, sub)
        rejected = sub.rejected
        pub._socket.send_multipart(parts)
        assert pub.publish(make_frame(1, 2, 2))
        assert _next(sub).frame_index == 1
        assert sub.rejected == rejected + 1 and sub.last_error


def test_recv_times_out_with_none_and_iteration_stops(pair) -> None:
    pub, sub = pair
    t0 = time.monotonic()
    assert sub.recv(timeout_ms=30) is None
    assert time.monotonic() - t0 >= 0.025
    _join(pub, sub)
    for index in (1, 2):
        pub.publish(make_frame(index, 4, 4))
    assert [f.frame_index for f in sub.frames(timeout_ms=500) if f.frame_index != WARM_UP] == [1, 2]


@pytest.mark.parametrize("endpoint", ["tcp://0.0.0.0:0", "tcp://*:0", "tcp://192.0.2.1:5555", "tcp://eth0:0",
                                      "pgm://239.0.0.1:5555", "tcp://127.0.0.1", "tcp://127.0.0.1:99999"])
def test_bind_refuses_anything_but_loopback(endpoint: str) -> None:
    with pytest.raises(StreamBindError):
        FusedFramePublisher(endpoint)


def test_bind_allows_remote_only_when_asked() -> None:
    assert check_bind_endpoint("tcp://0.0.0.0:0", allow_remote=True) == "tcp://0.0.0.0:0"
    assert check_bind_endpoint("tcp://localhost:0") == "tcp://localhost:0"
    assert check_bind_endpoint("tcp://[::1]:0") == "tcp://[::1]:0"
    assert check_bind_endpoint("/run/onset/fused.sock") == "ipc:///run/onset/fused.sock"
    # (Nothing is bound beyond loopback in the tests: the flag is checked, not exercised on a network.)


def test_port_in_use_and_closed_use_are_clear_errors() -> None:
    with FusedFramePublisher() as pub:
        with pytest.raises(StreamBindError, match="in use"):
            FusedFramePublisher(pub.endpoint)
    with pytest.raises(StreamClosedError):
        pub.publish(make_frame(0, 2, 2))
    sub = FusedFrameSubscriber(pub.endpoint)
    sub.close()
    sub.close()
    with pytest.raises(StreamClosedError):
        sub.recv(timeout_ms=0)


def test_back_to_back_frames_to_a_subscriber_that_keeps_up_are_not_dropped() -> None:
    """ZeroMQ throttles a sender's command processing; unread acks would look like a full queue."""
    with zmq.Context() as context:
        pub = FusedFramePublisher("inproc://onset-test-burst", send_hwm=2, context=context)
        sub = FusedFrameSubscriber(pub.endpoint, rcv_hwm=2, context=context)
        try:
            for index in range(2000):
                assert pub.publish(make_frame(index, 4, 4))
                got = sub.recv(timeout_ms=DEADLINE_S * 1000)
                assert got is not None and got.frame_index == index
            assert sub.lost == 0 and sub.received == 2000
        finally:
            sub.close()
            pub.close()
