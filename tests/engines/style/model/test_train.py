"""Learning a look in rounds from pairs the film pipeline developed: its colour, its reports, its reweighting."""

import numpy as np
import pytest

pytest.importorskip("torch", reason="training a look needs torch (not in the Python 3.10 venv)")

from engines.style.film import colour as film_colour  # noqa: E402
from engines.style.film import develop, texture_parts  # noqa: E402
from engines.style.model import train as train_module  # noqa: E402
from engines.style.model.errors import StyleFitError  # noqa: E402
from engines.style.colour import delta_e_2000  # noqa: E402
from engines.style.model.colour import apply_colour  # noqa: E402
from engines.style.model.look import Look, colour_only, style_frame  # noqa: E402
from engines.style.model.texture import (  # noqa: E402
    Halation, Vignette, apply_halation, apply_vignette, to_display, to_linear,
)
from engines.style.model.train import (  # noqa: E402
    EXPOSURE_BANDS, MAX_WEIGHT, RoundReport, TrainingPair, block_means, score_pairs, train_look,
)
from tests.engines.style.model import synth  # noqa: E402
from tests.engines.style.model.synth import COLOUR  # noqa: E402

HEIGHT, WIDTH = 96, 160
EXPOSURES = (0.3, 0.6, 1.0, 1.6, 2.5)
STEPS = 300
SAMPLES = 2000
BANDS = {f"{lo:g}-{hi:g}" for lo, hi in EXPOSURE_BANDS}
HUES = {"red", "yellow", "green", "cyan", "blue", "magenta", "neutral"}


def _pairs(look: str = "35mm"):
    pairs = []
    for i, exposure in enumerate(EXPOSURES):
        control = synth.scene(HEIGHT, WIDTH, seed=i, exposure=exposure)
        pairs.append(TrainingPair(f"pair{i}", control, develop(control, look, seed=i).image,
                                  np.ones((HEIGHT, WIDTH), bool), {"plan_value": "day" if i % 2 else "night"}))
    return pairs


@pytest.fixture(scope="module")
def trained():
    heard = []
    look, report = train_look(_pairs(), "35mm-test", rounds=2, samples_per_pair=SAMPLES, steps=STEPS,
                              progress=heard.append)
    return look, report, heard


@pytest.fixture(scope="module")
def with_a_broken_pair():
    """Five good pairs and one whose test is another frame's channels reversed; the fit's weights spied on."""
    pairs = _pairs()
    wrong = synth.scene(HEIGHT, WIDTH, seed=50)
    pairs.insert(2, TrainingPair("broken", wrong, develop(wrong, "35mm").image[..., ::-1].copy(),
                                 np.ones((HEIGHT, WIDTH), bool)))
    weights = []
    real_fit = train_module.fit_colour

    def spy(x, y, **kwargs):
        weights.append((x, kwargs["weights"]))
        return real_fit(x, y, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(train_module, "fit_colour", spy)
        look, report = train_look(pairs, "broken-test", rounds=2, samples_per_pair=SAMPLES, steps=STEPS)
    return look, report, weights


def test_the_learned_colour_matches_the_pipelines_on_a_held_out_frame(trained):
    look, _, _ = trained
    held_out = synth.scene(HEIGHT, WIDTH, seed=77, exposure=1.2)
    de = synth.mean_delta_e(colour_only(held_out, look), film_colour(held_out, "35mm"))
    # The target is a held-out ΔE2000 mean under 1.0; measured 0.59 (5 pairs 96x160, 300 steps, 2 rounds).
    assert de < 1.0, de


def test_the_learned_texture(trained):
    look, report, _ = trained
    assert isinstance(look, Look) and look.name == "35mm-test" and look.grain is not None
    # The pipeline's gate vignette at the corner, against the learned gain there: measured 0.796 against 0.787.
    corner = texture_parts(np.full((HEIGHT, WIDTH, 3), 0.5, np.float32), "35mm").vignette[0, 0]
    assert np.exp(look.vignette.a + look.vignette.b) == pytest.approx(corner, abs=0.05)
    assert look.grain.rms.shape == (3, 16) and (look.grain.rms[:, 3:13] > 0).all()
    assert report.halation_note is None or "halation" in report.halation_note or "halo" in report.halation_note


def test_every_round_is_reported(trained):
    _, report, heard = trained
    assert [r.round for r in report.rounds] == [1, 2]
    assert report.pairs == len(EXPOSURES) and report.samples == len(EXPOSURES) * SAMPLES
    for r in report.rounds:
        assert 0.0 < r.delta_e_mean <= r.delta_e_p95 and r.fit_rms > 0.0 and r.seconds > 0.0
        assert [s.delta_e_mean for s in r.worst] == sorted((s.delta_e_mean for s in r.worst), reverse=True)
        assert {s.name for s in r.worst} == {f"pair{i}" for i in range(len(EXPOSURES))}
        assert set(r.by_exposure) <= BANDS and len(r.by_exposure) >= 3
        assert set(r.by_hue) <= HUES and set(r.by_tag) == {"day", "night"}
    assert [line.split(":")[0] for line in heard] == ["round 1", "round 2"]
    assert "fit RMS" in heard[0] and "ΔE2000 mean" in heard[0]


def test_the_weakest_places_name_the_command_that_makes_pairs_there(trained):
    _, report, _ = trained
    hints = report.rounds[-1].weakest()
    band = max(report.rounds[-1].by_exposure.items(), key=lambda kv: kv[1])[0]
    assert hints[0].startswith(f"exposure {band} (ΔE ") and hints[0].endswith(f"onset style pairs --exposure {band}")


def test_weakest_by_hand():
    report = RoundReport(1, 0.01, 1.0, 2.0, (), {"0-0.1": 0.5, "0.5-0.75": 1.25}, {"red": 0.9, "blue": 1.5}, {}, 1.0)
    assert report.weakest() == ["exposure 0.5-0.75 (ΔE 1.25): onset style pairs --exposure 0.5-0.75",
                                "hue blue (ΔE 1.50): onset style pairs --hue blue"]
    grey = RoundReport(1, 0.01, 1.0, 2.0, (), {}, {"red": 0.9, "neutral": 2.0}, {}, 1.0)
    # neutral frames are frames to shoot more of too (onset style pairs --hue neutral)
    assert grey.weakest() == ["hue neutral (ΔE 2.00): onset style pairs --hue neutral"]
    assert RoundReport(1, 0.0, 0.0, 0.0, (), {}, {}, {}, 0.0).weakest() == []


def test_a_broken_pair_is_reported_worst(with_a_broken_pair):
    _, report, _ = with_a_broken_pair
    for r in report.rounds:
        assert r.worst[0].name == "broken"
        assert r.worst[0].delta_e_mean > 2 * r.worst[1].delta_e_mean, r.worst


def test_the_next_round_weighs_where_the_last_was_weakest(with_a_broken_pair):
    _, report, weights = with_a_broken_pair
    (_, w1), (x2, w2) = weights
    assert (w1 == 1.0).all()
    assert w2.min() >= 1.0 and w2.max() <= MAX_WEIGHT and w2.max() > 1.2
    # Samples in round 1's worst exposure band weigh more, on average, than those in its best.
    by_band = report.rounds[0].by_exposure
    luma = x2 @ np.array([0.2126, 0.7152, 0.0722])

    def mean_weight(band: str) -> float:
        lo, hi = (float(v) for v in band.split("-"))
        return float(w2[(luma >= lo) & (luma < hi)].mean())

    worst, best = max(by_band, key=by_band.get), min(by_band, key=by_band.get)
    assert mean_weight(worst) > mean_weight(best) + 0.1, (by_band, mean_weight(worst), mean_weight(best))


def test_rounds_and_pairs_are_checked():
    pairs = _pairs()[:1]
    with pytest.raises(StyleFitError, match="rounds must be at least 1; got 0"):
        train_look(pairs, "x", rounds=0)
    with pytest.raises(StyleFitError, match="no pairs to learn a look from"):
        train_look([], "x")
    empty = [TrainingPair("p", p.control, p.test, np.zeros((HEIGHT, WIDTH), bool)) for p in pairs]
    with pytest.raises(StyleFitError, match="every mask is empty"):
        train_look(empty, "x", rounds=1)


def test_block_means_use_only_blocks_inside_the_mask():
    image = np.arange(16 * 24 * 3, dtype=np.float64).reshape(16, 24, 3)
    mask = np.ones((16, 24), bool)
    mask[3, 20] = False  # spoils block (0, 2)
    means, where = block_means(image, mask, block=8)
    assert where.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1], [1, 2]]
    np.testing.assert_allclose(means[0], image[:8, :8].mean(axis=(0, 1)))
    np.testing.assert_allclose(means[4], image[8:16, 16:24].mean(axis=(0, 1)))


