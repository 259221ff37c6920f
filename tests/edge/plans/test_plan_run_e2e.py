"""`onset plan run` through real edge nodes on the simulated stage: each take recorded, its
take.json naming the plan and the value, its bag (read by rosbags, an independent reader) holding
the camera at the planned focal length."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.support import sim_profile_on_free_ports

ROOT = Path(__file__).resolve().parents[3]


def _bag(take: Path) -> dict:
    """Per topic: message count; camera_info: the focal lengths (mm) its K says."""
    from rosbags.highlevel import AnyReader

    counts: dict = {}
    fx = []
    with AnyReader([take / "bag"]) as reader:
        for connection, _, raw in reader.messages():
            counts[connection.topic] = counts.get(connection.topic, 0) + 1
            if connection.msgtype == "sensor_msgs/msg/CameraInfo":
                msg = reader.deserialize(raw, connection.msgtype)
                fx.append((float(msg.k[0]), int(msg.width)))
    return {"counts": counts, "fx": fx}


@pytest.mark.ros
@pytest.mark.gst
@pytest.mark.slow
def test_plan_run_records_each_take_through_a_node_with_its_plan(tmp_path):
    profile = tmp_path / "sim.yaml"
    sim_profile_on_free_ports(profile)
    takes_dir = tmp_path / "takes"
    env = dict(os.environ, PYTHONUNBUFFERED="1", ROS_DOMAIN_ID=str(215 + os.getpid() % 9),
               ROS_LOCALHOST_ONLY="1", ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
    run = subprocess.run(
        [sys.executable, "-m", "edge.cli.main", "plan", "run", "focal-sweep", "--only", "0", "1", "--seconds", "4",
         "--profile", str(profile), "--takes-dir", str(takes_dir)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=170,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "2 of 2 takes complete, 0 failed" in output
    folders = sorted(p for p in takes_dir.iterdir() if p.is_dir())
    assert [p.name.split("_")[:3] for p in folders] == [["focal-sweep-s7", "0", "001"], ["focal-sweep-s7", "1", "001"]]
    for index, (folder, focal_mm) in enumerate(zip(folders, (18.0, 25.0))):
        doc = json.loads((folder / "take.json").read_text())
        assert doc["status"] == "complete"
        assert doc["slate"] == {"scene": "focal-sweep-s7", "shot": str(index), "take": 1}
        plan = doc["plan"]
        assert (plan["name"], plan["index"], plan["parameter"], plan["value"], plan["unit"], plan["seed"]) == (
            "focal-sweep", index, "focal_length_mm", focal_mm, "mm", 7)
        assert plan["fixed"]["movement"] == "static" and f"{focal_mm:g} mm" in plan["instruction"]
        assert doc["rig"]["stage"]["seed"] == 7 and doc["rig"]["stage"]["loop"] is True
        assert doc["rig"]["stage"]["shot"][0]["focal_length_mm"] == focal_mm
        bag = _bag(folder)
        counts = bag["counts"]
        for topic in ("/onset/camera/image_raw", "/onset/rig/pose", "/onset/lidar/points", "/onset/timecode"):
            assert counts.get(topic, 0) > 0, (topic, counts)
        assert counts["/onset/camera/image_raw"] == sum(
            t["message_count"] for t in doc["topics"] if t["name"] == "/onset/camera/image_raw")
        # The camera's calibration in the bag: K at the planned focal length (fx = f W / sensor width).
        width_mm = doc["calibration"]["camera"]["intrinsics"]["sensor_width_mm"]
        assert bag["fx"], "no camera_info in the take"
        focal = np.array([fx * width_mm / width for fx, width in bag["fx"]])
        assert np.allclose(focal, focal_mm, rtol=0.005), focal
