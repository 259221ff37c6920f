"""Accuracy of the captioner on a split: per head a table, the confusion matrix, and the targets.

Per head, over the clips that have that head's label (a missing label is not a wrong answer):

* **shot size**: accuracy; *within one class* (the predicted size is the true one or its
  neighbour on ECU < CU < MCU < MS < MLS < FS < WS; ``none`` only matches ``none``); ECE;
* **movement**: accuracy; ECE;
* **focal length** and **subject distance**: the median and 90th percentile of the relative
  error ``|predicted - true| / true`` (the prediction being exp of the predicted log); the share
  of true values within one and two predicted sigmas;
* the confusion matrix: rows are the true classes, columns the predicted ones, counts of clips.

:data:`TARGETS` are the accuracy the captioner is held to on held-out scenes; each is reported as
met or MISSED with its margin (how far past or short of the goal, in percentage points). A head without a single label misses its targets ("no
labelled clips").
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from torch.utils.data import Dataset

from engines.captioner.inputs import MOVEMENT_CLASSES, SHOT_SIZE_CLASSES
from engines.captioner.model.calibrate import expected_calibration_error, interval_coverage
from engines.captioner.model.network import CaptionerNet
from engines.captioner.model.predict import ClipOutputs, collect_outputs, softmax

__all__ = [
    "Target", "TARGETS", "TargetResult", "ClassHeadReport", "RegressionHeadReport", "Evaluation",
    "confusion_matrix", "accuracy", "within_one_accuracy", "relative_errors", "summary_metrics",
    "evaluate_outputs", "check_targets", "evaluate_model", "format_evaluation", "evaluation_json",
]


@dataclass(frozen=True)
class Target:
    """A goal on one head's metric: ``value >= goal`` (``higher_is_better``) or ``value <= goal``."""

    head: str
    metric: str
    goal: float
    higher_is_better: bool
    description: str


TARGETS: Tuple[Target, ...] = (
    Target("shot_size", "accuracy", 0.95, True, "shot size accuracy >= 95 %"),
    Target("shot_size", "within_one", 0.99, True, "shot size within one class >= 99 %"),
    Target("movement", "accuracy", 0.95, True, "movement accuracy >= 95 %"),
    Target("focal_mm", "median_rel_error", 0.05, False, "focal length median error <= 5 %"),
    Target("distance_m", "median_rel_error", 0.05, False, "subject distance median error <= 5 %"),
)


@dataclass(frozen=True)
class TargetResult:
    """A target checked: ``value`` (None: no labelled clips), ``met``, ``margin`` (value minus goal
    for a higher-is-better target, goal minus value otherwise: positive when met)."""

    target: Target
    value: Optional[float]
    met: bool
    margin: Optional[float]

    def describe(self) -> str:
        if self.value is None:
            return f"{self.target.description}: MISSED (no labelled clips)"
        verdict = "met" if self.met else "MISSED"
        return (f"{self.target.description}: {verdict} at {100 * self.value:.2f} % "
                f"(margin {100 * self.margin:+.2f} pts)")


@dataclass(frozen=True)
class ClassHeadReport:
    """A classification head on a split; ``confusion[i][j]``: clips of true class i predicted j."""

    head: str
    classes: Tuple[str, ...]
    labelled: int
    accuracy: Optional[float]
    within_one: Optional[float]
    ece: Optional[float]
    confusion: Tuple[Tuple[int, ...], ...]


@dataclass(frozen=True)
class RegressionHeadReport:
    head: str
    unit: str
    labelled: int
    median_rel_error: Optional[float]
    p90_rel_error: Optional[float]
    coverage_1sigma: Optional[float]
    coverage_2sigma: Optional[float]


@dataclass(frozen=True)
class Evaluation:
    split: str
    clips: int
    shot_size: ClassHeadReport
    movement: ClassHeadReport
    focal_mm: RegressionHeadReport
    distance_m: RegressionHeadReport
    targets: Tuple[TargetResult, ...]
    depth: bool = True

    def head(self, name: str):
        return getattr(self, name)

    def to_dict(self) -> Dict[str, object]:
        out: Dict[str, object] = {"split": self.split, "clips": self.clips, "depth": self.depth}
        for name in ("shot_size", "movement", "focal_mm", "distance_m"):
            out[name] = asdict(getattr(self, name))
        out["targets"] = [{"head": r.target.head, "metric": r.target.metric, "goal": r.target.goal,
                           "description": r.target.description, "value": r.value, "met": r.met,
                           "margin": r.margin} for r in self.targets]
        return out


