"""The texture part: the vignette's gain, halation's threshold, channels and spread, grain's statistics."""

import math

import numpy as np
import pytest

from engines.style.film import grain_correlation, grain_power_spectrum
from engines.style.model.texture import (
    NO_HALATION, NO_VIGNETTE, Grain, Halation, Vignette, apply_grain, apply_halation, apply_vignette, grain_noise,
    radius_map,
)
from tests.engines.style.model import synth
from tests.engines.style.model.synth import (
    CHANNEL_CORRELATION, FLAT_GRAIN, LOW_PASS_GRAIN, PSD_FREQ, RMS_LEVELS, RMS_TABLE,
)


def test_radius_map_is_the_distance_over_the_half_diagonal():
    np.testing.assert_allclose(radius_map(180, 320), synth.radius_of(180, 320), atol=1e-12)
    r = radius_map(4, 6)
    assert r.max() == pytest.approx(math.hypot(2.5, 1.5) / math.hypot(3.0, 2.0))
    np.testing.assert_array_equal(r, r[::-1, ::-1])


def test_vignette_gain_is_one_at_the_centre_and_exp_a_plus_b_at_the_corner():
    a, b = -0.5, 0.15
    gain = apply_vignette(np.ones((180, 320, 3)), Vignette(a, b))[..., 1]
    assert gain[89:91, 159:161] == pytest.approx(1.0, abs=1e-4)
    r_corner = math.hypot(159.5, 89.5) / math.hypot(160.0, 90.0)
    assert gain[0, 0] == pytest.approx(math.exp(a * r_corner ** 2 + b * r_corner ** 4), rel=1e-12)
    assert gain[-1, -1] == pytest.approx(math.exp(a + b), rel=0.005)
    np.testing.assert_allclose(gain, gain[::-1, ::-1], rtol=1e-12)
    assert (np.diff(gain[90, 160:]) < 0).all()  # darker towards the edge


def test_no_vignette_leaves_light_alone():
    lin = np.random.default_rng(1).random((20, 30, 3))
    assert apply_vignette(lin, NO_VIGNETTE) is lin


