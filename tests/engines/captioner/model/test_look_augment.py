"""Look augmentation: on the planes it gives what LiveLook at 640x360 and then frame_planes give
(colour, vignette, halation, grain), leaves what it must alone, repeats with its seed, and is
wired into training (never on validation)."""

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engines.captioner.inputs import frame_planes  # noqa: E402
from engines.captioner.model import look_augment as la  # noqa: E402
from engines.captioner.model import train as train_module  # noqa: E402
from engines.captioner.model.errors import TrainingError  # noqa: E402
from engines.captioner.model.look_augment import (  # noqa: E402
    DEFAULT_JITTER, NO_JITTER, augment_looks, block_mean, plane_look,
)
from engines.captioner.model.train import TrainConfig, train_captioner  # noqa: E402
from engines.style.live import LiveLook  # noqa: E402
from engines.style.model.colour import identity_colour  # noqa: E402
from engines.style.model.look import Look  # noqa: E402
from engines.style.model.shipped import resolve_look, shipped_look_names  # noqa: E402
from engines.style.model.texture import Halation  # noqa: E402
from tests.engines.captioner.model.synthetic import SyntheticClips  # noqa: E402

H, W = la.FRAME_HW
LOOKS = shipped_look_names()
#: Grain fields per look here (training makes 32): enough for the statistics, quick to make.
FIELDS = 8
#: Mid grey, where every shipped look's grain is far above the reference's 8-bit rounding.
FLAT_LEVEL = 107

# Colour without grain, mean |planes - reference planes| per frame, all six looks, no jitter:
# measured at most 4e-4 (gradients), 2.7e-3 (hard edges: the blocks an edge crosses hold the colour
# of the mean, the reference the mean of the colour) and 7e-4 (flat grey: the reference's own
# rounding to 8 bits). The looks move these frames by 1e-2 to 1e-1 on average.
COLOUR_BOUND = {"gradient": 1.5e-3, "edges": 6e-3, "flat": 1.5e-3}
# Grain on a flat mid grey: measured within 0.98-1.00 of the reference's standard deviation for
# every look and channel. A 15 % tolerance would let white noise at rms/5 through for 35 mm,
# bleach bypass and the push looks (12 % low); 6 % does not.
GRAIN_RATIO_TOLERANCE = 0.06


def _u8(image: np.ndarray) -> np.ndarray:
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _frames() -> dict:
    """Real-looking 640x360 frames without a simulator: gradients, hard-edged shapes, a flat grey."""
    yy, xx = np.mgrid[0:H, 0:W]
    gradient = np.stack([xx / (W - 1), yy / (H - 1), 1.0 - 0.8 * xx / (W - 1)], axis=-1)
    edges = np.empty((H, W, 3))
    edges[:] = (0.1, 0.15, 0.2)
    edges[50:233, 77:411] = (0.9, 0.6, 0.3)  # edges off the 5-pixel block grid
    edges[200:347, 300:613] = (0.2, 0.8, 0.95)
    edges[(xx - 500) ** 2 + (yy - 100) ** 2 < 73 ** 2] = (0.98, 0.98, 0.98)
    return {"gradient": _u8(gradient), "edges": _u8(edges), "flat": np.full((H, W, 3), FLAT_LEVEL, np.uint8)}


FRAMES = _frames()


def _planes(rgb: np.ndarray, frames: int = 1) -> torch.Tensor:
    """A clip (1, frames, 5, 72, 128) of the same frame."""
    return torch.from_numpy(np.stack([frame_planes(rgb, None)] * frames))[None]


def _style(clip: torch.Tensor, look, seed: int = 0, jitter=NO_JITTER, p: float = 1.0) -> torch.Tensor:
    return augment_looks(clip, [look], p, torch.Generator().manual_seed(seed), jitter)[0]


@pytest.fixture(scope="module")
def grain_looks():
    """Each shipped look prepared with its grain: name -> PlaneLook."""
    return {name: plane_look(resolve_look(name), grain_fields=FIELDS) for name in LOOKS}


def test_block_mean_averages_the_blocks_frame_planes_does():
    rgb = FRAMES["edges"]
    np.testing.assert_allclose(block_mean(rgb / 255.0), frame_planes(rgb, None)[:3], atol=1e-6)
    with pytest.raises(ValueError, match="whole"):
        block_mean(np.zeros((361, 640, 3)))


