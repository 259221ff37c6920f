"""Backends by name and capability: which can run here, and the best of them.

Each backend is registered with a name, a probe (``available() -> (ok, reason)``, cheap, never
raising) and a constructor. :func:`choose` with no preference takes the first available backend in
this order, fastest first where each can run:

1. ``tensorrt``: a CUDA GPU, TensorRT 10 or newer and torch with CUDA;
2. ``torch-cuda``: torch with a CUDA GPU;
3. ``onnxruntime-cpu``: ONNX Runtime on the CPU, the default on a machine without a GPU;
4. ``torch-cpu``: the reference itself, slower, for when ONNX Runtime is not installed.

``onnxruntime-cuda`` is registered too but is chosen only by name: ONNX Runtime lists its CUDA
provider whenever the ``onnxruntime-gpu`` wheel is installed, whether or not the CUDA libraries
load, so a probe cannot promise it (the session checks when it starts).

A preference (one name, or names in order) is honoured or refused with the backend's reason; a
name nobody registered is refused with the list of those that are. :func:`list_backends` gives every
backend's status for a CLI. Probes run when asked, not at import: probing torch imports it (only
when it is installed), so a worker that must stay torch-free names ``onnxruntime-cpu``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from engines.runtime._probe import Availability
from engines.runtime.base import Backend
from engines.runtime.errors import BackendUnavailableError, UnknownBackendError

__all__ = [
    "BackendEntry",
    "BackendStatus",
    "BackendRegistry",
    "DEFAULT_ORDER",
    "default_registry",
    "register_backend",
    "list_backends",
    "choose",
    "create_backend",
]

#: The automatic order of :func:`choose` (module docstring).
DEFAULT_ORDER = ("tensorrt", "torch-cuda", "onnxruntime-cpu", "torch-cpu")


@dataclass(frozen=True)
class BackendEntry:
    """A registered backend: ``create(**options)`` builds it; ``auto``: part of the automatic choice."""

    name: str
    probe: Callable[[], Tuple[bool, str]]
    create: Callable[..., Backend]
    description: str
    auto: bool = True


@dataclass(frozen=True)
class BackendStatus:
    """One backend as :func:`list_backends` reports it."""

    name: str
    available: bool
    reason: str
    description: str
    auto: bool


class BackendRegistry:
    """Backends in preference order (the order they were registered in)."""

    def __init__(self, entries: Sequence[BackendEntry] = ()) -> None:
        self._entries: Dict[str, BackendEntry] = {}
        for entry in entries:
            self.register(entry)

    def register(self, entry: BackendEntry, *, replace: bool = False) -> None:
        if entry.name in self._entries and not replace:
            raise ValueError(f"a backend named {entry.name!r} is already registered; pass replace=True to change it")
        self._entries[entry.name] = entry

    def names(self) -> Tuple[str, ...]:
        return tuple(self._entries)

    def entry(self, name: str) -> BackendEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownBackendError(
                f"no backend named {name!r}; registered: {', '.join(self._entries) or 'none'}") from None

    def available(self, name: str) -> Availability:
        """The probe's answer for ``name``; a probe that raises counts as unavailable, with its error."""
        probe = self.entry(name).probe
        try:
            ok, reason = probe()
        except Exception as err:  # a broken driver or a half-installed package must not stop the choice
            return Availability(False, f"its probe failed: {type(err).__name__}: {err}")
        return Availability(bool(ok), str(reason))

    def statuses(self) -> List[BackendStatus]:
        out = []
        for entry in self._entries.values():
            ok, reason = self.available(entry.name)
            out.append(BackendStatus(entry.name, ok, reason, entry.description, entry.auto))
        return out

    def create(self, name: str, **options: Any) -> Backend:
        """Backend ``name`` built with ``options``, or :class:`BackendUnavailableError` with its reason."""
        entry = self.entry(name)
        ok, reason = self.available(name)
        if not ok:
            raise BackendUnavailableError(f"backend {name} cannot run here: {reason}")
        return entry.create(**options)

    def choose(self, preference: Union[None, str, Sequence[str]] = None, **options: Any) -> Backend:
        """The first available backend of ``preference`` (a name or names in order), or of the automatic
        order when None; ``options`` go to its constructor."""
        if isinstance(preference, str):
            return self.create(preference, **options)
        names = list(preference) if preference is not None else [e.name for e in self._entries.values() if e.auto]
        if not names:
            raise BackendUnavailableError("no backend to choose from")
        reasons = []
        for name in names:
            ok, reason = self.available(name)
            if ok:
                return self.entry(name).create(**options)
            reasons.append(f"{name}: {reason}")
        raise BackendUnavailableError("no backend can run here (" + "; ".join(reasons) + ")")


def _entries() -> List[BackendEntry]:
    from engines.runtime import onnxruntime_backend as ort_b
    from engines.runtime import tensorrt_backend as trt_b
    from engines.runtime import torch_backend as torch_b

    return [
        BackendEntry("tensorrt", trt_b.tensorrt_available, trt_b.TensorRTBackend,
                     "TensorRT engine built from the ONNX (FP16 where TensorRT 10 offers it), on a CUDA GPU"),
        BackendEntry("torch-cuda", torch_b.torch_cuda_available, lambda **o: torch_b.TorchBackend(device="cuda", **o),
                     "the torch module on a CUDA GPU"),
        BackendEntry("onnxruntime-cpu", ort_b.onnxruntime_cpu_available,
                     lambda **o: ort_b.OnnxRuntimeBackend(device="cpu", **o),
                     "ONNX Runtime on the CPU: one intra-op thread, no spinning"),
        BackendEntry("torch-cpu", torch_b.torch_cpu_available, lambda **o: torch_b.TorchBackend(device="cpu", **o),
                     "the torch module on the CPU (the parity reference)"),
        BackendEntry("onnxruntime-cuda", ort_b.onnxruntime_cuda_available,
                     lambda **o: ort_b.OnnxRuntimeBackend(device="cuda", **o),
                     "ONNX Runtime with its CUDA provider (chosen by name only)", auto=False),
    ]


_DEFAULT: Optional[BackendRegistry] = None


def default_registry() -> BackendRegistry:
    """The process's registry, holding Onset's backends in :data:`DEFAULT_ORDER`."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = BackendRegistry(_entries())
    return _DEFAULT


def register_backend(entry: BackendEntry, *, replace: bool = False) -> None:
    """Add a backend to the default registry (after Onset's own)."""
    default_registry().register(entry, replace=replace)


def list_backends() -> List[BackendStatus]:
    """Every registered backend with whether it can run here and why."""
    return default_registry().statuses()


def choose(preference: Union[None, str, Sequence[str]] = None, **options: Any) -> Backend:
    """The best available backend (module docstring), or the preferred one."""
    return default_registry().choose(preference, **options)


def create_backend(name: str, **options: Any) -> Backend:
    """Backend ``name`` with constructor ``options`` (``intra_op_num_threads=2``, ``precision="fp32"``, ...)."""
    return default_registry().create(name, **options)
