"""Parity: every available backend against the torch reference, on the same inputs, within stated tolerances.

The reference is the model's own torch module on the CPU in float32 (``torch-cpu``). Each other
backend that can run here loads the same model file and runs the same inputs; each float output
must satisfy, element by element, ``|candidate - reference| <= atol + rtol * |reference|`` (numpy's
``allclose`` rule) with the tolerance of the precision the session reports:

=========  ======  ======  ==================================================================
precision  atol    rtol    why
=========  ======  ======  ==================================================================
``fp32``   1e-4    1e-3    same arithmetic, other kernels: summation order and fused
                           multiply-adds differ (float32 epsilon 1.2e-7, grown over
                           the thousands of terms a convolution and a temporal layer sum)
``tf32``   5e-3    5e-3    TF32 rounds matmul and convolution inputs to a 10-bit mantissa
                           (relative 4.9e-4 each), accumulating in float32
``fp16``   2e-2    2e-2    FP16 activations (10-bit mantissa, relative 4.9e-4 per rounding)
                           compound over a few layers; outputs of order one
=========  ======  ======  ==================================================================

Integer and boolean outputs must be equal; NaN must be where the reference has NaN. A backend
that cannot run here is listed as skipped with its reason, never as passed. The same
:func:`check_parity` serves every engine's model: register the model's torch factory, export it,
call this on the file with inputs of its declared specs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from engines.runtime.errors import BackendUnavailableError, EngineRuntimeError

__all__ = [
    "Tolerance",
    "TOLERANCES",
    "REFERENCE_BACKEND",
    "OutputParity",
    "BackendParity",
    "ParityReport",
    "compare_outputs",
    "check_parity",
]

REFERENCE_BACKEND = "torch-cpu"


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float


#: Tolerance by session precision (module docstring for the reasons).
TOLERANCES: Dict[str, Tolerance] = {
    "fp32": Tolerance(atol=1e-4, rtol=1e-3),
    "tf32": Tolerance(atol=5e-3, rtol=5e-3),
    "fp16": Tolerance(atol=2e-2, rtol=2e-2),
}


@dataclass(frozen=True)
class OutputParity:
    """One output: its largest absolute error and the worst error as a share of what is allowed (<= 1 passes)."""

    name: str
    max_abs_error: float
    worst_fraction_of_tolerance: float
    tolerance: Tolerance
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem and self.worst_fraction_of_tolerance <= 1.0


@dataclass(frozen=True)
class BackendParity:
    backend: str
    precision: str
    outputs: Tuple[OutputParity, ...]
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and all(o.ok for o in self.outputs)

    def describe(self) -> str:
        if self.error:
            return f"{self.backend}: FAILED: {self.error}"
        parts = [f"{o.name} max|d|={o.max_abs_error:.3g} ({o.worst_fraction_of_tolerance:.2f} of atol "
                 f"{o.tolerance.atol:g} + rtol {o.tolerance.rtol:g}){' ' + o.problem if o.problem else ''}"
                 for o in self.outputs]
        return f"{self.backend} [{self.precision}] {'ok' if self.ok else 'FAILED'}: " + "; ".join(parts)


@dataclass(frozen=True)
class ParityReport:
    """What ran against the reference, and what could not run here (with why)."""

    reference: str
    results: Tuple[BackendParity, ...]
    skipped: Tuple[Tuple[str, str], ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def describe(self) -> str:
        lines = [f"reference: {self.reference}"] + [r.describe() for r in self.results]
        lines += [f"{name}: skipped ({reason})" for name, reason in self.skipped]
        return "\n".join(lines)


def _compare_one(name: str, ref: np.ndarray, got: np.ndarray, tol: Tolerance) -> OutputParity:
    if ref.shape != got.shape:
        return OutputParity(name, float("inf"), float("inf"), tol, f"shape {got.shape}, reference {ref.shape}")
    if not np.issubdtype(ref.dtype, np.floating):
        equal = np.array_equal(ref, got)
        return OutputParity(name, 0.0 if equal else float("inf"), 0.0 if equal else float("inf"), Tolerance(0.0, 0.0),
                            "" if equal else "differs (exact match required)")
    ref64, got64 = ref.astype(np.float64), got.astype(np.float64)
    ref_nan, got_nan = np.isnan(ref64), np.isnan(got64)
    if not np.array_equal(ref_nan, got_nan):
        return OutputParity(name, float("inf"), float("inf"), tol, "NaN where the reference has none, or the reverse")
    keep = ~ref_nan
    diff = np.abs(got64[keep] - ref64[keep])
    if diff.size == 0:
        return OutputParity(name, 0.0, 0.0, tol)
    allowed = tol.atol + tol.rtol * np.abs(ref64[keep])
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(allowed > 0, diff / allowed, np.where(diff > 0, np.inf, 0.0))
    return OutputParity(name, float(diff.max()), float(fraction.max()), tol)


def compare_outputs(reference: Mapping[str, np.ndarray], candidate: Mapping[str, np.ndarray],
                    tolerance: Tolerance) -> Tuple[OutputParity, ...]:
    """Each reference output against the candidate's output of the same name."""
    out = []
    for name, ref in reference.items():
        got = candidate.get(name)
        if got is None:
            out.append(OutputParity(name, float("inf"), float("inf"), tolerance, "missing"))
        else:
            out.append(_compare_one(name, np.asarray(ref), np.asarray(got), tolerance))
    return tuple(out)


def check_parity(model_path: Union[str, Path], inputs: Mapping[str, np.ndarray],
                 backends: Optional[Sequence[str]] = None, registry: Any = None,
                 options: Optional[Mapping[str, Mapping[str, Any]]] = None,
                 tolerances: Mapping[str, Tolerance] = TOLERANCES) -> ParityReport:
    """Run ``inputs`` through the reference and through ``backends`` (default: every registered one
    but the reference); ``options``: constructor keywords per backend name."""
    from engines.runtime.registry import default_registry

    registry = registry if registry is not None else default_registry()
    options = options or {}
    names = list(backends) if backends is not None else [n for n in registry.names() if n != REFERENCE_BACKEND]
    reference_backend = registry.create(REFERENCE_BACKEND, **options.get(REFERENCE_BACKEND, {}))
    with reference_backend.load(model_path) as session:
        reference = session.run(inputs)
    results, skipped = [], []
    for name in names:
        ok, reason = registry.available(name)
        if not ok:
            skipped.append((name, reason))
            continue
        try:
            backend = registry.entry(name).create(**options.get(name, {}))
            with backend.load(model_path) as session:
                outputs = session.run(inputs)
                precision = session.precision
        except BackendUnavailableError as err:
            skipped.append((name, str(err)))
            continue
        except EngineRuntimeError as err:
            results.append(BackendParity(name, "?", (), f"{type(err).__name__}: {err}"))
            continue
        tolerance = tolerances[precision]
        results.append(BackendParity(name, precision, compare_outputs(reference, outputs, tolerance)))
    return ParityReport(REFERENCE_BACKEND, tuple(results), tuple(skipped))