def _lamp_frame(height: int, width: int, lamp: float = 4.0) -> np.ndarray:
    """Dim grey light with a lamp of ``width / 320`` pixels square at the centre (the same size on the frame)."""
    lin = np.full((height, width, 3), 0.05)
    s = width // 320
    lin[height // 2:height // 2 + s, width // 2:width // 2 + s] = lamp
    return lin


def test_halation_adds_nothing_below_its_threshold():
    lin = np.random.default_rng(2).random((60, 80, 3)) * np.array([0.49, 3.0, 3.0])  # only green and blue bright
    halation = Halation(threshold=0.5, sigma_frac=0.02, gain_rgb=(0.3, 0.1, 0.05))
    np.testing.assert_array_equal(apply_halation(lin, halation), lin)
    np.testing.assert_array_equal(apply_halation(_lamp_frame(90, 320), NO_HALATION), _lamp_frame(90, 320))


def test_halation_returns_the_red_over_threshold_in_each_channel_by_its_gain():
    lin = _lamp_frame(180, 320)
    halation = Halation(threshold=1.0, sigma_frac=0.015, gain_rgb=(0.3, 0.06, 0.0))
    added = (apply_halation(lin, halation) - lin).reshape(-1, 3).sum(axis=0)
    source = 4.0 - 1.0  # one pixel of red light over the threshold
    # The spread sums to one: all the over-threshold light comes back, times each channel's gain.
    assert added == pytest.approx([0.3 * source, 0.06 * source, 0.0], rel=1e-3, abs=1e-9)


def _halo_sigma_px(height: int, width: int, sigma_frac: float) -> float:
    lin = _lamp_frame(height, width)
    added = (apply_halation(lin, Halation(1.0, sigma_frac, (0.25, 0.0, 0.0))) - lin)[..., 0]
    x = np.arange(width) + 0.5
    profile = added.sum(axis=0)
    centre = (profile * x).sum() / profile.sum()
    lamp_var = ((width // 320) ** 2 - 1) / 12.0  # the lamp's own width, uniform over its pixels
    return math.sqrt((profile * (x - centre) ** 2).sum() / profile.sum() - lamp_var)


def test_the_halo_keeps_its_size_on_the_frame_at_any_resolution():
    sigma_frac = 0.02
    small, large = _halo_sigma_px(180, 320, sigma_frac), _halo_sigma_px(360, 640, sigma_frac)
    assert small == pytest.approx(sigma_frac * 320, rel=0.03)
    assert large == pytest.approx(sigma_frac * 640, rel=0.03)
    assert small / 320 == pytest.approx(large / 640, rel=0.03)


def test_grain_noise_has_unit_variance_and_the_channel_correlation():
    noise = grain_noise(180, 320, LOW_PASS_GRAIN, seed=3)
    assert noise.shape == (180, 320, 3)
    flat = noise.reshape(-1, 3)
    np.testing.assert_allclose(flat.std(axis=0), 1.0, atol=0.02)
    np.testing.assert_allclose(np.corrcoef(flat.T), CHANNEL_CORRELATION, atol=0.05)
    white = grain_noise(180, 320, FLAT_GRAIN, seed=3).reshape(-1, 3)
    np.testing.assert_allclose(np.corrcoef(white.T), CHANNEL_CORRELATION, atol=0.02)


def test_a_low_pass_spectrum_makes_clumps():
    flat = grain_correlation(grain_noise(180, 320, FLAT_GRAIN, seed=4), detrend=False)
    low = grain_correlation(grain_noise(180, 320, LOW_PASS_GRAIN, seed=4), detrend=False)
    assert np.abs(flat).max() < 0.05
    assert (low > 0.5).all() and (low > flat + 0.4).all()


def test_grain_noise_follows_the_power_spectrum():
    nu, power = grain_power_spectrum(grain_noise(360, 640, LOW_PASS_GRAIN, seed=11), bins=16, detrend=False)
    measured = power.mean(axis=1)
    # 640 px wide against the grain's 320: the frame's frequency nu is the grain's 2 nu.
    expected = np.interp(2.0 * nu, PSD_FREQ, LOW_PASS_GRAIN.psd[0], right=0.0)
    keep = expected > 0.02 * expected.max()
    measured, expected = measured[keep] / measured[keep].sum(), expected[keep] / expected[keep].sum()
    assert np.abs(measured - expected).sum() < 0.1, (measured, expected)


def test_the_grain_keeps_its_size_on_a_wider_frame():
    # Twice the pixels across, the same grain on the frame: a clump is twice as wide, so the
    # correlation two pixels apart on the wide frame is that one pixel apart at the grain's width.
    def horizontal(noise: np.ndarray, lag: int) -> float:
        return float(np.mean(noise[:, lag:] * noise[:, :-lag]) / np.mean(noise * noise))

    at_ref = horizontal(grain_noise(180, 320, LOW_PASS_GRAIN, seed=5), 1)
    wider = horizontal(grain_noise(360, 640, LOW_PASS_GRAIN, seed=5), 2)
    assert wider == pytest.approx(at_ref, abs=0.03)
    assert horizontal(grain_noise(360, 640, LOW_PASS_GRAIN, seed=5), 1) > at_ref + 0.05


def test_grain_noise_is_the_same_for_a_seed_and_new_for_another():
    one, again, other = (grain_noise(40, 64, LOW_PASS_GRAIN, seed=s) for s in (6, 6, 7))
    np.testing.assert_array_equal(one, again)
    assert np.abs(np.corrcoef(one.ravel(), other.ravel())[0, 1]) < 0.1


@pytest.mark.parametrize("level", [0.0, 0.25, 0.4, 0.5, 0.9])
def test_apply_grain_follows_the_rms_table_by_level(level):
    y = np.full((180, 320, 3), level)
    grained = apply_grain(y, FLAT_GRAIN, seed=8)
    expected = [np.interp(level, RMS_LEVELS, RMS_TABLE[c]) for c in range(3)]
    assert (grained - y).reshape(-1, 3).std(axis=0) == pytest.approx(expected, rel=0.03)


def test_apply_grain_uses_the_noise_given():
    y = np.full((10, 12, 3), 0.5)
    noise = np.random.default_rng(9).standard_normal((10, 12, 3))
    at_half = RMS_TABLE[:, 2]
    np.testing.assert_allclose(apply_grain(y, FLAT_GRAIN, seed=0, noise=noise), y + at_half * noise, atol=1e-15)
    made_here = grain_noise(10, 12, FLAT_GRAIN, seed=10)
    np.testing.assert_array_equal(apply_grain(y, FLAT_GRAIN, seed=10), y + at_half * made_here)


def test_grain_round_trips_through_its_dict():
    back = Grain.from_dict(LOW_PASS_GRAIN.to_dict())
    for name in ("levels", "rms", "correlation", "psd_freq", "psd"):
        np.testing.assert_array_equal(getattr(back, name), getattr(LOW_PASS_GRAIN, name))
    assert back.ref_width_px == 320


def test_each_channel_keeps_its_own_spectrum():
    # The layers' clumps differ in size: red coarse, green finer, blue white.
    psd = np.stack([np.exp(-((PSD_FREQ / 0.08) ** 2)), np.exp(-((PSD_FREQ / 0.2) ** 2)), np.ones_like(PSD_FREQ)])
    grain = Grain(RMS_LEVELS, RMS_TABLE, np.eye(3), PSD_FREQ, psd, 640)
    lag_one = grain_correlation(grain_noise(360, 640, grain, seed=3), detrend=False)
    assert lag_one[0] > lag_one[1] + 0.2 and lag_one[1] > lag_one[2] + 0.2 and abs(lag_one[2]) < 0.03
