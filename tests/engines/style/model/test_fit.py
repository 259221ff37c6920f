"""Fitting the colour part (and the vignette) to samples: accuracy on known truths, determinism, refusals."""

import numpy as np
import pytest

pytest.importorskip("torch", reason="fitting a look needs torch (not in the Python 3.10 venv)")

from engines.style.film import colour as film_colour  # noqa: E402
from engines.style.model.colour import apply_colour  # noqa: E402
from engines.style.model.errors import StyleFitError  # noqa: E402
from engines.style.model.fit import fit_colour, rec709_decode, rec709_encode  # noqa: E402
from tests.engines.style.model import synth  # noqa: E402

STEPS = 450


@pytest.fixture(scope="module")
def held_out():
    return synth.random_colours(5000, seed=101)


def test_a_hand_built_truth_is_learned(held_out):
    x = synth.random_colours(2000, seed=1)
    fit = fit_colour(x, synth.truth_colour(x), steps=STEPS)
    de = synth.mean_delta_e(apply_colour(held_out, fit.colour), synth.truth_colour(held_out))
    # Measured: held-out ΔE2000 mean 0.15, fit RMS 0.0029.
    assert de < 0.3, de
    assert fit.rms < 0.005 and fit.steps == STEPS and fit.vignette == (0.0, 0.0)
    assert fit.colour.has_crosstalk


def test_the_film_pipelines_colour_is_learned(held_out):
    x = synth.random_colours(3000, seed=2)
    fit = fit_colour(x, film_colour(x, "35mm"), steps=STEPS)
    de = synth.mean_delta_e(apply_colour(held_out, fit.colour), film_colour(held_out, "35mm"))
    # The colour target is a held-out ΔE2000 mean under 1.0; measured 0.26.
    assert de < 0.5, de


def test_a_vignette_on_linear_light_is_recovered(held_out):
    a, b = -0.45, 0.12
    rng = np.random.default_rng(3)
    x = rng.random((3000, 3))
    radius = np.sqrt(rng.random(3000))  # as a frame's pixels: more of them far from the centre
    darkened = synth.bt709_encode(synth.bt709_decode(x) * synth.vignette_gain(radius, a, b)[:, None])
    fit = fit_colour(x, synth.truth_colour(darkened), radius=radius, steps=STEPS)
    # Measured: a = -0.451, b = 0.121; corner gain exp(a + b) 0.7187 against 0.7189; colour ΔE 0.23.
    assert fit.vignette[0] == pytest.approx(a, abs=0.03)
    assert fit.vignette[1] == pytest.approx(b, abs=0.05)
    assert np.exp(sum(fit.vignette)) == pytest.approx(np.exp(a + b), rel=0.01)
    de = synth.mean_delta_e(apply_colour(held_out, fit.colour), synth.truth_colour(held_out))
    assert de < 0.3, de  # the colour is learned as colour, the falloff as vignette


def test_black_samples_do_not_spoil_a_vignette_fit():
    # A camera's 8-bit frame has black pixels; BT.709's power piece has an infinite slope at 0.
    x = synth.random_colours(1000, seed=10)
    x[:50] = 0.0
    fit = fit_colour(x, synth.truth_colour(x), radius=np.linspace(0.0, 1.0, 1000), steps=90)
    assert np.isfinite(fit.rms) and fit.rms < 0.02 and all(np.isfinite(fit.vignette))


def test_without_radius_no_vignette_is_fitted():
    x = synth.random_colours(1000, seed=4)
    assert fit_colour(x, synth.truth_colour(x), steps=60).vignette == (0.0, 0.0)


def test_weights_decide_which_samples_count(held_out):
    # Half the samples are wrong (the test's channels reversed); with zero weight they teach nothing.
    # Measured: held-out ΔE2000 mean 0.17 (13.3 with the weights left out).
    x = synth.random_colours(2000, seed=5)
    y = synth.truth_colour(x)
    y[1000:] = y[1000:, ::-1]
    weights = np.r_[np.ones(1000), np.zeros(1000)]
    fit = fit_colour(x, y, weights=weights, steps=STEPS)
    de = synth.mean_delta_e(apply_colour(held_out, fit.colour), synth.truth_colour(held_out))
    assert de < 0.4, de


def test_the_same_seed_and_samples_give_the_same_fit():
    x = synth.random_colours(800, seed=6)
    y = synth.truth_colour(x)
    radius = np.linspace(0.0, 1.0, 800)
    one, two = (fit_colour(x, y, radius=radius, steps=90, seed=7) for _ in range(2))
    for name in ("in_curves", "matrix", "out_curves"):
        np.testing.assert_array_equal(getattr(one.colour, name), getattr(two.colour, name))
    assert one.vignette == two.vignette and one.rms == two.rms


def test_progress_hears_the_steps():
    heard = []
    x = synth.random_colours(400, seed=8)
    fit_colour(x, synth.truth_colour(x), steps=120, progress=lambda step, rms: heard.append((step, rms)))
    steps = [s for s, _ in heard]
    assert steps[0] == 0 and steps == sorted(steps) and all(rms >= 0.0 for _, rms in heard)


def test_rec709_encode_undoes_decode():
    v = np.linspace(0.0, 1.0, 10001)
    back = rec709_encode(rec709_decode(v))
    # BT.709's two pieces meet at 0.018 linear, but its power piece reads 0.08124 there, not 0.081:
    # codes in between decode on the straight piece and come back up to 2.5e-4 off.
    seam = (v >= 0.081) & (v <= 0.0813)
    np.testing.assert_allclose(back[~seam], v[~seam], atol=1e-12)
    assert np.abs(back[seam] - v[seam]).max() < 2.5e-4
    assert rec709_decode(np.array([0.05]))[0] == pytest.approx(0.05 / 4.5)


_X = synth.random_colours(300, seed=9)


@pytest.mark.parametrize("control, test, kwargs, message", [
    (_X[:199], _X[:199], {}, "199 colour samples are too few"),
    (_X[:, :2], _X[:, :2], {}, r"must both be \(N, 3\)"),
    (_X, _X[:250], {}, r"must both be \(N, 3\)"),
    (_X.reshape(100, 3, 3), _X.reshape(100, 3, 3), {}, r"must both be \(N, 3\)"),
    (np.where(np.arange(300)[:, None] == 5, np.nan, _X), _X, {}, "must be finite"),
    (_X, np.where(np.arange(300)[:, None] == 5, np.inf, _X), {}, "must be finite"),
    (_X, _X, {"weights": np.ones(299)}, "one finite non-negative number per sample"),
    (_X, _X, {"weights": -np.ones(300)}, "non-negative"),
    (_X, _X, {"weights": np.zeros(300)}, "not all zero"),
    (_X, _X, {"weights": np.where(np.arange(300) == 3, np.nan, 1.0)}, "finite"),
    (_X, _X, {"radius": np.ones(299)}, r"radius must be one finite number per sample \(300\)"),
    (_X, _X, {"radius": np.full(300, np.nan)}, "radius must be one finite number"),
    (_X, _X, {"steps": 0}, "steps must be at least 1"),
])
def test_bad_samples_are_refused(control, test, kwargs, message):
    with pytest.raises(StyleFitError, match=message):
        fit_colour(control, test, **kwargs)
