"""An Onset model file: one ONNX file whose metadata says what it is, checked before anything runs it.

The export (``engines/runtime/export.py``) writes, besides the graph and its weights, these
``metadata_props`` (all strings; JSON where structured):

==========================  ===============================================================
``onset.format``            :data:`MODEL_FORMAT` (a file of another format version is refused)
``onset.model_name``        the model's name (``captioner``, ``style``); picks the torch factory
``onset.model_sha256``      SHA-256 of the weights as stored in this file (:func:`weights_sha256`)
``onset.graph_sha256``      SHA-256 of everything that computes: IR version, opsets, functions and
                            the graph with its weights (:func:`graph_sha256`)
``onset.inputs``            JSON list of ``{"name", "shape", "dtype"}``, in the graph's input order
``onset.outputs``           the same for the outputs
``onset.config``            JSON object: the keyword arguments that rebuild the torch module
``onset.state_dict_sha256`` SHA-256 of the torch state dict beside the file (the torch backend's
                            weights), or empty when none was saved
``onset.versions``          JSON object: torch, onnx, numpy, Python and Onset versions at export
==========================  ===============================================================

:func:`read_model` parses the file once and refuses it with a :class:`ModelFileError` naming the
path and the problem when it is missing, empty, truncated or corrupt (protobuf cannot parse it),
not ONNX (no graph), invalid (``onnx.checker``), older than opset :data:`MIN_OPSET`, not exported
by Onset (no ``onset.format``), of dynamic shape, or when its graph and its metadata disagree; a
:class:`ModelHashError` when its weights do not hash to ``onset.model_sha256`` or its graph to
``onset.graph_sha256`` (changed after the export, or damaged in a way protobuf and the checker did
not notice: a flipped bit in a convolution's padding is still a valid model). Only the metadata and the
model's descriptive fields (producer, its doc string) are outside the hashes. The bytes it checked are what
backends load, so nothing reads the file a second time.

The weights hash covers every initializer (sorted by name) and every ``Constant`` node's tensor,
each as its name, dtype, shape and little-endian bytes with length prefixes, so two files hash alike
exactly when they carry the same numbers under the same names. The graph hash is over protobuf's
serialization of the graph, which is canonical for ONNX's messages (no maps; fields in number order).
``file_sha256`` (the whole file) also covers the graph and its shapes; the TensorRT engine cache
keys on it and the weights hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import numpy_helper

from engines.runtime.errors import ModelFileError, ModelHashError
from engines.runtime.specs import TensorSpec, check_expected_inputs

__all__ = [
    "MODEL_FORMAT",
    "MIN_OPSET",
    "META_FORMAT",
    "META_MODEL_NAME",
    "META_MODEL_SHA256",
    "META_GRAPH_SHA256",
    "META_INPUTS",
    "META_OUTPUTS",
    "META_CONFIG",
    "META_STATE_DICT_SHA256",
    "META_VERSIONS",
    "ModelInfo",
    "ModelFile",
    "read_model",
    "weights_sha256",
    "graph_sha256",
    "graph_specs",
    "state_dict_path",
]

MODEL_FORMAT = "onset-model/1"
#: The oldest ONNX opset an Onset model may use (the export writes exactly this by default).
MIN_OPSET = 17

META_FORMAT = "onset.format"
META_MODEL_NAME = "onset.model_name"
META_MODEL_SHA256 = "onset.model_sha256"
META_GRAPH_SHA256 = "onset.graph_sha256"
META_INPUTS = "onset.inputs"
META_OUTPUTS = "onset.outputs"
META_CONFIG = "onset.config"
META_STATE_DICT_SHA256 = "onset.state_dict_sha256"
META_VERSIONS = "onset.versions"

_REQUIRED_META = (META_FORMAT, META_MODEL_NAME, META_MODEL_SHA256, META_GRAPH_SHA256, META_INPUTS, META_OUTPUTS)


@dataclass(frozen=True)
class ModelInfo:
    """What an Onset model file declares, after :func:`read_model` checked it against its graph."""

    path: Path
    name: str
    model_sha256: str
    file_sha256: str
    opset: int
    inputs: Tuple[TensorSpec, ...]
    outputs: Tuple[TensorSpec, ...]
    config: Dict[str, Any] = field(default_factory=dict, compare=False)
    state_dict_sha256: str = ""
    versions: Dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def input_names(self) -> Tuple[str, ...]:
        return tuple(s.name for s in self.inputs)

    @property
    def output_names(self) -> Tuple[str, ...]:
        return tuple(s.name for s in self.outputs)


class ModelFile(NamedTuple):
    """A checked model: its :class:`ModelInfo` and the exact bytes that were checked."""

    info: ModelInfo
    data: bytes


def state_dict_path(model_path: Union[str, Path]) -> Path:
    """Where the torch state dict of ``model.onnx`` lives: ``model.pt`` beside it."""
    return Path(model_path).with_suffix(".pt")


def _feed(h: "hashlib._Hash", chunk: bytes) -> None:
    h.update(len(chunk).to_bytes(8, "little"))
    h.update(chunk)


def _graph_tensors(graph: onnx.GraphProto, prefix: str = "") -> Iterator[Tuple[str, onnx.TensorProto]]:
    """Every weight tensor of ``graph``: initializers by name, then Constant nodes in node order,
    then the same inside subgraphs (named by the node that holds them)."""
    for init in sorted(graph.initializer, key=lambda t: t.name):
        yield prefix + init.name, init
    for index, node in enumerate(graph.node):
        for attr in node.attribute:
            if node.op_type == "Constant" and attr.type == onnx.AttributeProto.TENSOR:
                yield f"{prefix}{node.output[0] if node.output else index}:{attr.name}", attr.t
            elif attr.type == onnx.AttributeProto.GRAPH:
                yield from _graph_tensors(attr.g, f"{prefix}{node.name or index}/{attr.name}/")
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for k, sub in enumerate(attr.graphs):
                    yield from _graph_tensors(sub, f"{prefix}{node.name or index}/{attr.name}[{k}]/")


def weights_sha256(model: onnx.ModelProto) -> str:
    """SHA-256 (hex) of the weights stored in ``model`` (module docstring for what is covered)."""
    h = hashlib.sha256()
    for name, tensor in _graph_tensors(model.graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            raise ModelFileError(f"weight {name} is stored outside the file; an Onset model is one file")
        array = np.ascontiguousarray(numpy_helper.to_array(tensor))
        _feed(h, name.encode())
        _feed(h, array.dtype.name.encode())
        _feed(h, json.dumps(list(array.shape)).encode())
        _feed(h, array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())
    return h.hexdigest()


def graph_sha256(model: onnx.ModelProto) -> str:
    """SHA-256 (hex) of what computes in ``model``: IR version, opset imports, functions, graph."""
    h = hashlib.sha256()
    _feed(h, str(model.ir_version).encode())
    for opset in model.opset_import:
        _feed(h, f"{opset.domain}:{opset.version}".encode())
    for function in model.functions:
        _feed(h, function.SerializeToString(deterministic=True))
    _feed(h, model.graph.SerializeToString(deterministic=True))
    return h.hexdigest()


def _dtype_name(elem_type: int) -> str:
    try:
        return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type)).name
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"tensor element type {elem_type} has no numpy equivalent") from err


def graph_specs(values: Sequence[onnx.ValueInfoProto], what: str, require_static: bool = True) -> Tuple[TensorSpec, ...]:
    """Specs of a graph's inputs or outputs (``what`` names them in errors); every dimension must
    be a fixed number where ``require_static``."""
    specs: List[TensorSpec] = []
    for value in values:
        tensor_type = value.type.tensor_type
        if not value.type.HasField("tensor_type"):
            raise ModelFileError(f"{what} {value.name} is not a tensor")
        dims = []
        for axis, dim in enumerate(tensor_type.shape.dim):
            if dim.HasField("dim_value") and dim.dim_value > 0:
                dims.append(int(dim.dim_value))
            elif require_static:
                label = dim.dim_param or "unknown"
                raise ModelFileError(
                    f"{what} {value.name} has a dynamic dimension {axis} ({label}); Onset models have static shapes")
            else:
                dims.append(0)
        specs.append(TensorSpec(value.name, tuple(dims), _dtype_name(tensor_type.elem_type)))
    return tuple(specs)


def _parse(path: Path, data: bytes) -> onnx.ModelProto:
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as err:
        raise ModelFileError(f"{path} is not a readable ONNX model (truncated or corrupt: {err})") from err
    if model.ir_version <= 0 or not model.HasField("graph") or not model.opset_import:
        raise ModelFileError(f"{path} is not an ONNX model (no IR version, graph or opset in its {len(data)} bytes)")
    return model


def _check(path: Path, model: onnx.ModelProto) -> int:
    try:
        onnx.checker.check_model(model)
    except Exception as err:  # ValidationError, or a decode error from a damaged string field
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelFileError(f"{path} fails the ONNX checker (truncated or corrupt?): {first}") from err
    opset = next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < MIN_OPSET:
        raise ModelFileError(f"{path} uses ONNX opset {opset}; Onset models use opset {MIN_OPSET} or newer")
    return opset


def _metadata(path: Path, model: onnx.ModelProto) -> Dict[str, str]:
    meta = {p.key: p.value for p in model.metadata_props}
    if META_FORMAT not in meta:
        raise ModelFileError(
            f"{path} has no Onset metadata ({META_FORMAT}); export it with engines.runtime.export_onnx")
    if meta[META_FORMAT] != MODEL_FORMAT:
        raise ModelFileError(f"{path} is of format {meta[META_FORMAT]!r}; this runtime reads {MODEL_FORMAT!r}")
    missing = [k for k in _REQUIRED_META if not meta.get(k)]
    if missing:
        raise ModelFileError(f"{path} lacks metadata {', '.join(missing)}")
    return meta


def _json(path: Path, meta: Dict[str, str], key: str, kind: type) -> Any:
    raw = meta.get(key, "")
    if not raw:
        return kind()
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{path}: metadata {key} is not JSON ({err})") from err
    if not isinstance(value, kind):
        raise ModelFileError(f"{path}: metadata {key} should be a JSON {kind.__name__}, got {type(value).__name__}")
    return value


def _meta_specs(path: Path, meta: Dict[str, str], key: str) -> Tuple[TensorSpec, ...]:
    try:
        return tuple(TensorSpec.from_json(obj) for obj in _json(path, meta, key, list))
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"{path}: metadata {key} is not a list of name/shape/dtype ({err})") from err


def _same_outputs(declared: Tuple[TensorSpec, ...], graph: Tuple[TensorSpec, ...]) -> bool:
    """Graph outputs may lack shapes (0 where unknown); names and dtypes must agree, and known dims."""
    if [s.name for s in declared] != [s.name for s in graph]:
        return False
    for d, g in zip(declared, graph):
        if d.dtype != g.dtype or (g.shape and len(g.shape) != len(d.shape)):
            return False
        if any(gd not in (0, dd) for gd, dd in zip(g.shape, d.shape)):
            return False
    return True


def read_model(path: Union[str, Path], expected_inputs: Optional[Sequence[TensorSpec]] = None) -> ModelFile:
    """Read and check the model at ``path`` (module docstring for every refusal).

    ``expected_inputs``: the inputs the caller will feed; a model exported for others is refused
    with a :class:`ModelMismatchError` listing both.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"no model file at {path}" + (" (it is a directory)" if path.is_dir() else ""))
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelFileError(f"cannot read model file {path}: {err}") from err
    if not data:
        raise ModelFileError(f"model file {path} is empty")
    model = _parse(path, data)
    opset = _check(path, model)
    try:
        info = _declared(path, model, data, opset)
    except ModelFileError:
        raise
    except Exception as err:  # damage the checker let through (a tensor whose bytes do not fit its shape, ...)
        raise ModelFileError(f"{path} is damaged: {type(err).__name__}: {err}") from err
    if expected_inputs is not None:
        check_expected_inputs(str(path), info.inputs, tuple(expected_inputs))
    return ModelFile(info, data)