def test_score_pairs_by_hand():
    control = synth.scene(32, 48, seed=3, exposure=2.0)
    look = Look("hand", COLOUR, vignette=Vignette(-0.5, 0.1), halation=Halation(0.5, 0.02, (0.3, 0.05, 0.0)))
    full = np.ones((32, 48), bool)
    exact = TrainingPair("exact", control, style_frame(control, look), full, {"plan_value": 2})
    plain = TrainingPair("plain", control, apply_colour(control, COLOUR), full)
    empty = TrainingPair("empty", control, control, np.zeros((32, 48), bool))
    scores, means = score_pairs([exact, plain, empty], look)
    assert [s.name for s in scores] == ["exact", "plain"] and scores[0].blocks == 24
    assert scores[0].delta_e_mean < 0.01  # the look, vignette and halation included, is the test
    a, _ = block_means(style_frame(control, look), full)
    b, _ = block_means(plain.test, full)
    assert scores[1].delta_e_mean == pytest.approx(float(delta_e_2000(a, b).mean()), rel=1e-3)
    assert set(means) == {"exposure", "hue", "tag"} and list(means["tag"]) == ["2"]


def test_samples_carry_the_halation_inside_the_fits_vignette():
    # The fit multiplies each sample's linear light by its vignette gain (and clips at white); a
    # sample's control must be such that this gives the frame's vignetted and haloed light at that
    # pixel, even where the halo lifts it over white before the gain brings it back.
    control = synth.scene(48, 64, seed=4, exposure=2.5)
    vignette, halation = Vignette(-0.6, 0.1), Halation(0.36, 0.03, (0.5, 0.1, 0.0))
    pair = TrainingPair("p", control, control, np.ones((48, 64), bool))
    x, _, radius, w = train_module._samples([pair], 48 * 64, np.random.default_rng(0), vignette, halation, None)
    gain = synth.vignette_gain(radius, vignette.a, vignette.b)[:, None]
    seen = np.clip(synth.bt709_encode(synth.bt709_decode(x) * gain), 0.0, 1.0)
    frame = to_display(apply_halation(apply_vignette(to_linear(control), vignette), halation))
    nearest = np.abs(seen[:, None, :] - frame.reshape(1, -1, 3)).max(axis=2).min(axis=1)
    assert len(seen) == 48 * 64 and nearest.max() < 1e-6
    assert x.max() > 1.0  # this frame has such light
    assert (w == 1.0).all()
