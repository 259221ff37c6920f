"""Texture estimated from synthetic pairs whose halation and grain are known."""

import numpy as np
import pytest

from engines.style.film import grain_correlation
from engines.style.model.colour import apply_colour
from engines.style.model.estimate import (
    GRAIN_LEVELS, HALATION_SIGMAS, HALATION_THRESHOLDS, MIN_BIN_SAMPLES, TexturePair, estimate_grain,
    estimate_halation,
)
from engines.style.model.texture import (
    NO_HALATION, NO_VIGNETTE, Grain, Halation, Vignette, apply_grain, apply_halation, apply_vignette, grain_noise,
    to_display, to_linear,
)
from tests.engines.style.model import synth
from tests.engines.style.model.synth import CHANNEL_CORRELATION, COLOUR, PSD_FREQ

HEIGHT, WIDTH = 180, 320
FULL = np.ones((HEIGHT, WIDTH), bool)
#: A grain whose RMS differs by channel and level (gently: a 16-bin table can follow it) and whose
#: spectrum is low-pass (clumps of a few pixels).
GRAIN_LEVELS_TRUE = np.array([0.0, 0.3, 0.6, 1.0])
GRAIN_RMS_TRUE = np.array([[0.012, 0.016, 0.018, 0.014], [0.008, 0.010, 0.012, 0.010], [0.020, 0.024, 0.026, 0.022]])
GRAIN = Grain(GRAIN_LEVELS_TRUE, GRAIN_RMS_TRUE, CHANNEL_CORRELATION, PSD_FREQ,
              np.exp(-((PSD_FREQ / 0.15) ** 2)), WIDTH)


#: The lamps' peaks, scene-linear R, G, B: red over every candidate threshold by different amounts,
#: and a cyan lamp whose green and blue are bright and whose red is not (it makes no halo).
LAMPS = ((0.45, 0.4, 0.3), (0.6, 0.5, 0.5), (0.8, 0.7, 0.5), (1.0, 1.0, 1.0), (0.2, 1.0, 0.9))


def _lamps(seed: int) -> np.ndarray:
    """A dim scene with glowing lamps (:data:`LAMPS`)."""
    rng = np.random.default_rng(seed)
    lin = to_linear(synth.scene(HEIGHT, WIDTH, seed, exposure=0.35))
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    for peak in LAMPS:
        cy, cx = rng.integers(30, HEIGHT - 30), rng.integers(40, WIDTH - 40)
        glow = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rng.uniform(20, 60)))
        lin = np.maximum(lin, glow[..., None] * np.array(peak))
    return to_display(lin)


def _haloed_pairs(halation: Halation, vignette: Vignette = NO_VIGNETTE, grain=None):
    pairs = []
    for seed in range(3):
        control = _lamps(seed)
        test = apply_colour(to_display(apply_halation(apply_vignette(to_linear(control), vignette), halation)), COLOUR)
        if grain is not None:
            test = apply_grain(test.astype(np.float64), grain, seed=seed)
        pairs.append(TexturePair(control, test, FULL))
    return pairs


@pytest.mark.parametrize("truth", [
    Halation(0.5, 0.015, (0.35, 0.08, 0.02)),
    Halation(0.66, 0.025, (0.4, 0.1, 0.03)),
])
def test_a_known_halation_is_recovered(truth):
    found, note = estimate_halation(_haloed_pairs(truth), COLOUR, NO_VIGNETTE)
    # Measured: (0.5, 0.015, R 0.35) -> (0.51, 0.0181, R 0.370); (0.66, 0.025, R 0.40) -> (0.66, 0.0269, R 0.395).
    assert note is None
    nearest = min(HALATION_THRESHOLDS, key=lambda t: abs(t - truth.threshold))
    assert found.threshold == nearest
    assert found.sigma_frac in HALATION_SIGMAS and 1 / 1.5 < found.sigma_frac / truth.sigma_frac < 1.5
    assert found.gain_rgb[0] == pytest.approx(truth.gain_rgb[0], rel=0.3)
    assert found.gain_rgb[0] > 3 * max(found.gain_rgb[1:])  # red returns most


def test_a_strong_halos_gains_are_finished():
    # The least-squares gains are linear in a small halo; the Gauss-Newton steps finish a strong one.
    truth = Halation(0.36, 0.02, (1.0, 0.3, 0.05))
    found, _ = estimate_halation(_haloed_pairs(truth), COLOUR, NO_VIGNETTE)
    # Measured: R 1.02, G 0.297, B 0.050 (R 0.92 from the least squares alone).
    assert found.threshold == 0.36
    assert found.gain_rgb == pytest.approx(truth.gain_rgb, rel=0.05, abs=0.005)


def test_halation_is_found_through_a_vignette_and_grain():
    truth, vignette = Halation(0.5, 0.015, (0.35, 0.08, 0.02)), Vignette(-0.3, 0.05)
    found, note = estimate_halation(_haloed_pairs(truth, vignette, GRAIN), COLOUR, vignette)
    assert note is None and found.threshold == 0.51
    assert 1 / 1.5 < found.sigma_frac / truth.sigma_frac < 1.5
    assert found.gain_rgb[0] == pytest.approx(truth.gain_rgb[0], rel=0.3)


