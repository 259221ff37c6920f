"""The bridge as a Foxglove client sees it: a protocol client connects to the server on loopback,
subscribes to every channel and receives each one's messages; the content is decoded and checked.
Also: nothing is encoded while nobody watches, start-up rolls back and says what failed, close stops
everything."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import sys
import threading

import cv2
import numpy as np
import pytest

from config.foxglove import FoxgloveConfig
from config.models import RigConfig
from edge.foxglove import TOPICS, FoxgloveBridge, FoxgloveStartError, FoxgloveUnavailableError
from edge.foxglove import messages as fx
from engines.worker.results import ResultPublisher, envelope
from sensors.ports import free_loopback_port
from sensors.vocabulary import PointCloud, Stamp
from tests.edge.stream.frames import make_frame
from tests.polling import wait_for

from .client import FoxgloveClient, decoder_for

pytest.importorskip("foxglove")

ALL_TOPICS = list(TOPICS.values())
TIMEOUT_S = 10.0


def _tcp_port() -> int:
    return free_loopback_port(socket.SOCK_STREAM)


def _frame(index: int = 3):
    """make_frame's frame with a smooth picture (JPEG keeps it within a few levels): red across, green down."""
    frame = make_frame(index)
    rgb = np.zeros_like(frame.rgb)
    rgb[..., 0] = np.linspace(0, 255, rgb.shape[1], dtype=np.uint8)[None, :]
    rgb[..., 1] = np.linspace(0, 255, rgb.shape[0], dtype=np.uint8)[:, None]
    rgb[..., 2] = 60
    return dataclasses.replace(frame, rgb=rgb)


def _cloud(n: int = 1000, seed: int = 3) -> PointCloud:
    rng = np.random.default_rng(seed)
    xyz = rng.uniform(-20, 20, (n, 3)).astype(np.float32)
    return PointCloud(xyz, rng.uniform(0, 255, n).astype(np.float32), (np.arange(n) % 16).astype(np.uint16),
                      np.arange(n, dtype=np.int64), Stamp(5, 1_800_000_000_050_000_000))


def _caption(frame) -> dict:
    result = {"labels": {"shot_size": "MCU", "focal_length_mm": 35.0, "movement": "dolly_in"}, "model": {}}
    return envelope("captioner", frame, None, result, latency_ms=3.5, worker={"processed": 1})


@pytest.fixture
def rig():
    return RigConfig()


@pytest.fixture
def stage(rig):
    """A started bridge on free loopback ports, with the two engines' result streams beside it."""
    captions = ResultPublisher(f"tcp://127.0.0.1:{_tcp_port()}")
    style = ResultPublisher(f"tcp://127.0.0.1:{_tcp_port()}")
    config = FoxgloveConfig(port=_tcp_port(), captions_endpoint=captions.endpoint, style_endpoint=style.endpoint)
    bridge = FoxgloveBridge(config, rig)
    try:
        bridge.start()
        yield bridge, captions, style
    finally:
        bridge.close()
        captions.close()
        style.close()


async def _until_watched(bridge, topics, timeout_s=TIMEOUT_S) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not all(bridge.watched().get(t) for t in topics):
        assert loop.time() < deadline, f"the server never saw the subscriptions: {bridge.watched()}"
        await asyncio.sleep(0.01)


async def _republish(publisher, message, stop: asyncio.Event) -> None:
    """A PUB socket drops what it sends before the SUB has joined: send until the client has it."""
    while not stop.is_set():
        publisher.publish(message)
        try:
            await asyncio.wait_for(stop.wait(), 0.05)
        except asyncio.TimeoutError:
            pass


