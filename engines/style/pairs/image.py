"""One pair image read from disk: checked, then float32 RGB in [0, 1].

**Types.** PNG, JPEG and TIFF (:data:`IMAGE_SUFFIXES`, case-insensitive), told apart by their
first bytes as well as their extension: a file whose first bytes are not its type's signature is
not an image (text saved as ``.png``). Decoding is OpenCV's (``cv2.imdecode``, which keeps 16-bit
samples, applies a JPEG's EXIF orientation, expands palettes and drops alpha).

**Integrity.** A PNG must end with its ``IEND`` chunk and a JPEG with its end-of-image marker
(``FF D9``), within the last 64 KiB: a truncated JPEG otherwise decodes partly, the rest grey. A
file the decoder rejects (a PNG chunk whose CRC fails, a damaged TIFF) is corrupt.

**Samples.** 8-bit samples are scaled by 1/255 and 16-bit ones by 1/65535 (full range; a 12-bit
scan stored in 16 bits keeps its place in the range). Greyscale is repeated into three channels.
Float or 32-bit integer samples are refused: the look is learned from display-referred code values
in [0, 1], and a float file's range is not known.

**Size.** The shorter side must be at least :data:`MIN_IMAGE_SIDE_PX`: ORB leaves a 31 px band at
each edge without keypoints and the ECC pyramid's coarsest level wants 32 px or more, so under
128 px too few features remain to pin down a homography.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import cv2
import numpy as np

from engines.style.pairs.errors import (
    CorruptImageError,
    ImageTooSmallError,
    NotAnImageError,
    UnsupportedImageError,
)

__all__ = ["IMAGE_SUFFIXES", "MIN_IMAGE_SIDE_PX", "ImageInfo", "image_type_of", "probe_image", "load_image"]

#: File extensions read, to the type they must hold.
IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}

#: Smallest shorter side of a usable image, px (module docstring).
MIN_IMAGE_SIDE_PX = 128

_SIGNATURES = {
    "PNG": (b"\x89PNG\r\n\x1a\n",),
    "JPEG": (b"\xff\xd8\xff",),
    "TIFF": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),  # classic and BigTIFF
}

#: How far from the file's end a PNG's IEND chunk or a JPEG's end-of-image marker may sit (some
#: cameras and editors append a trailer).
_TRAILER_BYTES = 64 * 1024

#: A PNG's IEND chunk type and its CRC, which never varies.
_PNG_END = b"IEND\xaeB`\x82"

_FULL_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


@dataclass(frozen=True)
class ImageInfo:
    """What a file holds: its type, size (width, height) px, bits per sample and channels."""

    image_type: str
    size_px: Tuple[int, int]
    bits: int
    channels: int


def image_type_of(path: Path) -> Optional[str]:
    """``"PNG"``, ``"JPEG"`` or ``"TIFF"`` by the file's extension, None for any other."""
    return IMAGE_SUFFIXES.get(Path(path).suffix.lower())


def _read_bytes(path: Path) -> Tuple[str, bytes]:
    image_type = image_type_of(path)
    if image_type is None:
        raise NotAnImageError(path, f"extension {path.suffix!r} is not one of {', '.join(IMAGE_SUFFIXES)}")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CorruptImageError(path, f"cannot be read: {err.strerror or err}") from err
    if not any(data.startswith(sig) for sig in _SIGNATURES[image_type]):
        raise NotAnImageError(path, f"named as {image_type} but its first bytes {data[:8]!r} are not a "
                                    f"{image_type} signature ({len(data)} bytes)")
    if image_type == "PNG" and _PNG_END not in data[-_TRAILER_BYTES:]:
        raise CorruptImageError(path, f"truncated PNG: no IEND chunk at its end ({len(data)} bytes)")
    if image_type == "JPEG" and b"\xff\xd9" not in data[-_TRAILER_BYTES:]:
        raise CorruptImageError(path, f"truncated JPEG: no end-of-image marker FF D9 ({len(data)} bytes)")
    return image_type, data


def _decode(path: Path) -> Tuple[str, np.ndarray]:
    image_type, data = _read_bytes(path)
    raw = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    if raw is None:
        raise CorruptImageError(path, f"a damaged {image_type}: it does not decode ({len(data)} bytes)")
    if raw.dtype not in _FULL_SCALE:
        what = "float" if raw.dtype.kind == "f" else "integer"
        raise UnsupportedImageError(path, f"{image_type} of {raw.dtype.itemsize * 8}-bit {what} samples; "
                                          f"expected 8- or 16-bit integer samples")
    channels = 1 if raw.ndim == 2 else raw.shape[2]
    if channels not in (1, 3):
        raise UnsupportedImageError(path, f"{image_type} with {channels} channels; expected greyscale or RGB")
    height, width = raw.shape[:2]
    if min(width, height) < MIN_IMAGE_SIDE_PX:
        raise ImageTooSmallError(path, f"{width}x{height} px is too small to register: the shorter side "
                                       f"must be at least {MIN_IMAGE_SIDE_PX} px")
    return image_type, raw


def probe_image(path: Path) -> ImageInfo:
    """Check that ``path`` is a usable image (module docstring) and say what it holds; raises a
    :class:`~engines.style.pairs.errors.PairImageError` subclass naming the file and the values."""
    path = Path(path)
    image_type, raw = _decode(path)
    channels = 1 if raw.ndim == 2 else raw.shape[2]
    return ImageInfo(image_type, (int(raw.shape[1]), int(raw.shape[0])), raw.dtype.itemsize * 8, channels)


def load_image(path: Path) -> np.ndarray:
    """(H, W, 3) float32 RGB in [0, 1] of an image file (module docstring); raises as :func:`probe_image`."""
    path = Path(path)
    _, raw = _decode(path)
    scaled = raw.astype(np.float32) / np.float32(_FULL_SCALE[raw.dtype])
    if scaled.ndim == 2:
        return np.repeat(scaled[:, :, None], 3, axis=2)
    return np.ascontiguousarray(scaled[:, :, ::-1])  # OpenCV decodes to BGR
