"""Gate vignette: exposure falling off toward the frame's corners (the cos^4 law).

A point of the image seen at field angle ``theta`` gets ``cos^4 theta`` of the light of the
centre (natural vignetting of the taking lens; the gate and the lens barrel's mechanical vignetting
add to it near the corners, which the same smooth law stands in for). With ``rho`` the distance
from the frame's centre in units of its half-diagonal (0 at the centre, 1 at a corner) and
``tan theta = rho tan theta_c``, the exposure factor is::

    v(rho) = cos^4 theta = (1 + rho^2 tan^2 theta_c)^-2,   tan^2 theta_c = 2^(c/2) - 1,

so that ``v(1) = 2^-c`` exactly: the frame's corner loses ``c`` stops (``FilmFormat.vignette_corner_stops``)
and the centre none (``1 - v`` grows as ``rho^2``: about 1 % of ``c``'s loss at a tenth of the
half-diagonal).
The factor multiplies the exposure, before halation and the negative's curves.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["vignette_factor", "vignette_stops_at"]


def _tan2_corner(corner_stops: float) -> float:
    return 2.0 ** (corner_stops / 2.0) - 1.0


def vignette_stops_at(rho: np.ndarray, corner_stops: float) -> np.ndarray:
    """Exposure lost, in stops (>= 0), at normalised radius ``rho`` (0 centre, 1 corner)."""
    rho = np.asarray(rho, dtype=np.float64)
    return 2.0 * np.log2(1.0 + rho**2 * _tan2_corner(corner_stops))


def vignette_factor(height_px: int, width_px: int, corner_stops: float) -> np.ndarray:
    """The exposure factor (H, W) float64 at each pixel centre of a frame ``height_px`` x
    ``width_px`` (square pixels), for a corner loss of ``corner_stops``."""
    half_diagonal = 0.5 * math.hypot(height_px, width_px)
    y = (np.arange(height_px) + 0.5 - 0.5 * height_px) / half_diagonal
    x = (np.arange(width_px) + 0.5 - 0.5 * width_px) / half_diagonal
    rho2 = y[:, None] ** 2 + x[None, :] ** 2
    return (1.0 + rho2 * _tan2_corner(corner_stops)) ** -2
