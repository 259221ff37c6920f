"""Where a registered pair agrees, so that its colour can be learned there.

A control pixel is kept unless the first of these rules that applies drops it (each counted in
:class:`~engines.style.pairs.types.AgreementStats`):

1. **Outside**: not at least :data:`BORDER_MARGIN_PX` inside both the control and the warped test
   (:func:`~.geometry.coverage`): the warp's blend with the black outside, the scanner's soft gate
   edge and the frame line all live there.
2. **Clipped**: any channel at most ``CLIP_LOW`` or at least ``CLIP_HIGH`` in either image
   (within 1 % of the ends, :mod:`.structure`). A clipped control says nothing of the scene's
   value, and a clipped test nothing of the look's. Shadow clipping is grown by
   :data:`SHADOW_GROW_PX`; highlight clipping by :data:`HALATION_GROW_FRACTION` of the control's
   shorter side, because film's halation glows around highlights over ~0.1-0.2 mm of a ~25 mm
   frame, and that glow is the engine's texture part, not the colour.
3. **Disagree**: local structure differs. Both luminances, band-passed (``Yb - G_4(Yb)`` after the
   1 px pre-blur of :mod:`.structure`, so ramps and the vignette vanish; taken over the covered
   pixels alone, so the black outside the warped test makes no edge), are compared by their
   normalised cross-correlation over a Gaussian window of :data:`NCC_SIGMA_PX`. Where either image
   is *structured* (local standard deviation over :data:`STRUCTURE_SNR` times that image's noise
   floor, the 5th percentile of its local standard deviations over the pixels still kept: the
   grain of the flattest areas), ``|NCC|`` must reach :data:`MIN_LOCAL_NCC`; where both are flat
   there is nothing to disagree about. ``|NCC|``, because dye crosstalk can turn an edge between
   two colours of one luminance around. This drops a moved actor's edges and texture, dust and
   scratches on the scan, a practical whose light falls differently. The disagreement is grown by
   :data:`DISAGREE_GROW_PX` and what it encloses (a region not reaching the edge of what is kept,
   under :data:`MAX_HOLE_FRACTION` of it: the flat inside of an object only one image has) is
   dropped too.
4. **Edge**: a residual misregistration of ``r`` px (``RegistrationMetrics.misregistration_px``,
   at least :data:`MIN_MISREGISTRATION_PX`) mixes the colours within ``r`` of each pixel; where the
   control's colour changes by more than :data:`EDGE_TOLERANCE` over ``r`` (any channel: the range
   over a ``2R+1`` window, ``R = ceil(r)``, times ``r / 2R``) the pixel is dropped.

The fraction kept is of all the control's pixels; a pair under :data:`MIN_AGREEMENT_FRACTION` has
too little to learn from (or is registered wrong) and is reported, not used.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from engines.style.pairs.geometry import coverage
from engines.style.pairs.structure import CLIP_HIGH, CLIP_LOW, PRE_BLUR_SIGMA_PX, gaussian, luminance
from engines.style.pairs.types import Agreement, AgreementStats

__all__ = [
    "BORDER_MARGIN_PX",
    "SHADOW_GROW_PX",
    "HALATION_GROW_FRACTION",
    "NCC_SIGMA_PX",
    "STRUCTURE_SNR",
    "MIN_LOCAL_NCC",
    "DISAGREE_GROW_PX",
    "MAX_HOLE_FRACTION",
    "EDGE_TOLERANCE",
    "MIN_MISREGISTRATION_PX",
    "MIN_AGREEMENT_FRACTION",
    "agreement_mask",
]

#: Margin inside both images' edges, px (of each image): the bilinear warp's blend with the outside
#: is 1 px, a scanner's soft gate edge and frame line a few more.
BORDER_MARGIN_PX = 8.0

#: Growth of shadow clipping, px.
SHADOW_GROW_PX = 2

#: Growth of highlight clipping, fraction of the control's shorter side (at least 2 px).
HALATION_GROW_FRACTION = 0.01

#: Window of the local cross-correlation (Gaussian sigma), and the band-pass scale, px: ~200 px in
#: the window (4 pi sigma^2) put the correlation's own noise near 0.1, and it is small beside an
#: actor or a dust speck.
NCC_SIGMA_PX = 4.0

#: Local standard deviation over the noise floor above which an image is structured there. At 2.5
#: the structure carries 5 times the grain's variance, so a true match correlates at 0.9 or more.
STRUCTURE_SNR = 2.5

#: Least ``|NCC|`` where either image is structured: well under the 0.9 of structure shared through
#: grain, well over the ~0.1 of structure against grain.
MIN_LOCAL_NCC = 0.5

#: Growth of the disagreement before its enclosed regions are found, px.
DISAGREE_GROW_PX = 3

#: Largest enclosed region dropped with the disagreement, fraction of the area kept so far: an
#: actor in a medium shot; a larger "hole" is more likely a frame-wide ring (a gate edge) than an object.
MAX_HOLE_FRACTION = 0.15

#: Largest colour change over the misregistration, code values: 5 code values at 8-bit, about the
#: grain's standard deviation, so what misregistration mixes in stays under the noise the fit averages.
EDGE_TOLERANCE = 0.02

#: Least misregistration allowed for, px (bilinear resampling itself blends a quarter pixel's worth).
MIN_MISREGISTRATION_PX = 0.25

#: Least fraction of the control's pixels kept for a pair to be used: a registered pair of one scene
#: keeps 0.6-0.7 (0.9 when the scan covers all of the control); a tenth is a mostly clipped or
#: mostly changed frame whose few samples would weigh a narrow range of colours.
MIN_AGREEMENT_FRACTION = 0.10

#: Floor of the noise estimate, code values (a noiseless synthetic or heavily denoised image).
_MIN_NOISE = 0.002

#: Percentile of the local standard deviations taken as the noise floor.
_NOISE_PERCENTILE = 5.0


def _grow(mask: np.ndarray, radius_px: int) -> np.ndarray:
    if radius_px <= 0 or not mask.any():
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius_px + 1, 2 * radius_px + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def _clipped(control: np.ndarray, test_warped: np.ndarray, covered: np.ndarray) -> np.ndarray:
    low = (control <= CLIP_LOW).any(axis=2) | ((test_warped <= CLIP_LOW).any(axis=2) & covered)
    high = (control >= CLIP_HIGH).any(axis=2) | ((test_warped >= CLIP_HIGH).any(axis=2) & covered)
    halation_px = max(2, round(HALATION_GROW_FRACTION * min(control.shape[:2])))
    return _grow(low, SHADOW_GROW_PX) | _grow(high, halation_px)


def _band(rgb: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """``Yb - G(Yb)`` over the covered pixels only (normalised convolution, so the black outside a
    warped test makes no edge), zero elsewhere."""
    weight = covered.astype(np.float32)
    norm_pre = np.maximum(gaussian(weight, PRE_BLUR_SIGMA_PX), 1e-6)
    blurred = gaussian(luminance(rgb) * weight, PRE_BLUR_SIGMA_PX) / norm_pre
    mean = gaussian(blurred * weight, NCC_SIGMA_PX) / np.maximum(gaussian(weight, NCC_SIGMA_PX), 1e-6)
    return (blurred - mean) * weight


def _disagree(control: np.ndarray, test_warped: np.ndarray, kept: np.ndarray, covered: np.ndarray) -> np.ndarray:
    d_c, d_t = _band(control, covered), _band(test_warped, covered)
    var_c = np.maximum(gaussian(d_c * d_c, NCC_SIGMA_PX), 0.0)
    var_t = np.maximum(gaussian(d_t * d_t, NCC_SIGMA_PX), 0.0)
    cov = gaussian(d_c * d_t, NCC_SIGMA_PX)
    std_c, std_t = np.sqrt(var_c), np.sqrt(var_t)
    ncc = np.abs(cov) / np.maximum(std_c * std_t, 1e-12)
    structured = np.zeros_like(kept)
    for std in (std_c, std_t):
        floor = max(float(np.percentile(std[kept], _NOISE_PERCENTILE)) if kept.any() else 0.0, _MIN_NOISE)
        structured |= std > STRUCTURE_SNR * floor
    disagree = _grow(kept & structured & (ncc < MIN_LOCAL_NCC), DISAGREE_GROW_PX) & kept
    return disagree | _enclosed(kept & ~disagree, kept)


def _enclosed(region: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Parts of ``region`` that do not reach the edge of ``valid`` and are under MAX_HOLE_FRACTION of it."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(region.astype(np.uint8), connectivity=8)
    edge = _grow(~valid, 1) & valid
    touching = np.zeros(count, dtype=bool)
    touching[np.unique(labels[edge])] = True
    small = stats[:, cv2.CC_STAT_AREA] < MAX_HOLE_FRACTION * max(int(valid.sum()), 1)
    holes = ~touching & small
    holes[0] = False  # label 0 is everything outside region
    return holes[labels]


def _edges(control: np.ndarray, misregistration_px: float) -> np.ndarray:
    r = max(float(misregistration_px), MIN_MISREGISTRATION_PX)
    radius = max(1, math.ceil(r))
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), dtype=np.uint8)
    spread = (cv2.dilate(control, kernel) - cv2.erode(control, kernel)).max(axis=2)
    return spread * (r / (2 * radius)) > EDGE_TOLERANCE


def agreement_mask(control: np.ndarray, test_warped: np.ndarray, H_test_control: np.ndarray,
                   test_size_px: tuple, misregistration_px: float = 0.0) -> Agreement:
    """Where ``control`` (H, W, 3) and ``test_warped`` (H, W, 3, on the control's grid) agree
    (module docstring). ``H_test_control`` and the test's ``(width, height)`` say which pixels the
    test covers; ``misregistration_px`` is the residual to allow for at edges, control px."""
    control = np.asarray(control, dtype=np.float32)
    test_warped = np.asarray(test_warped, dtype=np.float32)
    size = (control.shape[1], control.shape[0])
    total = float(control.shape[0] * control.shape[1])
    valid = coverage(H_test_control, size, test_size_px, BORDER_MARGIN_PX)
    covered = coverage(H_test_control, size, test_size_px, 0.0)
    clipped = _clipped(control, test_warped, covered) & valid
    keep = valid & ~clipped
    disagree = _disagree(control, test_warped, keep, covered)
    keep &= ~disagree
    edge = _edges(control, misregistration_px) & keep
    keep &= ~edge
    stats = AgreementStats(fraction=float(keep.sum()) / total, outside=1.0 - float(valid.sum()) / total,
                           clipped=float(clipped.sum()) / total, disagree=float(disagree.sum()) / total,
                           edge=float(edge.sum()) / total)
    return Agreement(keep, stats)
