"""Bad input raises the package's errors, naming what was wrong."""

import numpy as np
import pytest

from engines.style.film import (
    LOOK_NAMES,
    FilmError,
    FilmInputError,
    UnknownLookError,
    colour,
    develop,
    grain_nominal,
    grain_rms,
    look_spec,
    texture_parts,
)

GOOD = np.full((8, 12, 3), 0.4, dtype=np.float32)


def test_an_unknown_look_lists_the_valid_names():
    with pytest.raises(UnknownLookError) as raised:
        develop(GOOD, "vhs")
    message = str(raised.value)
    assert "'vhs'" in message and all(name in message for name in LOOK_NAMES)
    assert isinstance(raised.value, FilmError) and isinstance(raised.value, ValueError)
    with pytest.raises(UnknownLookError, match="valid looks"):
        look_spec(None)


def test_the_looks_are_the_command_line_s_names():
    assert LOOK_NAMES == ("35mm", "16mm", "super8", "push1", "push2", "bleach-bypass")


@pytest.mark.parametrize(
    "frame, match",
    [
        ((GOOD * 255).astype(np.uint8), r"got dtype uint8 \(divide 8-bit code values by 255 first\)"),
        (GOOD.astype(np.float16), "got dtype float16"),
        (GOOD.tolist(), "must be a numpy array of code values, got list"),
        (GOOD[..., 0], r"shaped \(H, W, 3\) with H, W >= 2, got shape \(8, 12\)"),
        (np.zeros((8, 12, 4), np.float32), r"got shape \(8, 12, 4\)"),
        (np.zeros((1, 12, 3), np.float32), r"got shape \(1, 12, 3\)"),
    ],
)
def test_a_frame_of_the_wrong_type_or_shape_is_refused(frame, match):
    with pytest.raises(FilmInputError, match=match):
        develop(frame, "35mm")


def test_nan_and_out_of_range_code_values_are_refused_with_where():
    bad = GOOD.copy()
    bad[2, 3, 1] = np.nan
    bad[4, 5, 0] = np.inf
    with pytest.raises(FilmInputError, match=r"2 NaN or infinite values \(the first at index \(2, 3, 1\)\)"):
        develop(bad, "35mm")
    high = GOOD.copy()
    high[1, 2, 2] = 1.25
    with pytest.raises(FilmInputError, match=r"spans \[0.4, 1.25\] \(e.g. at index \(1, 2, 2\)\)"):
        texture_parts(high, "16mm")
    with pytest.raises(FilmInputError, match=r"spans \[-0.5, 0.4\]"):
        colour(np.array([[-0.5, 0.4, 0.4]], dtype=np.float32), "35mm")
    with pytest.raises(FilmInputError, match=r"shaped \(\.\.\., 3\)"):
        colour(np.zeros((4, 2), np.float32), "35mm")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"seed": -1}, "seed must be a whole number >= 0, got -1"),
        ({"seed": 1.5}, "got 1.5"),
        ({"seed": True}, "got True"),
        ({"exposure_stops": float("nan")}, "exposure_stops must be finite and within"),
        ({"exposure_stops": 12.0}, r"within \+-10, got 12.0"),
        ({"exposure_stops": "1"}, "exposure_stops must be a number of stops, got '1'"),
    ],
)
def test_bad_seeds_and_exposures_are_refused(kwargs, match):
    with pytest.raises(FilmInputError, match=match):
        develop(GOOD, "35mm", **kwargs)


def test_bad_measurement_and_nominal_arguments_are_refused():
    with pytest.raises(FilmInputError, match="positive whole number of pixels, got 0"):
        grain_nominal("35mm", 0)
    with pytest.raises(FilmInputError, match=r"code_value must be a number in \[0, 1\], got 2.0"):
        grain_nominal("35mm", 640, code_value=2.0)
    with pytest.raises(FilmInputError, match=r"H, W >= 4, got shape \(2, 2\)"):
        grain_rms(np.zeros((2, 2)))
