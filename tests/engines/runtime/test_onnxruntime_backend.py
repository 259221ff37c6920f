"""ONNX Runtime backend: one thread, no spinning, sequential; checked inputs; refusals with reasons."""

import numpy as np
import pytest

from engines.runtime import (
    BackendUnavailableError,
    InputSpecError,
    ModelFileError,
    OnnxRuntimeBackend,
    SessionClosedError,
)
from engines.runtime.onnxruntime_backend import onnxruntime_cuda_available, session_options
from tests.engines.runtime.nets import make_inputs

ort = pytest.importorskip("onnxruntime")


def test_the_cpu_session_runs_one_thread_without_spinning_in_sequence(tiny_model):
    with OnnxRuntimeBackend().load(tiny_model) as session:
        options = session.options
        assert session.providers == ["CPUExecutionProvider"]
    assert options.intra_op_num_threads == 1
    assert options.inter_op_num_threads == 1
    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.get_session_config_entry("session.inter_op.allow_spinning") == "0"


def test_the_thread_count_and_optimization_level_are_configurable(tiny_model):
    with OnnxRuntimeBackend(intra_op_num_threads=2, graph_optimization="basic").load(tiny_model) as session:
        assert session.options.intra_op_num_threads == 2
        assert session.options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    with pytest.raises(ValueError, match="intra_op_num_threads must be a positive integer"):
        session_options(0)
    with pytest.raises(ValueError, match="graph_optimization must be one of"):
        session_options(1, "fastest")


def test_a_run_returns_every_output_by_name_as_float32_arrays(tiny_model):
    with OnnxRuntimeBackend().load(tiny_model) as session:
        assert [s.name for s in session.input_specs] == ["frames", "valid"]
        assert session.output_names == ("logits", "distance_m")
        out = session.run(make_inputs())
        again = session.run(make_inputs())
    assert list(out) == ["logits", "distance_m"]
    assert out["logits"].shape == (1, 5) and out["logits"].dtype == np.float32
    assert out["distance_m"].shape == (1, 1) and float(out["distance_m"][0, 0]) > 0.0  # softplus
    for name in out:
        np.testing.assert_array_equal(out[name], again[name])


@pytest.mark.parametrize("change, message", [
    (lambda x: x.update(frames=x["frames"].astype(np.float64)),
     r"frames: expected float32 \(1, 4, 3, 16, 24\), got float64 \(1, 4, 3, 16, 24\)"),
    (lambda x: x.update(frames=x["frames"][..., :20].copy()),
     r"frames: expected float32 \(1, 4, 3, 16, 24\), got float32 \(1, 4, 3, 16, 20\)"),
    (lambda x: x.pop("valid"), r"valid: missing; expected float32 \(1, 4\)"),
    (lambda x: x.update(depth=np.zeros((1, 4), np.float32)), r"depth: not an input of this model \(it takes frames, valid\)"),
])
def test_bad_inputs_are_refused_before_onnxruntime_sees_them(tiny_model, change, message):
    inputs = make_inputs()
    change(inputs)
    with OnnxRuntimeBackend().load(tiny_model) as session, pytest.raises(InputSpecError, match=message):
        session.run(inputs)


def test_a_closed_session_refuses_to_run(tiny_model):
    session = OnnxRuntimeBackend().load(tiny_model)
    session.close()
    session.close()
    assert session.closed
    with pytest.raises(SessionClosedError, match="is closed"):
        session.run(make_inputs())


def test_a_damaged_file_is_refused_at_load(model_copy):
    model_copy.write_bytes(model_copy.read_bytes()[:-100])
    with pytest.raises(ModelFileError, match="copy.onnx"):
        OnnxRuntimeBackend().load(model_copy)


def test_the_device_must_be_cpu_or_cuda():
    with pytest.raises(ValueError, match="device must be 'cpu' or 'cuda'"):
        OnnxRuntimeBackend(device="gpu")


@pytest.mark.skipif(onnxruntime_cuda_available().ok, reason="onnxruntime's CUDA provider is installed here")
def test_the_cuda_provider_is_refused_where_onnxruntime_has_none(tiny_model):
    with pytest.raises(BackendUnavailableError, match="no CUDAExecutionProvider .install onnxruntime-gpu"):
        OnnxRuntimeBackend(device="cuda").load(tiny_model)