def _declared(path: Path, model: onnx.ModelProto, data: bytes, opset: int) -> ModelInfo:
    """The model's :class:`ModelInfo` once its metadata, graph and weights agree."""
    meta = _metadata(path, model)
    inputs = _meta_specs(path, meta, META_INPUTS)
    outputs = _meta_specs(path, meta, META_OUTPUTS)
    initializers = {t.name for t in model.graph.initializer}
    graph_inputs = graph_specs([v for v in model.graph.input if v.name not in initializers], "input")
    if graph_inputs != inputs:
        raise ModelFileError(
            f"{path}: its graph takes {', '.join(s.name + ' ' + s.describe() for s in graph_inputs)} but its "
            f"metadata declares {', '.join(s.name + ' ' + s.describe() for s in inputs)}")
    graph_outputs = graph_specs(model.graph.output, "output", require_static=False)
    if not _same_outputs(outputs, graph_outputs):
        raise ModelFileError(
            f"{path}: its graph gives {', '.join(s.name + ' ' + s.dtype for s in graph_outputs)} but its "
            f"metadata declares {', '.join(s.name + ' ' + s.describe() for s in outputs)}")
    declared_hash = meta[META_MODEL_SHA256]
    actual_hash = weights_sha256(model)
    if actual_hash != declared_hash:
        raise ModelHashError(
            f"{path}: its weights hash to {actual_hash[:16]}… but its metadata records {declared_hash[:16]}…; "
            "the file was changed after export or is damaged")
    declared_graph, actual_graph = meta[META_GRAPH_SHA256], graph_sha256(model)
    if actual_graph != declared_graph:
        raise ModelHashError(
            f"{path}: its graph hashes to {actual_graph[:16]}… but its metadata records {declared_graph[:16]}…; "
            "the file was changed after export or is damaged")
    return ModelInfo(
        path=path,
        name=meta[META_MODEL_NAME],
        model_sha256=declared_hash,
        file_sha256=hashlib.sha256(data).hexdigest(),
        opset=opset,
        inputs=inputs,
        outputs=outputs,
        config=_json(path, meta, META_CONFIG, dict),
        state_dict_sha256=meta.get(META_STATE_DICT_SHA256, ""),
        versions={str(k): str(v) for k, v in _json(path, meta, META_VERSIONS, dict).items()},
    )
