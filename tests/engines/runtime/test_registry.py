"""Registry: backends by name and capability, chosen in the documented order, refusals with reasons."""

import pytest

from engines.runtime import (
    DEFAULT_ORDER,
    Backend,
    BackendEntry,
    BackendRegistry,
    BackendUnavailableError,
    UnknownBackendError,
    choose,
    create_backend,
    default_registry,
    list_backends,
)


class _Fake(Backend):
    def __init__(self, name, **options):
        self.name = name
        self.options = options

    def _open(self, model):
        raise NotImplementedError


def _registry(availability, auto_off=()):
    def probe(name):
        def run():
            ok = availability[name]
            if ok is None:
                raise RuntimeError("driver exploded")
            return ok, f"{name} {'here' if ok else 'absent'}"
        return run

    return BackendRegistry([BackendEntry(n, probe(n), lambda n=n, **o: _Fake(n, **o), f"fake {n}", n not in auto_off)
                            for n in availability])


def test_the_first_available_backend_in_order_is_chosen():
    reg = _registry({"tensorrt": False, "torch-cuda": True, "onnxruntime-cpu": True, "torch-cpu": True})
    assert reg.choose().name == "torch-cuda"
    reg = _registry({"tensorrt": False, "torch-cuda": False, "onnxruntime-cpu": True, "torch-cpu": True})
    assert reg.choose().name == "onnxruntime-cpu"
    reg = _registry({"tensorrt": True, "torch-cuda": True, "onnxruntime-cpu": True, "torch-cpu": True})
    assert reg.choose().name == "tensorrt"


def test_a_backend_outside_the_automatic_order_is_chosen_only_by_name():
    reg = _registry({"onnxruntime-cuda": True, "onnxruntime-cpu": True}, auto_off={"onnxruntime-cuda"})
    assert reg.choose().name == "onnxruntime-cpu"
    assert reg.choose("onnxruntime-cuda").name == "onnxruntime-cuda"


def test_a_preference_is_honoured_or_refused_with_its_reason():
    reg = _registry({"tensorrt": False, "onnxruntime-cpu": True, "torch-cpu": True})
    assert reg.choose("torch-cpu").name == "torch-cpu"
    assert reg.choose(["tensorrt", "torch-cpu", "onnxruntime-cpu"]).name == "torch-cpu"
    with pytest.raises(BackendUnavailableError, match="backend tensorrt cannot run here: tensorrt absent"):
        reg.choose("tensorrt")


def test_options_reach_the_backend():
    reg = _registry({"onnxruntime-cpu": True})
    assert reg.choose(intra_op_num_threads=2).options == {"intra_op_num_threads": 2}


def test_nothing_available_lists_every_reason_and_an_unknown_name_lists_the_known():
    reg = _registry({"tensorrt": False, "torch-cpu": False})
    with pytest.raises(BackendUnavailableError, match="tensorrt: tensorrt absent; torch-cpu: torch-cpu absent"):
        reg.choose()
    with pytest.raises(UnknownBackendError, match="no backend named 'tpu'; registered: tensorrt, torch-cpu"):
        reg.choose("tpu")


def test_a_probe_that_raises_counts_as_unavailable_and_does_not_stop_the_choice():
    reg = _registry({"tensorrt": None, "onnxruntime-cpu": True})
    assert reg.available("tensorrt") == (False, "its probe failed: RuntimeError: driver exploded")
    assert reg.choose().name == "onnxruntime-cpu"


def test_a_name_cannot_be_registered_twice_without_replace():
    reg = _registry({"torch-cpu": True})
    entry = BackendEntry("torch-cpu", lambda: (True, ""), lambda **o: _Fake("x"), "again")
    with pytest.raises(ValueError, match="already registered"):
        reg.register(entry)
    reg.register(entry, replace=True)
    assert reg.choose().name == "x"


def test_the_default_registry_holds_onsets_backends_in_the_documented_order():
    assert DEFAULT_ORDER == ("tensorrt", "torch-cuda", "onnxruntime-cpu", "torch-cpu")
    assert default_registry().names() == DEFAULT_ORDER + ("onnxruntime-cuda",)
    statuses = list_backends()
    assert [s.name for s in statuses] == list(default_registry().names())
    assert all(s.reason for s in statuses)
    assert [s.name for s in statuses if not s.auto] == ["onnxruntime-cuda"]


def test_the_default_choice_here_is_the_first_available_in_the_documented_order():
    first = next(s.name for s in list_backends() if s.available and s.auto)
    assert choose().name == first
    if not default_registry().available("tensorrt").ok and not default_registry().available("torch-cuda").ok:
        assert first == "onnxruntime-cpu"


def test_create_backend_passes_options_and_refuses_an_unavailable_one():
    backend = create_backend("onnxruntime-cpu", intra_op_num_threads=3)
    assert backend.name == "onnxruntime-cpu" and backend.intra_op_num_threads == 3
    status = {s.name: s for s in list_backends()}["tensorrt"]
    if not status.available:
        with pytest.raises(BackendUnavailableError, match="backend tensorrt cannot run here"):
            create_backend("tensorrt")
