"""Film stocks: per-layer characteristic (H&D) curves, density against log10 exposure.

**The curve.** Each layer (red-, green- and blue-sensitive on a negative; the cyan, magenta and
yellow dye images read in red, green and blue light on a print) is a parametric H&D curve of
``x = log10 H`` (H the exposure; on a negative, relative to the 18 % grey card at the stock's
rated exposure index, so the grey card is at ``x = 0``; on a print, log10 of the light the
negative passes, up to the printer lights, which the timing fixes). With the straight line
``y = gamma (x - x_i)`` (``x_i`` the *inertia*: where the line meets D-min), a toe of softness
``t`` and a shoulder of softness ``s`` (both in density), ``R = D_max - D_min`` and
``sp(u) = ln(1 + e^u)``::

    y_t = t sp(y / t)                        toe:      -> 0 below the toe, -> y above it
    z   = R - s sp((R - y_t) / s)            shoulder: -> y_t below the shoulder, -> R above it
    D   = D_min + R (z - z0) / (R - z0),     z0 = z at y_t = 0,

a composition of increasing maps, so ``D`` is strictly increasing in ``x`` and lies in
``[D_min, D_max)``. Along the straight line (``t << y << R - s``) the slope is ``gamma`` to within
about ``e^{-y/t} + e^{-(R-y)/s}`` (0.5 % at a negative's grey card, ``y = 0.75``).

**The data: approximations of the published curves, not the sheets' numbers.** Every number
below is a rounded approximation of the shape of a curve Kodak publishes on the stock's data sheet
(Status M densities for the negatives, Status A for the prints); none was digitised from a sheet,
and a sheet's own values may differ by a few hundredths in density and gamma.

- Negatives: VISION3 500T 5219/7219 (EI 500, 3200 K), VISION3 250D 5207/7207 (EI 250, daylight),
  VISION3 50D 5203/7203 (EI 50, daylight). Each layer's straight line has a gamma near 0.6
  (R 0.58, G 0.60, B 0.62 for 500T) and passes about 0.75 above D-min at the grey card, the red,
  green and blue lines offset by a few hundredths of log H (the layer speed offsets: inertia
  -1.32, -1.25, -1.19 for 500T). D-min includes the orange mask (500T: R 0.22, G 0.62, B 0.88).
  The lines run straight (slope within 5 % of gamma) from about 2.5 stops under the grey card to
  about 2.4 above D-min, far past the brightest highlight a camera records, into a soft shoulder
  toward 3.2 above D-min (toe softness 0.10, shoulder 0.25).
- Prints: VISION Color Print Film 2383 (3383 in 16 mm), gammas 2.85/2.75/2.65 (R/G/B), D-min
  0.06/0.06/0.07, D-max 3.9/4.0/3.8, toe softness 0.18, shoulder 0.35; VISION Premier 2393, the
  same with gammas 3.05/2.95/2.85 and D-max 4.6/4.8/4.6. Each channel's product of negative and
  print gamma (the system's mid-scale contrast, about 1.65 on 2383) agrees within 1 % across the
  channels, as the stocks are designed to.
- Granularity: the sheets' *diffuse RMS granularity* (1000 x the standard deviation of density read
  through a 48 um aperture at a net diffuse density of 1.0), taken as 7 for 500T, 6 for 250D and
  5 for 50D. The grain clump size (the Gaussian sigma of one dye cloud, um) is on no sheet; 5, 4
  and 3 um are assumed, fast emulsions being coarser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Tuple

import numpy as np

from engines.style.film.errors import FilmSpecError
from engines.style.film.halation import VISION3_HALATION, HalationSpec

__all__ = [
    "LayerCurve",
    "NegativeStock",
    "PrintStock",
    "layer_density",
    "layer_log_exposure",
    "VISION3_500T",
    "VISION3_250D",
    "VISION3_50D",
    "VISION_2383",
    "VISION_2393",
    "NEGATIVE_STOCKS",
    "PRINT_STOCKS",
]


@dataclass(frozen=True)
class LayerCurve:
    """One layer's H&D curve (see the module docstring). Densities are dimensionless (log10 of
    opacity); ``log_h_inertia`` is in log10 exposure units; ``toe`` and ``shoulder`` are softnesses
    in density."""

    d_min: float
    d_max: float
    gamma: float
    log_h_inertia: float
    toe: float
    shoulder: float

    def __post_init__(self) -> None:
        values = (self.d_min, self.d_max, self.gamma, self.log_h_inertia, self.toe, self.shoulder)
        if not all(math.isfinite(v) for v in values):
            raise FilmSpecError(f"layer curve has a non-finite number: {self!r}")
        if not 0.0 <= self.d_min < self.d_max:
            raise FilmSpecError(f"layer curve needs 0 <= d_min < d_max, got d_min={self.d_min}, d_max={self.d_max}")
        if self.gamma <= 0.0 or self.toe <= 0.0 or self.shoulder <= 0.0:
            raise FilmSpecError(
                f"layer curve needs gamma, toe and shoulder > 0, got gamma={self.gamma}, "
                f"toe={self.toe}, shoulder={self.shoulder}"
            )


Layers = Tuple[LayerCurve, LayerCurve, LayerCurve]


@dataclass(frozen=True)
class NegativeStock:
    """A camera negative: its red, green and blue layer curves (``x = 0`` at the grey card at
    ``exposure_index``), diffuse RMS granularity (x1000, 48 um aperture, net density 1.0), the
    assumed grain clump sigma in um, and its halation."""

    name: str
    codes: str
    exposure_index: float
    layers: Layers
    rms_granularity: float
    grain_clump_um: float
    halation: HalationSpec = VISION3_HALATION

    def __post_init__(self) -> None:
        if len(self.layers) != 3:
            raise FilmSpecError(f"{self.name}: a negative has 3 layers, got {len(self.layers)}")
        if not (self.rms_granularity > 0.0 and self.grain_clump_um > 0.0 and self.exposure_index > 0.0):
            raise FilmSpecError(
                f"{self.name}: exposure_index, rms_granularity and grain_clump_um must be > 0, got "
                f"{self.exposure_index}, {self.rms_granularity}, {self.grain_clump_um}"
            )


@dataclass(frozen=True)
class PrintStock:
    """A print film: its layer curves read in red, green and blue (Status A) against log10 print
    exposure."""

    name: str
    codes: str
    layers: Layers

    def __post_init__(self) -> None:
        if len(self.layers) != 3:
            raise FilmSpecError(f"{self.name}: a print film has 3 layers, got {len(self.layers)}")


def _softplus(u: np.ndarray) -> np.ndarray:
    # ln(1 + e^u) without overflow; twice as fast as np.logaddexp(0, u).
    return np.maximum(u, 0.0) + np.log1p(np.exp(-np.abs(u)))


def layer_density(curve: LayerCurve, log_h: np.ndarray) -> np.ndarray:
    """Density of ``curve`` at log10 exposures ``log_h`` (any shape), float64."""
    x = np.asarray(log_h, dtype=np.float64)
    span = curve.d_max - curve.d_min
    y = curve.gamma * (x - curve.log_h_inertia)
    y_toe = curve.toe * _softplus(y / curve.toe)
    z = span - curve.shoulder * _softplus((span - y_toe) / curve.shoulder)
    z0 = span - curve.shoulder * float(np.logaddexp(0.0, span / curve.shoulder))
    return curve.d_min + span * (z - z0) / (span - z0)


def layer_log_exposure(curve: LayerCurve, density: np.ndarray, *, iterations: int = 64) -> np.ndarray:
    """The log10 exposure at which ``curve`` reaches ``density`` (inside ``(d_min, d_max)``), by
    bisection (the curve is strictly increasing); ``iterations=64`` resolves it to 1e-17 of the
    bracket, far below float64's own resolution."""
    target = np.asarray(density, dtype=np.float64)
    if np.any(target <= curve.d_min) or np.any(target >= curve.d_max):
        raise FilmSpecError(
            f"density {target} is outside the curve's open range ({curve.d_min}, {curve.d_max})"
        )
    lo = np.full(target.shape, curve.log_h_inertia - 40.0 / curve.gamma)
    hi = np.full(target.shape, curve.log_h_inertia + 40.0 / curve.gamma)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        below = layer_density(curve, mid) < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def _negative_layers(
    d_min: Tuple[float, float, float],
    d_max: Tuple[float, float, float],
    gamma: Tuple[float, float, float],
    inertia: Tuple[float, float, float],
) -> Layers:
    return tuple(  # type: ignore[return-value]
        LayerCurve(d_min=d_min[i], d_max=d_max[i], gamma=gamma[i], log_h_inertia=inertia[i], toe=0.10, shoulder=0.25)
        for i in range(3)
    )


