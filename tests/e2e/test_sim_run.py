"""The whole simulated stage through the ``onset`` command, as a crew runs it."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from config import PROFILE_DIR

ONSET = [sys.executable, "-m", "edge.cli.main"]
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def profile(tmp_path) -> Path:
    """The shipped sim-stage profile on ports nobody else uses."""
    data = yaml.safe_load((PROFILE_DIR / "sim-stage.yaml").read_text())
    data["lidars"][0]["port"] = _free_port()
    data["telemetry"][0]["port"] = _free_port()
    path = tmp_path / "sim.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _onset(*args, timeout=90):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([*ONSET, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)


def _last_table(stdout: str) -> dict:
    """sensor name -> the cells of its row in the last status table printed."""
    blocks = stdout.split("-- ")
    rows = {}
    for line in blocks[-1].splitlines()[2:]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) >= 6 and not line.startswith("  "):
            rows[cells[0]] = cells
    return rows


@pytest.mark.gst
@pytest.mark.slow
def test_sim_run_decodes_every_sensor(profile):
    result = _onset("sim", "run", "--profile", str(profile), "--duration", "5")
    assert result.returncode == 0, result.stderr
    rows = _last_table(result.stdout)
    assert set(rows) == {"lidar", "freed", "camera", "timecode"}, result.stdout
    for name, cells in rows.items():
        assert int(cells[4]) > 0, f"{name} decoded nothing:\n{result.stdout}"
    assert rows["lidar"][5] == "0" and rows["freed"][5] == "0", result.stdout
    assert float(rows["lidar"][2]) > 300  # packets per second (753 nominal; a loaded machine may lag)
    assert float(rows["freed"][2]) > 50  # 100 Hz nominal
    assert "sim sent: lidar" in result.stdout


@pytest.mark.slow
def test_probe_decodes_what_an_emitting_stage_sends(profile):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    emitter = subprocess.Popen([*ONSET, "sim", "run", "--emit-only", "--profile", str(profile), "--duration", "8"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        probe = _onset("sensors", "probe", "--profile", str(profile), "--duration", "4")
    finally:
        emitter.terminate()
        emitter.communicate(timeout=30)
    assert probe.returncode == 0, probe.stderr
    rows = _last_table(probe.stdout)
    assert set(rows) == {"lidar", "freed"}, probe.stdout
    assert int(rows["lidar"][4]) > 0 and int(rows["freed"][4]) > 0, probe.stdout
    assert "camera skipped" in probe.stdout
    assert re.search(r"last lidar: \d+ points, rings 16", probe.stdout), probe.stdout
    assert re.search(r"last freed: camera 1 pan [+-]\d", probe.stdout), probe.stdout


def test_sim_run_refuses_a_real_rig_profile():
    result = _onset("sim", "run", "--profile", "stage-a-real", "--duration", "1")
    assert result.returncode == 2
    assert "real rig" in result.stderr and "onset sensors probe" in result.stderr


def test_port_in_use_is_named(profile):
    port = yaml.safe_load(profile.read_text())["telemetry"][0]["port"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", port))
        result = _onset("sensors", "probe", "--profile", str(profile), "--duration", "1")
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stderr and "already in use" in result.stderr


def test_bad_profile_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("camera:\n  fps: 23\n")
    result = _onset("sim", "run", "--profile", str(path), "--duration", "1")
    assert result.returncode == 2
    assert str(path) in result.stderr and "camera.fps" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [[], ["sim"], ["sim", "run"], ["sensors"], ["sensors", "probe"], ["config"],
                                     ["config", "show"]])
def test_every_command_has_help_with_an_example(command):
    result = _onset(*command, "--help")
    assert result.returncode == 0
    assert "usage: onset" in result.stdout
    if command and command[-1] in ("run", "probe", "show") or not command:
        assert "example" in result.stdout
