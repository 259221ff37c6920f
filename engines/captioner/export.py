"""The captioner model as ONNX: the whole clip model, and its three stages for a live worker.

``onset engines export captioner --model FILE --out DIR`` writes, from a model file
(:mod:`engines.captioner.model.checkpoint`), each with static shapes (batch 1), opset 17 and the
weights' hash (:func:`engines.runtime.export_onnx`):

* ``clip.onnx``: ``frames`` (1, 8, 5, 72, 128) -> the six outputs: the reference the stages and
  every backend are checked against, and what the benchmark times;
* ``encoder.onnx``: ``planes`` (1, 5, 72, 128) -> ``features`` (1, C, 18, 32), once per frame;
* ``pairs.onnx``: ``older``, ``newer`` feature maps -> ``pair`` (1, P), once per frame;
* ``head.onnx``: ``newest`` feature map and the clip's seven ``pairs`` (1, 7, P) -> the outputs,
  once per clip.

A worker that runs the stages does one frame's work when the frame arrives instead of eight
frames' work per clip (:mod:`engines.captioner.live`); in eval mode the stages give the clip
model's outputs (``tests/engines/captioner/test_export.py``). ``card.json`` beside them is the model
card with the export's files and hashes. Each stage has a torch factory registered under its
model name, so the torch backend runs the same files (:func:`engines.runtime.register_torch_factory`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Union

import torch
from torch import nn

from engines.captioner.inputs import CHANNELS, CLIP_FRAMES, MODEL_SIZE_HW
from engines.captioner.model.checkpoint import load_checkpoint
from engines.captioner.model.network import INPUT_NAME, INPUT_SHAPE, OUTPUT_NAMES, CaptionerNet, NetworkConfig
from engines.runtime import export_onnx, register_torch_factory

__all__ = ["STAGE_FILES", "export_captioner", "ClipModel", "EncoderStage", "PairStage", "HeadStage"]

#: Stage name -> ONNX file name in an export directory.
STAGE_FILES = {"clip": "clip.onnx", "encoder": "encoder.onnx", "pairs": "pairs.onnx", "head": "head.onnx"}
CARD_FILE = "card.json"


class _Stage(nn.Module):
    def __init__(self, network: Dict[str, Any]) -> None:
        super().__init__()
        self.net = CaptionerNet(NetworkConfig.from_dict(network))


class ClipModel(_Stage):
    def forward(self, frames: torch.Tensor) -> Dict[str, torch.Tensor]:
        return self.net(frames)


class EncoderStage(_Stage):
    def forward(self, planes: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {"features": self.net.encode_frames(planes)}


class PairStage(_Stage):
    def forward(self, older: torch.Tensor, newer: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {"pair": self.net.encode_pairs(older, newer)}


class HeadStage(_Stage):
    def forward(self, newest: torch.Tensor, pairs: torch.Tensor) -> Dict[str, torch.Tensor]:
        return self.net.from_pairs(newest, pairs)


_STAGES = {"clip": ClipModel, "encoder": EncoderStage, "pairs": PairStage, "head": HeadStage}
for _name, _cls in _STAGES.items():
    register_torch_factory(f"captioner-{_name}", _cls, replace=True)


def _examples(net: CaptionerNet) -> Dict[str, Dict[str, torch.Tensor]]:
    c, fh, fw = net.feature_shape
    return {
        "clip": {INPUT_NAME: torch.zeros((1,) + INPUT_SHAPE)},
        "encoder": {"planes": torch.zeros(1, len(CHANNELS), *MODEL_SIZE_HW)},
        "pairs": {"older": torch.zeros(1, c, fh, fw), "newer": torch.zeros(1, c, fh, fw)},
        "head": {"newest": torch.zeros(1, c, fh, fw), "pairs": torch.zeros(1, CLIP_FRAMES - 1, net.pair_features)},
    }


def export_captioner(model_file: Union[str, Path], out_dir: Union[str, Path]) -> Dict[str, Any]:
    """Write the four ONNX files and ``card.json`` for ``model_file`` into ``out_dir``; returns the card."""
    checkpoint = load_checkpoint(model_file)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    network = checkpoint.network.to_dict()
    probe = CaptionerNet(checkpoint.network)
    examples = _examples(probe)
    files = {}
    for name, cls in _STAGES.items():
        stage = cls(network)
        stage.net.load_state_dict(checkpoint.state_dict)
        stage.eval()
        outputs = OUTPUT_NAMES if name in ("clip", "head") else None
        info = export_onnx(stage, examples[name], out / STAGE_FILES[name], model_name=f"captioner-{name}",
                           config={"network": network}, output_names=outputs)
        files[name] = {"file": STAGE_FILES[name], "model_sha256": info.model_sha256,
                       "inputs": [[s.name, list(s.shape), s.dtype] for s in info.inputs],
                       "outputs": list(info.output_names)}
    card = dict(checkpoint.card)
    card["export"] = {"from": Path(model_file).name, "weights_sha256": checkpoint.weights_sha256,
                      "feature_shape": list(probe.feature_shape), "pair_features": probe.pair_features,
                      "clip_frames": CLIP_FRAMES, "files": files}
    (out / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return card
