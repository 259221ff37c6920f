"""The one interface every runtime backend offers: load a model file, run named numpy arrays.

``Backend.load(model_path)`` checks the file (``engines/runtime/model_file.py``: missing, corrupt,
not ONNX, hash mismatch, or exported for other inputs than ``expected_inputs`` are refused) and
returns a :class:`Session`. ``Session.run({name: array})`` checks the inputs against the model's
declared names, shapes and dtypes (``engines/runtime/specs.py``) before the backend sees them, and
returns ``{output name: array}`` in the model's output order. numpy in, numpy out, whatever runs
inside; a session holds its backend's resources until :meth:`Session.close` (or the end of a
``with`` block).

A backend implements ``_open(model_file)``; its session implements ``_run(feeds)`` (and ``_close``
when it holds something). ``precision`` says what the session computes in: ``fp32`` for the
model's own float32 arithmetic, ``tf32`` or ``fp16`` where a GPU backend reduces it; parity checks
(``engines/runtime/parity.py``) pick their tolerance from it.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from engines.runtime.errors import SessionClosedError
from engines.runtime.model_file import ModelFile, ModelInfo, read_model
from engines.runtime.specs import TensorSpec, check_inputs, check_outputs

__all__ = ["Backend", "Session", "PRECISIONS"]

#: What a session may compute in, strictest first.
PRECISIONS = ("fp32", "tf32", "fp16")


class Session(abc.ABC):
    """A loaded model on one backend."""

    def __init__(self, model: ModelInfo, backend: str, precision: str = "fp32") -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self._model = model
        self._backend = backend
        self._precision = precision
        self._closed = False

    @property
    def model(self) -> ModelInfo:
        return self._model

    @property
    def backend(self) -> str:
        """The registry name of the backend that runs this session."""
        return self._backend

    @property
    def precision(self) -> str:
        return self._precision

    @property
    def input_specs(self) -> Tuple[TensorSpec, ...]:
        return self._model.inputs

    @property
    def output_specs(self) -> Tuple[TensorSpec, ...]:
        return self._model.outputs

    @property
    def output_names(self) -> Tuple[str, ...]:
        return self._model.output_names

    @property
    def closed(self) -> bool:
        return self._closed

    def run(self, inputs: Mapping[str, Any]) -> Dict[str, np.ndarray]:
        """Run the model on ``inputs`` (name -> numpy array of the declared dtype and shape)."""
        if self._closed:
            raise SessionClosedError(f"the {self._backend} session of {self._model.path} is closed")
        feeds = check_inputs(self._model.inputs, inputs)
        return check_outputs(self._model.outputs, self._run(feeds), self._backend)

    @abc.abstractmethod
    def _run(self, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Run checked inputs (in the model's input order); return every output by name."""

    def close(self) -> None:
        """Release the backend's resources; further ``run`` calls raise :class:`SessionClosedError`."""
        if not self._closed:
            self._closed = True
            self._close()

    def _close(self) -> None:  # noqa: B027 - optional hook: a session that holds nothing need not override it
        """Release what the backend holds (nothing by default)."""

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else self._precision
        return f"<{type(self).__name__} {self._model.name} on {self._backend} ({state})>"


class Backend(abc.ABC):
    """A way to run Onset models; registered by ``name`` in ``engines/runtime/registry.py``."""

    #: The registry name of the backend (an instance may refine it, e.g. by device).
    name: str = ""

    def load(self, model_path: Union[str, Path], expected_inputs: Optional[Sequence[TensorSpec]] = None) -> Session:
        """A session of the checked model at ``model_path`` (module docstring)."""
        return self._open(read_model(model_path, expected_inputs))

    @abc.abstractmethod
    def _open(self, model: ModelFile) -> Session:
        """A session of a model file :func:`read_model` has checked."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
