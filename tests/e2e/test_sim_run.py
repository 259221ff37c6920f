"""The whole simulated stage through the ``onset`` command, as a crew runs it."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.e2e.support import sim_profile_on_free_ports

ONSET = [sys.executable, "-m", "edge.cli.main"]
ROOT = Path(__file__).resolve().parents[2]




@pytest.fixture
def profile(tmp_path) -> Path:
    """The shipped sim-stage profile on ports nobody else uses."""
    path = tmp_path / "sim.yaml"
    sim_profile_on_free_ports(path)
    return path


def _onset(*args, timeout=90):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([*ONSET, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)


def _tables(stdout: str) -> list:
    """(elapsed s, {sensor name -> the cells of its row}) of every status table printed."""
    out = []
    for block in stdout.split("-- ")[1:]:
        head, *lines = block.splitlines()
        rows = {}
        for line in lines[1:]:
            cells = re.split(r"\s{2,}", line.strip())
            if len(cells) >= 6 and not line.startswith("  "):
                rows[cells[0]] = cells
        out.append((float(head.split()[0]), rows))
    return out


def _last_table(stdout: str) -> dict:
    """sensor name -> the cells of its row in the last status table printed."""
    return _tables(stdout)[-1][1]


def _frames_spanned(cells) -> int:
    """Frames the camera driver knows the camera sent: decoded ones plus the gaps between them."""
    gaps = re.search(r"frame_gap (\d+)", cells[5])
    return int(cells[4]) + (int(gaps.group(1)) if gaps else 0)


@pytest.mark.gst
@pytest.mark.slow
def test_sim_run_decodes_every_sensor(profile):
    result = _onset("sim", "run", "--profile", str(profile), "--duration", "5")
    assert result.returncode == 0, result.stderr
    rows = _last_table(result.stdout)
    expected = {"lidar", "freed", "camera"}
    if _timecode_input(profile) != "none":  # the LTC comes over the wire only when the profile says where
        expected.add("timecode")
    assert expected <= set(rows) <= expected | {"timecode"}, result.stdout
    for name in expected:
        assert int(rows[name][4]) > 0, f"{name} decoded nothing:\n{result.stdout}"
    assert rows["lidar"][5] == "0" and rows["freed"][5] == "0", result.stdout
    assert float(rows["lidar"][2]) > 300  # packets per second (753 nominal; a loaded machine may lag)
    assert float(rows["freed"][2]) > 50  # 100 Hz nominal
    # The camera, rendered in the stage's own process, arrives as RTP video from a 24 fps camera:
    # its frame numbers (frames decoded plus the gaps a busy renderer or reader left) advance at
    # 24 a second. How many a loaded machine renders in time is bench_sim_realtime's question.
    assert rows["camera"][3] == "24.0", result.stdout
    tables = [(t, r) for t, r in _tables(result.stdout) if int(r["camera"][4]) > 0]
    (t0, first), (t1, last) = tables[0], tables[-1]
    fps = (_frames_spanned(last["camera"]) - _frames_spanned(first["camera"])) / (t1 - t0)
    assert 24 * 0.8 <= fps <= 24 * 1.2, result.stdout
    assert "sim sent: lidar" in result.stdout and "camera -> rtp video 127.0.0.1:" in result.stdout


def _timecode_input(profile: Path) -> str:
    timecode = yaml.safe_load(profile.read_text()).get("timecode", {})
    return str(timecode.get("input", {}).get("kind", "none"))


@pytest.mark.slow
def test_probe_decodes_what_an_emitting_stage_sends(profile):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    emitter = subprocess.Popen([*ONSET, "sim", "run", "--emit-only", "--profile", str(profile), "--duration", "8"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        assert "running" in emitter.stdout.readline()  # the stage's devices are up
        probe = _onset("sensors", "probe", "--profile", str(profile), "--duration", "4")
    finally:
        emitter.terminate()
        emitter.communicate(timeout=30)
    assert probe.returncode == 0, probe.stderr
    rows = _last_table(probe.stdout)
    # Every sensor, the camera included, is a device on the wire: another process can read it.
    assert {"lidar", "freed", "camera"} <= set(rows), probe.stdout
    assert int(rows["lidar"][4]) > 0 and int(rows["freed"][4]) > 0 and int(rows["camera"][4]) > 0, probe.stdout
    assert "camera skipped" not in probe.stdout
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
