"""The preview on a fake stage: picked up when it appears, frames laid out as docs/preview.md says,
parts encoded once for every viewer, captions and looks attached, raw standing in for styled."""

from __future__ import annotations

import contextlib
import io
import threading
import zlib

import httpx
import numpy as np
from PIL import Image

from tests.polling import wait_for

from .fakes import (FUSED_AFTER_NS, STYLED_AFTER_NS, TOKEN, connect, is_frame, is_text, make_frame, next_message,
                    publish_until)

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _sources(server):
    return httpx.get(f"{server.url}/api/state", headers=AUTH, timeout=5).json()["sources"]


def test_serves_the_page_with_nothing_up_then_picks_each_source_up(make_preview, stage, node, style_worker):
    preview = make_preview()  # its control URL leads nowhere: the node source never comes
    assert httpx.get(f"{preview.url}/", timeout=5).status_code == 200
    assert httpx.get(f"{preview.url}/takes", timeout=5).status_code == 200
    sources = _sources(preview)
    assert {name: s["status"] for name, s in sources.items() if name != "looks"} == {
        "fused": "waiting", "styled": "waiting", "style": "waiting", "captioner": "waiting", "node": "waiting"}
    assert sources["fused"]["reason"] == f"nothing from {stage.endpoints['fused']} yet: start the node: onset node run"
    assert "no Onset node is listening" in sources["node"]["reason"]
    stage.open_node().open_engines()
    with connect(preview) as ws:
        publish_until(stage, ws, lambda m: m[0]["caption"] is not None and m[0]["look"] is not None)
    live = wait_for(lambda: {s["status"] for n, s in _sources(preview).items() if n != "node"} == {"live"}, 5.0)
    assert live, _sources(preview)
    assert _sources(preview)["fused"]["reason"] is None and _sources(preview)["fused"]["messages"] > 0
    assert _sources(preview)["node"]["status"] == "waiting"  # still nobody at its control URL

    with_node = make_preview(node=node)
    assert wait_for(lambda: _sources(with_node)["node"]["status"] == "live", 5.0)
    state = httpx.get(f"{with_node.url}/api/state", headers=AUTH, timeout=5).json()
    assert state["health"]["sensors"] == {"lidar": {"rate_hz": 754.0}} and state["take"]["state"] == "idle"


def test_a_frame_message_has_the_documented_layout_and_stamps(make_preview, stage):
    stage.open_node().open_engines()
    preview = make_preview()
    with connect(preview) as ws:
        hello = next_message(ws, is_text("hello"))
        assert hello["parts"] == ["styled"] and hello["controls"] is True and hello["kinds"] == ["styled", "raw", "depth"]
        ws.send('{"type": "parts", "parts": ["styled", "raw", "depth"]}')
        (header, parts), _ = publish_until(stage, ws, lambda m: len(m[0]["parts"]) == 3
                                           and m[0]["caption_frame_index"] == m[0]["frame_index"])
    index = header["frame_index"]
    frame = make_frame(index)
    assert header["type"] == "frame" and isinstance(header["seq"], int) and header["skipped"] >= 0
    assert header["t_ns"] == frame.t_ns and header["timecode"] == str(frame.timecode) and header["rate"] == "24"
    assert (header["width"], header["height"]) == (80, 44)  # the styled frames' size
    assert [p["kind"] for p in header["parts"]] == ["styled", "raw", "depth"]
    assert [p["bytes"] for p in header["parts"]] == [len(p) for p in parts]
    assert header["parts"][2] == {"kind": "depth", "mime": "application/x-onset-depth", "bytes": len(parts[2]),
                                  "width": 80, "height": 44, "unit": "mm", "encoding": "uint16le+zlib"}
    assert header["look"] == "35mm" and header["lens"] == {"focal_length_mm": 40.0, "focus_distance_m": 3.0,
                                                           "t_stop": 2.8}
    assert header["camera"]["sensor_width_mm"] == 24.89 and abs(header["camera"]["fx_px"] - 128.0) < 1e-9
    assert header["sync"][0] == {"sensor": "lidar", "status": "ok", "gap_ms": 12.5, "residual_jitter_ms": 0.21}
    assert header["sync"][1]["gap_ms"] is None  # infinity is not JSON
    assert header["caption"] == {"labels": {"shot_size": "MS", "frame": index}}
    stamps = header["stamps_ns"]
    assert stamps["exposure"] == frame.t_ns
    assert stamps["fused"] == frame.t_ns + FUSED_AFTER_NS and stamps["engines"] == frame.t_ns + STYLED_AFTER_NS
    assert stamps["sent"] >= stamps["engines"] - 10**18  # the server's clock, not the fake stage's
    styled = np.asarray(Image.open(io.BytesIO(parts[0])).convert("RGB"))
    raw = np.asarray(Image.open(io.BytesIO(parts[1])).convert("RGB"))
    assert styled.shape == raw.shape == (44, 80, 3)
    assert abs(int(styled[..., 0].mean()) + int(raw[..., 0].mean()) - 255) < 8  # the styled frame is the inverse
    depth_mm = np.frombuffer(zlib.decompress(parts[2]), dtype="<u2").reshape(44, 80)
    assert set(np.unique(depth_mm)) <= {0, 2500 + index} and (depth_mm == 2500 + index).any()


