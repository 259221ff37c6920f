"""The style engine a worker runs: frames styled by the current look, sent on with their identity;
looks switched through the control endpoint from the next frame on; a real worker process."""

from __future__ import annotations

import dataclasses
import socket
import sys
import time

import numpy as np
import pytest
import yaml

from engines.style.live import LiveLook
from engines.style.model.colour import identity_colour
from engines.style.model.look import Look, save_look
from engines.style.model.texture import Vignette
from engines.style.worker import LookControl, StyleEngine, preview_size, request_look
from engines.worker.loop import FrameRejected
from sensors.ports import free_loopback_port
from tests.edge.stream.frames import make_frame


class _Frames:
    def __init__(self):
        self.frames = []

    def publish(self, frame):
        self.frames.append(frame)


def _looks_dir(tmp_path):
    base = identity_colour()
    warm = Look("test-warm", base.__class__(base.in_curves, np.diag([1.1, 1.0, 0.85]), base.out_curves),
                Vignette(-0.4, 0.0))
    cool = Look("test-cool", base.__class__(base.in_curves, np.diag([0.85, 1.0, 1.15]), base.out_curves))
    for look in (warm, cool):
        save_look(look, tmp_path / f"{look.name}.look.json")
    return tmp_path, warm, cool


def test_preview_size_keeps_the_aspect_in_even_pixels():
    assert preview_size(640, 360, 640) == (640, 360)
    assert preview_size(1920, 1080, 640) == (640, 360)
    assert preview_size(640, 360, 1920) == (640, 360)  # never wider than the camera
    assert preview_size(2048, 858, 480) == (480, 200)  # 2.39:1, rounded down to even


def test_a_frame_is_styled_by_the_current_look_and_keeps_its_identity(tmp_path):
    folder, warm, cool = _looks_dir(tmp_path)
    out = _Frames()
    engine = StyleEngine(out, look="test-warm", preview_width=320, grain=False, looks_dir=folder)
    frame = make_frame(7)
    result = engine.process(frame)
    (styled,) = out.frames
    assert result["look"] == "test-warm" and result["size"] == [320, 180]
    assert (styled.frame_index, styled.t_ns, styled.timecode) == (7, frame.t_ns, frame.timecode)
    assert styled.rgb.shape == (180, 320, 3) and styled.depth_m.shape == (180, 320)
    assert styled.K[0, 0] == pytest.approx(400.0) and styled.K[0, 2] == pytest.approx(159.75)
    import cv2

    small = cv2.resize(frame.rgb, (320, 180), interpolation=cv2.INTER_AREA)
    assert np.array_equal(styled.rgb, LiveLook(warm, 180, 320, grain=False).apply(small))
    assert not np.array_equal(styled.rgb, small)
    engine.switch("test-cool")
    assert engine.process(make_frame(8))["look"] == "test-cool"
    assert np.array_equal(out.frames[-1].rgb, LiveLook(cool, 180, 320, grain=False).apply(
        cv2.resize(make_frame(8).rgb, (320, 180), interpolation=cv2.INTER_AREA)))
    engine.switch("off")
    engine.process(frame)
    assert np.abs(out.frames[-1].rgb.astype(int) - small.astype(int)).max() <= 1


def test_a_look_that_cannot_be_loaded_starts_the_worker_unstyled_saying_why(tmp_path):
    folder, _, _ = _looks_dir(tmp_path)
    engine = StyleEngine(_Frames(), look="sepia", looks_dir=folder, grain=False)
    assert engine.current == "off"
    result = engine.process(make_frame(1))
    assert result["look"] == "off" and "look 'sepia' not loaded" in result["problem"]


def test_an_unknown_look_and_a_bad_frame_are_refused(tmp_path):
    folder, _, _ = _looks_dir(tmp_path)
    engine = StyleEngine(_Frames(), look="off", looks_dir=folder, grain=False)
    with pytest.raises(KeyError, match="no look named 'sepia'; the looks are .*test-cool.*off"):
        engine.switch("sepia")
    assert engine.current == "off"
    with pytest.raises(FrameRejected, match=r"\(H, W, 3\) uint8"):
        engine.process(dataclasses.replace(make_frame(1), rgb=np.zeros((36, 64, 3), np.float32)))


