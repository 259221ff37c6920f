"""The stored images: lossless PNG both ways, the camera's RGB and the LiDAR depth in millimetres.

* ``rgb.png``: the full-size camera frame, 8-bit RGB, exactly as the bag holds it.
* ``depth.png``: the fused depth map (optical-axis distance, the image's size) as 16-bit greyscale
  PNG in whole millimetres, rounded to the nearest: ``0`` means no LiDAR return on that pixel,
  :data:`DEPTH_SATURATED_MM` (65.535 m) means that far or farther. Rounding moves a depth by at most
  0.5 mm; depths nearer than 0.5 mm do not occur (fusion projects nothing nearer than 5 cm).

:func:`decode_depth_png` gives metres back as float32 with NaN where there is no return, the way
fusion and :func:`engines.captioner.inputs.frame_planes` take them.
"""

from __future__ import annotations

import io
from typing import Optional, Tuple

import numpy as np

from engines.captioner.dataset.errors import DatasetFormatError

__all__ = ["DEPTH_SATURATED_MM", "depth_to_mm", "encode_rgb_png", "encode_depth_png", "decode_rgb_png",
           "decode_depth_mm", "decode_depth_png"]

#: The largest depth a 16-bit millimetre PNG holds; farther returns are stored as this.
DEPTH_SATURATED_MM = 65535


def _image():
    from PIL import Image

    return Image


def depth_to_mm(depth_m: Optional[np.ndarray], shape_hw: Tuple[int, int]) -> np.ndarray:
    """(H, W) uint16 millimetres of a depth map in metres (NaN or <= 0: no return -> 0); None
    (no LiDAR) is all zeros of ``shape_hw``."""
    if depth_m is None:
        return np.zeros(shape_hw, dtype=np.uint16)
    depth = np.asarray(depth_m, dtype=np.float64)
    if depth.shape != tuple(shape_hw):
        raise ValueError(f"depth map is {depth.shape}, the image {tuple(shape_hw)}")
    valid = np.isfinite(depth) & (depth > 0)
    mm = np.zeros(depth.shape, dtype=np.uint16)
    mm[valid] = np.clip(np.rint(depth[valid] * 1000.0), 1, DEPTH_SATURATED_MM).astype(np.uint16)
    return mm


def encode_rgb_png(rgb: np.ndarray, compress_level: int = 6) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 image."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"rgb must be (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    out = io.BytesIO()
    _image().fromarray(np.ascontiguousarray(rgb), "RGB").save(out, "PNG", compress_level=int(compress_level))
    return out.getvalue()


def encode_depth_png(depth_m: Optional[np.ndarray], shape_hw: Tuple[int, int], compress_level: int = 6) -> bytes:
    """16-bit greyscale PNG bytes of a depth map in metres (module docstring)."""
    mm = depth_to_mm(depth_m, shape_hw)
    out = io.BytesIO()
    _image().fromarray(mm).save(out, "PNG", compress_level=int(compress_level))  # uint16 -> mode I;16
    return out.getvalue()


def _open(data: bytes, what: str):
    try:
        image = _image().open(io.BytesIO(data))
        image.load()
    except Exception as err:  # Pillow raises several kinds for a damaged file
        raise DatasetFormatError(f"{what} is not a readable PNG: {err}") from err
    if image.format != "PNG":
        raise DatasetFormatError(f"{what} is {image.format}, not PNG")
    return image


def decode_rgb_png(data: bytes, what: str = "rgb.png") -> np.ndarray:
    """The (H, W, 3) uint8 image of an ``rgb.png``."""
    image = _open(data, what)
    if image.mode != "RGB":
        raise DatasetFormatError(f"{what} has mode {image.mode}, expected 8-bit RGB")
    return np.asarray(image, dtype=np.uint8)


def decode_depth_mm(data: bytes, what: str = "depth.png") -> np.ndarray:
    """The (H, W) uint16 millimetres of a ``depth.png``."""
    image = _open(data, what)
    if image.mode not in ("I;16", "I"):
        raise DatasetFormatError(f"{what} has mode {image.mode}, expected 16-bit greyscale")
    values = np.asarray(image)
    if values.dtype != np.uint16:
        if values.min() < 0 or values.max() > DEPTH_SATURATED_MM:
            raise DatasetFormatError(f"{what} holds values outside 16 bits")
        values = values.astype(np.uint16)
    return values


def decode_depth_png(data: bytes, what: str = "depth.png") -> np.ndarray:
    """Metres (H, W) float32 of a ``depth.png``, NaN where no return."""
    mm = decode_depth_mm(data, what)
    depth = mm.astype(np.float32) / np.float32(1000.0)
    depth[mm == 0] = np.nan
    return depth
