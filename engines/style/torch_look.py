"""A look as a torch module for one frame size: what ``style_frame`` computes, in a form ONNX holds.

:class:`LookNet` takes ``frame`` (1, 3, H, W) float32 Rec.709 code values in [0, 1] and, when the
look has grain, ``grain`` (1, 3, H, W) float32 unit noise (a field of
:func:`engines.style.model.texture.grain_noise`, channels first; randomness cannot live in a graph,
so the caller passes it, as :class:`engines.style.live.LiveLook` keeps a bank of them). It returns
``styled`` (1, 3, H, W) float32 in [0, 1], the steps of ``style_frame`` (look.py) in their order:

    lin    = rec709_decode(frame) * gain(r)                       vignette: a (H, W) gain map
    lin   += gain_rgb * relu(B_y relu(lin_R - t) B_x)             halation: a separable blur, two matmuls
    x      = clamp(rec709_encode(lin), 0, 1)
    y      = clamp(g(M f(sqrt(x))), 0, 1)                         colour: curves by gather, a matmul
    styled = clamp(y + rms(y) * grain, 0, 1)                      grain: rms table by gather

Everything the look learned is a buffer (the vignette's gain map, the knots and slopes of every
curve, the matrix, the halation's blur matrices, threshold and gains, the grain's table), so the
ONNX export holds it as initializers and the weights hash covers it; the constructor's keyword
arguments (:attr:`LookNet.config`) only say which parts exist and how large they are, which is
what the torch backend needs to rebuild the module before loading the state dict.

**Curves** (piecewise linear on evenly spaced knots, values outside the domain take the end
knots): ``pos = (clamp(v, lo, hi) - lo) (K - 1) / (hi - lo)``, ``i = min(floor(pos), K - 2)``,
``knot[i] + (pos - i) slope[i]``, two gathers from a flat (3 K,) table with the channel's offset
added to the index: the same arithmetic as ``interp_curves`` (colour.py). A grain table whose
levels are not evenly spaced is evaluated as a sum of clamped ramps instead, which is the same
piecewise-linear function as ``np.interp``.

**Halation.** ``gaussian_blur`` (texture.py) multiplies the FFT of the source plane, zero-padded
by ``p = ceil(4 sigma)`` on each side, by the Gaussian's transfer function: a circular convolution
on the padded lengths with ``k[n] = IDFT(exp(-2 pi^2 sigma^2 f^2))``, separable because the transfer
function factors. The padding is zero, so on the frame's pixels that is ``B_y s B_x`` with one
(side, side) symmetric matrix per axis, ``B[i, j] = k[(j - i) mod (side + 2 p)]``
(:func:`blur_matrix`): the module holds the two matrices and applies two matmuls, the FFT's own
operation, so it agrees with it to float32 rounding at any sigma. A convolution with a kernel cut
at 4 sigma and zero padding would leave out the kernel beyond 4 sigma, 6.3e-5 of the light per
axis, which a halo on a dark surround turns into 8.5e-5 of code value through the OETF's toe
(slope 4.5; measured on the test look, gain 0.45), and below a pixel of sigma, where the sampled
transfer function is far from zero at Nyquist and ``k`` rings across the padded frame, far more
(1.2e-3 for the shipped ``push1`` at 128 px wide, sigma 0.32 px, with a kernel cut at 5 sigma). It
would not be faster on a CPU either: at 1920x1080 on one thread, torch ran the 1 x 95 convolution
in 1.6 s (its im2col copies the frame 95 times), the two matmuls (H^2 W + W^2 H = 6.2 G
multiply-adds) in 0.13 s; a GPU does them in well under a millisecond. A look with no halation
(sigma 0 or every gain 0) has no blur and no matrices.

**Precision.** ``style_frame`` computes in float64 and rounds the colour to float32 before the
grain; this module computes in float32 throughout. A float32 rounding (6e-8 relative) is scaled
by at most the steepest slope on its way (the inverse OETF's 1/0.45 power, the curves), which
leaves the output within 1e-6 of ``style_frame`` (measured: 5e-7;
tests/engines/style/test_export.py states the tolerance, 1e-5, and prints the measured figure).
"""

from __future__ import annotations

import math
from typing import Any, Dict, Optional

