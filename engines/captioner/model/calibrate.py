"""Calibrated confidence: temperature scaling of each classification head, spread scaling of each
regression head, both fitted on the validation split and stored in the model.

**Classes.** A head's logits z become softmax(z / T). T is the one number that minimises the
negative log-likelihood of the validation labels; the NLL is convex in 1/T, so a golden-section
search over log T in [:data:`T_MIN`, :data:`T_MAX`] finds it. An overconfident network gets T > 1.
Scaling by T never changes which class wins, only how sure the head says it is.

**Expected calibration error** (ECE), :data:`ECE_BINS` equal-width bins of the top-class
probability: ``sum_b n_b / N * |accuracy_b - confidence_b|``. It is reported per head before and
after the temperature.

**Regressions.** A head predicts the log of the value and a spread sigma of that log. On the
validation split the spread is multiplied by the factor that puts :data:`ONE_SIGMA_COVERAGE` of
the true values within one sigma (the 68.27 % quantile of ``|log true - log predicted| / sigma``);
the coverage at one and two sigmas (68.3 % and 95.4 % for a Gaussian) is reported before and after.

Pure functions of arrays, plus :func:`calibrate_model`, which runs the model over a split and
stores the fit in it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Dict, Optional

import numpy as np
from torch.utils.data import Dataset

from engines.captioner.model.network import CaptionerNet
from engines.captioner.model.predict import ClipOutputs, collect_outputs, softmax

__all__ = [
    "ECE_BINS", "T_MIN", "T_MAX", "ONE_SIGMA_COVERAGE", "expected_calibration_error", "class_nll",
    "fit_temperature", "interval_coverage", "fit_sigma_scale", "HeadCalibration", "RegressionCalibration",
    "CalibrationReport", "calibrate_outputs", "calibrate_model",
]

ECE_BINS = 15
T_MIN, T_MAX = 0.05, 20.0
ONE_SIGMA_COVERAGE = 0.6827
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def _labelled(labels: np.ndarray) -> np.ndarray:
    return np.asarray(labels) >= 0


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> Optional[float]:
    """ECE of (N, K) class probabilities against labels (-1: missing, skipped); None without labels."""
    keep = _labelled(labels)
    if not keep.any():
        return None
    p = np.asarray(probs, np.float64)[keep]
    y = np.asarray(labels)[keep]
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    index = np.minimum((confidence * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        in_bin = index == b
        if in_bin.any():
            total += in_bin.sum() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(total / len(y))


def class_nll(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> Optional[float]:
    """Mean negative log-likelihood of the labels (-1 skipped) under softmax(logits / T)."""
    keep = _labelled(labels)
    if not keep.any():
        return None
    z = np.asarray(logits, np.float64)[keep] / temperature
    y = np.asarray(labels)[keep]
    m = z.max(axis=1, keepdims=True)
    log_norm = (m[:, 0] + np.log(np.exp(z - m).sum(axis=1)))
    return float(np.mean(log_norm - z[np.arange(len(y)), y]))


def fit_temperature(logits: np.ndarray, labels: np.ndarray, iterations: int = 80) -> float:
    """The temperature in [T_MIN, T_MAX] minimising :func:`class_nll` (1.0 without labels)."""
    if not _labelled(labels).any():
        return 1.0
    lo, hi = math.log(T_MIN), math.log(T_MAX)
    a = hi - _GOLDEN * (hi - lo)
    b = lo + _GOLDEN * (hi - lo)
    fa = class_nll(logits, labels, math.exp(a))
    fb = class_nll(logits, labels, math.exp(b))
    for _ in range(iterations):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - _GOLDEN * (hi - lo)
            fa = class_nll(logits, labels, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + _GOLDEN * (hi - lo)
            fb = class_nll(logits, labels, math.exp(b))
    return float(math.exp((lo + hi) / 2.0))


def _regression_rows(pred_log: np.ndarray, sigma: np.ndarray, true: np.ndarray):
    true = np.asarray(true, np.float64)
    keep = np.isfinite(true) & (true > 0)
    return np.asarray(pred_log, np.float64)[keep], np.asarray(sigma, np.float64)[keep], np.log(true[keep])


def interval_coverage(pred_log: np.ndarray, sigma: np.ndarray, true: np.ndarray, k: float = 1.0,
                      scale: float = 1.0) -> Optional[float]:
    """Share of the labelled values (``true`` > 0, NaN missing) within ``k * scale * sigma`` of the
    predicted log; None without labels."""
    mu, s, y = _regression_rows(pred_log, sigma, true)
    if not len(y):
        return None
    return float(np.mean(np.abs(y - mu) <= k * scale * s))


def fit_sigma_scale(pred_log: np.ndarray, sigma: np.ndarray, true: np.ndarray,
                    coverage: float = ONE_SIGMA_COVERAGE) -> float:
    """The factor on sigma that puts ``coverage`` of the labelled values within one sigma (1.0 without labels)."""
    mu, s, y = _regression_rows(pred_log, sigma, true)
    if not len(y):
        return 1.0
    ratio = np.abs(y - mu) / np.maximum(s, 1e-12)
    return float(np.clip(np.quantile(ratio, coverage), 1e-3, 1e3))


@dataclass(frozen=True)
class HeadCalibration:
    """A classification head's temperature and its ECE / NLL on the split before and after (None: no labels)."""

    temperature: float
    ece_before: Optional[float]
    ece_after: Optional[float]
    nll_before: Optional[float]
    nll_after: Optional[float]
    labelled: int


