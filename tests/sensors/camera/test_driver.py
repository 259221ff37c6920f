"""The camera driver against real GStreamer pipelines: frames, stamps, drops, errors, end of stream."""

from __future__ import annotations

import dataclasses
import glob
import socket
import threading

import numpy as np
import pytest

from sensors.camera.driver import CameraDriver
from sensors.camera.errors import CameraStateError, PipelineError, PipelineStartError
from sensors.camera.pipelines import pack_rgb
from sensors.vocabulary import NS_PER_S, FrameRate, Timecode
from tests.sensors.camera._support import Collector, gst_only, small_camera, wait_for


@gst_only
def test_videotestsrc_yields_frames_of_the_configured_size():
    # 162 px: 486-byte rows that GStreamer pads to 488, so the stride handling is exercised.
    camera = small_camera(source="videotestsrc", width_px=162, height_px=90, fps="25", ltc=False)
    got = Collector()
    with CameraDriver(camera, got) as driver:
        assert wait_for(lambda: len(got) >= 8, 10.0, driver.check)
        latest = driver.latest()
    frames = list(got.frames)
    assert all(f.rgb.shape == (90, 162, 3) and f.rgb.dtype == np.uint8 for f in frames)
    assert all(f.timecode is None for f in frames)
    # SMPTE bars: the top-left is light grey/white-ish, the seven bars differ from each other.
    top = frames[0].rgb[10]
    assert len({tuple(top[x]) for x in range(5, 162, 23)}) >= 6
    index = [f.frame_index for f in frames]
    assert index == sorted(index) and index[0] == 0
    gaps = sum(b - a - 1 for a, b in zip(index, index[1:]))
    assert driver.stats.drops("frame_gap") == gaps
    # Consecutive frames are 1/25 s apart on the pipeline clock.
    for a, b in zip(frames, frames[1:]):
        assert b.exposure_mid.sensor_ns - a.exposure_mid.sensor_ns == (b.frame_index - a.frame_index) * NS_PER_S // 25
        assert b.exposure_mid.host_ns >= a.exposure_mid.host_ns
    assert latest is not None and latest.frame_index >= frames[7].frame_index
    assert driver.stats.decoded == driver.frames_decoded >= len(frames)


@gst_only
def test_batch_appsrc_delivers_every_pushed_pixel_and_counts_gaps():
    camera = small_camera(ltc=False, width_px=34, height_px=18)  # 102-byte rows, padded to 104
    got = Collector()
    rng = np.random.default_rng(5)
    images = {k: rng.integers(0, 256, (18, 34, 3), dtype=np.uint8) for k in (0, 1, 2, 5, 6)}
    frame_ns = NS_PER_S // 24
    with CameraDriver(camera, got, live=False) as driver:
        driver.sensor_epoch_ns = 7_000_000_000
        for k, rgb in images.items():
            assert driver.push_video(pack_rgb(rgb), k * frame_ns, frame_ns, k)
        driver.end_video()
        assert driver.wait_eos(10.0)
        assert driver.eos
    assert [f.frame_index for f in got.frames] == [0, 1, 2, 5, 6]
    for frame in got.frames:
        np.testing.assert_array_equal(frame.rgb, images[frame.frame_index])
        assert frame.exposure_mid.sensor_ns == 7_000_000_000 + frame.frame_index * frame_ns
    assert driver.stats.drops("frame_gap") == 2
    assert driver.stats.dropped == 2


@gst_only
def test_missing_file_raises_naming_filesrc_and_the_path(tmp_path):
    path = tmp_path / "no such take.mov"
    driver = CameraDriver(small_camera(source="filesrc", device=str(path), ltc=False))
    with pytest.raises(PipelineError) as info:
        driver.start()
    message = str(info.value)
    assert "filesrc (onset_source)" in message and str(path) in message
    assert info.value.element == "filesrc (onset_source)"
    driver.close()


@gst_only
def test_error_after_start_is_kept_and_raised_not_swallowed():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    camera = small_camera(source="rtspsrc", device=f"rtsp://127.0.0.1:{port}/camera", ltc=False)
    with CameraDriver(camera) as driver:
        assert wait_for(lambda: driver.error is not None, 10.0)
        with pytest.raises(PipelineError, match="rtspsrc \\(onset_source\\)"):
            driver.check()
        with pytest.raises(PipelineError):
            driver.wait_eos(0.1)
        assert driver.latest() is None


