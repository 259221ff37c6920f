"""Halation: red-orange light round highlights over the threshold, spread by the gate, none elsewhere."""

import numpy as np
import pytest

from engines.style.film import LOOKS, VISION3_HALATION, develop, pixel_pitch_um, texture_parts
from engines.style.film.halation import gaussian_blur, halation_exposure

HEIGHT, WIDTH = 180, 320
SPOT = (slice(87, 93), slice(157, 163))  # a 6 x 6 lamp at the frame's centre


def _lamp_on_dark(dark=0.05, lamp=1.0):
    frame = np.full((HEIGHT, WIDTH, 3), dark, dtype=np.float32)
    frame[SPOT] = lamp
    return frame


def _distance_from_spot():
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    dy = np.maximum(np.maximum(87 - y, y - 92), 0)
    dx = np.maximum(np.maximum(157 - x, x - 162), 0)
    return np.hypot(dy, dx)


def test_a_dark_flat_field_gets_no_halation():
    for code_value in (0.0, 0.05, 0.7):  # 0.7 is 1.4 stops over grey: under the 1.5-stop threshold
        frame = np.full((HEIGHT, WIDTH, 3), code_value, dtype=np.float32)
        assert not np.any(texture_parts(frame, "35mm").halation)


def test_halation_is_red_then_a_little_green_and_only_round_the_highlight():
    halation = texture_parts(_lamp_on_dark(), "16mm").halation
    sigma_px = VISION3_HALATION.sigma_mm * 1000.0 / pixel_pitch_um(LOOKS["16mm"].film_format, WIDTH)
    near = (_distance_from_spot() > 0) & (_distance_from_spot() <= sigma_px)
    far = _distance_from_spot() > 8.0 * sigma_px
    red, green, blue = (halation[..., c] for c in range(3))
    assert not np.any(blue)
    assert np.all(red[near] > 0.0) and red[near].mean() > 0.01
    assert green[near] == pytest.approx(red[near] / 4.0, rel=1e-5)
    assert red[far].max() < 1e-6


def test_the_halo_carries_the_gain_times_the_over_threshold_light():
    exposure = np.full((HEIGHT, WIDTH, 3), 0.5)
    exposure[SPOT] = 10.0
    halo = halation_exposure(exposure, VISION3_HALATION, pixel_pitch_um(LOOKS["35mm"].film_format, WIDTH))
    source = (10.0 - VISION3_HALATION.threshold) * 36
    assert halo[..., 0].sum() == pytest.approx(0.20 * source, rel=1e-6)
    assert halo[..., 1].sum() == pytest.approx(0.05 * source, rel=1e-6)


def test_the_halo_spreads_further_in_pixels_on_a_smaller_gate():
    widths = []
    for name in ("35mm", "16mm", "super8"):
        red = texture_parts(_lamp_on_dark(), name).halation[..., 0]
        y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
        r2 = (y - 89.5) ** 2 + (x - 159.5) ** 2
        second_moment = np.sqrt((red * r2).sum() / red.sum() / 2.0)
        sigma_px = VISION3_HALATION.sigma_mm * 1000.0 / pixel_pitch_um(LOOKS[name].film_format, WIDTH)
        # A Gaussian of sigma over a 6 x 6 square (variance 35/12 per axis).
        assert second_moment == pytest.approx(np.sqrt(sigma_px**2 + 35.0 / 12.0), rel=0.03)
        widths.append(second_moment)
    assert widths[0] < widths[1] < widths[2]


def test_the_developed_frame_glows_red_orange_round_the_lamp():
    test = develop(_lamp_on_dark(), "16mm", seed=3)
    ring = (_distance_from_spot() > 1) & (_distance_from_spot() <= 3)
    added = (test.image - test.colour_only)[ring].mean(axis=0)
    assert added[0] > 0.015
    assert added[0] > 3.0 * added[1] > 0.0
    assert added[1] > added[2]  # blue only through the dyes' crosstalk


def test_gaussian_blur_keeps_light_and_zero_sigma_is_the_identity():
    plane = np.zeros((64, 64))
    plane[32, 32] = 1.0
    assert gaussian_blur(plane, 3.0).sum() == pytest.approx(1.0, rel=1e-9)
    assert np.array_equal(gaussian_blur(plane, 0.0), plane)
