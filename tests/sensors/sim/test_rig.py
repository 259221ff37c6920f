"""Rig kinematics: dolly, crane and head driven by the shot plan, as poses at any instant."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.models import ShotKeyframe, StageConfig
from sensors.sim.rig import rotations_from_pan_tilt_roll
from sensors.sim.stage import Stage
from sensors.vocabulary import NS_PER_S, pan_tilt_roll_from_rotation, quat_to_matrix, rotation_from_pan_tilt_roll

from .conftest import EPOCH_NS


def _stage(keys, loop=False, **kw) -> Stage:
    return Stage(StageConfig(shot=keys, loop=loop, dressing_count=0, actor_count=1, **kw), EPOCH_NS)


def _ns(t_s: float) -> int:
    return EPOCH_NS + int(round(t_s * NS_PER_S))


@pytest.fixture(scope="module")
def moving() -> Stage:
    """Dolly at 1 m/s and pan at 30 deg/s through the middle keys, crane up, zoom."""
    keys = [
        ShotKeyframe(t_s=0.0, dolly_m=0.0, pan_deg=0.0, crane_lift_deg=0.0, focal_length_mm=25.0),
        ShotKeyframe(t_s=2.0, dolly_m=2.0, pan_deg=60.0, crane_lift_deg=10.0, focal_length_mm=35.0),
        ShotKeyframe(t_s=4.0, dolly_m=4.0, pan_deg=120.0, crane_lift_deg=20.0, focal_length_mm=50.0, t_stop=5.6),
        ShotKeyframe(t_s=6.0, dolly_m=6.0, pan_deg=180.0, crane_lift_deg=30.0, focal_length_mm=85.0),
    ]
    return _stage(keys, track_origin_m=(-4.0, -3.0, 0.0), track_heading_deg=0.0)


@settings(max_examples=100, deadline=None)
@given(st.floats(-360, 360), st.floats(-90, 90), st.floats(-45, 45))
def test_vectorised_rotation_matches_the_vocabulary(pan, tilt, roll) -> None:
    np.testing.assert_allclose(
        rotations_from_pan_tilt_roll(pan, tilt, roll), rotation_from_pan_tilt_roll(pan, tilt, roll), atol=1e-12
    )


def test_dolly_at_one_metre_per_second(moving: Stage) -> None:
    t = [_ns(2.5), _ns(3.5)]
    p0, p1 = (moving.rig_pose(v).position_m for v in t)
    # Crane also lifts; the dolly's share is along the track (+x) only.
    track_speed = (p1[0] - p0[0]) - moving.config.crane_arm_m * (
        np.cos(np.radians(moving.shot_channels(t[1])["crane_lift_deg"]))
        - np.cos(np.radians(moving.shot_channels(t[0])["crane_lift_deg"]))
    )
    assert track_speed == pytest.approx(1.0, abs=1e-9)
    assert moving.shot_channels(_ns(3.0))["dolly_m"] == pytest.approx(3.0, abs=1e-12)
    velocity, rates = moving.rig_velocity(_ns(3.0))
    lift = np.radians(moving.shot_channels(_ns(3.0))["crane_lift_deg"])
    arm_rate = moving.config.crane_arm_m * np.radians(5.0)  # crane lifts 5 deg/s here
    np.testing.assert_allclose(velocity, [1.0 - arm_rate * np.sin(lift), 0.0, arm_rate * np.cos(lift)], atol=1e-9)
    assert rates[0] == pytest.approx(30.0, abs=1e-9)


def test_pan_at_thirty_degrees_per_second_reaches_its_keys_exactly(moving: Stage) -> None:
    for t_s, pan in [(0.0, 0.0), (2.0, 60.0), (4.0, 120.0), (6.0, 180.0)]:
        R = quat_to_matrix(moving.rig_pose(_ns(t_s)).orientation_xyzw)
        got = pan_tilt_roll_from_rotation(R)[0]
        assert (got - pan + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=1e-6)
    pans = [pan_tilt_roll_from_rotation(moving.rig_matrices(np.array([_ns(t)]))[0, :3, :3])[0] for t in (2.5, 3.0)]
    assert (pans[1] - pans[0]) / 0.5 == pytest.approx(30.0, abs=1e-6)


def test_crane_lifts_the_head_and_keeps_it_level(moving: Stage) -> None:
    for t_s, lift in [(0.0, 0.0), (4.0, 20.0), (6.0, 30.0)]:
        pose = moving.rig_pose(_ns(t_s))
        expected_z = moving.config.crane_pivot_height_m + moving.config.crane_arm_m * np.sin(np.radians(lift))
        assert pose.position_m[2] == pytest.approx(expected_z, abs=1e-9)
        _, tilt, roll = pan_tilt_roll_from_rotation(pose.matrix()[:3, :3])
        assert tilt == pytest.approx(0.0, abs=1e-9) and roll == pytest.approx(0.0, abs=1e-9)


def test_lens_follows_the_plan(moving: Stage) -> None:
    assert moving.lens(_ns(2.0)).focal_length_mm == pytest.approx(35.0)
    assert moving.lens(_ns(4.0)).t_stop == pytest.approx(5.6)
    f = [moving.lens(_ns(t)).focal_length_mm for t in np.linspace(0.0, 6.0, 61)]
    assert all(b >= a - 1e-12 for a, b in zip(f, f[1:]))  # a zoom in never backs off
    pose, lens = moving.rig_state(_ns(2.0))
    assert lens == moving.lens(_ns(2.0)) and pose.t_ns == _ns(2.0)


def test_vectorised_matrices_equal_single_poses(stage: Stage) -> None:
    t = EPOCH_NS + np.linspace(-1e9, 30e9, 257).astype(np.int64)
    batch = stage.rig_matrices(t)
    assert batch.shape == (257, 4, 4)
    single = np.stack([stage.rig_pose(int(v)).matrix() for v in t])
    np.testing.assert_allclose(batch, single, atol=1e-12)


def test_the_shot_loops(stage: Stage) -> None:
    period_ns = int(stage.plan.duration_s * NS_PER_S)
    t = EPOCH_NS + np.arange(0, period_ns, period_ns // 40, dtype=np.int64)
    np.testing.assert_allclose(stage.rig_matrices(t + 3 * period_ns), stage.rig_matrices(t), atol=1e-9)
    later, now = stage.lens(int(t[7]) + period_ns), stage.lens(int(t[7]))
    assert (later.focal_length_mm, later.focus_distance_m) == pytest.approx((now.focal_length_mm, now.focus_distance_m))


def test_camera_optical_frame_looks_along_the_rig_x_axis(stage: Stage) -> None:
    T_rig = stage.rig_pose(EPOCH_NS).matrix()
    T_opt = stage.T_stage_optical(EPOCH_NS)
    np.testing.assert_allclose(T_opt[:3, 2], T_rig[:3, 0], atol=1e-12)  # optical z = rig x
    np.testing.assert_allclose(T_opt[:3, 3], T_rig[:3, 3], atol=1e-12)


def test_a_keyframe_off_the_track_is_rejected() -> None:
    with pytest.raises(ValueError, match="off the 8.0 m track"):
        _stage([ShotKeyframe(t_s=0.0, dolly_m=9.5)])
