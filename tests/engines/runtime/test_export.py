"""ONNX export: static shapes, opset 17, named tensors, metadata, deterministic bytes, clear refusals."""

import json

import numpy as np
import onnx
import pytest

torch = pytest.importorskip("torch")

from engines.runtime import DEFAULT_OPSET, ExportError, export_onnx, read_model  # noqa: E402
from engines.runtime.export import state_dict_sha256  # noqa: E402
from engines.runtime.model_file import weights_sha256  # noqa: E402
from tests.engines.runtime.nets import FRAMES_SHAPE, MODEL_NAME, export_net, make_inputs, make_net  # noqa: E402


def _meta(path):
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def test_the_export_is_opset_17_with_static_named_inputs_and_outputs(tiny_model):
    model = onnx.load(str(tiny_model))
    assert DEFAULT_OPSET == 17
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [17]
    assert [i.name for i in model.graph.input] == ["frames", "valid"]
    assert [o.name for o in model.graph.output] == ["logits", "distance_m"]  # the dict's keys, in its order
    dims = [[d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input]
    assert dims == [list(FRAMES_SHAPE), list(FRAMES_SHAPE[:2])]
    assert all(not d.dim_param for v in model.graph.input for d in v.type.tensor_type.shape.dim)
    onnx.checker.check_model(model, full_check=True)


def test_the_metadata_names_the_model_its_hashes_tensors_and_versions(tiny_model):
    meta = _meta(tiny_model)
    assert meta["onset.format"] == "onset-model/1"
    assert meta["onset.model_name"] == MODEL_NAME
    assert meta["onset.model_sha256"] == weights_sha256(onnx.load(str(tiny_model)))
    assert json.loads(meta["onset.inputs"]) == [
        {"name": "frames", "shape": list(FRAMES_SHAPE), "dtype": "float32"},
        {"name": "valid", "shape": list(FRAMES_SHAPE[:2]), "dtype": "float32"},
    ]
    assert [o["name"] for o in json.loads(meta["onset.outputs"])] == ["logits", "distance_m"]
    assert json.loads(meta["onset.config"]) == {"classes": 5, "features": 8}
    versions = json.loads(meta["onset.versions"])
    assert versions["torch"] == torch.__version__ and versions["onnx"] == onnx.__version__
    state = torch.load(tiny_model.with_suffix(".pt"), weights_only=True)
    assert meta["onset.state_dict_sha256"] == state_dict_sha256(state) == state_dict_sha256(make_net().state_dict())


def test_exporting_the_same_weights_twice_gives_the_same_bytes(tmp_path):
    export_net(tmp_path / "a.onnx", make_net(seed=3))
    export_net(tmp_path / "b.onnx", make_net(seed=3))
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()
    export_net(tmp_path / "c.onnx", make_net(seed=4))
    assert _meta(tmp_path / "a.onnx")["onset.model_sha256"] != _meta(tmp_path / "c.onnx")["onset.model_sha256"]


def test_the_export_leaves_the_module_in_the_mode_it_found_it(tmp_path):
    net = make_net().train()
    export_net(tmp_path / "m.onnx", net)
    assert net.training
    assert read_model(tmp_path / "m.onnx").info.name == MODEL_NAME


class _OneTensor(torch.nn.Module):
    def forward(self, x):
        return x * 2.0


class _Pair(torch.nn.Module):
    def forward(self, x):
        return x + 1.0, x - 1.0


class _IgnoresDepth(torch.nn.Module):
    def forward(self, frames, depth):
        return {"y": frames * 3.0}


def test_a_single_tensor_output_is_named_output_and_a_tuple_takes_given_names(tmp_path):
    x = {"x": torch.ones(2, 3)}
    info = export_onnx(_OneTensor(), x, tmp_path / "one.onnx", model_name="one", save_state_dict=False)
    assert info.output_names == ("output",)
    info = export_onnx(_Pair(), x, tmp_path / "pair.onnx", model_name="pair", output_names=["up", "down"])
    assert info.output_names == ("up", "down")
    with pytest.raises(ExportError, match="returns 2 tensors; give output_names with 2 names"):
        export_onnx(_Pair(), x, tmp_path / "bad.onnx", model_name="pair")


def test_an_input_the_module_does_not_use_is_refused_by_name(tmp_path):
    inputs = {"frames": torch.ones(1, 3), "depth": torch.ones(1, 3)}
    with pytest.raises(ExportError, match="depth is not used by the module's outputs"):
        export_onnx(_IgnoresDepth(), inputs, tmp_path / "m.onnx", model_name="m")
    assert not (tmp_path / "m.onnx").exists()


def test_inputs_named_unlike_forwards_arguments_are_refused(tmp_path):
    inputs = make_inputs()
    inputs["clip"] = inputs.pop("frames")
    with pytest.raises(ExportError, match=r"TinyClipNet.forward\(frames, valid\) cannot take inputs named valid, clip"):
        export_onnx(make_net(), inputs, tmp_path / "m.onnx", model_name=MODEL_NAME)


@pytest.mark.parametrize("opset", [16, 21, "17"])
def test_an_opset_outside_17_to_20_is_refused(tmp_path, opset):
    with pytest.raises(ExportError, match="opset must be an integer from 17 to 20"):
        export_onnx(make_net(), make_inputs(), tmp_path / "m.onnx", model_name=MODEL_NAME, opset=opset)


def test_bad_arguments_are_refused_before_tracing(tmp_path):
    with pytest.raises(ExportError, match="model_name must be a non-empty string"):
        export_onnx(make_net(), make_inputs(), tmp_path / "m.onnx", model_name=" ")
    with pytest.raises(ExportError, match="config must be JSON-serializable"):
        export_onnx(make_net(), make_inputs(), tmp_path / "m.onnx", model_name="m", config={"f": object()})
    with pytest.raises(ExportError, match="example input frames is a list"):
        export_onnx(make_net(), {"frames": [1.0], "valid": np.ones((1, 4), np.float32)}, tmp_path / "m.onnx",
                    model_name="m")
    with pytest.raises(ExportError, match="module must be a torch.nn.Module"):
        export_onnx(lambda x: x, make_inputs(), tmp_path / "m.onnx", model_name="m")

