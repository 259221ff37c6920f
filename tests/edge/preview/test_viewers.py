"""A viewer's slot: the newest frame replaces the unsent one (counted), text waits in a bounded
deque; the rate limit; a viewer's own header (its parts, sent stamp and skipped count)."""

from __future__ import annotations

import asyncio
import json

import pytest

from edge.preview.errors import ClientMessageError
from edge.preview.latency import LatencyStages
from edge.preview.protocol import Drawn, unpack_frame
from edge.preview.viewers import PreviewFrame, RateLimit, ViewerHub, run_sender


def _frame(seq: int) -> PreviewFrame:
    return PreviewFrame(seq, 100 + seq, json.dumps({"frame_index": 100 + seq, "t_ns": 5}),
                        {"styled": b"S" * seq, "depth": b"D"},
                        {"styled": {"kind": "styled", "bytes": seq}, "depth": {"kind": "depth", "bytes": 1}},
                        {"exposure": 1_000, "fused": 2_000})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_rate_limit_allows_a_burst_then_the_sustained_rate():
    clock = Clock()
    limit = RateLimit(50, 100, monotonic_s=clock)
    assert all(limit.allow() for _ in range(100)) and not limit.allow()
    clock.now += 0.1  # five more tokens
    assert [limit.allow() for _ in range(6)] == [True] * 5 + [False]
    clock.now += 100.0
    assert sum(limit.allow() for _ in range(200)) == 100  # never more than the burst saved up


def test_a_slow_viewer_holds_one_frame_and_counts_what_it_skipped():
    async def scenario():
        hub = ViewerHub(LatencyStages(), clock_ns=lambda: 9_000)
        viewer = hub.add(controls=False)
        for seq in (1, 2, 3):
            hub.publish(_frame(seq))
        assert viewer.frame.seq == 3 and viewer.skipped == 2
        for i in range(40):
            viewer.offer_text(f"t{i}")
        assert len(viewer.texts) == 32 and viewer.texts_dropped == 8 and viewer.texts[0] == "t8"
        sent_text, sent_bytes = [], []

        async def send_text(text):
            sent_text.append(text)

        async def send_bytes(data):
            sent_bytes.append(data)

        task = asyncio.ensure_future(run_sender(viewer, hub, send_text, send_bytes))
        await asyncio.sleep(0.01)
        task.cancel()
        return hub, viewer, sent_text, sent_bytes

    hub, viewer, texts, frames = asyncio.run(scenario())
    assert texts == [f"t{i}" for i in range(8, 40)] and len(frames) == 1
    header, parts = unpack_frame(frames[0])
    assert header["seq"] == 3 and header["skipped"] == 2 and header["frame_index"] == 103
    assert header["stamps_ns"] == {"exposure": 1_000, "fused": 2_000, "sent": 9_000}
    assert [p["kind"] for p in header["parts"]] == ["styled"] and parts == [b"SSS"]
    assert viewer.skipped == 0 and viewer.skipped_total == 2 and hub.frames_sent == 1
    hub.remove(viewer)
    assert hub.skipped_total == 2 and len(hub) == 0 and hub.wanted == frozenset()


def test_drawn_reports_are_believed_only_for_frames_the_viewer_was_sent():
    latency = LatencyStages()
    hub = ViewerHub(latency, clock_ns=lambda: 10_000_000)
    viewer = hub.add(controls=True)
    hub.set_parts(viewer, frozenset({"depth"}))
    assert hub.wanted == {"depth"}
    header, parts = unpack_frame(hub.frame_message(viewer, _frame(4), skipped=0))
    assert [p["kind"] for p in header["parts"]] == ["depth"] and parts == [b"D"]
    hub.drawn(viewer, Drawn(4, 25_000_000))
    summary = latency.summary()
    assert summary["sent_drawn"]["p50_ms"] == 15.0 and summary["exposure_drawn"]["p50_ms"] == pytest.approx(24.999)
    with pytest.raises(ClientMessageError, match="was not sent to this viewer"):
        hub.drawn(viewer, Drawn(5, 25_000_000))
    with pytest.raises(ClientMessageError, match="clock offset"):
        hub.drawn(viewer, Drawn(4, 10_000_000 - 200_000_000))
