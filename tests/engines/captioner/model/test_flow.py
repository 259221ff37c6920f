"""The parameter-free motion maths: correlation peaks, sub-cell flow, the affine fit's terms."""

import torch

from engines.captioner.model.flow import affine_fit, affine_projector, displacements, local_correlation, soft_flow

H, W = 18, 32


def _features(seed: int = 0) -> torch.Tensor:
    torch.manual_seed(seed)
    return torch.rand(1, 16, H, W + 8)


def test_correlation_peaks_at_the_shift():
    base = _features()
    older, newer = base[..., 4:4 + W], base[..., 3:3 + W]  # content moves one cell right from older to newer
    volume = local_correlation(older, newer, radius=2)
    offsets = displacements(2)
    assert volume.shape == (1, 25, H, W)
    best = volume[0, :, 4:-4, 4:-4].mean(dim=(1, 2)).argmax()
    assert offsets[best].tolist() == [1.0, 0.0]
    assert torch.allclose(local_correlation(older, older, 2)[0, 12], torch.ones(H, W), atol=1e-5)


def test_soft_flow_follows_the_peak():
    offsets = displacements(1)
    volume = torch.zeros(1, 9, H, W)
    volume[:, 5] = 1.0  # (dx, dy) = (1, 0) in row-major order of dy then dx
    flow = soft_flow(volume, offsets, sharpness=50.0)
    assert torch.allclose(flow[0, 0], torch.ones(H, W), atol=1e-3)
    assert torch.allclose(flow[0, 1], torch.zeros(H, W), atol=1e-3)


def _field(a, b):
    """dx = a0 + a1 x + a2 y, dy = b0 + b1 x + b2 y with x, y the cell centre from the map's centre in
    half-widths (x to the right, y down), built here independently of the code's design matrix."""
    half = (W - 1) / 2.0
    y, x = torch.meshgrid((torch.arange(H) - (H - 1) / 2.0) / half, (torch.arange(W) - half) / half, indexing="ij")
    dx = a[0] + a[1] * x + a[2] * y
    dy = b[0] + b[1] * x + b[2] * y
    return torch.stack([dx, dy]).reshape(1, 2, H, W).float()


def test_affine_fit_recovers_shift_zoom_and_roll():
    design, projector = affine_projector(H, W)
    for a, b in (([0.5, 0.0, 0.0], [-0.25, 0.0, 0.0]),   # pan / tilt: a shift
                 ([0.0, 0.3, 0.0], [0.0, 0.0, 0.3]),     # zoom in: divergence
                 ([0.0, 0.0, -0.2], [0.0, 0.2, 0.0])):   # roll: curl
        fit = affine_fit(_field(a, b), design, projector)[0]
        assert torch.allclose(fit[:6], torch.tensor(a + b), atol=1e-4), (a, b, fit)
        assert float(fit[6:].max()) < 1e-3  # an affine field leaves no residual


def test_affine_fit_residual_sees_what_is_not_affine():
    design, projector = affine_projector(H, W)
    torch.manual_seed(1)
    jitter = 0.3 * torch.randn(1, 2, H, W)
    fit = affine_fit(jitter, design, projector)[0]
    assert 0.2 < float(fit[6]) < 0.4 and 0.2 < float(fit[7]) < 0.4
