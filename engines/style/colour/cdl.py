"""An ASC CDL approximation of a look: the formula, and a least-squares fit of its ten numbers.

**Formula** (ASC CDL v1.2, as OpenColorIO's ``CDL_ASC`` style applies it), per pixel::

    sop  = clamp(in * slope + offset) ^ power            per channel, clamp to [0, 1]
    luma = 0.2126 sop_r + 0.7152 sop_g + 0.0722 sop_b     Rec.709 luma weights
    out  = clamp(luma + saturation * (sop - luma))

with ``slope >= 0``, ``power > 0``, ``saturation >= 0``. OpenColorIO reads a ``.cc`` file as the
``CDL_NO_CLAMP`` style instead: no clamps, and a negative ``in * slope + offset`` passes the power
unchanged; :func:`apply_cdl` with ``clamp=False`` is that style. The two agree wherever the values
stay in [0, 1].

**What a CDL can express.** Three per-channel power curves with a gain and a lift, and one global
saturation about Rec.709 luma. It cannot express an S-curve (a toe and a shoulder at once), a hue
shift, or channel crosstalk beyond the saturation's uniform mix, so it only approximates a film
look. :func:`fit_cdl` reports how closely as ΔE2000 against the full look on held-out colours, and
:func:`cdl_allowed` offers the CDL only when the mean is at most :data:`CDL_MAX_MEAN_DELTA_E` (1.0,
about a just-noticeable difference) and the 95th percentile at most :data:`CDL_MAX_P95_DELTA_E` (2.5);
a caller with other needs passes its own limits.

**Fit.** The CDL maps the same input as the look's ``.cube`` for that encoding (the encoding's code
values) to the same output (Rec.709 display-referred). Its ten numbers minimise the squared
difference of the output code values (display code values are close to perceptually uniform) over
a 9^3 lattice, 2048 random colours and a 33-step grey ramp, by Levenberg-Marquardt with a
forward-difference Jacobian, projected onto the bounds above after each step, from the identity
CDL. ΔE2000 is then measured on 4096 other random colours and a 64-step grey ramp (fixed seeds:
the same look gives the same CDL). A log encoding's CDL has to absorb the whole log-to-display
rendering and rarely passes; for log footage fit the CDL for ``rec709`` instead and apply it after
the encoding's rendering (the identity look's ``.cube`` for that encoding; docs/luts.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import numpy as np

from engines.style.colour.bake import LookFunction, apply_look
from engines.style.colour.delta_e import DeltaEStats, delta_e_2000, delta_e_stats
from engines.style.colour.encodings import as_rgb, encoding_info, to_look_domain
from engines.style.colour.errors import ColourInputError

__all__ = [
    "REC709_LUMA",
    "POWER_MIN",
    "CDL_MAX_MEAN_DELTA_E",
    "CDL_MAX_P95_DELTA_E",
    "Cdl",
    "CdlFit",
    "apply_cdl",
    "fit_cdl",
    "cdl_allowed",
]

#: Rec.709 luma weights of the saturation step.
REC709_LUMA = np.array([0.2126, 0.7152, 0.0722])

#: Smallest power the fit returns.
POWER_MIN = 0.01

#: Default limits under which a look allows a CDL (ΔE2000 against the full look).
CDL_MAX_MEAN_DELTA_E = 1.0
CDL_MAX_P95_DELTA_E = 2.5

Triple = Tuple[float, float, float]


@dataclass(frozen=True)
class Cdl:
    """The ten numbers of an ASC CDL: slope, offset, power per channel (r, g, b), and saturation."""

    slope: Triple = (1.0, 1.0, 1.0)
    offset: Triple = (0.0, 0.0, 0.0)
    power: Triple = (1.0, 1.0, 1.0)
    saturation: float = 1.0

    def __post_init__(self) -> None:
        for name in ("slope", "offset", "power"):
            values = getattr(self, name)
            if len(values) != 3 or not all(np.isfinite(v) for v in values):
                raise ColourInputError(f"CDL {name} must be 3 finite numbers, got {values!r}")
        if min(self.slope) < 0.0 or min(self.power) <= 0.0 or not (np.isfinite(self.saturation)
                                                                   and self.saturation >= 0.0):
            raise ColourInputError(f"CDL needs slope >= 0, power > 0, saturation >= 0; got slope {self.slope}, "
                                   f"power {self.power}, saturation {self.saturation}")

    def as_vector(self) -> np.ndarray:
        return np.array([*self.slope, *self.offset, *self.power, self.saturation], dtype=np.float64)

    @classmethod
    def from_vector(cls, p: np.ndarray) -> "Cdl":
        p = [float(v) for v in p]
        return cls(tuple(p[0:3]), tuple(p[3:6]), tuple(p[6:9]), p[9])


@dataclass(frozen=True)
class CdlFit:
    """A fitted CDL, the input encoding it is for, and its ΔE2000 against the full look (held out)."""

    cdl: Cdl
    encoding: str
    delta_e: DeltaEStats
    rms_code_value: float
    iterations: int


def _apply(p: np.ndarray, rgb: np.ndarray, clamp: bool) -> np.ndarray:
    sop = rgb * p[0:3] + p[3:6]
    if clamp:
        sop = np.power(np.clip(sop, 0.0, 1.0), p[6:9])
    else:
        sop = np.where(sop < 0.0, sop, np.power(np.maximum(sop, 0.0), p[6:9]))
    luma = sop @ REC709_LUMA
    out = luma[..., None] + p[9] * (sop - luma[..., None])
    return np.clip(out, 0.0, 1.0) if clamp else out


def apply_cdl(cdl: Cdl, rgb: object, clamp: bool = True) -> np.ndarray:
    """``cdl`` applied to RGB (..., 3), float64: the ASC v1.2 formula of the module docstring, or
    with ``clamp=False`` OpenColorIO's ``CDL_NO_CLAMP`` style (how it reads ``.cc`` files)."""
    return _apply(cdl.as_vector(), as_rgb(rgb, "CDL input", np.float64), clamp)


