"""The model card: what a captioner model was trained on, how, how well, with what software.

A card is a JSON-able dict stored in the model file's header (:mod:`.checkpoint`) and written
beside it as Markdown (:func:`card_markdown`). Sections:

* ``model``: network preset and widths, parameter count, input and outputs;
* ``data``: the dataset's root and type, and per split its clip count and label counts (splits
  are by scene: no scene is in two splits, so validation and test scores are on unseen scenes);
* ``training``: the training settings, passes run, the best pass, time, why it stopped, and each
  pass's loss and validation figures;
* ``calibration``: the temperatures and sigma scales, ECE and coverage before and after;
* ``metrics``: the evaluation of every split scored after calibration, with the targets;
* ``software``: Python, torch, numpy, ONNX, ONNX Runtime and Onset versions, the platform;
* ``created_utc``.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional

from engines.captioner.inputs import MOVEMENT_CLASSES, SHOT_SIZE_CLASSES
from engines.captioner.model.calibrate import CalibrationReport
from engines.captioner.model.evaluate import Evaluation
from engines.captioner.model.network import INPUT_NAME, INPUT_SHAPE, OUTPUT_NAMES, parameter_count
from engines.captioner.model.train import LabelStats, TrainResult

__all__ = ["software_versions", "split_summary", "build_card", "card_markdown"]


def _version(module: str) -> Optional[str]:
    try:
        return str(__import__(module).__version__)
    except Exception:  # an optional package that is absent or broken is reported as such
        return None


def software_versions() -> Dict[str, Optional[str]]:
    """Versions of what trained the model (None: not installed)."""
    try:
        from importlib.metadata import version

        onset = version("onset-edge")
    except Exception:
        onset = None
    return {"python": sys.version.split()[0], "torch": _version("torch"), "numpy": _version("numpy"),
            "onnx": _version("onnx"), "onnxruntime": _version("onnxruntime"), "tqdm": _version("tqdm"),
            "onset": onset, "platform": platform.platform()}


def split_summary(name: str, dataset: object, stats: LabelStats) -> Dict[str, Any]:
    """A split's entry in the card: its size and label counts, and its scenes and takes where the
    dataset names them (``ClipDataset.index``, the built dataset's ``index.json``)."""
    entry: Dict[str, Any] = {"split": name, "type": type(dataset).__name__}
    entry.update(stats.to_dict())
    index = getattr(dataset, "index", None)
    described = ((index.get("splits") or {}).get(name) or {}) if isinstance(index, dict) else {}
    for key in ("scenes", "takes"):
        if isinstance(described.get(key), list):
            entry[key] = [str(x) for x in described[key]]
    return entry


def build_card(result: TrainResult, calibration: CalibrationReport, splits: Mapping[str, Dict[str, Any]],
               evaluations: Mapping[str, Evaluation], data_root: Optional[str] = None) -> Dict[str, Any]:
    """The card of a trained, calibrated model (module docstring)."""
    model = result.model
    return {
        "model": {"name": "onset-captioner", "size": model.config.name, "network": model.config.to_dict(),
                  "parameters": parameter_count(model), "input": {"name": INPUT_NAME, "shape": ["B", *INPUT_SHAPE]},
                  "outputs": list(OUTPUT_NAMES), "shot_size_classes": list(SHOT_SIZE_CLASSES),
                  "movement_classes": list(MOVEMENT_CLASSES)},
        "data": {"root": data_root, "split_by": "scene", "splits": dict(splits)},
        "training": {"config": asdict(result.config), "passes": len(result.history), "best_pass": result.best_epoch,
                     "seconds": round(result.seconds, 1), "stopped": result.stopped,
                     "history": [asdict(r) for r in result.history]},
        "calibration": calibration.to_dict(),
        "metrics": {name: ev.to_dict() for name, ev in evaluations.items()},
        "software": software_versions(),
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _pct(value: Optional[float]) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def card_markdown(card: Mapping[str, Any], weights_sha256: Optional[str] = None) -> str:
    """The card as a Markdown page."""
    m, d, t = card.get("model", {}), card.get("data", {}), card.get("training", {})
    lines: List[str] = [f"# Captioner model card ({m.get('size')})", ""]
    if weights_sha256:
        lines += [f"Weights SHA-256: `{weights_sha256}`", ""]
    lines += [f"Created {card.get('created_utc')}; {m.get('parameters')} parameters; input `{m.get('input', {}).get('name')}` "
              f"{tuple(m.get('input', {}).get('shape', []))}; outputs {', '.join(m.get('outputs', []))}.", "",
              "## Data", "", f"Root: `{d.get('root')}`; split by {d.get('split_by')}.", "",
              "| split | clips | shot size labels | movement labels | focal labels | distance labels |",
              "|---|---|---|---|---|---|"]
    for name, s in (d.get("splits") or {}).items():
        lines.append(f"| {name} | {s.get('clips')} | {sum((s.get('shot_size_counts') or {}).values())} | "
                     f"{sum((s.get('movement_counts') or {}).values())} | {s.get('focal_labelled')} | "
                     f"{s.get('distance_labelled')} |")
    config = t.get("config", {})
    lines += ["", "## Training", "",
              f"{t.get('passes')} passes ({t.get('stopped')}), best {t.get('best_pass')}, {t.get('seconds')} s on "
              f"{config.get('threads')} torch thread(s); batch {config.get('batch_size')}, learning rate "
              f"{config.get('learning_rate')}, seed {config.get('seed')}, depth dropped on "
              f"{_pct(config.get('depth_drop'))} of clips, styled by a jittered film look on "
              f"{_pct(config.get('look_augment', 0.0))} (docs/captioner-model.md).", ""]
    cal = card.get("calibration", {})
    lines += ["## Calibration (validation split)", "", "| head | temperature / sigma scale | before | after |",
              "|---|---|---|---|"]
    for head in ("shot_size", "movement"):
        c = cal.get(head, {})
        lines.append(f"| {head} | T = {c.get('temperature', 0):.3f} | ECE {_pct(c.get('ece_before'))} | "
                     f"ECE {_pct(c.get('ece_after'))} |")
    for head in ("focal_mm", "distance_m"):
        c = cal.get(head, {})
        lines.append(f"| {head} | x {c.get('sigma_scale', 0):.3f} | within 1 sigma "
                     f"{_pct(c.get('coverage_1sigma_before'))} | {_pct(c.get('coverage_1sigma_after'))} |")
    for split, ev in (card.get("metrics") or {}).items():
        lines += ["", f"## Metrics: {split} ({ev.get('clips')} clips)", "", "| target | value | verdict |",
                  "|---|---|---|"]
        for r in ev.get("targets", []):
            verdict = "no labels" if r.get("value") is None else ("met" if r.get("met") else "MISSED")
            lines.append(f"| {r.get('description')} | {_pct(r.get('value'))} | {verdict} |")
    sw = card.get("software", {})
    lines += ["", "## Software", "", ", ".join(f"{k} {v}" for k, v in sw.items() if v), ""]
    return "\n".join(lines)
