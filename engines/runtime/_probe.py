"""Capability probes shared by the backends: is a package installed, does torch see a CUDA GPU.

A probe returns an :class:`Availability` (a ``(bool, reason)`` pair) and never raises; it imports a
package only when the cheaper test (is it installed at all) has passed, so probing for TensorRT on a
machine without it costs nothing.
"""

from __future__ import annotations

import importlib.util
from typing import NamedTuple

__all__ = ["Availability", "TORCH_MISSING", "installed", "torch_cuda"]


class Availability(NamedTuple):
    """Whether a backend can run here, and why (or why not) in words a person can act on."""

    ok: bool
    reason: str


def installed(module: str) -> bool:
    """``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


TORCH_MISSING = "torch is not installed (install torch; the Makefile installs the CPU wheel)"


def torch_cuda() -> Availability:
    """Whether torch is installed and sees a CUDA GPU."""
    if not installed("torch"):
        return Availability(False, TORCH_MISSING)
    import torch

    if torch.version.cuda is None:
        return Availability(False, f"torch {torch.__version__} is a CPU-only build (install a CUDA build of torch)")
    if not torch.cuda.is_available():
        return Availability(False, f"torch {torch.__version__} (CUDA {torch.version.cuda}) sees no CUDA GPU")
    return Availability(True, f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}")
