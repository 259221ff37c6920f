"""The captioner network: a per-frame encoder, a per-pair motion encoder, and the clip head.

The model reads one tensor, ``frames`` (B, :data:`~engines.captioner.inputs.CLIP_FRAMES`, 5, 72,
128) float32, oldest frame first (:mod:`engines.captioner.inputs`). It is built in stages so that a
live worker does each piece of work once, when its frame arrives, instead of eight times as the
clip slides past (:class:`CaptionerNet` exposes each stage; ``forward`` runs them all):

1. :class:`FrameEncoder`, per frame: a 4x4 stride-4 patch convolution and each cell's measured
   depth (:func:`cell_depth`) give a (P + 2, 18, 32) feature map, one cell per 4x4 block of the
   72x128 planes;
2. :class:`PairEncoder`, per pair of consecutive frames: how the picture moved from one to the
   next (:mod:`.flow`: local correlation, within :data:`CORRELATION_RADIUS` cells, of a few
   matching channels (a 3x3 convolution of each map), a sub-cell flow from it and the flow's
   affine fit: shift, divergence, curl and residual), and two 3x3 convolutions over the
   correlation volume, pooled onto a 3x4 grid, that learn what the affine fit cannot say
   (parallax, a zoom against a dolly); one vector per pair;
3. :class:`ClipHead`, per clip, from the newest feature map and the seven pair vectors:

   - *motion*: a temporal convolution over the pairs, oldest first, tells a steady movement from
     jitter (handheld) and sums slow movements over the clip;
   - *appearance*: the newest map through a 3x3 and two stride-2 convolutions (only the newest
     frame is looked at this closely, which keeps training cheap), read both as a 5x8 layout
     (the shot size is where the subject's extent ends) and pooled over the frame (mean and max:
     the subject's depth and look wherever it stands);
   - heads of their own: shot size, focal length and subject distance from the appearance,
     movement from the motion and the appearance.

Outputs (:data:`OUTPUT_NAMES`; all float32):

* ``shot_size_logits`` (B, 8) and ``movement_logits`` (B, 15), over
  :data:`~engines.captioner.inputs.SHOT_SIZE_CLASSES` and
  :data:`~engines.captioner.inputs.MOVEMENT_CLASSES`, already divided by each head's
  temperature (fitted on the validation split, :mod:`.calibrate`): their softmax is the
  calibrated confidence;
* ``log_focal_mm`` and ``log_distance_m`` (B,): natural logs of the 35 mm-equivalent focal length
  (mm) and of the subject distance (m);
* ``log_focal_sigma`` and ``log_distance_sigma`` (B,): the predicted spread (standard deviation)
  of those logs, natural-log units (0.05 is about 5 %), scaled by the factor fitted on the
  validation split so that about 68 % of the true values lie within one sigma.

The calibration (temperatures, sigma scales) and the regression targets' normalisation live in
buffers, so a state dict, a checkpoint and an ONNX export all carry them. Everything has static
shapes and no data-dependent control flow: it exports to ONNX opset 17 as convolutions, batch
norms, pooling, matrix products, softmax and elementwise arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from engines.captioner.inputs import CHANNELS, CLIP_FRAMES, MODEL_SIZE_HW, MOVEMENT_CLASSES, SHOT_SIZE_CLASSES
from engines.captioner.model.errors import ModelInputError
from engines.captioner.model.flow import (
    AFFINE_FEATURES, affine_fit, affine_projector, displacements, local_correlation, soft_flow,
)

__all__ = [
    "INPUT_NAME", "INPUT_SHAPE", "FEATURE_STRIDE", "DEPTH_PLANE", "SHARE_PLANE", "OUTPUT_NAMES",
    "CORRELATION_RADIUS", "MIN_LOG_SIGMA", "NetworkConfig", "NETWORK_SIZES", "network_config", "FrameEncoder",
    "cell_depth", "PairEncoder", "ClipHead", "CaptionerNet", "build_network", "parameter_count",
]

INPUT_NAME = "frames"
#: One clip, without the batch dimension: (frames, planes, height, width).
INPUT_SHAPE: Tuple[int, int, int, int] = (CLIP_FRAMES, len(CHANNELS), MODEL_SIZE_HW[0], MODEL_SIZE_HW[1])
#: Pixels of the model planes per feature cell, in each direction.
FEATURE_STRIDE = 4
DEPTH_PLANE, SHARE_PLANE = CHANNELS.index("depth"), CHANNELS.index("depth_valid")
OUTPUT_NAMES: Tuple[str, ...] = (
    "shot_size_logits", "movement_logits", "log_focal_mm", "log_focal_sigma", "log_distance_m",
    "log_distance_sigma",
)
#: How far (feature cells, 4 px each) the motion branch looks for where a cell went between frames.
CORRELATION_RADIUS = 2
#: Softmax sharpness on cosine similarities for the sub-cell flow (:func:`.flow.soft_flow`).
_FLOW_SHARPNESS = 20.0
#: The smallest spread a regression head may claim, natural-log units (0.5 %).
MIN_LOG_SIGMA = 0.005
_MOTION_GRID_HW = (3, 4)
# Where an untrained regression starts (before the training split's centre is set): 50 mm, 3 m.
_DEFAULT_LOG_FOCAL = math.log(50.0)
_DEFAULT_LOG_DISTANCE = math.log(3.0)


@dataclass(frozen=True)
class NetworkConfig:
    """The widths of the network; ``name`` is the size preset it came from. ``patch_channels``:
    each frame's feature map; ``match_channels``: what the motion correlation compares;
    ``motion_channels``: the convolutions over the correlation volume; ``frame_channels`` and
    ``appearance_channels``: the newest frame's 3x3 and stride-2 convolutions; ``hidden``: the
    temporal convolution and the heads."""

    name: str
    patch_channels: int
    frame_channels: int
    match_channels: int
    motion_channels: int
    appearance_channels: int
    hidden: int
    dropout: float = 0.1

    def to_dict(self) -> Dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Dict[str, object]) -> "NetworkConfig":
        fields = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - fields)
        missing = sorted(f for f in fields - set(data) if f != "dropout")
        if unknown or missing:
            raise ValueError(f"network config: unknown keys {unknown}, missing keys {missing}; "
                             f"expected {sorted(fields)}")
        return cls(**data)  # type: ignore[arg-type]


#: The presets: ``tiny`` for tests, ``small`` and ``default`` for ``onset engines train captioner``.
NETWORK_SIZES: Dict[str, NetworkConfig] = {
    "tiny": NetworkConfig("tiny", patch_channels=8, frame_channels=12, match_channels=8, motion_channels=12,
                          appearance_channels=24, hidden=48),
    "small": NetworkConfig("small", patch_channels=16, frame_channels=24, match_channels=8, motion_channels=24,
                           appearance_channels=32, hidden=64),
    "default": NetworkConfig("default", patch_channels=24, frame_channels=32, match_channels=8, motion_channels=32,
                             appearance_channels=48, hidden=96),
}


def network_config(size: str) -> NetworkConfig:
    """The preset called ``size`` (one of :data:`NETWORK_SIZES`)."""
    try:
        return NETWORK_SIZES[size]
    except KeyError:
        raise ValueError(f"unknown model size {size!r}; expected one of {', '.join(NETWORK_SIZES)}") from None


def _conv_bn_relu(c_in: int, c_out: int, kernel: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2 if kernel % 2 else 0, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def _conv_out(size: int) -> int:
    """Output length of a 3x3 stride-2 convolution padded by 1."""
    return (size - 1) // 2 + 1


class FrameEncoder(nn.Module):
    """One frame's planes (N, 5, 72, 128) -> its feature map (N, P + 2, 18, 32): a 4x4 stride-4
    patch convolution (P channels), so a frame costs little to encode and its map little to keep,
    and the cell's depth measured, not learned (:func:`cell_depth`)."""

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        self.patch = _conv_bn_relu(len(CHANNELS), config.patch_channels, FEATURE_STRIDE, FEATURE_STRIDE)

    def forward(self, planes: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.patch(planes), cell_depth(planes)], dim=1)


