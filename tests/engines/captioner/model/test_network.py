"""The network: outputs, the staged (live) path against forward, calibration inside forward, ONNX."""

import io

import numpy as np
import onnxruntime as ort
import pytest
import torch

from engines.captioner.inputs import MOVEMENT_CLASSES, SHOT_SIZE_CLASSES
from engines.captioner.model.errors import ModelInputError
from engines.captioner.model.network import (
    INPUT_NAME, INPUT_SHAPE, NETWORK_SIZES, OUTPUT_NAMES, CaptionerNet, NetworkConfig, build_network,
    network_config, parameter_count,
)


def _model(seed: int = 0) -> CaptionerNet:
    torch.manual_seed(seed)
    model = CaptionerNet(network_config("tiny"))
    model.train()
    with torch.no_grad():  # a few batches so the BatchNorm running statistics are not the defaults
        for _ in range(3):
            model(torch.rand(4, *INPUT_SHAPE))
    return model.eval()


def test_outputs_have_the_fixed_names_and_shapes():
    model = _model()
    out = model(torch.rand(3, *INPUT_SHAPE))
    assert tuple(out) == OUTPUT_NAMES
    assert out["shot_size_logits"].shape == (3, len(SHOT_SIZE_CLASSES)) == (3, 8)
    assert out["movement_logits"].shape == (3, len(MOVEMENT_CLASSES)) == (3, 15)
    for name in ("log_focal_mm", "log_focal_sigma", "log_distance_m", "log_distance_sigma"):
        assert out[name].shape == (3,)
        assert out[name].dtype == torch.float32
    assert bool((out["log_focal_sigma"] > 0).all()) and bool((out["log_distance_sigma"] > 0).all())


def test_sizes_grow_from_tiny_to_default():
    counts = [parameter_count(CaptionerNet(network_config(s))) for s in ("tiny", "small", "default")]
    assert counts == sorted(counts) and len(set(counts)) == 3
    with pytest.raises(ValueError, match="expected one of tiny, small, default"):
        network_config("huge")
    assert set(NETWORK_SIZES) == {"tiny", "small", "default"}


def test_staged_path_equals_forward():
    model = _model()
    frames = torch.rand(2, *INPUT_SHAPE)
    with torch.no_grad():
        whole = model(frames)
        features = model.encode_frames(frames.reshape(-1, *INPUT_SHAPE[1:])).reshape(2, 8, *model.feature_shape)
        staged = model.from_features(features)
        pairs = torch.stack([model.encode_pairs(features[:, k], features[:, k + 1]) for k in range(7)], dim=1)
        by_pairs = model.from_pairs(features[:, 7], pairs)
    for name in OUTPUT_NAMES:
        torch.testing.assert_close(staged[name], whole[name], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(by_pairs[name], whole[name], rtol=1e-5, atol=1e-5)


def test_frame_order_matters():
    """The clip is read oldest first: reversing it changes the movement head's answer."""
    model = _model()
    frames = torch.rand(1, *INPUT_SHAPE)
    frames[:, :, :, :, :64] *= torch.linspace(0.2, 1.0, 8).reshape(1, 8, 1, 1, 1)
    with torch.no_grad():
        forward = model(frames)["movement_logits"]
        backward = model(frames.flip(1))["movement_logits"]
    assert not torch.allclose(forward, backward)


def test_calibration_is_applied_inside_forward():
    model = _model()
    frames = torch.rand(2, *INPUT_SHAPE)
    with torch.no_grad():
        before = model(frames)
        model.set_calibration(2.0, 4.0, 3.0, 0.5)
        after = model(frames)
    torch.testing.assert_close(after["shot_size_logits"], before["shot_size_logits"] / 2.0)
    torch.testing.assert_close(after["movement_logits"], before["movement_logits"] / 4.0)
    torch.testing.assert_close(after["log_focal_sigma"], before["log_focal_sigma"] * 3.0)
    torch.testing.assert_close(after["log_distance_sigma"], before["log_distance_sigma"] * 0.5)
    torch.testing.assert_close(after["log_focal_mm"], before["log_focal_mm"])
    assert model.calibration() == {"shot_size_temperature": 2.0, "movement_temperature": 4.0,
                                   "log_focal_sigma_scale": 3.0, "log_distance_sigma_scale": 0.5}
    assert "head.shot_size_temperature" in model.state_dict()
    with pytest.raises(ValueError, match="movement_temperature must be finite and positive"):
        model.set_calibration(1.0, 0.0, 1.0, 1.0)


def test_target_stats_set_the_regression_centre():
    model = _model()
    frames = torch.rand(2, *INPUT_SHAPE)
    with torch.no_grad():
        before = model(frames)["log_focal_mm"]
        model.set_target_stats((np.log(50.0) + 1.0, 1.0), (np.log(3.0), 1.0))
        after = model(frames)["log_focal_mm"]
    torch.testing.assert_close(after, before + 1.0)


def test_wrong_input_shape_is_named():
    model = _model()
    with pytest.raises(ModelInputError, match=r"\(B, 8, 5, 72, 128\) float32"):
        model.check_input(torch.rand(1, 8, 5, 64, 64))
    with pytest.raises(ModelInputError, match="float64"):
        model.check_input(torch.rand(1, *INPUT_SHAPE, dtype=torch.float64))


def test_config_round_trip_and_unknown_keys():
    config = network_config("small")
    assert NetworkConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown keys \\['layers'\\]"):
        NetworkConfig.from_dict({**config.to_dict(), "layers": 3})


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_onnx_export_with_static_shapes_matches_torch():
    model = _model()
    model.set_calibration(1.7, 2.3, 1.5, 0.8)
    frames = torch.rand(1, *INPUT_SHAPE)
    buffer = io.BytesIO()
    torch.onnx.export(model, (frames,), buffer, input_names=[INPUT_NAME], output_names=list(OUTPUT_NAMES),
                      opset_version=17, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
    assert [i.shape for i in session.get_inputs()] == [[1, *INPUT_SHAPE]]
    assert [o.name for o in session.get_outputs()] == list(OUTPUT_NAMES)
    got = dict(zip(OUTPUT_NAMES, session.run(None, {INPUT_NAME: frames.numpy()})))
    with torch.no_grad():
        want = model(frames)
    for name in OUTPUT_NAMES:  # the temperatures and sigma scales travel in the export
        np.testing.assert_allclose(got[name], want[name].numpy(), rtol=1e-4, atol=1e-5)


def test_build_network_rebuilds_from_json_keywords():
    config = network_config("small")
    model = build_network(**config.to_dict())
    assert model.config == config
    assert parameter_count(model) == parameter_count(CaptionerNet(config))