@pytest.mark.parametrize("name", LOOKS)
def test_the_colour_is_what_live_look_then_frame_planes_give(name):
    look = dataclasses.replace(resolve_look(name), grain=None)
    live, planes = LiveLook(look, H, W), plane_look(look)
    for kind, rgb in FRAMES.items():
        reference = frame_planes(live.apply(rgb), None)[:3]
        raw = frame_planes(rgb, None)[:3]
        ours = _style(_planes(rgb), planes)[0, 0, :3].numpy()
        error, moved = np.abs(ours - reference).mean(), np.abs(raw - reference).mean()
        print(f"{name} {kind}: mean |error| {error:.5f} (the look moves it {moved:.4f})")
        assert error <= COLOUR_BOUND[kind], (kind, error)
        assert moved >= 4 * COLOUR_BOUND[kind], (kind, moved)  # the comparison means something


def test_halation_is_what_live_look_gives():
    """No shipped look has halation: a made-up one, on bright shapes over a dark ground. Measured:
    mean |error| 4e-4 where the halation adds 3.8e-3 on average."""
    yy, xx = np.mgrid[0:H, 0:W]
    image = np.full((H, W, 3), 0.1)
    image[(xx - 200) ** 2 + (yy - 150) ** 2 < 30 ** 2] = (1.0, 0.9, 0.8)
    image[100:140, 400:520] = (0.95, 0.5, 0.3)
    rgb = _u8(image)
    look = Look("halo", identity_colour(), halation=Halation(0.5, 0.01, (0.6, 0.25, 0.1)))
    reference = frame_planes(LiveLook(look, H, W).apply(rgb), None)[:3]
    ours = _style(_planes(rgb), plane_look(look))[0, 0, :3].numpy()
    added = np.abs(reference - frame_planes(rgb, None)[:3]).mean()
    assert np.abs(ours - reference).mean() <= 0.25 * added


def _grain_std(clip: np.ndarray) -> np.ndarray:
    """Per channel, the standard deviation of the grain of a clip (T, 3, h, w) of one still frame:
    from frame-to-frame differences, which cancel the vignette and everything else that stays."""
    return (np.diff(clip, axis=0) / np.sqrt(2.0)).std(axis=(0, 2, 3))


@pytest.mark.parametrize("name", LOOKS)
def test_the_grain_on_a_flat_field_is_what_live_look_then_frame_planes_give(name, grain_looks):
    rgb = FRAMES["flat"]
    live = LiveLook(resolve_look(name), H, W)
    reference = np.stack([frame_planes(live.apply(rgb, frame_index=i), None)[:3] for i in range(8)])
    ours = _style(_planes(rgb, 8), grain_looks[name], seed=3)[0, :, :3].numpy()
    ratio = _grain_std(ours) / _grain_std(reference)
    print(f"{name}: plane grain std / reference's, R G B: {np.round(ratio, 3)}")
    assert np.all(np.abs(ratio - 1.0) <= GRAIN_RATIO_TOLERANCE), ratio


def test_p_zero_changes_nothing(grain_looks):
    clip = torch.rand(3, 8, 5, 72, 128)
    out, chosen = augment_looks(clip, list(grain_looks.values()), 0.0, torch.Generator().manual_seed(0))
    assert torch.equal(out, clip) and chosen.tolist() == [-1, -1, -1]


