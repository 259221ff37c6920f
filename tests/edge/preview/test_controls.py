"""The page's controls: a look switch reaches the style worker's socket, engines switch their output,
takes start with the next free take and refuse a slate that exists, takes are listed with
thumbnails decoded from their bags, a look is served as a .cube."""

from __future__ import annotations

import io
import json

import httpx
import numpy as np
from PIL import Image

from engines.style.colour import read_cube
from tests.polling import wait_for

from .fakes import TOKEN, connect, publish_until

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _post(server, path, body):
    return httpx.post(server.url + path, json=body, headers=AUTH, timeout=10)


def test_a_look_switch_reaches_the_style_workers_control_socket(make_preview, style_worker):
    preview = make_preview()
    assert wait_for(lambda: preview.service.looks.looks == ["35mm", "push2", "off"], 5.0)
    answer = _post(preview, "/api/look", {"look": "push2"})
    assert answer.status_code == 200 and answer.json()["look"] == "push2"
    assert style_worker.switched == ["push2"] and style_worker.current == "push2"
    unknown = _post(preview, "/api/look", {"look": "velvia"})
    assert unknown.status_code == 404 and unknown.json()["error"] == (
        "no look named 'velvia'; the looks are 35mm, push2, off") and unknown.json()["looks"] == ["35mm", "push2", "off"]
    assert style_worker.switched == ["push2"]
    state = httpx.get(f"{preview.url}/api/state", headers=AUTH, timeout=5).json()
    assert state["looks"] == ["35mm", "push2", "off"] and state["look"] == "push2"


def test_without_a_style_worker_a_look_switch_says_why(make_preview):
    preview = make_preview()
    answer = _post(preview, "/api/look", {"look": "push2"})
    assert answer.status_code == 503 and "no style worker answers at tcp://127.0.0.1:" in answer.json()["error"]


def test_engine_switches_turn_captions_and_the_styled_image_off_on_the_page(make_preview, stage):
    stage.open_node().open_engines()
    preview = make_preview()
    with connect(preview) as ws:
        (header, _), index = publish_until(stage, ws, lambda m: m[0]["caption"] is not None
                                           and m[0]["parts"][0]["kind"] == "styled")
        assert _post(preview, "/api/engines/captioner", {"enabled": False}).json() == {
            "engine": "captioner", "running": True, "enabled": False}
        assert _post(preview, "/api/engines/style", {"enabled": False}).json()["enabled"] is False
        (header, _), index = publish_until(stage, ws, lambda m: True, first=index)
        assert header["caption"] is None and [p["kind"] for p in header["parts"]] == ["raw"]
        assert _post(preview, "/api/engines/style", {"enabled": True}).status_code == 200
        (header, _), _ = publish_until(stage, ws, lambda m: m[0]["parts"][0]["kind"] == "styled", first=index)
    unknown = _post(preview, "/api/engines/lidar", {"enabled": False})
    assert unknown.status_code == 404 and unknown.json() == {
        "error": "no engine 'lidar'; the engines are captioner, style", "engines": ["captioner", "style"]}


def _image_message(recorder, i: int):
    T = recorder.types.store.types
    stamp = T["builtin_interfaces/msg/Time"](sec=1_800_000_000 + i, nanosec=0)
    rgb = np.zeros((36, 64, 3), np.uint8)
    rgb[:, :, 0] = 200  # red
    msg = T["sensor_msgs/msg/Image"](header=T["std_msgs/msg/Header"](stamp=stamp, frame_id="camera_optical"),
                                     height=36, width=64, encoding="rgb8", is_bigendian=0, step=192,
                                     data=rgb.reshape(-1))
    return recorder.types.serialize(msg, "sensor_msgs/msg/Image")


