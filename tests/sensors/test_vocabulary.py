"""The shared vocabulary: value objects, rotations and frame conventions."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors.vocabulary import (
    T_RIG_CAMERA_OPTICAL,
    FrameRate,
    RigPose,
    Timecode,
    matrix_to_quat,
    pan_tilt_roll_from_rotation,
    quat_to_matrix,
    rotation_from_pan_tilt_roll,
)


@pytest.mark.parametrize("rate", list(FrameRate))
def test_frame_rate_labels_parse_back(rate):
    assert FrameRate.parse(rate.label) is rate


@pytest.mark.parametrize(
    ("text", "rate"),
    [("29.97DF", FrameRate.FPS_29_97_DF), ("29.97 df", FrameRate.FPS_29_97_DF), ("29.97NDF", FrameRate.FPS_29_97_NDF),
     (24, FrameRate.FPS_24), (25.0, FrameRate.FPS_25), ("23.976", FrameRate.FPS_23_976)],
)
def test_frame_rate_parse_forms(text, rate):
    assert FrameRate.parse(text) is rate


def test_frame_rate_parse_rejects_unknown_with_choices():
    with pytest.raises(ValueError, match="23.976"):
        FrameRate.parse("23")


def test_nominal_rates():
    assert FrameRate.FPS_23_976.nominal_fps == 24
    assert FrameRate.FPS_29_97_DF.nominal_fps == 30
    assert FrameRate.FPS_59_94_DF.nominal_fps == 60
    assert FrameRate.FPS_29_97_DF.fps == pytest.approx(29.97002997)


def test_timecode_rejects_dropped_labels_and_prints_semicolon():
    with pytest.raises(ValueError, match="does not exist"):
        Timecode(0, 1, 0, 0, FrameRate.FPS_29_97_DF)
    with pytest.raises(ValueError, match="does not exist"):
        Timecode(0, 1, 0, 3, FrameRate.FPS_59_94_DF)
    assert str(Timecode(0, 10, 0, 0, FrameRate.FPS_29_97_DF)) == "00:10:00;00"
    assert str(Timecode(1, 2, 3, 4, FrameRate.FPS_25)) == "01:02:03:04"


@pytest.mark.parametrize("bad", [(24, 0, 0, 0), (0, 60, 0, 0), (0, 0, 60, 0), (0, 0, 0, 24), (0, 0, 0, -1)])
def test_timecode_range(bad):
    with pytest.raises(ValueError):
        Timecode(*bad, rate=FrameRate.FPS_24)


angles = st.tuples(
    st.floats(-179.0, 179.0), st.floats(-89.0, 89.0), st.floats(-179.0, 179.0)
)


@given(angles)
def test_pan_tilt_roll_roundtrip(ptr):
    R = rotation_from_pan_tilt_roll(*ptr)
    assert np.allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)
    assert np.allclose(pan_tilt_roll_from_rotation(R), ptr, atol=1e-7)


@given(angles)
def test_quaternion_roundtrip(ptr):
    R = rotation_from_pan_tilt_roll(*ptr)
    q = matrix_to_quat(R)
    assert np.linalg.norm(q) == pytest.approx(1.0)
    assert q[3] >= 0
    assert np.allclose(quat_to_matrix(q), R, atol=1e-9)


def test_head_conventions():
    # Pan +90 looks along stage +y (left); tilt +10 raises the lens axis; roll + drops the right side.
    assert np.allclose(rotation_from_pan_tilt_roll(90, 0, 0) @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    assert (rotation_from_pan_tilt_roll(0, 10, 0) @ [1, 0, 0])[2] > 0
    assert (rotation_from_pan_tilt_roll(0, 0, 10) @ [0, -1, 0])[2] < 0


def test_optical_frame_axes():
    R = T_RIG_CAMERA_OPTICAL[:3, :3]
    assert np.allclose(R @ [0, 0, 1], [1, 0, 0])  # optical z = rig forward
    assert np.allclose(R @ [1, 0, 0], [0, -1, 0])  # optical x = rig right
    assert np.allclose(R @ [0, 1, 0], [0, 0, -1])  # optical y = rig down


def test_rig_pose_matrix():
    R = rotation_from_pan_tilt_roll(30, -5, 2)
    pose = RigPose(t_ns=5, position_m=np.array([1.0, 2.0, 3.0]), orientation_xyzw=matrix_to_quat(R))
    T = pose.matrix()
    assert np.allclose(T[:3, :3], R)
    assert np.allclose(T[:3, 3], [1, 2, 3])
