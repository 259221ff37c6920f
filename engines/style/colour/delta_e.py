"""CIEDE2000 colour difference between Rec.709 display-referred images.

**Display light, not scene light.** A look's output is display-referred: what matters is the light a
reference monitor emits for it, so the code values ``V`` (clipped to [0, 1]) are decoded with the
BT.1886 EOTF, ``L = a max(V + b, 0)^2.4``, for a reference display with white ``L_W = 1`` and black
``L_B = 0`` (a grading room), where it reduces to ``L = V^2.4``. The inverse BT.709 OETF would give
the *scene* light a camera saw instead, and leave out the end-to-end system gamma (about 1.2) that a
viewer sees; differences in the shadows would be weighed wrongly.

**To CIELAB.** Linear Rec.709 to XYZ with the normalised primary matrix
(:data:`engines.style.colour.primaries.REC709_TO_XYZ`), then CIE 1976 L*a*b* relative to the
display white (D65, ``Y_n = 1``; so R = G = B = 1 is L* = 100, a* = b* = 0), with the CIE's exact
constants (``epsilon = 216/24389``, ``kappa = 24389/27``).

**CIEDE2000** as Sharma, Wu and Dalal (2005) give it (their equations 1-22), with
``k_L = k_C = k_H = 1``. It reproduces their 34 published test pairs to 1e-4 (one, pair 14, sits
exactly on the 180-degree hue discontinuity, where rounding decides between 4.7461 and 4.8045).
One ΔE2000 unit is about a just-noticeable difference between flat patches side by side; in a
moving picture differences under 1 go unseen and under 2-3 unremarked.

Everything is float64; the per-pixel result has the input's shape without the last axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.style.colour.encodings import as_rgb
from engines.style.colour.errors import ColourInputError
from engines.style.colour.primaries import REC709_TO_XYZ

__all__ = [
    "BT1886_GAMMA",
    "DeltaEStats",
    "bt1886_eotf",
    "rec709_display_to_xyz",
    "xyz_to_lab",
    "rec709_display_to_lab",
    "delta_e_2000_lab",
    "delta_e_2000",
    "delta_e_stats",
]

#: Exponent of the BT.1886 EOTF (with a zero black level it is the whole curve).
BT1886_GAMMA = 2.4

_EPSILON = 216.0 / 24389.0
_KAPPA = 24389.0 / 27.0
_WHITE_XYZ = REC709_TO_XYZ.sum(axis=1)


@dataclass(frozen=True)
class DeltaEStats:
    """Summary of per-pixel ΔE2000: mean, 95th percentile, maximum, and how many pixels."""

    mean: float
    p95: float
    max: float
    count: int

    def as_dict(self) -> dict:
        return {"mean": self.mean, "p95": self.p95, "max": self.max, "count": self.count}


def bt1886_eotf(code_values: np.ndarray) -> np.ndarray:
    """BT.1886 display light (white = 1, black = 0) of code values, clipped to [0, 1] first."""
    return np.power(np.clip(np.asarray(code_values, dtype=np.float64), 0.0, 1.0), BT1886_GAMMA)


def rec709_display_to_xyz(rgb: object) -> np.ndarray:
    """CIE XYZ (..., 3), display white at Y = 1, of Rec.709 display-referred RGB (..., 3)."""
    light = bt1886_eotf(as_rgb(rgb, "Rec.709 display-referred values", np.float64))
    return light @ REC709_TO_XYZ.T


def xyz_to_lab(xyz: np.ndarray) -> np.ndarray:
    """CIE 1976 L*a*b* (..., 3) of XYZ (..., 3) relative to the D65 display white."""
    t = np.asarray(xyz, dtype=np.float64) / _WHITE_XYZ
    f = np.where(t > _EPSILON, np.cbrt(t), (_KAPPA * t + 16.0) / 116.0)
    return np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])],
                    axis=-1)


def rec709_display_to_lab(rgb: object) -> np.ndarray:
    """CIELAB (..., 3) of Rec.709 display-referred RGB (..., 3), as the module docstring says."""
    return xyz_to_lab(rec709_display_to_xyz(rgb))


def _hue_deg(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    h = np.degrees(np.arctan2(b, a)) % 360.0
    return np.where((a == 0.0) & (b == 0.0), 0.0, h)


def delta_e_2000_lab(lab_1: object, lab_2: object) -> np.ndarray:
    """CIEDE2000 (shape ``lab_1.shape[:-1]``) between two CIELAB arrays (..., 3) of the same shape."""
    lab_1, lab_2 = np.asarray(lab_1, dtype=np.float64), np.asarray(lab_2, dtype=np.float64)
    if lab_1.shape != lab_2.shape or lab_1.ndim == 0 or lab_1.shape[-1] != 3:
        raise ColourInputError(f"CIELAB arrays must both be shaped (..., 3), got {lab_1.shape} and {lab_2.shape}")
    L1, a1, b1 = np.moveaxis(lab_1, -1, 0)
    L2, a2, b2 = np.moveaxis(lab_2, -1, 0)
    c_bar7 = ((np.hypot(a1, b1) + np.hypot(a2, b2)) / 2.0) ** 7
    G = 0.5 * (1.0 - np.sqrt(c_bar7 / (c_bar7 + 25.0**7)))
    a1p, a2p = (1.0 + G) * a1, (1.0 + G) * a2
    C1p, C2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p, h2p = _hue_deg(b1, a1p), _hue_deg(b2, a2p)
    chroma_product = C1p * C2p
    dh = h2p - h1p
    dh = np.where(dh > 180.0, dh - 360.0, np.where(dh < -180.0, dh + 360.0, dh))
    dh = np.where(chroma_product == 0.0, 0.0, dh)
    dL, dC = L2 - L1, C2p - C1p
    dH = 2.0 * np.sqrt(chroma_product) * np.sin(np.radians(dh / 2.0))
    L_bar, C_bar = (L1 + L2) / 2.0, (C1p + C2p) / 2.0
    h_sum = h1p + h2p
    h_bar = np.where(np.abs(h1p - h2p) <= 180.0, h_sum / 2.0,
                     np.where(h_sum < 360.0, (h_sum + 360.0) / 2.0, (h_sum - 360.0) / 2.0))
    h_bar = np.where(chroma_product == 0.0, h_sum, h_bar)
    T = (1.0 - 0.17 * np.cos(np.radians(h_bar - 30.0)) + 0.24 * np.cos(np.radians(2.0 * h_bar))
         + 0.32 * np.cos(np.radians(3.0 * h_bar + 6.0)) - 0.20 * np.cos(np.radians(4.0 * h_bar - 63.0)))
    d_theta = 30.0 * np.exp(-(((h_bar - 275.0) / 25.0) ** 2))
    C_bar7 = C_bar**7
    R_C = 2.0 * np.sqrt(C_bar7 / (C_bar7 + 25.0**7))
    S_L = 1.0 + 0.015 * (L_bar - 50.0) ** 2 / np.sqrt(20.0 + (L_bar - 50.0) ** 2)
    S_C = 1.0 + 0.045 * C_bar
    S_H = 1.0 + 0.015 * C_bar * T
    R_T = -np.sin(np.radians(2.0 * d_theta)) * R_C
    l_term, c_term, h_term = dL / S_L, dC / S_C, dH / S_H
    return np.sqrt(np.maximum(l_term**2 + c_term**2 + h_term**2 + R_T * c_term * h_term, 0.0))


def delta_e_2000(rgb_1: object, rgb_2: object) -> np.ndarray:
    """Per-pixel CIEDE2000 between two Rec.709 display-referred images (..., 3) of the same shape."""
    a = as_rgb(rgb_1, "first image", np.float64)
    b = as_rgb(rgb_2, "second image", np.float64)
    if a.shape != b.shape:
        raise ColourInputError(f"images to compare must have the same shape, got {a.shape} and {b.shape}")
    return delta_e_2000_lab(rec709_display_to_lab(a), rec709_display_to_lab(b))


def delta_e_stats(delta_e: object) -> DeltaEStats:
    """Mean, 95th percentile (linear interpolation) and maximum of per-pixel ΔE values."""
    values = np.asarray(delta_e, dtype=np.float64).ravel()
    if values.size == 0:
        raise ColourInputError("no ΔE values to summarise")
    return DeltaEStats(float(values.mean()), float(np.percentile(values, 95.0)), float(values.max()), int(values.size))
