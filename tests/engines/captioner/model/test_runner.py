"""The frame-by-frame runner: each frame encoded once, the same outputs as the whole clip."""

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pytest
import torch

from engines.captioner.inputs import CLIP_FRAMES, frame_planes
from engines.captioner.model.errors import ModelInputError
from engines.captioner.model.network import INPUT_SHAPE, OUTPUT_NAMES, CaptionerNet, network_config
from engines.captioner.model.predict import drop_depth
from engines.captioner.model.runner import ClipRunner, predict_frames
from tests.engines.captioner.model.synthetic import synthetic_take


@pytest.fixture(scope="module")
def model() -> CaptionerNet:
    torch.manual_seed(2)
    m = CaptionerNet(network_config("tiny"))
    with torch.no_grad():  # running statistics that are not the defaults
        m.train()
        m(torch.rand(4, *INPUT_SHAPE))
    return m.eval()


def _clip(planes, end):
    """The clip ending at ``end``, padded at the front with the first frame (the runner's warm-up)."""
    idx = [max(0, end - k) for k in range(CLIP_FRAMES - 1, -1, -1)]
    return torch.from_numpy(np.stack([planes[i] for i in idx]))[None]


def test_runner_equals_the_model_on_each_clip(model):
    rng = np.random.default_rng(0)
    planes = [rng.random(INPUT_SHAPE[1:], dtype=np.float32) for _ in range(12)]
    runner = ClipRunner(model)
    calls = []
    original = model.encode_frames
    model.encode_frames = lambda x: calls.append(x.shape[0]) or original(x)
    try:
        for end, p in enumerate(planes):
            got = runner.push(p)
            with torch.no_grad():
                want = model(_clip(planes, end))
            for name in OUTPUT_NAMES:
                np.testing.assert_allclose(got[name], want[name][0].numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    finally:
        del model.encode_frames
    assert calls == [1] * len(planes)  # each frame encoded once, one at a time


def test_runner_without_depth_zeroes_the_depth_planes(model):
    rng = np.random.default_rng(1)
    planes = [rng.random(INPUT_SHAPE[1:], dtype=np.float32) for _ in range(3)]
    runner = ClipRunner(model, depth=False)
    for p in planes:
        got = runner.push(p)
    with torch.no_grad():
        want = model(drop_depth(_clip(planes, 2)))
    np.testing.assert_allclose(got["movement_logits"], want["movement_logits"][0].numpy(), rtol=1e-4, atol=1e-5)


def test_reset_starts_a_new_clip(model):
    rng = np.random.default_rng(2)
    a, b = rng.random(INPUT_SHAPE[1:], dtype=np.float32), rng.random(INPUT_SHAPE[1:], dtype=np.float32)
    runner = ClipRunner(model)
    first = runner.push(b)
    runner.reset()
    runner.push(a)
    runner.reset()
    assert np.array_equal(runner.push(b)["shot_size_logits"], first["shot_size_logits"])


def test_wrong_planes_are_refused(model):
    with pytest.raises(ModelInputError, match=r"\(5, 72, 128\) float32"):
        ClipRunner(model).push(np.zeros((5, 36, 64), np.float32))


@dataclass
class _Frame:
    frame_index: int
    t_ns: int
    timecode: Optional[str]
    rgb: np.ndarray
    depth_m: Optional[np.ndarray]


def test_predict_frames_takes_tuples_and_take_frames(model):
    take = synthetic_take([("MS", "static", 6), ("CU", "pan_left", 6)], seed=1)
    from_tuples = predict_frames(model, take)
    from_objects = predict_frames(model, [_Frame(*t) for t in take])
    assert [p.frame_index for p in from_tuples] == list(range(12))
    assert from_tuples[5].timecode == "01:00:00:05"
    for a, b in zip(from_tuples, from_objects):
        assert np.array_equal(a.shot_size_probs, b.shot_size_probs) and a.focal_mm == b.focal_mm
    assert from_tuples[0].shot_size_probs.sum() == pytest.approx(1.0)
    # the outputs are the model's on the clip ending at each frame
    planes = [frame_planes(t[3], t[4]) for t in take]
    with torch.no_grad():
        want = model(_clip(planes, 9))
    assert from_tuples[9].focal_mm == pytest.approx(float(torch.exp(want["log_focal_mm"][0])), rel=1e-4)


def test_predict_frames_refuses_frames_out_of_order(model):
    take = synthetic_take([("MS", "static", 3)])
    with pytest.raises(ModelInputError, match="in order: frame 0 after frame 2"):
        predict_frames(model, take + take[:1])
    with pytest.raises(ModelInputError, match="frame_index, t_ns, timecode, rgb and depth_m"):
        predict_frames(model, [(0, 0)])
