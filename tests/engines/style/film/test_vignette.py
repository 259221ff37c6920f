"""Gate vignette: the stated loss at the corners, none at the centre, more on smaller gates."""

import numpy as np
import pytest

from engines.style.film import GREY_CODE_VALUE, LOOKS, colour, develop, texture_parts
from engines.style.film.vignette import vignette_factor, vignette_stops_at

HEIGHT, WIDTH = 180, 320


def test_the_corner_loses_the_stated_stops_and_the_centre_nothing():
    for corner_stops in (0.35, 0.6, 1.0):
        assert vignette_stops_at(np.array([0.0, 1.0]), corner_stops) == pytest.approx([0.0, corner_stops])
        factor = vignette_factor(HEIGHT, WIDTH, corner_stops)
        # Corner pixel centres are 0.4 % of the half-diagonal inside the corner.
        assert -np.log2(factor[[0, 0, -1, -1], [0, -1, 0, -1]]) == pytest.approx(np.full(4, corner_stops), abs=0.01)
        assert factor[HEIGHT // 2 - 1 : HEIGHT // 2 + 1, WIDTH // 2 - 1 : WIDTH // 2 + 1].min() > 0.9999
        assert factor.max() <= 1.0


def test_the_falloff_grows_steadily_from_the_centre():
    row = vignette_factor(HEIGHT, WIDTH, 0.6)[HEIGHT // 2, WIDTH // 2 :]
    assert np.all(np.diff(row) < 0.0)


@pytest.mark.parametrize("look", ["35mm", "16mm", "super8"])
def test_a_flat_grey_frame_prints_darker_in_the_corners_by_the_vignette_s_stops(look):
    frame = np.full((HEIGHT, WIDTH, 3), GREY_CODE_VALUE, dtype=np.float32)
    corner_stops = LOOKS[look].film_format.vignette_corner_stops
    image = develop(frame, look, seed=5).image
    parts = texture_parts(frame, look, seed=5)
    corner = image[:8, :8].mean(axis=(0, 1))
    centre = image[86:94, 156:164].mean(axis=(0, 1))
    loss = -np.log2(parts.vignette[:8, :8]).mean()
    assert loss == pytest.approx(corner_stops, abs=0.06)
    grey = np.full(3, GREY_CODE_VALUE, dtype=np.float32)
    assert corner == pytest.approx(colour(grey, look, exposure_stops=-loss), abs=0.006)
    assert centre == pytest.approx(colour(grey, look), abs=0.006)
    assert np.all(corner < centre - 0.03)


def test_smaller_gates_vignette_more():
    stops = [LOOKS[name].film_format.vignette_corner_stops for name in ("35mm", "16mm", "super8")]
    assert stops[0] < stops[1] < stops[2]
