"""Camera maths: intrinsics, Brown-Conrady distortion and its inverse, projection, pixel rays."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.camera import optics

# Plausible cinema-lens coefficients: distortion stays one-to-one over a Super 35 frame at 18 mm.
_coeffs = st.tuples(
    st.floats(-0.3, 0.3),
    st.floats(-0.1, 0.1),
    st.floats(-0.01, 0.01),
    st.floats(-0.01, 0.01),
    st.floats(-0.05, 0.05),
)
# Normalised coordinates over a 16:9 Super 35 image at 18 mm (half-width 12.45 / 18).
_points = st.lists(st.tuples(st.floats(-0.69, 0.69), st.floats(-0.39, 0.39)), min_size=1, max_size=50)


def _distort_reference(x: float, y: float, k1: float, k2: float, p1: float, p2: float, k3: float) -> tuple:
    """OpenCV's formula written out for one point (the referee)."""
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    return (
        x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x),
        y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y,
    )


def test_focal_length_in_pixels_follows_the_pixel_pitch() -> None:
    # 35 mm on a 24.89 mm wide sensor imaged onto 640 px: pitch 0.03889 mm.
    assert optics.focal_length_px(35.0, 24.89, 640) == pytest.approx(35.0 / (24.89 / 640))
    with pytest.raises(ValueError):
        optics.focal_length_px(35.0, 0.0, 640)


def test_intrinsics_matrix_centres_the_principal_point_by_default() -> None:
    K = optics.intrinsics_matrix(50.0, 24.89, 640, 360)
    assert K[0, 0] == K[1, 1] == pytest.approx(50.0 * 640 / 24.89)
    assert (K[0, 2], K[1, 2]) == (319.5, 179.5)
    K2 = optics.intrinsics_matrix(50.0, 24.89, 640, 360, principal_point_px=(300.0, 170.0))
    assert (K2[0, 2], K2[1, 2]) == (300.0, 170.0)


@settings(max_examples=60, deadline=None)
@given(_points, _coeffs)
def test_distortion_matches_the_written_out_formula(points, coeffs) -> None:
    xy = np.array(points)
    got = optics.distort_normalized(xy, coeffs)
    want = np.array([_distort_reference(x, y, *coeffs) for x, y in points])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@settings(max_examples=80, deadline=None)
@given(_points, _coeffs)
def test_undistort_inverts_distort_over_the_image(points, coeffs) -> None:
    xy = np.array(points)
    back = optics.undistort_normalized(optics.distort_normalized(xy, coeffs), coeffs)
    assert np.max(np.abs(back - xy)) < 1e-6


def test_undistort_without_distortion_is_identity() -> None:
    xy = np.array([[0.1, -0.2], [0.5, 0.3]])
    np.testing.assert_array_equal(optics.undistort_normalized(xy, (0, 0, 0, 0, 0)), xy)


def test_bad_coefficient_count_is_rejected() -> None:
    with pytest.raises(ValueError, match="five coefficients"):
        optics.distort_normalized(np.zeros((1, 2)), (0.1, 0.2))


@settings(max_examples=25, deadline=None)
@given(_coeffs, st.floats(18.0, 80.0), st.floats(0.5, 40.0))
def test_a_point_on_a_pixel_ray_projects_back_onto_that_pixel(coeffs, focal_mm, depth_m) -> None:
    width, height = 64, 36
    K = optics.intrinsics_matrix(focal_mm, 24.89 * 64 / 640, width, height)  # same field of view as 640x360
    rays = optics.pixel_rays(K, coeffs, width, height)
    np.testing.assert_allclose(np.linalg.norm(rays, axis=1), 1.0, atol=1e-12)
    uv, in_front = optics.project_points(rays * depth_m, K, coeffs)
    assert in_front.all()
    assert np.max(np.abs(uv - optics.pixel_grid(width, height))) < 1e-3


def test_projection_matches_pinhole_by_hand_and_flags_points_behind() -> None:
    K = optics.intrinsics_matrix(35.0, 24.89, 640, 360)
    coeffs = (-0.05, 0.01, 0.001, -0.002, 0.0)
    p = np.array([[0.4, -0.3, 2.0], [0.0, 0.0, -1.0]])
    uv, in_front = optics.project_points(p, K, coeffs)
    xd, yd = _distort_reference(0.2, -0.15, *coeffs)
    assert uv[0] == pytest.approx([K[0, 0] * xd + K[0, 2], K[1, 1] * yd + K[1, 2]], abs=1e-9)
    assert in_front.tolist() == [True, False]
    assert np.isnan(uv[1]).all()


def test_pixel_rays_point_through_the_principal_point_along_the_axis() -> None:
    K = optics.intrinsics_matrix(35.0, 24.89, 641, 361)  # odd size: a pixel centre on the axis
    rays = optics.pixel_rays(K, (-0.05, 0.01, 0.0, 0.0, 0.0), 641, 361)
    centre = rays[180 * 641 + 320]
    np.testing.assert_allclose(centre, [0.0, 0.0, 1.0], atol=1e-15)
    # Right of centre is +x, below is +y (camera_optical).
    assert rays[180 * 641 + 640, 0] > 0 and rays[360 * 641 + 320, 1] > 0
    # Barrel distortion: the corner ray is wider than the undistorted pinhole ray.
    corner = rays[0]
    pinhole = np.array([(0 - K[0, 2]) / K[0, 0], (0 - K[1, 2]) / K[1, 1], 1.0])
    assert math.atan2(np.hypot(*corner[:2]), corner[2]) > math.atan2(np.hypot(*pinhole[:2]), 1.0)
