"""The captioner model: a temporal network over a short clip of fused frames, with heads for shot
size, camera movement, focal length and subject distance, each with a calibrated confidence.

Modules, one job each (docs/captioner-model.md has the whole picture):

* ``network``: the network (:class:`CaptionerNet`: a per-frame encoder, a per-pair motion encoder
  and the clip head, so a live worker encodes each frame once) and its size presets;
  ``flow``: the parameter-free motion maths it uses (local correlation, sub-cell flow, affine fit);
* ``train``: training on any dataset of labelled clips, deterministic, on the CPU;
* ``calibrate``: temperature scaling and spread scaling fitted on the validation split, ECE;
* ``evaluate``: per-head accuracy tables, confusion matrices and the accuracy targets;
* ``checkpoint``: the model file (format version, input shape, class vocabularies, SHA-256 of the
  weights, model card), refused with a clear error when corrupt or made for other inputs;
* ``card``: the model card; ``predict``: the model over a dataset; ``runner``: the model frame by
  frame over a take; ``shots``: frame outputs -> shot-level captions, outliers, sentences.

The names below are loaded on first use (PEP 562), so ``shots`` and ``errors`` can be used
without torch; the other modules import it.
"""

from __future__ import annotations

import importlib
from typing import Any, Dict

_EXPORTS: Dict[str, str] = {
    "CalibrationReport": "calibrate", "calibrate_model": "calibrate", "calibrate_outputs": "calibrate",
    "expected_calibration_error": "calibrate", "fit_sigma_scale": "calibrate", "fit_temperature": "calibrate",
    "FORMAT_VERSION": "checkpoint", "Checkpoint": "checkpoint", "load_checkpoint": "checkpoint",
    "load_model": "checkpoint", "save_checkpoint": "checkpoint", "weights_sha256": "checkpoint",
    "ModelError": "errors", "CheckpointError": "errors", "TrainingError": "errors", "ModelInputError": "errors",
    "TARGETS": "evaluate", "Target": "evaluate", "TargetResult": "evaluate", "Evaluation": "evaluate",
    "evaluate_model": "evaluate", "evaluate_outputs": "evaluate", "evaluation_json": "evaluate",
    "format_evaluation": "evaluate",
    "INPUT_NAME": "network", "INPUT_SHAPE": "network", "NETWORK_SIZES": "network", "OUTPUT_NAMES": "network",
    "CaptionerNet": "network", "NetworkConfig": "network", "network_config": "network",
    "ClipOutputs": "predict", "collect_outputs": "predict",
    "ClipRunner": "runner", "predict_frames": "runner",
    "FramePrediction": "shots", "OutlierFrame": "shots", "ShotCaption": "shots", "aggregate_shots": "shots",
    "TrainConfig": "train", "TrainResult": "train", "train_captioner": "train",
}

__all__ = sorted(_EXPORTS)


def __dir__() -> list:
    return __all__


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engines.captioner.model' has no attribute {name!r}")
    return getattr(importlib.import_module(f"engines.captioner.model.{module}"), name)