def test_takes_start_with_the_next_free_take_and_refuse_a_slate_that_exists(make_preview, node, recorder):
    preview = make_preview(node=node)
    first = _post(preview, "/api/take/start", {"scene": "12", "shot": "3"})
    assert first.status_code == 200 and first.json()["take"] == 1 and first.json()["tc_in"] == "01:00:00:00"
    assert recorder.recording
    again = _post(preview, "/api/take/start", {"scene": "12", "shot": "3"})
    assert again.status_code == 409 and "is recording" in again.json()["error"]  # the node's own refusal
    recorder.write("/onset/camera/image_raw", "sensor_msgs/msg/Image", _image_message(recorder, 1), 1_800_000_001 * 10**9)
    assert _post(preview, "/api/take/stop", {}).json()["status"] == "complete"
    assert _post(preview, "/api/take/stop", {}).status_code == 409  # not recording: the node says so

    second = _post(preview, "/api/take/start", {"scene": "12", "shot": "3"})
    assert second.status_code == 200 and second.json()["take"] == 2
    assert _post(preview, "/api/take/stop", {}).status_code == 200
    exists = _post(preview, "/api/take/start", {"scene": "12", "shot": "3", "take": 1})
    assert exists.status_code == 409 and exists.json()["next_take"] == 3
    assert exists.json()["error"].startswith("scene 12 shot 3 take 1 exists (12_3_001_")
    assert exists.json()["error"].endswith("the next free take is 3") and not recorder.recording
    other = _post(preview, "/api/take/start", {"scene": "12", "shot": "4", "take": 7})
    assert other.status_code == 200 and other.json()["take"] == 7
    assert _post(preview, "/api/take/stop", {}).status_code == 200

    listing = httpx.get(f"{preview.url}/api/takes", headers=AUTH, timeout=10).json()
    assert listing["takes_dir"] == str(recorder.status().takes_dir)
    takes = {t["id"]: t for t in listing["takes"]}
    assert [t["slate"] for t in listing["takes"]] == [{"scene": "12", "shot": "3", "take": 1},
                                                      {"scene": "12", "shot": "3", "take": 2},
                                                      {"scene": "12", "shot": "4", "take": 7}]
    one = listing["takes"][0]
    assert one["tc_in"] == "01:00:00:00" and one["tc_out"] == "01:00:00:00" and one["duration_s"] >= 0
    assert one["status"] == "complete" and one["health"]["ok"] is True and one["captions"] is None
    assert one["thumbnail"] == f"/api/takes/{one['id']}/thumbnail.jpg"
    thumb = httpx.get(preview.url + one["thumbnail"], params={"token": TOKEN}, timeout=20)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    image = np.asarray(Image.open(io.BytesIO(thumb.content)).convert("RGB"))
    assert image.shape == (36, 64, 3) and image[..., 0].mean() > 180 and image[..., 1].mean() < 30
    assert httpx.get(preview.url + one["thumbnail"], params={"token": TOKEN}, timeout=20).content == thumb.content
    assert preview.service.takes.thumbnails_decoded == 1  # the second one came from the cache
    no_frames = httpx.get(preview.url + takes[listing["takes"][1]["id"]]["thumbnail"], headers=AUTH, timeout=20)
    assert no_frames.status_code == 404 and "has no camera frame on /onset/camera/image_raw" in no_frames.json()["error"]


def test_a_takes_captions_are_summarized_when_it_has_them(make_preview, node, takes_dir):
    preview = make_preview(node=node)
    assert _post(preview, "/api/take/start", {"scene": "5", "shot": "1"}).status_code == 200
    stopped = _post(preview, "/api/take/stop", {}).json()
    doc = {"shots": [{"sentence": "MCU on 75 mm, slow push-in", "confidence": 0.9},
                     {"sentence": "WS on 24 mm, static", "confidence": 0.7}]}
    (takes_dir / stopped["name"] / "captions.json").write_text(json.dumps(doc))
    take = httpx.get(f"{preview.url}/api/takes", headers=AUTH, timeout=10).json()["takes"][0]
    assert take["captions"] == {"shots": 2, "sentences": ["MCU on 75 mm, slow push-in", "WS on 24 mm, static"],
                                "confidence": 0.8}


def test_takes_start_says_when_no_node_listens(make_preview):
    preview = make_preview()
    answer = _post(preview, "/api/take/start", {"scene": "1", "shot": "1"})
    assert answer.status_code == 503 and "no Onset node is listening" in answer.json()["error"]
    assert httpx.get(f"{preview.url}/api/takes", headers=AUTH, timeout=5).json()["takes"] == []


BAD_CUBES = [
    ("/api/looks/velvia.cube", 404, "no look named 'velvia'; the looks are "),
    ("/api/looks/35mm.cube?size=12", 400, "size must be one of 17, 33, 65"),
    ("/api/looks/35mm.cube?size=abc", 400, "size must be a number"),
    ("/api/looks/35mm.cube?input=srgb", 400, "input must be one of rec709"),
    ("/api/looks/35mm.lut", 404, "looks are served as NAME.cube"),
    ("/api/looks/.cube", 404, "looks are served as NAME.cube"),
    ("/api/looks/..%2F..%2Fetc.cube", 404, "no "),
    ("/api/looks/%2E%2E.cube", 404, "no look named '..'"),
]


def test_bad_look_requests_say_why(make_preview):
    preview = make_preview()
    for path, status, words in BAD_CUBES:
        answer = httpx.get(preview.url + path, headers=AUTH, timeout=20)
        assert answer.status_code == status and words in answer.json()["error"], (path, answer.text)
    assert preview.service.luts.baked == 0


def test_a_look_cube_reads_back_with_the_look_in_its_header(make_preview, tmp_path):
    preview = make_preview()
    answer = httpx.get(f"{preview.url}/api/looks/35mm.cube", params={"size": 17, "input": "rec709", "token": TOKEN},
                       timeout=30)
    assert answer.status_code == 200 and 'filename="35mm-rec709-17.cube"' in answer.headers["content-disposition"]
    (tmp_path / "35mm.cube").write_bytes(answer.content)
    cube = read_cube(tmp_path / "35mm.cube")
    assert cube.size == 17 and cube.header["look"] == "35mm" and cube.header["input encoding"].startswith("rec709")
    assert httpx.get(f"{preview.url}/api/looks/35mm.cube?size=17", headers=AUTH, timeout=30).content == answer.content
    assert preview.service.luts.baked == 1