import numpy as np
import torch
from torch import nn

from engines.runtime import register_torch_factory
from engines.style.export import GRAIN_INPUT, MODEL_NAME, OUTPUT
from engines.style.model.colour import OUT_DOMAIN
from engines.style.model.look import Look
from engines.style.model.texture import radius_map

__all__ = ["LookNet", "blur_matrix", "has_halation"]

#: ``gaussian_blur`` (texture.py) pads its FFT by this many sigmas; its kernel is the IDFT on that length.
_FFT_PAD_SIGMAS = 4.0


def has_halation(look: Look) -> bool:
    """True when ``look``'s halation adds light (the condition ``apply_halation`` tests)."""
    return look.halation.sigma_frac > 0.0 and any(g > 0 for g in look.halation.gain_rgb)


def blur_matrix(sigma_px: float, side_px: int) -> np.ndarray:
    """(side, side) float64, symmetric: ``gaussian_blur`` (texture.py) of ``sigma_px`` pixels along
    an axis of ``side_px`` pixels, as a matrix (module docstring): ``B[i, j] = k[(j - i) mod N]``,
    ``k`` the IDFT of the Gaussian's transfer function on the padded length ``N``."""
    padded = side_px + 2 * int(math.ceil(_FFT_PAD_SIGMAS * sigma_px))
    f = np.fft.fftfreq(padded)
    kernel = np.fft.ifft(np.exp(-2.0 * math.pi ** 2 * sigma_px ** 2 * f ** 2)).real
    offset = np.arange(side_px)[None, :] - np.arange(side_px)[:, None]
    return kernel[offset % padded]


def _flat_curves(knots: np.ndarray) -> tuple:
    """(3 K,) knot values and (3 K,) slopes to the next knot (0 after the last), float32."""
    knots = np.asarray(knots, np.float64)
    slopes = np.concatenate([np.diff(knots, axis=1), np.zeros((knots.shape[0], 1))], axis=1)
    return (torch.from_numpy(knots.reshape(-1).astype(np.float32)),
            torch.from_numpy(slopes.reshape(-1).astype(np.float32)))


def _power(base: torch.Tensor, exponent: float) -> torch.Tensor:
    """``base ** exponent`` for positive ``base`` as ``exp(exponent log(base))``: twice as fast as
    Pow in torch and in ONNX Runtime, within 2 float32 ulps of it on the OETF's ranges. Where
    ``base <= 0`` the result is not used (the OETF takes its linear segment there)."""
    return torch.exp(torch.log(base) * exponent)


def _channel_offsets(knots: int) -> torch.Tensor:
    """(1, 3, 1, 1) float32: where each channel's knots start in a flat (3 K,) table."""
    return (torch.arange(3, dtype=torch.float32) * knots).reshape(1, 3, 1, 1)


def _evenly_spaced(levels: np.ndarray) -> bool:
    if len(levels) < 2 or not levels[-1] > levels[0]:
        return False
    return bool(np.allclose(np.diff(levels), (levels[-1] - levels[0]) / (len(levels) - 1), rtol=1e-9, atol=1e-12))


