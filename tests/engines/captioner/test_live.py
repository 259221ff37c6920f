"""The live captioner: the staged model equals the clip model, clips at 12 Hz, labels on every frame."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engines.captioner.export import STAGE_FILES, export_captioner  # noqa: E402
from engines.captioner.inputs import CLIP_FRAMES, SHOT_SIZE_CLASSES, frame_planes  # noqa: E402
from engines.captioner.live import CaptionerEngine, StagedCaptioner, open_captioner  # noqa: E402
from engines.captioner.model.checkpoint import save_checkpoint  # noqa: E402
from engines.captioner.model.network import CaptionerNet, network_config  # noqa: E402
from engines.runtime import OnnxRuntimeBackend  # noqa: E402
from engines.worker import FrameRejected  # noqa: E402
from tests.edge.stream.frames import make_frame  # noqa: E402

FRAME_NS = 41_666_667  # 24 fps


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    torch.manual_seed(3)
    net = CaptionerNet(network_config("tiny"))
    with torch.no_grad():  # non-trivial batch-norm statistics, so the stages must carry them
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
    net.eval()
    folder = tmp_path_factory.mktemp("captioner")
    save_checkpoint(folder / "model.onsetcap", net)
    export_captioner(folder / "model.onsetcap", folder / "export")
    return folder / "export"


def _frames(n, seed=0, step_ns=FRAME_NS):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        f = make_frame(i, seed=int(rng.integers(1 << 30)))
        out.append(dataclasses.replace(f, t_ns=f.t_ns - i * 41_708_333 + i * step_ns))
    return out


def test_the_export_writes_every_stage_and_a_card(export_dir):
    assert sorted(p.name for p in export_dir.iterdir()) == sorted(list(STAGE_FILES.values()) + ["card.json"]
                                                                  + [n.replace(".onnx", ".pt") for n in STAGE_FILES.values()])


def test_the_staged_model_gives_the_clip_models_outputs(export_dir):
    staged = open_captioner(export_dir, backend="onnxruntime-cpu")
    clip = OnnxRuntimeBackend().load(export_dir / STAGE_FILES["clip"])
    planes = [frame_planes(f.rgb, f.depth_m) for f in _frames(CLIP_FRAMES + 3)]
    for n, p in enumerate(planes, start=1):
        outputs = staged.push(p)
        window = planes[max(0, n - CLIP_FRAMES):n]
        window = [window[0]] * (CLIP_FRAMES - len(window)) + window   # a young clip repeats its first frame
        reference = clip.run({"frames": np.stack(window)[None]})
        for name, value in reference.items():
            np.testing.assert_allclose(outputs[name], value, atol=2e-4, rtol=1e-3, err_msg=f"{name} at frame {n}")
    staged.close()


def test_the_engine_labels_every_frame_and_runs_the_model_at_the_clip_rate(export_dir):
    engine = CaptionerEngine(open_captioner(export_dir, backend="onnxruntime-cpu"))
    results = [engine.process(f) for f in _frames(9)]
    assert engine.model.clips == 5            # 24 fps frames, a clip frame every 1/12 s
    ends = [r["model"]["clip_end_frame"] for r in results]
    assert ends == [0, 0, 2, 2, 4, 4, 6, 6, 8]
    last = results[-1]
    assert last["model"]["shot_size"]["class"] in SHOT_SIZE_CLASSES
    assert 0 < last["model"]["shot_size"]["confidence"] <= 1
    f = last["model"]["focal_35mm"]
    assert f["low"] < f["value"] < f["high"] and f["unit"] == "mm"
    assert last["labels"]["focal_length_mm"] == pytest.approx(35.0)


def test_a_gap_in_the_frames_starts_a_new_clip(export_dir):
    model = open_captioner(export_dir, backend="onnxruntime-cpu")
    engine = CaptionerEngine(model)
    frames = _frames(4, step_ns=100_000_000)
    late = dataclasses.replace(frames[-1], t_ns=frames[-1].t_ns + 2_000_000_000)
    for f in frames:
        engine.process(f)
    resets = []
    real_reset = model.reset
    model.reset = lambda: (resets.append(1), real_reset())
    engine.process(late)
    assert resets == [1]


def test_a_frame_the_model_cannot_take_is_rejected_and_the_next_one_is_served(export_dir):
    engine = CaptionerEngine(open_captioner(export_dir, backend="onnxruntime-cpu"))
    small = make_frame(0, height_px=100, width_px=200)
    with pytest.raises(FrameRejected, match="640x360"):
        engine.process(small)
    assert engine.process(_frames(1)[0])["model"]["clip_end_frame"] == 0


def test_without_a_model_the_labels_still_go_out_and_the_model_says_why():
    engine = CaptionerEngine(None, model_missing="captioner model file is corrupt")
    result = engine.process(_frames(1)[0])
    assert result["model"] == {"missing": "captioner model file is corrupt"}
    assert result["labels"]["focal_length_mm"] == pytest.approx(35.0)


def test_an_export_directory_without_its_stages_is_refused_with_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="onset engines export captioner"):
        open_captioner(tmp_path)


def test_staged_needs_every_stage():
    with pytest.raises(ValueError, match="missing"):
        StagedCaptioner({"encoder": object()})