@gst_only
@pytest.mark.skipif(bool(glob.glob("/dev/blackmagic*")), reason="a DeckLink card is present")
def test_decklink_without_a_card_refuses_to_start_with_a_clear_error():
    camera = small_camera(source="decklinkvideosrc", device="0", ltc=False)
    with pytest.raises(PipelineStartError, match="decklinkvideosrc pipeline refused to start"):
        CameraDriver(camera).start()


@gst_only
def test_appsrc_handles_need_an_appsrc_pipeline():
    driver = CameraDriver(small_camera(source="videotestsrc", ltc=False))
    with pytest.raises(CameraStateError, match="not started"):
        _ = driver.appsrc_video
    with driver:
        with pytest.raises(CameraStateError, match="no video appsrc"):
            _ = driver.appsrc_video
        with pytest.raises(CameraStateError, match="no UDP port"):
            _ = driver.port
        assert driver.running_time_ns() >= 0
    driver.close()  # twice is fine


@gst_only
def test_a_consumer_that_raises_is_counted_and_the_stream_goes_on():
    calls = []

    def flaky(frame):
        calls.append(frame.frame_index)
        if len(calls) == 1:
            raise RuntimeError("consumer bug")

    camera = small_camera(source="videotestsrc", ltc=False)
    with CameraDriver(camera, flaky) as driver:
        assert wait_for(lambda: len(calls) >= 4, 10.0, driver.check)
    assert driver.stats.drops("consumer_error") == 1


@gst_only
def test_close_from_inside_on_frame_does_not_deadlock():
    closed = threading.Event()
    holder = {}

    def stop(frame):
        holder["driver"].close()
        closed.set()

    holder["driver"] = CameraDriver(small_camera(source="videotestsrc", ltc=False), stop)
    holder["driver"].start()
    assert closed.wait(10.0)
    holder["driver"].close()




@gst_only
def test_pipeline_latency_is_what_the_running_pipeline_answers():
    # A live test source reports (at least) one frame of latency; a batch reports none.
    with CameraDriver(small_camera(source="videotestsrc", fps="25", ltc=False)) as driver:
        assert wait_for(lambda: driver.latest() is not None, 10.0, driver.check)
        assert driver.pipeline_latency_ns() >= NS_PER_S // 25
    with CameraDriver(small_camera(ltc=False), live=False) as batch:
        assert batch.pipeline_latency_ns() == 0
    with pytest.raises(CameraStateError, match="not started"):
        CameraDriver(small_camera(ltc=False)).pipeline_latency_ns()


@gst_only
def test_rp188_timecode_metas_are_read_where_the_card_attaches_them():
    # No DeckLink card here: an appsrc pipeline told to read metas, fed buffers that carry a
    # GstVideoTimeCodeMeta as decklinkvideosrc attaches it (and one without).
    camera = small_camera(fps="29.97DF", ltc=False, width_px=16, height_px=16)
    got = []
    driver = CameraDriver(camera, got.append, live=False)
    driver.spec = dataclasses.replace(driver.spec, timecode_meta=True)
    labels = [Timecode(10, 0, 59, 29, FrameRate.FPS_29_97_DF), Timecode(10, 1, 0, 2, FrameRate.FPS_29_97_DF), None]
    black = pack_rgb(np.zeros((16, 16, 3), dtype=np.uint8))
    with driver:
        driver.sensor_epoch_ns = 0
        for k, label in enumerate(labels):
            assert driver.push_video(black, k * 33_366_667, 33_366_667, k, timecode=label)
        driver.end_video()
        assert driver.wait_eos(10.0)
    assert [f.timecode for f in got] == labels
    assert str(got[1].timecode) == "10:01:00;02" and got[1].timecode.rate is FrameRate.FPS_29_97_DF
    # Without the flag (every source but DeckLink) the meta is not read.
    plain = []
    with CameraDriver(camera, plain.append, live=False) as other:
        other.sensor_epoch_ns = 0
        assert other.push_video(black, 0, 33_366_667, 0, timecode=labels[0])
        other.end_video()
        assert other.wait_eos(10.0)
    assert plain[0].timecode is None
