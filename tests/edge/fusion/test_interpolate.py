"""Pose interpolation: slerp properties (hypothesis), scipy's Slerp as a referee, held ends."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.transform import Rotation, Slerp

from edge.fusion import PoseTrack, extrapolated, interpolate_poses, interpolate_values, quats_to_matrices, slerp
from sensors.vocabulary import quat_to_matrix

EPOCH_NS = 1_767_225_600_000_000_000

_vec4 = arrays(np.float64, 4, elements=st.floats(-1.0, 1.0, allow_nan=False, width=64)).filter(
    lambda v: np.linalg.norm(v) > 1e-3
)
_frac = st.floats(0.0, 1.0, allow_nan=False)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _angle(qa: np.ndarray, qb: np.ndarray) -> float:
    """Rotation angle (rad) between two unit quaternions."""
    return float(2.0 * np.arccos(np.clip(abs(np.dot(qa, qb)), 0.0, 1.0)))


@given(_vec4, _vec4, _frac)
def test_slerp_is_unit_and_on_the_short_arc(a, b, f):
    q0, q1 = _unit(a), _unit(b)
    q = slerp(q0[None], q1[None], np.array([f]))[0]
    assert abs(np.linalg.norm(q) - 1.0) < 1e-12
    total = _angle(q0, q1)
    assert total <= np.pi + 1e-9  # the shorter way round never turns past half a turn
    # On the arc: f of the way from q0, the rest from q1.
    assert _angle(q0, q) == pytest.approx(f * total, abs=2e-7)
    assert _angle(q, q1) == pytest.approx((1.0 - f) * total, abs=2e-7)


@given(_vec4, _vec4)
def test_slerp_endpoints_are_exact(a, b):
    q0, q1 = _unit(a), _unit(b)
    q = slerp(np.stack([q0, q0]), np.stack([q1, q1]), np.array([0.0, 1.0]))
    assert np.array_equal(q[0], q0) and np.array_equal(q[1], q1)


@given(_vec4, _vec4, _frac)
def test_slerp_agrees_with_scipy(a, b, f):
    q0, q1 = _unit(a), _unit(b)
    ours = quats_to_matrices(slerp(q0[None], q1[None], np.array([f])))[0]
    referee = Slerp([0.0, 1.0], Rotation.from_quat(np.stack([q0, q1])))([f]).as_matrix()[0]
    np.testing.assert_allclose(ours, referee, atol=1e-9)


@given(_vec4)
def test_quats_to_matrices_matches_the_vocabulary(a):
    q = _unit(a)
    np.testing.assert_allclose(quats_to_matrices(q[None])[0], quat_to_matrix(q), atol=1e-14)


def _track(n: int = 5, period_ns: int = 10_000_000):
    t = EPOCH_NS + np.arange(n, dtype=np.int64) * period_ns
    positions = np.stack([np.arange(n) * 0.01, np.zeros(n), np.full(n, 1.5)], axis=1)
    yaw = np.radians(np.arange(n) * 0.3)
    quats = np.stack([np.zeros(n), np.zeros(n), np.sin(yaw / 2), np.cos(yaw / 2)], axis=1)
    return t, positions, quats


def test_positions_linear_rotations_at_constant_rate_and_samples_exact():
    t, p, q = _track()
    query = np.array([t[0], t[1] + 2_500_000, t[3] + 7_000_000, t[4]], dtype=np.int64)
    pos, quat = interpolate_poses(query, t, p, q)
    np.testing.assert_allclose(pos[:, 0], [0.0, 0.0125, 0.037, 0.04], atol=1e-15)
    yaw = 2.0 * np.arctan2(quat[:, 2], quat[:, 3])
    np.testing.assert_allclose(np.degrees(yaw), [0.0, 0.375, 1.11, 1.2], atol=1e-12)
    assert np.array_equal(quat[0], q[0]) and np.array_equal(quat[-1], q[-1])


def test_outside_the_samples_poses_are_held_and_flagged():
    t, p, q = _track()
    query = np.array([t[0] - 1, t[0], t[-1], t[-1] + 10**12, -(2**62)], dtype=np.int64)
    pos, quat = interpolate_poses(query, t, p, q)
    np.testing.assert_array_equal(pos[[0, 1, 4]], np.repeat(p[:1], 3, axis=0))
    np.testing.assert_array_equal(pos[[2, 3]], np.repeat(p[-1:], 2, axis=0))
    assert extrapolated(query, t).tolist() == [True, False, False, True, True]
    assert PoseTrack.from_samples(t, p, q).held(query).tolist() == [True, False, False, True, True]


def test_one_sample_is_held_everywhere_and_epoch_times_keep_nanoseconds():
    t, p, q = _track(1)
    pos, quat = interpolate_poses(np.array([0, EPOCH_NS, 2**62], dtype=np.int64), t, p, q)
    assert np.array_equal(pos, np.repeat(p, 3, axis=0)) and np.array_equal(quat, np.repeat(q, 3, axis=0))
    # One nanosecond into a one-nanosecond segment of an epoch-scale clock is the far end exactly.
    t2 = np.array([EPOCH_NS, EPOCH_NS + 2], dtype=np.int64)
    pos2, _ = interpolate_poses(np.array([EPOCH_NS + 1]), t2, np.array([[0.0, 0, 0], [2.0, 0, 0]]), q.repeat(2, 0))
    assert pos2[0, 0] == 1.0


def test_lens_values_interpolate_linearly_and_hold():
    t = np.array([0, 10, 20], dtype=np.int64)
    values = np.array([[35.0, 3.0], [45.0, 2.0], [45.0, 1.0]])
    out = interpolate_values(np.array([-5, 5, 15, 99]), t, values)
    np.testing.assert_allclose(out, [[35.0, 3.0], [40.0, 2.5], [45.0, 1.5], [45.0, 1.0]])


@pytest.mark.parametrize(
    "times, positions, quats, error",
    [
        (np.zeros(0, dtype=np.int64), np.zeros((0, 3)), np.zeros((0, 4)), ValueError),
        ([0, 0], np.zeros((2, 3)), np.tile([0, 0, 0, 1.0], (2, 1)), ValueError),
        ([5, 1], np.zeros((2, 3)), np.tile([0, 0, 0, 1.0], (2, 1)), ValueError),
        ([0, 1], np.zeros((3, 3)), np.tile([0, 0, 0, 1.0], (2, 1)), ValueError),
        ([0, 1], np.full((2, 3), np.nan), np.tile([0, 0, 0, 1.0], (2, 1)), ValueError),
        ([0, 1], np.zeros((2, 3)), np.zeros((2, 4)), ValueError),
        ([0.0, 1.0], np.zeros((2, 3)), np.tile([0, 0, 0, 1.0], (2, 1)), TypeError),
    ],
    ids=["empty", "duplicate-time", "unordered", "shape", "nan", "zero-quaternion", "float-times"],
)
def test_bad_samples_are_refused_with_a_reason(times, positions, quats, error):
    with pytest.raises(error):
        interpolate_poses(np.array([0], dtype=np.int64), np.asarray(times), positions, quats)
