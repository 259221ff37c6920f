"""torch backend: the model's own Python module, on the CPU or CUDA, in inference mode.

This is the reference every other backend is checked against (``engines/runtime/parity.py``): it
runs the code the model was trained with, not a traced copy of it. A model file is the ONNX plus,
for this backend, two things found from it:

* **the module's class**: a factory registered under the model's name (``onset.model_name``) with
  :func:`register_torch_factory`, called with the model's ``onset.config`` as keyword arguments.
  An engine registers its factory where it defines its model (``register_torch_factory("captioner",
  CaptionerNet)``), so importing the engine's model module is what makes its files loadable here.
  Factories are registered in code, never named by the file, so a model file cannot make this
  backend import or call anything;
* **the weights**: the state dict beside the file (``model.onnx`` -> ``model.pt``, written by the
  export), loaded with ``torch.load(weights_only=True)``, checked against
  ``onset.state_dict_sha256`` and loaded strictly (a missing or extra key is an error).

A factory can also be passed to :class:`TorchBackend` directly (tests, one-off tools). Threads:
the session leaves torch's process-wide thread count as the caller set it.

On CUDA, cuDNN convolutions use TF32 unless ``torch.backends.cudnn.allow_tf32`` is turned off; the
session's ``precision`` reports ``tf32`` then, and parity allows for it. The CUDA path is not
exercised on a machine without an NVIDIA GPU.

torch is imported when a model is loaded, not when this module is.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import numpy as np

from engines.runtime._probe import TORCH_MISSING, Availability, installed, torch_cuda
from engines.runtime.base import Backend, Session
from engines.runtime.errors import BackendFailure, BackendUnavailableError, ModelFileError, ModelHashError
from engines.runtime.model_file import ModelFile, ModelInfo, state_dict_path

__all__ = [
    "TorchBackend",
    "TorchSession",
    "ModuleFactory",
    "register_torch_factory",
    "unregister_torch_factory",
    "torch_factory",
    "registered_torch_factories",
    "torch_cpu_available",
    "torch_cuda_available",
]

#: Builds the (untrained) module from the model's ``onset.config`` keyword arguments.
ModuleFactory = Callable[..., Any]

_FACTORIES: Dict[str, ModuleFactory] = {}


def register_torch_factory(model_name: str, factory: ModuleFactory, *, replace: bool = False) -> None:
    """Make models named ``model_name`` loadable by the torch backend, built by ``factory(**config)``."""
    if not callable(factory):
        raise TypeError(f"the factory for {model_name!r} must be callable, got {type(factory).__name__}")
    if model_name in _FACTORIES and _FACTORIES[model_name] is not factory and not replace:
        raise ValueError(f"a torch factory for {model_name!r} is already registered; pass replace=True to change it")
    _FACTORIES[model_name] = factory


def unregister_torch_factory(model_name: str) -> None:
    _FACTORIES.pop(model_name, None)


def registered_torch_factories() -> Tuple[str, ...]:
    return tuple(sorted(_FACTORIES))


def torch_factory(model_name: str) -> ModuleFactory:
    """The factory registered for ``model_name``, or a :class:`ModelFileError` saying how to get one."""
    try:
        return _FACTORIES[model_name]
    except KeyError:
        known = ", ".join(registered_torch_factories()) or "none"
        raise ModelFileError(
            f"no torch factory is registered for model {model_name!r} (registered: {known}); import the module "
            "that defines the model (it calls engines.runtime.register_torch_factory)") from None


def torch_cpu_available() -> Availability:
    if not installed("torch"):
        return Availability(False, TORCH_MISSING)
    import torch

    return Availability(True, f"torch {torch.__version__} on the CPU")


def torch_cuda_available() -> Availability:
    return torch_cuda()


def _to_numpy_outputs(result: Any, model: ModelInfo) -> Dict[str, np.ndarray]:
    import torch

    if isinstance(result, Mapping):
        items = dict(result)
    elif isinstance(result, torch.Tensor):
        items = dict(zip(model.output_names, (result,)))
    elif isinstance(result, (tuple, list)):
        items = dict(zip(model.output_names, result))
    else:
        raise BackendFailure(f"the torch module of {model.name} returned a {type(result).__name__}; "
                             "expected a dict of tensors, a tensor or a tuple")
    out = {}
    for name, value in items.items():
        if not isinstance(value, torch.Tensor):
            raise BackendFailure(f"the torch module of {model.name} returned {type(value).__name__} for {name}")
        out[name] = value.detach().to("cpu").numpy()
    return out


class TorchSession(Session):
    """A module in eval mode on one device."""

    def __init__(self, model: ModelInfo, backend: str, module: Any, device: Any, precision: str) -> None:
        super().__init__(model, backend, precision)
        self._module = module
        self._device = device

    @property
    def module(self) -> Any:
        return self._module

    def _run(self, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        import torch

        tensors = {}
        for name, array in feeds.items():
            # torch.from_numpy shares memory and wants a writable, positively strided array.
            if not array.flags.writeable or any(s < 0 for s in array.strides):
                array = np.array(array, copy=True)
            tensors[name] = torch.from_numpy(array).to(self._device)
        try:
            with torch.inference_mode():
                result = self._module(**tensors)
        except Exception as err:
            raise BackendFailure(f"the torch module of {self.model.name} failed on {self._device}: {err}") from err
        return _to_numpy_outputs(result, self.model)

    def _close(self) -> None:
        self._module = None


class TorchBackend(Backend):
    """torch on ``device`` ``"cpu"`` (registry name ``torch-cpu``) or ``"cuda"`` / ``"cuda:N"`` (``torch-cuda``)."""

    name = "torch-cpu"

    def __init__(self, device: str = "cpu", factory: Optional[ModuleFactory] = None) -> None:
        if not (device == "cpu" or device == "cuda" or device.startswith("cuda:")):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
        self.device = device
        self.factory = factory
        self.name = "torch-cpu" if device == "cpu" else "torch-cuda"

    def _open(self, model: ModelFile) -> TorchSession:
        probe = torch_cpu_available() if self.device == "cpu" else torch_cuda_available()
        if not probe.ok:
            raise BackendUnavailableError(f"{self.name}: {probe.reason}")
        import torch

        from engines.runtime.export import state_dict_sha256

        info = model.info
        factory = self.factory or torch_factory(info.name)
        weights = state_dict_path(info.path)
        if not info.state_dict_sha256:
            raise ModelFileError(f"{info.path} was exported without a state dict; the torch backend needs {weights}")
        if not weights.is_file():
            raise ModelFileError(f"no state dict at {weights}; the torch backend loads {info.name}'s weights from it")
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
        except Exception as err:
            raise ModelFileError(f"{weights} is not a readable torch state dict: {err}") from err
        if not isinstance(state, Mapping):
            raise ModelFileError(f"{weights} holds a {type(state).__name__}, not a state dict")
        actual = state_dict_sha256(state)
        if actual != info.state_dict_sha256:
            raise ModelHashError(f"{weights}: its tensors hash to {actual[:16]}… but {info.path} records "
                                 f"{info.state_dict_sha256[:16]}…; the two files are not from one export")
        try:
            module = factory(**info.config)
        except TypeError as err:
            raise ModelFileError(f"the torch factory for {info.name} cannot take the model's config "
                                 f"{info.config}: {err}") from err
        if not isinstance(module, torch.nn.Module):
            raise ModelFileError(f"the torch factory for {info.name} returned a {type(module).__name__}, not a module")
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise ModelFileError(f"{weights} does not fit the module the factory for {info.name} builds: {err}") from err
        device = torch.device(self.device)
        module = module.eval().to(device)
        precision = "fp32"
        if device.type == "cuda" and (torch.backends.cudnn.allow_tf32 or torch.backends.cuda.matmul.allow_tf32):
            precision = "tf32"
        return TorchSession(info, self.name, module, device, precision)
