"""Look augmentation: training clips styled by a film look, on the planes the captioner reads.

The closed loop (engines/style/closed_loop.py) requires that no look changes what the captioner
reads. A model trained on raw frames only reads a look's grain (its own on every frame) as motion
in its correlation flow, and a look's colour moves its appearance features; so training styles a
share ``p`` of its clips with a film look and keeps their labels. The styling acts on the clip's
planes (``engines.captioner.inputs``: r, g, b the means of 5 x 5 blocks of a 640x360 Rec.709
frame, then the depth planes, never touched) and stands in for ``LiveLook(look, 360, 640).apply``
on the full frame followed by ``frame_planes``, in the same order:

* **vignette and exposure**, on scene-linear light: ``lin = decode(x) g(r)^k 2^ev``, the look's
  gain ``g`` (``texture.radius_map``) at each plane pixel's centre, its block's centre;
* **halation** (a look with one; no shipped look has): ``texture``'s formula at plane size, the
  spread ``sigma_frac`` of the plane's width, blurred as ``gaussian_blur`` does
  (``torch_look.blur_matrix``);
* **colour**: the look's own curves and matrix, tabulated as ``live.LiveLook`` does
  (``colour.interp_curves`` behind the OETF; :data:`TABLE` entries, nearest entry) with the matrix
  between the tables. The planes are block means, so this is the colour of an area mean where the
  reference takes the area mean of the colour: the same on a flat block, apart by about the
  curves' bend times the block's variance where the block holds detail;
* **jitter** (:class:`LookJitter`), one draw per clip so that the model learns the family of
  looks and not six exact ones: ``k`` scales the vignette's strength, ``ev`` the exposure, and
  the crosstalk becomes ``v = c S M u + (1 - c) / 2`` (contrast ``c`` about the middle of the
  output curves' input, saturation ``S = s I + (1 - s) 1 w^T`` keeping the Rec.709-weighted mean
  ``w . u``), before the output curves as a film's contrast and dye mix are;
* **grain**, on the display value ``y``: ``y + a rms(y) n``, the look's rms-vs-level table read at
  the plane's level (for a block, the rms at its mean level: exact on a flat block) times a grain
  scale ``a``. The look's grain is spatially correlated at full size, so the mean of a 5 x 5 block
  of unit grain has a standard deviation of 0.23 (35 mm) to 0.38 (Super 8), not the 1/5 of white
  noise. :func:`plane_look` makes :data:`GRAIN_FIELDS` unit fields per look with
  ``texture.grain_noise`` at the full frame size (:data:`FRAME_HW`, what the dataset builder
  stores) and block-averages them as ``frame_planes`` does (:func:`block_mean`); each frame takes
  a field of its own, rolled and flipped at random (the field is periodic and its spectrum
  radial, so neither changes its statistics): frames of one clip get independent grain under one
  look, as on film.

**How faithful** (tests/engines/captioner/model/test_look_augment.py; the reference is
``LiveLook`` at 640x360, then ``frame_planes``; all six shipped looks, no jitter). Colour, without
grain: mean |error| at most 4e-4 on gradients and 7e-4 on a flat grey (mostly the reference's own
rounding to 8 bits: against ``style_frame`` in float64, 5e-5 on the flat field), 2.7e-3 on a frame
of hard-edged shapes whose edge blocks are off by up to 0.34 (bleach bypass: colour of the mean
against mean of the colour); full-contrast stripes finer than a block are off by 0.012 to 0.042
on average, the limit of styling planes. Grain on flat fields (standard deviation of the
frame-to-frame difference): within 2 % of the reference's at mid grey; 5 to 12 % low in the
shadows, where the reference's 8-bit rounding adds its own noise; in clipped highlights (a look
that maps the level to white) up to 15 % high, as the reference clips each pixel and this clips
the block mean. White noise at rms/5 would be 12 % (35 mm) to 47 % (Super 8) low.

Everything random comes from the caller's ``torch.Generator``, with the same number of draws per
batch whatever is chosen, so a seeded training run repeats exactly. Cost: a dozen passes over the
styled clips' planes, two clips at a time; a batch of 64 clips of 8 frames with ``p = 0.5`` took
66 to 84 ms of one CPU core on a busy 2-core machine (docs/captioner-model.md).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
import torch

from engines.captioner.inputs import MODEL_SIZE_HW
from engines.style.model.colour import OUT_DOMAIN, interp_curves
from engines.style.model.fit import rec709_decode, rec709_encode
from engines.style.model.look import Look
from engines.style.model.texture import grain_noise, radius_map

__all__ = ["FRAME_HW", "GRAIN_FIELDS", "TABLE", "LookJitter", "DEFAULT_JITTER", "NO_JITTER", "PlaneLook",
           "block_mean", "plane_look", "shipped_plane_looks", "augment_looks"]

#: (height, width) of the full frames the planes were made from: the dataset builder's 640x360.
FRAME_HW: Tuple[int, int] = (360, 640)
#: Unit grain fields made per look.
GRAIN_FIELDS = 32
#: Entries of each colour table (scene-linear decode, input curves, output curves).
TABLE = 16384
#: The grain fields' seeds start here, away from ``LiveLook``'s (0 to 5): the closed loop never
#: meets the very fields the model was trained on.
_BANK_SEED = 1000
#: Clips styled together: 2 clips of 8 frames are 1.8 MB a buffer.
_CHUNK_CLIPS = 2
#: The contrast jitter's pivot on the output curves' input (the middle of the 0..1 a grey spans).
_PIVOT = 0.5
#: The saturation jitter keeps the Rec.709-weighted mean of the channels.
_LUMA = (0.2126, 0.7152, 0.0722)


@dataclass(frozen=True)
class LookJitter:
    """How far a clip's look strays from the shipped one, each drawn uniformly per clip:
    ``exposure_stops``: +- stops on scene-linear light before the colour; ``contrast`` and
    ``saturation``: factors in ``1 +- value`` on the crosstalk (module docstring); ``vignette``,
    ``grain``: (low, high) factors on the vignette's log-gain and on the grain's rms."""

    exposure_stops: float = 0.25
    contrast: float = 0.08
    saturation: float = 0.15
    vignette: Tuple[float, float] = (0.5, 1.5)
    grain: Tuple[float, float] = (0.5, 1.5)

    def __post_init__(self) -> None:
        for name in ("exposure_stops", "contrast", "saturation"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"look jitter {name} must be in [0, 1); got {getattr(self, name)}")
        for name in ("vignette", "grain"):
            low, high = getattr(self, name)
            if not 0.0 <= low <= high:
                raise ValueError(f"look jitter {name} must be a range (low, high) with 0 <= low <= high; "
                                 f"got {getattr(self, name)}")


DEFAULT_JITTER = LookJitter()
#: The shipped looks exactly (the fidelity tests use it).
NO_JITTER = LookJitter(0.0, 0.0, 0.0, (1.0, 1.0), (1.0, 1.0))


@dataclass(frozen=True, eq=False)
class PlaneLook:
    """A look prepared for planes of ``plane_hw`` (:func:`plane_look`); float32 tensors.

    ``decode`` (TABLE,): scene-linear light of code values 0..1; ``in_table`` (3 TABLE,): the
    OETF and input curves by scene-linear light in [0, 1]; ``matrix`` (3, 3); ``out_table``
    (3 TABLE,): the output curves over ``OUT_DOMAIN``, clipped to [0, 1]; ``log_vignette``
    (H W,): the vignette's log-gain; ``halation``: None or (threshold, gains (1, 3, 1), rows
    (H, H), columns (W, W)); ``rms_out`` (3 TABLE,): the grain's rms at each ``out_table``
    entry's level; ``grain_bank`` (3, K H W): K block-averaged unit grain fields (None: no grain)."""

    name: str
    plane_hw: Tuple[int, int]
    decode: torch.Tensor
    in_table: torch.Tensor
    matrix: torch.Tensor
    out_table: torch.Tensor
    log_vignette: Optional[torch.Tensor]
    halation: Optional[Tuple[float, torch.Tensor, torch.Tensor, torch.Tensor]]
    rms_out: Optional[torch.Tensor]
    grain_bank: Optional[torch.Tensor]

    @property
    def grain_fields(self) -> int:
        h, w = self.plane_hw
        return 0 if self.grain_bank is None else self.grain_bank.shape[1] // (h * w)