#: Kodak VISION3 500T 5219 (35 mm) / 7219 (16 mm, Super 8): approximations of the published curves.
VISION3_500T = NegativeStock(
    name="Kodak VISION3 500T",
    codes="5219/7219",
    exposure_index=500.0,
    layers=_negative_layers(
        d_min=(0.22, 0.62, 0.88), d_max=(3.42, 3.82, 4.08), gamma=(0.58, 0.60, 0.62), inertia=(-1.32, -1.25, -1.19)
    ),
    rms_granularity=7.0,
    grain_clump_um=5.0,
)

#: Kodak VISION3 250D 5207/7207: approximations of the published curves.
VISION3_250D = NegativeStock(
    name="Kodak VISION3 250D",
    codes="5207/7207",
    exposure_index=250.0,
    layers=_negative_layers(
        d_min=(0.20, 0.60, 0.84), d_max=(3.40, 3.80, 4.04), gamma=(0.58, 0.60, 0.62), inertia=(-1.31, -1.25, -1.20)
    ),
    rms_granularity=6.0,
    grain_clump_um=4.0,
)

#: Kodak VISION3 50D 5203/7203: approximations of the published curves.
VISION3_50D = NegativeStock(
    name="Kodak VISION3 50D",
    codes="5203/7203",
    exposure_index=50.0,
    layers=_negative_layers(
        d_min=(0.18, 0.58, 0.80), d_max=(3.38, 3.78, 4.00), gamma=(0.59, 0.61, 0.63), inertia=(-1.29, -1.24, -1.19)
    ),
    rms_granularity=5.0,
    grain_clump_um=3.0,
)


