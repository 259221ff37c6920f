"""torch backend: the module built by its registered factory, weights from the checked state dict."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engines.runtime import (  # noqa: E402
    BackendUnavailableError,
    ModelFileError,
    ModelHashError,
    TorchBackend,
    register_torch_factory,
    unregister_torch_factory,
)
from engines.runtime.torch_backend import registered_torch_factories, torch_cuda_available  # noqa: E402
from tests.engines.runtime.nets import MODEL_NAME, TinyClipNet, make_inputs, make_net  # noqa: E402


def test_the_session_runs_the_registered_module_with_the_exported_weights(tiny_model):
    assert MODEL_NAME in registered_torch_factories()
    inputs = make_inputs()
    with TorchBackend().load(tiny_model) as session:
        out = session.run(inputs)
        assert session.precision == "fp32" and session.backend == "torch-cpu"
        assert not session.module.training
    with torch.inference_mode():
        direct = make_net()(**{k: torch.from_numpy(v) for k, v in inputs.items()})
    for name in ("logits", "distance_m"):
        np.testing.assert_array_equal(out[name], direct[name].numpy())


def test_read_only_inputs_are_copied_not_refused(tiny_model):
    inputs = make_inputs()
    for value in inputs.values():
        value.setflags(write=False)
    with TorchBackend().load(tiny_model) as session:
        assert session.run(inputs)["logits"].shape == (1, 5)


def test_an_explicit_factory_overrides_the_registry(tiny_model):
    built = []

    def factory(**config):
        built.append(config)
        return TinyClipNet(**config)

    with TorchBackend(factory=factory).load(tiny_model) as session:
        session.run(make_inputs())
    assert built == [{"classes": 5, "features": 8}]


def test_a_model_without_a_registered_factory_says_how_to_get_one(tiny_model):
    unregister_torch_factory(MODEL_NAME)
    try:
        with pytest.raises(ModelFileError, match=f"no torch factory is registered for model '{MODEL_NAME}'"):
            TorchBackend().load(tiny_model)
    finally:
        register_torch_factory(MODEL_NAME, TinyClipNet)


def test_registering_another_factory_under_a_taken_name_needs_replace():
    with pytest.raises(ValueError, match="already registered; pass replace=True"):
        register_torch_factory(MODEL_NAME, lambda **c: TinyClipNet(**c))


def test_a_missing_state_dict_is_refused(model_copy):
    model_copy.with_suffix(".pt").unlink()
    with pytest.raises(ModelFileError, match="no state dict at .*copy.pt"):
        TorchBackend().load(model_copy)


def test_a_state_dict_from_another_export_is_refused(model_copy):
    torch.save(make_net(seed=9).state_dict(), model_copy.with_suffix(".pt"))
    with pytest.raises(ModelHashError, match="the two files are not from one export"):
        TorchBackend().load(model_copy)


def test_a_corrupt_state_dict_is_refused(model_copy):
    model_copy.with_suffix(".pt").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ModelFileError, match="copy.pt is not a readable torch state dict"):
        TorchBackend().load(model_copy)


def test_a_factory_that_builds_another_shape_of_module_is_refused(tiny_model):
    with pytest.raises(ModelFileError, match="does not fit the module the factory"):
        TorchBackend(factory=lambda **c: TinyClipNet(features=4)).load(tiny_model)
    with pytest.raises(ModelFileError, match="cannot take the model's config"):
        TorchBackend(factory=lambda: TinyClipNet()).load(tiny_model)


@pytest.mark.skipif(torch_cuda_available().ok, reason="a CUDA GPU is visible here")
def test_torch_cuda_is_refused_with_its_reason_where_there_is_no_gpu(tiny_model):
    with pytest.raises(BackendUnavailableError, match="torch-cuda: torch .*(CPU-only build|sees no CUDA GPU)"):
        TorchBackend(device="cuda").load(tiny_model)
