"""Onset's value objects as Foxglove messages, against values worked out by hand; every SDK message is
encoded by the SDK and read back by google.protobuf from the SDK's own schema."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from config.models import LidarConfig, MountConfig, RigConfig
from edge.foxglove import FoxgloveMessageError, rig_frames
from edge.foxglove import messages as fx
from sensors.vocabulary import FrameRate, PointCloud, RigPose, Stamp, Timecode
from tests.edge.stream.frames import make_frame

from .client import protobuf_decoder

pytest.importorskip("foxglove")
import foxglove.messages as fm  # noqa: E402

H = math.sqrt(0.5)


def _decode(message):
    schema = type(message).get_schema()
    return protobuf_decoder(schema.name, schema.data)(message.encode())


def _stamp_ns(ts) -> int:
    return ts.seconds * 1_000_000_000 + ts.nanos


# -- time ----------------------------------------------------------------------------------------


def test_split_ns_is_exact():
    assert fx.split_ns(1_800_000_000_123_456_789) == (1_800_000_000, 123_456_789)
    assert fx.split_ns(0) == (0, 0)
    assert fx.split_ns(999_999_999) == (0, 999_999_999)


@pytest.mark.parametrize("t_ns", [-1, (2**32) * 1_000_000_000])
def test_times_foxglove_cannot_hold_are_refused(t_ns):
    with pytest.raises(FoxgloveMessageError, match="1970..2106"):
        fx.split_ns(t_ns)


# -- transforms ----------------------------------------------------------------------------------


def test_rigid_transform_translation_and_quaternion_order():
    # 90 degrees about z, then moved to (1, 2, 3): q = (0, 0, sin 45, cos 45) in x, y, z, w order.
    T = np.array([[0.0, -1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 2.0], [0.0, 0.0, 1.0, 3.0], [0.0, 0.0, 0.0, 1.0]])
    tf = fx.rigid_transform(T, "stage", "rig")
    assert (tf.parent, tf.child) == ("stage", "rig")
    assert tf.translation_m == (1.0, 2.0, 3.0)
    np.testing.assert_allclose(tf.rotation_xyzw, (0.0, 0.0, H, H), atol=1e-12)


def test_the_optical_frame_is_the_rep103_rotation():
    # z forward, x right, y down in a body frame x forward, y left, z up: q = (-1/2, 1/2, -1/2, 1/2).
    frames = rig_frames(RigConfig())
    (child, T), *_ = frames.mounts
    tf = fx.rigid_transform(T, frames.rig, child)
    assert child == "camera_optical"
    np.testing.assert_allclose(tf.rotation_xyzw, (-0.5, 0.5, -0.5, 0.5), atol=1e-12)
    assert tf.translation_m == (0.0, 0.0, 0.0)


def test_rig_transforms_name_the_ros_frames_and_the_mounts():
    rig = RigConfig(lidars=[LidarConfig(mount=MountConfig(xyz_m=(0.1, 0.0, 0.2), rpy_deg=(0.0, 0.0, 90.0)))])
    pose = RigPose(0, np.array([1.5, -0.25, 1.6]), np.array([0.0, 0.0, 0.38268343, 0.92387953]))
    stage, optical, lidar = fx.rig_transforms(rig_frames(rig), pose)
    assert (stage.parent, stage.child) == ("stage", "rig")
    assert stage.translation_m == (1.5, -0.25, 1.6)
    np.testing.assert_allclose(stage.rotation_xyzw, (0.0, 0.0, math.sin(math.pi / 8), math.cos(math.pi / 8)),
                               atol=1e-8)
    assert (optical.parent, optical.child) == ("rig", "camera_optical")
    assert (lidar.parent, lidar.child) == ("rig", "lidar")
    np.testing.assert_allclose(lidar.translation_m, (0.1, 0.0, 0.2), atol=1e-12)
    np.testing.assert_allclose(lidar.rotation_xyzw, (0.0, 0.0, H, H), atol=1e-12)  # yaw 90 deg


def test_without_a_pose_only_the_mounts_go_out():
    assert [(t.parent, t.child) for t in fx.rig_transforms(rig_frames(RigConfig()), None)] == [
        ("rig", "camera_optical"), ("rig", "lidar")]


@pytest.mark.parametrize("position, q", [((np.nan, 0, 0), (0, 0, 0, 1)), ((0, 0, 0), (0, 0, 0, 0))])
def test_a_broken_pose_is_refused(position, q):
    with pytest.raises(FoxgloveMessageError):
        fx.rig_transforms(rig_frames(RigConfig()), RigPose(0, np.array(position, float), np.array(q, float)))


def test_frame_transforms_on_the_wire():
    t_ns = 1_800_000_000_041_708_333
    tfs = [fx.RigidTransform("stage", "rig", (1.5, -0.25, 1.6), (0.0, 0.0, H, H)),
           fx.RigidTransform("rig", "lidar", (0.0, 0.0, 0.12), (0.0, 0.0, 0.0, 1.0))]
    decoded = _decode(fx.frame_transforms(tfs, t_ns))
    assert len(decoded.transforms) == 2
    first = decoded.transforms[0]
    assert (first.parent_frame_id, first.child_frame_id) == ("stage", "rig")
    assert (first.translation.x, first.translation.y, first.translation.z) == (1.5, -0.25, 1.6)
    assert (first.rotation.x, first.rotation.y, first.rotation.z, first.rotation.w) == (0.0, 0.0, H, H)
    assert _stamp_ns(first.timestamp) == t_ns
    assert decoded.transforms[1].translation.z == 0.12


# -- image -----------------------------------------------------------------------------------------


def _gradient(height: int = 90, width: int = 160) -> np.ndarray:
    """Red rising left to right, green top to bottom, blue constant: smooth, so JPEG keeps it closely."""
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    rgb[..., 1] = np.linspace(0, 255, height, dtype=np.uint8)[:, None]
    rgb[..., 2] = 40
    return rgb


def test_jpeg_round_trip_keeps_the_picture_and_its_colour_order():
    rgb = _gradient()
    decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(fx.jpeg_bytes(rgb, 90), np.uint8), cv2.IMREAD_COLOR),
                           cv2.COLOR_BGR2RGB)
    assert decoded.shape == rgb.shape
    assert np.abs(decoded.astype(int) - rgb).mean() < 2.0
    assert decoded[45, 150, 0] > 200 and decoded[45, 150, 2] < 80  # the right edge is red, not blue


def test_compressed_image_on_the_wire():
    jpeg = fx.jpeg_bytes(_gradient(), 80)
    decoded = _decode(fx.compressed_image(jpeg, 1_800_000_000_000_000_007, "camera_optical"))
    assert decoded.format == "jpeg" and decoded.frame_id == "camera_optical"
    assert decoded.data == jpeg
    assert _stamp_ns(decoded.timestamp) == 1_800_000_000_000_000_007


@pytest.mark.parametrize("rgb", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32),
                                 np.zeros((0, 4, 3), np.uint8)])
def test_images_that_are_not_rgb8_are_refused(rgb):
    with pytest.raises(FoxgloveMessageError):
        fx.jpeg_bytes(rgb, 80)


# -- calibration -----------------------------------------------------------------------------------


def test_camera_calibration_on_the_wire():
    frame = make_frame()
    decoded = _decode(fx.camera_calibration(frame.K, frame.distortion, 640, 360, frame.t_ns, "camera_optical"))
    assert (decoded.width, decoded.height, decoded.frame_id) == (640, 360, "camera_optical")
    assert decoded.distortion_model == "plumb_bob"
    assert list(decoded.D) == [-0.12, 0.03, 0.0005, -0.0002, 0.0]
    assert list(decoded.K) == [800.0, 0.0, 320.0, 0.0, 800.0, 180.0, 0.0, 0.0, 1.0]
    assert list(decoded.R) == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert list(decoded.P) == [800.0, 0.0, 320.0, 0.0, 0.0, 800.0, 180.0, 0.0, 0.0, 0.0, 1.0, 0.0]


@pytest.mark.parametrize("K, D, size", [(np.eye(2), (0.0,) * 5, (4, 4)), (np.eye(3), (0.0,) * 4, (4, 4)),
                                        (np.full((3, 3), np.inf), (0.0,) * 5, (4, 4)), (np.eye(3), (0.0,) * 5, (0, 4))])
def test_a_calibration_that_is_not_one_is_refused(K, D, size):
    with pytest.raises(FoxgloveMessageError):
        fx.camera_calibration(K, D, *size, 0, "camera_optical")


# -- cloud -----------------------------------------------------------------------------------------


def _cloud(n: int = 5) -> PointCloud:
    xyz = np.arange(n * 3, dtype=np.float32).reshape(n, 3) * np.float32(0.5) - np.float32(2.0)
    intensity = np.linspace(0.0, 100.0, n, dtype=np.float32)
    return PointCloud(xyz, intensity, np.zeros(n, np.uint16), np.arange(n, dtype=np.int64), Stamp(0, 0))


def test_cloud_layout_is_xyz_intensity_float32_16_bytes():
    assert fx.CLOUD_FIELDS == (("x", 0), ("y", 4), ("z", 8), ("intensity", 12))
    assert fx.CLOUD_DTYPE.itemsize == 16
    cloud = _cloud()
    data = fx.cloud_bytes(cloud)
    assert len(data) == 16 * 5
    # Point 1 by hand: xyz = (3, 4, 5) * 0.5 - 2 = (-0.5, 0, 0.5), intensity 25.
    assert np.frombuffer(data[16:32], "<f4").tolist() == [-0.5, 0.0, 0.5, 25.0]


def test_point_cloud_on_the_wire():
    cloud = _cloud()
    decoded = _decode(fx.point_cloud(fx.cloud_bytes(cloud), 1_800_000_000_000_000_001, "lidar"))
    assert decoded.frame_id == "lidar" and decoded.point_stride == 16
    assert [(f.name, f.offset, f.type) for f in decoded.fields] == [
        (name, offset, fm.PackedElementFieldNumericType.Float32.value) for name, offset in fx.CLOUD_FIELDS]
    assert decoded.pose.orientation.w == 1.0 and decoded.pose.position.x == 0.0
    points = np.frombuffer(decoded.data, fx.CLOUD_DTYPE)
    np.testing.assert_array_equal(np.stack([points["x"], points["y"], points["z"]], axis=1), cloud.xyz_m)
    np.testing.assert_array_equal(points["intensity"], cloud.intensity)
    assert _stamp_ns(decoded.timestamp) == 1_800_000_000_000_000_001


def test_an_empty_sweep_is_an_empty_cloud():
    assert fx.cloud_bytes(_cloud(0)) == b""


def test_cloud_data_of_broken_length_is_refused():
    with pytest.raises(FoxgloveMessageError, match="16-B points"):
        fx.point_cloud(b"\x00" * 17, 0, "lidar")


# -- timecode --------------------------------------------------------------------------------------


def test_timecode_document():
    frame = make_frame(index=7)
    assert fx.timecode_document(frame) == {"label": "01:00:10;12", "rate": "29.97DF", "drop_frame": True,
                                           "frame_index": 7, "t_ns": 1_800_000_000_000_000_000 + 7 * 41_708_333}
    ndf = make_frame()
    ndf = type(ndf)(**{**ndf.__dict__, "timecode": Timecode(23, 59, 59, 23, FrameRate.FPS_24)})
    assert fx.timecode_document(ndf)["label"] == "23:59:59:23"
    none = type(ndf)(**{**ndf.__dict__, "timecode": None})
    assert fx.timecode_document(none)["label"] is None and fx.timecode_document(none)["rate"] is None
