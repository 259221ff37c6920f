"""A slow consumer loses frames (counted on its side), never slows the publisher or a fast consumer.

Two consumer processes, one fast and one that spends 150 ms on every frame, subscribe to a
publisher that sends 640x360 RGB + depth frames at 30 fps.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from edge.stream import FusedFramePublisher
from tests.edge.stream.frames import make_frame

REPO = Path(__file__).resolve().parents[3]
FPS = 30.0
FRAMES = 60
SLOW_WORK_MS = 150.0


class _Consumer:
    """A consumer process whose JSON lines are read by a thread into a queue."""

    def __init__(self, endpoint: str, work_ms: float) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.edge.stream.consumer", endpoint, "--work-ms", str(work_ms)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, text=True,
        )
        self.lines: "queue.Queue[dict]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def event(self, name: str, deadline: float) -> dict:
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"consumer gave no {name!r} before the deadline")
            if line["event"] == name:
                return line

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def test_slow_consumer_loses_frames_without_slowing_anyone() -> None:
    period_s = 1.0 / FPS
    frames = [make_frame(i, seed=3) for i in range(FRAMES)]  # made up front: publishing is what is timed
    warm_up = make_frame(-1, seed=3)
    with FusedFramePublisher(send_hwm=2) as pub:
        fast, slow = _Consumer(pub.endpoint, 0.0), _Consumer(pub.endpoint, SLOW_WORK_MS)
        try:
            deadline = time.monotonic() + 20.0
            joined = set()
            while len(joined) < 2:  # PUB drops until a subscriber has joined: warm up until both have
                assert time.monotonic() < deadline, "consumers did not join"
                pub.publish(warm_up)
                for name, consumer in (("fast", fast), ("slow", slow)):
                    if name not in joined and not consumer.lines.empty() and consumer.lines.get()["event"] == "first":
                        joined.add(name)
                time.sleep(period_s)
            publish_s, results = [], []
            t_start = time.monotonic()
            for i, frame in enumerate(frames):
                time.sleep(max(0.0, t_start + i * period_s - time.monotonic()))  # pacing at 30 fps
                t0 = time.perf_counter()
                results.append(pub.publish(frame))
                publish_s.append(time.perf_counter() - t0)
            elapsed_s = time.monotonic() - t_start
            done_deadline = time.monotonic() + 20.0
            fast_done, slow_done = fast.event("done", done_deadline), slow.event("done", done_deadline)
        finally:
            fast.kill()
            slow.kill()
    publish_ms = np.array(publish_s) * 1000.0
    print(f"publish ms: median {np.median(publish_ms):.3f} max {publish_ms.max():.3f}; fast {fast_done['received']} "
          f"received {fast_done['lost']} lost; slow {slow_done['received']} received {slow_done['lost']} lost")
    # The publisher never blocked: every frame accepted, on schedule, each publish far below the period.
    assert all(results)
    assert elapsed_s < FRAMES * period_s + 0.5
    assert np.median(publish_ms) < 2.0 and publish_ms.max() < period_s * 1000.0 / 2, publish_ms.max()
    # The fast consumer got (nearly) everything, in order and intact.
    assert len(fast_done["indices"]) >= 0.9 * FRAMES and fast_done["lost"] <= 0.1 * FRAMES, fast_done
    assert fast_done["indices"] == sorted(fast_done["indices"]) and fast_done["corrupt"] == 0
    # The slow one lost frames and knows it, from the gaps in the publisher's sequence numbers.
    got_slow = slow_done["indices"]
    assert slow_done["lost"] > 0 and len(got_slow) < FRAMES, slow_done
    # Every frame missing before the last one it got is a counted gap (the stream's tail has no later seq).
    assert slow_done["lost"] >= max(got_slow) + 1 - len(got_slow) > 0
    assert slow_done["corrupt"] == 0 and slow_done["rejected"] == 0 and fast_done["rejected"] == 0
