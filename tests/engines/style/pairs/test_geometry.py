"""The homography helpers against OpenCV's own resampling and warping."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engines.style.pairs import map_points, warp_test
from engines.style.pairs.geometry import coverage, scaling_matrix, to_full_size
from tests.engines.style.pairs import synth


@pytest.mark.parametrize("factor", [0.5, 0.25])
def test_scaling_matrix_follows_opencv_resize(factor):
    """A ramp whose value is its x coordinate, resized: each new pixel holds the x it came from."""
    width, height = 640, 360
    ramp = np.tile(np.arange(width, dtype=np.float32), (height, 1))
    small = (int(width * factor), int(height * factor))
    resized = cv2.resize(ramp, small, interpolation=cv2.INTER_AREA)
    back = map_points(np.linalg.inv(scaling_matrix((width, height), small)), np.stack(
        [np.arange(small[0], dtype=np.float64), np.zeros(small[0])], axis=1))
    np.testing.assert_allclose(resized[0], back[:, 0], atol=1e-3)


def test_to_full_size_undoes_the_scalings():
    H = synth.truth_homography((640, 360), (600, 345))
    S_c, S_t = scaling_matrix((640, 360), (400, 225)), scaling_matrix((600, 345), (400, 230))
    H_small = S_t @ H @ np.linalg.inv(S_c)
    np.testing.assert_allclose(to_full_size(H_small, S_c, S_t), H, atol=1e-12)


def test_warp_puts_test_pixels_where_the_homography_says():
    H = synth.truth_homography((320, 180), (300, 170), scale=1.1, rotation_deg=4.0)
    test = synth.scene(300, 170, 3)
    warped = warp_test(test, H, (320, 180))
    point = np.array([[150.0, 90.0]])
    u, v = map_points(H, point)[0]
    expected = cv2.getRectSubPix(test, (1, 1), (float(u), float(v)))[0, 0]
    np.testing.assert_allclose(warped[90, 150], expected, atol=2e-3)
    beyond = ~coverage(H, (320, 180), (300, 170), -1.0)  # more than a pixel outside the test
    assert beyond.mean() > 0.1 and (warped[beyond] == 0).all()