def test_a_protocol_client_receives_every_channel(stage):
    bridge, captions, style = stage
    frame, cloud = _frame(), _cloud()
    caption = _caption(frame)
    look = envelope("style", frame, None, {"look": "35mm"}, latency_ms=2.0, worker={"processed": 1})

    assert bridge.publish_frame(frame) is False  # nobody watches yet: nothing is taken, nothing encoded
    assert bridge.publish_cloud(cloud) is False
    assert bridge.counters().frames_offered == 0 and bridge.counters().clouds_offered == 0

    async def session():
        async with FoxgloveClient(bridge.url, TIMEOUT_S) as client:
            assert client.ws.subprotocol == "foxglove.sdk.v1"
            await client.handshake(ALL_TOPICS)
            assert client.server_info["name"] == "onset rig"
            schemas = {topic: (c["encoding"], c["schemaName"]) for topic, c in client.channels.items()}
            assert schemas == {
                "/onset/camera/image/compressed": ("protobuf", "foxglove.CompressedImage"),
                "/onset/camera/calibration": ("protobuf", "foxglove.CameraCalibration"),
                "/tf": ("protobuf", "foxglove.FrameTransforms"),
                "/onset/lidar/points": ("protobuf", "foxglove.PointCloud"),
                "/onset/timecode": ("json", "onset.Timecode"),
                "/onset/captioner/captions": ("json", "onset.EngineResult"),
                "/onset/style/results": ("json", "onset.EngineResult"),
            }
            await client.subscribe(ALL_TOPICS)
            await _until_watched(bridge, ALL_TOPICS)
            assert bridge.publish_frame(frame) is True
            assert bridge.publish_cloud(cloud, 1_800_000_000_000_000_000) is True
            stop = asyncio.Event()
            senders = [asyncio.ensure_future(_republish(captions, caption, stop)),
                       asyncio.ensure_future(_republish(style, look, stop))]
            try:
                got = await client.receive_each(ALL_TOPICS, TIMEOUT_S)
            finally:
                stop.set()
                await asyncio.gather(*senders)
            return {topic: (message, decoder_for(client.channels[topic])(message.payload))
                    for topic, message in got.items()}

    got = asyncio.run(asyncio.wait_for(session(), 3 * TIMEOUT_S))

    message, image = got["/onset/camera/image/compressed"]
    assert message.log_time_ns == frame.t_ns
    assert image.format == "jpeg" and image.frame_id == "camera_optical"
    assert image.timestamp.seconds * 1_000_000_000 + image.timestamp.nanos == frame.t_ns
    picture = cv2.cvtColor(cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert picture.shape == frame.rgb.shape
    assert np.abs(picture.astype(int) - frame.rgb).mean() < 2.0
    assert picture[180, 630, 0] > 230 and picture[180, 630, 2] < 100  # red on the right: RGB order kept

    _, tf = got["/tf"]
    by_child = {t.child_frame_id: t for t in tf.transforms}
    assert {c: t.parent_frame_id for c, t in by_child.items()} == {"rig": "stage", "camera_optical": "rig",
                                                                   "lidar": "rig"}
    rig_tf = by_child["rig"]
    assert (rig_tf.translation.x, rig_tf.translation.y, rig_tf.translation.z) == (1.5, -0.25, 1.6)
    np.testing.assert_allclose([rig_tf.rotation.x, rig_tf.rotation.y, rig_tf.rotation.z, rig_tf.rotation.w],
                               [0.0, 0.0, 0.38268343, 0.92387953], atol=1e-7)
    optical = by_child["camera_optical"].rotation
    np.testing.assert_allclose([optical.x, optical.y, optical.z, optical.w], [-0.5, 0.5, -0.5, 0.5], atol=1e-12)
    assert by_child["lidar"].translation.z == pytest.approx(0.12)
    assert rig_tf.timestamp.seconds * 1_000_000_000 + rig_tf.timestamp.nanos == frame.t_ns

    _, calibration = got["/onset/camera/calibration"]
    assert (calibration.width, calibration.height) == (640, 360)
    assert list(calibration.K) == frame.K.reshape(9).tolist()
    assert list(calibration.D) == list(frame.distortion)

    message, points = got["/onset/lidar/points"]
    assert message.log_time_ns == 1_800_000_000_000_000_000
    assert points.frame_id == "lidar" and points.point_stride == 16 and len(points.data) == 16 * len(cloud)
    decoded = np.frombuffer(points.data, fx.CLOUD_DTYPE)
    np.testing.assert_array_equal(np.stack([decoded["x"], decoded["y"], decoded["z"]], axis=1), cloud.xyz_m)

    _, timecode = got["/onset/timecode"]
    assert timecode == {"label": "01:00:10;12", "rate": "29.97DF", "drop_frame": True, "frame_index": 3,
                        "t_ns": frame.t_ns}

    message, relayed = got["/onset/captioner/captions"]
    assert relayed == json.loads(json.dumps(caption)) and message.log_time_ns == frame.t_ns
    assert got["/onset/style/results"][1]["result"] == {"look": "35mm"}

    # The encoder counts a frame once all its parts are logged, which may be just after the client has them.
    def all_counted() -> bool:
        counters = bridge.counters()
        return (counters.frames_sent == 1 and counters.clouds_sent == 1
                and counters.relayed["captions"] >= 1 and counters.relayed["style"] >= 1)

    assert wait_for(all_counted, TIMEOUT_S), bridge.counters()
    assert bridge.counters().errors == 0


def test_one_sweep_in_n_is_sent(rig):
    config = FoxgloveConfig(port=_tcp_port(), cloud_every_n_sweeps=3, captions=False, style_results=False)
    with FoxgloveBridge(config, rig) as bridge:
        async def session():
            async with FoxgloveClient(bridge.url, TIMEOUT_S) as client:
                await client.handshake([TOPICS["cloud"]])
                await client.subscribe([TOPICS["cloud"]])
                await _until_watched(bridge, [TOPICS["cloud"]])
                taken = [bridge.publish_cloud(_cloud(10, seed)) for seed in range(7)]
                assert taken == [True, False, False, True, False, False, True]
                assert bridge.publish_frame(_frame()) is False  # only the cloud is watched
                await client.receive_each([TOPICS["cloud"]], TIMEOUT_S)

        asyncio.run(asyncio.wait_for(session(), 3 * TIMEOUT_S))
        assert bridge.counters().clouds_offered == 3
        assert wait_for(lambda: bridge.counters().clouds_sent + bridge.counters().skipped["cloud"] == 3, TIMEOUT_S)


def test_a_part_that_cannot_go_out_is_counted_and_the_rest_still_goes(rig):
    config = FoxgloveConfig(port=_tcp_port(), captions=False, style_results=False)
    broken = dataclasses.replace(_frame(), K=np.full((3, 3), np.nan))
    topics = [TOPICS["image"], TOPICS["calibration"]]
    with FoxgloveBridge(config, rig) as bridge:
        async def session():
            async with FoxgloveClient(bridge.url, TIMEOUT_S) as client:
                await client.handshake(topics)
                await client.subscribe(topics)
                await _until_watched(bridge, topics)
                assert bridge.publish_frame(broken) is True
                await client.receive_each([TOPICS["image"]], TIMEOUT_S)

        asyncio.run(asyncio.wait_for(session(), 3 * TIMEOUT_S))
        assert wait_for(lambda: bridge.counters().frames_sent == 1, TIMEOUT_S)
        counters = bridge.counters()
        assert counters.errors == 1 and "K is not finite" in counters.last_error


def test_close_stops_the_server_and_joins_the_threads(rig):
    port = _tcp_port()
    bridge = FoxgloveBridge(FoxgloveConfig(port=port), rig).start()
    assert bridge.serving and bridge.url == f"ws://127.0.0.1:{port}"
    names = {t.name for t in threading.enumerate()}
    assert {"foxglove-encoder", "foxglove-captions", "foxglove-style"} <= names
    bridge.close()
    bridge.close()  # idempotent
    assert not bridge.serving
    assert not any(t.name.startswith("foxglove-") for t in threading.enumerate())
    assert bridge.publish_frame(_frame()) is False and bridge.publish_cloud(_cloud()) is False

    def refused() -> bool:
        with socket.socket() as s:
            s.settimeout(1.0)
            return s.connect_ex(("127.0.0.1", port)) != 0

    assert wait_for(refused, TIMEOUT_S, poll_s=0.1)


def test_a_port_in_use_is_said_and_start_up_rolls_back(rig):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", _tcp_port()))
        holder.listen()
        port = holder.getsockname()[1]
        bridge = FoxgloveBridge(FoxgloveConfig(port=port), rig)
        with pytest.raises(FoxgloveStartError, match=f"server on 127.0.0.1:{port}"):
            bridge.start()
    assert not bridge.serving
    assert not any(t.name.startswith("foxglove-") for t in threading.enumerate())


def test_a_part_failing_after_the_server_started_stops_the_server(rig):
    port = _tcp_port()
    bridge = FoxgloveBridge(FoxgloveConfig(port=port, captions_endpoint="not-an-endpoint"), rig)
    with pytest.raises(FoxgloveStartError, match="captions relay from not-an-endpoint"):
        bridge.start()
    assert not bridge.serving
    assert not any(t.name.startswith("foxglove-") for t in threading.enumerate())
    with socket.socket() as s:  # the server that had started is stopped again
        assert wait_for(lambda: s.connect_ex(("127.0.0.1", port)) != 0, TIMEOUT_S, poll_s=0.1)


def test_disabled_serves_nothing(rig):
    bridge = FoxgloveBridge(FoxgloveConfig(enabled=False), rig).start()
    assert not bridge.serving
    assert bridge.publish_frame(_frame()) is False and bridge.publish_cloud(_cloud()) is False
    bridge.close()


def test_a_non_loopback_host_is_refused_at_start_even_past_the_config(rig):
    config = FoxgloveConfig.model_construct(**{**FoxgloveConfig().__dict__, "host": "0.0.0.0"})
    with pytest.raises(FoxgloveStartError, match="loopback"):
        FoxgloveBridge(config, rig).start()


def test_without_the_sdk_start_says_what_to_install(rig, monkeypatch):
    monkeypatch.setitem(sys.modules, "foxglove", None)  # import foxglove now raises ImportError
    with pytest.raises(FoxgloveUnavailableError, match="pip install foxglove-sdk"):
        FoxgloveBridge(FoxgloveConfig(port=_tcp_port()), rig).start()
