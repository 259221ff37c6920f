"""The colour part of a look: per-channel tone curves, a 3x3 channel crosstalk, per-channel curves.

A look's colour is a per-pixel function of a Rec.709 display-referred RGB value ``x`` in [0, 1]
(the simulated camera's encoding; other encodings reach it first, docs/luts.md)::

    u_c = f_c(sqrt(x_c))           input curves: monotone, f_c(0) = 0, f_c(1) = 1
    v   = M u                      channel crosstalk: 3x3, rows act on the curves' outputs
    y_c = g_c(clamp(v_c, V0, V1))  output curves: monotone, over the fixed domain [V0, V1]
    out = clamp(y, 0, 1)

This is the form of a film's colour (film-pipeline.md): a layer's characteristic curve is the
input curve (exposure -> density), dye crosstalk and a bleach bypass's retained silver are linear
mixes of the layers' densities (the matrix), and the print or scan with its display encoding is
the output curve. It is compact (3 x 2 x :data:`CURVE_KNOTS` curve values and nine numbers) and
bakes exactly into a 3D LUT or, without crosstalk, into an ASC CDL's neighbourhood.

Curves are piecewise linear through :data:`CURVE_KNOTS` evenly spaced knots (h = 1/32 of the
input's [0, 1], 1/32 of [V0, V1] on the output). The input curves are spaced in ``sqrt(x)``, so
their knots lie closest where a film's curve is steepest in code value: near black, where equal
steps of exposure are the smallest steps of code value. A piecewise-linear curve is off a smooth one by
at most h^2/8 |f''|: 1.2e-4 |f''| on the input, 4.9e-4 |f''| on the output, under 2e-3 in code
value for the strongest bend of a film's toe or shoulder (|f''| about 4), a ΔE2000 of a few
tenths at worst and far less on mid tones.

Pure functions of arrays (numpy only): :func:`apply_colour` works for any array shaped (..., 3).
Fitting the parameters to pairs is ``engines.style.model.fit`` (torch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CURVE_KNOTS", "OUT_DOMAIN", "ColourTransform", "identity_colour", "apply_colour", "interp_curves"]

CURVE_KNOTS = 33
#: The output curves' domain [V0, V1]: room for the crosstalk to push a channel past 0 or 1.
OUT_DOMAIN = (-0.5, 1.5)


@dataclass(frozen=True, eq=False)
class ColourTransform:
    """A look's colour part (module docstring). ``in_curves`` and ``out_curves`` are (3, K)
    float64 knot values (R, G, B rows); ``matrix`` is (3, 3)."""

    in_curves: np.ndarray
    matrix: np.ndarray
    out_curves: np.ndarray

    def __post_init__(self) -> None:
        for name in ("in_curves", "out_curves"):
            a = np.asarray(getattr(self, name), np.float64)
            if a.ndim != 2 or a.shape[0] != 3 or a.shape[1] < 2:
                raise ValueError(f"{name} must be (3, K >= 2) knot values; got shape {a.shape}")
            object.__setattr__(self, name, a)
        m = np.asarray(self.matrix, np.float64)
        if m.shape != (3, 3):
            raise ValueError(f"matrix must be 3x3; got shape {m.shape}")
        object.__setattr__(self, "matrix", m)
        if not all(np.isfinite(getattr(self, n)).all() for n in ("in_curves", "matrix", "out_curves")):
            raise ValueError("a colour transform's curves and matrix must be finite")

    def to_dict(self) -> dict:
        return {"in_curves": self.in_curves.tolist(), "matrix": self.matrix.tolist(),
                "out_curves": self.out_curves.tolist(), "out_domain": list(OUT_DOMAIN)}

    @classmethod
    def from_dict(cls, data: dict) -> "ColourTransform":
        if tuple(data.get("out_domain", OUT_DOMAIN)) != OUT_DOMAIN:
            raise ValueError(f"output curve domain {data.get('out_domain')} is not this Onset's {list(OUT_DOMAIN)}")
        return cls(np.array(data["in_curves"]), np.array(data["matrix"]), np.array(data["out_curves"]))

    @property
    def has_crosstalk(self) -> bool:
        """True when the matrix mixes channels (off-diagonal terms over 1e-3)."""
        return bool(np.abs(self.matrix - np.diag(np.diag(self.matrix))).max() > 1e-3)


def identity_colour(knots: int = CURVE_KNOTS) -> ColourTransform:
    """The colour transform that changes nothing (the input knots undo their sqrt spacing)."""
    s = np.linspace(0.0, 1.0, knots)
    v = np.linspace(OUT_DOMAIN[0], OUT_DOMAIN[1], knots)
    return ColourTransform(np.tile(s * s, (3, 1)), np.eye(3), np.tile(v, (3, 1)))


def interp_curves(values: np.ndarray, knots: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Each channel of ``values`` (..., 3) through its piecewise-linear curve (``knots`` (3, K),
    evenly spaced over [lo, hi]); values outside [lo, hi] take the end knots."""
    k = knots.shape[1]
    pos = (np.clip(values, lo, hi) - lo) * ((k - 1) / (hi - lo))
    i0 = np.minimum(pos.astype(np.int64), k - 2)
    frac = pos - i0
    ch = np.arange(3)
    left = knots[ch, i0]
    right = knots[ch, i0 + 1]
    return left + frac * (right - left)


def apply_colour(rgb: np.ndarray, transform: ColourTransform) -> np.ndarray:
    """The look's colour of Rec.709 display-referred ``rgb`` (..., 3) in [0, 1]: float32, same shape."""
    x = np.asarray(rgb, np.float64)
    if x.shape[-1:] != (3,):
        raise ValueError(f"colour needs RGB values shaped (..., 3); got shape {x.shape}")
    u = interp_curves(np.sqrt(np.clip(x, 0.0, 1.0)), transform.in_curves, 0.0, 1.0)
    v = u @ transform.matrix.T
    y = interp_curves(v, transform.out_curves, *OUT_DOMAIN)
    return np.clip(y, 0.0, 1.0).astype(np.float32)