def confusion_matrix(predicted: np.ndarray, true: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) counts, rows true, columns predicted; true labels < 0 are skipped."""
    predicted, true = np.asarray(predicted, np.int64), np.asarray(true, np.int64)
    keep = true >= 0
    out = np.zeros((classes, classes), np.int64)
    np.add.at(out, (true[keep], predicted[keep]), 1)
    return out


def accuracy(predicted: np.ndarray, true: np.ndarray) -> Optional[float]:
    """Share of the labelled (true >= 0) predictions that are right; None without labels."""
    predicted, true = np.asarray(predicted), np.asarray(true)
    keep = true >= 0
    return float(np.mean(predicted[keep] == true[keep])) if keep.any() else None


def _shot_rank(index: np.ndarray) -> np.ndarray:
    none = SHOT_SIZE_CLASSES.index("none")
    return np.where(index == none, -100, index)


def within_one_accuracy(predicted: np.ndarray, true: np.ndarray) -> Optional[float]:
    """Shot sizes: share of labelled predictions at most one size from the truth (module docstring)."""
    predicted, true = np.asarray(predicted, np.int64), np.asarray(true, np.int64)
    keep = true >= 0
    if not keep.any():
        return None
    p, t = _shot_rank(predicted[keep]), _shot_rank(true[keep])
    return float(np.mean(np.abs(p - t) <= 1))


def relative_errors(pred_log: np.ndarray, true: np.ndarray) -> np.ndarray:
    """``|exp(pred_log) - true| / true`` over the labelled values (finite, > 0)."""
    true = np.asarray(true, np.float64)
    keep = np.isfinite(true) & (true > 0)
    return np.abs(np.exp(np.asarray(pred_log, np.float64)[keep]) - true[keep]) / true[keep]


def _quantile(values: np.ndarray, q: float) -> Optional[float]:
    return float(np.quantile(values, q)) if len(values) else None


def summary_metrics(outputs: ClipOutputs) -> Dict[str, Optional[float]]:
    """The four headline numbers (accuracies, median relative errors), None where a head has no labels."""
    return {
        "shot_size_accuracy": accuracy(outputs.shot_size_logits.argmax(axis=1), outputs.shot_size),
        "movement_accuracy": accuracy(outputs.movement_logits.argmax(axis=1), outputs.movement),
        "focal_median_rel_error": _quantile(relative_errors(outputs.log_focal_mm, outputs.focal_mm), 0.5),
        "distance_median_rel_error": _quantile(relative_errors(outputs.log_distance_m, outputs.distance_m), 0.5),
    }


def _class_head(head: str, classes: Sequence[str], logits: np.ndarray, true: np.ndarray) -> ClassHeadReport:
    predicted = np.asarray(logits).argmax(axis=1) if len(logits) else np.zeros(0, np.int64)
    cm = confusion_matrix(predicted, true, len(classes))
    return ClassHeadReport(
        head=head, classes=tuple(classes), labelled=int((np.asarray(true) >= 0).sum()),
        accuracy=accuracy(predicted, true),
        within_one=within_one_accuracy(predicted, true) if head == "shot_size" else None,
        ece=expected_calibration_error(softmax(logits), true) if len(logits) else None,
        confusion=tuple(tuple(int(x) for x in row) for row in cm))


def _regression_head(head: str, unit: str, pred_log: np.ndarray, sigma: np.ndarray,
                     true: np.ndarray) -> RegressionHeadReport:
    errors = relative_errors(pred_log, true)
    return RegressionHeadReport(
        head=head, unit=unit, labelled=len(errors), median_rel_error=_quantile(errors, 0.5),
        p90_rel_error=_quantile(errors, 0.9), coverage_1sigma=interval_coverage(pred_log, sigma, true, 1.0),
        coverage_2sigma=interval_coverage(pred_log, sigma, true, 2.0))


def check_targets(reports: Dict[str, object], targets: Sequence[Target] = TARGETS) -> Tuple[TargetResult, ...]:
    """Each target against ``reports`` (head name -> its report)."""
    results: List[TargetResult] = []
    for target in targets:
        value = getattr(reports[target.head], target.metric)
        if value is None:
            results.append(TargetResult(target, None, False, None))
            continue
        margin = value - target.goal if target.higher_is_better else target.goal - value
        results.append(TargetResult(target, float(value), margin >= 0, float(margin)))
    return tuple(results)


def evaluate_outputs(outputs: ClipOutputs, split: str = "test", depth: bool = True) -> Evaluation:
    """Score the model's outputs on a split (module docstring)."""
    reports = {
        "shot_size": _class_head("shot_size", SHOT_SIZE_CLASSES, outputs.shot_size_logits, outputs.shot_size),
        "movement": _class_head("movement", MOVEMENT_CLASSES, outputs.movement_logits, outputs.movement),
        "focal_mm": _regression_head("focal_mm", "mm", outputs.log_focal_mm, outputs.log_focal_sigma,
                                     outputs.focal_mm),
        "distance_m": _regression_head("distance_m", "m", outputs.log_distance_m, outputs.log_distance_sigma,
                                       outputs.distance_m),
    }
    return Evaluation(split=split, clips=len(outputs), targets=check_targets(reports), depth=depth,
                      **reports)  # type: ignore[arg-type]