def test_the_depth_planes_never_change(grain_looks):
    clip = torch.rand(4, 8, 5, 72, 128)
    out, chosen = augment_looks(clip, list(grain_looks.values()), 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(out[:, :, 3:], clip[:, :, 3:])
    assert (chosen >= 0).all() and not torch.equal(out[:, :, :3], clip[:, :, :3])
    assert out[:, :, :3].min() >= 0.0 and out[:, :, :3].max() <= 1.0
    inplace = clip.clone()
    same, _ = augment_looks(inplace, list(grain_looks.values()), 1.0, torch.Generator().manual_seed(0), inplace=True)
    assert same is inplace and torch.equal(same, out)


def test_frames_of_a_clip_get_grain_of_their_own_under_one_look(grain_looks):
    """A clip of one still frame: the colour is the same on every frame (one look, one jitter per
    clip), the grain (styled minus the same without grain) is uncorrelated between frames."""
    name = "35mm"
    clip = _planes(FRAMES["flat"], 8)
    without = plane_look(dataclasses.replace(resolve_look(name), grain=None))
    colour = _style(clip, without, seed=5, jitter=DEFAULT_JITTER)[0, :, :3]
    assert all(torch.equal(colour[i], colour[0]) for i in range(8))
    grain = (_style(clip, grain_looks[name], seed=5, jitter=DEFAULT_JITTER)[0, :, :3] - colour).numpy()
    grain = grain.reshape(8, -1)
    corr = np.corrcoef(grain)[np.triu_indices(8, k=1)]
    assert grain.std(axis=1).min() > 1e-4
    assert np.abs(corr).max() < 0.1, corr


def test_the_same_seed_gives_the_same_clips(grain_looks):
    clip = torch.rand(6, 8, 5, 72, 128)
    looks = list(grain_looks.values())
    a = augment_looks(clip, looks, 0.5, torch.Generator().manual_seed(9))
    b = augment_looks(clip, looks, 0.5, torch.Generator().manual_seed(9))
    c = augment_looks(clip, looks, 0.5, torch.Generator().manual_seed(10))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_about_p_of_the_clips_get_a_look_each_look_its_share_jittered(grain_looks):
    clip = _planes(FRAMES["gradient"]).expand(600, 1, 5, 72, 128).contiguous()
    looks = list(grain_looks.values())
    out, chosen = augment_looks(clip, looks, 0.5, torch.Generator().manual_seed(1))
    assert 0.44 <= float((chosen >= 0).float().mean()) <= 0.56
    counts = torch.bincount(chosen[chosen >= 0], minlength=len(looks))
    assert counts.min() >= 25
    assert torch.equal(out[chosen < 0], clip[chosen < 0])
    first = out[chosen == 0, 0, :3].mean(dim=(2, 3))  # (n, 3): one look, each clip its own jitter
    assert float(first.std(dim=0).min()) > 2e-3


def test_bad_inputs_are_refused(grain_looks):
    look = grain_looks["35mm"]
    with pytest.raises(ValueError, match="probability"):
        augment_looks(torch.zeros(1, 8, 5, 72, 128), [look], 1.5, torch.Generator())
    with pytest.raises(ValueError, match="prepared for 128x72"):
        augment_looks(torch.zeros(1, 8, 5, 36, 64), [look], 0.5, torch.Generator())
    with pytest.raises(ValueError, match="jitter grain"):
        la.LookJitter(grain=(1.5, 0.5))


def test_train_config_keeps_look_augment_and_an_older_config_means_none():
    config = TrainConfig(size="tiny", look_augment=0.3)
    assert config.to_dict()["look_augment"] == 0.3
    assert TrainConfig.from_dict(config.to_dict()) == config
    older = {k: v for k, v in TrainConfig().to_dict().items() if k != "look_augment"}
    assert TrainConfig.from_dict(older).look_augment == 0.0
    assert TrainConfig().look_augment == 0.5
    with pytest.raises(TrainingError, match="look_augment is a probability"):
        TrainConfig(look_augment=-0.1)
    with pytest.raises(TrainingError, match="unknown training settings colour"):
        TrainConfig.from_dict({"colour": 1})


def test_training_styles_training_batches_only(monkeypatch, grain_looks):
    """Two training batches a pass: two calls, with the config's p; the validation pass never
    goes through it."""
    calls = []

    def spy(frames, looks, p, generator, *args, **kwargs):
        calls.append((frames.shape[0], p, len(looks)))
        return augment_looks(frames, looks, p, generator, *args, **kwargs)

    monkeypatch.setattr(train_module, "augment_looks", spy)
    config = TrainConfig(size="tiny", epochs=1, batch_size=8, threads=1, progress=False, look_augment=0.7)
    train_captioner(SyntheticClips(16, seed=1, cache=True), SyntheticClips(4, seed=2, cache=True), config,
                    looks=[grain_looks["16mm"], grain_looks["super8"]])
    assert calls == [(8, 0.7, 2), (8, 0.7, 2)]
    calls.clear()
    train_captioner(SyntheticClips(16, seed=1, cache=True), SyntheticClips(4, seed=2, cache=True),
                    dataclasses.replace(config, look_augment=0.0), looks=[grain_looks["16mm"]])
    assert calls == []
