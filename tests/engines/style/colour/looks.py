"""Test looks, test images and the colour-science referee, shared by the colour tests.

``film_look`` is a smooth film-like look: a mild dye crosstalk (rows sum to 1), then a per-channel
S-curve (a blend of the identity and smoothstep, strongest in red), per-channel lift and gain, and a
gamma of 1/1.1. ``asymmetric_look`` is affine, different in every channel and mixing them, so any
interpolation reproduces it exactly and any swapped axis or channel shows.
"""

import warnings

import numpy as np

CROSSTALK = np.array([[0.90, 0.07, 0.03], [0.05, 0.90, 0.05], [0.02, 0.08, 0.90]], dtype=np.float32)
S_CURVE_WEIGHT = np.array([0.5, 0.4, 0.3], dtype=np.float32)
LIFT = np.array([0.02, 0.01, 0.03], dtype=np.float32)
GAIN = np.array([0.98, 0.97, 0.92], dtype=np.float32)
GAMMA = 1.0 / 1.1


def film_look(rgb: np.ndarray) -> np.ndarray:
    x = np.clip(np.clip(rgb, 0.0, 1.0) @ CROSSTALK.T, 0.0, 1.0)
    s = (1.0 - S_CURVE_WEIGHT) * x + S_CURVE_WEIGHT * x * x * (3.0 - 2.0 * x)
    return np.power(LIFT + (GAIN - LIFT) * s, GAMMA).astype(np.float32)


def asymmetric_look(rgb: np.ndarray) -> np.ndarray:
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return np.stack([0.9 * r + 0.05, 0.6 * g + 0.3 * r, 0.2 + 0.5 * b + 0.2 * g], axis=-1).astype(np.float32)


def identity_look(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb, dtype=np.float32)


def random_colours(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((count, 3)).astype(np.float32)


def smooth_image(height: int = 96, width: int = 128) -> np.ndarray:
    """A smooth (height, width, 3) image in [0, 1]: hue around the width, from black at the top to
    full colour in the middle and towards white at the bottom."""
    u = np.linspace(0.0, 1.0, width)[None, :]
    v = np.linspace(0.0, 1.0, height)[:, None]
    hue = np.stack([0.5 + 0.5 * np.cos(2 * np.pi * (u - k / 3.0)) for k in range(3)], axis=-1)
    level = np.minimum(2.0 * v, 1.0)[..., None]
    whiten = np.maximum(2.0 * v - 1.0, 0.0)[..., None]
    return ((hue * (1.0 - whiten) + whiten) * level).astype(np.float32)


def colour_science():
    """The ``colour`` package (colour-science), imported without its plotting warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    return colour


def ocio_cpu(path, interpolation="tetrahedral"):
    """OpenColorIO's CPU processor for the file at ``path`` (caches cleared: files are rewritten)."""
    import PyOpenColorIO as ocio

    ocio.ClearAllCaches()
    interp = {"tetrahedral": ocio.INTERP_TETRAHEDRAL, "linear": ocio.INTERP_LINEAR}[interpolation]
    transform = ocio.FileTransform(str(path), interpolation=interp)
    processor = ocio.Config.CreateRaw().getProcessor(transform)
    return processor.getOptimizedCPUProcessor(ocio.BIT_DEPTH_F32, ocio.BIT_DEPTH_F32, ocio.OPTIMIZATION_LOSSLESS)


def ocio_apply(path, rgb, interpolation="tetrahedral") -> np.ndarray:
    out = np.ascontiguousarray(np.asarray(rgb, dtype=np.float32).reshape(-1, 3)).copy()
    ocio_cpu(path, interpolation).applyRGB(out)
    return out.reshape(np.shape(rgb))
