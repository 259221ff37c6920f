"""Export a torch module to an Onset model: ONNX with static shapes, named tensors and metadata.

The module takes named inputs (``forward(self, frames, depth)``) and returns a dict of tensors
(the dict's keys become the output names, in the dict's order), one tensor (named ``output`` or
``output_names[0]``) or a tuple (named by ``output_names``). :func:`export_onnx` runs it once on the
example inputs to learn its outputs, then traces it with torch's TorchScript ONNX exporter
(``torch.onnx.export(..., dynamo=False)``):

* static shapes: the example inputs fix every dimension, no ``dynamic_axes``; a backend therefore
  never re-plans for a new shape, and TensorRT builds one engine per file;
* opset :data:`DEFAULT_OPSET` (17) unless asked otherwise; the TorchScript exporter writes up to
  :data:`MAX_OPSET`. It is used rather than the dynamo exporter (torch's default since 2.9) because
  it needs no onnxscript, traces the module exactly as run and gives the same bytes for the same
  weights every time; the export also serializes deterministically and sorts its metadata;
* constant folding on, parameters stored as initializers inside the one file (no external data);
* ``metadata_props`` as ``engines/runtime/model_file.py`` lists them, and ``onnx.checker`` with
  full shape inference before anything is written.

Beside ``model.onnx`` it writes ``model.pt``, the module's state dict (``torch.save``), which the
torch backend loads into a module built by the factory registered under the model's name
(``engines/runtime/torch_backend.py``); ``onset.state_dict_sha256`` pins it. Both files are written
atomically. The written file is read back with :func:`read_model`, so an export that returns has
produced a model every backend will accept.

torch is imported inside the functions: importing ``engines.runtime`` never needs it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import io
import json
import platform
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import onnx

from engines.runtime._files import atomic_write_bytes, atomic_write_with
from engines.runtime.errors import ExportError
from engines.runtime.model_file import (
    META_CONFIG,
    META_FORMAT,
    META_GRAPH_SHA256,
    META_INPUTS,
    META_MODEL_NAME,
    META_MODEL_SHA256,
    META_OUTPUTS,
    META_STATE_DICT_SHA256,
    META_VERSIONS,
    MIN_OPSET,
    MODEL_FORMAT,
    ModelInfo,
    graph_sha256,
    graph_specs,
    read_model,
    state_dict_path,
    weights_sha256,
)
if TYPE_CHECKING:
    import torch

__all__ = ["DEFAULT_OPSET", "MAX_OPSET", "export_onnx", "state_dict_sha256", "software_versions"]

DEFAULT_OPSET = MIN_OPSET
#: The newest opset torch's TorchScript exporter writes (it warns past it and falls back to this).
MAX_OPSET = 20
#: A single-file ONNX model is a protobuf, which cannot exceed 2 GiB.
_MAX_MODEL_BYTES = 2**31 - 1


def software_versions() -> Dict[str, str]:
    """Versions recorded in an export's metadata."""
    import torch

    try:
        onset = importlib.metadata.version("onset-edge")
    except importlib.metadata.PackageNotFoundError:
        onset = "unknown"
    return {"onset": onset, "python": platform.python_version(), "torch": torch.__version__,
            "onnx": onnx.__version__, "numpy": np.__version__}