def test_parts_are_encoded_once_per_frame_for_every_viewer_and_only_when_asked(make_preview, stage):
    stage.open_node().open_engines()
    preview = make_preview()
    encodes = preview.service.pipeline.encodes
    with contextlib.ExitStack() as stack:
        viewers = [stack.enter_context(connect(preview)) for _ in range(3)]
        for ws in viewers:
            next_message(ws, is_text("hello"))
        _, index = publish_until(stage, viewers[0], lambda m: m[0]["parts"][0]["kind"] == "styled")
        before = dict(encodes)
        sent = 12
        for i in range(index, index + sent):
            stage.publish(make_frame(i))
            for ws in viewers:  # every viewer gets every frame before the next is published
                next_message(ws, lambda m, i=i: is_frame(m) and m[0]["frame_index"] == i)
        assert encodes["styled"] - before["styled"] == sent  # not 3 x sent
        assert encodes["raw"] == before["raw"] and encodes["depth"] == before["depth"] == 0  # nobody asked
        viewers[2].send('{"type": "parts", "parts": ["depth"]}')
        assert wait_for(lambda: preview.service.hub.wanted == {"styled", "depth"}, 2.0)
        stage.publish(make_frame(index + sent))
        header, _ = next_message(viewers[2], lambda m: is_frame(m) and m[0]["frame_index"] == index + sent)
        assert [p["kind"] for p in header["parts"]] == ["depth"]
        header, _ = next_message(viewers[0], lambda m: is_frame(m) and m[0]["frame_index"] == index + sent)
        assert [p["kind"] for p in header["parts"]] == ["styled"]
        assert encodes["depth"] == 1 and encodes["styled"] - before["styled"] == sent + 1
    frames_before = preview.service.pipeline.seq
    assert wait_for(lambda: len(preview.service.hub) == 0, 3.0)
    stage.publish(make_frame(index + sent + 1))
    assert wait_for(lambda: preview.service.pipeline.unwatched > 0, 3.0)
    assert preview.service.pipeline.seq == frames_before  # no viewer: nothing encoded


def test_without_the_style_worker_raw_frames_stand_in_for_styled_ones(make_preview, stage):
    stage.open_node()
    preview = make_preview()
    with connect(preview) as ws:
        (header, parts), _ = publish_until(stage, ws, lambda m: True)
        assert [p["kind"] for p in header["parts"]] == ["raw"]
        assert (header["width"], header["height"]) == (80, 44)  # the size the style worker would make
        assert "engines" not in header["stamps_ns"] and header["look"] is None and header["caption"] is None
        image = np.asarray(Image.open(io.BytesIO(parts[0])).convert("RGB"))
        assert image.shape == (44, 80, 3)
        assert abs(header["camera"]["fx_px"] - 128.0) < 1e-9 and abs(header["camera"]["cx_px"] - 39.75) < 1e-9


def test_a_caption_is_the_frames_own_or_the_newest_before_it(make_preview, stage):
    stage.open_node().open_engines()
    preview = make_preview()
    with connect(preview) as ws:
        (header, _), index = publish_until(stage, ws, lambda m: m[0]["caption_frame_index"] == m[0]["frame_index"])
        stage.publish(make_frame(index), caption=False)
        header, _ = next_message(ws, lambda m: is_frame(m) and m[0]["frame_index"] == index)
        assert header["caption_frame_index"] == index - 1 and header["caption"]["labels"]["frame"] == index - 1


def test_a_slow_encode_holds_up_no_socket(make_preview, stage, monkeypatch):
    import time

    import edge.preview.frames as frames

    threads = []
    slow = frames.encode_jpeg

    def slow_jpeg(rgb, quality):
        threads.append(threading.current_thread().name)
        time.sleep(0.4)
        return slow(rgb, quality)

    monkeypatch.setattr(frames, "encode_jpeg", slow_jpeg)
    stage.open_node()
    preview = make_preview()
    with connect(preview) as ws:
        next_message(ws, is_text("hello"))
        index = 0
        while not threads:  # publish until an encode is under way
            stage.publish(make_frame(index))
            index += 1
            time.sleep(0.02)
            assert index < 250
        t0 = time.monotonic()
        ws.send('{"type": "ping", "id": 1, "client_ms": 0}')
        next_message(ws, is_text("pong"))
        assert time.monotonic() - t0 < 0.2  # the event loop answered while the encoder worked
    assert set(threads) == {"preview-encoder"}
