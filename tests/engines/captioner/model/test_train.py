"""Training: the tiny model learns the synthetic task, runs repeat exactly, missing labels add
nothing, class weights and mirroring are right, bad splits are refused."""

import math

import pytest
import torch

from engines.captioner.inputs import MOVEMENT_CLASSES
from engines.captioner.model.errors import TrainingError
from engines.captioner.model.evaluate import evaluate_model
from engines.captioner.model.network import INPUT_SHAPE, CaptionerNet, network_config
from engines.captioner.model.train import (
    TrainConfig, captioner_loss, class_weights, label_stats, mirror_movement_index, train_captioner,
)
from tests.engines.captioner.model.synthetic import SYNTH_MOVEMENTS, SYNTH_SHOT_SIZES, SyntheticClips

# What a model that has learnt nothing scores on the synthetic clips: the chance of guessing a class,
# and the median relative error of always answering the median (log-uniform focal lengths and distances).
CHANCE_SHOT = 1 / len(SYNTH_SHOT_SIZES)
CHANCE_MOVEMENT = 1 / len(SYNTH_MOVEMENTS)
MEDIAN_GUESS_FOCAL_ERROR = 0.42
MEDIAN_GUESS_DISTANCE_ERROR = 0.52


def test_the_tiny_model_learns_the_synthetic_task(trained, synthetic_val):
    """Six short passes over 192 clips: every head well past what learning nothing scores (seeds 3,
    4 and 5 all clear these bars; the slow test below holds the small size to real accuracy)."""
    ev = evaluate_model(trained.model, synthetic_val, "val")
    assert ev.shot_size.accuracy >= 2.5 * CHANCE_SHOT
    assert ev.movement.accuracy >= 2.5 * CHANCE_MOVEMENT
    assert ev.focal_mm.median_rel_error <= 0.6 * MEDIAN_GUESS_FOCAL_ERROR
    assert ev.distance_m.median_rel_error <= 0.9 * MEDIAN_GUESS_DISTANCE_ERROR
    assert 1 <= trained.best_epoch <= 6 and len(trained.history) == 6
    assert trained.history[-1].train_loss < trained.history[0].train_loss


def test_it_works_without_depth_too(trained, synthetic_val):
    """Depth was dropped on 30 % of the training clips: without any, sizes and movements are still read."""
    ev = evaluate_model(trained.model, synthetic_val, "val", depth=False)
    assert ev.shot_size.accuracy >= 2 * CHANCE_SHOT
    assert ev.movement.accuracy >= 2 * CHANCE_MOVEMENT


QUICK_TRAIN, QUICK_VAL = SyntheticClips(16, seed=1, cache=True), SyntheticClips(4, seed=2, cache=True)


def _quick(seed, progress=False, **kw):
    config = TrainConfig(size="tiny", epochs=1, batch_size=8, threads=1, seed=seed, progress=progress, **kw)
    return train_captioner(QUICK_TRAIN, QUICK_VAL, config)


def test_a_run_repeats_exactly_with_its_seed(capsys):
    a, b, c = _quick(0, progress=True), _quick(0), _quick(1)
    sa, sb, sc = a.model.state_dict(), b.model.state_dict(), c.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert a.history[0].train_loss == b.history[0].train_loss
    progress = capsys.readouterr().err
    assert "epoch 1/1" in progress and "loss=" in progress and "val_shot=" in progress and "val_move=" in progress


def test_training_stops_when_validation_stops_improving():
    # a validation split without labels never scores better than its first pass
    val = SyntheticClips(4, seed=2, missing=1.0, cache=True)
    config = TrainConfig(size="tiny", epochs=6, batch_size=8, threads=1, patience=2, progress=False)
    result = train_captioner(QUICK_TRAIN, val, config)
    assert len(result.history) == 3 and result.best_epoch == 1
    assert result.stopped == "no better validation score for 2 passes"
    timed = _quick(0, max_minutes=0.0)
    assert timed.stopped in ("time limit of 0.0 min reached", "all 1 passes run")


