"""What a model takes and gives: named tensors of a fixed shape and dtype, and the checks on them.

Onset models have static shapes (the export fixes them from example inputs), so a tensor is
described completely by its name, its shape and its numpy dtype name. Inputs are checked here,
once, before any backend sees them: every backend then gets exactly the arrays the model was
exported for, and a caller that feeds the wrong thing gets one message listing every problem, each
in the form ``frames: expected float32 (1, 8, 5, 72, 128), got float64 (1, 8, 5, 64, 128)``.
Nothing is cast or reshaped silently: a float64 frame is an error, not a float32 one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Sequence, Tuple

import numpy as np

from engines.runtime.errors import BackendFailure, InputSpecError, ModelMismatchError

__all__ = ["TensorSpec", "describe_array", "check_inputs", "check_outputs", "check_expected_inputs"]


@dataclass(frozen=True)
class TensorSpec:
    """One named tensor: ``shape`` in elements (every dimension fixed), ``dtype`` a numpy dtype name."""

    name: str
    shape: Tuple[int, ...]
    dtype: str

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a tensor spec needs a name")
        shape = tuple(int(d) for d in self.shape)
        if any(d < 0 for d in shape):
            raise ValueError(f"{self.name}: shape {shape} has a negative dimension")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "dtype", np.dtype(self.dtype).name)

    def describe(self) -> str:
        """``float32 (1, 8, 5, 72, 128)``."""
        return f"{self.dtype} {self.shape}"

    def matches(self, array: np.ndarray) -> bool:
        return array.dtype.name == self.dtype and tuple(array.shape) == self.shape

    def to_json(self) -> Dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "TensorSpec":
        return cls(name=str(obj["name"]), shape=tuple(int(d) for d in obj["shape"]), dtype=str(obj["dtype"]))


def describe_array(value: Any) -> str:
    """How a fed value is named in errors: ``float64 (1, 8, 5, 64, 128)``, or its type if not an array."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype.name} {tuple(value.shape)}"
    return f"a {type(value).__name__}, not a numpy array"


def check_inputs(specs: Sequence[TensorSpec], inputs: Mapping[str, Any]) -> Dict[str, np.ndarray]:
    """``inputs`` in the model's input order, or :class:`InputSpecError` naming every mismatch.

    Each input must be a numpy array of exactly its spec's dtype and shape; every declared name
    must be fed and no other.
    """
    if not isinstance(inputs, Mapping):
        raise InputSpecError(
            f"inputs must be a mapping of input name to numpy array ({_names(specs)}), got {type(inputs).__name__}")
    problems = []
    declared = {s.name for s in specs}
    for spec in specs:
        if spec.name not in inputs:
            problems.append(f"{spec.name}: missing; expected {spec.describe()}")
            continue
        value = inputs[spec.name]
        if not isinstance(value, np.ndarray) or not spec.matches(value):
            problems.append(f"{spec.name}: expected {spec.describe()}, got {describe_array(value)}")
    for name in inputs:
        if name not in declared:
            problems.append(f"{name!s}: not an input of this model (it takes {_names(specs)})")
    if problems:
        raise InputSpecError("; ".join(problems))
    return {spec.name: inputs[spec.name] for spec in specs}


def check_outputs(specs: Sequence[TensorSpec], outputs: Mapping[str, np.ndarray], backend: str) -> Dict[str, np.ndarray]:
    """The backend's outputs in the model's output order.

    A missing or misshapen output is the backend's fault, not the caller's, so this raises
    :class:`BackendFailure` rather than :class:`InputSpecError`.
    """
    problems = []
    for spec in specs:
        value = outputs.get(spec.name)
        if value is None:
            problems.append(f"{spec.name}: not returned")
        elif not isinstance(value, np.ndarray) or tuple(value.shape) != spec.shape:
            problems.append(f"{spec.name}: expected {spec.describe()}, got {describe_array(value)}")
    if problems:
        raise BackendFailure(f"backend {backend} returned outputs that differ from the model's: " + "; ".join(problems))
    return {spec.name: outputs[spec.name] for spec in specs}


def check_expected_inputs(source: str, declared: Sequence[TensorSpec], expected: Sequence[TensorSpec]) -> None:
    """Refuse a model (named ``source``) whose inputs are not the ones the caller will feed.

    This is how an engine refuses a model exported for other input shapes at load, before the
    first frame: the message lists what the engine feeds and what the file was exported for.
    """
    if tuple(declared) == tuple(expected):
        return
    by_name = {s.name: s for s in declared}
    problems = []
    for spec in expected:
        got = by_name.get(spec.name)
        if got is None:
            problems.append(f"{spec.name}: the model has no such input")
        elif got != spec:
            problems.append(f"{spec.name}: the engine feeds {spec.describe()}, the model was exported for {got.describe()}")
    extra = [s.name for s in declared if s.name not in {e.name for e in expected}]
    if extra:
        problems.append(f"the model also takes {', '.join(extra)}, which the engine does not feed")
    if not problems:
        problems.append(f"inputs are in another order: the model takes {_names(declared)}, the engine feeds "
                        f"{_names(expected)}")
    raise ModelMismatchError(f"{source} was exported for other inputs: " + "; ".join(problems)
                             + "; export the model again for these inputs")


def _names(specs: Sequence[TensorSpec]) -> str:
    return ", ".join(s.name for s in specs) or "no inputs"