def evaluate_model(model: CaptionerNet, dataset: Dataset, split: str = "test", batch_size: int = 32,
                   depth: bool = True, progress: bool = False) -> Evaluation:
    """Run ``model`` over ``dataset`` and score it."""
    outputs = collect_outputs(model, dataset, batch_size=batch_size, depth=depth, progress=progress,
                              desc=f"evaluating {split}")
    return evaluate_outputs(outputs, split=split, depth=depth)


def _pct(value: Optional[float]) -> str:
    return "-" if value is None else f"{100 * value:.2f} %"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    lines = ["  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
             .rstrip() for row in [headers, *rows]]
    return "\n".join(lines)


def _confusion_text(report: ClassHeadReport) -> str:
    """Rows ``index name`` (true), columns the predicted class's index; unused classes left out."""
    cm = np.asarray(report.confusion)
    used = [i for i in range(len(report.classes)) if cm[i].sum() or cm[:, i].sum()]
    if not used:
        return "(no labelled clips)"
    headers = ["true \\ predicted"] + [str(i) for i in used] + ["recall"]
    rows = []
    for i in used:
        total = int(cm[i].sum())
        recall = "-" if not total else f"{100 * cm[i, i] / total:.1f} %"
        rows.append([f"{i} {report.classes[i]}"] + [str(int(cm[i, j])) for j in used] + [recall])
    return _table(headers, rows)


def format_evaluation(evaluation: Evaluation) -> str:
    """The evaluation as text: a table and a confusion matrix per head, then the targets."""
    out = [f"split {evaluation.split}: {evaluation.clips} clips"
           + ("" if evaluation.depth else " (depth planes dropped)"), ""]
    for report in (evaluation.shot_size, evaluation.movement):
        rows = [["labelled clips", str(report.labelled)], ["accuracy", _pct(report.accuracy)]]
        if report.head == "shot_size":
            rows.append(["within one class", _pct(report.within_one)])
        rows.append(["ECE (15 bins)", _pct(report.ece)])
        out += [f"== {report.head}", _table(["metric", "value"], rows), "", _confusion_text(report), ""]
    for report in (evaluation.focal_mm, evaluation.distance_m):
        rows = [["labelled clips", str(report.labelled)], ["median relative error", _pct(report.median_rel_error)],
                ["p90 relative error", _pct(report.p90_rel_error)],
                ["within 1 sigma (68.3 % expected)", _pct(report.coverage_1sigma)],
                ["within 2 sigma (95.4 % expected)", _pct(report.coverage_2sigma)]]
        out += [f"== {report.head} ({report.unit})", _table(["metric", "value"], rows), ""]
    out.append("== targets")
    out += [f"  {r.describe()}" for r in evaluation.targets]
    return "\n".join(out)


def evaluation_json(evaluation: Evaluation) -> str:
    """The evaluation as JSON (what the README's figures are made from)."""
    return json.dumps(evaluation.to_dict(), indent=2, sort_keys=True)
