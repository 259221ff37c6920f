"""Pipeline descriptions for every camera source: built, parsed by GStreamer, missing elements named."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.models import CameraSource
from sensors.camera import gst as camera_gst
from sensors.camera.errors import CameraConfigError, MissingElementError
from sensors.camera.pipelines import (
    DEPAY,
    SINK,
    SOURCE,
    VIDEO_APPSRC,
    build_pipeline,
    pack_rgb,
    rgb_stride_bytes,
    unpack_rgb,
)
from tests.sensors.camera._support import gst_only, small_camera

DEVICES = {
    CameraSource.APPSRC: None,
    CameraSource.RTP: None,
    CameraSource.VIDEOTESTSRC: None,
    CameraSource.V4L2: "/dev/video0",
    CameraSource.DECKLINK: "0",
    CameraSource.RTSP: "rtsp://127.0.0.1:8554/camera",
    CameraSource.FILE: '/tmp/take 1/"a!b".mov',
}
SOURCE_FACTORY = {
    CameraSource.APPSRC: "appsrc",
    CameraSource.RTP: "udpsrc",
    CameraSource.VIDEOTESTSRC: "videotestsrc",
    CameraSource.V4L2: "v4l2src",
    CameraSource.DECKLINK: "decklinkvideosrc",
    CameraSource.RTSP: "rtspsrc",
    CameraSource.FILE: "filesrc",
}
def _spec(source: CameraSource, **kwargs):
    camera = small_camera(source=source.value, device=DEVICES[source])
    return build_pipeline(camera, **kwargs)


@pytest.mark.parametrize("source", list(CameraSource))
def test_every_source_has_the_common_tail_and_waits_for_no_timecode(source):
    spec = _spec(source)
    assert spec.elements[0] == SOURCE_FACTORY[source]
    tail = (
        "videoconvert ! videoscale ! video/x-raw,format=RGB,width=160,height=90,pixel-aspect-ratio=1/1 ! "
        f"appsink name={SINK} emit-signals=false sync=false"
    )
    assert tail in spec.description
    assert "timecodestamper" not in spec.description and "timecodestamper" not in spec.elements
    assert "ltc" not in spec.description.lower() and "audio" not in spec.description
    assert spec.video_live == (source != CameraSource.FILE)
    assert spec.rtp == (source == CameraSource.RTP)
    assert spec.timecode_meta == (source == CameraSource.DECKLINK)


def test_rtp_head_listens_where_the_profile_says_with_the_streams_caps():
    spec = build_pipeline(small_camera(source="rtp", host="127.0.0.1", port=5004, fps="25"))
    assert spec.description.startswith(f'udpsrc name={SOURCE} address="127.0.0.1" port=5004 buffer-size=8388608 ')
    caps = ("application/x-rtp,media=video,clock-rate=90000,encoding-name=RAW,sampling=RGB,depth=(string)8,"
            "width=(string)160,height=(string)90")
    assert caps in spec.description
    assert f"! rtpvrawdepay name={DEPAY} ! videoconvert" in spec.description
    assert spec.elements[:2] == ("udpsrc", "rtpvrawdepay")
    assert not spec.index_from_offset


def test_appsrc_head_is_live_rgb_at_the_configured_rate_and_batch_blocks():
    live = build_pipeline(small_camera(fps="29.97DF"))
    assert f"appsrc name={VIDEO_APPSRC} is-live=true format=time" in live.description
    assert "caps=video/x-raw,format=RGB,width=160,height=90,framerate=30000/1001" in live.description
    assert "max-buffers=2 drop=true" in live.description
    batch = build_pipeline(small_camera(), live=False)
    assert "is-live=false" in batch.description and "block=true" in batch.description
    assert "drop=false" in batch.description and not batch.video_live


def test_decklink_reads_the_card_in_auto_mode():
    spec = _spec(CameraSource.DECKLINK)
    assert "decklinkvideosrc name=onset_source device-number=0" in spec.description
    assert "decklinkaudiosrc" not in spec.description


@pytest.mark.parametrize(
    ("source", "device", "match"),
    [
        (CameraSource.RTSP, None, "needs camera.device"),
        (CameraSource.FILE, None, "needs camera.device"),
        (CameraSource.RTSP, "http://cam/stream", "rtsp:// URL"),
        (CameraSource.DECKLINK, "card-a", "device number"),
        (CameraSource.DECKLINK, "-1", ">= 0"),
        (CameraSource.FILE, "/tmp/a\nb.mov", "control characters"),
    ],
)
def test_bad_device_names_the_field(source, device, match):
    with pytest.raises(CameraConfigError, match=match):
        build_pipeline(small_camera(source=source.value, device=device))


def test_bad_rtp_host_names_the_field():
    with pytest.raises(CameraConfigError, match="camera.host"):
        build_pipeline(small_camera(source="rtp", host="127.0.0.1\nx"))


@settings(max_examples=60, deadline=None)
@given(width=st.integers(1, 41), height=st.integers(1, 9), seed=st.integers(0, 2**32 - 1))
def test_rgb_packing_roundtrips_with_row_padding(width, height, seed):
    rgb = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    data = pack_rgb(rgb)
    assert len(data) == rgb_stride_bytes(width) * height
    assert rgb_stride_bytes(width) % 4 == 0
    np.testing.assert_array_equal(unpack_rgb(data, width, height), rgb)


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=400), width=st.integers(1, 20), height=st.integers(1, 8))
def test_unpack_rejects_short_buffers_and_never_reads_past_them(data, width, height):
    needed = rgb_stride_bytes(width) * (height - 1) + 3 * width
    if len(data) < needed:
        with pytest.raises(ValueError, match="needs"):
            unpack_rgb(data, width, height)
    else:
        assert unpack_rgb(data, width, height).shape == (height, width, 3)


def test_pack_rejects_non_rgb():
    with pytest.raises(ValueError, match="uint8 RGB"):
        pack_rgb(np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8 RGB"):
        pack_rgb(np.zeros((4, 4, 3), dtype=np.float32))


@gst_only
@pytest.mark.parametrize("source", list(CameraSource))
@pytest.mark.parametrize("live", [True, False])
def test_every_description_parses_where_its_elements_exist(source, live):
    spec = _spec(source, live=live)
    missing = [name for name in spec.elements if not camera_gst.element_available(name)]
    if missing:
        with pytest.raises(MissingElementError, match=missing[0]):
            camera_gst.require_elements(spec.elements)
        return
    Gst = camera_gst.require_gst().Gst
    pipeline = Gst.parse_launch(spec.description)
    try:
        assert pipeline.get_by_name(SINK) is not None
        source_element = pipeline.get_by_name(VIDEO_APPSRC if source == CameraSource.APPSRC else SOURCE)
        assert source_element.get_factory().get_name() == SOURCE_FACTORY[source]
        if source == CameraSource.FILE:
            assert source_element.get_property("location") == DEVICES[source]
        if source == CameraSource.RTP:
            caps = source_element.get_property("caps").get_structure(0)
            assert caps.get_string("encoding-name") == "RAW" and caps.get_string("width") == "160"
            assert pipeline.get_by_name(DEPAY).get_factory().get_name() == "rtpvrawdepay"
        factories, elements = set(), pipeline.iterate_elements()
        while True:
            result, element = elements.next()
            if result != Gst.IteratorResult.OK:
                break
            factories.add(element.get_factory().get_name())
        assert SOURCE_FACTORY[source] in factories and "timecodestamper" not in factories
    finally:
        pipeline.set_state(Gst.State.NULL)


@gst_only
@pytest.mark.parametrize("absent", ["decklinkvideosrc", "v4l2src", "rtpvrawdepay"])
def test_an_element_missing_from_the_registry_is_named(absent, monkeypatch):
    real = camera_gst.element_available
    monkeypatch.setattr(camera_gst, "element_available", lambda name: name != absent and real(name))
    source = {"decklinkvideosrc": CameraSource.DECKLINK, "v4l2src": CameraSource.V4L2}.get(absent, CameraSource.RTP)
    spec = _spec(source)
    with pytest.raises(MissingElementError, match=f"'{absent}' is not installed") as info:
        camera_gst.require_elements(spec.elements, needed_for="camera 'a'")
    assert info.value.element == absent
    assert "gstreamer1.0-plugins" in str(info.value) and f"gst-inspect-1.0 {absent}" in str(info.value)
