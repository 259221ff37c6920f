"""Calibrated confidence: ECE by hand, temperature scaling on overconfident logits and models,
spread scaling of the regressions."""

import math

import numpy as np
import pytest
import torch

from engines.captioner.model.calibrate import (
    calibrate_model, class_nll, expected_calibration_error, fit_sigma_scale, fit_temperature,
    interval_coverage,
)
from engines.captioner.model.predict import collect_outputs, softmax


def test_ece_by_hand():
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])
    labels = np.array([0, 0, 1, 1, 1, -1])  # the last clip has no label and counts for nothing
    # bin of 0.9: accuracy 0.5 against confidence 0.9 (4 clips); bin of 0.8: 1.0 against 0.8 (1 clip)
    assert expected_calibration_error(probs, labels) == pytest.approx((4 * 0.4 + 1 * 0.2) / 5)
    assert expected_calibration_error(probs, np.full(6, -1)) is None
    perfect = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert expected_calibration_error(perfect, np.array([0, 1])) == pytest.approx(0.0)


def _overconfident(n=6000, classes=6, scale=5.0, seed=0):
    """Logits whose softmax is calibrated by construction (labels drawn from it), times ``scale``."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 1.5, (n, classes))
    probs = softmax(logits)
    labels = np.array([rng.choice(classes, p=p) for p in probs])
    return logits * scale, labels


def test_temperature_undoes_overconfidence():
    logits, labels = _overconfident(scale=5.0)
    t = fit_temperature(logits, labels)
    assert 4.0 < t < 6.0
    before = expected_calibration_error(softmax(logits), labels)
    after = expected_calibration_error(softmax(logits / t), labels)
    assert before > 0.2 and after < 0.03
    assert class_nll(logits, labels, t) < class_nll(logits, labels)
    assert (softmax(logits / t).argmax(1) == softmax(logits).argmax(1)).all()  # never changes the answer
    assert fit_temperature(logits, np.full(len(labels), -1)) == 1.0


def test_temperature_below_one_for_an_underconfident_head():
    logits, labels = _overconfident(scale=0.3)
    assert fit_temperature(logits, labels) < 0.5


def test_sigma_scale_puts_68_percent_within_one_sigma():
    rng = np.random.default_rng(1)
    true_log = rng.normal(np.log(50.0), 0.5, 5000)
    predicted = true_log + rng.normal(0.0, 0.3, 5000)  # errors of 0.3 claimed as 0.1
    sigma = np.full(5000, 0.1)
    true = np.exp(true_log)
    true[:100] = np.nan  # missing labels are skipped
    scale = fit_sigma_scale(predicted, sigma, true)
    assert scale == pytest.approx(3.0, rel=0.08)
    assert interval_coverage(predicted, sigma, true, 1.0) < 0.3
    assert interval_coverage(predicted, sigma, true, 1.0, scale) == pytest.approx(0.6827, abs=0.01)
    assert interval_coverage(predicted, sigma, true, 2.0, scale) == pytest.approx(0.954, abs=0.02)
    assert fit_sigma_scale(predicted, sigma, np.full(5000, np.nan)) == 1.0


def test_calibrating_an_overconfident_model_lowers_its_ece(trained, synthetic_val):
    model = trained.model
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    try:
        with torch.no_grad():  # make both heads five times too sure of themselves
            model.head.shot_size[-1].weight.mul_(5.0)
            model.head.shot_size[-1].bias.mul_(5.0)
            model.head.movement[-1].weight.mul_(5.0)
            model.head.movement[-1].bias.mul_(5.0)
        report = calibrate_model(model, synthetic_val)
        # the movement head is wrong on part of the clips: five times too sure, it needs T well above 1
        move = report.movement
        assert move.temperature > 2.0
        assert move.ece_before > 0.1 and move.ece_after < move.ece_before
        assert move.nll_after < move.nll_before
        # the shot-size head is right on most validation clips: whatever its temperature, the fit never
        # makes the likelihood of the labels worse
        assert report.shot_size.nll_after <= report.shot_size.nll_before + 1e-9
        assert model.calibration()["movement_temperature"] == pytest.approx(move.temperature)
        # the fitted temperature is inside the model now: its own outputs have the lower ECE
        outputs = collect_outputs(model, synthetic_val)
        ece = expected_calibration_error(outputs.movement_probs, outputs.movement)
        assert ece == pytest.approx(move.ece_after, abs=1e-6)
        cover = report.focal_mm
        assert cover.coverage_1sigma_after == pytest.approx(0.6827, abs=0.06)
        assert math.isfinite(cover.sigma_scale) and cover.sigma_scale > 0
        again = calibrate_model(model, synthetic_val)  # refits from scratch, does not compound
        assert again.movement.temperature == pytest.approx(move.temperature, rel=1e-4)
    finally:
        model.load_state_dict(saved)