def _samples(seed: int, lattice_points: int, random: int, greys: int) -> np.ndarray:
    axis = np.linspace(0.0, 1.0, lattice_points)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    rand = np.random.default_rng(seed).random((random, 3))
    grey = np.repeat(np.linspace(0.0, 1.0, greys)[:, None], 3, axis=1)
    return np.concatenate([grid, rand, grey]).astype(np.float32)


def _project(p: np.ndarray) -> np.ndarray:
    p = p.copy()
    p[0:3] = np.maximum(p[0:3], 0.0)
    p[6:9] = np.maximum(p[6:9], POWER_MIN)
    p[9] = max(p[9], 0.0)
    return p


def _levenberg_marquardt(x: np.ndarray, target: np.ndarray, max_iterations: int) -> Tuple[np.ndarray, int]:
    def residual(q: np.ndarray) -> np.ndarray:
        return (_apply(q, x, True) - target).ravel()

    p = np.array([1, 1, 1, 0, 0, 0, 1, 1, 1, 1], dtype=np.float64)
    r = residual(p)
    cost, damping = float(r @ r), 1e-3
    for iteration in range(1, max_iterations + 1):
        J = np.empty((r.size, p.size))
        for k in range(p.size):
            h = 1e-6 * (1.0 + abs(p[k]))
            q = p.copy()
            q[k] += h
            J[:, k] = (residual(q) - r) / h
        JtJ, Jtr = J.T @ J, J.T @ r
        while True:
            step = np.linalg.solve(JtJ + damping * np.diag(np.diag(JtJ) + 1e-12), -Jtr)
            trial = _project(p + step)
            r_trial = residual(trial)
            cost_trial = float(r_trial @ r_trial)
            if cost_trial < cost:
                damping = max(damping / 3.0, 1e-12)
                break
            damping *= 4.0
            if damping > 1e12:
                return p, iteration
        improvement = (cost - cost_trial) / max(cost, 1e-300)
        p, r, cost = trial, r_trial, cost_trial
        if improvement < 1e-10 or np.max(np.abs(step)) < 1e-10:
            return p, iteration
    return p, max_iterations


def fit_cdl(look_fn: LookFunction, encoding: str = "rec709", *, seed: int = 0,
            max_iterations: int = 200) -> CdlFit:
    """The CDL closest to ``look_fn`` for code values of ``encoding``, and its ΔE2000 against the full
    look on held-out colours (see the module docstring; :func:`cdl_allowed` says whether to offer it)."""
    encoding_info(encoding)
    fit_codes = _samples(seed, 9, 2048, 33)
    target = apply_look(look_fn, to_look_domain(fit_codes, encoding)).astype(np.float64)
    p, iterations = _levenberg_marquardt(fit_codes.astype(np.float64), target, max_iterations)
    cdl = Cdl.from_vector(p)
    rms = float(np.sqrt(np.mean((_apply(p, fit_codes.astype(np.float64), True) - target) ** 2)))
    test_codes = _samples(seed + 1, 0, 4096, 64)
    full = apply_look(look_fn, to_look_domain(test_codes, encoding))
    stats = delta_e_stats(delta_e_2000(apply_cdl(cdl, test_codes), full))
    return CdlFit(cdl, encoding, stats, rms, iterations)


def cdl_allowed(fit: CdlFit, max_mean_delta_e: float = CDL_MAX_MEAN_DELTA_E,
                max_p95_delta_e: float = CDL_MAX_P95_DELTA_E) -> bool:
    """Whether the CDL is close enough to the full look to be offered: its held-out ΔE2000 mean and
    95th percentile within the limits (see the module docstring)."""
    return fit.delta_e.mean <= max_mean_delta_e and fit.delta_e.p95 <= max_p95_delta_e
