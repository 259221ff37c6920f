"""Input encodings: OpenColorIO's path against colour-science's independent curves and matrices,
and the rendering to Rec.709 display-referred."""

import numpy as np
import pytest

from engines.style.colour import ENCODINGS, UnknownEncodingError, decode_to_linear_rec709, to_look_domain
from engines.style.colour.encodings import (ENCODING_INFO, MID_GREY_LINEAR, SHOULDER_KNEE_LINEAR, _exposure_gain,
                                            bt709_oetf, render_to_display)
from engines.style.colour.errors import ColourInputError
from tests.engines.style.colour.looks import colour_science, random_colours

LOG_ENCODINGS = ["logc3", "logc4", "slog3"]

# colour-science's decoding and gamut of each log encoding (the referee).
_REFEREE = {
    "logc3": ("log_decoding_ARRILogC3", "ARRI Wide Gamut 3"),
    "logc4": ("log_decoding_ARRILogC4", "ARRI Wide Gamut 4"),
    "slog3": ("log_decoding_SLog3", "S-Gamut3.Cine"),
}


def _referee_linear(codes: np.ndarray, encoding: str) -> np.ndarray:
    colour = colour_science()
    decode, gamut = _REFEREE[encoding]
    linear = getattr(colour.models, decode)(codes.astype(np.float64))
    return colour.RGB_to_RGB(linear, gamut, "ITU-R BT.709", chromatic_adaptation_transform=None)


def _referee_display(codes: np.ndarray, encoding: str) -> np.ndarray:
    colour = colour_science()
    decode, _ = _REFEREE[encoding]
    gain = MID_GREY_LINEAR / getattr(colour.models, decode)(ENCODING_INFO[encoding].grey_code_value)
    lin = np.maximum(_referee_linear(codes, encoding) * gain, 0.0)
    k = SHOULDER_KNEE_LINEAR
    d = np.maximum(lin - k, 0.0) / (1.0 - k)
    return colour.models.oetf_BT709(np.where(lin > k, k + (1.0 - k) * d / (1.0 + d), lin))


def test_the_encodings_are_the_four_offered():
    assert ENCODINGS == ("rec709", "logc3", "logc4", "slog3")


@pytest.mark.parametrize("encoding", LOG_ENCODINGS)
def test_grey_axis_matches_colour_science_within_1e4_relative(encoding):
    codes = np.repeat(np.linspace(0.0, 1.0, 1024, dtype=np.float32)[:, None], 3, axis=1)
    ours = decode_to_linear_rec709(codes, encoding).astype(np.float64)
    ref = _referee_linear(codes, encoding)
    relative = np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-3)
    assert relative.max() < 1e-4, relative.max()


@pytest.mark.parametrize("encoding", LOG_ENCODINGS)
def test_colours_match_colour_science_within_2e5_of_their_largest_channel(encoding):
    codes = random_colours(4096, seed=11)
    ours = decode_to_linear_rec709(codes, encoding).astype(np.float64)
    ref = _referee_linear(codes, encoding)
    error = np.abs(ours - ref).max(axis=1) / np.abs(ref).max(axis=1)
    # Through Bradford instead of CAT02 for the ACES white this error is 7e-3.
    assert error.max() < 2e-5, error.max()


@pytest.mark.parametrize("encoding", LOG_ENCODINGS)
def test_display_values_match_the_referee_rendering(encoding):
    codes = np.concatenate([random_colours(4096, seed=12), np.linspace(0, 1, 64, dtype=np.float32)[:, None]
                            .repeat(3, axis=1)])
    ours = to_look_domain(codes, encoding)
    assert ours.dtype == np.float32 and ours.shape == codes.shape
    assert np.abs(ours - _referee_display(codes, encoding)).max() < 5e-4


@pytest.mark.parametrize("encoding", LOG_ENCODINGS)
def test_eighteen_percent_grey_lands_where_the_simulated_camera_puts_it(encoding):
    grey = np.full((1, 3), ENCODING_INFO[encoding].grey_code_value, dtype=np.float32)
    assert decode_to_linear_rec709(grey, encoding) == pytest.approx(np.full((1, 3), 0.18), rel=1e-4)
    assert _exposure_gain(encoding) == pytest.approx(1.0, abs=1e-4)
    assert to_look_domain(grey, encoding) == pytest.approx(np.full((1, 3), 1.099 * 0.18**0.45 - 0.099), abs=1e-5)


@pytest.mark.parametrize("encoding", LOG_ENCODINGS)
def test_grey_axis_renders_monotone_neutral_and_inside_the_unit_range(encoding):
    codes = np.repeat(np.linspace(0.0, 1.0, 2048, dtype=np.float32)[:, None], 3, axis=1)
    out = to_look_domain(codes, encoding)
    assert np.all(np.diff(out[:, 1]) >= 0.0)
    assert np.abs(out - out[:, 1:2]).max() < 2e-5  # grey stays grey
    assert out.min() >= 0.0 and out.max() < 1.0


def test_rec709_is_the_identity():
    codes = random_colours(100, seed=3).reshape(10, 10, 3)
    out = to_look_domain(codes, "rec709")
    np.testing.assert_array_equal(out, codes)
    assert out is not codes


def test_shoulder_is_the_identity_below_the_knee_and_continuous_above():
    lin = np.linspace(0.0, SHOULDER_KNEE_LINEAR, 50)[:, None].repeat(3, axis=1)
    np.testing.assert_allclose(render_to_display(lin), bt709_oetf(lin), atol=1e-7)
    assert render_to_display(np.full((1, 3), 1.0))[0, 0] == pytest.approx(bt709_oetf(np.float32(0.9)), abs=1e-6)
    k, h = SHOULDER_KNEE_LINEAR, 1e-3
    below, at, above = render_to_display(np.array([[k - h] * 3, [k] * 3, [k + h] * 3]))[:, 0]
    assert (above - at) == pytest.approx(at - below, rel=0.01)  # the slope carries through the knee
    highlights = render_to_display(np.geomspace(0.5, 1000.0, 2000)[:, None].repeat(3, axis=1))[:, 0]
    assert np.all(np.diff(highlights) >= 0.0) and highlights.max() < 1.0


def test_bt709_oetf_values():
    np.testing.assert_allclose(bt709_oetf(np.array([0.0, 0.01, 0.018, 0.18, 1.0])),
                               colour_science().models.oetf_BT709(np.array([0.0, 0.01, 0.018, 0.18, 1.0])), atol=1e-6)


def test_shapes_are_kept():
    out = to_look_domain(np.full((2, 3, 4, 3), 0.4), "logc4")
    assert out.shape == (2, 3, 4, 3)
    assert to_look_domain(np.zeros((0, 3)), "slog3").shape == (0, 3)


@pytest.mark.parametrize("bad", ["logc", "LOGC3", "rec.709", "", None, 3])
def test_unknown_encoding_lists_the_valid_ones(bad):
    with pytest.raises(UnknownEncodingError) as info:
        to_look_domain(np.zeros((1, 3)), bad)
    for name in ENCODINGS:
        assert name in str(info.value)
    assert isinstance(info.value, ValueError)


def test_rec709_has_no_decoding_to_linear():
    with pytest.raises(UnknownEncodingError, match="logc3, logc4, slog3"):
        decode_to_linear_rec709(np.zeros((1, 3)), "rec709")


@pytest.mark.parametrize("bad", [np.zeros((4, 2)), np.zeros(()), [[0.1, np.nan, 0.2]], [["a", "b", "c"]]])
def test_bad_arrays_are_refused(bad):
    with pytest.raises(ColourInputError):
        to_look_domain(bad, "logc3")
