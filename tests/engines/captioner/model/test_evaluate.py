"""Evaluation on hand-made predictions: confusion matrix, accuracies, errors, targets and margins."""

import json

import numpy as np
import pytest

from engines.captioner.inputs import MOVEMENT_CLASSES, SHOT_SIZE_CLASSES
from engines.captioner.model.evaluate import (
    TARGETS, confusion_matrix, evaluate_outputs, evaluation_json, format_evaluation, within_one_accuracy,
)
from engines.captioner.model.predict import ClipOutputs

S = SHOT_SIZE_CLASSES.index
M = MOVEMENT_CLASSES.index


def _logits(predicted, classes):
    out = np.zeros((len(predicted), classes))
    out[np.arange(len(predicted)), predicted] = 8.0
    return out


def _outputs(shot_pred, shot_true, move_pred, move_true, focal_pred, focal_true, dist_pred, dist_true):
    n = len(shot_pred)
    return ClipOutputs(
        shot_size_logits=_logits(shot_pred, 8), movement_logits=_logits(move_pred, 15),
        log_focal_mm=np.log(focal_pred), log_focal_sigma=np.full(n, 0.05),
        log_distance_m=np.log(dist_pred), log_distance_sigma=np.full(n, 0.05),
        shot_size=np.array(shot_true), movement=np.array(move_true), focal_mm=np.array(focal_true, float),
        distance_m=np.array(dist_true, float), keys=tuple(f"k{i}" for i in range(n)))


@pytest.fixture()
def outputs():
    # 10 clips; the last has no shot size or movement label
    shot_true = [S("MS")] * 4 + [S("MCU")] * 3 + [S("none")] * 2 + [-1]
    shot_pred = [S("MS"), S("MS"), S("MS"), S("MCU"),   # one MS called MCU: within one
                 S("MCU"), S("MCU"), S("FS"),           # one MCU called FS: three sizes off
                 S("none"), S("WS"),                    # a "none" called WS: not within one
                 S("ECU")]
    move_true = [M("static")] * 5 + [M("pan_left")] * 4 + [-1]
    move_pred = [M("static")] * 5 + [M("pan_left"), M("pan_left"), M("pan_left"), M("pan_right")] + [M("roll")]
    focal_true = [50.0] * 10
    focal_pred = [50.0, 51.0, 52.0, 49.0, 48.0, 55.0, 50.5, 60.0, 50.0, 50.0]
    dist_true = [2.0, 2.0, 2.0, 2.0, 2.0, np.nan, np.nan, 3.0, 3.0, 3.0]
    dist_pred = [2.02, 2.04, 2.1, 1.9, 2.2, 9.0, 9.0, 3.03, 3.3, 3.0]
    return _outputs(shot_pred, shot_true, move_pred, move_true, focal_pred, focal_true, dist_pred, dist_true)


def test_confusion_matrix_rows_are_truth_columns_predictions():
    cm = confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 1, 2, -1]), 3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 0]]


def test_within_one_uses_the_size_order_and_none_only_matches_none():
    assert within_one_accuracy(np.array([S("MS"), S("WS"), S("none"), S("ECU"), S("MS")]),
                               np.array([S("MLS"), S("FS"), S("none"), S("none"), S("FS")])) == 0.6


