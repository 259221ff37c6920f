"""The server's process side: `onset preview` teaches in its --help, prints the page's address with
the token, stops cleanly on SIGINT and SIGTERM within a few seconds; a port in use is said at once;
answers on a kept-alive connection are not held back (Nagle); settings come from the profile."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from config import load_rig
from config.errors import ProfileValueError
from edge.cli.main import build_parser
from edge.preview import PreviewSettings, PreviewStartError
from edge.preview.server import PreviewServer
from sensors.ports import free_loopback_port

from .fakes import TOKEN

ROOT = Path(__file__).resolve().parents[3]


def test_help_teaches_access_binding_and_examples(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["preview", "--help"])
    text = capsys.readouterr().out
    for words in ("#token=", "$ONSET_PREVIEW_TOKEN", "watch_without_token", "127.0.0.1:8080", "--host 10.0.0.5",
                  "--control-token", "examples:"):
        assert words in text, words
    with pytest.raises(SystemExit):
        build_parser().parse_args(["preview", "--port", "0"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["preview", "--host", "example.com"])


def _start_cli(tmp_path, *extra, env=None):
    port = free_loopback_port(socket.SOCK_STREAM)
    env = dict(os.environ, ONSET_PREVIEW_TOKEN="", HOME=str(tmp_path), PYTHONPATH=str(ROOT), **(env or {}))
    proc = subprocess.Popen([sys.executable, "-m", "edge.cli.main", "preview", "--port", str(port),
                             "--takes-dir", str(tmp_path / "takes"), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
                            start_new_session=True)
    return proc, port


def _banner(proc) -> list:
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if "Ctrl-C stops it" in line:
            return lines
    proc.kill()
    raise AssertionError(f"no banner: {lines} {proc.stderr.read()}")


def _stop(proc, signum) -> float:
    t0 = time.monotonic()
    os.killpg(proc.pid, signum)
    assert proc.wait(timeout=8) == 0, proc.stderr.read()
    return time.monotonic() - t0


def test_onset_preview_prints_its_address_and_stops_on_sigint(tmp_path):
    proc, port = _start_cli(tmp_path)
    try:
        lines = _banner(proc)
        url = lines[0].split("onset preview: ", 1)[1]
        assert url.startswith(f"http://127.0.0.1:{port}/#token=") and len(url.split("#token=")[1]) >= 24
        assert "binds 127.0.0.1 only: this machine" in lines[1] and "made for this run" in lines[2]
        token = url.split("#token=")[1]
        assert httpx.get(f"http://127.0.0.1:{port}/api/state", params={"token": token}, timeout=5).status_code == 200
        assert _stop(proc, signal.SIGINT) < 5.0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_onset_preview_stops_on_sigterm_while_frames_flow_to_viewers(tmp_path, stage, node):
    """The profile's endpoints are the fake stage's and the node's; a viewer reads, another never does."""
    from .fakes import connect_to, is_frame, make_frame, next_message
    from .test_many_viewers import _stalled_viewer

    stage.open_node().open_engines()
    profile = tmp_path / "rig.yaml"
    profile.write_text(yaml.safe_dump({
        "stream": {"endpoint": stage.endpoints["fused"]}, "control": {"port": node.port},
        "engines": {"style": {"styled_endpoint": stage.endpoints["styled"], "results_endpoint": stage.endpoints["style"],
                              "control_endpoint": stage.endpoints["looks"], "preview_width": 80},
                    "captioner": {"results_endpoint": stage.endpoints["captioner"]}}}))
    proc, port = _start_cli(tmp_path, "--profile", str(profile), "--token", TOKEN, env={"ONSET_CONTROL_TOKEN": "x"})
    try:
        _banner(proc)
        stalled = _stalled_viewer(port)
        with connect_to(port) as ws:
            index = 0
            while True:
                stage.publish(make_frame(index))
                index += 1
                try:
                    next_message(ws, is_frame, 0.2)
                    break
                except TimeoutError:
                    assert index < 100
            for i in range(index, index + 24):
                stage.publish(make_frame(i))
            assert _stop(proc, signal.SIGTERM) < 5.0
        stalled.close()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_onset_preview_says_when_its_port_is_taken(tmp_path):
    with socket.socket() as holder:
        port = free_loopback_port(socket.SOCK_STREAM)
        holder.bind(("127.0.0.1", port))
        holder.listen()
        env = dict(os.environ, HOME=str(tmp_path), PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, "-m", "edge.cli.main", "preview", "--port", str(port), "--token", "x1"],
                              capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    assert done.returncode == 1
    assert f"the preview cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr


def test_a_port_in_use_fails_the_start_before_anything_runs():
    with socket.socket() as holder:
        port = free_loopback_port(socket.SOCK_STREAM)
        holder.bind(("127.0.0.1", port))
        holder.listen()
        server = PreviewServer(PreviewSettings(token=TOKEN, port=port))
        with pytest.raises(PreviewStartError, match="another preview running"):
            server.start()
        assert server.service._open == []  # no reader was started


def test_answers_on_a_kept_alive_connection_are_not_held_back(make_preview):
    preview = make_preview()
    with httpx.Client(base_url=preview.url, timeout=5) as client:
        client.get("/healthz")
        times = []
        for _ in range(10):
            t0 = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            times.append(time.perf_counter() - t0)
    times.sort()
    assert times[len(times) // 2] < 0.03  # with Nagle on, every answer after the first waited 40 ms


def test_settings_come_from_the_profile_and_the_shipped_profiles_keep_the_defaults(rig):
    settings = PreviewSettings.from_rig(rig, "tok", port=9000, control_token=None)
    assert (settings.host, settings.port, settings.jpeg_quality, settings.watch_without_token) == ("127.0.0.1", 9000,
                                                                                                  80, False)
    assert settings.fused_endpoint == "tcp://127.0.0.1:5557" and settings.styled_endpoint == "tcp://127.0.0.1:5562"
    assert settings.look_control_endpoint == "tcp://127.0.0.1:5563" and settings.control_url == "http://127.0.0.1:8765"
    assert settings.takes_dir is None and settings.default_takes_dir == rig.recorder.takes_dir
    assert rig.preview.token_env == "ONSET_PREVIEW_TOKEN" and rig.preview.port == 8080
    custom = load_rig({"preview": {"host": "10.0.0.5", "port": 8443, "watch_without_token": True, "jpeg_quality": 60,
                                   "takes_dir": "~/elsewhere"}})
    assert custom.preview.takes_dir == Path("~/elsewhere").expanduser()
    assert PreviewSettings.from_rig(custom, "t").url == "http://10.0.0.5:8443"
    for bad in ({"host": "stage.local"}, {"port": 0}, {"jpeg_quality": 101}, {"tokn_env": "X"}):
        with pytest.raises(ProfileValueError, match="preview"):
            load_rig({"preview": bad})


def test_the_api_is_described_at_openapi_json_and_shown_at_docs_from_local_files(make_preview):
    preview = make_preview()
    with httpx.Client(base_url=preview.url, timeout=5) as client:
        spec = client.get("/openapi.json").json()
        docs = client.get("/docs")
        script = client.get("/static/api.js")
    assert {"/api/look", "/api/take/start", "/api/take/stop", "/api/takes", "/metrics"} <= set(spec["paths"])
    assert docs.status_code == 200 and "/static/api.js" in docs.text
    assert script.status_code == 200 and "endpointRows" in script.text
    # Every asset the page loads is the server's own: no address of another host.
    assert "http://" not in docs.text and "https://" not in docs.text
