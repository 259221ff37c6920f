"""A take recorded by a real edge node (``onset node run`` on the simulated stage, over the wire,
through GStreamer and ROS 2) becomes a dataset: the lens topic is in the take beside the pose, and
every label the rig measures is there."""

from __future__ import annotations

import time

import numpy as np
import pytest

from engines.captioner.dataset import BuildOptions, build_dataset, iter_samples
from engines.captioner.dataset.bag import read_tracks
from engines.captioner.dataset.source import open_take
from engines.captioner.inputs import MOVEMENT_CLASSES, SHOT_SIZE_CLASSES

pytestmark = [pytest.mark.ros, pytest.mark.gst, pytest.mark.slow]


def test_a_take_from_the_node_carries_the_lens_and_builds_into_labelled_samples(tmp_path):
    pytest.importorskip("rclpy", reason="needs rclpy and the ROS 2 message packages")
    from tests.e2e.test_node import TOKEN, RunningNode

    node = RunningNode(tmp_path, duration_s=40)
    try:
        url = node.wait_for(r"control API (http://127\.0\.0\.1:\d+)").group(1)
        node.wait_for(r"fused \d+\.\d fps \([1-9]")
        time.sleep(3.0)  # the clock models settle
        started = node.onset("take", "start", "--scene", "node-s7", "--shot", "1", "--take", "1",
                             "--control", url, "--token", TOKEN)
        assert started.returncode == 0, started.stderr
        time.sleep(4.0)
        stopped = node.onset("take", "stop", "--control", url, "--token", TOKEN)
        assert stopped.returncode == 0, stopped.stderr
    finally:
        node.stop()
    (take,) = [p for p in node.takes_dir.iterdir() if p.is_dir()]
    source = open_take(take)
    tracks = read_tracks(source)
    counts = tracks.topic_counts
    assert counts.get("/onset/rig/lens", 0) == counts["/onset/rig/pose"] > 300  # one lens reading per sample
    assert tracks.lens is not None and np.all((tracks.lens.focal_length_mm >= 15.0) &
                                              (tracks.lens.focal_length_mm <= 300.0))
    np.testing.assert_array_equal(tracks.lens.t_ns, tracks.poses.t_ns)  # stamped as the poses are
    # Every frame the node recorded: a busy box drops camera frames, and the movement window needs six in 0.5 s.
    options = BuildOptions(fps=24.0, test_scenes=("node-s7",), command="node take")
    report = build_dataset([take], tmp_path / "ds", options)
    samples = list(iter_samples(tmp_path / "ds", "test"))
    assert report.samples_per_split["test"] == len(samples) == counts["/onset/camera/image_raw"] >= 30
    labels = [s.meta["labels"] for s in samples]
    assert all(lab["focal_length_mm"] is not None and 15.0 <= lab["focal_length_mm"] <= 300.0 for lab in labels)
    for s in samples:  # measured, or missing because the window held too few frames: never a guess
        reason = s.meta["missing"].get("movement", "")
        window = any(word in reason for word in ("window", "gap of", "span"))
        assert s.meta["labels"]["movement"] is not None or window, reason
    assert {lab["movement"] for lab in labels} - {None} <= set(MOVEMENT_CLASSES)
    assert {lab["shot_size"] for lab in labels} - {None} <= set(SHOT_SIZE_CLASSES)
    # A busy box loses LiDAR sweeps too: a frame without returns has no subject or shot size, and says so.
    assert sum(s.meta["points_used"] > 1000 for s in samples) >= 5
    for s in samples:
        if s.meta["points_used"] == 0:
            assert s.meta["labels"]["shot_size"] is None and "no LiDAR return" in s.meta["missing"]["shot_size"]
    # A frame the synchronizer fused has its verified label; on a busy box it may drop a few.
    assert sum(s.meta["timecode"] is not None for s in samples) >= len(samples) // 2
    assert all(s.meta["provenance"]["take_json_sha256"] == source.take_json_sha256 for s in samples)