def test_heads_on_hand_made_predictions(outputs):
    ev = evaluate_outputs(outputs, split="test")
    assert ev.clips == 10
    shot = ev.shot_size
    assert shot.labelled == 9
    assert shot.accuracy == pytest.approx(6 / 9)
    assert shot.within_one == pytest.approx(7 / 9)
    cm = np.array(shot.confusion)
    assert cm[S("MS"), S("MS")] == 3 and cm[S("MS"), S("MCU")] == 1
    assert cm[S("MCU"), S("FS")] == 1 and cm[S("none"), S("WS")] == 1
    assert cm.sum() == 9  # the unlabelled clip is nowhere
    move = ev.movement
    assert move.accuracy == pytest.approx(8 / 9) and move.within_one is None
    assert np.array(move.confusion)[M("pan_left"), M("pan_right")] == 1
    focal = ev.focal_mm
    errors = np.abs(np.array([50.0, 51.0, 52.0, 49.0, 48.0, 55.0, 50.5, 60.0, 50.0, 50.0]) - 50.0) / 50.0
    assert focal.labelled == 10
    assert focal.median_rel_error == pytest.approx(np.median(errors))
    assert focal.p90_rel_error == pytest.approx(np.quantile(errors, 0.9))
    dist = ev.distance_m
    assert dist.labelled == 8  # NaN is missing, not an error
    assert dist.median_rel_error == pytest.approx(np.median([0.01, 0.02, 0.05, 0.05, 0.1, 0.01, 0.1, 0.0]))
    # an 8-logit margin is a confidence of 0.998 on each clip: the ECE is about the error rate
    assert shot.ece == pytest.approx(0.998 - 6 / 9, abs=0.01)


def test_targets_are_met_or_missed_with_their_margin(outputs):
    ev = evaluate_outputs(outputs)
    results = {(r.target.head, r.target.metric): r for r in ev.targets}
    assert [(r.target.head, r.target.metric) for r in ev.targets] == [(t.head, t.metric) for t in TARGETS]
    shot = results[("shot_size", "accuracy")]
    assert not shot.met and shot.margin == pytest.approx(6 / 9 - 0.95)
    assert "MISSED at 66.67 % (margin -28.33 pts)" in shot.describe()
    within = results[("shot_size", "within_one")]
    assert not within.met and within.margin == pytest.approx(7 / 9 - 0.99)
    move = results[("movement", "accuracy")]
    assert not move.met and move.margin == pytest.approx(8 / 9 - 0.95)
    focal = results[("focal_mm", "median_rel_error")]
    assert focal.met and focal.margin == pytest.approx(0.05 - focal.value)
    assert "met at" in focal.describe()
    dist = results[("distance_m", "median_rel_error")]
    assert dist.met == (dist.value <= 0.05)


def test_all_targets_met_on_perfect_predictions():
    shot = [S(s) for s in ("ECU", "CU", "MCU", "MS", "MLS", "FS", "WS", "none")]
    move = list(range(8))
    ev = evaluate_outputs(_outputs(shot, shot, move, move, [35.0] * 8, [35.0] * 8, [2.0] * 8, [2.0] * 8))
    assert all(r.met for r in ev.targets)
    assert ev.shot_size.accuracy == ev.shot_size.within_one == 1.0


def test_a_head_without_labels_misses_its_targets():
    ev = evaluate_outputs(_outputs([0, 1], [-1, -1], [0, 1], [0, 1], [50.0, 50.0], [np.nan, np.nan],
                                   [2.0, 2.0], [2.0, 2.0]))
    results = {(r.target.head, r.target.metric): r for r in ev.targets}
    assert results[("shot_size", "accuracy")].value is None
    assert not results[("shot_size", "accuracy")].met
    assert "MISSED (no labelled clips)" in results[("focal_mm", "median_rel_error")].describe()


def test_text_and_json(outputs):
    ev = evaluate_outputs(outputs, split="test")
    text = format_evaluation(ev)
    for needle in ("split test: 10 clips", "== shot_size", "within one class", "ECE (15 bins)",
                   "true \\ predicted", "2 MCU", "3 MS", "7 none", "== movement", "0 static", "1 pan_left",
                   "== focal_mm (mm)", "median relative error", "== targets", "MISSED", "met"):
        assert needle in text, needle
    # the confusion matrix lists only the classes that occur, with their recall
    assert "13 zoom_out" not in text
    doc = json.loads(evaluation_json(ev))
    assert doc["shot_size"]["confusion"][S("MCU")][S("FS")] == 1
    assert [t["met"] for t in doc["targets"]] == [r.met for r in ev.targets]