class LookNet(nn.Module):
    """A look for ``height`` x ``width`` frames (module docstring). Build one with
    :meth:`from_look`; the constructor makes the buffers' shapes only (zeros), for the torch
    backend to load a state dict into.

    ``in_knots``, ``out_knots``: the colour curves' knot counts; ``vignette``: whether there is a
    gain map; ``halation``: whether there is a halation blur; ``grain_levels``: the grain table's
    length (0: no grain, and no ``grain`` input); ``grain_even``: whether its levels are evenly
    spaced (gather) or not (clamped ramps).
    """

    def __init__(self, height: int, width: int, in_knots: int = 33, out_knots: int = 33, vignette: bool = False,
                 halation: bool = False, grain_levels: int = 0, grain_even: bool = True) -> None:
        super().__init__()
        self.height, self.width = int(height), int(width)
        if self.height < 1 or self.width < 1:
            raise ValueError(f"a look's frame size must be positive; got {self.width}x{self.height}")
        if in_knots < 2 or out_knots < 2:
            raise ValueError(f"curves need at least 2 knots; got {in_knots} in, {out_knots} out")
        self.in_knots, self.out_knots = int(in_knots), int(out_knots)
        self.vignette = bool(vignette)
        self.halation = bool(halation)
        self.grain_levels, self.grain_even = int(grain_levels), bool(grain_even)
        zeros = torch.zeros
        self.register_buffer("in_curve", zeros(3 * self.in_knots))
        self.register_buffer("in_slope", zeros(3 * self.in_knots))
        self.register_buffer("matrix", zeros(3, 3))
        self.register_buffer("out_curve", zeros(3 * self.out_knots))
        self.register_buffer("out_slope", zeros(3 * self.out_knots))
        self.register_buffer("in_offset", _channel_offsets(self.in_knots), persistent=False)
        self.register_buffer("out_offset", _channel_offsets(self.out_knots), persistent=False)
        if self.vignette:
            self.register_buffer("vignette_gain", zeros(1, 1, self.height, self.width))
        if self.halation:
            self.register_buffer("halation_threshold", zeros(()))
            self.register_buffer("halation_gain", zeros(1, 3, 1, 1))
            self.register_buffer("halation_rows", zeros(self.height, self.height))
            self.register_buffer("halation_columns", zeros(self.width, self.width))
        if self.grain_levels:
            n = self.grain_levels
            if self.grain_even:
                self.register_buffer("grain_curve", zeros(3 * n))
                self.register_buffer("grain_slope", zeros(3 * n))
                self.register_buffer("grain_range", zeros(3))  # first level, last level, (L - 1) / (last - first)
                self.register_buffer("grain_offset", _channel_offsets(n), persistent=False)
            else:
                self.register_buffer("grain_levels_table", zeros(n))
                self.register_buffer("grain_start", zeros(1, 3, 1, 1))
                self.register_buffer("grain_ramp", zeros(max(n - 1, 0), 1, 3, 1, 1))

    @property
    def config(self) -> Dict[str, Any]:
        """The constructor's keyword arguments (JSON), as the export records them."""
        return {"height": self.height, "width": self.width, "in_knots": self.in_knots, "out_knots": self.out_knots,
                "vignette": self.vignette, "halation": self.halation,
                "grain_levels": self.grain_levels, "grain_even": self.grain_even}

    @classmethod
    def from_look(cls, look: Look, height: int, width: int) -> "LookNet":
        """``look`` for frames of ``height`` x ``width``, every buffer filled, in eval mode."""
        colour = look.colour
        vignette = not (look.vignette.a == 0.0 and look.vignette.b == 0.0)
        halation = has_halation(look)
        grain = look.grain
        levels = np.asarray(grain.levels, np.float64) if grain is not None else np.zeros(0)
        net = cls(height, width, colour.in_curves.shape[1], colour.out_curves.shape[1], vignette, halation,
                  len(levels), _evenly_spaced(levels) if grain is not None else True)
        with torch.no_grad():
            for name, knots in (("in", colour.in_curves), ("out", colour.out_curves)):
                values, slopes = _flat_curves(knots)
                getattr(net, f"{name}_curve").copy_(values)
                getattr(net, f"{name}_slope").copy_(slopes)
            net.matrix.copy_(torch.from_numpy(colour.matrix.astype(np.float32)))
            if vignette:
                r2 = radius_map(height, width) ** 2
                gain = np.exp(look.vignette.a * r2 + look.vignette.b * r2 * r2)
                net.vignette_gain.copy_(torch.from_numpy(gain.astype(np.float32)).reshape(1, 1, height, width))
            if halation:
                sigma = look.halation.sigma_frac * width  # a length on the film: a share of the width
                net.halation_threshold.fill_(float(look.halation.threshold))
                net.halation_gain.copy_(torch.tensor(look.halation.gain_rgb, dtype=torch.float32).reshape(1, 3, 1, 1))
                for buffer, side in ((net.halation_rows, height), (net.halation_columns, width)):
                    buffer.copy_(torch.from_numpy(blur_matrix(sigma, side).astype(np.float32)))
            if grain is not None:
                rms = np.asarray(grain.rms, np.float64)
                if net.grain_even:
                    values, slopes = _flat_curves(rms)
                    net.grain_curve.copy_(values)
                    net.grain_slope.copy_(slopes)
                    net.grain_range.copy_(torch.tensor([levels[0], levels[-1],
                                                        (len(levels) - 1) / (levels[-1] - levels[0])]))
                else:
                    net.grain_levels_table.copy_(torch.from_numpy(levels.astype(np.float32)))
                    net.grain_start.copy_(torch.from_numpy(rms[:, 0].astype(np.float32)).reshape(1, 3, 1, 1))
                    ramp = np.diff(rms, axis=1) / np.diff(levels)[None, :]  # (3, L - 1)
                    net.grain_ramp.copy_(torch.from_numpy(ramp.T.astype(np.float32)).reshape(net.grain_ramp.shape))
        return net.eval()

    # -- the steps -------------------------------------------------------------------------------------

    def _gather(self, pos: torch.Tensor, table: torch.Tensor, slope: torch.Tensor, offset: torch.Tensor,
                knots: int) -> torch.Tensor:
        """Piecewise linear at ``pos`` (knot units, in [0, K - 1]): ``table[i] + (pos - i) slope[i]``."""
        i0 = pos.floor().clamp(max=knots - 2)
        # One flat int32 index for all three channels (the channel's offset added before the cast),
        # and index_select rather than advanced indexing: 2.5x faster in torch eager, and int32
        # indices gather faster than int64 in ONNX Runtime; the same Gather in ONNX.
        index = (i0 + offset).int().reshape(-1)
        shape = (1, 3, self.height, self.width)
        return table.index_select(0, index).reshape(shape) + (pos - i0) * slope.index_select(0, index).reshape(shape)

    def _curves(self, values: torch.Tensor, table: torch.Tensor, slope: torch.Tensor, offset: torch.Tensor,
                lo: float, hi: float, knots: int) -> torch.Tensor:
        pos = (values.clamp(lo, hi) - lo) * ((knots - 1) / (hi - lo))
        return self._gather(pos, table, slope, offset, knots)

    def _halation(self, lin: torch.Tensor) -> torch.Tensor:
        source = torch.relu(lin[:, 0:1] - self.halation_threshold)
        spread = torch.relu(torch.matmul(torch.matmul(self.halation_rows, source), self.halation_columns))
        return lin + spread * self.halation_gain

    def _grain_rms(self, y: torch.Tensor) -> torch.Tensor:
        if self.grain_even:
            lo, hi, scale = self.grain_range[0], self.grain_range[1], self.grain_range[2]
            pos = (torch.minimum(torch.maximum(y, lo), hi) - lo) * scale
            return self._gather(pos, self.grain_curve, self.grain_slope, self.grain_offset, self.grain_levels)
        rms = self.grain_start.expand_as(y)
        levels = self.grain_levels_table
        for j in range(self.grain_levels - 1):
            rms = rms + self.grain_ramp[j] * (torch.minimum(torch.maximum(y, levels[j]), levels[j + 1]) - levels[j])
        return rms

    def forward(self, frame: torch.Tensor, grain: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        lin = torch.where(frame < 0.081, frame / 4.5, _power((frame + 0.099) / 1.099, 1.0 / 0.45))
        if self.vignette:
            lin = lin * self.vignette_gain
        if self.halation:
            lin = self._halation(lin)
        lin = lin.clamp(min=0.0)
        x = torch.where(lin < 0.018, 4.5 * lin, 1.099 * _power(lin, 0.45) - 0.099).clamp(0.0, 1.0)
        u = self._curves(x.sqrt(), self.in_curve, self.in_slope, self.in_offset, 0.0, 1.0, self.in_knots)
        # a (3, 3) x (3, H W) matmul: in ONNX Runtime about twice as fast as the same 1 x 1 Conv
        v = torch.matmul(self.matrix, u.reshape(3, -1)).reshape(1, 3, self.height, self.width)
        y = self._curves(v, self.out_curve, self.out_slope, self.out_offset, *OUT_DOMAIN, self.out_knots)
        y = y.clamp(0.0, 1.0)
        if self.grain_levels:
            if grain is None:
                raise ValueError(f"this look has grain: pass {GRAIN_INPUT} (1, 3, {self.height}, {self.width}) unit noise")
            y = (y + self._grain_rms(y) * grain).clamp(0.0, 1.0)
        return {OUTPUT: y}


register_torch_factory(MODEL_NAME, LookNet, replace=True)
