"""ClipDataset: the model's clips from the shards, never across a shot, labels of the newest frame."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engines.captioner.dataset import ClipDataset  # noqa: E402
from engines.captioner.dataset import torch_dataset  # noqa: E402
from engines.captioner.dataset.reader import iter_samples  # noqa: E402
from engines.captioner.dataset.torch_dataset import clip_positions  # noqa: E402
from engines.captioner.inputs import CLIP_FRAMES, MOVEMENT_CLASSES, SHOT_SIZE_CLASSES, frame_planes  # noqa: E402
from engines.captioner.dataset.png import decode_depth_png, decode_rgb_png  # noqa: E402

ROOT = Path(__file__).resolve().parents[4]


def _stored(root: Path, split: str):
    """Every sample of the split in stored order, read by the reader (not the dataset under test)."""
    return list(iter_samples(root, split))


def test_clip_positions_pad_with_the_shots_first_frame():
    starts = np.array([0, 0, 0, 3, 3, 3, 3])
    assert clip_positions(starts, 2, 4) == [0, 0, 1, 2]
    assert clip_positions(starts, 3, 4) == [3, 3, 3, 3]
    assert clip_positions(starts, 6, 4) == [3, 4, 5, 6]


def test_items_are_clips_of_one_shot_oldest_first_with_the_newest_frames_labels(built):
    samples = _stored(built.root, "train")
    dataset = ClipDataset(built.root, "train")
    assert len(dataset) == len(samples) > 200
    keys = [s.key for s in samples]
    shot_of = {s.key: (s.meta["take_id"], s.meta["shot_id"]) for s in samples}
    crossed_start = 0
    unmeasured = set()
    for index in range(0, len(dataset), 7):
        item = dataset[index]
        assert item["key"] == keys[index]
        frames = item["frames"]
        assert frames.dtype == torch.float32 and tuple(frames.shape) == (CLIP_FRAMES, 5, 72, 128)
        positions = clip_positions(dataset._shot_starts, index, CLIP_FRAMES)
        assert positions[-1] == index and positions == sorted(positions)
        assert {shot_of[keys[p]] for p in positions} == {shot_of[keys[index]]}  # never across a shot or take
        if positions[0] == positions[1]:
            crossed_start += 1
        for k, p in enumerate(positions):  # each frame is its stored frame's planes (float16 cached)
            s = samples[p]
            expected = frame_planes(decode_rgb_png(s.files["rgb.png"]), decode_depth_png(s.files["depth.png"]))
            np.testing.assert_allclose(frames[k].numpy(), expected, atol=2e-3)
        labels = samples[index].meta["labels"]
        assert int(item["shot_size"]) == (-1 if labels["shot_size"] is None else
                                          SHOT_SIZE_CLASSES.index(labels["shot_size"]))
        assert int(item["movement"]) == (-1 if labels["movement"] is None else
                                         MOVEMENT_CLASSES.index(labels["movement"]))
        for name, field in (("focal_mm", "focal_length_mm"), ("distance_m", "subject_distance_m")):
            value = float(item[name])
            assert (math.isnan(value) if labels[field] is None else value == pytest.approx(labels[field], rel=1e-6))
        unmeasured |= {name for name in ("shot_size", "movement") if int(item[name]) == -1}
        unmeasured |= {name for name in ("focal_mm", "distance_m") if math.isnan(float(item[name]))}
    assert unmeasured == {"shot_size", "movement", "focal_mm", "distance_m"}  # each missing kind was met
    assert crossed_start > 0  # some clips started at a shot's first frame and were padded
    starts = dataset._shot_starts
    boundaries = [i for i in range(1, len(keys)) if shot_of[keys[i]] != shot_of[keys[i - 1]]]
    assert boundaries and all(starts[i] == i for i in boundaries)
    assert all(starts[i] == starts[i - 1] for i in range(1, len(keys)) if i not in boundaries)


def test_without_depth_the_depth_planes_are_zero_and_each_png_is_decoded_once(built, monkeypatch):
    calls = {"rgb": 0}
    real = torch_dataset.decode_rgb_png

    def counting(data, what="rgb.png"):
        calls["rgb"] += 1
        return real(data, what)

    monkeypatch.setattr(torch_dataset, "decode_rgb_png", counting)
    dataset = ClipDataset(built.root, "val", depth=False)
    first = [dataset[i]["frames"] for i in range(len(dataset))]
    decoded = calls["rgb"]
    assert decoded == len(dataset)
    again = [dataset[i]["frames"] for i in range(len(dataset))]
    assert calls["rgb"] == decoded  # cached
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert all(float(f[:, 3:].abs().max()) == 0.0 for f in first) and float(first[5][:, :3].max()) > 0.1
    uncached = ClipDataset(built.root, "val", cache=False)
    uncached[3], uncached[3]
    assert calls["rgb"] == decoded + 2 * CLIP_FRAMES
    loader = torch.utils.data.DataLoader(dataset, batch_size=4)
    batch = next(iter(loader))
    assert tuple(batch["frames"].shape) == (4, CLIP_FRAMES, 5, 72, 128) and len(batch["key"]) == 4


def test_the_package_imports_without_torch():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import engines.captioner.dataset as d\n"
            "print(d.iter_take_frames.__name__)\n"
            "try:\n    d.ClipDataset\nexcept ImportError:\n    print('ClipDataset needs torch')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.split("\n")[:2] == ["iter_take_frames", "ClipDataset needs torch"]
