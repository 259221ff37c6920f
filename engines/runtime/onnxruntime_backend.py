"""ONNX Runtime backend: the default on the CPU, optionally on CUDA.

The CPU session is set up for a steady per-frame latency on a small shared box, not for the best
mean on an idle one (:func:`session_options`):

* ``intra_op_num_threads = 1`` by default (configurable) and ``inter_op_num_threads = 1``: an engine
  worker is one process among several on two cores; more threads contend with the node and fatten
  the tail;
* thread spinning off (``session.intra_op.allow_spinning`` and ``session.inter_op.allow_spinning``
  = ``"0"``): a spinning pool burns a core between frames that the node needs, and its wake-ups are
  what spoil p99 when the core is taken;
* sequential execution, every graph optimization (``ORT_ENABLE_ALL``).

``device="cuda"`` adds the CUDA execution provider (needs the ``onnxruntime-gpu`` wheel). ONNX
Runtime falls back to the CPU silently when the provider's libraries do not load, so the session
checks that CUDA really is its first provider and refuses otherwise. The CUDA path is not
exercised on a machine without an NVIDIA GPU.

onnxruntime is imported when a session is made, not when this module is.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

import numpy as np

from engines.runtime._probe import Availability, installed
from engines.runtime.base import Backend, Session
from engines.runtime.errors import BackendFailure, BackendUnavailableError, ModelFileError
from engines.runtime.model_file import ModelFile, ModelInfo

__all__ = [
    "OnnxRuntimeBackend",
    "OnnxRuntimeSession",
    "session_options",
    "onnxruntime_cpu_available",
    "onnxruntime_cuda_available",
    "GRAPH_OPTIMIZATION_LEVELS",
]

_MISSING = "onnxruntime is not installed (pip install onnxruntime; onnxruntime-gpu for CUDA)"
#: Names accepted for ``graph_optimization`` -> ``onnxruntime.GraphOptimizationLevel`` member.
GRAPH_OPTIMIZATION_LEVELS = {
    "disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}


def onnxruntime_cpu_available() -> Availability:
    if not installed("onnxruntime"):
        return Availability(False, _MISSING)
    import onnxruntime as ort

    if "CPUExecutionProvider" not in ort.get_available_providers():
        return Availability(False, f"onnxruntime {ort.__version__} has no CPUExecutionProvider")
    return Availability(True, f"onnxruntime {ort.__version__} on the CPU")


def onnxruntime_cuda_available() -> Availability:
    if not installed("onnxruntime"):
        return Availability(False, _MISSING)
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return Availability(False, f"onnxruntime {ort.__version__} has no CUDAExecutionProvider "
                                   "(install onnxruntime-gpu instead of onnxruntime, with CUDA and cuDNN)")
    return Availability(True, f"onnxruntime {ort.__version__} lists CUDAExecutionProvider "
                              "(whether its libraries load is known when a session starts)")


def session_options(intra_op_num_threads: int = 1, graph_optimization: str = "all") -> Any:
    """``onnxruntime.SessionOptions`` as the module docstring describes."""
    import onnxruntime as ort

    if not isinstance(intra_op_num_threads, int) or intra_op_num_threads < 1:
        raise ValueError(f"intra_op_num_threads must be a positive integer, got {intra_op_num_threads!r}")
    if graph_optimization not in GRAPH_OPTIMIZATION_LEVELS:
        raise ValueError(f"graph_optimization must be one of {sorted(GRAPH_OPTIMIZATION_LEVELS)}, "
                         f"got {graph_optimization!r}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_num_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, GRAPH_OPTIMIZATION_LEVELS[graph_optimization])
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: warnings about unused initializers are not the crew's business
    return options


class OnnxRuntimeSession(Session):
    """A model in an ``onnxruntime.InferenceSession``."""

    def __init__(self, model: ModelInfo, backend: str, session: Any) -> None:
        super().__init__(model, backend)
        self._session = session
        self._output_names: List[str] = list(model.output_names)

    @property
    def providers(self) -> List[str]:
        """The execution providers of the underlying session, preferred first."""
        return list(self._session.get_providers())

    @property
    def options(self) -> Any:
        """The ``onnxruntime.SessionOptions`` the session runs with."""
        return self._session.get_session_options()

    def _run(self, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        try:
            values = self._session.run(self._output_names, feeds)
        except Exception as err:  # onnxruntime raises its own pybind exception types
            raise BackendFailure(f"onnxruntime failed running {self.model.path}: {err}") from err
        return dict(zip(self._output_names, values))

    def _close(self) -> None:
        self._session = None


class OnnxRuntimeBackend(Backend):
    """ONNX Runtime on the CPU (``device="cpu"``, the default) or with its CUDA provider."""

    name = "onnxruntime-cpu"

    def __init__(self, device: str = "cpu", intra_op_num_threads: int = 1, graph_optimization: str = "all",
                 cuda_device_id: int = 0) -> None:
        if device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
        self.device = device
        self.intra_op_num_threads = intra_op_num_threads
        self.graph_optimization = graph_optimization
        self.cuda_device_id = cuda_device_id
        self.name = "onnxruntime-cuda" if device == "cuda" else "onnxruntime-cpu"

    def _providers(self) -> Sequence[Any]:
        if self.device == "cuda":
            return [("CUDAExecutionProvider", {"device_id": self.cuda_device_id}), "CPUExecutionProvider"]
        return ["CPUExecutionProvider"]

    def _open(self, model: ModelFile) -> OnnxRuntimeSession:
        probe = onnxruntime_cuda_available() if self.device == "cuda" else onnxruntime_cpu_available()
        if not probe.ok:
            raise BackendUnavailableError(f"{self.name}: {probe.reason}")
        import onnxruntime as ort

        options = session_options(self.intra_op_num_threads, self.graph_optimization)
        try:
            session = ort.InferenceSession(model.data, sess_options=options, providers=list(self._providers()))
        except Exception as err:
            raise ModelFileError(f"onnxruntime {ort.__version__} cannot load {model.info.path}: {err}") from err
        if self.device == "cuda" and session.get_providers()[0] != "CUDAExecutionProvider":
            raise BackendUnavailableError(
                f"{self.name}: onnxruntime fell back to {session.get_providers()} (the CUDA provider's libraries "
                "did not load: install the CUDA and cuDNN versions this onnxruntime-gpu was built for)")
        names = [i.name for i in session.get_inputs()]
        if names != list(model.info.input_names):
            raise ModelFileError(f"onnxruntime reads inputs {names} from {model.info.path}, "
                                 f"its metadata declares {list(model.info.input_names)}")
        return OnnxRuntimeSession(model.info, self.name, session)

