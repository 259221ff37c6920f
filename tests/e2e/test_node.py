"""The edge node on the simulated stage, as `make demo` runs it: fused frames out, topics on ROS 2,
takes on disk, and a take that survives the node being killed."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

from tests.e2e.support import ProcessOutput, free_port, sim_profile_on_free_ports

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-token"




class RunningNode(ProcessOutput):
    """`onset node run` in a subprocess; its stdout collected on a thread."""

    def __init__(self, tmp_path: Path, duration_s: float, ros: bool = True, extra_args: tuple = ()) -> None:
        profile = tmp_path / "sim.yaml"
        sim_profile_on_free_ports(profile)
        self.takes_dir = tmp_path / "takes"
        self.stream = f"tcp://127.0.0.1:{free_port(socket.SOCK_STREAM)}"
        self.domain = str(215 + os.getpid() % 9)  # 215..232: DDS ports clear of Linux's ephemeral range
        self.env = dict(os.environ, PYTHONUNBUFFERED="1", ROS_DOMAIN_ID=self.domain,
                        ROS_LOCALHOST_ONLY="1", ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
        args = [sys.executable, "-m", "edge.cli.main", "node", "run", "--profile", str(profile),
                "--duration", str(duration_s), "--takes-dir", str(self.takes_dir), "--stream", self.stream,
                "--control-port", "0", "--control-token", TOKEN]
        if not ros:
            args.append("--no-ros")
        args.extend(extra_args)
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        cwd=ROOT, env=self.env)
        self._follow()

    def onset(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "edge.cli.main", *args], capture_output=True, text=True,
                              cwd=ROOT, env=self.env, timeout=60)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
        self._reader.join(timeout=5)


def _read_bag(take: Path, points: Optional[dict] = None) -> dict:
    """Messages per topic, read by rosbags (its own reader, independent of the writer); LiDAR points
    per PointCloud2 topic into ``points`` when given."""
    from rosbags.highlevel import AnyReader

    counts: dict = {}
    with AnyReader([take / "bag"]) as reader:
        for connection, _, raw in reader.messages():
            counts[connection.topic] = counts.get(connection.topic, 0) + 1
            if connection.topic == "/tf":
                msg = reader.deserialize(raw, connection.msgtype)
                assert msg.transforms[0].header.frame_id == "stage"
            if points is not None and connection.msgtype == "sensor_msgs/msg/PointCloud2":
                msg = reader.deserialize(raw, connection.msgtype)
                points[connection.topic] = points.get(connection.topic, 0) + msg.width * msg.height
    return counts


def _read_bag_mcap(take: Path) -> dict:
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    counts: dict = {}
    (mcap_file,) = (take / "bag").glob("*.mcap")
    with open(mcap_file, "rb") as handle:
        for _, channel, _, _ in make_reader(handle, decoder_factories=[DecoderFactory()]).iter_decoded_messages():
            counts[channel.topic] = counts.get(channel.topic, 0) + 1
    return counts


@pytest.mark.ros
@pytest.mark.gst
@pytest.mark.slow
def test_node_streams_fused_frames_publishes_topics_and_records_a_take(tmp_path):
    from edge.stream import FusedFrameSubscriber

    node = RunningNode(tmp_path, duration_s=40)
    try:
        url = node.wait_for(r"control API (http://127\.0\.0\.1:\d+)").group(1)
        with FusedFrameSubscriber(node.stream) as frames:
            got = []
            deadline = time.monotonic() + 30
            while len(got) < 30 and time.monotonic() < deadline:
                frame = frames.recv(timeout_ms=500)
                if frame is not None:
                    got.append(frame)
        assert len(got) >= 30, node.output
        last = got[-1]
        assert last.rgb.shape == (360, 640, 3) and last.depth_m.shape == (360, 640)
        assert np.isfinite(last.depth_m).sum() > 1000  # LiDAR depth landed in the image
        assert all(f.timecode is not None for f in got[5:])
        assert last.pose is not None and last.lens is not None
        indices = [f.frame_index for f in got]
        assert indices == sorted(indices)

        start = node.onset("take", "start", "--scene", "12", "--shot", "3", "--take", "4",
                           "--control", url, "--token", TOKEN)
        assert start.returncode == 0, start.stderr
        time.sleep(8)
        stop = node.onset("take", "stop", "--control", url, "--token", TOKEN)
        assert stop.returncode == 0, stop.stderr
        assert "complete" in stop.stdout
    finally:
        node.stop()
    (take,) = [p for p in node.takes_dir.iterdir() if p.is_dir()]
    points: dict = {}
    for counts in (_read_bag(take, points), _read_bag_mcap(take)):
        for topic in ("/onset/camera/image_raw", "/onset/lidar/points", "/onset/rig/pose", "/onset/timecode",
                      "/onset/camera/timecode", "/onset/camera/camera_info", "/tf", "/tf_static"):
            assert counts.get(topic, 0) > 0, (topic, counts)
        assert counts["/onset/camera/image_raw"] > 48  # 8 s at 24 fps, minus what a loaded machine skips
    # Everything each driver decoded while the take rolled is in the bag (take.json says what that was).
    sensors = json.loads((take / "take.json").read_text())["sensors"]
    assert sensors["camera"]["decoded"] == sensors["camera"]["offered"] == counts["/onset/camera/image_raw"]
    assert sensors["freed"]["decoded"] == sensors["freed"]["offered"] == counts["/onset/rig/pose"]
    assert sensors["lidar"]["decoded"] == sensors["lidar"]["offered"] == points["/onset/lidar/points"]
    listing = node.onset("takes", "ls", "--takes-dir", str(node.takes_dir))
    assert "12/3/4" in listing.stdout and "complete" in listing.stdout
    assert re.search(r"fused \d+\.\d fps", node.output)


@pytest.mark.gst
@pytest.mark.slow
def test_sigkill_mid_take_keeps_earlier_takes_and_the_open_one_recovers(tmp_path):
    node = RunningNode(tmp_path, duration_s=60, ros=False)
    try:
        url = node.wait_for(r"control API (http://127\.0\.0\.1:\d+)").group(1)
        node.wait_for(r"fused \d+\.\d fps \([1-9]")
        for take, hold_s in ((1, 2.0), (2, 3.5)):
            started = node.onset("take", "start", "--scene", "7", "--shot", "1", "--take", str(take),
                                 "--control", url, "--token", TOKEN)
            assert started.returncode == 0, started.stderr
            time.sleep(hold_s)
            if take == 1:
                assert node.onset("take", "stop", "--control", url, "--token", TOKEN).returncode == 0
    finally:
        node.process.kill()  # SIGKILL in the middle of take 2
        node.process.wait(timeout=30)
    first, second = sorted(p for p in node.takes_dir.iterdir() if p.is_dir())
    listing = node.onset("takes", "ls", "--takes-dir", str(node.takes_dir))
    assert "interrupted" in listing.stdout, listing.stdout
    recovered = node.onset("takes", "recover", "--all", "--takes-dir", str(node.takes_dir))
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    # The finished take is untouched and complete; the killed one reads again up to its last chunk.
    assert _read_bag(first).get("/tf", 0) > 0
    counts = _read_bag(second)
    assert counts.get("/tf", 0) > 0 and counts.get("/tf_static", 0) == 1
    assert _read_bag_mcap(second) == counts
    listing = node.onset("takes", "ls", "--takes-dir", str(node.takes_dir))
    assert "complete" in listing.stdout and "recovered" in listing.stdout
