"""A small clip network for the runtime tests: per-frame convolution, a temporal layer, two named heads.

It has what the captioner's model will have at a smaller size: a 5-D clip input plus a per-frame
mask, BatchNorm (folded by the export), a temporal convolution, and a dict of two outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Tuple

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the modules that use these nets are skipped without torch
from torch import nn  # noqa: E402

from engines.runtime import ModelInfo, TensorSpec, export_onnx  # noqa: E402

MODEL_NAME = "runtime-test-clip"
FRAMES_SHAPE = (1, 4, 3, 16, 24)  # (batch, time, channels, height, width)
OTHER_FRAMES_SHAPE = (1, 4, 3, 20, 24)


class TinyClipNet(nn.Module):
    """frames (B, T, C, H, W) float32 and valid (B, T) float32 -> logits (B, classes), distance_m (B, 1)."""

    def __init__(self, channels: int = 3, features: int = 8, classes: int = 5) -> None:
        super().__init__()
        self.spatial = nn.Sequential(nn.Conv2d(channels, features, 3, padding=1), nn.BatchNorm2d(features), nn.ReLU(),
                                     nn.AdaptiveAvgPool2d(1))
        self.temporal = nn.Conv1d(features, features, 3, padding=1)
        self.logits = nn.Linear(features, classes)
        self.distance = nn.Linear(features, 1)

    def forward(self, frames: torch.Tensor, valid: torch.Tensor) -> Dict[str, torch.Tensor]:
        b, t, c, h, w = frames.shape
        x = self.spatial(frames.reshape(b * t, c, h, w)).reshape(b, t, -1).transpose(1, 2)  # (B, F, T)
        x = torch.relu(self.temporal(x))
        weights = valid.unsqueeze(1)
        pooled = (x * weights).sum(-1) / weights.sum(-1).clamp_min(1e-6)
        return {"logits": self.logits(pooled), "distance_m": nn.functional.softplus(self.distance(pooled))}


def make_net(seed: int = 0) -> TinyClipNet:
    """A net with seeded weights and non-trivial BatchNorm statistics, in eval mode."""
    torch.manual_seed(seed)
    net = TinyClipNet()
    with torch.no_grad():
        bn = net.spatial[1]
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 1.5)
    return net.eval()


def make_inputs(seed: int = 1, frames_shape: Tuple[int, ...] = FRAMES_SHAPE) -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    valid = np.ones(frames_shape[:2], np.float32)
    valid[0, 0] = 0.0  # the oldest frame missing, as a clip at the start of a take
    return {"frames": rng.random(frames_shape, dtype=np.float32), "valid": valid}


def input_specs(frames_shape: Tuple[int, ...] = FRAMES_SHAPE) -> Tuple[TensorSpec, ...]:
    return (TensorSpec("frames", frames_shape, "float32"), TensorSpec("valid", frames_shape[:2], "float32"))


def export_net(path: Path, net: nn.Module, frames_shape: Tuple[int, ...] = FRAMES_SHAPE) -> ModelInfo:
    inputs = {k: torch.from_numpy(v) for k, v in make_inputs(frames_shape=frames_shape).items()}
    return export_onnx(net, inputs, path, model_name=MODEL_NAME, config={"features": 8, "classes": 5})
