"""Model files: a missing, damaged, foreign or mismatched file is refused with a message naming it."""

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from engines.runtime import ModelFileError, ModelHashError, ModelMismatchError, read_model
from engines.runtime.model_file import graph_sha256, weights_sha256
from tests.engines.runtime.nets import input_specs


def _edit(path, change):
    model = onnx.load(str(path))
    change(model)
    path.write_bytes(model.SerializeToString())


def _set_meta(model, key, value):
    for prop in model.metadata_props:
        if prop.key == key:
            prop.value = value
            return
    raise AssertionError(f"no metadata {key}")


def _identity_model(opset=17, dim=2, meta=None):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [dim, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [dim, 3])
    model = helper.make_model(helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    for key, value in (meta or {}).items():
        model.metadata_props.add(key=key, value=value)
    return model


def _onset_meta(shape):
    spec = [{"name": "x", "shape": shape, "dtype": "float32"}]
    return {"onset.format": "onset-model/1", "onset.model_name": "identity",
            "onset.model_sha256": weights_sha256(_identity_model()),
            "onset.graph_sha256": graph_sha256(_identity_model()), "onset.inputs": json.dumps(spec),
            "onset.outputs": json.dumps([dict(spec[0], name="y")])}


def test_the_exported_model_reads_back_with_its_declared_tensors(tiny_model):
    info = read_model(tiny_model, expected_inputs=input_specs()).info
    assert info.inputs == input_specs()
    assert info.output_names == ("logits", "distance_m")
    assert info.opset == 17 and len(info.model_sha256) == 64 and len(info.file_sha256) == 64


def test_a_missing_file_or_a_directory_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match=f"no model file at {tmp_path / 'nope.onnx'}"):
        read_model(tmp_path / "nope.onnx")
    with pytest.raises(ModelFileError, match="it is a directory"):
        read_model(tmp_path)


def test_an_empty_file_is_refused(tmp_path):
    (tmp_path / "e.onnx").write_bytes(b"")
    with pytest.raises(ModelFileError, match="is empty"):
        read_model(tmp_path / "e.onnx")


def test_a_truncated_file_is_refused(model_copy):
    data = model_copy.read_bytes()
    model_copy.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated or corrupt") as err:
        read_model(model_copy)
    assert str(model_copy) in str(err.value)


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "noise.onnx"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(ModelFileError, match="noise.onnx is not"):
        read_model(path)


def test_a_file_that_is_not_onnx_is_refused(tmp_path):
    path = tmp_path / "notes.onnx"
    path.write_bytes(b"these are the DIT's notes, not a model\n")
    with pytest.raises(ModelFileError, match="notes.onnx is not"):
        read_model(path)


def test_an_onnx_model_without_onset_metadata_is_refused(tmp_path):
    path = tmp_path / "foreign.onnx"
    path.write_bytes(_identity_model().SerializeToString())
    with pytest.raises(ModelFileError, match=r"has no Onset metadata \(onset.format\); export it with"):
        read_model(path)


def test_an_opset_older_than_17_is_refused(tmp_path):
    path = tmp_path / "old.onnx"
    path.write_bytes(_identity_model(opset=16, meta=_onset_meta([2, 3])).SerializeToString())
    with pytest.raises(ModelFileError, match="uses ONNX opset 16; Onset models use opset 17 or newer"):
        read_model(path)


def test_a_dynamic_dimension_is_refused(tmp_path):
    path = tmp_path / "dyn.onnx"
    path.write_bytes(_identity_model(dim="batch", meta=_onset_meta([2, 3])).SerializeToString())
    with pytest.raises(ModelFileError, match=r"input x has a dynamic dimension 0 \(batch\)"):
        read_model(path)


def test_another_format_version_is_refused(model_copy):
    _edit(model_copy, lambda m: _set_meta(m, "onset.format", "onset-model/2"))
    with pytest.raises(ModelFileError, match="is of format 'onset-model/2'; this runtime reads 'onset-model/1'"):
        read_model(model_copy)


def test_changed_weights_do_not_match_the_recorded_hash(model_copy):
    def bump_first_weight(model):
        init = max(model.graph.initializer, key=lambda t: numpy_helper.to_array(t).size)
        array = numpy_helper.to_array(init).copy()
        array.flat[0] += 0.5
        init.CopyFrom(numpy_helper.from_array(array, init.name))

    _edit(model_copy, bump_first_weight)
    with pytest.raises(ModelHashError, match="its weights hash to .* but its metadata records"):
        read_model(model_copy)


def test_a_changed_layer_attribute_does_not_match_the_recorded_graph_hash(model_copy):
    def other_padding(model):
        conv = next(n for n in model.graph.node if n.op_type == "Conv")
        pads = next(a for a in conv.attribute if a.name == "pads")
        pads.ints[:] = [0, 0, 2, 2]  # still a valid model of the same output shape: only the hash can tell

    _edit(model_copy, other_padding)
    with pytest.raises(ModelHashError, match="its graph hashes to .* but its metadata records"):
        read_model(model_copy)


def test_a_flipped_byte_anywhere_is_refused_or_changes_nothing_that_computes(tiny_model, tmp_path):
    from engines.runtime import OnnxRuntimeBackend
    from tests.engines.runtime.nets import make_inputs

    inputs = make_inputs()
    with OnnxRuntimeBackend().load(tiny_model) as session:
        expected = session.run(inputs)
    data = tiny_model.read_bytes()
    path = tmp_path / "flipped.onnx"
    refused = 0
    for offset in np.linspace(0, len(data) - 1, 120).astype(int):
        path.write_bytes(data[:offset] + bytes([data[offset] ^ 0x5A]) + data[offset + 1:])
        try:
            session = OnnxRuntimeBackend().load(path)
        except ModelFileError:
            refused += 1
            continue
        with session:
            got = session.run(inputs)
        for name, value in expected.items():
            np.testing.assert_array_equal(got[name], value, err_msg=f"byte {offset} changed {name} silently")
    assert refused > 100  # nearly every byte is weights or graph


def test_metadata_that_disagrees_with_the_graph_is_refused(model_copy):
    def other_shape(model):
        specs = [s.to_json() for s in input_specs((1, 4, 3, 20, 24))]
        _set_meta(model, "onset.inputs", json.dumps(specs))

    _edit(model_copy, other_shape)
    with pytest.raises(ModelFileError, match=r"its graph takes frames float32 \(1, 4, 3, 16, 24\).* but its "
                                             r"metadata declares frames float32 \(1, 4, 3, 20, 24\)"):
        read_model(model_copy)


def test_metadata_that_is_not_json_is_refused(model_copy):
    _edit(model_copy, lambda m: _set_meta(m, "onset.outputs", "[logits"))
    with pytest.raises(ModelFileError, match="metadata onset.outputs is not JSON"):
        read_model(model_copy)


def test_a_model_exported_for_other_shapes_is_refused_naming_both(tiny_model):
    expected = input_specs((1, 4, 3, 20, 24))
    with pytest.raises(ModelMismatchError) as err:
        read_model(tiny_model, expected_inputs=expected)
    assert ("frames: the engine feeds float32 (1, 4, 3, 20, 24), the model was exported for float32 (1, 4, 3, 16, 24)"
            in str(err.value))
