"""How the picture moved between two feature maps, with no learned weights.

Three steps, each a function of tensors with static shapes (they export to ONNX as plain
Mul/ReduceSum/Softmax/MatMul):

1. :func:`local_correlation`: for every cell of the older map ``a`` (N, C, H, W), the cosine
   similarity of its feature vector with the newer map ``b``'s cells up to ``radius`` cells away:
   (N, D, H, W), D = (2 radius + 1)^2 displacements (dy, then dx, each from -radius to +radius).
2. :func:`soft_flow`: where each cell went, as the softmax-weighted mean displacement
   ``sum_d softmax(sharpness x corr)_d x (dx_d, dy_d)``, in cells (N, 2, H, W). The weighted mean
   resolves shifts smaller than a cell (a pan of 2 px a frame is half a 4 px cell) and saturates
   at ``radius`` cells.
3. :func:`affine_fit`: the least-squares fit ``dx = a0 + a1 x + a2 y``, ``dy = b0 + b1 x + b2 y``
   over the cells, ``x`` and ``y`` the cell centre relative to the map's centre in units of half
   the map's width (so a turn is isotropic), and the RMS residual of each component. A pan or
   truck moves ``a0``, a tilt or pedestal ``b0``; a zoom or dolly is divergence (``a1 = b2 > 0``
   for a zoom in), a roll is curl (``b1 = -a2``); parallax and jitter leave residuals.

The projector ``(A^T A)^-1 A^T`` of the design matrix ``A = [1, x, y]`` depends only on the map
size, so :func:`affine_projector` computes it once and the fit is one matrix product.
"""

from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F

__all__ = ["local_correlation", "displacements", "soft_flow", "affine_design", "affine_projector",
           "affine_fit", "AFFINE_FEATURES"]

#: Numbers :func:`affine_fit` gives per map pair: three coefficients per component, two residuals.
AFFINE_FEATURES = 8


def local_correlation(a: torch.Tensor, b: torch.Tensor, radius: int) -> torch.Tensor:
    """Cosine similarity of each cell of ``a`` with ``b``'s cells within ``radius`` (module docstring)."""
    a = a / torch.sqrt((a * a).sum(dim=1, keepdim=True) + 1e-6)
    b = b / torch.sqrt((b * b).sum(dim=1, keepdim=True) + 1e-6)
    h, w = a.shape[2], a.shape[3]
    padded = F.pad(b, (radius, radius, radius, radius))
    side = 2 * radius + 1
    return torch.cat([(a * padded[:, :, dy:dy + h, dx:dx + w]).sum(dim=1, keepdim=True)
                      for dy in range(side) for dx in range(side)], dim=1)


def displacements(radius: int) -> torch.Tensor:
    """(D, 2) float32 ``(dx, dy)`` of each correlation channel, in cells, in :func:`local_correlation`'s order."""
    side = torch.arange(-radius, radius + 1, dtype=torch.float32)
    dy, dx = torch.meshgrid(side, side, indexing="ij")
    return torch.stack([dx.reshape(-1), dy.reshape(-1)], dim=1)


def soft_flow(correlation: torch.Tensor, offsets: torch.Tensor, sharpness: float) -> torch.Tensor:
    """(N, D, H, W) correlation and (D, 2) :func:`displacements` -> (N, 2, H, W) flow in cells."""
    weights = torch.softmax(correlation * sharpness, dim=1)
    dx = (weights * offsets[:, 0].reshape(1, -1, 1, 1)).sum(dim=1, keepdim=True)
    dy = (weights * offsets[:, 1].reshape(1, -1, 1, 1)).sum(dim=1, keepdim=True)
    return torch.cat([dx, dy], dim=1)


def affine_design(h: int, w: int) -> torch.Tensor:
    """(H*W, 3) float32 design matrix ``[1, x, y]`` of an H x W map, row-major (module docstring)."""
    half = max((w - 1) / 2.0, 1.0)
    ys = (torch.arange(h, dtype=torch.float64) - (h - 1) / 2.0) / half
    xs = (torch.arange(w, dtype=torch.float64) - (w - 1) / 2.0) / half
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([torch.ones(h * w, dtype=torch.float64), x.reshape(-1), y.reshape(-1)], dim=1).float()


def affine_projector(h: int, w: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(design (H*W, 3), projector (3, H*W))`` for :func:`affine_fit`."""
    design = affine_design(h, w).double()
    projector = torch.linalg.solve(design.T @ design, design.T)
    return design.float(), projector.float()


def affine_fit(flow: torch.Tensor, design: torch.Tensor, projector: torch.Tensor) -> torch.Tensor:
    """(N, 2, H, W) flow -> (N, 8): ``a0 a1 a2 b0 b1 b2`` and the RMS residual of dx and dy, cells."""
    n = flow.shape[0]
    flat = flow.reshape(n, 2, -1)
    coeffs = torch.matmul(flat, projector.T)  # (N, 2, 3)
    residual = flat - torch.matmul(coeffs, design.T)
    rms = torch.sqrt((residual * residual).mean(dim=2) + 1e-12)
    return torch.cat([coeffs.reshape(n, 6), rms], dim=1)