@dataclass(frozen=True)
class RegressionCalibration:
    """A regression head's sigma scale and its 1- and 2-sigma coverage before and after."""

    sigma_scale: float
    coverage_1sigma_before: Optional[float]
    coverage_1sigma_after: Optional[float]
    coverage_2sigma_before: Optional[float]
    coverage_2sigma_after: Optional[float]
    labelled: int


@dataclass(frozen=True)
class CalibrationReport:
    shot_size: HeadCalibration
    movement: HeadCalibration
    focal_mm: RegressionCalibration
    distance_m: RegressionCalibration

    def to_dict(self) -> Dict[str, Dict[str, object]]:
        return {name: asdict(getattr(self, name)) for name in ("shot_size", "movement", "focal_mm", "distance_m")}


def _head(logits: np.ndarray, labels: np.ndarray) -> HeadCalibration:
    t = fit_temperature(logits, labels)
    return HeadCalibration(
        temperature=t,
        ece_before=expected_calibration_error(softmax(logits), labels),
        ece_after=expected_calibration_error(softmax(np.asarray(logits, np.float64) / t), labels),
        nll_before=class_nll(logits, labels), nll_after=class_nll(logits, labels, t),
        labelled=int(_labelled(labels).sum()))


def _regression(pred_log: np.ndarray, sigma: np.ndarray, true: np.ndarray) -> RegressionCalibration:
    s = fit_sigma_scale(pred_log, sigma, true)
    return RegressionCalibration(
        sigma_scale=s,
        coverage_1sigma_before=interval_coverage(pred_log, sigma, true, 1.0),
        coverage_1sigma_after=interval_coverage(pred_log, sigma, true, 1.0, s),
        coverage_2sigma_before=interval_coverage(pred_log, sigma, true, 2.0),
        coverage_2sigma_after=interval_coverage(pred_log, sigma, true, 2.0, s),
        labelled=len(_regression_rows(pred_log, sigma, true)[2]))


def calibrate_outputs(outputs: ClipOutputs) -> CalibrationReport:
    """Fit every head's calibration on uncalibrated outputs (temperatures and scales at 1)."""
    return CalibrationReport(
        shot_size=_head(outputs.shot_size_logits, outputs.shot_size),
        movement=_head(outputs.movement_logits, outputs.movement),
        focal_mm=_regression(outputs.log_focal_mm, outputs.log_focal_sigma, outputs.focal_mm),
        distance_m=_regression(outputs.log_distance_m, outputs.log_distance_sigma, outputs.distance_m))


def calibrate_model(model: CaptionerNet, dataset: Dataset, batch_size: int = 32, progress: bool = False,
                    depth: bool = True) -> CalibrationReport:
    """Fit the calibration of ``model`` on ``dataset`` (the validation split) and store it in the
    model; any earlier calibration is replaced, not compounded."""
    model.set_calibration(1.0, 1.0, 1.0, 1.0)
    report = calibrate_outputs(collect_outputs(model, dataset, batch_size=batch_size, depth=depth,
                                               progress=progress, desc="calibrating"))
    model.set_calibration(report.shot_size.temperature, report.movement.temperature,
                          report.focal_mm.sigma_scale, report.distance_m.sigma_scale)
    return report