def block_mean(image: np.ndarray, plane_hw: Tuple[int, int] = MODEL_SIZE_HW) -> np.ndarray:
    """(C, h, w) float64 means of an (H, W, C) float ``image`` over the blocks ``frame_planes``
    averages (``H / h`` x ``W / w`` pixels, contiguous; its own helper sums uint8 only)."""
    image = np.asarray(image, np.float64)
    h, w = plane_hw
    fh, fw = image.shape[0] // h, image.shape[1] // w
    if image.ndim != 3 or fh < 1 or fw < 1 or (fh * h, fw * w) != image.shape[:2]:
        raise ValueError(f"an image to average over {w}x{h} blocks must be (H, W, C) with H and W whole "
                         f"multiples of {h} and {w}; got shape {image.shape}")
    return np.moveaxis(image.reshape(h, fh, w, fw, -1).mean(axis=(1, 3)), -1, 0)


def _f32(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def _channel_table(values: np.ndarray) -> torch.Tensor:
    """(N, 3) table columns as one flat (3 N,) tensor, channel after channel."""
    return _f32(np.asarray(values).T.reshape(-1))


def plane_look(look: Look, frame_hw: Tuple[int, int] = FRAME_HW, plane_hw: Tuple[int, int] = MODEL_SIZE_HW,
               grain_fields: int = GRAIN_FIELDS, bank_seed: int = _BANK_SEED) -> PlaneLook:
    """``look`` prepared for planes of ``plane_hw`` made from frames of ``frame_hw`` (module
    docstring). The grain fields cost about 50 ms each at 640x360."""
    (fh, fw), (h, w) = frame_hw, plane_hw
    if fh % h or fw % w or fh < h or fw < w:
        raise ValueError(f"frames of {fw}x{fh} do not average into {w}x{h} planes (whole blocks needed)")
    if look.grain is not None and grain_fields < 1:
        raise ValueError(f"a look with grain needs at least one grain field; got {grain_fields}")
    lin = np.linspace(0.0, 1.0, TABLE)
    code = np.clip(rec709_encode(lin), 0.0, 1.0)
    in_table = interp_curves(np.sqrt(code)[:, None].repeat(3, 1), look.colour.in_curves, 0.0, 1.0)
    lo, hi = OUT_DOMAIN
    v = np.linspace(lo, hi, TABLE)[:, None].repeat(3, 1)
    out_table = np.clip(interp_curves(v, look.colour.out_curves, lo, hi), 0.0, 1.0)
    log_vignette = None
    if not (look.vignette.a == 0.0 and look.vignette.b == 0.0):
        r2 = radius_map(h, w) ** 2
        log_vignette = _f32((look.vignette.a * r2 + look.vignette.b * r2 * r2).reshape(-1))
    halation = None
    hal = look.halation
    if hal.sigma_frac > 0.0 and any(g > 0 for g in hal.gain_rgb):
        from engines.style.torch_look import blur_matrix  # imports the runtimes: only for a look with halation

        sigma = hal.sigma_frac * w  # a length on the film: the same share of the plane's width
        halation = (float(hal.threshold), _f32(np.asarray(hal.gain_rgb)).reshape(1, 3, 1),
                    _f32(blur_matrix(sigma, h)), _f32(blur_matrix(sigma, w)))
    rms_out = grain_bank = None
    if look.grain is not None:
        rms_out = _channel_table(np.stack([np.interp(out_table[:, c], look.grain.levels, look.grain.rms[c])
                                           for c in range(3)], axis=-1))
        fields = [block_mean(grain_noise(fh, fw, look.grain, seed=bank_seed + k), plane_hw).reshape(3, h * w)
                  for k in range(grain_fields)]
        grain_bank = _f32(np.concatenate(fields, axis=1))  # (3, K h w)
    return PlaneLook(name=look.name, plane_hw=(h, w), decode=_f32(rec709_decode(lin)),
                     in_table=_channel_table(in_table), matrix=_f32(look.colour.matrix),
                     out_table=_channel_table(out_table), log_vignette=log_vignette, halation=halation,
                     rms_out=rms_out, grain_bank=grain_bank)


@functools.lru_cache(maxsize=4)
def shipped_plane_looks(frame_hw: Tuple[int, int] = FRAME_HW, grain_fields: int = GRAIN_FIELDS
                        ) -> Tuple[PlaneLook, ...]:
    """Every shipped look (``engines/style/looks``) prepared for the model's planes, made once per
    process (about 10 s for six looks of 32 fields)."""
    from engines.style.model.shipped import resolve_look, shipped_look_names

    return tuple(plane_look(resolve_look(name), tuple(frame_hw), MODEL_SIZE_HW, grain_fields)
                 for name in shipped_look_names())


def _index(values: torch.Tensor, lo: float, hi: float, size: int, per_channel: bool, scratch: torch.Tensor,
           index: torch.Tensor) -> torch.Tensor:
    """``index`` (int32, shaped like ``values`` (m, 3, n)) filled with the nearest entries of a
    (size,) table, or of a flat (3 size,) one whose channel c starts at ``c size``, to ``values``
    clamped to [lo, hi] (in place); ``scratch``: a float buffer like ``values``."""
    scale = (size - 1) / (hi - lo)
    base = torch.tensor(0.5 - lo * scale)  # + 0.5: truncation gives the nearest entry
    if per_channel:
        base = base + torch.arange(3, dtype=torch.float32).reshape(1, 3, 1) * size
    torch.add(base, values.clamp_(lo, hi), alpha=scale, out=scratch)
    return index.copy_(scratch).view(-1)


@dataclass(frozen=True)
class _Draws:
    """A batch's random choices (:func:`_draw`), per clip (b,) or per frame (b, T)."""

    jitter: torch.Tensor  # (b, 5) uniform: exposure, contrast, saturation, vignette, grain
    pick: torch.Tensor  # (b, T) uniform: each frame's grain field
    shift: torch.Tensor  # (b, T, 2) int64: the field's roll, rows and columns
    flip: torch.Tensor  # (b, T, 2) bool: the field's flips, rows and columns


def _draw(b: int, t: int, plane_hw: Tuple[int, int], generator: torch.Generator) -> _Draws:
    """The same number of draws for ``b`` clips of ``t`` frames whatever is chosen."""
    jitter = torch.rand(b, 5, generator=generator, dtype=torch.float64)
    pick = torch.rand(b, t, generator=generator, dtype=torch.float64)
    shift = torch.stack([torch.randint(plane_hw[0], (b, t), generator=generator),
                         torch.randint(plane_hw[1], (b, t), generator=generator)], dim=-1)
    return _Draws(jitter, pick, shift, torch.rand(b, t, 2, generator=generator) < 0.5)


@dataclass(frozen=True)
class _Settings:
    """What a group of n clips of T frames styled by one look gets; m = n T frame rows."""

    gain: torch.Tensor  # (n, 1, 1, h w): scene-linear gain, the vignette^k times 2^ev
    mix: Optional[torch.Tensor]  # (m, 3, 3): contrast x saturation x the look's matrix; None: the matrix
    offset: Optional[torch.Tensor]  # (m, 1, 1): the contrast's offset
    grain: Optional[torch.Tensor]  # (m, 1, 1): the grain's scale
    grain_pixel: Optional[torch.Tensor]  # (m, 1, h w) int32: each frame's grain pixels in the bank


def _settings(look: PlaneLook, draws: _Draws, jitter: LookJitter) -> _Settings:
    """``look``'s settings for the clips whose ``draws`` these are (module docstring)."""
    n, t = draws.pick.shape
    h, w = look.plane_hw

    def spread(col: int, low: float, high: float) -> torch.Tensor:
        return (low + (high - low) * draws.jitter[:, col]).float()

    log_gain = (spread(0, -jitter.exposure_stops, jitter.exposure_stops) * math.log(2.0)).reshape(n, 1)
    if look.log_vignette is not None:
        log_gain = log_gain + spread(3, *jitter.vignette).reshape(n, 1) * look.log_vignette.reshape(1, -1)
    gain = torch.exp(log_gain).reshape(n, 1, 1, -1)
    mix = offset = None
    if jitter.contrast or jitter.saturation:
        contrast = spread(1, 1.0 - jitter.contrast, 1.0 + jitter.contrast).reshape(n, 1, 1)
        sat = spread(2, 1.0 - jitter.saturation, 1.0 + jitter.saturation).reshape(n, 1, 1)
        luma = torch.tensor(_LUMA).reshape(1, 1, 3).expand(1, 3, 3)
        tone = contrast * (sat * torch.eye(3).reshape(1, 3, 3) + (1.0 - sat) * luma)
        mix = torch.matmul(tone, look.matrix).repeat_interleave(t, dim=0)
        offset = ((1.0 - contrast) * _PIVOT).repeat_interleave(t, dim=0)
    grain = grain_pixel = None
    if look.grain_bank is not None:
        grain = spread(4, *jitter.grain).repeat_interleave(t).reshape(n * t, 1, 1)
        fields = look.grain_fields
        pick = (draws.pick.reshape(-1) * fields).long().clamp_(max=fields - 1)
        shift, flip = draws.shift.reshape(-1, 2), draws.flip.reshape(-1, 2)
        rows, cols = torch.arange(h).reshape(1, h), torch.arange(w).reshape(1, w)
        rows = (torch.where(flip[:, :1], h - 1 - rows, rows) + shift[:, :1]) % h  # (m, h)
        cols = (torch.where(flip[:, 1:], w - 1 - cols, cols) + shift[:, 1:]) % w  # (m, w)
        start = (pick.reshape(-1, 1) * (h * w) + rows * w).to(torch.int32)
        grain_pixel = torch.add(start[:, :, None], cols.to(torch.int32)[:, None, :]).reshape(-1, 1, h * w)
    return _Settings(gain, mix, offset, grain, grain_pixel)


def _style_(rgb: torch.Tensor, look: PlaneLook, s: _Settings, first: int, buffers: Tuple[torch.Tensor, ...]
            ) -> None:
    """Style the display planes ``rgb`` (k, T, 3, h w) in place: clips ``first`` to ``first + k``
    of the group ``s`` is for. Every step is in place or into a buffer (a fresh tensor per step
    costs more than the step). ``buffers``: two float and one int32 tensor of at least
    ``rgb``'s size."""
    k, t = rgb.shape[:2]
    m, a, b = k * t, first * t, (first + k) * t
    x = rgb.view(m, 3, -1)
    scratch, noise, index = (buf.view(-1)[:x.numel()].view(x.shape) for buf in buffers)
    torch.index_select(look.decode, 0, _index(x, 0.0, 1.0, TABLE, False, scratch, index), out=x.view(-1))
    rgb.mul_(s.gain[first:first + k])  # scene-linear light now
    if look.halation is not None:
        threshold, gain, blur_rows, blur_cols = look.halation
        source = torch.relu(x[:, 0].reshape(m, *look.plane_hw) - threshold)
        spread = torch.relu(torch.matmul(torch.matmul(blur_rows, source), blur_cols)).reshape(m, 1, -1)
        x.addcmul_(spread, gain)
    torch.index_select(look.in_table, 0, _index(x, 0.0, 1.0, TABLE, True, scratch, index), out=x.view(-1))
    if s.mix is None:  # the crosstalk, on the input curves' outputs
        torch.matmul(look.matrix, x, out=scratch)
    else:  # with the clip's contrast and saturation: one affine map
        torch.baddbmm(s.offset[a:b], s.mix[a:b], x, out=scratch)
    out_index = _index(scratch, *OUT_DOMAIN, TABLE, True, x, index)
    torch.index_select(look.out_table, 0, out_index, out=x.view(-1))  # the display value
    if look.rms_out is None or look.grain_bank is None or s.grain is None or s.grain_pixel is None:
        return
    torch.index_select(look.rms_out, 0, out_index, out=scratch.view(-1))  # its grain's rms
    scratch.mul_(s.grain[a:b])
    fields = look.grain_fields * x.shape[2]
    channel = (torch.arange(3, dtype=torch.int32) * fields).reshape(1, 3, 1)
    torch.add(s.grain_pixel[a:b], channel, out=index)
    torch.index_select(look.grain_bank.view(-1), 0, index.view(-1), out=noise.view(-1))
    x.addcmul_(scratch, noise).clamp_(0.0, 1.0)


def augment_looks(frames: torch.Tensor, looks: Sequence[PlaneLook], p: float, generator: torch.Generator,
                  jitter: LookJitter = DEFAULT_JITTER, inplace: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """Clips ``frames`` (B, T, 5, h, w) float32 with a share ``p`` of them styled, each by one of
    ``looks`` drawn evenly and jittered by ``jitter`` (module docstring); the depth planes are
    never touched. Returns the frames (a new tensor unless ``inplace``) and (B,) int64: the index
    in ``looks`` of each clip's look, -1 for a clip left as it was."""
    if frames.ndim != 5 or frames.shape[2] < 3 or frames.dtype != torch.float32:
        raise ValueError(f"look augmentation takes float32 clips (B, T, C >= 3, h, w); got "
                         f"{frames.dtype} {tuple(frames.shape)}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"the look augmentation's p is a probability in [0, 1]; got {p}")
    b, t = frames.shape[:2]
    chosen = torch.full((b,), -1, dtype=torch.int64)
    if not looks or p == 0.0 or b == 0:
        return frames, chosen
    plane_hw = (int(frames.shape[3]), int(frames.shape[4]))
    for look in looks:
        if look.plane_hw != plane_hw:
            raise ValueError(f"look {look.name!r} was prepared for {look.plane_hw[1]}x{look.plane_hw[0]} planes; "
                             f"these are {plane_hw[1]}x{plane_hw[0]}")
    styled = torch.rand(b, generator=generator) < p
    which = torch.randint(len(looks), (b,), generator=generator)
    draws = _draw(b, t, plane_hw, generator)
    chosen = torch.where(styled, which, chosen)
    out = frames if inplace else frames.clone()
    size = min(_CHUNK_CLIPS, b) * t * 3 * plane_hw[0] * plane_hw[1]
    buffers = (torch.empty(size), torch.empty(size), torch.empty(size, dtype=torch.int32))
    rgb = torch.empty((min(_CHUNK_CLIPS, b), t, 3) + plane_hw)
    for k, look in enumerate(looks):
        clips = torch.nonzero(chosen == k).reshape(-1).tolist()
        if not clips:
            continue
        settings = _settings(look, _Draws(*(getattr(draws, f.name)[clips] for f in dataclasses.fields(draws))), jitter)
        # a few clips at a time: their buffers stay in the cache through the dozen passes
        for first in range(0, len(clips), _CHUNK_CLIPS):
            part = clips[first:first + _CHUNK_CLIPS]
            planes = rgb[:len(part)]
            for j, i in enumerate(part):  # strided copies: far cheaper than advanced indexing
                planes[j].copy_(out[i, :, :3])
            _style_(planes.view(len(part), t, 3, -1), look, settings, first, buffers)
            for j, i in enumerate(part):
                out[i, :, :3].copy_(planes[j])
    return out, chosen
