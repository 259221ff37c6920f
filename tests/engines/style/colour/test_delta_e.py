"""CIEDE2000: Sharma, Wu and Dalal's published test pairs, and colour-science as referee."""

import numpy as np
import pytest

from engines.style.colour import DeltaEStats, delta_e_2000, delta_e_2000_lab, delta_e_stats, rec709_display_to_lab
from engines.style.colour.delta_e import bt1886_eotf
from engines.style.colour.errors import ColourInputError
from tests.engines.style.colour.looks import colour_science, random_colours

# Sharma, Wu, Dalal (2005), Table 1: (L1, a1, b1, L2, a2, b2, ΔE00), all 34 pairs.
SHARMA_2005 = [
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
]

# Pair 14's hues differ by exactly 180 degrees, where the mean hue jumps: the last bit of atan2
# decides between the two published branches (4.8045 and, through the other branch, 4.7461).
_ON_THE_DISCONTINUITY = {13}


def _referee(rgb_1, rgb_2):
    colour = colour_science()
    white = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]

    def lab(rgb):
        xyz = colour.RGB_to_XYZ(colour.models.eotf_BT1886(np.clip(rgb, 0, 1)), "ITU-R BT.709")
        return colour.XYZ_to_Lab(xyz, white)

    return colour.delta_E(lab(np.asarray(rgb_1, np.float64)), lab(np.asarray(rgb_2, np.float64)), method="CIE 2000")


def test_sharma_2005_pairs():
    table = np.array(SHARMA_2005)
    ours = delta_e_2000_lab(table[:, 0:3], table[:, 3:6])
    for i, (value, expected) in enumerate(zip(ours, table[:, 6])):
        if i in _ON_THE_DISCONTINUITY:
            assert value == pytest.approx(4.8045, abs=1e-4) or value == pytest.approx(4.7461, abs=1e-4)
        else:
            assert value == pytest.approx(expected, abs=1e-4), f"pair {i + 1}"


def test_sharma_2005_pairs_are_symmetric():
    table = np.array(SHARMA_2005)
    keep = [i for i in range(len(table)) if i not in _ON_THE_DISCONTINUITY]
    np.testing.assert_allclose(delta_e_2000_lab(table[keep, 0:3], table[keep, 3:6]),
                               delta_e_2000_lab(table[keep, 3:6], table[keep, 0:3]), atol=1e-12)


def test_random_colours_match_colour_science():
    a, b = random_colours(20000, seed=1).astype(np.float64), random_colours(20000, seed=2).astype(np.float64)
    np.testing.assert_allclose(delta_e_2000(a, b), _referee(a, b), rtol=1e-9, atol=1e-9)


def test_near_colours_match_colour_science():
    a = random_colours(5000, seed=3).astype(np.float64)
    b = np.clip(a + np.random.default_rng(4).normal(0.0, 0.004, a.shape), 0.0, 1.0)
    np.testing.assert_allclose(delta_e_2000(a, b), _referee(a, b), rtol=1e-9, atol=1e-9)


EDGE = np.array([
    [0, 0, 0], [1, 1, 1], [0.5, 0.5, 0.5], [0.18, 0.18, 0.18], [1, 0, 0], [0, 1, 0], [0, 0, 1],
    [1, 1, 0], [0, 1, 1], [1, 0, 1], [0.001, 0, 0], [0, 0, 0.001], [0.999, 1, 1], [0.5, 0.5, 0.51],
])


def test_edge_colours_match_colour_science_both_ways():
    i, j = np.meshgrid(np.arange(len(EDGE)), np.arange(len(EDGE)), indexing="ij")
    a, b = EDGE[i.ravel()], EDGE[j.ravel()]
    ours = delta_e_2000(a, b)
    np.testing.assert_allclose(ours, _referee(a, b), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours, delta_e_2000(b, a), atol=1e-9)


def test_identical_colours_differ_by_zero():
    a = np.concatenate([random_colours(1000, seed=5), EDGE.astype(np.float32)])
    assert np.all(delta_e_2000(a, a) == 0.0)


def test_greys_differ_by_lightness_only():
    grey = np.linspace(0.0, 1.0, 101)[:, None].repeat(3, axis=1)
    lab = rec709_display_to_lab(grey)
    np.testing.assert_allclose(lab[:, 1:], 0.0, atol=1e-9)
    assert lab[-1, 0] == pytest.approx(100.0, abs=1e-9) and lab[0, 0] == 0.0
    assert np.all(np.diff(lab[:, 0]) > 0.0)
    # Two greys: CIEDE2000 is |ΔL| / S_L.
    d = delta_e_2000(grey[40:41], grey[60:61])[0]
    L1, L2 = lab[40, 0], lab[60, 0]
    mean = (L1 + L2) / 2.0
    assert d == pytest.approx(abs(L2 - L1) / (1 + 0.015 * (mean - 50) ** 2 / np.sqrt(20 + (mean - 50) ** 2)), rel=1e-12)


def test_display_light_is_bt1886_not_the_inverse_oetf():
    assert bt1886_eotf(np.array(0.5)) == pytest.approx(0.5**2.4)
    # 18 % grey's BT.709 code value shows at 0.117 on a BT.1886 display (system gamma ~1.2).
    assert bt1886_eotf(np.array(0.409)) == pytest.approx(0.117, abs=1e-3)


def test_shapes():
    a = random_colours(24, seed=6).reshape(2, 3, 4, 3)
    assert delta_e_2000(a, a[::-1]).shape == (2, 3, 4)
    with pytest.raises(ColourInputError, match="same shape"):
        delta_e_2000(a, a[0])
    with pytest.raises(ColourInputError):
        delta_e_2000_lab(np.zeros((3, 2)), np.zeros((3, 2)))


def test_stats():
    values = np.arange(101.0)
    stats = delta_e_stats(values)
    assert stats == DeltaEStats(mean=50.0, p95=95.0, max=100.0, count=101)
    assert stats.as_dict() == {"mean": 50.0, "p95": 95.0, "max": 100.0, "count": 101}
    with pytest.raises(ColourInputError):
        delta_e_stats([])
