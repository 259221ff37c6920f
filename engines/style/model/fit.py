"""Fitting a look's colour part (and its vignette) to paired samples, by gradient descent in torch.

**Samples.** Pairs of Rec.709 display-referred colours: ``control`` (N, 3), the digital frame's
value, and ``test`` (N, 3), the film frame's value at the same scene point, with an optional weight
each and, for the vignette, the sample's distance from the frame centre ``radius`` (N,) as a
fraction of the half diagonal.

**Model.** ``engines.style.model.colour``: monotone input curves f, a 3x3 matrix M, monotone
output curves g; the vignette is a gain on the control's scene-linear value before the curves,
``gain(r) = exp(a r^2 + b r^4)`` (a lens's and a gate's falloff: even in r, 1 at the centre), so
the film's darker corners are learned as texture, not as colour. Monotone curves are kept monotone
by construction: each is a start value plus the running sum of softplus-positive steps; the input
curves are normalised to run from 0 to 1 (the matrix carries any scale).

**Loss.** The weighted mean squared difference of the predicted and test display values, plus
two small penalties: the curves' squared second differences (:data:`SMOOTHNESS`: a curve between
samples stays as straight as the data allow, and a region without samples keeps its start, the
identity), and the matrix's distance from the identity (:data:`MATRIX_RIDGE`). Adam, full batch,
``steps`` steps with the learning rate falling by a cosine to a tenth; the same seed and samples
give the same result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import numpy as np

from engines.style.model.colour import CURVE_KNOTS, OUT_DOMAIN, ColourTransform
from engines.style.model.errors import StyleFitError

__all__ = ["SMOOTHNESS", "MATRIX_RIDGE", "DEFAULT_STEPS", "ColourFit", "fit_colour", "rec709_decode", "rec709_encode"]

SMOOTHNESS = 1e-4
MATRIX_RIDGE = 1e-6
DEFAULT_STEPS = 1500
_MIN_SAMPLES = 200


@dataclass(frozen=True)
class ColourFit:
    """The fitted colour transform, the vignette's (a, b) and the final weighted RMS error (code values)."""

    colour: ColourTransform
    vignette: Tuple[float, float]
    rms: float
    steps: int


def rec709_decode(x):
    """Inverse BT.709 OETF: Rec.709 code value -> scene-linear (numpy or torch)."""
    lib = _lib(x)
    return lib.where(x < 0.081, x / 4.5, ((x + 0.099) / 1.099) ** (1.0 / 0.45))


def rec709_encode(lin):
    """BT.709 OETF: scene-linear -> Rec.709 code value (numpy or torch)."""
    lib = _lib(lin)
    lin = lib.clip(lin, 0.0, None) if lib is np else lin.clamp(min=0.0)
    # The power piece on its own domain only: its slope at 0 is infinite, and torch's gradient of
    # the branch not taken would still be NaN there (a black sample would spoil the whole fit).
    high = np.maximum(lin, 0.018) if lib is np else lin.clamp(min=0.018)
    return lib.where(lin < 0.018, 4.5 * lin, 1.099 * high ** 0.45 - 0.099)


def _lib(a):
    if isinstance(a, np.ndarray):
        return np
    import torch

    return torch


def _inv_softplus(y: float) -> float:
    return math.log(math.expm1(y))


def _curves_torch(torch, start, steps_raw, span: Optional[float]):
    inc = torch.nn.functional.softplus(steps_raw)
    run = torch.cat([torch.zeros_like(inc[:, :1]), torch.cumsum(inc, dim=1)], dim=1)
    if span is None:  # input curves: 0 to 1
        return run / run[:, -1:]
    return start[:, None] + run


def _interp_torch(torch, values, knots, lo: float, hi: float):
    k = knots.shape[1]
    pos = (values.clamp(lo, hi) - lo) * ((k - 1) / (hi - lo))
    i0 = pos.floor().clamp(max=k - 2).long()
    frac = pos - i0
    left = torch.gather(knots, 1, i0.T).T
    right = torch.gather(knots, 1, (i0 + 1).T).T
    return left + frac * (right - left)


