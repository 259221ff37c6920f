"""Runtime tests: one small exported model shared by the module's tests, torch on one thread."""

from __future__ import annotations

from pathlib import Path

import pytest

try:
    import torch
except ImportError:  # the tests that need torch skip themselves
    torch = None
else:
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """The test net exported to ONNX (with its state dict), its torch factory registered."""
    if torch is None:
        pytest.skip("torch is not installed")
    from engines.runtime import register_torch_factory
    from tests.engines.runtime.nets import MODEL_NAME, TinyClipNet, export_net, make_net

    register_torch_factory(MODEL_NAME, TinyClipNet, replace=True)
    path = tmp_path_factory.mktemp("model") / "tiny.onnx"
    export_net(path, make_net())
    return path


@pytest.fixture()
def model_copy(tiny_model, tmp_path) -> Path:
    """A copy of the exported model and its state dict that a test may damage."""
    import shutil

    dst = tmp_path / "copy.onnx"
    shutil.copyfile(tiny_model, dst)
    shutil.copyfile(tiny_model.with_suffix(".pt"), dst.with_suffix(".pt"))
    return dst
