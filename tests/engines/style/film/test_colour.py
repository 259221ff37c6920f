"""The colour part: per-pixel, curves-matrix-curves, neutral on grey, and each look's tone and colour."""

import colorsys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from engines.style.film import (
    GREY_CODE_VALUE,
    GREY_LINEAR,
    LOOK_NAMES,
    bt709_inverse_oetf,
    bt709_oetf,
    colour,
    colour_curves_in,
    colour_curves_out,
    colour_matrix,
)

RAMP = np.repeat(np.linspace(0.0, 1.0, 201)[:, None], 3, axis=1).astype(np.float32)

# 12 hues x 8 values at HSV saturation 0.5: a chart of colours from near black to near white.
CHART = np.array(
    [colorsys.hsv_to_rgb(h, 0.5, v) for v in np.linspace(0.15, 0.85, 8) for h in np.arange(12) / 12.0],
    dtype=np.float32,
)

# Rec.709 / sRGB primaries, D65: linear RGB to CIE XYZ.
RGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])


def _cielab_chroma(code_values):
    xyz = bt709_inverse_oetf(code_values) @ RGB_TO_XYZ.T / RGB_TO_XYZ.sum(axis=1)
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.hypot(500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2]))


def _contrast_at_grey(look):
    """d log10(output linear) / d log10(input linear) of a neutral at the grey card."""
    step = 0.01
    grey = bt709_oetf(GREY_LINEAR * 10.0 ** np.array([-step, step]))
    out = bt709_inverse_oetf(colour(np.repeat(grey[:, None], 3, axis=1), look))
    return np.diff(np.log10(out), axis=0)[0] / (2 * step)


@pytest.mark.parametrize("look", LOOK_NAMES)
def test_the_grey_card_prints_to_the_grey_it_came_in_as(look):
    out = colour(np.full(3, GREY_CODE_VALUE, dtype=np.float32), look)
    assert out == pytest.approx([GREY_CODE_VALUE] * 3, abs=0.002)


@pytest.mark.parametrize("look, tolerance", [("35mm", 0.01), ("push1", 0.01), ("push2", 0.01), ("bleach-bypass", 0.02)])
def test_a_grey_ramp_stays_neutral(look, tolerance):
    # Channel spread (max - min code value) of each step: 0.01 is 2.5 steps of 8 bits.
    out = colour(RAMP, look)
    assert np.max(out.max(axis=1) - out.min(axis=1)) <= tolerance


@pytest.mark.parametrize("look", LOOK_NAMES)
def test_tones_keep_their_order_and_the_output_is_float32_in_0_1(look):
    out = colour(RAMP, look)
    assert out.dtype == np.float32 and out.shape == RAMP.shape
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert np.all(np.diff(out, axis=0) >= 0.0)
    # A print shows a film black and a film white: within 1 % of the display's range, not clipped.
    assert 0.0 < out[0].max() < 0.01 and 0.98 < out[-1].min() < 1.0


def test_more_exposure_prints_brighter():
    grey = np.full(3, GREY_CODE_VALUE, dtype=np.float32)
    under, normal, over = (colour(grey, "35mm", exposure_stops=s)[1] for s in (-1.0, 0.0, 1.0))
    assert under < normal - 0.05 and over > normal + 0.05


def test_colour_is_per_pixel_shuffling_pixels_commutes_with_it():
    rng = np.random.default_rng(7)
    pixels = rng.random((5000, 3)).astype(np.float32)
    order = rng.permutation(len(pixels))
    for look in ("35mm", "bleach-bypass"):
        assert np.array_equal(colour(pixels[order], look), colour(pixels, look)[order])
        frame = pixels.reshape(50, 100, 3)
        assert np.array_equal(colour(frame, look).reshape(-1, 3), colour(pixels, look))


@settings(max_examples=25, deadline=None)
@given(
    hnp.arrays(
        np.float32,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=6).map(lambda s: (*s, 3)),
        elements=st.floats(0.0, 1.0, width=32),
    ),
    st.sampled_from(LOOK_NAMES),
)
def test_colour_takes_any_shape_ending_in_3_and_keeps_it(rgb, look):
    out = colour(rgb, look)
    assert out.shape == rgb.shape and out.dtype == np.float32
    assert np.all((out >= 0.0) & (out <= 1.0))
    # Each pixel on its own gives the same answer.
    assert np.array_equal(out.reshape(-1, 3)[:1], colour(rgb.reshape(-1, 3)[:1], look))


@pytest.mark.parametrize("look", LOOK_NAMES)
def test_colour_is_curves_then_a_3x3_mix_then_curves(look):
    rng = np.random.default_rng(3)
    rgb = rng.random((2000, 3)).astype(np.float32)
    net = colour_curves_in(rgb, look)
    matrix = colour_matrix(look)
    assert matrix.shape == (3, 3)
    assert np.array_equal(colour(rgb, look), colour_curves_out(net @ matrix.T, look).astype(np.float32))
    # Both curve stages are per channel: changing one input channel changes that output channel only.
    changed = rgb.copy()
    changed[:, 0] = rng.random(len(rgb)).astype(np.float32)
    moved_in = colour_curves_in(changed, look) != net
    assert moved_in[:, 0].any() and not moved_in[:, 1:].any()
    density = net @ matrix.T
    other = density.copy()
    other[:, 2] += 0.1
    moved_out = colour_curves_out(other, look) != colour_curves_out(density, look)
    assert moved_out[:, 2].any() and not moved_out[:, :2].any()


def test_push_raises_the_contrast_by_the_push_gamma():
    normal, push1, push2 = (_contrast_at_grey(look) for look in ("35mm", "push1", "push2"))
    assert np.all(normal > 1.5)  # a print's system contrast: negative gamma ~0.6 x print ~2.75
    assert push1 / normal == pytest.approx(np.full(3, 1.12), rel=0.02)
    assert push2 / normal == pytest.approx(np.full(3, 1.24), rel=0.02)


def test_bleach_bypass_raises_contrast_and_lowers_chroma():
    assert _contrast_at_grey("bleach-bypass") / _contrast_at_grey("35mm") == pytest.approx(np.full(3, 1.5), rel=0.03)
    normal, bypass = (_cielab_chroma(colour(CHART, look)) for look in ("35mm", "bleach-bypass"))
    assert bypass.mean() < 0.9 * normal.mean()
    # Colours darker than grey lose chroma as they darken; lighter ones as the print's toe takes them.
    value = CHART.max(axis=1)
    assert bypass[value < 0.3].mean() < 0.6 * normal[value < 0.3].mean()
    assert bypass[value > 0.8].mean() < 0.85 * normal[value > 0.8].mean()


def test_the_format_looks_share_one_colour():
    assert np.array_equal(colour(CHART, "35mm"), colour(CHART, "16mm"))
    assert np.array_equal(colour(CHART, "35mm"), colour(CHART, "super8"))
