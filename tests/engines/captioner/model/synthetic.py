"""A synthetic clip dataset with the item contract of ``engines.captioner.dataset.ClipDataset``.

Each clip is eight 128x72 frames of a striped backdrop and, unless the shot size is ``none``, a
flat rectangle standing in for the subject:

* **shot size**: the rectangle's height as a share of the frame's (:data:`SUBJECT_HEIGHT_SHARE`);
* **movement**: how the view moves from frame to frame: a pan shifts everything sideways by
  :data:`PAN_PX_PER_FRAME`, a tilt up or down, a zoom scales about the centre by
  :data:`ZOOM_PER_FRAME`; ``static`` holds still (:data:`SYNTH_MOVEMENTS`);
* **focal length**: the backdrop's stripe period in pixels is ``focal_mm / 2.5`` in the newest frame;
* **subject distance**: the rectangle's brightness falls with the log of the distance, and the
  depth planes hold it (the backdrop stands at :data:`BACKDROP_M`), on a random 40 % of the pixels;
  a clip without a subject has no distance label (NaN), as a real one would.

Frames go through ``engines.captioner.inputs.frame_planes``, as the real ones do. Items are
rendered on demand from ``(seed, index)``, so the same index is always the same clip.
"""

from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import Dataset

from engines.captioner.inputs import CLIP_FRAMES, MOVEMENT_CLASSES, SHOT_SIZE_CLASSES, frame_planes

SUBJECT_HEIGHT_SHARE: Dict[str, float] = {"CU": 0.95, "MS": 0.62, "FS": 0.4, "WS": 0.2, "none": 0.0}
SYNTH_SHOT_SIZES: Tuple[str, ...] = tuple(SUBJECT_HEIGHT_SHARE)
SYNTH_MOVEMENTS: Tuple[str, ...] = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in",
                                    "zoom_out")
PAN_PX_PER_FRAME = 2.0
ZOOM_PER_FRAME = 0.04
BACKDROP_M = 12.0
FOCAL_RANGE_MM = (20.0, 120.0)
DISTANCE_RANGE_M = (1.0, 10.0)
_H, _W = 72, 128


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _view(movement: str, k: int) -> Tuple[float, float, float]:
    """Camera centre (x, y, world units) and scale (world units per pixel) at frame k (7: newest)."""
    steps = CLIP_FRAMES - 1 - k  # frames before the newest
    cx = cy = 0.0
    scale = 1.0
    if movement == "pan_left":
        cx = PAN_PX_PER_FRAME * steps  # the view travels left: older frames saw further right
    elif movement == "pan_right":
        cx = -PAN_PX_PER_FRAME * steps
    elif movement == "tilt_up":
        cy = PAN_PX_PER_FRAME * steps
    elif movement == "tilt_down":
        cy = -PAN_PX_PER_FRAME * steps
    elif movement == "zoom_in":
        scale = (1.0 + ZOOM_PER_FRAME) ** steps  # older frames were wider
    elif movement == "zoom_out":
        scale = (1.0 + ZOOM_PER_FRAME) ** -steps
    return cx, cy, scale