def test_the_control_endpoint_lists_switches_and_refuses(tmp_path):
    folder, _, _ = _looks_dir(tmp_path)
    engine = StyleEngine(_Frames(), look="off", looks_dir=folder, grain=False)
    control = LookControl(engine, f"tcp://127.0.0.1:{free_loopback_port(socket.SOCK_STREAM)}")
    try:
        listed = request_look(control.endpoint, {"looks": True})
        assert listed["ok"] and {"test-warm", "test-cool", "off"} <= set(listed["looks"]) and listed["look"] == "off"
        assert request_look(control.endpoint, {"look": "test-cool"}) == {"ok": True, "look": "test-cool"}
        assert engine.current == "test-cool"
        refused = request_look(control.endpoint, {"look": "nope"})
        assert not refused["ok"] and "no look named 'nope'" in refused["error"] and refused["look"] == "test-cool"
        assert not request_look(control.endpoint, ["look"])["ok"]
    finally:
        control.close()


@pytest.mark.slow
def test_a_worker_process_styles_the_stream_and_switches_within_two_frames(tmp_path):
    from edge.stream import FusedFramePublisher
    from edge.stream.subscriber import FusedFrameSubscriber
    from engines.worker import ResultSubscriber, Supervisor
    from tests.e2e.support import sim_profile_on_free_ports

    folder, _, _ = _looks_dir(tmp_path)

    def port():
        return f"tcp://127.0.0.1:{free_loopback_port(socket.SOCK_STREAM)}"

    results_ep, styled_ep, control_ep = port(), port(), port()
    profile = tmp_path / "sim.yaml"
    sim_profile_on_free_ports(profile, engines={"style": {
        "look": "test-warm", "looks_dir": str(folder), "grain": False, "results_endpoint": results_ep,
        "styled_endpoint": styled_ep, "control_endpoint": control_ep, "ros": False}})
    assert yaml.safe_load(profile.read_text())["engines"]["style"]["look"] == "test-warm"
    publisher = FusedFramePublisher("tcp://127.0.0.1:0")
    argv = [sys.executable, "-m", "engines.worker.child", "style", "--profile", str(profile),
            "--stream", publisher.endpoint, "--no-ros"]
    sup = Supervisor(argv, name="style", backoff_s=0.2).start()
    results = ResultSubscriber(results_ep)
    styled = FusedFrameSubscriber(styled_ep, rcv_hwm=100)
    frames = [make_frame(i) for i in range(3)]
    try:
        got, i, deadline = [], 0, time.monotonic() + 40
        switched_at = None
        while time.monotonic() < deadline:
            publisher.publish(dataclasses.replace(frames[i % 3], frame_index=i))
            i += 1
            message = results.recv(timeout_ms=1000 / 24)
            while message is not None:
                got.append(message)
                message = results.recv(timeout_ms=0)
            if switched_at is None and len(got) >= 10:
                assert request_look(control_ep, {"look": "test-cool"})["ok"]
                switched_at = i  # frames from this index on were sent after the switch
            if switched_at is not None and any(m["result"]["look"] == "test-cool" for m in got):
                break
        assert got, "the style worker sent no result in 40 s"
        assert got[0]["engine"] == "style" and got[0]["result"]["look"] == "test-warm"
        first_cool = min(m["frame_index"] for m in got if m["result"]["look"] == "test-cool")
        # a frame sent after the switch was answered is styled by the new look, at most two frames late
        assert first_cool - switched_at <= 2
        assert all(m["result"]["look"] == "test-warm" for m in got if m["frame_index"] < switched_at - 3)
        received = styled.recv(timeout_ms=2000)
        assert received is not None and received.rgb.shape == (360, 640, 3)
    finally:
        sup.stop()
        results.close()
        styled.close()
        publisher.close()


def test_onset_style_switch_talks_to_the_worker(tmp_path, capsys):
    from edge.cli.main import main

    folder, _, _ = _looks_dir(tmp_path)
    engine = StyleEngine(_Frames(), look="off", looks_dir=folder, grain=False)
    control = LookControl(engine, f"tcp://127.0.0.1:{free_loopback_port(socket.SOCK_STREAM)}")
    try:
        assert main(["style", "switch", "test-warm", "--control", control.endpoint]) == 0
        assert engine.current == "test-warm" and "look test-warm from the next frame on" in capsys.readouterr().out
        assert main(["style", "switch", "--control", control.endpoint]) == 0
        assert "now test-warm; offered:" in capsys.readouterr().out
        assert main(["style", "switch", "sepia", "--control", control.endpoint]) == 1
        assert "no look named 'sepia'" in capsys.readouterr().err and engine.current == "test-warm"
    finally:
        control.close()
