"""Grain: Selwyn's law, size by gate, density and push, what the looks' nominal figures promise."""

import dataclasses
import math

import numpy as np
import pytest

from engines.style.film import (
    GREY_CODE_VALUE,
    LOOKS,
    SUPER8,
    SUPER16,
    SUPER35,
    develop,
    grain_correlation,
    grain_nominal,
    grain_power_spectrum,
    grain_rms,
    nominal_power_spectrum,
    pixel_pitch_um,
    pixel_rms_density,
    texture_parts,
)
from engines.style.film.grain import FOG_GRAIN_DENSITY, pixel_integral, selwyn_granularity, unit_grain_fields

HEIGHT, WIDTH = 360, 640
FORMAT_LOOKS = ("35mm", "16mm", "super8")


def _flat(code_value=GREY_CODE_VALUE, shape=(HEIGHT, WIDTH)):
    return np.full((*shape, 3), code_value, dtype=np.float32)


def _without_vignette(name):
    look = LOOKS[name]
    return dataclasses.replace(look, film_format=dataclasses.replace(look.film_format, vignette_corner_stops=0.0))


@pytest.fixture(scope="module")
def flat_tests():
    """The grain of each format look and of push2 on a flat grey field (no vignette), seed 11."""
    return {name: develop(_flat(), _without_vignette(name), seed=11).image for name in (*FORMAT_LOOKS, "push2")}


def test_selwyn_granularity_comes_from_the_48_um_aperture():
    assert selwyn_granularity(7.0) == pytest.approx(0.007 * math.sqrt(math.pi * 24.0**2))


def test_pixel_rms_follows_selwyn_for_small_grains_and_saturates_for_large_ones():
    s = selwyn_granularity(7.0)
    # Clumps far below a pixel: sigma = S / pitch, the pixel's area in Selwyn's law.
    assert pixel_rms_density(7.0, 0.01, 40.0) == pytest.approx(s / 40.0, rel=1e-3)
    assert pixel_rms_density(7.0, 0.01, 10.0) == pytest.approx(4.0 * pixel_rms_density(7.0, 0.01, 40.0), rel=1e-3)
    # Clumps far above a pixel: the field itself, S / (2 sqrt(pi) sigma_g), whatever the pixel.
    assert pixel_rms_density(7.0, 50.0, 1.0) == pytest.approx(s / (2.0 * math.sqrt(math.pi) * 50.0), rel=1e-3)
    assert pixel_integral(0.0) == 1.0


def test_unit_fields_have_unit_variance_and_are_seeded():
    a = unit_grain_fields((HEIGHT, WIDTH), 0.5, np.random.default_rng(1))
    b = unit_grain_fields((HEIGHT, WIDTH), 0.5, np.random.default_rng(1))
    assert a.shape == (HEIGHT, WIDTH, 3)
    assert np.array_equal(a, b)
    assert grain_rms(a, detrend=False) == pytest.approx(np.ones(3), rel=0.02)
    # Independent layers.
    assert abs(np.corrcoef(a[..., 0].ravel(), a[..., 1].ravel())[0, 1]) < 0.02


def test_grain_is_coarser_in_pixels_as_the_gate_shrinks():
    pitches = [pixel_pitch_um(f, WIDTH) for f in (SUPER35, SUPER16, SUPER8)]
    assert pitches == pytest.approx([38.89, 19.56, 9.05], abs=0.01)
    nominal = [grain_nominal(name, WIDTH) for name in FORMAT_LOOKS]
    sizes = [n.clump_sigma_px for n in nominal]
    assert sizes == pytest.approx([5.0 / p for p in pitches])
    assert sizes[0] < sizes[1] < sizes[2]
    assert nominal[0].correlation < nominal[1].correlation < nominal[2].correlation


def test_measured_grain_rms_and_correlation_grow_as_the_gate_shrinks(flat_tests):
    rms = [grain_rms(flat_tests[name], detrend=False).mean() for name in FORMAT_LOOKS]
    correlation = [grain_correlation(flat_tests[name], detrend=False).mean() for name in FORMAT_LOOKS]
    assert rms[0] < rms[1] < rms[2]
    assert rms[2] > 2.0 * rms[0]
    assert correlation[0] < 0.15 and correlation[0] + 0.05 < correlation[1] and correlation[1] + 0.2 < correlation[2]


@pytest.mark.parametrize("name", [*FORMAT_LOOKS, "push2"])
def test_measured_grain_matches_the_nominal_figures(flat_tests, name):
    nominal = grain_nominal(name, WIDTH)
    image = flat_tests[name]
    assert grain_rms(image, detrend=False) == pytest.approx(nominal.rms_code_value, rel=0.04)
    assert grain_correlation(image, detrend=False) == pytest.approx(np.full(3, nominal.correlation), abs=0.02)
    nu, measured = grain_power_spectrum(image, bins=8, detrend=False)
    nu_expected, expected = nominal_power_spectrum(nominal, (HEIGHT, WIDTH), bins=8)
    assert np.array_equal(nu, nu_expected)
    assert measured == pytest.approx(expected, rel=0.10)


def test_push_raises_the_grain(flat_tests):
    assert grain_nominal("push1", WIDTH).rms_density_at_one == pytest.approx(
        1.2 * grain_nominal("35mm", WIDTH).rms_density_at_one
    )
    assert np.all(grain_rms(flat_tests["push2"], detrend=False) > 1.2 * grain_rms(flat_tests["35mm"], detrend=False))


def test_grain_rms_in_density_follows_the_square_root_of_density():
    look = _without_vignette("16mm")
    rms = {}
    for code_value in (0.05, GREY_CODE_VALUE, 0.9):
        grain = texture_parts(_flat(code_value, (180, 320)), look, seed=2).grain
        rms[code_value] = (grain_rms(grain, detrend=False), grain_nominal(look, 320, code_value).rms_density)
    for measured, nominal in rms.values():
        assert measured == pytest.approx(nominal, rel=0.04)
    dark, grey, bright = (rms[v][1][1] for v in (0.05, GREY_CODE_VALUE, 0.9))
    assert dark < grey < bright
    assert dark > math.sqrt(FOG_GRAIN_DENSITY / (1 + FOG_GRAIN_DENSITY)) * grain_nominal(look, 320).rms_density_at_one


def test_the_spectrum_of_white_noise_is_flat_at_its_variance():
    noise = np.random.default_rng(4).normal(0.0, 0.1, (256, 256))
    nu, power = grain_power_spectrum(noise, bins=8)
    assert nu == pytest.approx((np.arange(8) + 0.5) / 16)
    assert power[1:] == pytest.approx(np.full(7, 0.01), rel=0.08)
    assert float(grain_rms(noise)) == pytest.approx(0.1, rel=0.01)
    assert float(grain_correlation(noise)) == pytest.approx(0.0, abs=0.01)


def test_detrending_takes_a_smooth_vignette_out_of_the_grain():
    y, x = np.mgrid[-1:1:128j, -1:1:128j]
    noise = np.random.default_rng(5).normal(0.0, 0.01, (128, 128))
    field = noise + 0.05 * (x**2 + y**2)
    assert float(grain_rms(field)) == pytest.approx(0.01, rel=0.03)
    assert float(grain_rms(field, detrend=False)) > 0.02
