"""Register a film test onto its digital control: features for a first guess, ECC to refine it.

Both images are reduced to structure (:mod:`.structure`: local-contrast-normalised luminance, which
the look's tone curves, crosstalk and vignette do not change), at a working size whose longer side
is at most :data:`MAX_WORKING_SIDE_PX` (ECC's cost grows with the pixels; the test suite's pairs
register to a tenth of a working pixel, so a 6K scan worked at 1600 px lands within half a pixel).
Clipped pixels, and those within the structure window of them, take no part in either step
(:func:`~.structure.unclipped_mask`): a digital control's blown highlight is flat where the film
still has detail.

1. **Features.** Up to :data:`ORB_KEYPOINTS` ORB keypoints in each (8 octaves of 1.2x, so the
   0.5x..2x scale range below is inside their reach; oriented, so a rotated scan still matches),
   matched by Hamming distance and kept by Lowe's ratio test at :data:`RATIO_TEST` (Lowe 2004:
   0.8 drops ~90 % of false matches and under 5 % of true ones). Fewer than :data:`MIN_KEYPOINTS`
   keypoints in either, or fewer than :data:`MIN_INLIERS` surviving matches: *too few features*.
2. **First guess.** A similarity (scale, rotation, shift) by RANSAC
   (``cv2.estimateAffinePartial2D``, :data:`RANSAC_THRESHOLD_PX`): four parameters need few
   inliers, and gate weave, scan crop and scale are a similarity to a few pixels. Fewer than
   :data:`MIN_INLIERS` inliers, or under :data:`MIN_INLIER_RATIO` of the matches: *too few
   inliers* (unrelated images give a handful by chance: 4 of 40 on the test suite's). An
   implausible similarity (step 4) stops here.
3. **Refinement.** ECC (``cv2.findTransformECCWithMask``, ``MOTION_HOMOGRAPHY``, over the pixels
   usable in both) between the structure images, coarse to fine over a pyramid (halving while the
   shorter side stays at least :data:`ECC_MIN_SIDE_PX`, at most :data:`ECC_MAX_LEVELS` levels),
   started from the similarity. A homography takes the slight perspective of a different lens
   position or a tilted scan. Checked in this order: the result's plausibility (step 4); ECC that
   raises (it stops when the correlation falls or turns NaN) or that moves the control's corners
   more than :data:`MAX_ECC_DRIFT` of its diagonal away from the first guess: *ECC failed*; a
   final correlation under :data:`MIN_ECC_CORRELATION`: *low correlation*.
4. **Plausibility** (:func:`~.geometry.transform_shape`): scale (test px per control px) within
   :data:`SCALE_RANGE` (0.5..2: a scan at half or twice the control's resolution; beyond, one side
   has lost the detail the other registers on), rotation within :data:`MAX_ROTATION_DEG` (gate
   weave and scanner skew are a degree or two, a camera rolled differently a few; 90 degrees is a
   portrait/landscape mix-up to fix, not to learn through), anisotropy at most
   :data:`MAX_ANISOTROPY` (square-pixel frames of one scene differ in aspect by a few percent; an
   unsqueezed anamorphic scan or a wrong match by more), perspective ratio at most
   :data:`MAX_PERSPECTIVE_RATIO`, and no mirror image. Else *implausible transform*.

A registered pair then gets its residual: the RANSAC inliers' RMS distance under the final
transform, and the local shifts left block by block (:mod:`.residual`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np

from engines.style.pairs.geometry import map_points, scaling_matrix, to_full_size, transform_shape
from engines.style.pairs.image import MIN_IMAGE_SIDE_PX
from engines.style.pairs.residual import block_residual
from engines.style.pairs.structure import local_contrast_normalised, luminance, structure_u8, unclipped_mask
from engines.style.pairs.types import Registration, RegistrationMetrics, Verdict

__all__ = [
    "MAX_WORKING_SIDE_PX",
    "ORB_KEYPOINTS",
    "RATIO_TEST",
    "MIN_KEYPOINTS",
    "MIN_INLIERS",
    "MIN_INLIER_RATIO",
    "RANSAC_THRESHOLD_PX",
    "ECC_MIN_SIDE_PX",
    "ECC_MAX_LEVELS",
    "ECC_ITERATIONS",
    "MAX_ECC_DRIFT",
    "MIN_ECC_CORRELATION",
    "SCALE_RANGE",
    "MAX_ROTATION_DEG",
    "MAX_ANISOTROPY",
    "MAX_PERSPECTIVE_RATIO",
    "register_pair",
]

#: Longest side the structure images are registered at, px.
MAX_WORKING_SIDE_PX = 1600

#: Most ORB keypoints per image.
ORB_KEYPOINTS = 5000

#: Lowe's ratio: best match distance over the second best, at most.
RATIO_TEST = 0.8

#: Fewest keypoints per image.
MIN_KEYPOINTS = 50

#: Fewest ratio-test matches, and fewest RANSAC inliers (a chance alignment of unrelated images
#: gathers well under 10 at 3 px; a true pair hundreds).
MIN_INLIERS = 25

#: Fewest RANSAC inliers as a fraction of the ratio-test matches (a true pair keeps ~0.9 of them,
#: unrelated images ~0.1).
MIN_INLIER_RATIO = 0.2

#: RANSAC inlier distance, working px.
RANSAC_THRESHOLD_PX = 3.0

#: The ECC pyramid stops before its shorter side drops under this, px.
ECC_MIN_SIDE_PX = 80

#: Most ECC pyramid levels (full working size included).
ECC_MAX_LEVELS = 3

#: ECC iterations per level, and the change in correlation that ends a level early.
ECC_ITERATIONS = 60
_ECC_EPSILON = 1e-5

#: Largest move of the control's corners from the first guess to ECC's result, fraction of the
#: control's diagonal. The plausible perspective and anisotropy move a corner up to ~5 % of the
#: diagonal away from the best similarity; twice that is ECC holding on to something else.
MAX_ECC_DRIFT = 0.10

#: Smallest final ECC correlation of the structure images. True pairs with grain, vignette and a
#: look measure 0.80-0.90 on the test suite (docs/style-pairs.md); half of that is structure that
#: is mostly not the same.
MIN_ECC_CORRELATION = 0.5

#: Plausible scale, test px per control px.
SCALE_RANGE = (0.5, 2.0)

#: Largest plausible rotation either way, degrees.
MAX_ROTATION_DEG = 15.0

#: Largest plausible ratio of the local stretches (shear or squeeze).
MAX_ANISOTROPY = 1.10

#: Largest plausible ratio of the local scales at the control's corners. Two cameras side by side or
#: a scan on a tilted platen change the scale across the frame by a few percent (1.04 in the test
#: suite's pairs); a quarter is a wrong match or another viewpoint one homography cannot register.
MAX_PERSPECTIVE_RATIO = 1.25


def _size(image: np.ndarray) -> Tuple[int, int]:
    return int(image.shape[1]), int(image.shape[0])


@dataclass(frozen=True)
class _Working:
    """One image as registration sees it: ``z`` at working size, the full-to-working scaling
    matrix, and where ``z`` is usable (uint8, 1: not clipped)."""

    z: np.ndarray
    scaling: np.ndarray
    usable: np.ndarray

    @property
    def size_px(self) -> Tuple[int, int]:
        return _size(self.z)


def _working(image: np.ndarray) -> _Working:
    lum = luminance(image)
    size = _size(image)
    factor = min(1.0, MAX_WORKING_SIDE_PX / max(size))
    small = (max(1, round(size[0] * factor)), max(1, round(size[1] * factor)))
    if small != size:
        lum = cv2.resize(lum, small, interpolation=cv2.INTER_AREA)
    return _Working(local_contrast_normalised(lum), scaling_matrix(size, small), unclipped_mask(image, small))


def _shape_metrics(H: np.ndarray, control_size_px: Tuple[int, int]) -> dict:
    shape = transform_shape(H, control_size_px)
    return dict(scale=shape.scale, rotation_deg=shape.rotation_deg, anisotropy=shape.anisotropy,
                perspective_ratio=shape.perspective_ratio)


def _implausible(H: np.ndarray, control_size_px: Tuple[int, int], what: str) -> Optional[str]:
    shape = transform_shape(H, control_size_px)
    if shape.mirrored:
        return f"{what} mirrors the image (a flipped scan?)"
    low, high = SCALE_RANGE
    if not low <= shape.scale <= high:
        return f"{what} scales by {shape.scale:.3f} test px per control px, outside [{low}, {high}]"
    if abs(shape.rotation_deg) > MAX_ROTATION_DEG:
        return f"{what} rotates by {shape.rotation_deg:.1f} deg, beyond +-{MAX_ROTATION_DEG} deg"
    if shape.anisotropy > MAX_ANISOTROPY:
        return f"{what} shears or squeezes by {shape.anisotropy:.3f}, more than {MAX_ANISOTROPY}"
    if shape.perspective_ratio > MAX_PERSPECTIVE_RATIO:
        return f"{what} has perspective ratio {shape.perspective_ratio:.3f}, more than {MAX_PERSPECTIVE_RATIO}"
    return None


def _matches(control: _Working, test: _Working) -> Tuple[int, int, np.ndarray, np.ndarray]:
    """Keypoint counts and the ratio-test matches as (N, 2) control and test points, working px."""
    orb = cv2.ORB_create(nfeatures=ORB_KEYPOINTS, scaleFactor=1.2, nlevels=8)
    kp_c, des_c = orb.detectAndCompute(structure_u8(control.z), control.usable)
    kp_t, des_t = orb.detectAndCompute(structure_u8(test.z), test.usable)
    empty = np.zeros((0, 2))
    if des_c is None or des_t is None or len(kp_c) < 2 or len(kp_t) < 2:
        return len(kp_c), len(kp_t), empty, empty
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(des_c, des_t, k=2)
    good = [m[0] for m in pairs if len(m) == 2 and m[0].distance < RATIO_TEST * m[1].distance]
    pts_c = np.array([kp_c[m.queryIdx].pt for m in good], dtype=np.float64).reshape(-1, 2)
    pts_t = np.array([kp_t[m.trainIdx].pt for m in good], dtype=np.float64).reshape(-1, 2)
    return len(kp_c), len(kp_t), pts_c, pts_t


def _pyramid(z: np.ndarray, levels: int) -> List[np.ndarray]:
    out = [z]
    for _ in range(levels - 1):
        out.append(cv2.pyrDown(out[-1]))
    return out


def _ecc_step(z_c: np.ndarray, z_t: np.ndarray, usable_c: np.ndarray, usable_t: np.ndarray, warp: np.ndarray,
              criteria: tuple) -> Tuple[float, np.ndarray]:
    """One ECC homography fit over the pixels usable in both (OpenCV before 4.12 has no template
    mask: there the control's clipping takes part)."""
    with_mask = getattr(cv2, "findTransformECCWithMask", None)
    if with_mask is not None:
        return with_mask(z_c, z_t, usable_c, usable_t, warp, cv2.MOTION_HOMOGRAPHY, criteria, 5)
    return cv2.findTransformECC(z_c, z_t, warp, cv2.MOTION_HOMOGRAPHY, criteria, usable_t, 5)


def _ecc(control: _Working, test: _Working, H0: np.ndarray) -> Tuple[float, np.ndarray]:
    """ECC homography from ``H0``, coarse to fine (pyrDown puts pixel ``x`` at ``x / 2``); raises
    ``cv2.error`` when ECC does not converge."""
    levels = 1
    while levels < ECC_MAX_LEVELS and min(control.z.shape[:2] + test.z.shape[:2]) / 2 ** levels >= ECC_MIN_SIDE_PX:
        levels += 1
    pyr_c, pyr_t = _pyramid(control.z, levels), _pyramid(test.z, levels)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, ECC_ITERATIONS, _ECC_EPSILON)
    H = np.asarray(H0, dtype=np.float64)
    correlation = float("nan")
    for level in reversed(range(levels)):
        D = np.diag([0.5 ** level, 0.5 ** level, 1.0])
        warp = (D @ H @ np.linalg.inv(D)).astype(np.float32)
        usable_c = cv2.resize(control.usable, _size(pyr_c[level]), interpolation=cv2.INTER_NEAREST)
        usable_t = cv2.resize(test.usable, _size(pyr_t[level]), interpolation=cv2.INTER_NEAREST)
        correlation, warp = _ecc_step(pyr_c[level], pyr_t[level], usable_c, usable_t, warp, criteria)
        H = np.linalg.inv(D) @ warp.astype(np.float64) @ D
        H = H / H[2, 2]
    return float(correlation), H


