"""Deskew against an exactly known motion: a static world seen by a LiDAR on a dollying, panning rig."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.models import MountConfig
from edge.fusion import PoseTrack, T_optical_lidar, deskew_points, pose_matrices, transform_points
from sensors.vocabulary import NS_PER_S

EPOCH_NS = 1_767_225_600_000_000_000
MOUNT = MountConfig(xyz_m=(0.05, -0.02, 0.12), rpy_deg=(1.0, -2.0, 3.0)).matrix()


def _motion(speed_mps: float, pan_dps: float):
    """T_stage_rig(t): dolly along a slanted line and pan about z, both at constant rate (so
    position is linear and rotation a slerp between any two samples: the track is exact)."""
    def at(t_ns):
        s = (np.asarray(t_ns, dtype=np.int64) - EPOCH_NS) / NS_PER_S
        yaw = np.radians(20.0 + pan_dps * s)
        positions = np.stack([-2.0 + speed_mps * s, -1.0 + 0.3 * speed_mps * s, np.full_like(s, 1.4)], axis=1)
        quats = np.stack([np.zeros_like(s), np.zeros_like(s), np.sin(yaw / 2), np.cos(yaw / 2)], axis=1)
        return positions, quats

    return at


def _scene(motion, n: int, seed: int):
    """World points, the times they are measured at, what the LiDAR reads, and the expected
    deskewed points (the world in the LiDAR frame at the frame time)."""
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    world = np.array([0.0, 0.0, 1.4]) + direction * rng.uniform(1.0, 12.0, (n, 1))
    t = EPOCH_NS + np.sort(rng.integers(-50_000_000, 50_000_001, n))
    T = pose_matrices(*motion(t)) @ MOUNT
    measured = np.einsum("nij,nj->ni", np.linalg.inv(T)[:, :3, :3], world) + np.linalg.inv(T)[:, :3, 3]
    T_frame = pose_matrices(*motion(np.array([EPOCH_NS])))[0] @ MOUNT
    expected = transform_points(np.linalg.inv(T_frame), world)
    samples = EPOCH_NS + np.arange(-80, 81, 10, dtype=np.int64) * 1_000_000  # 100 Hz telemetry
    return t, measured, expected, PoseTrack.from_samples(samples, *motion(samples))


@pytest.mark.parametrize("speed_mps, pan_dps", [(1.0, 30.0), (0.0, 180.0), (3.0, 0.0)])
def test_deskew_recovers_the_static_world(speed_mps, pan_dps):
    motion = _motion(speed_mps, pan_dps)
    t, measured, expected, track = _scene(motion, 30_000, seed=1)
    exact = deskew_points(measured, t, EPOCH_NS, track, MOUNT, knot_spacing_ns=0)
    assert np.abs(exact - expected).max() < 1e-9
    knotted = deskew_points(measured, t, EPOCH_NS, track, MOUNT)
    # Linear blending between 1 ms knots cuts the arc by r (omega 1 ms)^2 / 8, r the point's distance
    # from the rig (at most ~15 m here): 0.5 um at 30 deg/s, 19 um in a 180 deg/s whip pan.
    chord_m = 15.0 * (np.radians(pan_dps) * 1e-3) ** 2 / 8
    assert np.abs(knotted - expected).max() < chord_m + 1e-9
    single = deskew_points(measured.astype(np.float32), t, EPOCH_NS, track, MOUNT)
    assert np.abs(single - expected).max() < chord_m + 2e-6  # float32 input: ~1 um at 12 m
    naive_error = np.linalg.norm(measured - expected, axis=1)
    assert np.percentile(naive_error, 95) > 0.02  # the skew is real: centimetres to decimetres


def test_a_pose_callable_and_a_target_frame():
    motion = _motion(1.0, 30.0)
    t, measured, expected, track = _scene(motion, 2_000, seed=2)
    out = deskew_points(measured, t, EPOCH_NS, lambda times: pose_matrices(*motion(times)), MOUNT,
                        T_target_lidar=T_optical_lidar(MOUNT))
    np.testing.assert_allclose(out, transform_points(T_optical_lidar(MOUNT), expected), atol=1e-6)


@given(st.integers(-60_000_000, 60_000_000))
def test_a_point_measured_at_the_frame_time_does_not_move(offset_ns):
    """Whatever the frame time, a point measured then is where it was read."""
    motion = _motion(1.0, 30.0)
    _, _, _, track = _scene(motion, 1, seed=3)
    t_frame = EPOCH_NS + offset_ns
    xyz = np.array([[4.0, -1.0, 0.5], [-2.0, 3.0, 1.0]])
    out = deskew_points(xyz, np.array([t_frame, t_frame]), t_frame, track, MOUNT)
    np.testing.assert_allclose(out, xyz, atol=1e-12)


def test_no_motion_is_the_identity_and_empty_input_is_empty():
    still = PoseTrack.from_samples(np.array([0, 10], dtype=np.int64), np.zeros((2, 3)), np.tile([0, 0, 0, 1.0], (2, 1)))
    xyz = np.random.default_rng(4).normal(size=(100, 3))
    out = deskew_points(xyz, np.arange(100, dtype=np.int64), 5, still, MOUNT)
    np.testing.assert_allclose(out, xyz, atol=1e-12)
    assert deskew_points(np.zeros((0, 3)), np.zeros(0, dtype=np.int64), 0, still, MOUNT).shape == (0, 3)


def test_bad_arguments_are_refused():
    still = PoseTrack.from_samples(np.array([0], dtype=np.int64), np.zeros((1, 3)), np.array([[0, 0, 0, 1.0]]))
    with pytest.raises(ValueError):
        deskew_points(np.zeros((3, 3)), np.zeros(2, dtype=np.int64), 0, still, MOUNT)
    with pytest.raises(TypeError):
        deskew_points(np.zeros((2, 3)), np.zeros(2), 0, still, MOUNT)
    with pytest.raises(TypeError):
        deskew_points(np.zeros((2, 3)), np.zeros(2, dtype=np.int64), 0, "not poses", MOUNT)