def test_pairs_without_highlights_show_no_halation():
    dark = synth.scene(HEIGHT, WIDTH, 9, exposure=0.2)  # nothing over 0.25 scene-linear
    found, note = estimate_halation([TexturePair(dark, apply_colour(dark, COLOUR), FULL)], COLOUR, NO_VIGNETTE)
    assert found == NO_HALATION
    assert note == "no light over 0.25 (scene-linear red) in the pairs: halation not seen"


def test_highlights_without_a_halo_show_no_halation():
    # Lamps, but the test has grain and no halo. (Without any grain, the 2x2 means' own error at
    # the lamps' edges, a few 1e-4, is "explained" by a blue halo of gain 0.002.)
    pairs = _haloed_pairs(Halation(1.0, 0.0, (0.0, 0.0, 0.0)), grain=GRAIN)
    found, note = estimate_halation(pairs, COLOUR, NO_VIGNETTE)
    assert found == NO_HALATION and note == "the pairs' highlights show no halo that explains them"


@pytest.fixture(scope="module")
def grain_pairs():
    """Four scenes from dark to bright; each test is the colour of its control plus the known grain."""
    pairs = []
    for seed, exposure in enumerate((0.25, 0.6, 1.2, 2.5)):
        control = synth.scene(HEIGHT, WIDTH, seed, exposure)
        test = apply_grain(apply_colour(control, COLOUR).astype(np.float64), GRAIN, seed=seed)
        pairs.append(TexturePair(control, test, FULL))
    return pairs


@pytest.fixture(scope="module")
def estimated(grain_pairs) -> Grain:
    return estimate_grain(grain_pairs, COLOUR, NO_VIGNETTE, NO_HALATION)


def test_the_grains_rms_table_is_recovered(grain_pairs, estimated):
    assert estimated.levels.shape == (GRAIN_LEVELS,) and estimated.rms.shape == (3, GRAIN_LEVELS)
    predicted = np.concatenate([apply_colour(p.control, COLOUR).reshape(-1, 3) for p in grain_pairs])
    edges = np.linspace(0.0, 1.0, GRAIN_LEVELS + 1)
    for c in range(3):
        counts = np.bincount(np.clip(np.digitize(predicted[:, c], edges) - 1, 0, GRAIN_LEVELS - 1),
                             minlength=GRAIN_LEVELS)
        seen = counts >= MIN_BIN_SAMPLES
        truth = np.interp(estimated.levels[seen], GRAIN_LEVELS_TRUE, GRAIN_RMS_TRUE[c])
        # Measured: within 12.1 % in every bin with samples enough (the grain is read on flat
        # tiles only, so a bin holds fewer samples than the frame has pixels of that level).
        np.testing.assert_allclose(estimated.rms[c, seen], truth, rtol=0.15, err_msg=f"channel {c}")
        assert seen.sum() >= 12


def test_the_grains_spectrum_and_correlation_are_recovered(estimated):
    assert estimated.ref_width_px == WIDTH and estimated.psd.max() == 1.0
    np.testing.assert_allclose(estimated.correlation, CHANNEL_CORRELATION, atol=0.05)
    ours = grain_correlation(grain_noise(HEIGHT, WIDTH, estimated, seed=1), detrend=False)
    truth = grain_correlation(grain_noise(HEIGHT, WIDTH, GRAIN, seed=1), detrend=False)
    # Measured: lag-one correlation 0.797 against 0.798.
    np.testing.assert_allclose(ours, truth, atol=0.03)
    # and the spectrum's shape, on the estimate's frequencies
    assert estimated.psd.shape == (3, estimated.psd_freq.size)
    for c in range(3):  # each channel's spectrum (the truth's are the same)
        psd_truth = np.interp(estimated.psd_freq, PSD_FREQ, GRAIN.psd[c])
        keep = (estimated.psd_freq > 0) & (psd_truth > 0.05)
        ratio = estimated.psd[c, keep] / psd_truth[keep]
        assert ratio.max() / ratio.min() < 1.5, (c, ratio)


def test_grain_is_read_only_inside_the_mask(grain_pairs):
    # Where the mask is off, the test is garbage; the estimate must not see it.
    spoilt = []
    for p in grain_pairs:
        test = p.test.copy()
        test[:, : WIDTH // 2] = np.random.default_rng(3).random((HEIGHT, WIDTH // 2, 3))
        mask = np.ones((HEIGHT, WIDTH), bool)
        mask[:, : WIDTH // 2] = False
        spoilt.append(TexturePair(p.control, test, mask))
    g = estimate_grain(spoilt, COLOUR, NO_VIGNETTE, NO_HALATION)
    assert g.rms.max() < 1.5 * GRAIN_RMS_TRUE.max()
    np.testing.assert_allclose(g.correlation, CHANNEL_CORRELATION, atol=0.07)


def test_a_halo_that_is_not_red_dominant_is_not_taken_for_halation():
    # Light from the film base comes back mostly red; a blue "halo" is the colour part's error.
    pairs = _haloed_pairs(Halation(0.5, 0.015, (0.0, 0.05, 0.35)), grain=GRAIN)
    found, note = estimate_halation(pairs, COLOUR, NO_VIGNETTE)
    assert found == NO_HALATION and "not red-dominant" in note
