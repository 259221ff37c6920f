"""Conversions between vocabulary objects and ROS messages: stamps, images, camera info, timecode,
poses, static transforms, diagnostics. Clouds are in test_clouds.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("rclpy", reason="needs rclpy and the ROS 2 message packages (pip install -e '.[ros]')")

from edge.ros import messages as conv  # noqa: E402
from edge.ros.errors import ImageLayoutError, RosMessageError, StampRangeError  # noqa: E402
from sensors.timecode.smpte import frames_per_day, frames_to_timecode, timecode_to_ns  # noqa: E402
from sensors.vocabulary import (  # noqa: E402
    NS_PER_S,
    T_RIG_CAMERA_OPTICAL,
    FrameRate,
    ImageFrame,
    RigPose,
    Stamp,
    Timecode,
    quat_to_matrix,
)

pytestmark = pytest.mark.ros

INT32_SECONDS_NS = st.integers(min_value=-(2**31) * NS_PER_S, max_value=(2**31) * NS_PER_S - 1)


# -- stamps ------------------------------------------------------------------------------------


@given(INT32_SECONDS_NS)
def test_stamp_splits_exactly_and_back(t_ns):
    msg = conv.time_to_msg(t_ns)
    assert 0 <= msg.nanosec < NS_PER_S
    assert msg.sec * NS_PER_S + msg.nanosec == t_ns
    assert conv.time_from_msg(msg) == t_ns


def test_stamp_at_the_edges_of_nanoseconds():
    t_ns = 1_700_000_000_999_999_999  # a float64 of seconds would round this
    msg = conv.header(t_ns, "rig").stamp
    assert (msg.sec, msg.nanosec) == (1_700_000_000, 999_999_999)
    assert conv.time_from_msg(conv.time_to_msg(np.int64(t_ns))) == t_ns
    assert (conv.time_to_msg(-1).sec, conv.time_to_msg(-1).nanosec) == (-1, 999_999_999)


@pytest.mark.parametrize("bad", [2**31 * NS_PER_S, -(2**31) * NS_PER_S - 1])
def test_stamp_outside_int32_seconds_is_refused(bad):
    with pytest.raises(StampRangeError, match="int32"):
        conv.time_to_msg(bad)


@pytest.mark.parametrize("bad", [1.5e9, True, "1"])
def test_stamp_must_be_an_integer(bad):
    with pytest.raises(TypeError):
        conv.time_to_msg(bad)


def test_received_nanosec_past_a_second_is_malformed():
    msg = conv.time_to_msg(0)
    msg.nanosec = NS_PER_S
    with pytest.raises(RosMessageError):
        conv.time_from_msg(msg)


# -- images ------------------------------------------------------------------------------------


@given(st.integers(1, 48), st.integers(1, 48), st.integers(0, 2**32 - 1), INT32_SECONDS_NS)
def test_image_roundtrip_rgb8(height, width, seed, stamp_ns):
    rgb = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    frame = ImageFrame(rgb=rgb, exposure_mid=Stamp(None, 0), frame_index=3)
    msg = conv.image_to_msg(frame, stamp_ns, "camera_optical")
    assert (msg.encoding, msg.step, msg.header.frame_id) == ("rgb8", width * 3, "camera_optical")
    back = conv.image_from_msg(msg, frame_index=9, recv_ns=77)
    np.testing.assert_array_equal(back.rgb, rgb)
    assert back.exposure_mid == Stamp(sensor_ns=stamp_ns, host_ns=77) and back.frame_index == 9


def test_image_from_msg_shares_the_message_buffer():
    rgb = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    msg = conv.image_to_msg(ImageFrame(rgb, Stamp(None, 0), 0), 1, "camera_optical")
    back = conv.image_from_msg(msg, 0, 0)
    assert np.shares_memory(back.rgb, np.frombuffer(msg.data, np.uint8))
    assert not back.rgb.flags.writeable


def _raw_image(pixels: np.ndarray, encoding: str, pad: int = 0):
    """An Image message of ``pixels`` (H, W, C) with ``pad`` bytes after each row."""
    from sensor_msgs.msg import Image

    height, width = pixels.shape[:2]
    rows = pixels.reshape(height, -1)
    padded = np.concatenate([rows, np.full((height, pad), 0xEE, np.uint8)], axis=1)
    return Image(
        header=conv.header(5, "cam"),
        height=height,
        width=width,
        encoding=encoding,
        step=rows.shape[1] + pad,
        data=conv.bytes_into_msg(padded),
    )


@pytest.mark.parametrize("pad", [0, 7])
@pytest.mark.parametrize(
    "encoding, channels, to_rgb",
    [
        ("rgb8", 3, lambda p: p),
        ("bgr8", 3, lambda p: p[:, :, ::-1]),
        ("rgba8", 4, lambda p: p[:, :, :3]),
        ("bgra8", 4, lambda p: p[:, :, 2::-1]),
        ("mono8", 1, lambda p: np.repeat(p, 3, axis=2)),
    ],
)
def test_image_encodings_and_padded_rows(encoding, channels, to_rgb, pad):
    pixels = np.random.default_rng(4).integers(0, 256, (6, 5, channels), dtype=np.uint8)
    frame = conv.image_from_msg(_raw_image(pixels, encoding, pad), 0, 0)
    np.testing.assert_array_equal(frame.rgb, to_rgb(pixels))
    assert frame.rgb.shape == (6, 5, 3) and frame.rgb.dtype == np.uint8


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda m: setattr(m, "encoding", "16UC1"), "encoding"),
        (lambda m: setattr(m, "step", 14), "step"),
        (lambda m: setattr(m, "height", 7), "expected step"),
        (lambda m: setattr(m, "width", 0), "outside"),
        (lambda m: setattr(m, "height", 100_000), "outside"),
        (lambda m: setattr(m, "data", conv.bytes_into_msg(np.zeros(10, np.uint8))), "expected step"),
    ],
)
def test_malformed_images_are_refused(mutate, match):
    msg = _raw_image(np.zeros((6, 5, 3), np.uint8), "rgb8")
    mutate(msg)
    with pytest.raises(ImageLayoutError, match=match):
        conv.image_from_msg(msg, 0, 0)


def test_image_to_msg_wants_rgb_uint8():
    with pytest.raises(ValueError):
        conv.image_to_msg(ImageFrame(np.zeros((4, 4), np.uint8), Stamp(None, 0), 0), 0, "c")


# -- camera info -------------------------------------------------------------------------------


@given(
    st.floats(50.0, 5000.0),
    st.floats(50.0, 5000.0),
    st.floats(0.0, 4000.0),
    st.floats(0.0, 3000.0),
    st.lists(st.floats(-1.0, 1.0), min_size=5, max_size=5),
    st.integers(16, 8192),
    st.integers(16, 8192),
    INT32_SECONDS_NS,
)
def test_camera_info_roundtrip(fx, fy, cx, cy, distortion, width, height, stamp_ns):
    K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    msg = conv.camera_info_to_msg(K, distortion, width, height, stamp_ns, "camera_optical")
    assert msg.distortion_model == "plumb_bob"
    calib = conv.camera_info_from_msg(msg)
    np.testing.assert_array_equal(calib.K, K)
    np.testing.assert_array_equal(calib.P, np.hstack([K, np.zeros((3, 1))]))
    assert calib.distortion == tuple(distortion)
    assert (calib.width_px, calib.height_px, calib.stamp_ns, calib.frame_id) == (width, height, stamp_ns, "camera_optical")
    np.testing.assert_array_equal(np.asarray(msg.r).reshape(3, 3), np.eye(3))


def test_camera_info_explicit_P_and_bad_inputs():
    K = np.array([[800.0, 0, 320], [0, 800.0, 180], [0, 0, 1]])
    P = np.hstack([K * 0.9, np.array([[1.0], [2.0], [0.0]])])
    np.testing.assert_array_equal(conv.camera_info_from_msg(conv.camera_info_to_msg(K, [0] * 5, 640, 360, 0, "c", P)).P, P)
    with pytest.raises(ValueError):
        conv.camera_info_to_msg(K, [0.1] * 4, 640, 360, 0, "c")
    with pytest.raises(ValueError):
        conv.camera_info_to_msg(K * np.nan, [0] * 5, 640, 360, 0, "c")
    msg = conv.camera_info_to_msg(K, [0] * 5, 640, 360, 0, "c")
    msg.distortion_model = "rational_polynomial"
    with pytest.raises(RosMessageError, match="plumb_bob"):
        conv.camera_info_from_msg(msg)


# -- timecode ----------------------------------------------------------------------------------


def test_timecode_message_layout():
    tc = Timecode(1, 0, 0, 5, FrameRate.FPS_24)
    msg = conv.timecode_to_msg(tc, 1_700_000_000_000_000_123)
    assert msg.source == "LTC 01:00:00:05 @24"
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (1_700_000_000, 123)
    assert conv.time_from_msg(msg.time_ref) == 3_600_208_333_333  # 5/24 s = 208 333 333.3 ns -> nearest
    slow = conv.timecode_to_msg(Timecode(1, 0, 0, 0, FrameRate.FPS_23_976), 0)
    assert conv.time_from_msg(slow.time_ref) == 3_603_600_000_000  # 23.976 labels run 1.001x slow
    assert conv.timecode_to_msg(Timecode(0, 10, 0, 2, FrameRate.FPS_29_97_DF), 0, "VITC").source == "VITC 00:10:00;02 @29.97DF"


@pytest.mark.parametrize("rate", list(FrameRate), ids=lambda r: r.label)
@given(data=st.data())
def test_timecode_roundtrip_every_rate(rate, data):
    frames = data.draw(st.integers(0, frames_per_day(rate) - 1))
    stamp_ns = data.draw(INT32_SECONDS_NS)
    tc = frames_to_timecode(frames, rate)
    msg = conv.timecode_to_msg(tc, stamp_ns)
    assert conv.time_from_msg(msg.time_ref) == timecode_to_ns(tc)
    sample = conv.timecode_from_msg(msg, recv_ns=42)
    assert sample.timecode == tc and sample.timecode.rate is rate
    assert sample.stamp == Stamp(sensor_ns=stamp_ns, host_ns=42)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda m: setattr(m, "source", "01:00:00:05"), "source"),
        (lambda m: setattr(m, "source", "LTC 01:00:00:05 @23"), "unknown frame rate"),
        (lambda m: setattr(m, "source", "LTC 01:00:00:06 @24"), "disagrees"),
        (lambda m: setattr(m.time_ref, "nanosec", m.time_ref.nanosec + 5_000_000), "frame start"),
        (lambda m: setattr(m.time_ref, "sec", 86_400 * 2), "frame start"),
        (lambda m: setattr(m.time_ref, "sec", -5), "frame start"),
    ],
)
def test_malformed_time_references_are_refused(mutate, match):
    msg = conv.timecode_to_msg(Timecode(1, 0, 0, 5, FrameRate.FPS_24), 0)
    mutate(msg)
    with pytest.raises(RosMessageError, match=match):
        conv.timecode_from_msg(msg, 0)


# -- poses and static transforms ---------------------------------------------------------------

FINITE = st.floats(-1e4, 1e4, allow_nan=False)


@given(st.lists(FINITE, min_size=3, max_size=3), st.lists(st.floats(-1, 1), min_size=4, max_size=4), INT32_SECONDS_NS)
def test_pose_roundtrip(position, q, t_ns):
    q = np.asarray(q)
    if np.linalg.norm(q) < 1e-3:
        q = np.array([0.0, 0.0, 0.0, 1.0])
    q = q / np.linalg.norm(q)
    pose = RigPose(t_ns=t_ns, position_m=np.asarray(position), orientation_xyzw=q)
    msg = conv.pose_to_msg(pose)
    assert (msg.header.frame_id, msg.child_frame_id) == ("stage", "rig")
    back = conv.pose_from_msg(msg)
    assert back.t_ns == t_ns
    np.testing.assert_array_equal(back.position_m, pose.position_m)
    np.testing.assert_allclose(back.orientation_xyzw, q, atol=1e-15)


@pytest.mark.parametrize(
    "mutate, kwargs, match",
    [
        (lambda m: setattr(m.header, "frame_id", "map"), {}, "parent"),
        (lambda m: setattr(m, "child_frame_id", "base_link"), {}, "child"),
        (lambda m: setattr(m.transform.rotation, "w", 0.5), {}, "rigid"),
        (lambda m: setattr(m.transform.translation, "x", float("nan")), {}, "rigid"),
    ],
)
def test_malformed_poses_are_refused(mutate, kwargs, match):
    msg = conv.pose_to_msg(RigPose(0, np.zeros(3), np.array([0.0, 0.0, 0.0, 1.0])))
    mutate(msg)
    with pytest.raises(RosMessageError, match=match):
        conv.pose_from_msg(msg, **kwargs)


def test_pose_frames_follow_the_config_and_can_be_unchecked():
    msg = conv.pose_to_msg(RigPose(0, np.zeros(3), np.array([0.0, 0.0, 0.0, 1.0])), "world", "camera_body")
    assert conv.pose_from_msg(msg, "world", "camera_body").t_ns == 0
    assert conv.pose_from_msg(msg, None, None).t_ns == 0


def test_static_transform_of_the_optical_frame():
    msg = conv.transform_to_msg(T_RIG_CAMERA_OPTICAL, 10, "rig", "camera_optical")
    r = msg.transform.rotation
    R = quat_to_matrix(np.array([r.x, r.y, r.z, r.w]))
    np.testing.assert_allclose(R, T_RIG_CAMERA_OPTICAL[:3, :3], atol=1e-12)
    assert (msg.header.frame_id, msg.child_frame_id) == ("rig", "camera_optical")


# -- diagnostics -------------------------------------------------------------------------------


@given(
    st.lists(
        st.tuples(
            st.text(max_size=12),
            st.sampled_from(list(conv.DiagnosticLevel)),
            st.text(max_size=20),
            st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4),
        ),
        max_size=5,
    ),
    INT32_SECONDS_NS,
)
def test_diagnostics_roundtrip(entries, stamp_ns):
    msg = conv.diagnostics_to_msg(entries, stamp_ns)
    stamp, back = conv.diagnostics_from_msg(msg)
    assert stamp == stamp_ns
    assert [(e.name, e.level, e.message, dict(e.values)) for e in back] == [tuple(e) for e in entries]


def test_diagnostics_levels_and_hardware_id():
    msg = conv.diagnostics_to_msg([("lidar", 2, "no packets for 1.2 s", [("drops", 3)], "VLP-16 #1")], 0)
    status = msg.status[0]
    assert status.level == b"\x02" and status.hardware_id == "VLP-16 #1"
    assert (status.values[0].key, status.values[0].value) == ("drops", "3")
    with pytest.raises(ValueError):
        conv.diagnostics_to_msg([("lidar", 9, "?")], 0)
    status.level = b"\x07"
    with pytest.raises(RosMessageError, match="level 7"):
        conv.diagnostics_from_msg(msg)
