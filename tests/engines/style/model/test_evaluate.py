"""Scoring a look: its colour against the pipeline's truth, its grain against the pipeline's, and the text."""

import numpy as np
import pytest

from engines.style.colour import delta_e_2000
from engines.style.film import develop, grain_rms
from engines.style.model.evaluate import COLOUR_TARGETS, evaluate_colour, evaluate_grain, format_evaluation
from engines.style.model.look import Look, colour_only, identity_look
from engines.style.model.texture import Vignette
from tests.engines.style.model import synth
from tests.engines.style.model.synth import COLOUR, hand_look


def _controls():
    return [synth.scene(24, 32, seed) for seed in (1, 2)]


def test_a_look_scored_against_its_own_colour_is_perfect():
    look = hand_look()  # its texture (vignette, halation, grain) is not the colour part's
    controls = _controls()
    result = evaluate_colour(look, controls, [colour_only(c, look) for c in controls])
    assert result["pairs"] == 2 and result["pixels"] == 2 * 24 * 32
    assert result["mean"] == result["p95"] == result["max"] == 0.0 and result["met"] is True
    assert result["targets"] == COLOUR_TARGETS


def test_colour_figures_are_over_every_pixel():
    look, controls = Look("hand", COLOUR), _controls()
    result = evaluate_colour(look, controls, controls)  # the truth: the control unchanged
    de = np.concatenate([delta_e_2000(colour_only(c, look), c).ravel() for c in controls])
    assert result["mean"] == pytest.approx(de.mean()) and result["p95"] == pytest.approx(np.percentile(de, 95))
    assert result["max"] == pytest.approx(de.max()) and de.mean() > 1.0 and result["met"] is False
    assert evaluate_colour(look, [], []) == {"pairs": 0}


def test_grain_is_compared_with_the_pipelines_on_flat_fields():
    result = evaluate_grain(identity_look(), "35mm", shape=(64, 96))
    assert result["film_look"] == "35mm" and result["shape"] == [64, 96] and result["met"] is False
    assert [r["level"] for r in result["levels"]] == [0.25, 0.41, 0.6]
    for row in result["levels"]:
        flat = np.full((64, 96, 3), row["level"], np.float32)
        # read on the centre half of each field in each direction
        expected = np.mean([grain_rms(develop(flat, "35mm", seed=1000 + k).image[16:48, 24:72]) for k in range(2)],
                           axis=0)
        np.testing.assert_allclose(row["rms_pipeline"], expected, rtol=1e-9)
        assert max(row["rms_look"]) < 1e-3 and min(row["rms_rel_error"]) > 0.9 and row["met"] is False


def test_the_evaluation_as_text():
    colour = {"pairs": 2, "pixels": 100, "mean": 0.5, "p95": 1.0, "max": 3.0, "met": True}
    grain = {"film_look": "35mm", "shape": [64, 96], "fields_per_level": 2, "tolerance": 0.1,
             "levels": [{"level": 0.25, "rms_pipeline": [0.01, 0.01, 0.02], "rms_look": [0.011, 0.01, 0.02],
                         "rms_rel_error": [0.1, 0.0, 0.0], "psd_rel_l1_error": [0.2, 0.1, 0.1], "met": False}]}
    text = format_evaluation({"colour": colour, "grain": grain}).splitlines()
    assert text[0] == ("colour vs the pipeline's colour part, 2 pairs, 100 pixels: ΔE2000 mean 0.500 (target < 1.0), "
                       "p95 1.000 (target < 2.5), max 3.00: met")
    assert text[1] == ("grain vs the pipeline's 35mm on flat fields 96x64, their centre halves (2 per level; "
                       "tolerance 10 %):")
    assert text[3].split() == ["0.25", "0.0100", "0.0100", "0.0200", "0.0110", "0.0100", "0.0200", "10.0%", "20.0%",
                               "MISSED"]
    blocks = format_evaluation({"blocks": {"pairs": 3, "mean": 1.25, "p95": 2.0}, "grain_note": "no grain"})
    assert blocks.splitlines() == ["look vs test, 3 pairs, 8-pixel blocks (grain averaged out): ΔE2000 mean 1.250, "
                                   "p95 2.000", "grain: no grain"]


def test_a_look_with_grain_reads_its_rms():
    result = evaluate_grain(hand_look(vignette=Vignette(0.0, 0.0)), "35mm", shape=(64, 96))
    assert all(min(r["rms_look"]) > 5e-3 for r in result["levels"])
