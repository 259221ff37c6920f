"""Input checks: every mismatch named with what was expected, nothing cast silently."""

import numpy as np
import pytest

from engines.runtime import InputSpecError, ModelMismatchError, TensorSpec, check_inputs
from engines.runtime.errors import BackendFailure
from engines.runtime.specs import check_expected_inputs, check_outputs

FRAMES = TensorSpec("frames", (1, 8, 5, 72, 128), "float32")
VALID = TensorSpec("valid", (1, 8), np.float32)
SPECS = (FRAMES, VALID)


def _good():
    return {"frames": np.zeros(FRAMES.shape, np.float32), "valid": np.ones(VALID.shape, np.float32)}


def test_a_spec_normalizes_its_dtype_and_describes_itself_as_dtype_and_shape():
    assert VALID.dtype == "float32"
    assert FRAMES.describe() == "float32 (1, 8, 5, 72, 128)"
    assert TensorSpec.from_json(FRAMES.to_json()) == FRAMES


def test_matching_inputs_come_back_in_the_model_order():
    inputs = _good()
    checked = check_inputs(SPECS, {"valid": inputs["valid"], "frames": inputs["frames"]})
    assert list(checked) == ["frames", "valid"]
    assert checked["frames"] is inputs["frames"]


def test_wrong_dtype_and_shape_are_named_with_what_was_expected():
    inputs = _good()
    inputs["frames"] = np.zeros((1, 8, 5, 64, 128), np.float64)
    with pytest.raises(InputSpecError) as err:
        check_inputs(SPECS, inputs)
    assert str(err.value) == "frames: expected float32 (1, 8, 5, 72, 128), got float64 (1, 8, 5, 64, 128)"


def test_a_float64_array_of_the_right_shape_is_refused_not_cast():
    inputs = _good()
    inputs["valid"] = inputs["valid"].astype(np.float64)
    with pytest.raises(InputSpecError, match=r"valid: expected float32 \(1, 8\), got float64 \(1, 8\)"):
        check_inputs(SPECS, inputs)


def test_missing_and_extra_names_are_all_reported_at_once():
    inputs = _good()
    del inputs["valid"]
    inputs["depth"] = np.zeros((1, 8), np.float32)
    with pytest.raises(InputSpecError) as err:
        check_inputs(SPECS, inputs)
    message = str(err.value)
    assert "valid: missing; expected float32 (1, 8)" in message
    assert "depth: not an input of this model (it takes frames, valid)" in message


def test_a_list_instead_of_an_array_and_a_list_instead_of_a_mapping_are_refused():
    inputs = _good()
    inputs["valid"] = [[1.0] * 8]
    with pytest.raises(InputSpecError, match="valid: expected float32 \\(1, 8\\), got a list, not a numpy array"):
        check_inputs(SPECS, inputs)
    with pytest.raises(InputSpecError, match="must be a mapping of input name to numpy array"):
        check_inputs(SPECS, [inputs["frames"]])


def test_outputs_missing_or_misshapen_are_the_backends_fault():
    out_spec = (TensorSpec("logits", (1, 5), "float32"),)
    with pytest.raises(BackendFailure, match="logits: not returned"):
        check_outputs(out_spec, {}, "fake")
    with pytest.raises(BackendFailure, match=r"logits: expected float32 \(1, 5\), got float32 \(5,\)"):
        check_outputs(out_spec, {"logits": np.zeros(5, np.float32)}, "fake")


def test_a_model_for_other_shapes_is_refused_with_both_shapes():
    exported = (TensorSpec("frames", (1, 8, 5, 64, 128), "float32"), VALID)
    with pytest.raises(ModelMismatchError) as err:
        check_expected_inputs("m.onnx", exported, SPECS)
    assert ("frames: the engine feeds float32 (1, 8, 5, 72, 128), the model was exported for "
            "float32 (1, 8, 5, 64, 128)") in str(err.value)
    check_expected_inputs("m.onnx", SPECS, SPECS)


def test_a_model_with_other_input_names_or_order_is_refused():
    with pytest.raises(ModelMismatchError, match="depth: the model has no such input"):
        check_expected_inputs("m.onnx", SPECS, (FRAMES, TensorSpec("depth", (1, 8), "float32")))
    with pytest.raises(ModelMismatchError, match="the model also takes valid"):
        check_expected_inputs("m.onnx", SPECS, (FRAMES,))
    with pytest.raises(ModelMismatchError, match="another order"):
        check_expected_inputs("m.onnx", SPECS, (VALID, FRAMES))