def state_dict_sha256(state_dict: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a torch state dict: every tensor by sorted name, as name, dtype, shape, bytes."""
    import torch

    h = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name]
        if not isinstance(tensor, torch.Tensor):
            raise ExportError(f"state dict entry {name} is a {type(tensor).__name__}, not a tensor")
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        for chunk in (name.encode(), str(tensor.dtype).encode(), json.dumps(list(tensor.shape)).encode(),
                      flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""):
            h.update(len(chunk).to_bytes(8, "little"))
            h.update(chunk)
    return h.hexdigest()


def _as_tensors(example_inputs: Mapping[str, Any]) -> Dict[str, "torch.Tensor"]:
    import torch

    if not isinstance(example_inputs, Mapping) or not example_inputs:
        raise ExportError("example_inputs must be a non-empty mapping of input name to tensor or numpy array")
    tensors = {}
    for name, value in example_inputs.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ExportError(f"input name {name!r} must be a Python identifier (it is a forward() argument)")
        if isinstance(value, np.ndarray):
            value = torch.from_numpy(np.ascontiguousarray(value))
        if not isinstance(value, torch.Tensor):
            raise ExportError(f"example input {name} is a {type(value).__name__}; expected a torch tensor or numpy array")
        if value.dim() == 0 or any(d == 0 for d in value.shape):
            raise ExportError(f"example input {name} has shape {tuple(value.shape)}; every dimension must be positive")
        tensors[name] = value.detach().cpu().contiguous()
    return tensors


def _named_outputs(result: Any, output_names: Optional[Sequence[str]]) -> Tuple[Tuple[str, ...], Tuple[Any, ...]]:
    """The module's outputs as (names, tensors) in a fixed order."""
    import torch

    if isinstance(result, Mapping):
        names = tuple(result.keys())
        if output_names is not None and tuple(output_names) != names:
            raise ExportError(f"the module returns a dict with keys {names}; output_names {tuple(output_names)} "
                              "must be the same or omitted")
        values = tuple(result.values())
    elif isinstance(result, torch.Tensor):
        names = tuple(output_names) if output_names is not None else ("output",)
        values = (result,)
    elif isinstance(result, (tuple, list)):
        if output_names is None or len(output_names) != len(result):
            raise ExportError(f"the module returns {len(result)} tensors; give output_names with {len(result)} names")
        names, values = tuple(output_names), tuple(result)
    else:
        raise ExportError(f"the module returns a {type(result).__name__}; expected a dict of tensors, a tensor or a tuple")
    if len(names) != len(values):
        raise ExportError(f"output_names {names} do not match the module's {len(values)} outputs")
    for name, value in zip(names, values):
        if not isinstance(name, str) or not name:
            raise ExportError(f"output name {name!r} must be a non-empty string")
        if not isinstance(value, torch.Tensor):
            raise ExportError(f"output {name} is a {type(value).__name__}, not a tensor")
    if len(set(names)) != len(names):
        raise ExportError(f"output names {names} repeat")
    return names, values


def _wrapper(module: "torch.nn.Module", input_names: Sequence[str], output_names: Sequence[str],
             declared_names: Optional[Sequence[str]]) -> "torch.nn.Module":
    """``module`` with positional inputs and a tuple of outputs, as the TorchScript exporter wants."""
    import torch

    class _NamedIO(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = module

        def forward(self, *args: Any) -> Tuple[Any, ...]:
            result = self.inner(**dict(zip(input_names, args)))
            names, values = _named_outputs(result, declared_names)
            return tuple(values[names.index(n)] for n in output_names)

    return _NamedIO()


def _trace_to_onnx(wrapper: "torch.nn.Module", tensors: Sequence["torch.Tensor"], input_names: Sequence[str],
                   output_names: Sequence[str], opset: int) -> onnx.ModelProto:
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter announces its own deprecation on every call; the choice is deliberate.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=r".*TorchScript-based ONNX export.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=r".*feature will be removed.*")
        try:
            torch.onnx.export(
                wrapper, tuple(tensors), buffer, dynamo=False, opset_version=opset,
                input_names=list(input_names), output_names=list(output_names), export_params=True,
                do_constant_folding=True, keep_initializers_as_inputs=False,
                training=torch.onnx.TrainingMode.EVAL,
            )
        except ExportError:
            raise
        except Exception as err:
            raise ExportError(f"torch.onnx.export (TorchScript exporter, opset {opset}) failed: {err}") from err
    return onnx.load_from_string(buffer.getvalue())


def _fix_output_shapes(model: Any, traced_shapes: Mapping[str, Tuple[int, ...]]) -> None:
    """Write the traced outputs' shapes into the graph where the exporter left a dimension
    symbolic (a ``reshape`` by a size read from the input's shape): the inputs are static, so the
    outputs are; a declared fixed dimension that disagrees with the trace is an error."""
    for value in model.graph.output:
        shape = traced_shapes[value.name]
        dims = value.type.tensor_type.shape.dim
        if len(dims) != len(shape):
            del dims[:]
            for _ in shape:
                dims.add()
        for dim, size in zip(dims, shape):
            if dim.HasField("dim_value") and dim.dim_value != size:
                raise ExportError(f"output {value.name}: the graph declares dimension {dim.dim_value}, the trace gave {size}")
            dim.dim_value = size


def export_onnx(
    module: "torch.nn.Module",
    example_inputs: Mapping[str, Any],
    path: Union[str, Path],
    *,
    model_name: str,
    config: Optional[Mapping[str, Any]] = None,
    output_names: Optional[Sequence[str]] = None,
    opset: int = DEFAULT_OPSET,
    save_state_dict: bool = True,
) -> ModelInfo:
    """Export ``module`` to ``path`` (module docstring); returns the written model's :class:`ModelInfo`.

    ``example_inputs``: input name -> tensor or numpy array, named as ``forward``'s arguments; their
    shapes and dtypes are the model's, fixed. ``config``: JSON-serializable keyword arguments that
    rebuild the module (stored for the torch backend's factory). ``save_state_dict``: also write the
    state dict beside the file for the torch backend.
    """
    import torch

    if not isinstance(module, torch.nn.Module):
        raise ExportError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(model_name, str) or not model_name.strip():
        raise ExportError("model_name must be a non-empty string")
    if not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ExportError(f"opset must be an integer from {MIN_OPSET} to {MAX_OPSET}, got {opset!r}")
    try:
        config_json = json.dumps(dict(config or {}), sort_keys=True)
    except (TypeError, ValueError) as err:
        raise ExportError(f"config must be JSON-serializable keyword arguments: {err}") from err
    tensors = _as_tensors(example_inputs)
    input_names = list(tensors)
    try:
        inspect.signature(module.forward).bind(**tensors)
    except TypeError as err:
        params = ", ".join(inspect.signature(module.forward).parameters)
        raise ExportError(f"{type(module).__name__}.forward({params}) cannot take inputs named "
                          f"{', '.join(input_names)}: {err}") from err

    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode():
            names, values = _named_outputs(module(**tensors), output_names)
            traced_shapes = {n: tuple(int(d) for d in v.shape) for n, v in zip(names, values)}
        wrapper = _wrapper(module, input_names, names, output_names)
        model = _trace_to_onnx(wrapper, list(tensors.values()), input_names, names, opset)
    finally:
        module.train(was_training)

    initializers = {t.name for t in model.graph.initializer}
    graph_inputs = [v.name for v in model.graph.input if v.name not in initializers]
    if graph_inputs != input_names:
        unused = [n for n in input_names if n not in graph_inputs]
        raise ExportError(f"the traced graph takes {graph_inputs}, not {input_names}"
                          + (f": {', '.join(unused)} is not used by the module's outputs" if unused else ""))
    if [v.name for v in model.graph.output] != list(names):
        raise ExportError(f"the traced graph gives {[v.name for v in model.graph.output]}, not {list(names)}")
    inputs = graph_specs([v for v in model.graph.input if v.name in set(input_names)], "input")
    _fix_output_shapes(model, traced_shapes)
    outputs = graph_specs(model.graph.output, "output")

    state = {k: v.detach().cpu() for k, v in module.state_dict().items()}
    meta: Dict[str, str] = {
        META_FORMAT: MODEL_FORMAT,
        META_MODEL_NAME: model_name,
        META_MODEL_SHA256: weights_sha256(model),
        META_GRAPH_SHA256: graph_sha256(model),
        META_INPUTS: json.dumps([s.to_json() for s in inputs]),
        META_OUTPUTS: json.dumps([s.to_json() for s in outputs]),
        META_CONFIG: config_json,
        META_STATE_DICT_SHA256: state_dict_sha256(state) if save_state_dict else "",
        META_VERSIONS: json.dumps(software_versions(), sort_keys=True),
    }
    del model.metadata_props[:]
    for key in sorted(meta):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, meta[key]
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        raise ExportError(f"the exported graph fails the ONNX checker: {err}") from err
    data = model.SerializeToString(deterministic=True)
    if len(data) > _MAX_MODEL_BYTES:
        raise ExportError(f"the model is {len(data)} bytes; a single-file ONNX model must stay under 2 GiB")

    path = Path(path)
    if save_state_dict:
        atomic_write_with(state_dict_path(path), lambda tmp: torch.save(state, tmp))
    atomic_write_bytes(path, data)
    return read_model(path).info

