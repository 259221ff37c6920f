"""Onset's engine runtimes: one interface over ONNX Runtime, torch and TensorRT, shared by every engine.

An engine exports its torch model once (:func:`export_onnx`: ONNX, static shapes, opset 17, named
inputs and outputs, metadata with the weights hash), then runs it on whichever backend the machine
allows (:func:`choose`: TensorRT, torch CUDA, ONNX Runtime CPU, torch CPU) through the same calls:
``backend.load(path)`` -> :class:`Session`; ``session.run({name: array}) -> {name: array}``. Model
files and inputs are checked where they enter (``model_file``, ``specs``), each refusal naming
what was expected. :func:`check_parity` runs every available backend against the torch reference;
:func:`latency_profile` times a session. See docs/runtimes.md.

Nothing here knows about a particular engine, and importing this package imports neither torch nor
onnxruntime nor tensorrt: each is imported by the backend that uses it, when it loads a model.
"""

from engines.runtime._probe import Availability
from engines.runtime.base import PRECISIONS, Backend, Session
from engines.runtime.errors import (
    BackendFailure,
    BackendUnavailableError,
    EngineRuntimeError,
    ExportError,
    InputSpecError,
    ModelFileError,
    ModelHashError,
    ModelMismatchError,
    SessionClosedError,
    UnknownBackendError,
)
from engines.runtime.export import DEFAULT_OPSET, export_onnx
from engines.runtime.model_file import MODEL_FORMAT, ModelFile, ModelInfo, read_model, state_dict_path
from engines.runtime.onnxruntime_backend import OnnxRuntimeBackend
from engines.runtime.parity import TOLERANCES, ParityReport, Tolerance, check_parity, compare_outputs
from engines.runtime.profile import LatencyProfile, latency_profile
from engines.runtime.registry import (
    DEFAULT_ORDER,
    BackendEntry,
    BackendRegistry,
    BackendStatus,
    choose,
    create_backend,
    default_registry,
    list_backends,
    register_backend,
)
from engines.runtime.specs import TensorSpec, check_inputs
from engines.runtime.tensorrt_backend import TensorRTBackend
from engines.runtime.torch_backend import TorchBackend, register_torch_factory, unregister_torch_factory

__all__ = [
    "Availability",
    "Backend",
    "Session",
    "PRECISIONS",
    "TensorSpec",
    "check_inputs",
    "ModelInfo",
    "ModelFile",
    "MODEL_FORMAT",
    "read_model",
    "state_dict_path",
    "DEFAULT_OPSET",
    "export_onnx",
    "OnnxRuntimeBackend",
    "TorchBackend",
    "TensorRTBackend",
    "register_torch_factory",
    "unregister_torch_factory",
    "DEFAULT_ORDER",
    "BackendEntry",
    "BackendRegistry",
    "BackendStatus",
    "choose",
    "create_backend",
    "default_registry",
    "list_backends",
    "register_backend",
    "Tolerance",
    "TOLERANCES",
    "ParityReport",
    "check_parity",
    "compare_outputs",
    "LatencyProfile",
    "latency_profile",
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