def _fail(verdict: Verdict, detail: str, **metrics) -> Registration:
    return Registration(verdict, detail, RegistrationMetrics(**metrics))


def _first_guess(control: _Working, test: _Working, counts: dict):
    """Steps 1 and 2: the similarity (3x3, working px) and the inliers' (control, test) points, or
    the failed Registration."""
    n_c, n_t, pts_c, pts_t = _matches(control, test)
    counts.update(keypoints_control=n_c, keypoints_test=n_t, matches=len(pts_c))
    if min(n_c, n_t) < MIN_KEYPOINTS:
        return _fail(Verdict.TOO_FEW_FEATURES, f"{n_c} keypoints in the control, {n_t} in the test; "
                     f"at least {MIN_KEYPOINTS} in each are needed (a flat or blank image?)", **counts)
    if len(pts_c) < MIN_INLIERS:
        return _fail(Verdict.TOO_FEW_FEATURES, f"{len(pts_c)} keypoint matches pass the ratio test; at least "
                     f"{MIN_INLIERS} are needed", **counts)
    M, flags = cv2.estimateAffinePartial2D(pts_c, pts_t, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_THRESHOLD_PX,
                                           maxIters=5000, confidence=0.999)
    inliers = 0 if flags is None else int(flags.sum())
    counts.update(inliers=inliers, inlier_ratio=inliers / len(pts_c))
    if M is None or inliers < MIN_INLIERS or inliers < MIN_INLIER_RATIO * len(pts_c):
        return _fail(Verdict.TOO_FEW_INLIERS, f"{inliers} of {len(pts_c)} matches agree on one similarity "
                     f"within {RANSAC_THRESHOLD_PX} px; at least {MIN_INLIERS} and {MIN_INLIER_RATIO:.0%} are "
                     f"needed (not the same scene?)", **counts)
    keep = flags.ravel().astype(bool)
    return np.vstack([M, [0.0, 0.0, 1.0]]), pts_c[keep], pts_t[keep]


