"""What the captioner model sees: one fused frame as a small tensor, a clip as a stack of them.

The same function prepares a frame for training (the dataset builder's stored frames) and live
(the worker's fused frames), so the model meets the same numbers in both.

A frame becomes :data:`CHANNELS` planes of :data:`MODEL_SIZE_HW` pixels, float32:

* ``r, g, b`` in [0, 1], each the mean of its block of full-size pixels (area downscaling);
* ``depth``: the block's mean LiDAR depth (optical axis, over the pixels with a return) on a log
  scale, ``log(d / DEPTH_NEAR_M) / log(DEPTH_FAR_M / DEPTH_NEAR_M)`` clipped to [0, 1];
* ``depth_valid``: the share of the block's pixels with a return (0 where there is none).

A frame without depth (no LiDAR on the rig, or the model asked to do without) has both depth
planes zero: the model is told "no depth", never a made-up one. A clip is :data:`CLIP_FRAMES`
frames taken :data:`CLIP_RATE_HZ` apart, oldest first; the clip's labels are its newest frame's.

The class vocabularies the model's heads use are fixed here (:data:`SHOT_SIZE_CLASSES`,
:data:`MOVEMENT_CLASSES`); a stored label outside them is an error, not a new class.
"""

from __future__ import annotations

import math
from typing import Optional, Tuple

import numpy as np

from engines.captioner.movement import MovementClass
from engines.captioner.shot_size import ShotSize

__all__ = [
    "MODEL_SIZE_HW", "CHANNELS", "CLIP_FRAMES", "CLIP_RATE_HZ", "DEPTH_NEAR_M", "DEPTH_FAR_M",
    "SHOT_SIZE_CLASSES", "MOVEMENT_CLASSES", "InputError", "frame_planes", "shot_size_index",
    "movement_index",
]

#: (height, width) of every plane: 640x360 frames downscale by 5 in both directions.
MODEL_SIZE_HW: Tuple[int, int] = (72, 128)
CHANNELS = ("r", "g", "b", "depth", "depth_valid")
CLIP_FRAMES = 8
CLIP_RATE_HZ = 12.0
DEPTH_NEAR_M = 0.3
DEPTH_FAR_M = 30.0

SHOT_SIZE_CLASSES: Tuple[str, ...] = tuple(s.value for s in ShotSize)
MOVEMENT_CLASSES: Tuple[str, ...] = tuple(m.value for m in MovementClass if m is not MovementClass.MISSING)


class InputError(ValueError):
    """A frame the model cannot take (wrong shape or type); the message says what was expected."""


def _block_sum_u8(image: np.ndarray, size_hw: Tuple[int, int]) -> np.ndarray:
    """Sum a uint8 ``image`` (H, W, C) over blocks giving ``size_hw`` (uint16 while a block's sum
    fits, else uint32). Strided slices added in place: far cheaper than a reduction over reshaped axes."""
    fh, fw = image.shape[0] // size_hw[0], image.shape[1] // size_hw[1]
    cols = image[:, 0::fw].astype(np.uint16 if fh * fw <= 257 else np.uint32)
    for k in range(1, fw):
        cols += image[:, k::fw]
    out = cols[0::fh].copy()
    for k in range(1, fh):
        out += cols[k::fh]
    return out


def _check_multiple(h: int, w: int, size_hw: Tuple[int, int]) -> None:
    if h < size_hw[0] or w < size_hw[1] or h % size_hw[0] or w % size_hw[1]:
        raise InputError(
            f"frame is {w}x{h}; the captioner takes frames whose width and height are whole multiples "
            f"of {size_hw[1]}x{size_hw[0]} (e.g. 640x360)")


def frame_planes(rgb: np.ndarray, depth_m: Optional[np.ndarray],
                 size_hw: Tuple[int, int] = MODEL_SIZE_HW) -> np.ndarray:
    """One frame as ``(len(CHANNELS), *size_hw)`` float32 planes (module docstring).

    ``rgb``: (H, W, 3) uint8; ``depth_m``: (H, W) float with NaN (or 0) where no return, or None.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InputError(f"rgb must be an (H, W, 3) uint8 image; got shape {rgb.shape} dtype {rgb.dtype}")
    h, w = rgb.shape[:2]
    _check_multiple(h, w, size_hw)
    out = np.zeros((len(CHANNELS),) + tuple(size_hw), np.float32)
    block = (h // size_hw[0]) * (w // size_hw[1])
    out[:3] = np.moveaxis(_block_sum_u8(rgb, size_hw), -1, 0) * np.float32(1.0 / (255.0 * block))
    if depth_m is None:
        return out
    depth = np.asarray(depth_m, dtype=np.float32)
    if depth.shape != (h, w):
        raise InputError(f"depth must be ({h}, {w}) to match the image; got {depth.shape}")
    # LiDAR depth is sparse: take the logarithm of the returns only.
    rows, cols = np.nonzero(np.isfinite(depth) & (depth > 0))
    if rows.size == 0:
        return out
    span = math.log(DEPTH_FAR_M / DEPTH_NEAR_M)
    log_depth = np.clip(np.log(depth[rows, cols] / DEPTH_NEAR_M) / span, 0.0, 1.0)
    cell = (rows // (h // size_hw[0])) * size_hw[1] + cols // (w // size_hw[1])
    cells = size_hw[0] * size_hw[1]
    counts = np.bincount(cell, minlength=cells).astype(np.float32)
    sums = np.bincount(cell, weights=log_depth, minlength=cells).astype(np.float32)
    out[3] = (sums / np.maximum(counts, 1.0)).reshape(size_hw)
    out[4] = (counts / block).reshape(size_hw)
    return out


def shot_size_index(value: Optional[str]) -> int:
    """The shot-size head's class index of a stored label; -1 for a missing one (None)."""
    if value is None:
        return -1
    try:
        return SHOT_SIZE_CLASSES.index(value)
    except ValueError:
        raise InputError(f"unknown shot size {value!r}; expected one of {', '.join(SHOT_SIZE_CLASSES)}") from None


def movement_index(value: Optional[str]) -> int:
    """The movement head's class index of a stored label; -1 for a missing one (None or 'missing')."""
    if value is None or value == MovementClass.MISSING.value:
        return -1
    try:
        return MOVEMENT_CLASSES.index(value)
    except ValueError:
        raise InputError(f"unknown movement {value!r}; expected one of {', '.join(MOVEMENT_CLASSES)}") from None
