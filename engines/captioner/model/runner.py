"""The model frame by frame over a stream of frames: each frame encoded once, its features kept.

:class:`ClipRunner` keeps the newest :data:`~engines.captioner.inputs.CLIP_FRAMES` feature maps'
worth of work (the newest map and the seven newest pair vectors, :mod:`.network`) and gives, for
every frame pushed, the model's outputs for the clip that ends at it: one frame encoding and one
pair encoding per frame instead of eight of each. Until eight frames have been pushed, the clip
is the first frame repeated in front of those there are (a clip that has not moved yet), the
same outputs as ``model(frames)`` on that padded clip.

:func:`predict_frames` runs a take's frames through it and returns a
:class:`~.shots.FramePrediction` for each. A frame is anything with the attributes
``frame_index, t_ns, timecode, rgb, depth_m`` (``engines.captioner.dataset.TakeFrame``, what
``iter_take_frames`` yields) or a tuple starting with those five fields; ``rgb`` is (H, W, 3)
uint8, ``depth_m`` (H, W) metres with NaN where there is no return, or None.
"""

from __future__ import annotations

from collections import deque
from typing import Deque, Dict, Iterable, List, Optional, Tuple

import numpy as np
import torch

from engines.captioner.inputs import CLIP_FRAMES, frame_planes
from engines.captioner.model.errors import ModelInputError
from engines.captioner.model.network import INPUT_SHAPE, CaptionerNet
from engines.captioner.model.predict import DEPTH_PLANES, softmax
from engines.captioner.model.shots import FramePrediction

__all__ = ["ClipRunner", "predict_frames"]


class ClipRunner:
    """Outputs of ``model`` for the clip ending at each pushed frame (module docstring)."""

    def __init__(self, model: CaptionerNet, depth: bool = True) -> None:
        self.model = model.eval()
        self.depth = depth
        self._previous: Optional[torch.Tensor] = None
        self._pairs: Deque[torch.Tensor] = deque(maxlen=CLIP_FRAMES - 1)

    def reset(self) -> None:
        """Forget the frames pushed so far (a cut in the stream, a new take)."""
        self._previous = None
        self._pairs.clear()

    def push(self, planes: np.ndarray) -> Dict[str, np.ndarray]:
        """One frame's (5, 72, 128) float32 planes (:func:`engines.captioner.inputs.frame_planes`)
        -> the outputs, each a numpy array without the batch dimension."""
        planes = np.asarray(planes)
        if planes.shape != INPUT_SHAPE[1:] or planes.dtype != np.float32:
            raise ModelInputError(f"a frame's planes must be {INPUT_SHAPE[1:]} float32; got {planes.shape} "
                                  f"{planes.dtype}")
        with torch.no_grad():
            x = torch.from_numpy(planes).unsqueeze(0)
            if not self.depth:
                x = x.clone()
                x[:, DEPTH_PLANES] = 0.0
            features = self.model.encode_frames(x)
            if self._previous is None:
                still = self.model.encode_pairs(features, features)
                self._pairs.extend([still] * (CLIP_FRAMES - 1))
            else:
                self._pairs.append(self.model.encode_pairs(self._previous, features))
            self._previous = features
            out = self.model.from_pairs(features, torch.stack(list(self._pairs), dim=1))
        return {name: value[0].numpy() for name, value in out.items()}


def _frame_fields(item: object) -> Tuple[int, int, object, np.ndarray, Optional[np.ndarray]]:
    if hasattr(item, "rgb"):
        fields = tuple(getattr(item, name) for name in ("frame_index", "t_ns", "timecode", "rgb", "depth_m"))
    elif isinstance(item, tuple) and len(item) >= 5:
        fields = item[:5]
    else:
        raise ModelInputError("a take frame has frame_index, t_ns, timecode, rgb and depth_m (as attributes "
                              f"or the first five fields of a tuple); got {type(item).__name__}")
    return int(fields[0]), int(fields[1]), fields[2], fields[3], fields[4]


def predict_frames(model: CaptionerNet, frames: Iterable[object], depth: bool = True) -> List[FramePrediction]:
    """Every frame of a take through :class:`ClipRunner` (module docstring)."""
    runner = ClipRunner(model, depth=depth)
    predictions: List[FramePrediction] = []
    last_index: Optional[int] = None
    for item in frames:
        frame_index, t_ns, timecode, rgb, depth_m = _frame_fields(item)
        if last_index is not None and frame_index <= last_index:
            raise ModelInputError(f"take frames must come in order: frame {frame_index} after frame {last_index}")
        last_index = frame_index
        out = runner.push(frame_planes(rgb, depth_m if depth else None))
        predictions.append(FramePrediction(
            frame_index=frame_index, t_ns=t_ns, timecode=None if timecode is None else str(timecode),
            shot_size_probs=softmax(out["shot_size_logits"][None])[0],
            movement_probs=softmax(out["movement_logits"][None])[0],
            focal_mm=float(np.exp(out["log_focal_mm"])), focal_log_sigma=float(out["log_focal_sigma"]),
            distance_m=float(np.exp(out["log_distance_m"])), distance_log_sigma=float(out["log_distance_sigma"])))
    return predictions
