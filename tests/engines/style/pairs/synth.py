"""Synthetic pairs with a known truth: a procedural scene, a film look, a scan's geometry.

* :func:`scene`: smooth colour gradients, flat-coloured shapes and band-limited texture whose
  strength varies over the frame (so some areas are flat, some textured), deterministic per seed.
* :func:`film_look`: per-channel gamma, an S-curve and a 3x3 dye crosstalk; values stay in
  [0.04, 0.96] for inputs in [0, 1].
* :func:`scan`: the look, a slight softening, the warp ``H_test_control`` onto a test frame of
  its own size, a vignette about the test's centre and grain; :func:`truth_homography` builds the
  warp from a similarity plus a little perspective.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np

#: Dye crosstalk of the look, rows sum to 1 (applied to the control's code values).
CROSSTALK = np.array([[0.86, 0.10, 0.04], [0.07, 0.85, 0.08], [0.03, 0.11, 0.86]])

#: Per-channel gamma of the look.
GAMMA = np.array([0.92, 1.0, 1.10])

#: Vignette: relative loss at the test frame's corners.
VIGNETTE_CORNER = 0.25

#: Grain standard deviation after its blur, code values in [0, 1].
GRAIN_STD = 0.012


def _blurred_noise(rng: np.random.Generator, shape: Tuple[int, ...], sigma_px: float) -> np.ndarray:
    noise = rng.standard_normal(shape).astype(np.float32)
    out = cv2.GaussianBlur(noise, (0, 0), sigma_px, borderType=cv2.BORDER_REFLECT)
    return out / max(float(out.std()), 1e-6)


def scene(width: int, height: int, seed: int) -> np.ndarray:
    """(height, width, 3) float32 in [0.03, 0.97]: gradients, shapes and texture (module docstring)."""
    rng = np.random.default_rng(seed)
    image = 0.5 + 0.18 * _blurred_noise(rng, (height, width, 3), 0.2 * min(width, height))
    for _ in range(int(0.00012 * width * height) + 10):
        colour = tuple(float(c) for c in rng.uniform(0.1, 0.9, 3))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        size = int(rng.integers(6, max(8, min(width, height) // 6)))
        shape = rng.integers(0, 3)
        if shape == 0:
            cv2.circle(image, centre, size, colour, -1, cv2.LINE_AA)
        elif shape == 1:
            corner = (centre[0] + size, centre[1] + int(rng.integers(4, size + 5)))
            cv2.rectangle(image, centre, corner, colour, -1, cv2.LINE_AA)
        else:
            end = (centre[0] + int(rng.integers(-3 * size, 3 * size)), centre[1] + int(rng.integers(-size, size)))
            cv2.line(image, centre, end, colour, int(rng.integers(1, 4)), cv2.LINE_AA)
    strength = np.clip(_blurred_noise(rng, (height, width), 0.1 * min(width, height)), 0.0, None)[..., None]
    texture = 0.6 * _blurred_noise(rng, (height, width), 1.2) + 0.4 * _blurred_noise(rng, (height, width), 3.5)
    image = image + 0.05 * strength * texture[..., None]
    return np.clip(image, 0.03, 0.97).astype(np.float32)


def film_look(rgb: np.ndarray) -> np.ndarray:
    """The look: crosstalk, per-channel gamma, S-curve, lift and gain (module docstring)."""
    mixed = np.clip(np.asarray(rgb, dtype=np.float64) @ CROSSTALK.T, 0.0, 1.0)
    graded = mixed ** GAMMA
    a = 4.0
    lo, hi = 1 / (1 + math.exp(a / 2)), 1 / (1 + math.exp(-a / 2))
    curved = (1 / (1 + np.exp(-a * (graded - 0.5))) - lo) / (hi - lo)
    return (0.04 + 0.92 * curved).astype(np.float32)


def truth_homography(control_size_px: Tuple[int, int], test_size_px: Tuple[int, int], *, scale: float = 1.07,
                     rotation_deg: float = 2.5, shift_px: Tuple[float, float] = (13.0, -8.0),
                     perspective: Tuple[float, float] = (3e-5, -2e-5)) -> np.ndarray:
    """``H_test_control``: about the frames' centres, a perspective tilt, then scale, rotation, shift."""
    (cw, ch), (tw, th) = control_size_px, test_size_px
    c, s = math.cos(math.radians(rotation_deg)), math.sin(math.radians(rotation_deg))
    to_centre = np.array([[1, 0, -(cw - 1) / 2], [0, 1, -(ch - 1) / 2], [0, 0, 1]], dtype=np.float64)
    tilt = np.array([[1, 0, 0], [0, 1, 0], [perspective[0], perspective[1], 1]], dtype=np.float64)
    similarity = np.array([[scale * c, -scale * s, (tw - 1) / 2 + shift_px[0]],
                           [scale * s, scale * c, (th - 1) / 2 + shift_px[1]], [0, 0, 1]], dtype=np.float64)
    H = similarity @ tilt @ to_centre
    return H / H[2, 2]


def vignette(size_px: Tuple[int, int]) -> np.ndarray:
    """(h, w) gain about the frame's centre: 1 there, 1 - VIGNETTE_CORNER at the corners."""
    w, h = size_px
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r2 = ((x - (w - 1) / 2) ** 2 + (y - (h - 1) / 2) ** 2) / (((w - 1) / 2) ** 2 + ((h - 1) / 2) ** 2)
    return (1.0 - VIGNETTE_CORNER * r2).astype(np.float32)


@dataclass(frozen=True)
class Pair:
    """A synthetic pair: the control, the test and the truth that made it."""

    control: np.ndarray
    test: np.ndarray
    H_test_control: np.ndarray


def scan(canvas: np.ndarray, offset_px: Tuple[int, int], control_size_px: Tuple[int, int],
         test_size_px: Tuple[int, int], H_test_control: np.ndarray, seed: int) -> Pair:
    """Control: ``canvas`` cropped at ``offset_px`` (x, y) to ``control_size_px``, with a little
    sensor noise. Test: the look of the whole canvas, softened, warped by ``H_test_control`` onto
    ``test_size_px``, vignetted, with grain."""
    rng = np.random.default_rng(seed)
    (ox, oy), (cw, ch) = offset_px, control_size_px
    control = canvas[oy:oy + ch, ox:ox + cw] + 0.002 * rng.standard_normal((ch, cw, 3)).astype(np.float32)
    film = cv2.GaussianBlur(film_look(canvas), (0, 0), 0.7)
    H_control_canvas = np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]], dtype=np.float64)
    test = cv2.warpPerspective(film, H_test_control @ H_control_canvas, test_size_px, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT)
    tw, th = test_size_px
    grain = GRAIN_STD * _blurred_noise(rng, (th, tw, 3), 0.7)
    test = test * vignette(test_size_px)[..., None] + grain
    return Pair(np.clip(control, 0, 1).astype(np.float32), np.clip(test, 0, 1).astype(np.float32), H_test_control)


def standard_pair(seed: int = 7, control_size_px: Tuple[int, int] = (640, 360),
                  test_size_px: Tuple[int, int] = (600, 345), **warp) -> Tuple[Pair, np.ndarray]:
    """The usual pair (1.07x, 2.5 deg, shift (13, -8) px, slight perspective) and its canvas."""
    cw, ch = control_size_px
    canvas = scene(cw + 80, ch + 60, seed)
    H = truth_homography(control_size_px, test_size_px, **warp)
    return scan(canvas, (40, 30), control_size_px, test_size_px, H, seed + 1), canvas
