"""Writing test images to disk: float RGB in [0, 1] as 8- or 16-bit PNG, TIFF or JPEG."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def to_int(rgb: np.ndarray, bits: int) -> np.ndarray:
    """Float RGB in [0, 1] as uint8 or uint16 code values, rounded."""
    top = (1 << bits) - 1
    dtype = np.uint8 if bits == 8 else np.uint16
    return np.clip(np.rint(np.asarray(rgb, dtype=np.float64) * top), 0, top).astype(dtype)


def write(path: Path, rgb: np.ndarray, bits: int = 8) -> Path:
    """Write ``rgb`` (H, W, 3) or (H, W) to ``path`` (type by extension): floats in [0, 1] as
    ``bits``-bit code values (``bits=32``: as float32, for a float TIFF), integers as given."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    values = np.asarray(rgb)
    if values.dtype.kind == "f":
        values = values.astype(np.float32) if bits == 32 else to_int(values, bits)
    if values.ndim == 3:
        values = values[:, :, ::-1]  # OpenCV writes BGR
    if not cv2.imwrite(str(path), np.ascontiguousarray(values)):
        raise OSError(f"could not write {path}")
    return path


def gradient(width: int = 160, height: int = 130) -> np.ndarray:
    """A small (H, W, 3) float image with distinct channels: red across, green down, blue constant."""
    x = np.linspace(0.0, 1.0, width)[None, :].repeat(height, 0)
    y = np.linspace(0.0, 1.0, height)[:, None].repeat(width, 1)
    return np.stack([x, y, np.full_like(x, 0.25)], axis=2)
