"""The matrices derived from published chromaticities against colour-science's."""

import numpy as np

from engines.style.colour.primaries import (ACES_WHITE_XY, AP0_PRIMARIES_XY, AP0_TO_REC709_CAT02, D65_XY,
                                            REC709_TO_XYZ, XYZ_TO_REC709, adaptation_matrix, rgb_to_xyz_matrix)
from tests.engines.style.colour.looks import colour_science


def test_rec709_to_xyz_matches_colour_science():
    colour = colour_science()
    np.testing.assert_allclose(REC709_TO_XYZ, colour.RGB_COLOURSPACES["ITU-R BT.709"].matrix_RGB_to_XYZ, atol=1e-12)
    np.testing.assert_allclose(XYZ_TO_REC709 @ REC709_TO_XYZ, np.eye(3), atol=1e-12)


def test_white_maps_to_the_white_point_at_unit_luminance():
    white = REC709_TO_XYZ @ np.ones(3)
    np.testing.assert_allclose(white[:2] / white.sum(), D65_XY, atol=1e-12)
    assert abs(white[1] - 1.0) < 1e-12


def test_ap0_matches_colour_science():
    colour = colour_science()
    np.testing.assert_allclose(rgb_to_xyz_matrix(AP0_PRIMARIES_XY, ACES_WHITE_XY),
                               colour.RGB_COLOURSPACES["ACES2065-1"].matrix_RGB_to_XYZ, atol=1e-6)


def test_ap0_to_rec709_is_the_cat02_matrix_not_bradford():
    colour = colour_science()
    cat02 = colour.matrix_RGB_to_RGB("ACES2065-1", "ITU-R BT.709", "CAT02")
    bradford = colour.matrix_RGB_to_RGB("ACES2065-1", "ITU-R BT.709", "Bradford")
    np.testing.assert_allclose(AP0_TO_REC709_CAT02, cat02, atol=1e-9)
    assert np.abs(AP0_TO_REC709_CAT02 - bradford).max() > 1e-3
    # ACES white goes to Rec.709 white.
    np.testing.assert_allclose(AP0_TO_REC709_CAT02 @ np.ones(3), np.ones(3), atol=1e-9)


def test_adaptation_takes_one_white_to_the_other():
    colour = colour_science()
    A = adaptation_matrix(ACES_WHITE_XY, D65_XY)
    src, dst = colour.xy_to_XYZ(ACES_WHITE_XY), colour.xy_to_XYZ(D65_XY)
    np.testing.assert_allclose(A @ src, dst, atol=1e-12)
