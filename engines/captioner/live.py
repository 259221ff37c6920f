"""The captioner on live fused frames: the auto-labeler on every frame, the model on a sliding clip.

:class:`CaptionerEngine` is the engine an engine worker runs (:mod:`engines.worker`). For each
fused frame it takes it gives:

* ``labels``: what the rig measured (:class:`~engines.captioner.labeler.AutoLabeler`: focal
  length from the lens, movement from the telemetry, subject distance and shot size from the
  LiDAR), a missing label named with its reason;
* ``model``: what the model reads from the picture (and the depth, when there is one) over the
  newest clip — shot size and movement with their calibrated confidence, focal length (35 mm
  equivalent) and subject distance with their one-sigma spread — or None with the reason.

The model runs in stages (:mod:`engines.captioner.export`): a frame joins the clip when at least
``1 / CLIP_RATE_HZ`` has passed since the clip's last frame; then it is encoded once, paired
once with the frame before, and the head reads the newest map and the seven newest pair vectors.
A clip starts by repeating its first frame (as training clips start at a shot's first frame), and
starts again after a gap of more than :data:`RESTART_GAP_S` (frames lost, the stream restarted).

A frame the model cannot take (wrong size or type) raises :class:`engines.worker.FrameRejected`
with what was expected; the worker counts it and goes on.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Deque, Dict, Optional, Union

import numpy as np

from engines.captioner.inputs import (
    CLIP_FRAMES, CLIP_RATE_HZ, MOVEMENT_CLASSES, SHOT_SIZE_CLASSES, InputError, frame_planes,
)
from engines.captioner.labeler import AutoLabeler, FrameLabels
from engines.captioner.lens import SUPER35_WIDTH_MM
from engines.worker.loop import FrameRejected

__all__ = ["RESTART_GAP_S", "StagedCaptioner", "CaptionerEngine", "labels_document", "model_document",
           "open_captioner"]

#: A gap between clip frames longer than this starts a new clip.
RESTART_GAP_S = 0.5
_STAGES = ("encoder", "pairs", "head")


def _round(value: Optional[float], digits: int = 4) -> Optional[float]:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def labels_document(labels: FrameLabels) -> Dict[str, Any]:
    """The auto-labeler's labels of one frame as plain JSON values (units in the names)."""
    movement = labels.movement
    return {
        "focal_length_mm": _round(labels.focal.focal_length_mm, 3),
        "focal_35mm_mm": _round(labels.focal.equivalent_35mm_mm, 3),
        "movement": movement.movement.value,
        "movement_speed": _round(movement.speed, 4),
        "movement_speed_unit": movement.speed_unit,
        "shot_size": labels.shot_size.value,
        "subject_distance_m": _round(labels.subject_distance_m, 4),
        "height_assumed": bool(labels.height_assumed),
        "missing": dict(labels.missing),
    }


def model_document(outputs: Dict[str, np.ndarray]) -> Dict[str, Any]:
    """The model's outputs for one clip as captions with confidences."""
    def classes(logits: np.ndarray, names) -> Dict[str, Any]:
        z = np.asarray(logits, np.float64).reshape(-1)
        p = np.exp(z - z.max())
        p /= p.sum()
        best = int(np.argmax(p))
        return {"class": names[best], "confidence": round(float(p[best]), 4)}

    def regression(log_value: np.ndarray, log_sigma: np.ndarray, unit: str) -> Dict[str, Any]:
        mu, sigma = float(np.asarray(log_value).reshape(-1)[0]), float(np.asarray(log_sigma).reshape(-1)[0])
        return {"value": round(math.exp(mu), 4), "unit": unit, "low": round(math.exp(mu - sigma), 4),
                "high": round(math.exp(mu + sigma), 4), "relative_sigma": round(math.expm1(sigma), 4)}

    return {
        "shot_size": classes(outputs["shot_size_logits"], SHOT_SIZE_CLASSES),
        "movement": classes(outputs["movement_logits"], MOVEMENT_CLASSES),
        "focal_35mm": regression(outputs["log_focal_mm"], outputs["log_focal_sigma"], "mm"),
        "subject_distance": regression(outputs["log_distance_m"], outputs["log_distance_sigma"], "m"),
    }