def cell_depth(planes: torch.Tensor) -> torch.Tensor:
    """(N, 5, 72, 128) planes -> (N, 2, 18, 32): each 4x4 cell's mean log depth over the returns
    it has (the depth plane weighted by the return share) and its share of returns.

    LiDAR returns are sparse (a VLP-16 lights a few rows of a 72-row frame), and a mean over a
    cell's pixels with and without returns is the division a small network learns worst, so it
    is computed here; a cell without returns has depth 0 and share 0, like a frame without depth.
    """
    depth, share = planes[:, DEPTH_PLANE:DEPTH_PLANE + 1], planes[:, SHARE_PLANE:SHARE_PLANE + 1]
    weighted = F.avg_pool2d(depth * share, FEATURE_STRIDE)
    cover = F.avg_pool2d(share, FEATURE_STRIDE)
    return torch.cat([weighted / torch.clamp(cover, min=1e-3), cover], dim=1)


class PairEncoder(nn.Module):
    """Two consecutive frames' feature maps (N, P + 2, 18, 32) each -> how the picture moved (N, Q)."""

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        fh, fw = MODEL_SIZE_HW[0] // FEATURE_STRIDE, MODEL_SIZE_HW[1] // FEATURE_STRIDE
        mh, mw = _conv_out(fh), _conv_out(fw)
        if mh % _MOTION_GRID_HW[0] or mw % _MOTION_GRID_HW[1]:
            raise ValueError(f"motion map {mh}x{mw} does not pool onto a {_MOTION_GRID_HW} grid")
        self.pool = (mh // _MOTION_GRID_HW[0], mw // _MOTION_GRID_HW[1])
        design, projector = affine_projector(fh, fw)
        self.register_buffer("offsets", displacements(CORRELATION_RADIUS), persistent=False)
        self.register_buffer("affine_design", design, persistent=False)
        self.register_buffer("affine_projector", projector, persistent=False)
        # The correlation compares a few channels learned for matching (a 3x3 convolution of the
        # frame's map), not the whole map: its cost is channels x displacements x cells per pair.
        self.match = nn.Conv2d(config.patch_channels + 2, config.match_channels, 3, padding=1)
        m = config.motion_channels
        self.conv = nn.Sequential(_conv_bn_relu((2 * CORRELATION_RADIUS + 1) ** 2, m, 3, 2),
                                  _conv_bn_relu(m, m, 3, 1))
        self.flow_norm = nn.BatchNorm1d(AFFINE_FEATURES)
        self.features = m * _MOTION_GRID_HW[0] * _MOTION_GRID_HW[1] + AFFINE_FEATURES

    def from_match(self, older: torch.Tensor, newer: torch.Tensor) -> torch.Tensor:
        """Matching maps (N, K, 18, 32) of N frames and of the frame after each -> (N, Q) pair vectors."""
        n = older.shape[0]
        volume = local_correlation(older, newer, CORRELATION_RADIUS)
        fit = affine_fit(soft_flow(volume, self.offsets, _FLOW_SHARPNESS), self.affine_design, self.affine_projector)
        learned = F.avg_pool2d(self.conv(volume), self.pool).reshape(n, -1)
        return torch.cat([learned, self.flow_norm(fit)], dim=1)

    def forward(self, older: torch.Tensor, newer: torch.Tensor) -> torch.Tensor:
        return self.from_match(self.match(older), self.match(newer))


class _RegressionHead(nn.Module):
    """Features -> (normalised mean, spread before softplus) of one log-scale quantity."""

    def __init__(self, features: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.mean = nn.Linear(hidden, 1)
        self.spread = nn.Linear(hidden, 1)

    def forward(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.hidden(z)
        # The spread reads the features without shaping them: its NLL's large gradients while the
        # means are still poor would otherwise pull the shared layers around.
        return self.mean(h)[:, 0], F.softplus(self.spread(h.detach()))[:, 0]


def _class_head(features: int, hidden: int, classes: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(features, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
                         nn.Linear(hidden, classes))


class ClipHead(nn.Module):
    """The newest feature map (B, P + 2, 18, 32) and the clip's pair vectors (B, 7, Q), oldest pair
    first -> the outputs (module docstring)."""

    def __init__(self, config: NetworkConfig, pair_features: int) -> None:
        super().__init__()
        p, c, a, h = config.patch_channels + 2, config.frame_channels, config.appearance_channels, config.hidden
        fh, fw = MODEL_SIZE_HW[0] // FEATURE_STRIDE, MODEL_SIZE_HW[1] // FEATURE_STRIDE
        self.temporal = nn.Sequential(
            nn.Conv1d(pair_features, h, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv1d(h, h, 3, padding=1), nn.ReLU(inplace=True),
        )
        self.appearance = nn.Sequential(_conv_bn_relu(p, c, 3, 1), _conv_bn_relu(c, a, 3, 2),
                                        _conv_bn_relu(a, a, 3, 2))
        self.appearance_pool = (_conv_out(_conv_out(fh)), _conv_out(_conv_out(fw)))
        cells = self.appearance_pool[0] * self.appearance_pool[1]
        self.appearance_fc = nn.Sequential(nn.Linear(a * (cells + 2), h), nn.ReLU(inplace=True))
        self.shot_size = _class_head(h, h, len(SHOT_SIZE_CLASSES), config.dropout)
        self.movement = _class_head(2 * h, h, len(MOVEMENT_CLASSES), config.dropout)
        self.focal = _RegressionHead(h, h, config.dropout)
        self.distance = _RegressionHead(h, h, config.dropout)
        # Calibration and target normalisation: buffers, so state dicts and ONNX exports carry them.
        self.register_buffer("shot_size_temperature", torch.ones(1))
        self.register_buffer("movement_temperature", torch.ones(1))
        self.register_buffer("log_focal_center", torch.tensor([_DEFAULT_LOG_FOCAL]))
        self.register_buffer("log_focal_scale", torch.ones(1))
        self.register_buffer("log_distance_center", torch.tensor([_DEFAULT_LOG_DISTANCE]))
        self.register_buffer("log_distance_scale", torch.ones(1))
        self.register_buffer("log_focal_sigma_scale", torch.ones(1))
        self.register_buffer("log_distance_sigma_scale", torch.ones(1))

    def _appearance(self, newest: torch.Tensor) -> torch.Tensor:
        b = newest.shape[0]
        look = self.appearance(newest)
        pooled = [look.reshape(b, -1), F.avg_pool2d(look, self.appearance_pool).reshape(b, -1),
                  F.max_pool2d(look, self.appearance_pool).reshape(b, -1)]
        return self.appearance_fc(torch.cat(pooled, dim=1))

    def forward(self, newest: torch.Tensor, pairs: torch.Tensor) -> Dict[str, torch.Tensor]:
        look = self._appearance(newest)
        motion = self.temporal(pairs.transpose(1, 2)).mean(dim=2)
        focal, focal_spread = self.focal(look)
        distance, distance_spread = self.distance(look)
        return {
            "shot_size_logits": self.shot_size(look) / self.shot_size_temperature,
            "movement_logits": self.movement(torch.cat([motion, look], dim=1)) / self.movement_temperature,
            "log_focal_mm": self.log_focal_center + self.log_focal_scale * focal,
            "log_focal_sigma": (self.log_focal_scale * focal_spread + MIN_LOG_SIGMA) * self.log_focal_sigma_scale,
            "log_distance_m": self.log_distance_center + self.log_distance_scale * distance,
            "log_distance_sigma": (self.log_distance_scale * distance_spread + MIN_LOG_SIGMA)
            * self.log_distance_sigma_scale,
        }


class CaptionerNet(nn.Module):
    """The whole model: ``forward(frames)`` with ``frames`` (B, 8, 5, 72, 128) -> outputs dict.

    A live worker runs :meth:`encode_frames` on each new frame, :meth:`encode_pairs` on it and the
    frame before, and :meth:`from_pairs` on the newest feature map and the newest seven pair
    vectors; in eval mode the result equals ``forward`` on the same clip.
    """

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = FrameEncoder(config)
        self.pairs = PairEncoder(config)
        self.head = ClipHead(config, self.pairs.features)

    @property
    def feature_shape(self) -> Tuple[int, int, int]:
        """One frame's feature map: (channels, height, width)."""
        fh, fw = MODEL_SIZE_HW[0] // FEATURE_STRIDE, MODEL_SIZE_HW[1] // FEATURE_STRIDE
        return (self.config.patch_channels + 2, fh, fw)

    @property
    def pair_features(self) -> int:
        """Length of one pair vector."""
        return self.pairs.features

    def encode_frames(self, planes: torch.Tensor) -> torch.Tensor:
        """Frames' planes (N, 5, 72, 128) -> their feature maps (N, P + 2, 18, 32)."""
        return self.encoder(planes)

    def encode_pairs(self, older: torch.Tensor, newer: torch.Tensor) -> torch.Tensor:
        """Feature maps of N frames and of the frame after each -> (N, Q) pair vectors."""
        return self.pairs(older, newer)

    def from_pairs(self, newest: torch.Tensor, pairs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The newest feature map (B, P + 2, 18, 32) and the seven pair vectors (B, 7, Q) -> the outputs."""
        return self.head(newest, pairs)

    def from_features(self, features: torch.Tensor) -> Dict[str, torch.Tensor]:
        """A clip's feature maps (B, 8, P + 2, 18, 32), oldest first -> the outputs."""
        b = features.shape[0]
        c, fh, fw = self.feature_shape
        match = self.pairs.match(features.reshape(b * CLIP_FRAMES, c, fh, fw))  # each frame's once
        match = match.reshape(b, CLIP_FRAMES, -1, fh, fw)
        k, n = match.shape[2], b * (CLIP_FRAMES - 1)
        pairs = self.pairs.from_match(match[:, :-1].reshape(n, k, fh, fw), match[:, 1:].reshape(n, k, fh, fw))
        return self.head(features[:, CLIP_FRAMES - 1], pairs.reshape(b, CLIP_FRAMES - 1, -1))

    def forward(self, frames: torch.Tensor) -> Dict[str, torch.Tensor]:
        b = frames.shape[0]
        features = self.encoder(frames.reshape((b * CLIP_FRAMES,) + INPUT_SHAPE[1:]))
        return self.from_features(features.reshape((b, CLIP_FRAMES) + self.feature_shape))

    def check_input(self, frames: torch.Tensor) -> None:
        """Raise :class:`ModelInputError` unless ``frames`` is a float32 (B, 8, 5, 72, 128) tensor."""
        if frames.dtype != torch.float32 or frames.dim() != 5 or tuple(frames.shape[1:]) != INPUT_SHAPE:
            raise ModelInputError(
                f"the captioner takes {INPUT_NAME} of shape (B, {', '.join(map(str, INPUT_SHAPE))}) float32 "
                f"(engines/captioner/inputs.py); got {tuple(frames.shape)} {frames.dtype}")

    def set_target_stats(self, log_focal: Tuple[float, float], log_distance: Tuple[float, float]) -> None:
        """Centre and scale (natural-log units) of the training targets, so the regression heads
        learn numbers near zero; each is ``(center, scale)``."""
        for (center, scale), prefix in ((log_focal, "log_focal"), (log_distance, "log_distance")):
            if not (math.isfinite(center) and math.isfinite(scale) and scale > 0):
                raise ValueError(f"{prefix} centre/scale must be finite with a positive scale; got {center}, {scale}")
            getattr(self.head, f"{prefix}_center").fill_(center)
            getattr(self.head, f"{prefix}_scale").fill_(scale)

    def set_calibration(self, shot_size_temperature: float, movement_temperature: float,
                        log_focal_sigma_scale: float, log_distance_sigma_scale: float) -> None:
        """Store the calibration fitted on the validation split (:mod:`.calibrate`)."""
        values = {
            "shot_size_temperature": shot_size_temperature, "movement_temperature": movement_temperature,
            "log_focal_sigma_scale": log_focal_sigma_scale, "log_distance_sigma_scale": log_distance_sigma_scale,
        }
        for name, value in values.items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be finite and positive; got {value}")
        for name, value in values.items():
            getattr(self.head, name).fill_(float(value))

    def calibration(self) -> Dict[str, float]:
        """The calibration now stored (all 1.0 before :mod:`.calibrate` has run)."""
        names = ("shot_size_temperature", "movement_temperature", "log_focal_sigma_scale",
                 "log_distance_sigma_scale")
        return {name: float(getattr(self.head, name).item()) for name in names}


def build_network(**config: object) -> CaptionerNet:
    """A network from :meth:`NetworkConfig.to_dict` keywords: the factory a runtime that rebuilds
    models from JSON keyword arguments (``engines.runtime``'s torch backend) registers."""
    return CaptionerNet(NetworkConfig.from_dict(dict(config)))


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
