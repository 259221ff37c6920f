"""Projection into a z-buffered depth map: the nearest point wins (hypothesis, brute force referee),
pixels as the camera optics place them, nothing folded in from outside the view."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.models import CameraConfig, IntrinsicsConfig
from edge.fusion import T_optical_lidar, camera_intrinsics, image_bounds_normalized, project_to_depth
from sensors.camera import optics
from sensors.sim.pixel_grid import pixel_grid_for

W, H = 24, 16
K = optics.intrinsics_matrix(10.0, 12.0, W, H)  # 20 px focal length: wide, so points spread
DISTORTION = (-0.05, 0.01, 0.001, -0.001, 0.0)


def _brute_force(xyz: np.ndarray) -> np.ndarray:
    """Per pixel, the smallest depth of the points landing there, one point at a time."""
    depth = np.full((H, W), np.nan, dtype=np.float32)
    uv, front = optics.project_points(xyz, K, DISTORTION)
    for (u, v), z, ok in zip(uv, xyz[:, 2], front):
        if not ok or z <= 0.05:
            continue
        col, row = int(np.floor(u + 0.5)), int(np.floor(v + 0.5))
        if 0 <= col < W and 0 <= row < H and not (depth[row, col] <= z):
            depth[row, col] = z
    return depth


_points = st.integers(0, 300).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(-0.8, 0.8), min_size=n, max_size=n),
        st.lists(st.floats(-0.6, 0.6), min_size=n, max_size=n),
        st.lists(st.floats(-1.0, 30.0), min_size=n, max_size=n),
    )
)


@given(_points, st.integers(0, 3))
def test_the_nearest_point_wins_every_pixel(columns, copies):
    xs, ys, zs = (np.asarray(c, dtype=float) for c in columns)
    # Points on rays through the view (x/z, y/z within the field), some behind the camera.
    xyz = np.stack([xs * np.abs(zs), ys * np.abs(zs), zs], axis=1).reshape(-1, 3)
    if copies and len(xyz):  # the same rays again, farther away: they must lose
        xyz = np.concatenate([xyz] + [xyz * (1.5 + c) for c in range(copies)])
    projection = project_to_depth(xyz, K, DISTORTION, W, H)
    expected = _brute_force(xyz)
    np.testing.assert_array_equal(projection.depth_m, expected)
    assert projection.depth_m.dtype == np.float32
    assert projection.index.size == np.count_nonzero(~np.isnan(expected))
    cols, rows = projection.uv_px[:, 0], projection.uv_px[:, 1]
    np.testing.assert_array_equal(projection.depth_m[rows, cols], xyz[projection.index, 2].astype(np.float32))


def test_pixels_follow_the_optics_rounding_convention():
    # A point straight down the axis lands on the principal point's pixel; half a pixel right of a
    # pixel centre belongs to the next pixel (pixel u covers [u - 0.5, u + 0.5)).
    K1 = optics.intrinsics_matrix(10.0, 12.0, W, H, principal_point_px=(10.0, 7.0))
    on_axis = project_to_depth(np.array([[0.0, 0.0, 2.0]]), K1, (0, 0, 0, 0, 0), W, H)
    assert on_axis.uv_px.tolist() == [[10, 7]] and on_axis.depth_m[7, 10] == 2.0
    f = K1[0, 0]
    edge = project_to_depth(np.array([[0.5 / f, 0.0, 1.0], [0.4999 / f, 0.0, 1.0]]), K1, (0, 0, 0, 0, 0), W, H)
    assert sorted(edge.uv_px[:, 0].tolist()) == [10, 11]


def test_points_far_off_axis_are_not_folded_into_the_image():
    """Strong barrel distortion folds back beyond its turning radius: optics.project_points would put
    a point at 58 deg off-axis inside this image; the depth map must not."""
    k1 = -0.3
    distortion = (k1, 0.0, 0.0, 0.0, 0.0)
    K2 = optics.intrinsics_matrix(10.0, 12.0, 100, 60)
    r = 1.6  # undistorted radius past the fold at 1 / sqrt(3 * 0.3) = 1.05
    point = np.array([[r, 0.0, 1.0]])
    uv, _ = optics.project_points(point, K2, distortion)
    assert 0 <= uv[0, 0] < 100  # the polynomial does fold it in
    assert project_to_depth(point, K2, distortion, 100, 60).index.size == 0
    x_min, x_max, _, _ = image_bounds_normalized(K2, distortion, 100, 60)
    assert x_max < r and x_min > -r


def test_bad_points_and_empty_input():
    xyz = np.array([[np.nan, 0, 1], [0, 0, np.inf], [0, 0, -1.0], [0, 0, 0.01], [0.0, 0.0, 3.0]])
    projection = project_to_depth(xyz, K, DISTORTION, W, H)
    assert projection.index.tolist() == [4]
    empty = project_to_depth(np.zeros((0, 3)), K, DISTORTION, W, H)
    assert empty.depth_m.shape == (H, W) and np.isnan(empty.depth_m).all() and empty.index.size == 0
    with pytest.raises(ValueError):
        project_to_depth(xyz, K, DISTORTION, 0, H)


def test_extrinsics_put_the_lidar_forward_on_the_optical_axis():
    T = T_optical_lidar(np.eye(4))
    ahead_left_up = np.array([5.0, 1.0, 2.0, 1.0])  # lidar: x forward, y left, z up
    np.testing.assert_allclose(T @ ahead_left_up, [-1.0, -2.0, 5.0, 1.0])  # optical: x right, y down, z fwd


def test_intrinsics_are_the_simulated_cameras():
    camera = CameraConfig(intrinsics=IntrinsicsConfig(principal_point_px=(321.0, 178.5)))
    K_ours, distortion = camera_intrinsics(camera, 42.0)
    np.testing.assert_allclose(K_ours, pixel_grid_for(camera, 42.0).K, rtol=1e-12)
    assert distortion == tuple(camera.intrinsics.distortion)
    # Half the size: the principal point scales about pixel corners.
    K_half, _ = camera_intrinsics(camera, 42.0, 320, 180)
    assert K_half[0, 0] == pytest.approx(K_ours[0, 0] / 2)
    assert (K_half[0, 2], K_half[1, 2]) == pytest.approx(((321.0 + 0.5) / 2 - 0.5, (178.5 + 0.5) / 2 - 0.5))
