"""Errors of the engine runtime layer: one root, narrow subclasses that name what was expected.

Every error raised by ``engines.runtime`` is an :class:`EngineRuntimeError`. A caller that only
wants to know "this model cannot run here" catches the root; one that reports to the crew picks the
subclass (a bad frame is the engine's fault, a bad file is the install's, a missing backend is the
machine's).
"""

from __future__ import annotations

__all__ = [
    "EngineRuntimeError",
    "ExportError",
    "ModelFileError",
    "ModelHashError",
    "ModelMismatchError",
    "InputSpecError",
    "BackendUnavailableError",
    "UnknownBackendError",
    "SessionClosedError",
    "BackendFailure",
]


class EngineRuntimeError(Exception):
    """Root of the runtime layer's errors."""


class ExportError(EngineRuntimeError, ValueError):
    """A module or its example inputs that cannot become an Onset ONNX model (the message says why)."""


class ModelFileError(EngineRuntimeError):
    """A model file that is missing, unreadable, corrupt, not ONNX, or not exported by Onset."""


class ModelHashError(ModelFileError):
    """A model file whose weights do not hash to the value its metadata records."""


class ModelMismatchError(ModelFileError):
    """A valid model exported for other inputs (names, shapes or dtypes) than the caller feeds."""


class InputSpecError(EngineRuntimeError, ValueError):
    """Inputs that do not match the model's declared names, shapes and dtypes."""


class BackendUnavailableError(EngineRuntimeError):
    """A backend that cannot run on this machine; the message says what to install or enable."""


class UnknownBackendError(EngineRuntimeError, KeyError):
    """A backend name that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class SessionClosedError(EngineRuntimeError):
    """``run`` called on a session after ``close``."""


class BackendFailure(EngineRuntimeError):
    """A backend that failed while running a checked input (a fault of the backend, not the input)."""
