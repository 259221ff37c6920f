"""Structure images: what a digital control and its film test share once the colour is taken away.

Registration and agreement never compare raw RGB: the test's tone curves, dye crosstalk and
vignette are the look being learned. They compare the *structure* of the luminance
``Y = 0.2126 R + 0.7152 G + 0.0722 B`` (Rec. 709 weights on the code values):

1. ``Yb``: ``Y`` blurred by a Gaussian of :data:`PRE_BLUR_SIGMA_PX` (1 px), which takes grain's
   per-pixel variance down by ~3.5x (for white grain) and leaves edges where they are.
2. Local contrast normalisation over a Gaussian window of :data:`LCN_SIGMA_PX` (8 px):
   ``z = (Yb - mu) / sqrt(var + floor^2)`` with ``mu``, ``var`` the window's mean and variance.
   Over a window a per-channel tone curve, the crosstalk and the vignette act on ``Y`` as an affine
   map ``a Y + b`` (``a`` the local slope of the curves, > 0), which ``z`` does not see wherever the
   local standard deviation exceeds :data:`LCN_FLOOR` (0.01 of full scale, ~2.5 code values at
   8-bit); flatter windows go to ``z ~ 0`` instead of amplifying grain.

``z`` is dimensionless, ~N(0, 1) where textured. :func:`structure_u8` maps ``z`` in [-4, 4] onto
0..255 for the feature detector.

**Clipping.** A channel at most :data:`CLIP_LOW` or at least :data:`CLIP_HIGH` (within 1 % of the
ends: 2.5 code values at 8-bit, the spread JPEG ringing and grain give a clipped area) is clipped
(:func:`clipped`): its structure is the clipping's, not the scene's. A digital control clips its
highlights where film still holds detail, so registration leaves clipped pixels out
(:func:`unclipped_mask`) and the agreement mask drops them.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["LUMA_WEIGHTS", "PRE_BLUR_SIGMA_PX", "LCN_SIGMA_PX", "LCN_FLOOR", "CLIP_LOW", "CLIP_HIGH", "luminance",
           "gaussian", "local_contrast_normalised", "structure_u8", "clipped", "unclipped_mask"]

#: Rec. 709 luma weights, applied to the code values.
LUMA_WEIGHTS = (0.2126, 0.7152, 0.0722)

#: Gaussian blur against grain before anything else, px.
PRE_BLUR_SIGMA_PX = 1.0

#: Window of the local contrast normalisation (Gaussian sigma), px.
LCN_SIGMA_PX = 8.0

#: Local standard deviation below which a window counts as flat, fraction of full scale.
LCN_FLOOR = 0.01

#: Code values at or below / at or above which a channel is clipped.
CLIP_LOW = 0.01
CLIP_HIGH = 0.99

#: Range of ``z`` kept by :func:`structure_u8` (beyond 4 sigma is a clipped edge either way).
_U8_RANGE = 4.0


def luminance(rgb: np.ndarray) -> np.ndarray:
    """(H, W) float32 Rec. 709 luma of an (H, W, 3) RGB image."""
    rgb = np.asarray(rgb, dtype=np.float32)
    r, g, b = LUMA_WEIGHTS
    return (r * rgb[..., 0] + g * rgb[..., 1] + b * rgb[..., 2]).astype(np.float32)


def gaussian(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur of an (H, W) or (H, W, C) float32 image, edges reflected."""
    return cv2.GaussianBlur(np.asarray(image, dtype=np.float32), (0, 0), sigmaX=float(sigma_px),
                            borderType=cv2.BORDER_REFLECT)


def local_contrast_normalised(lum: np.ndarray, *, sigma_px: float = LCN_SIGMA_PX,
                              floor: float = LCN_FLOOR) -> np.ndarray:
    """``z`` of an (H, W) luminance (module docstring), float32."""
    blurred = gaussian(lum, PRE_BLUR_SIGMA_PX)
    mean = gaussian(blurred, sigma_px)
    centred = blurred - mean
    var = np.maximum(gaussian(centred * centred, sigma_px), 0.0)
    return (centred / np.sqrt(var + np.float32(floor * floor))).astype(np.float32)


def structure_u8(z: np.ndarray) -> np.ndarray:
    """``z`` in [-4, 4] as uint8 (0 at -4, 128 at 0, 255 at +4) for ORB."""
    scaled = (np.asarray(z, dtype=np.float32) + _U8_RANGE) * (255.0 / (2.0 * _U8_RANGE))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def clipped(rgb: np.ndarray) -> np.ndarray:
    """(H, W) bool: any channel of an (H, W, 3) image at most CLIP_LOW or at least CLIP_HIGH."""
    rgb = np.asarray(rgb)
    return ((rgb <= CLIP_LOW) | (rgb >= CLIP_HIGH)).any(axis=2)


def unclipped_mask(rgb: np.ndarray, size_px: tuple, margin_px: float = LCN_SIGMA_PX) -> np.ndarray:
    """(h, w) uint8 (1: usable) at ``size_px`` (w, h): pixels of ``rgb`` resized to that size that
    are neither clipped nor within ``margin_px`` (of that size) of clipping, where ``z`` is the clip's edge."""
    usable = (~clipped(rgb)).astype(np.uint8) * 255
    if (usable.shape[1], usable.shape[0]) != tuple(size_px):
        usable = cv2.resize(usable, tuple(int(v) for v in size_px), interpolation=cv2.INTER_AREA)
    usable = (usable == 255).astype(np.uint8)
    radius = int(round(margin_px))
    if radius > 0 and not usable.all():
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        usable = cv2.erode(usable, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=1)
    return usable
