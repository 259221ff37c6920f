"""The pair loader's vocabulary: files found, problems reported, registrations, agreement, the result.

Every image here is float32 RGB in [0, 1], ``(H, W, 3)``, on its file's own encoding (no
linearisation). Pixel coordinates are OpenCV's: ``x`` right, ``y`` down, pixel centres on integers.
A transform ``H_test_control`` is a 3x3 homography taking a control pixel ``(x, y, 1)`` to the test
pixel that shows the same point (``T_a_b`` maps ``b`` into ``a``, as elsewhere in Onset). Sizes are
``(width, height)`` in pixels.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Tuple

import numpy as np

__all__ = [
    "Layout",
    "ProblemKind",
    "Verdict",
    "PairFiles",
    "PairProblem",
    "PairSet",
    "RegistrationMetrics",
    "Registration",
    "AgreementStats",
    "Agreement",
    "PairMetrics",
    "RegisteredPair",
]


class Layout(str, enum.Enum):
    """How a pairs folder is laid out (docs/style-pairs.md)."""

    SUBFOLDERS = "subfolders"  # control/ + test/ (or digital/ + film/), files of the same stem
    SUFFIXES = "suffixes"  # one folder of NAME.control.EXT + NAME.test.EXT (or .digital / .film)


class ProblemKind(str, enum.Enum):
    """Why a pair (or a file) is not used."""

    MISSING_TEST = "missing_test"  # a control without its test
    MISSING_CONTROL = "missing_control"  # a test without its control
    DUPLICATE_NAME = "duplicate_name"  # two files claim the same name and role
    STRAY_FILE = "stray_file"  # a file that is not named as part of a pair
    NOT_AN_IMAGE = "not_an_image"
    CORRUPT_IMAGE = "corrupt_image"
    UNSUPPORTED_IMAGE = "unsupported_image"  # float or 32-bit samples
    TOO_SMALL = "too_small"
    NOT_REGISTERED = "not_registered"  # see PairProblem.verdict
    LOW_AGREEMENT = "low_agreement"  # registered, but too little of it agrees to learn from


class Verdict(str, enum.Enum):
    """The outcome of registering one pair (thresholds in :mod:`engines.style.pairs.register`)."""

    REGISTERED = "registered"
    TOO_SMALL = "too_small"
    TOO_FEW_FEATURES = "too_few_features"  # too few keypoints or ratio-test matches
    TOO_FEW_INLIERS = "too_few_inliers"  # the matches do not agree on one transform
    IMPLAUSIBLE_TRANSFORM = "implausible_transform"  # scale, rotation, shear or perspective out of range
    ECC_FAILED = "ecc_failed"  # the refinement did not converge, or wandered off the feature estimate
    LOW_CORRELATION = "low_correlation"  # converged, but the structure images correlate too little


@dataclass(frozen=True)
class PairFiles:
    """A control and a test file of the same name, both checked to open as usable images."""

    name: str
    control_path: Path
    test_path: Path
    control_size_px: Tuple[int, int]
    test_size_px: Tuple[int, int]

    @property
    def sizes_differ(self) -> bool:
        """True when control and test differ in size (allowed: registration recovers the scale)."""
        return self.control_size_px != self.test_size_px


@dataclass(frozen=True)
class PairProblem:
    """A pair or file that is not used: its name, the file at fault, and why (with the values).

    ``verdict`` is the registration's outcome when ``kind`` is ``NOT_REGISTERED``, else None.
    """

    name: str
    path: Path
    reason: str
    kind: ProblemKind
    verdict: Optional[Verdict] = None


@dataclass(frozen=True)
class PairSet:
    """What a pairs folder holds: the usable pairs (sorted by name) and every problem found."""

    folder: Path
    layout: Layout
    pairs: Tuple[PairFiles, ...]
    problems: Tuple[PairProblem, ...]

    def __len__(self) -> int:
        return len(self.pairs)

    def __iter__(self) -> Iterator[PairFiles]:
        return iter(self.pairs)


@dataclass(frozen=True)
class RegistrationMetrics:
    """How a registration went; None where the step that measures it was not reached.

    Counts are of ORB keypoints and matches at the working size. ``inlier_rms_px``: RMS distance,
    in control pixels, between the RANSAC inliers of the control and their test partners mapped
    back by the final transform (it includes the keypoints' own localisation error of ~1 px).
    ``residual_px`` / ``residual_p90_px``: median and 90th percentile of the local shifts left
    after the transform, measured over ``residual_blocks`` blocks (:mod:`engines.style.pairs.residual`),
    control pixels. ``scale`` is test pixels per control pixel, ``rotation_deg`` positive turning
    +x towards +y (clockwise on screen), ``anisotropy`` the largest over the smallest local stretch
    (1: no shear), all three at the control's centre; ``perspective_ratio`` the largest over the
    smallest local scale at the control's corners (1: affine) (:mod:`engines.style.pairs.geometry`).
    They describe the refined transform, or the first guess when that was already implausible.
    """

    keypoints_control: int = 0
    keypoints_test: int = 0
    matches: int = 0
    inliers: int = 0
    inlier_ratio: float = 0.0
    ecc_correlation: Optional[float] = None
    inlier_rms_px: Optional[float] = None
    residual_px: Optional[float] = None
    residual_p90_px: Optional[float] = None
    residual_blocks: int = 0
    scale: Optional[float] = None
    rotation_deg: Optional[float] = None
    anisotropy: Optional[float] = None
    perspective_ratio: Optional[float] = None

    @property
    def misregistration_px(self) -> float:
        """The misregistration to allow for, control px: the residual's 90th percentile, else the
        inlier RMS (an over-estimate), else 0."""
        for value in (self.residual_p90_px, self.inlier_rms_px):
            if value is not None:
                return value
        return 0.0


@dataclass(frozen=True)
class Registration:
    """The outcome of :func:`~engines.style.pairs.register.register_pair`.

    ``H_test_control`` (3x3 float64, full-resolution pixels) is set only when registered;
    ``detail`` says what failed with the values and thresholds involved ("" when registered).
    """

    verdict: Verdict
    detail: str
    metrics: RegistrationMetrics
    H_test_control: Optional[np.ndarray] = None

    @property
    def registered(self) -> bool:
        return self.verdict is Verdict.REGISTERED


@dataclass(frozen=True)
class AgreementStats:
    """Fractions of the control's pixels: kept, and dropped by the first rule that drops them."""

    fraction: float
    outside: float  # not covered by the warped test, or within the border margin of either image
    clipped: float  # near 0 or 1 in either image (highlights grown by the halation margin)
    disagree: float  # local structure differs (a moved object, dust), or is enclosed by such
    edge: float  # colour changes too fast for the residual misregistration


@dataclass(frozen=True)
class Agreement:
    """Where a registered pair agrees: ``mask`` (H, W) bool on the control's pixels, and its stats."""

    mask: np.ndarray
    stats: AgreementStats

    @property
    def fraction(self) -> float:
        return self.stats.fraction


@dataclass(frozen=True)
class PairMetrics:
    """Everything measured for one registered pair."""

    registration: RegistrationMetrics
    agreement: AgreementStats
    control_size_px: Tuple[int, int]
    test_size_px: Tuple[int, int]


@dataclass(frozen=True)
class RegisteredPair:
    """A pair ready to learn from: colour samples are ``control[mask]`` and ``test_warped[mask]``.

    ``control`` and ``test_warped`` are (H, W, 3) float32 in [0, 1] on the control's pixel grid
    (``test_warped`` is zero outside the test's coverage); ``mask`` (H, W) bool;
    ``transform`` is ``H_test_control`` (3x3 float64).
    """

    name: str
    control: np.ndarray
    test_warped: np.ndarray
    mask: np.ndarray
    transform: np.ndarray
    metrics: PairMetrics