def _drift_px(H: np.ndarray, H0: np.ndarray, size_px: Tuple[int, int]) -> float:
    w, h = size_px
    corners = np.array([[0.0, 0.0], [w - 1.0, 0.0], [0.0, h - 1.0], [w - 1.0, h - 1.0]])
    return float(np.max(np.linalg.norm(map_points(H, corners) - map_points(H0, corners), axis=1)))


def register_pair(control: np.ndarray, test: np.ndarray) -> Registration:
    """Register ``test`` (H', W', 3) onto ``control`` (H, W, 3), both float32 RGB in [0, 1]
    (module docstring). The result's ``H_test_control`` is in full-size pixels."""
    control_size, test_size = _size(control), _size(test)
    if min(control_size + test_size) < MIN_IMAGE_SIDE_PX:
        return _fail(Verdict.TOO_SMALL, f"control {control_size[0]}x{control_size[1]} px, test "
                     f"{test_size[0]}x{test_size[1]} px: the shorter side must be at least {MIN_IMAGE_SIDE_PX} px")
    work_c, work_t = _working(control), _working(test)
    S_c, S_t = work_c.scaling, work_t.scaling
    counts: dict = {}
    guess = _first_guess(work_c, work_t, counts)
    if isinstance(guess, Registration):
        return guess
    H0, pts_c, pts_t = guess
    problem = _implausible(to_full_size(H0, S_c, S_t), control_size, "the feature match")
    if problem:
        return _fail(Verdict.IMPLAUSIBLE_TRANSFORM, problem, **counts,
                     **_shape_metrics(to_full_size(H0, S_c, S_t), control_size))
    try:
        correlation, H = _ecc(work_c, work_t, H0)
    except cv2.error as err:
        message = str(err).strip().splitlines()[-1] if str(err).strip() else "no message"
        return _fail(Verdict.ECC_FAILED, f"ECC did not converge from the feature match: {message}", **counts)
    H_full = to_full_size(H, S_c, S_t)
    counts.update(ecc_correlation=correlation, **_shape_metrics(H_full, control_size))
    problem = _implausible(H_full, control_size, "the refined transform")
    if problem:
        return _fail(Verdict.IMPLAUSIBLE_TRANSFORM, problem, **counts)
    drift = _drift_px(H, H0, work_c.size_px)
    diagonal = math.hypot(*work_c.size_px)
    if not math.isfinite(drift) or drift > MAX_ECC_DRIFT * diagonal:
        return _fail(Verdict.ECC_FAILED, f"ECC moved the control's corners {drift:.1f} px from the feature "
                     f"match, more than {MAX_ECC_DRIFT:.0%} of the {diagonal:.0f} px diagonal", **counts)
    if correlation < MIN_ECC_CORRELATION:
        return _fail(Verdict.LOW_CORRELATION, f"the registered structure images correlate at {correlation:.3f}, "
                     f"under {MIN_ECC_CORRELATION}", **counts)
    back = map_points(np.linalg.inv(H_full), map_points(np.linalg.inv(S_t), pts_t))
    offsets = back - map_points(np.linalg.inv(S_c), pts_c)
    residual = block_residual(work_c.z, work_t.z, H, 1.0 / S_c[0, 0])
    counts.update(inlier_rms_px=float(np.sqrt(np.mean(np.sum(offsets ** 2, axis=1)))), residual_px=residual.median_px,
                  residual_p90_px=residual.p90_px, residual_blocks=residual.blocks)
    return Registration(Verdict.REGISTERED, "", RegistrationMetrics(**counts), H_full)
