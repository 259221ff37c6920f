"""Fixtures of the preview tests: a fake stage, a real control API over a real recorder, a style
worker's real look control over a fake engine, and preview servers on ports the tests pick."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Callable, List

import pytest

from config import load_profile
from edge.preview import PreviewServer, PreviewSettings
from edge.recorder import ControlServer, RecorderConfig, TakeRecorder
from engines.style.worker import LookControl
from sensors.ports import free_loopback_port

from .fakes import TOKEN, FakeStage, FakeStyleEngine, endpoint

NODE_TOKEN = "node-token-for-tests"
NODE_STATUS = {"v": 1, "node": "fake", "fused": {"fused_hz": 24.0}, "sensors": {"lidar": {"rate_hz": 754.0}}}


@pytest.fixture(scope="session")
def rig():
    return load_profile()


@pytest.fixture
def stage():
    fake = FakeStage()
    yield fake
    fake.close()


@pytest.fixture
def takes_dir(tmp_path: Path) -> Path:
    return tmp_path / "takes"


@pytest.fixture
def recorder(rig, takes_dir):
    rec = TakeRecorder(RecorderConfig(takes_dir=takes_dir, chunk_size_bytes=4096, min_free_bytes=0,
                                      fsync_interval_s=0.0), rig)
    yield rec
    rec.close()


@pytest.fixture
def node(recorder):
    """The node's control API (take start/stop, GET /status) over a real recorder."""
    with ControlServer(recorder, token=NODE_TOKEN, timecode_now=lambda: "01:00:00:00",
                       status=lambda: dict(NODE_STATUS)) as server:
        yield server


@pytest.fixture
def style_worker(stage):
    """A style worker's look control (the real REP socket) over an engine that records switches."""
    engine = FakeStyleEngine()
    control = LookControl(engine, stage.endpoints["looks"])
    yield engine
    control.close()


@pytest.fixture
def make_preview(stage, takes_dir) -> Callable[..., PreviewServer]:
    """Start a preview on the fake stage's endpoints (``node``: a ControlServer, else nobody
    listens at its control URL); every one started is closed after the test."""
    started: List[PreviewServer] = []

    def make(node=None, **overrides) -> PreviewServer:
        values = dict(
            token=TOKEN, port=free_loopback_port(socket.SOCK_STREAM), fused_endpoint=stage.endpoints["fused"],
            styled_endpoint=stage.endpoints["styled"], style_results_endpoint=stage.endpoints["style"],
            captioner_results_endpoint=stage.endpoints["captioner"], look_control_endpoint=stage.endpoints["looks"],
            control_url=node.url if node is not None else endpoint().replace("tcp://", "http://"),
            control_token=NODE_TOKEN, takes_dir=takes_dir, preview_width=stage.preview_width, poll_interval_s=0.2)
        values.update(overrides)
        server = PreviewServer(PreviewSettings(**values)).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.close()
