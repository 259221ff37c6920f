"""Homographies between a control and its test: resampling, the local shape of a map, the warp.

Conventions are :mod:`engines.style.pairs.types`' (``H_test_control`` takes control pixels to test
pixels; pixel centres on integers).

**Resampling.** An image of width ``w`` resized to ``w'`` puts pixel centre ``x`` at
``x' = (x + 0.5) w'/w - 0.5`` (the same in ``y``): :func:`scaling_matrix`. A homography found
between resized images ``H'`` is ``S_test^-1 H' S_control`` at full size.

**Local shape.** Near a control point ``p`` the map is its Jacobian ``J`` (2x2; for
``H [p; 1] = (u, v, w)``, ``J = (H[:2, :2] - (u, v)/w ⊗ H[2, :2]) / w``). With ``J = U diag(s1, s2) V^T``:
scale ``sqrt(s1 s2)`` (test px per control px), anisotropy ``s1 / s2`` (shear or a squeeze: 1 for a
similarity), rotation the angle of ``U V^T`` (degrees, positive turning +x towards +y, i.e.
clockwise on screen) and ``det J < 0`` a mirror image. :func:`transform_shape` takes these at the
control's centre, and the perspective ratio as the largest over the smallest ``sqrt(|det J|)`` at
its four corners (1 for an affine map).

**Warp.** :func:`warp_test` samples the test at ``H_test_control p`` for every control pixel
``p`` (bilinear; zero outside the test); :func:`coverage` says which control pixels land at least
``margin_px`` inside the test and are ``margin_px`` inside the control themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np

__all__ = ["TransformShape", "scaling_matrix", "to_full_size", "map_points", "transform_shape", "coverage",
           "warp_test"]


@dataclass(frozen=True)
class TransformShape:
    """The local shape of a homography (module docstring); angles in degrees."""

    scale: float
    rotation_deg: float
    anisotropy: float
    perspective_ratio: float
    mirrored: bool


def scaling_matrix(from_size_px: Tuple[int, int], to_size_px: Tuple[int, int]) -> np.ndarray:
    """3x3 map from pixel coordinates of an image of ``from_size_px`` (w, h) to the same image resized
    to ``to_size_px``."""
    sx = to_size_px[0] / from_size_px[0]
    sy = to_size_px[1] / from_size_px[1]
    return np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])


def to_full_size(H_small: np.ndarray, control_scaling: np.ndarray, test_scaling: np.ndarray) -> np.ndarray:
    """A homography between resized images back at full size: ``S_test^-1 H S_control``, normalised."""
    H = np.linalg.inv(test_scaling) @ np.asarray(H_small, dtype=np.float64) @ control_scaling
    return H / H[2, 2]


def map_points(H: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 2) points mapped by a 3x3 homography, float64."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    h = np.asarray(H, dtype=np.float64)
    w = h[2, 0] * pts[:, 0] + h[2, 1] * pts[:, 1] + h[2, 2]
    u = (h[0, 0] * pts[:, 0] + h[0, 1] * pts[:, 1] + h[0, 2]) / w
    v = (h[1, 0] * pts[:, 0] + h[1, 1] * pts[:, 1] + h[1, 2]) / w
    return np.stack([u, v], axis=1)


def _jacobian(H: np.ndarray, x: float, y: float) -> np.ndarray:
    h = np.asarray(H, dtype=np.float64)
    u, v, w = h @ np.array([x, y, 1.0])
    return (h[:2, :2] - np.outer([u / w, v / w], h[2, :2])) / w


def transform_shape(H_test_control: np.ndarray, control_size_px: Tuple[int, int]) -> TransformShape:
    """Scale, rotation, anisotropy and perspective of ``H_test_control`` over a control image of
    ``control_size_px`` (module docstring)."""
    width, height = control_size_px
    J = _jacobian(H_test_control, (width - 1) / 2.0, (height - 1) / 2.0)
    U, s, Vt = np.linalg.svd(J)
    R = U @ Vt
    mirrored = bool(np.linalg.det(J) < 0)
    corners = [(0.0, 0.0), (width - 1.0, 0.0), (0.0, height - 1.0), (width - 1.0, height - 1.0)]
    scales = [math.sqrt(abs(np.linalg.det(_jacobian(H_test_control, x, y)))) for x, y in corners]
    return TransformShape(
        scale=float(math.sqrt(s[0] * s[1])),
        rotation_deg=float(math.degrees(math.atan2(R[1, 0], R[0, 0]))),
        anisotropy=float(s[0] / s[1]) if s[1] > 0 else math.inf,
        perspective_ratio=float(max(scales) / min(scales)) if min(scales) > 0 else math.inf,
        mirrored=mirrored,
    )


def coverage(H_test_control: np.ndarray, control_size_px: Tuple[int, int], test_size_px: Tuple[int, int],
             margin_px: float) -> np.ndarray:
    """(H, W) bool on the control: pixels at least ``margin_px`` inside the control whose test point
    lies at least ``margin_px`` inside the test (and in front of it: ``w > 0``)."""
    width, height = control_size_px
    test_w, test_h = test_size_px
    h = np.asarray(H_test_control, dtype=np.float64)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = (h[0, 0] * x + h[0, 1] * y + h[0, 2]) / w
        v = (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / w
    inside_test = (w > 0) & (u >= margin_px) & (u <= test_w - 1 - margin_px) & (v >= margin_px) & (
        v <= test_h - 1 - margin_px)
    inside_control = (x >= margin_px) & (x <= width - 1 - margin_px) & (y >= margin_px) & (y <= height - 1 - margin_px)
    return inside_test & inside_control


def warp_test(test: np.ndarray, H_test_control: np.ndarray, control_size_px: Tuple[int, int]) -> np.ndarray:
    """The (H, W, 3) float32 test resampled onto the control's pixel grid (module docstring)."""
    return cv2.warpPerspective(np.asarray(test, dtype=np.float32), np.asarray(H_test_control, dtype=np.float64),
                               tuple(int(v) for v in control_size_px),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=(0.0, 0.0, 0.0))