def _print_layers(gamma: Tuple[float, float, float], d_max: Tuple[float, float, float]) -> Layers:
    d_min = (0.06, 0.06, 0.07)
    inertia = (0.02, 0.0, -0.02)
    return tuple(  # type: ignore[return-value]
        LayerCurve(d_min=d_min[i], d_max=d_max[i], gamma=gamma[i], log_h_inertia=inertia[i], toe=0.18, shoulder=0.35)
        for i in range(3)
    )


#: Kodak VISION Color Print Film 2383 (3383 in 16 mm): approximations of the published curves.
VISION_2383 = PrintStock(
    name="Kodak VISION Color Print Film", codes="2383/3383", layers=_print_layers((2.85, 2.75, 2.65), (3.90, 4.00, 3.80))
)

#: Kodak VISION Premier Color Print Film 2393: approximations of the published curves.
VISION_2393 = PrintStock(
    name="Kodak VISION Premier Color Print Film",
    codes="2393",
    layers=_print_layers((3.05, 2.95, 2.85), (4.60, 4.80, 4.60)),
)

#: The negatives by their 35 mm code.
NEGATIVE_STOCKS = {"5219": VISION3_500T, "5207": VISION3_250D, "5203": VISION3_50D}

#: The print films by their 35 mm code.
PRINT_STOCKS = {"2383": VISION_2383, "2393": VISION_2393}
