"""A planned take is stopped only once the node's fused frames have caught up with its post-roll:
on a busy box the node trails the wall clock, and a take stopped by the wall clock alone ended
before the shot did (its TC out is the newest fused frame)."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from config import load_profile
from edge.plans import FOCAL_SWEEP, plan_takes, stage_take
from edge.plans import runner as runner_module
from edge.plans.runner import PlanRunner, _Node
from edge.stream import FusedFramePublisher
from sensors.timecode.smpte import frames_to_timecode, parse_timecode, seconds_to_frames, timecode_to_seconds
from tests.edge.stream.frames import make_frame


@pytest.fixture(scope="module")
def staged():
    rig = load_profile()
    return stage_take(plan_takes(FOCAL_SWEEP, camera=rig.camera)[0], rig, 3)


def _frame_at(staged, plan_s: float):
    rate = staged.rig.timecode.frame_rate
    start = parse_timecode(staged.rig.timecode.start, rate)
    label = frames_to_timecode(seconds_to_frames(timecode_to_seconds(start) + plan_s, start.rate), start.rate)
    return dataclasses.replace(make_frame(0, 8, 8), timecode=label)


def _publish_labels(pub, staged, labels_s, every_s, stop):
    for plan_s in labels_s:
        if stop.is_set():
            return
        pub.publish(_frame_at(staged, plan_s))
        time.sleep(every_s)


def test_the_runner_waits_for_a_trailing_node_to_fuse_the_post_roll(staged, tmp_path):
    runner = PlanRunner(staged.rig, tmp_path, on_line=lambda line: None)
    with FusedFramePublisher(send_hwm=8) as pub:
        node = _Node(runner, staged, tmp_path)
        node.stream = pub.endpoint
        target_s = 20.0
        # 1 s of frames still short of the target (the node trails), then frames past it.
        labels = [target_s - 1.0 + i * 0.05 for i in range(20)] + [target_s + 0.05 * i for i in range(200)]
        stop = threading.Event()
        feeder = threading.Thread(target=_publish_labels, args=(pub, staged, labels, 0.05, stop), daemon=True)
        started = time.monotonic()
        feeder.start()
        try:
            node.wait_fused_past(target_s)
        finally:
            stop.set()
            feeder.join(timeout=5.0)
    waited_s = time.monotonic() - started
    assert waited_s >= 0.9, f"returned after {waited_s:.2f} s, before the node fused plan time {target_s} s"
    assert waited_s < runner_module.CATCH_UP_S


def test_a_node_that_never_catches_up_costs_at_most_the_catch_up_bound(staged, tmp_path, monkeypatch):
    monkeypatch.setattr(runner_module, "CATCH_UP_S", 1.0)
    runner = PlanRunner(staged.rig, tmp_path, on_line=lambda line: None)
    with FusedFramePublisher(send_hwm=8) as pub:
        node = _Node(runner, staged, tmp_path)
        node.stream = pub.endpoint
        stop = threading.Event()
        feeder = threading.Thread(target=_publish_labels, args=(pub, staged, [5.0] * 400, 0.02, stop), daemon=True)
        started = time.monotonic()
        feeder.start()
        try:
            node.wait_fused_past(20.0)
        finally:
            stop.set()
            feeder.join(timeout=5.0)
    assert 0.9 <= time.monotonic() - started < 3.0
