"""The parts of a preview frame, encoded once for every viewer: pure functions of arrays.

* ``styled``: JPEG of the style worker's styled image (already at the preview size);
* ``raw``: JPEG of the node's image brought to the preview size (``cv2.INTER_AREA``);
* ``depth``: the depth map at the preview size (nearest neighbour: depth is never blended across
  an edge) as little-endian ``uint16`` millimetres, 0 where there is no return (NaN, or not
  above 0), 65535 for 65.535 m and beyond, zlib-compressed (level :data:`DEPTH_ZLIB_LEVEL`).

The rounding to millimetres is the only loss in ``depth``; a LiDAR's range noise is centimetres.
:func:`kinds_for` says which parts a viewer gets: one that asked for ``styled`` gets ``raw`` in
its place on a frame that has no styled image (no style worker, or the page turned it off).
"""

from __future__ import annotations

import zlib
from typing import AbstractSet, Dict, FrozenSet, Mapping, Tuple

import cv2
import numpy as np

from edge.preview.errors import PreviewError

__all__ = ["PART_KINDS", "DEFAULT_PARTS", "JPEG_MIME", "DEPTH_MIME", "DEPTH_ENCODING", "DEPTH_ZLIB_LEVEL",
           "encode_jpeg", "fit_image", "depth_millimetres", "encode_depth", "part_spec", "kinds_for",
           "needed_kinds"]

#: Every part a viewer can ask for, in the order a frame message carries them.
PART_KINDS: Tuple[str, ...] = ("styled", "raw", "depth")
DEFAULT_PARTS: FrozenSet[str] = frozenset({"styled"})
JPEG_MIME = "image/jpeg"
DEPTH_MIME = "application/x-onset-depth"
DEPTH_ENCODING = "uint16le+zlib"
DEPTH_ZLIB_LEVEL = 1
_MAX_MM = 65535


def encode_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    """JPEG bytes of an (H, W, 3) uint8 RGB image at ``quality`` (10-100)."""
    bgr = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
    if not ok:
        raise PreviewError(f"OpenCV could not encode a {rgb.shape} image as JPEG")
    return data.tobytes()


def fit_image(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """``rgb`` at ``width`` x ``height`` px (area-averaged when smaller); the same array when it already is."""
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return rgb
    return cv2.resize(np.ascontiguousarray(rgb), (int(width), int(height)), interpolation=cv2.INTER_AREA)


def depth_millimetres(depth_m: np.ndarray, width: int, height: int) -> np.ndarray:
    """(height, width) uint16 millimetres of a depth map in metres (module docstring)."""
    depth = np.asarray(depth_m, dtype=np.float32)
    if depth.shape[1] != width or depth.shape[0] != height:
        depth = cv2.resize(np.ascontiguousarray(depth), (int(width), int(height)), interpolation=cv2.INTER_NEAREST)
    with np.errstate(invalid="ignore"):
        mm = np.rint(depth * 1000.0)
        valid = np.isfinite(depth) & (depth > 0)
    out = np.zeros(depth.shape, dtype=np.uint16)
    out[valid] = np.clip(mm[valid], 1, _MAX_MM).astype(np.uint16)
    return out


def encode_depth(depth_m: np.ndarray, width: int, height: int) -> bytes:
    """The ``depth`` part: :func:`depth_millimetres` as little-endian bytes, zlib-compressed."""
    return zlib.compress(depth_millimetres(depth_m, width, height).astype("<u2").tobytes(), DEPTH_ZLIB_LEVEL)


def part_spec(kind: str, size: int, width: int, height: int) -> Dict[str, object]:
    """How a frame header describes one part of ``size`` bytes."""
    if kind == "depth":
        return {"kind": kind, "mime": DEPTH_MIME, "bytes": int(size), "width": int(width), "height": int(height),
                "unit": "mm", "encoding": DEPTH_ENCODING}
    return {"kind": kind, "mime": JPEG_MIME, "bytes": int(size)}


def kinds_for(wanted: AbstractSet[str], available: Mapping[str, object]) -> Tuple[str, ...]:
    """The parts a viewer that asked for ``wanted`` gets of a frame with ``available`` parts, in
    :data:`PART_KINDS` order; ``raw`` stands in for a missing ``styled``."""
    out = []
    for kind in PART_KINDS:
        if kind in available and (kind in wanted or (kind == "raw" and "styled" in wanted
                                                     and "styled" not in available)):
            out.append(kind)
    return tuple(out)


def needed_kinds(wanted: AbstractSet[str], styled_image: bool) -> FrozenSet[str]:
    """The parts to encode for viewers who want ``wanted`` between them, on a frame that has a
    styled image or not."""
    need = set(wanted) & set(PART_KINDS)
    if "styled" in need and not styled_image:
        need.discard("styled")
        need.add("raw")
    return frozenset(need)
