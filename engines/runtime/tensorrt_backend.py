"""TensorRT backend (TensorRT 10 API): an engine built from the ONNX, cached, run on torch CUDA buffers.

**Build** (:func:`build_serialized_engine`): ``trt.Builder`` -> ``create_network`` (explicit batch is
the only mode since TensorRT 10, so no flag for it) -> ``trt.OnnxParser.parse`` of the checked ONNX
bytes -> a builder config with a workspace limit and the timing cache loaded from disk
(``create_timing_cache`` / ``set_timing_cache``; serialized back after the build) ->
``build_serialized_network``. Built engines and timing caches are kept by
``engines/runtime/tensorrt_cache.py`` under a key of GPU, compute capability, TensorRT version,
model hash and precision.

**Reduced precision** (:func:`plan_precision`). TensorRT 10 takes ``BuilderFlag.FP16`` on a weakly
typed network: it may pick FP16 kernels per layer while inputs and outputs keep the ONNX's types.
TensorRT 11 removed that flag (and every weak-typing flag): networks are always strongly typed and
run at the precision written in the ONNX. So, decided by whether ``trt.BuilderFlag`` has ``FP16``:

* it has (TensorRT 10): ``fp16`` sets the flag; the session reports ``fp16``;
* it has not (TensorRT 11 and later): the network is created strongly typed (the flag is ignored
  there, and kept for 10.x) and the engine computes in the ONNX's own types: FP32 (TF32 where the
  GPU has it) for an FP32 export. For FP16 on TensorRT 11, export an FP16 model (the module in
  half precision, or the ONNX converted with ModelOpt AutoCast keeping float32 I/O) and load that.

``fp32`` clears ``BuilderFlag.TF32`` where it exists, for parity runs at full precision.

**Run**: every input and output gets a torch CUDA tensor of its static shape (and a pinned host
tensor); addresses are bound once with ``context.set_tensor_address(name, tensor.data_ptr())`` and
input shapes with ``set_input_shape``. Each run copies the inputs host -> device, calls
``context.execute_async_v3(stream.cuda_stream)`` on the session's own torch CUDA stream, copies the
outputs back and synchronizes that stream; numpy in, numpy out. Tensor names come from
``engine.num_io_tensors`` / ``get_tensor_name`` / ``get_tensor_mode`` and are checked against the
model's declared inputs and outputs. A session is used by one thread at a time.

Neither ``tensorrt`` nor torch is imported when this module is: :func:`tensorrt_available` says
what is missing (``pip install tensorrt``: NVIDIA's ``tensorrt-cu12`` / ``tensorrt-cu13`` wheels, or
JetPack's ``python3-libnvinfer`` on a Jetson; a CUDA build of torch). This backend is written
against NVIDIA's documented API and has not run on the machines Onset is developed on (no NVIDIA
GPU); see docs/runtimes.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from engines.runtime._probe import Availability, installed, torch_cuda
from engines.runtime.base import Backend, Session
from engines.runtime.errors import BackendFailure, BackendUnavailableError, ModelFileError
from engines.runtime.model_file import ModelFile, ModelInfo
from engines.runtime.specs import TensorSpec
from engines.runtime.tensorrt_cache import EngineCache, EngineCacheKey

__all__ = [
    "TensorRTBackend",
    "TensorRTSession",
    "BuildPlan",
    "plan_precision",
    "build_serialized_engine",
    "tensorrt_available",
    "default_cache_dir",
    "TENSORRT_INSTALL",
]

TENSORRT_INSTALL = ("pip install tensorrt: NVIDIA's tensorrt-cu12 or tensorrt-cu13 wheel to match torch's CUDA, "
                    "or JetPack's python3-libnvinfer on a Jetson")
_MIN_MAJOR = 10
#: TensorRT ``DataType`` member name -> numpy dtype name (the types an Onset model's I/O may have).
_TRT_DTYPES = {"FLOAT": "float32", "HALF": "float16", "INT32": "int32", "INT64": "int64", "INT8": "int8",
               "UINT8": "uint8", "BOOL": "bool"}


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/onset/tensorrt`` (``~/.cache/onset/tensorrt``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "onset" / "tensorrt"


def tensorrt_available() -> Availability:
    """tensorrt 10 or newer, torch with CUDA, and a GPU that torch sees."""
    if not installed("tensorrt"):
        return Availability(False, f"tensorrt is not installed; {TENSORRT_INSTALL}")
    cuda = torch_cuda()
    if not cuda.ok:
        return Availability(False, f"tensorrt keeps its buffers in torch CUDA tensors: {cuda.reason}")
    import tensorrt as trt

    version = str(getattr(trt, "__version__", "0"))
    try:
        major = int(version.split(".")[0])
    except ValueError:
        major = 0
    if major < _MIN_MAJOR:
        return Availability(False, f"tensorrt {version} is older than {_MIN_MAJOR}: this backend uses the TensorRT 10 "
                                   "API (set_tensor_address, execute_async_v3); pip install 'tensorrt>=10'")
    return Availability(True, f"tensorrt {version}; {cuda.reason}")


@dataclass(frozen=True)
class BuildPlan:
    """How an engine is built for a requested precision on one TensorRT (module docstring)."""

    requested: str
    precision: str
    fp16_flag: bool
    strongly_typed: bool
    clear_tf32: bool
    note: str


def plan_precision(trt: Any, requested: str = "fp16", model_is_fp16: bool = False) -> BuildPlan:
    """The build plan for ``requested`` (``fp16`` or ``fp32``) given the ``tensorrt`` namespace ``trt``.

    Only attributes are looked at (``BuilderFlag.FP16``, ``BuilderFlag.TF32``,
    ``NetworkDefinitionCreationFlag.STRONGLY_TYPED``), so the choice follows what the installed
    TensorRT offers, not its version string.
    """
    if requested not in ("fp16", "fp32"):
        raise ValueError(f"precision must be 'fp16' or 'fp32', got {requested!r}")
    builder_flag = getattr(trt, "BuilderFlag", None)
    has_fp16 = builder_flag is not None and hasattr(builder_flag, "FP16")
    has_tf32 = builder_flag is not None and hasattr(builder_flag, "TF32")
    creation = getattr(trt, "NetworkDefinitionCreationFlag", None)
    has_strong = creation is not None and hasattr(creation, "STRONGLY_TYPED")
    own = "fp16" if model_is_fp16 else ("tf32" if has_tf32 else "fp32")
    if requested == "fp16" and has_fp16:
        return BuildPlan(requested, "fp16", fp16_flag=True, strongly_typed=False, clear_tf32=False,
                         note="BuilderFlag.FP16 on a weakly typed network: FP16 kernels where faster, I/O as exported")
    if requested == "fp16":
        note = ("this TensorRT has no BuilderFlag.FP16 (removed in TensorRT 11): strongly typed network at the "
                "ONNX's own precision" + ("" if model_is_fp16 else "; export an FP16 model for reduced precision"))
        return BuildPlan(requested, own, fp16_flag=False, strongly_typed=has_strong, clear_tf32=False, note=note)
    return BuildPlan(requested, "fp16" if model_is_fp16 else "fp32", fp16_flag=False, strongly_typed=has_strong,
                     clear_tf32=has_tf32, note="strongly typed at the ONNX's own precision, TF32 off")


def _as_bytes(host_memory: Any) -> bytes:
    return bytes(memoryview(host_memory))


def build_serialized_engine(trt: Any, onnx_bytes: bytes, plan: BuildPlan, timing_cache: bytes = b"",
                            workspace_bytes: int = 1 << 30, logger: Any = None) -> Tuple[bytes, bytes]:
    """Build an engine from ``onnx_bytes``: returns (serialized engine, serialized timing cache)."""
    logger = logger if logger is not None else trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 0
    if plan.strongly_typed:
        flags |= 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_bytes):
        errors = []
        for i in range(parser.num_errors):
            err = parser.get_error(i)
            errors.append(err.desc() if hasattr(err, "desc") else str(err))
        raise ModelFileError("TensorRT's ONNX parser refused the model: " + ("; ".join(errors) or "no reason given"))
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_bytes))
    cache = config.create_timing_cache(timing_cache)
    if not config.set_timing_cache(cache, False) and timing_cache:
        # A cache from another build of TensorRT or another device: start a new one.
        cache = config.create_timing_cache(b"")
        config.set_timing_cache(cache, False)
    if plan.fp16_flag:
        config.set_flag(trt.BuilderFlag.FP16)
    if plan.clear_tf32:
        config.clear_flag(trt.BuilderFlag.TF32)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise BackendFailure("TensorRT could not build an engine from the model (its log above says why)")
    return _as_bytes(serialized), _as_bytes(config.get_timing_cache().serialize())


def _engine_io(trt: Any, engine: Any) -> Tuple[List[TensorSpec], List[TensorSpec]]:
    inputs: List[TensorSpec] = []
    outputs: List[TensorSpec] = []
    for i in range(engine.num_io_tensors):
        name = engine.get_tensor_name(i)
        dtype = engine.get_tensor_dtype(name)
        dtype_name = _TRT_DTYPES.get(getattr(dtype, "name", str(dtype)))
        if dtype_name is None:
            raise BackendFailure(f"TensorRT tensor {name} has type {dtype}, which Onset models do not use")
        spec = TensorSpec(name, tuple(int(d) for d in engine.get_tensor_shape(name)), dtype_name)
        (inputs if engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT else outputs).append(spec)
    return inputs, outputs


class TensorRTSession(Session):
    """A deserialized engine with its execution context, stream and bound buffers."""

    def __init__(self, model: ModelInfo, plan: BuildPlan, torch: Any, runtime: Any, engine: Any, context: Any,
                 device: Any, engine_path: Path) -> None:
        super().__init__(model, "tensorrt", plan.precision)
        self.plan = plan
        self.engine_path = engine_path
        self._torch = torch
        self._runtime, self._engine, self._context = runtime, engine, context
        self._device = device
        self._stream = torch.cuda.Stream(device=device)
        self._device_buffers: Dict[str, Any] = {}
        self._host_buffers: Dict[str, Any] = {}
        for spec in model.inputs + model.outputs:
            dtype = torch.from_numpy(np.empty(0, dtype=spec.dtype)).dtype
            self._device_buffers[spec.name] = torch.empty(spec.shape, dtype=dtype, device=device)
            self._host_buffers[spec.name] = torch.empty(spec.shape, dtype=dtype, pin_memory=True)
            if not context.set_tensor_address(spec.name, self._device_buffers[spec.name].data_ptr()):
                raise BackendFailure(f"TensorRT refused the buffer address of {spec.name}")
        for spec in model.inputs:
            if not context.set_input_shape(spec.name, spec.shape):
                raise BackendFailure(f"TensorRT refused input shape {spec.shape} for {spec.name}")

    def _run(self, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        torch = self._torch
        with torch.cuda.device(self._device), torch.cuda.stream(self._stream):
            for name, array in feeds.items():
                self._host_buffers[name].numpy()[...] = array
                self._device_buffers[name].copy_(self._host_buffers[name], non_blocking=True)
            if not self._context.execute_async_v3(self._stream.cuda_stream):
                raise BackendFailure(f"TensorRT execute_async_v3 failed for {self.model.path}")
            for name in self.output_names:
                self._host_buffers[name].copy_(self._device_buffers[name], non_blocking=True)
        self._stream.synchronize()
        return {name: self._host_buffers[name].numpy().copy() for name in self.output_names}

    def _close(self) -> None:
        self._stream.synchronize()
        # The context goes before the engine, the engine before the runtime that made it.
        self._context = None
        self._engine = None
        self._runtime = None
        self._device_buffers.clear()
        self._host_buffers.clear()


class TensorRTBackend(Backend):
    """TensorRT on CUDA device ``device_index``; engines cached under ``cache_dir``."""

    name = "tensorrt"

    def __init__(self, cache_dir: Optional[Union[str, Path]] = None, precision: str = "fp16",
                 workspace_bytes: int = 1 << 30, device_index: int = 0) -> None:
        if precision not in ("fp16", "fp32"):
            raise ValueError(f"precision must be 'fp16' or 'fp32', got {precision!r}")
        self.cache = EngineCache(cache_dir if cache_dir is not None else default_cache_dir())
        self.precision = precision
        self.workspace_bytes = workspace_bytes
        self.device_index = device_index

    def _open(self, model: ModelFile) -> TensorRTSession:
        probe = tensorrt_available()
        if not probe.ok:
            raise BackendUnavailableError(f"tensorrt: {probe.reason}")
        import tensorrt as trt
        import torch

        info = model.info
        device = torch.device("cuda", self.device_index)
        is_fp16 = any(s.dtype == "float16" for s in info.inputs + info.outputs)
        plan = plan_precision(trt, self.precision, model_is_fp16=is_fp16)
        key = EngineCacheKey(
            gpu_name=torch.cuda.get_device_name(device),
            compute_capability=tuple(torch.cuda.get_device_capability(device)),
            tensorrt_version=str(trt.__version__),
            model_name=info.name,
            model_sha256=info.model_sha256,
            onnx_sha256=info.file_sha256,
            precision=plan.precision,
        )
        logger = trt.Logger(trt.Logger.WARNING)
        with torch.cuda.device(device):
            runtime = trt.Runtime(logger)
            data = self.cache.load_engine(key)
            engine = runtime.deserialize_cuda_engine(data) if data is not None else None
            if engine is None:
                data, timing = build_serialized_engine(trt, model.data, plan, self.cache.load_timing_cache(key),
                                                       self.workspace_bytes, logger)
                self.cache.store_timing_cache(key, timing)
                self.cache.store_engine(key, data)
                engine = runtime.deserialize_cuda_engine(data)
                if engine is None:
                    raise BackendFailure(f"TensorRT could not deserialize the engine it built for {info.path}")
            inputs, outputs = _engine_io(trt, engine)
            by_name = {s.name: s for s in inputs + outputs}
            if by_name != {s.name: s for s in info.inputs + info.outputs} or len(inputs) != len(info.inputs):
                raise BackendFailure(f"the TensorRT engine for {info.path} has inputs {inputs} and outputs {outputs}; "
                                     f"the model declares {list(info.inputs)} and {list(info.outputs)}")
            context = engine.create_execution_context()
            if context is None:
                raise BackendFailure(f"TensorRT could not create an execution context for {info.path}")
            return TensorRTSession(info, plan, torch, runtime, engine, context, device, self.cache.engine_path(key))
