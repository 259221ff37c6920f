"""The paired comparisons a user brings to the style engine: found, read, registered, masked.

A pair is a digital frame (the *control*) and a scanned film frame (the *test*) of one scene. They
never align to the pixel (another lens, gate weave, the scan's crop, scale and rotation, a little
perspective) and the test's colour, grain, halation and vignette differ (the look to learn). One
module per job (docs/style-pairs.md says what each keeps, drops and reports, with the figures):

- :mod:`.folder` — which files are pairs, in either layout, and what is wrong: :func:`find_pairs`;
- :mod:`.image` — one file checked and read as float32 RGB in [0, 1]: :func:`load_image`;
- :mod:`.structure` — colour-blind structure images (local-contrast-normalised luminance);
- :mod:`.register` — ORB + RANSAC, then ECC over a pyramid, and the verdict: :func:`register_pair`;
- :mod:`.geometry`, :mod:`.residual` — the homography's shape, the warp, the misregistration left;
- :mod:`.agreement` — where the registered pair agrees: :func:`agreement_mask`;
- :mod:`.load` — all of it for a folder: :func:`load_registered_pairs`, whose
  :class:`RegisteredPair` gives colour samples ``control[mask]`` and ``test_warped[mask]``.

Vocabulary in :mod:`.types`, errors in :mod:`.errors` (root :class:`PairsError`).
"""

from __future__ import annotations

from engines.style.pairs.agreement import MIN_AGREEMENT_FRACTION, agreement_mask
from engines.style.pairs.errors import (
    CorruptImageError,
    ImageTooSmallError,
    NoPairsError,
    NotAnImageError,
    PairFolderError,
    PairImageError,
    PairsError,
    UnsupportedImageError,
)
from engines.style.pairs.folder import ROLE_NAMES, find_pairs
from engines.style.pairs.geometry import TransformShape, map_points, transform_shape, warp_test
from engines.style.pairs.image import IMAGE_SUFFIXES, MIN_IMAGE_SIDE_PX, ImageInfo, load_image, probe_image
from engines.style.pairs.load import load_registered_pairs, register_pair_files
from engines.style.pairs.register import (
    MAX_ANISOTROPY,
    MAX_PERSPECTIVE_RATIO,
    MAX_ROTATION_DEG,
    MIN_ECC_CORRELATION,
    MIN_INLIERS,
    SCALE_RANGE,
    register_pair,
)
from engines.style.pairs.types import (
    Agreement,
    AgreementStats,
    Layout,
    PairFiles,
    PairMetrics,
    PairProblem,
    PairSet,
    ProblemKind,
    RegisteredPair,
    Registration,
    RegistrationMetrics,
    Verdict,
)

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_ANISOTROPY",
    "MAX_PERSPECTIVE_RATIO",
    "MAX_ROTATION_DEG",
    "MIN_AGREEMENT_FRACTION",
    "MIN_ECC_CORRELATION",
    "MIN_IMAGE_SIDE_PX",
    "MIN_INLIERS",
    "ROLE_NAMES",
    "SCALE_RANGE",
    "Agreement",
    "AgreementStats",
    "CorruptImageError",
    "ImageInfo",
    "ImageTooSmallError",
    "Layout",
    "NoPairsError",
    "NotAnImageError",
    "PairFiles",
    "PairFolderError",
    "PairImageError",
    "PairMetrics",
    "PairProblem",
    "PairSet",
    "PairsError",
    "ProblemKind",
    "RegisteredPair",
    "Registration",
    "RegistrationMetrics",
    "TransformShape",
    "UnsupportedImageError",
    "Verdict",
    "agreement_mask",
    "find_pairs",
    "load_image",
    "load_registered_pairs",
    "map_points",
    "probe_image",
    "register_pair",
    "register_pair_files",
    "transform_shape",
    "warp_test",
]
