"""RGB primaries, white points and the matrices between them, derived from published chromaticities.

An RGB space with primaries ``(x_i, y_i)`` and white ``(x_w, y_w)`` has the normalised primary
matrix ``M = P diag(S)``: the columns of ``P`` are the primaries' XYZ at ``Y = 1``
(``x/y, 1, (1 - x - y)/y``) and ``S = P^-1 W`` scales them so that RGB = 1 gives the white's XYZ
``W`` (``Y = 1``). A change of white point uses a von Kries adaptation in a cone space ``C``:
``A = C^-1 diag(C W_dst / C W_src) C``. Everything is float64; the matrices reproduce the ones
colour-science derives from the same numbers to 1e-9.

Sources: Rec.709 primaries and D65 from ITU-R BT.709-6; the ACES AP0 primaries and white from
SMPTE ST 2065-1; the CAT02 cone matrix from CIE 159:2004 (CIECAM02).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "REC709_PRIMARIES_XY",
    "D65_XY",
    "AP0_PRIMARIES_XY",
    "ACES_WHITE_XY",
    "CAT02",
    "xy_to_XYZ",
    "rgb_to_xyz_matrix",
    "adaptation_matrix",
    "REC709_TO_XYZ",
    "XYZ_TO_REC709",
    "AP0_TO_REC709_CAT02",
]

#: Rec.709 red, green, blue chromaticities (x, y).
REC709_PRIMARIES_XY = np.array([[0.640, 0.330], [0.300, 0.600], [0.150, 0.060]])

#: D65 white as BT.709 specifies it (x, y).
D65_XY = np.array([0.3127, 0.3290])

#: ACES AP0 red, green, blue chromaticities (x, y).
AP0_PRIMARIES_XY = np.array([[0.7347, 0.2653], [0.0000, 1.0000], [0.0001, -0.0770]])

#: The ACES white point (about D60), (x, y).
ACES_WHITE_XY = np.array([0.32168, 0.33767])

#: CIECAM02's chromatic adaptation cone matrix (XYZ to sharpened cone responses).
CAT02 = np.array(
    [
        [0.7328, 0.4296, -0.1624],
        [-0.7036, 1.6975, 0.0061],
        [0.0030, 0.0136, 0.9834],
    ]
)


def xy_to_XYZ(xy: np.ndarray) -> np.ndarray:
    """Chromaticities (..., 2) to XYZ (..., 3) with ``Y = 1``."""
    x, y = np.asarray(xy, dtype=np.float64)[..., 0], np.asarray(xy, dtype=np.float64)[..., 1]
    return np.stack([x / y, np.ones_like(x), (1.0 - x - y) / y], axis=-1)


def rgb_to_xyz_matrix(primaries_xy: np.ndarray, white_xy: np.ndarray) -> np.ndarray:
    """The 3x3 matrix from linear RGB to XYZ (white at ``Y = 1``) of an RGB space."""
    P = xy_to_XYZ(primaries_xy).T
    S = np.linalg.solve(P, xy_to_XYZ(white_xy))
    return P * S[None, :]


def adaptation_matrix(src_white_xy: np.ndarray, dst_white_xy: np.ndarray, cone: np.ndarray = CAT02) -> np.ndarray:
    """The von Kries matrix (XYZ to XYZ) that takes ``src_white`` to ``dst_white`` in ``cone`` space."""
    src, dst = cone @ xy_to_XYZ(src_white_xy), cone @ xy_to_XYZ(dst_white_xy)
    return np.linalg.solve(cone, np.diag(dst / src) @ cone)


#: Linear Rec.709 (D65) to CIE XYZ, white at Y = 1.
REC709_TO_XYZ = rgb_to_xyz_matrix(REC709_PRIMARIES_XY, D65_XY)

#: CIE XYZ to linear Rec.709 (D65).
XYZ_TO_REC709 = np.linalg.inv(REC709_TO_XYZ)

#: ACES2065-1 (AP0, ACES white) to linear Rec.709 (D65), white adapted with CAT02.
AP0_TO_REC709_CAT02 = (
    XYZ_TO_REC709 @ adaptation_matrix(ACES_WHITE_XY, D65_XY) @ rgb_to_xyz_matrix(AP0_PRIMARIES_XY, ACES_WHITE_XY)
)