class StagedCaptioner:
    """The model's three stages on a sliding clip (module docstring); ``sessions``: stage name ->
    a runtime :class:`~engines.runtime.Session` of ``encoder``, ``pairs`` and ``head``."""

    def __init__(self, sessions: Dict[str, Any]) -> None:
        missing = [s for s in _STAGES if s not in sessions]
        if missing:
            raise ValueError(f"the staged captioner needs sessions for {', '.join(_STAGES)}; missing {missing}")
        self.sessions = sessions
        self._maps: Deque[np.ndarray] = deque(maxlen=CLIP_FRAMES)
        self._pairs: Deque[np.ndarray] = deque(maxlen=CLIP_FRAMES - 1)
        self.clips = 0

    def reset(self) -> None:
        self._maps.clear()
        self._pairs.clear()

    def push(self, planes: np.ndarray) -> Dict[str, np.ndarray]:
        """Add one frame's planes (5, 72, 128) to the clip; the head's outputs for the clip it ends."""
        features = self.sessions["encoder"].run({"planes": planes[None].astype(np.float32, copy=False)})["features"]
        if not self._maps:  # a new clip: its first frame stands for the frames before it
            still = self.sessions["pairs"].run({"older": features, "newer": features})["pair"]
            self._pairs.extend([still] * (CLIP_FRAMES - 1))
        else:
            self._pairs.append(self.sessions["pairs"].run({"older": self._maps[-1], "newer": features})["pair"])
        self._maps.append(features)
        pairs = np.concatenate(list(self._pairs), axis=0)[None]
        self.clips += 1
        return self.sessions["head"].run({"newest": features, "pairs": pairs})

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()


def open_captioner(export_dir: Union[str, Path], backend: str = "auto", threads: int = 1) -> StagedCaptioner:
    """The staged model of an export directory (:func:`engines.captioner.export.export_captioner`)
    on ``backend`` (``auto``: the best the machine has)."""
    from engines.runtime import choose, create_backend

    folder = Path(export_dir)
    missing = [f"{s}.onnx" for s in _STAGES if not (folder / f"{s}.onnx").is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} is not a captioner export: {', '.join(missing)} missing "
                                "(make one with `onset engines export captioner`)")
    options: Dict[str, Any] = {}
    if backend == "auto":
        runtime = choose(intra_op_num_threads=threads) if _is_onnxruntime_first() else choose()
    else:
        if backend.startswith("onnxruntime"):
            options["intra_op_num_threads"] = threads
        if backend.startswith("torch"):
            import engines.captioner.export  # noqa: F401  (registers the stages' torch factories)
        runtime = create_backend(backend, **options)
    return StagedCaptioner({s: runtime.load(folder / f"{s}.onnx") for s in _STAGES})


def _is_onnxruntime_first() -> bool:
    from engines.runtime import list_backends

    for status in list_backends():
        if status.auto and status.available:
            return status.name.startswith("onnxruntime")
    return False


@dataclass
class _ClipState:
    last_t_ns: Optional[int] = None
    outputs: Optional[Dict[str, Any]] = None
    frame_index: Optional[int] = None


class CaptionerEngine:
    """The captioner as a worker's engine: ``process(frame)`` -> ``{"labels", "model"}`` (module
    docstring). ``model``: a :class:`StagedCaptioner`, or None to run the auto-labeler alone
    (``model_missing`` says why, and goes out with every result)."""

    name = "captioner"

    def __init__(self, model: Optional[StagedCaptioner], sensor_width_mm: float = SUPER35_WIDTH_MM,
                 model_missing: str = "no captioner model loaded", watch: Any = None) -> None:
        self.model = model
        self.model_missing = model_missing
        #: ``engines.style.loop_watch.StyledWatch`` when the styled frames are read too (closed loop)
        self.watch = watch
        self.labeler = AutoLabeler(sensor_width_mm)
        self._clip = _ClipState()
        self._period_ns = int(round(1e9 / CLIP_RATE_HZ))

    def process(self, frame: Any) -> Dict[str, Any]:
        rgb, depth = frame.rgb, frame.depth_m
        if depth is not None and not np.isfinite(depth).any():
            depth = None
        planes = None
        due = self._clip.last_t_ns is None or int(frame.t_ns) - self._clip.last_t_ns >= self._period_ns * 0.9
        if self.model is not None and due:
            try:
                planes = frame_planes(rgb, depth)
            except InputError as err:
                raise FrameRejected(str(err)) from None
        elif not (isinstance(rgb, np.ndarray) and rgb.ndim == 3 and rgb.dtype == np.uint8):
            raise FrameRejected(f"rgb must be an (H, W, 3) uint8 image; got {getattr(rgb, 'shape', None)}")
        labels = labels_document(self.labeler.label(frame))
        if planes is not None:
            if self._clip.last_t_ns is not None and int(frame.t_ns) - self._clip.last_t_ns > RESTART_GAP_S * 1e9:
                self.model.reset()
            self._clip.outputs = model_document(self.model.push(planes))
            self._clip.outputs["depth"] = depth is not None
            self._clip.last_t_ns, self._clip.frame_index = int(frame.t_ns), int(frame.frame_index)
            if self.watch is not None:
                self.watch.raw(int(frame.frame_index), self._clip.outputs)
        if self.model is None:
            model: Dict[str, Any] = {"missing": self.model_missing}
        elif self._clip.outputs is None:
            model = {"missing": "no clip yet"}
        else:
            model = dict(self._clip.outputs, clip_end_frame=self._clip.frame_index)
        result = {"labels": labels, "model": model}
        if self.watch is not None:
            self.watch.poll()
            result["closed_loop"] = self.watch.summary()
        return result

    def close(self) -> None:
        if self.watch is not None:
            self.watch.close()
        if self.model is not None:
            self.model.close()

