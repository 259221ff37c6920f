"""A look prepared for live frames of one size: the whole look in a few table lookups per pixel.

``style_frame`` (look.py) evaluates a look from its parameters; live, at 24 fps beside the node,
every step is a precomputed table instead:

* the inverse BT.709 OETF of an 8-bit frame: a 256-entry table;
* the vignette: a gain map of the frame's size;
* halation: only when some red light is over the threshold (the blur is skipped otherwise);
* the BT.709 OETF and the input curves ``f_c(sqrt(x))`` together: one table of
  :data:`CURVE_TABLE` entries per channel indexed by scene-linear light in [0, 1];
* the crosstalk: a 3x3 product;
* the output curves: one table of :data:`CURVE_TABLE` entries per channel over [-0.5, 1.5];
* grain: :data:`GRAIN_FIELDS` noise fields made once, frame ``n`` takes field ``n mod K`` rolled
  by an offset drawn from ``n`` (a frame's grain is its own, and the same again for the same
  frame index), scaled by the RMS table read at each pixel's level (a 256-entry table).

Nearest-entry lookups in 4096-entry tables put a value within 1/8190 of the exact input (in
linear light: at most 0.14 of an 8-bit code value after the OETF, whose slope is 4.5 at black);
the test checks the result against ``style_frame`` within one code value.
"""

from __future__ import annotations

import numpy as np

from engines.style.model.colour import OUT_DOMAIN, interp_curves
from engines.style.model.fit import rec709_decode, rec709_encode
from engines.style.model.look import Look
from engines.style.model.texture import apply_halation, grain_noise, radius_map

__all__ = ["CURVE_TABLE", "GRAIN_FIELDS", "LiveLook"]

CURVE_TABLE = 4096
GRAIN_FIELDS = 6


class LiveLook:
    """``look`` for frames of ``height`` x ``width`` (module docstring); :meth:`apply` styles one."""

    def __init__(self, look: Look, height: int, width: int, grain: bool = True) -> None:
        self.look, self.height, self.width = look, int(height), int(width)
        self._decode = rec709_decode(np.arange(256) / 255.0).astype(np.float32)
        r2 = radius_map(self.height, self.width) ** 2
        gain = np.exp(look.vignette.a * r2 + look.vignette.b * r2 * r2)
        self._gain = None if np.allclose(gain, 1.0) else gain.astype(np.float32)[..., None]
        code = np.clip(rec709_encode(np.linspace(0.0, 1.0, CURVE_TABLE)), 0.0, 1.0)  # indexed by linear light
        self._in = interp_curves(np.sqrt(code)[:, None].repeat(3, 1), look.colour.in_curves, 0.0, 1.0).T.astype(
            np.float32)  # (3, T)
        lo, hi = OUT_DOMAIN
        v = np.linspace(lo, hi, CURVE_TABLE)
        self._out = interp_curves(v[:, None].repeat(3, 1), look.colour.out_curves, lo, hi).T.astype(np.float32)
        self._matrix = look.colour.matrix.T.astype(np.float32)
        self._noise = None
        if grain and look.grain is not None:
            self._noise = np.stack([grain_noise(self.height, self.width, look.grain, seed=k)
                                    for k in range(GRAIN_FIELDS)]).astype(np.float32)
            levels = np.arange(256) / 255.0
            self._rms = np.stack([np.interp(levels, look.grain.levels, look.grain.rms[c]) for c in range(3)],
                                 axis=-1).astype(np.float32)  # (256, 3)

    def _lookup(self, table: np.ndarray, values: np.ndarray, lo: float, hi: float) -> np.ndarray:
        idx = np.clip(((values - lo) * ((CURVE_TABLE - 1) / (hi - lo)) + 0.5).astype(np.int32), 0, CURVE_TABLE - 1)
        return np.stack([table[c][idx[..., c]] for c in range(3)], axis=-1)

    def apply(self, rgb_u8: np.ndarray, frame_index: int = 0) -> np.ndarray:
        """The styled frame, (H, W, 3) uint8, of an (H, W, 3) uint8 frame of this size."""
        if rgb_u8.shape != (self.height, self.width, 3) or rgb_u8.dtype != np.uint8:
            raise ValueError(f"a live look for {self.width}x{self.height} takes ({self.height}, {self.width}, 3) "
                             f"uint8 frames; got {rgb_u8.shape} {rgb_u8.dtype}")
        lin = self._decode[rgb_u8]
        if self._gain is not None:
            lin = lin * self._gain
        halation = self.look.halation
        if halation.sigma_frac > 0 and any(g > 0 for g in halation.gain_rgb) and \
                (lin[..., 0] > halation.threshold).any():
            lin = apply_halation(lin.astype(np.float64), halation).astype(np.float32)
        u = self._lookup(self._in, lin, 0.0, 1.0)
        v = u @ self._matrix
        y = self._lookup(self._out, v, *OUT_DOMAIN)
        if self._noise is not None:
            rng = np.random.default_rng(frame_index)
            field = self._noise[frame_index % GRAIN_FIELDS]
            field = np.roll(field, (int(rng.integers(self.height)), int(rng.integers(self.width))), axis=(0, 1))
            level = np.clip((y * 255.0 + 0.5).astype(np.int32), 0, 255)
            rms = np.stack([self._rms[level[..., c], c] for c in range(3)], axis=-1)
            y = y + rms * field
        return np.clip(y * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)
