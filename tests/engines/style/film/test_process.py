"""Development, crosstalk, retained silver and the print's timing."""

import numpy as np
import pytest

from engines.style.film import (
    BLEACH_BYPASS,
    LOOKS,
    NORMAL,
    PUSH_1,
    PUSH_2,
    SCAN,
    VISION3_500T,
    VISION_2383,
    Development,
    FilmLook,
    FilmSpecError,
    SUPER35,
    colour,
    layer_density,
)
from engines.style.film.encoding import GREY_CODE_VALUE
from engines.style.film.process import (
    GREY_PRINT_NET_DENSITY,
    crosstalk_matrix,
    developed_layers,
    grey_net_density,
    mix_matrix,
    printer_lights,
)

DEVELOPMENTS = [NORMAL, PUSH_1, PUSH_2]


def test_pushing_raises_gamma_fog_speed_and_grain_stop_by_stop():
    layers = [developed_layers(VISION3_500T, d) for d in DEVELOPMENTS]
    for channel in range(3):
        gammas = [ls[channel].gamma for ls in layers]
        fogs = [ls[channel].d_min for ls in layers]
        assert gammas[0] < gammas[1] < gammas[2]
        assert fogs[0] < fogs[1] < fogs[2]
        # Faster: more density from the same faint exposure, three stops under the grey card.
        shadow = [layer_density(ls[channel], np.array([-0.9]))[0] - ls[channel].d_min for ls in layers]
        assert shadow[0] < shadow[1] < shadow[2]
    assert NORMAL.grain_gain == 1.0 < PUSH_1.grain_gain < PUSH_2.grain_gain


def test_a_pushed_negative_underexposed_by_its_push_still_reaches_the_grey_density():
    # Rated at EI x 2^n: the speed gain makes up most, not all, of the lost stops at the grey card.
    normal = grey_net_density(developed_layers(VISION3_500T, NORMAL), NORMAL)
    for development in (PUSH_1, PUSH_2):
        pushed = grey_net_density(developed_layers(VISION3_500T, development), development)
        assert pushed == pytest.approx(normal, abs=0.06)


def test_crosstalk_keeps_neutrals_and_pulls_colours_toward_them():
    matrix = crosstalk_matrix()
    assert matrix.sum(axis=1) == pytest.approx(np.ones(3))
    assert np.all(matrix[~np.eye(3, dtype=bool)] > 0.0)
    # Magenta's unwanted blue absorption is the largest.
    assert matrix[2, 1] == matrix[~np.eye(3, dtype=bool)].max()
    red_object = np.array([1.4, 0.5, 0.4])
    mixed = matrix @ red_object
    assert np.ptp(mixed) < np.ptp(red_object)


def test_bleach_bypass_adds_a_neutral_silver_density_in_proportion_to_the_dye():
    normal, bypass = mix_matrix(NORMAL), mix_matrix(BLEACH_BYPASS)
    assert np.array_equal(normal, crosstalk_matrix())
    net = np.array([1.1, 0.7, 0.3])
    silver = bypass @ net - normal @ net
    assert silver == pytest.approx(np.full(3, 0.5 * np.mean(normal @ net)))
    assert bypass @ np.ones(3) == pytest.approx(np.full(3, 1.5))


@pytest.mark.parametrize("development", [NORMAL, PUSH_1, PUSH_2, BLEACH_BYPASS], ids=lambda d: d.name)
def test_the_printer_lights_print_the_grey_card_to_18_percent(development):
    layers = developed_layers(VISION3_500T, development)
    lights = printer_lights(layers, development, VISION_2383)
    negative = np.array([c.d_min for c in layers]) + grey_net_density(layers, development)
    for channel, curve in enumerate(VISION_2383.layers):
        printed = layer_density(curve, np.array([lights[channel] - negative[channel]]))[0]
        assert printed - curve.d_min == pytest.approx(GREY_PRINT_NET_DENSITY, abs=1e-9)


def test_a_scanned_negative_keeps_grey_and_shows_the_negative_s_gentler_contrast():
    scan = FilmLook("35mm-scan", VISION3_500T, SUPER35, NORMAL, SCAN)
    grey = np.full(3, GREY_CODE_VALUE, dtype=np.float32)
    assert colour(grey, scan) == pytest.approx(grey, abs=1e-3)
    shadows = np.full(3, 0.15, dtype=np.float32)
    # A print crushes the shadows (system contrast ~1.65); the scan, inverted with the negative's gamma, does not.
    assert colour(shadows, scan)[1] == pytest.approx(0.15, abs=0.02)
    assert colour(shadows, LOOKS["35mm"])[1] < 0.1


@pytest.mark.parametrize("push, silver", [(-1, 0.0), (4, 0.0), (0, -0.1)])
def test_impossible_developments_are_refused(push, silver):
    with pytest.raises(FilmSpecError, match=f"got {push}, {silver}"):
        Development("bad", push_stops=push, silver_retention=silver)