def test_missing_labels_add_nothing_to_the_loss():
    torch.manual_seed(0)
    model = CaptionerNet(network_config("tiny")).eval()
    frames = torch.rand(4, *INPUT_SHAPE)
    with torch.no_grad():
        out = model(frames)
    ones8, ones15 = torch.ones(8), torch.ones(15)
    missing = {"shot_size": torch.full((4,), -1), "movement": torch.full((4,), -1),
               "focal_mm": torch.full((4,), math.nan), "distance_m": torch.full((4,), math.nan)}
    loss, parts = captioner_loss(out, missing, model, ones8, ones15)
    assert float(loss) == 0.0 and all(v == 0.0 for v in parts.values())
    some = {"shot_size": torch.tensor([2, -1, 3, -1]), "movement": torch.tensor([-1, 0, 0, 4]),
            "focal_mm": torch.tensor([50.0, math.nan, 35.0, 85.0]), "distance_m": torch.tensor([math.nan] * 4)}
    loss, parts = captioner_loss(out, some, model, ones8, ones15)
    kept = [0, 2]
    sub = {k: v[kept] for k, v in out.items()}
    _, sub_parts = captioner_loss(sub, {k: v[kept] for k, v in some.items()}, model, ones8, ones15)
    assert parts["shot_size"] == pytest.approx(sub_parts["shot_size"])
    assert math.isfinite(float(loss)) and parts["distance"] == 0.0 and parts["focal"] > 0.0


def test_class_weights_favour_rare_classes():
    w = class_weights((10, 0, 40))
    assert w.tolist() == pytest.approx([math.sqrt(50 / 20), 1.0, math.sqrt(50 / 80)])
    assert class_weights((0, 0)).tolist() == [1.0, 1.0]


def test_mirroring_swaps_left_and_right():
    names = ["pan_left", "pan_right", "truck_left", "truck_right", "tilt_up", "roll", "zoom_in", "static"]
    index = torch.tensor([MOVEMENT_CLASSES.index(n) for n in names] + [-1])
    mirrored = [MOVEMENT_CLASSES[i] if i >= 0 else None for i in mirror_movement_index(index).tolist()]
    assert mirrored == ["pan_right", "pan_left", "truck_right", "truck_left", "tilt_up", "roll", "zoom_in", "static",
                        None]


def test_label_stats_count_the_labels():
    data = SyntheticClips(24, seed=4, cache=True)
    stats = label_stats(data)
    truth = [data[i] for i in range(24)]
    assert stats.clips == 24
    assert sum(stats.shot_size_counts) == sum(int(t["shot_size"]) >= 0 for t in truth)
    assert stats.focal_labelled == sum(not math.isnan(float(t["focal_mm"])) for t in truth)
    assert math.log(20) < stats.log_focal[0] < math.log(120) and stats.log_focal[1] > 0.05


def test_bad_splits_and_settings_are_refused():
    with pytest.raises(TrainingError, match="the training split has no clips"):
        train_captioner(SyntheticClips(0), SyntheticClips(4), TrainConfig(size="tiny", progress=False))
    with pytest.raises(TrainingError, match="the validation split has no clips"):
        train_captioner(SyntheticClips(4), SyntheticClips(0), TrainConfig(size="tiny", progress=False))
    with pytest.raises(TrainingError, match="have no labels at all"):
        train_captioner(SyntheticClips(4, missing=1.0), SyntheticClips(4), TrainConfig(size="tiny", progress=False))
    with pytest.raises(TrainingError, match="depth_drop is a probability"):
        TrainConfig(depth_drop=1.5)
    with pytest.raises(ValueError, match="unknown model size"):
        TrainConfig(size="huge")


@pytest.mark.slow
def test_the_small_model_reaches_its_stated_accuracy_on_the_synthetic_set():
    """The small size, 800 synthetic clips, 8 passes (one thread), on 200 clips it never saw: at
    least 95 % shot size and 85 % movement, focal length within 10 % and subject distance within
    15 % (median). Measured here: 99.5 %, 100 %, 5.7 %, 9.9 % in 120 s of training."""
    config = TrainConfig(size="small", epochs=8, batch_size=16, learning_rate=4e-3, threads=1, seed=0,
                         progress=False)
    result = train_captioner(SyntheticClips(800, seed=21, cache=True), SyntheticClips(100, seed=22, cache=True),
                             config)
    ev = evaluate_model(result.model, SyntheticClips(200, seed=23), "test")
    print(f"small on synthetic test clips: shot size {ev.shot_size.accuracy:.3f} (within one {ev.shot_size.within_one:.3f}), "
          f"movement {ev.movement.accuracy:.3f}, focal median error {ev.focal_mm.median_rel_error:.3f}, "
          f"distance median error {ev.distance_m.median_rel_error:.3f}, {result.seconds:.0f} s training")
    assert ev.shot_size.accuracy >= 0.95
    assert ev.movement.accuracy >= 0.85
    assert ev.focal_mm.median_rel_error <= 0.10
    assert ev.distance_m.median_rel_error <= 0.15
