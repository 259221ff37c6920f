"""The model over a dataset of clips: every clip's outputs next to its labels, as numpy arrays.

Calibration (:mod:`.calibrate`) fits on these arrays and evaluation (:mod:`.evaluate`) scores
them, so both see exactly what the model gave. The dataset is any torch ``Dataset`` whose items are
dicts with ``frames`` float32 (8, 5, 72, 128), ``shot_size`` and ``movement`` int64 class indexes
(-1: missing), ``focal_mm`` and ``distance_m`` float32 (NaN: missing) and ``key`` str — what
``engines.captioner.dataset.ClipDataset`` gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from engines.captioner.model.network import CaptionerNet

__all__ = ["DEPTH_PLANES", "ClipOutputs", "softmax", "collect_outputs", "drop_depth"]

#: The depth planes of :data:`engines.captioner.inputs.CHANNELS` (zero when depth is absent).
DEPTH_PLANES = slice(3, 5)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, K) logits, float64."""
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def drop_depth(frames: torch.Tensor) -> torch.Tensor:
    """A copy of ``frames`` (B, 8, 5, H, W) with both depth planes zero: the model told "no depth"."""
    out = frames.clone()
    out[:, :, DEPTH_PLANES] = 0.0
    return out


@dataclass(frozen=True)
class ClipOutputs:
    """The model's outputs for N clips (names as :data:`~.network.OUTPUT_NAMES`) and their labels
    (``shot_size``, ``movement``: class index, -1 missing; ``focal_mm``, ``distance_m``: NaN missing)."""

    shot_size_logits: np.ndarray
    movement_logits: np.ndarray
    log_focal_mm: np.ndarray
    log_focal_sigma: np.ndarray
    log_distance_m: np.ndarray
    log_distance_sigma: np.ndarray
    shot_size: np.ndarray
    movement: np.ndarray
    focal_mm: np.ndarray
    distance_m: np.ndarray
    keys: Tuple[str, ...]

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def shot_size_probs(self) -> np.ndarray:
        return softmax(self.shot_size_logits)

    @property
    def movement_probs(self) -> np.ndarray:
        return softmax(self.movement_logits)


def collect_outputs(model: CaptionerNet, dataset: Dataset, batch_size: int = 32, depth: bool = True,
                    progress: bool = False, desc: str = "predicting") -> ClipOutputs:
    """Run ``model`` (eval mode, no gradients) over every clip of ``dataset``, in order; with
    ``depth=False`` the depth planes are zeroed first."""
    from tqdm import tqdm

    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0)
    parts: dict = {}
    keys: List[str] = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in tqdm(loader, desc=desc, disable=not progress, leave=False, unit="batch"):
                frames = torch.as_tensor(batch["frames"], dtype=torch.float32)
                model.check_input(frames)
                out = model(frames if depth else drop_depth(frames))
                for name, value in out.items():
                    parts.setdefault(name, []).append(value.numpy())
                for name in ("shot_size", "movement", "focal_mm", "distance_m"):
                    parts.setdefault(name, []).append(torch.as_tensor(batch[name]).numpy())
                keys.extend(str(k) for k in batch["key"])
    finally:
        model.train(was_training)
    if not keys:
        empty = {"shot_size_logits": np.zeros((0, model.head.shot_size.out_features)),
                 "movement_logits": np.zeros((0, model.head.movement.out_features))}
        arrays = {name: empty.get(name, np.zeros(0)) for name in ClipOutputs.__dataclass_fields__ if name != "keys"}
        return ClipOutputs(keys=(), **arrays)
    arrays = {name: np.concatenate(chunks) for name, chunks in parts.items()}
    return ClipOutputs(
        shot_size_logits=arrays["shot_size_logits"], movement_logits=arrays["movement_logits"],
        log_focal_mm=arrays["log_focal_mm"], log_focal_sigma=arrays["log_focal_sigma"],
        log_distance_m=arrays["log_distance_m"], log_distance_sigma=arrays["log_distance_sigma"],
        shot_size=arrays["shot_size"].astype(np.int64), movement=arrays["movement"].astype(np.int64),
        focal_mm=arrays["focal_mm"].astype(np.float64), distance_m=arrays["distance_m"].astype(np.float64),
        keys=tuple(keys))