def fit_colour(control: np.ndarray, test: np.ndarray, *, weights: Optional[np.ndarray] = None,
               radius: Optional[np.ndarray] = None, steps: int = DEFAULT_STEPS, seed: int = 0,
               progress: Optional[Callable[[int, float], None]] = None) -> ColourFit:
    """Fit :class:`ColourTransform` (and the vignette, where ``radius`` is given) to samples
    (module docstring). ``progress(step, rms)`` is called every 50 steps."""
    import torch

    control, test = np.asarray(control, np.float64), np.asarray(test, np.float64)
    if control.ndim != 2 or control.shape[1] != 3 or control.shape != test.shape:
        raise StyleFitError(f"control and test samples must both be (N, 3); got {control.shape} and {test.shape}")
    if len(control) < _MIN_SAMPLES:
        raise StyleFitError(f"{len(control)} colour samples are too few to fit a look (at least {_MIN_SAMPLES})")
    if not (np.isfinite(control).all() and np.isfinite(test).all()):
        raise StyleFitError("colour samples must be finite")
    w = np.ones(len(control)) if weights is None else np.asarray(weights, np.float64)
    if w.shape != (len(control),) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise StyleFitError("weights must be one finite non-negative number per sample, not all zero")
    if radius is not None and (np.shape(radius) != (len(control),) or not np.isfinite(radius).all()):
        raise StyleFitError(f"radius must be one finite number per sample ({len(control)}); "
                            f"got shape {np.shape(radius)}")
    if steps < 1:
        raise StyleFitError(f"steps must be at least 1; got {steps}")
    torch.manual_seed(seed)
    dt = torch.float64
    x = torch.tensor(np.clip(control, 0.0, None), dtype=dt)  # over 1: light over white before the vignette
    y = torch.tensor(test, dtype=dt)
    wt = torch.tensor(w / w.sum(), dtype=dt)
    r2 = None if radius is None else torch.tensor(np.asarray(radius, np.float64) ** 2, dtype=dt)
    k = CURVE_KNOTS
    lo, hi = OUT_DOMAIN
    in_raw = torch.full((3, k - 1), _inv_softplus(1.0 / (k - 1)), dtype=dt, requires_grad=True)
    out_raw = torch.full((3, k - 1), _inv_softplus((hi - lo) / (k - 1)), dtype=dt, requires_grad=True)
    out_start = torch.full((3,), lo, dtype=dt, requires_grad=True)
    delta = torch.zeros((3, 3), dtype=dt, requires_grad=True)
    vig = torch.zeros(2, dtype=dt, requires_grad=r2 is not None)
    params = [in_raw, out_raw, out_start, delta] + ([vig] if r2 is not None else [])
    opt = torch.optim.Adam(params, lr=0.02)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.1 + 0.45 * (1 + math.cos(math.pi * s / steps)))
    eye = torch.eye(3, dtype=dt)

    def forward():
        xin = x
        if r2 is not None:
            gain = torch.exp(vig[0] * r2 + vig[1] * r2 * r2)[:, None]
            xin = rec709_encode(rec709_decode(x) * gain).clamp(0.0, 1.0)
        f = _curves_torch(torch, None, in_raw, None)
        g = _curves_torch(torch, out_start, out_raw, hi - lo)
        u = _interp_torch(torch, xin.clamp(1e-12, 1.0).sqrt(), f, 0.0, 1.0)
        v = u @ (eye + delta).T
        return _interp_torch(torch, v, g, lo, hi).clamp(0.0, 1.0), f, g

    def objective():
        pred, f, g = forward()
        loss = (wt * ((pred - y) ** 2).sum(dim=1)).sum()
        rough = ((f[:, 2:] - 2 * f[:, 1:-1] + f[:, :-2]) ** 2).sum() + \
            ((g[:, 2:] - 2 * g[:, 1:-1] + g[:, :-2]) ** 2).sum() / (hi - lo) ** 2
        return loss, loss + SMOOTHNESS * rough + MATRIX_RIDGE * (delta ** 2).sum()

    # Adam finds the basin (the curves start as identities, far from a film's); L-BFGS finishes.
    adam_steps = steps // 3
    for step in range(adam_steps):
        opt.zero_grad()
        loss, total = objective()
        total.backward()
        opt.step()
        sched.step()
        if progress is not None and step % 50 == 0:
            progress(step, math.sqrt(float(loss.detach()) / 3.0))
    lbfgs = torch.optim.LBFGS(params, lr=1.0, max_iter=20, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        lbfgs.zero_grad()
        _, total = objective()
        total.backward()
        return total

    for step in range(adam_steps, steps, 20):
        lbfgs.step(closure)
        if progress is not None:
            progress(step, math.sqrt(float(objective()[0].detach()) / 3.0))
    with torch.no_grad():
        pred, f, g = forward()
        rms = math.sqrt(float((wt * ((pred - y) ** 2).sum(dim=1)).sum()) / 3.0)
        colour = ColourTransform(f.numpy().copy(), (eye + delta).numpy().copy(), g.numpy().copy())
        vignette = (float(vig[0]), float(vig[1]))
    return ColourFit(colour=colour, vignette=vignette, rms=rms, steps=steps)
