"""The worker loop: newest frame first, skipped and rejected frames counted, results on the wire."""

from __future__ import annotations

import threading
from collections import deque

import pytest

from edge.stream.wire import WireMeta
from engines.worker import FrameRejected, ResultPublisher, ResultSubscriber, serve
from tests.edge.stream.frames import make_frame


class QueueSubscriber:
    """Frames as a stream would deliver them: ``batches`` arrive together, one batch per wait."""

    def __init__(self, batches):
        self._batches = deque(deque(b) for b in batches)
        self.last_meta = None
        self.lost = 3

    def recv(self, timeout_ms=None):
        while self._batches and not self._batches[0]:
            self._batches.popleft()
            if timeout_ms == 0:
                return None
        if not self._batches:
            return None
        frame = self._batches[0].popleft()
        self.last_meta = WireMeta("stream-a", frame.frame_index, frame.t_ns + 5_000_000)
        return frame


class Recorder:
    def __init__(self):
        self.messages = []

    def publish(self, message):
        self.messages.append(message)


class Echo:
    name = "echo"

    def __init__(self, reject=(), remember=()):
        self.seen, self._reject, self._remember = [], set(reject), set(remember)

    def process(self, frame):
        self.seen.append(frame.frame_index)
        if frame.frame_index in self._reject:
            raise FrameRejected("frame is 320x180; expected 640x360")
        if frame.frame_index in self._remember:
            return None
        return {"index_seen": frame.frame_index}


def test_the_worker_takes_the_newest_frame_and_counts_the_ones_it_passed_over():
    frames = [make_frame(i) for i in range(6)]
    sub = QueueSubscriber([[frames[0]], frames[1:4], frames[4:6]])
    out, engine = Recorder(), Echo()
    counters = serve(engine, sub, [out], threading.Event(), wait_ms=1, max_frames=3)
    assert engine.seen == [0, 3, 5]
    assert counters.skipped == 3 and counters.processed == 3 and counters.lost == 3
    last = out.messages[-1]
    assert last["frame_index"] == 5 and last["seq"] == 5 and last["stream_id"] == "stream-a"
    assert last["t_ns"] == frames[5].t_ns and last["timecode"] == str(frames[5].timecode)
    assert last["result"] == {"index_seen": 5} and last["worker"]["skipped"] == 3


def test_a_rejected_frame_is_counted_and_the_worker_goes_on():
    frames = [make_frame(i) for i in range(4)]
    sub = QueueSubscriber([[f] for f in frames])
    out = Recorder()
    counters = serve(Echo(reject={1}, remember={2}), sub, [out], threading.Event(), wait_ms=1, max_frames=3)
    assert counters.rejected == 1 and "expected 640x360" in counters.last_rejection
    assert [m["frame_index"] for m in out.messages] == [0, 3]
    assert counters.processed == 3 and counters.sent == 2


def test_an_engine_error_ends_the_worker_for_its_supervisor():
    class Broken(Echo):
        def process(self, frame):
            raise RuntimeError("model file vanished")

    with pytest.raises(RuntimeError, match="vanished"):
        serve(Broken(), QueueSubscriber([[make_frame(0)]]), [], threading.Event(), wait_ms=1, max_frames=1)


def test_results_cross_a_real_result_stream_on_loopback():
    pub = ResultPublisher("tcp://127.0.0.1:0")
    sub = ResultSubscriber(pub.endpoint)
    try:
        frames = [make_frame(i) for i in range(30)]
        received = None
        for frame in frames:  # a PUB/SUB pair needs a moment to connect: publish until one arrives
            serve(Echo(), QueueSubscriber([[frame]]), [pub], threading.Event(), wait_ms=1, max_frames=1)
            received = sub.recv(timeout_ms=50)
            if received is not None:
                break
        assert received is not None and received["engine"] == "echo"
        assert received["result"]["index_seen"] == received["frame_index"]
    finally:
        sub.close()
        pub.close()