def render_frame(movement: str, k: int, shot: str, focal_mm: float, distance_m: float,
                 scene: Dict[str, float], rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """One frame: (72, 128, 3) uint8 and its (72, 128) depth in metres (NaN: no return)."""
    cx, cy, scale = _view(movement, k)
    x = cx + (np.arange(_W) - (_W - 1) / 2) * scale  # the view is separable: one row and one column
    y = cy + (np.arange(_H) - (_H - 1) / 2) * scale
    period = focal_mm / 2.5
    pattern = np.outer(np.cos(2 * np.pi * y / (1.3 * period) + scene["phase_y"]),
                       np.sin(2 * np.pi * x / period + scene["phase_x"]))
    tint = np.array([scene["tint_r"], scene["tint_g"], scene["tint_b"]], np.float32)
    rgb = 0.45 + 0.3 * pattern.astype(np.float32)[..., None] * tint
    depth = np.full((_H, _W), BACKDROP_M, np.float32)
    share = SUBJECT_HEIGHT_SHARE[shot]
    if share > 0:
        height = share * _H
        width = 0.4 * height
        inside = np.outer(np.abs(y - scene["subject_y"] * (1 - share)) < height / 2,
                          np.abs(x - scene["subject_x"]) < width / 2)
        brightness = 1.0 - 0.8 * math.log(distance_m) / math.log(DISTANCE_RANGE_M[1])
        rgb[inside] = brightness * np.array([1.0, 0.35, 0.25], np.float32)
        depth[inside] = distance_m
    rgb = np.clip(rgb + 0.01 * rng.standard_normal(rgb.shape, dtype=np.float32), 0.0, 1.0)
    depth[rng.random((_H, _W), dtype=np.float32) > 0.4] = np.nan
    return (rgb * 255.0 + 0.5).astype(np.uint8), depth


class SyntheticClips(Dataset):
    """``count`` clips from ``seed``; each label is missing with probability ``missing``. With
    ``cache`` each clip's frames are kept (float16, as ``ClipDataset`` keeps its planes) once rendered."""

    def __init__(self, count: int, seed: int = 0, missing: float = 0.05, depth: bool = True,
                 shot_sizes: Tuple[str, ...] = SYNTH_SHOT_SIZES, movements: Tuple[str, ...] = SYNTH_MOVEMENTS,
                 cache: bool = False):
        self.count, self.seed, self.missing, self.depth = count, seed, missing, depth
        self.shot_sizes, self.movements = shot_sizes, movements
        self._cache: Dict[int, torch.Tensor] = {} if cache else None  # type: ignore[assignment]

    def __len__(self) -> int:
        return self.count

    def labels(self, index: int) -> Dict[str, object]:
        rng = np.random.default_rng([self.seed, index])
        return self._draw(rng)

    def _draw(self, rng: np.random.Generator) -> Dict[str, object]:
        return {
            "shot": self.shot_sizes[int(rng.integers(len(self.shot_sizes)))],
            "movement": self.movements[int(rng.integers(len(self.movements)))],
            "focal_mm": _log_uniform(rng, *FOCAL_RANGE_MM),
            "distance_m": _log_uniform(rng, *DISTANCE_RANGE_M),
            "scene": {"phase_x": rng.uniform(0, 2 * np.pi), "phase_y": rng.uniform(0, 2 * np.pi),
                      "tint_r": rng.uniform(0.5, 1.0), "tint_g": rng.uniform(0.5, 1.0), "tint_b": rng.uniform(0.5, 1.0),
                      "subject_x": rng.uniform(-15, 15), "subject_y": rng.uniform(-0.2, 0.2) * _H},
            "missing": rng.random(4) < self.missing,
        }

    def __getitem__(self, index: int) -> Dict[str, object]:
        if not 0 <= index < self.count:
            raise IndexError(index)
        rng = np.random.default_rng([self.seed, index])
        d = self._draw(rng)
        frames = None if self._cache is None else self._cache.get(index)
        if frames is None:
            planes = []
            for k in range(CLIP_FRAMES):
                rgb, depth = render_frame(d["movement"], k, d["shot"], d["focal_mm"], d["distance_m"], d["scene"],
                                          rng)
                planes.append(frame_planes(rgb, depth if self.depth else None))
            frames = torch.from_numpy(np.stack(planes)).half()
            if self._cache is not None:
                self._cache[index] = frames
        missing = d["missing"]
        return {
            "frames": frames.float(),
            "shot_size": torch.tensor(-1 if missing[0] else SHOT_SIZE_CLASSES.index(d["shot"]), dtype=torch.int64),
            "movement": torch.tensor(-1 if missing[1] else MOVEMENT_CLASSES.index(d["movement"]), dtype=torch.int64),
            "focal_mm": torch.tensor(math.nan if missing[2] else d["focal_mm"], dtype=torch.float32),
            "distance_m": torch.tensor(math.nan if missing[3] or d["shot"] == "none" else d["distance_m"],
                                       dtype=torch.float32),
            "key": f"synthetic/{self.seed}/{index:05d}",
        }


def synthetic_take(segments: Sequence[Tuple[str, str, int]], seed: int = 0, focal_mm: float = 50.0,
                   distance_m: float = 3.0, fps: float = 12.0) -> List[tuple]:
    """A take's frames ``(frame_index, t_ns, timecode, rgb, depth_m)``: for each ``(shot, movement,
    frames)`` segment, that many frames of one scene moving that way all along."""
    rng = np.random.default_rng(seed)
    scene = {"phase_x": 0.3, "phase_y": 1.1, "tint_r": 0.9, "tint_g": 0.7, "tint_b": 0.6, "subject_x": 0.0,
             "subject_y": 0.0}
    frames: List[tuple] = []
    for shot, movement, count in segments:
        for j in range(count):
            index = len(frames)
            rgb, depth = render_frame(movement, j, shot, focal_mm, distance_m, scene, rng)
            frames.append((index, int(round(index * 1e9 / fps)), f"01:00:{index // 24:02d}:{index % 24:02d}", rgb,
                           depth))
    return frames
