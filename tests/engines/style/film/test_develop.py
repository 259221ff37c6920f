"""develop: deterministic, float32 in [0, 1], its colour part is colour(), fast enough to make pairs."""

import time

import numpy as np
import pytest

from engines.style.film import LOOK_NAMES, FilmTest, colour, develop, look_spec, texture_parts

HEIGHT, WIDTH = 90, 160


@pytest.fixture(scope="module")
def control():
    """A frame with a smooth gradient, saturated patches, pure black and a clipped white."""
    rng = np.random.default_rng(21)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    frame = np.stack([x / (WIDTH - 1), y / (HEIGHT - 1), 0.5 + 0.4 * np.sin(x / 9.0)], axis=-1)
    frame[10:30, 10:40] = rng.random(3)
    frame[40:50, 60:80] = 0.0
    frame[60:70, 100:120] = 1.0
    return frame.astype(np.float32)


@pytest.mark.parametrize("look", LOOK_NAMES)
def test_the_same_seed_gives_bit_identical_frames_and_another_seed_other_grain(control, look):
    first, again, other = (develop(control, look, seed=s) for s in (0, 0, 1))
    assert isinstance(first, FilmTest) and first.look is look_spec(look) and first.seed == 0
    assert np.array_equal(first.image, again.image)
    assert np.mean(first.image != other.image) > 0.5
    assert np.array_equal(first.colour_only, other.colour_only)


@pytest.mark.parametrize("look", LOOK_NAMES)
@pytest.mark.parametrize("exposure_stops", [-3.0, 0.0, 3.0])
def test_the_test_frame_is_float32_in_0_1_of_the_control_s_shape(control, look, exposure_stops):
    test = develop(control, look, seed=2, exposure_stops=exposure_stops)
    for image in (test.image, test.colour_only):
        assert image.dtype == np.float32 and image.shape == control.shape
        assert image.min() >= 0.0 and image.max() <= 1.0
    assert np.array_equal(test.colour_only, colour(control, look, exposure_stops=exposure_stops))
    assert test.exposure_stops == exposure_stops


def test_texture_parts_are_what_develop_applies(control):
    parts = texture_parts(control, "super8", seed=4)
    assert parts.vignette.shape == control.shape[:2]
    assert parts.halation.shape == parts.grain.shape == control.shape
    assert all(p.dtype == np.float32 for p in (parts.vignette, parts.halation, parts.grain))
    assert np.array_equal(parts.grain, texture_parts(control, "super8", seed=4).grain)
    # The clipped white patch halates; the black one does not grow grain beyond the fog's.
    assert parts.halation[..., 0].max() > 0.1
    assert np.abs(parts.grain[40:50, 60:80]).max() < np.abs(parts.grain[60:70, 100:120]).max()


def test_the_texture_part_only_textures(control):
    # Grain, halation and vignette change a frame by a few percent, not its picture.
    test = develop(control, "35mm", seed=0)
    difference = np.abs(test.image - test.colour_only)
    assert np.median(difference) < 0.02
    assert np.corrcoef(test.image.ravel(), test.colour_only.ravel())[0, 1] > 0.99


def test_a_640x360_frame_develops_in_well_under_a_second():
    frame = np.random.default_rng(0).random((360, 640, 3)).astype(np.float32)
    develop(frame, "super8")
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        develop(frame, "super8", seed=1)
        best = min(best, time.perf_counter() - start)
    assert best < 0.8
