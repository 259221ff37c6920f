"""Training the captioner on a dataset of labelled clips, on the CPU, deterministically.

Any torch ``Dataset`` with the item contract of :mod:`.predict` trains it (the dataset builder's
``ClipDataset``, or a test's synthetic set).

**Loss**, per batch, each term averaged over the clips that have that label (a missing label,
-1 or NaN, adds nothing):

* shot size and movement: cross-entropy, weighted per class by ``sqrt(N / (K n_c))`` from the
  training split's counts (K classes present, n_c clips of class c) so rare classes count without
  letting a handful of clips dominate;
* log focal length and log subject distance: a smooth L1 (beta :data:`_SMOOTH_L1_BETA` in units
  of the training targets' spread; nearly L1, so it aims at the median) on the normalised logs,
  plus :data:`_SPREAD_WEIGHT` x the Gaussian negative log-likelihood of the error under the
  predicted spread, which trains the spread head only (:mod:`.network`).

**Augmentation**: each clip has its depth planes zeroed with probability ``depth_drop`` (30 %),
so the model also works without LiDAR; is mirrored left-right with probability ``flip``,
swapping the left and right movements (pan, truck) it is labelled with; and is styled with
probability ``look_augment`` (50 %) by one of the shipped film looks, jittered, with grain of its
own on every frame (:mod:`.look_augment`), so that a look changes nothing the model reads (the
closed loop, engines/style/closed_loop.py). Validation clips are never augmented.

**Schedule**: AdamW, one-cycle learning rate, ``epochs`` passes (or ``clips_per_epoch`` clips a
pass); after each pass the validation split is scored (:func:`.evaluate.summary_metrics`) and
the best pass's weights are kept; training stops after ``patience`` passes without a better
score, or once ``max_minutes`` have passed. The score is the mean of the accuracies and of
``1 - median relative error`` of the heads that have labels.

**Determinism**: the seed fixes the initial weights, the order of the clips and the
augmentation (the looks draw from a generator of their own, so a run without them repeats the
runs from before they existed); torch's thread count is set explicitly (``threads``), with the
same seed and threads a run is repeated exactly.
"""

from __future__ import annotations

import copy
import math
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, RandomSampler

from engines.captioner.inputs import MOVEMENT_CLASSES, SHOT_SIZE_CLASSES
from engines.captioner.model.errors import TrainingError
from engines.captioner.model.evaluate import summary_metrics
from engines.captioner.model.look_augment import PlaneLook, augment_looks, shipped_plane_looks
from engines.captioner.model.network import CaptionerNet, network_config
from engines.captioner.model.predict import DEPTH_PLANES, collect_outputs

__all__ = [
    "TrainConfig", "LabelStats", "EpochRecord", "TrainResult", "label_stats", "class_weights",
    "mirror_movement_index", "captioner_loss", "validation_score", "train_captioner",
]

_SMOOTH_L1_BETA = 0.05
_SPREAD_WEIGHT = 0.1
_MIN_LOG_SCALE = 0.05


@dataclass(frozen=True)
class TrainConfig:
    """How to train (module docstring). ``size``: a preset of :data:`~.network.NETWORK_SIZES`;
    ``depth_drop``, ``flip``, ``look_augment``: the share of training clips each augmentation gets."""

    size: str = "default"
    epochs: int = 6
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    threads: int = 2
    depth_drop: float = 0.3
    flip: float = 0.5
    look_augment: float = 0.5
    patience: int = 3
    regression_weight: float = 0.5
    clips_per_epoch: Optional[int] = None
    max_minutes: Optional[float] = None
    progress: bool = True

    def __post_init__(self) -> None:
        network_config(self.size)
        for name in ("epochs", "batch_size", "threads", "patience"):
            if getattr(self, name) < 1:
                raise TrainingError(f"{name} must be at least 1; got {getattr(self, name)}")
        for name in ("depth_drop", "flip", "look_augment"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise TrainingError(f"{name} is a probability in [0, 1]; got {getattr(self, name)}")
        if self.clips_per_epoch is not None and self.clips_per_epoch < 1:
            raise TrainingError(f"clips_per_epoch must be at least 1; got {self.clips_per_epoch}")

    def to_dict(self) -> Dict[str, Any]:
        """The settings as JSON values (what the model card stores)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TrainConfig":
        """The config a card stored (:meth:`to_dict`). A setting it lacks takes its default, except
        ``look_augment``: a card from before look augmentation was trained without it (0.0)."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise TrainingError(f"unknown training settings {', '.join(unknown)}; expected some of "
                                f"{', '.join(sorted(names))}")
        return cls(**{"look_augment": 0.0, **data})


@dataclass(frozen=True)
class LabelStats:
    """What a split's labels hold: clips, class counts (in vocabulary order), labelled regressions,
    and the (centre, scale) of their natural logs (median and 1.4826 x MAD, floored at 0.05)."""

    clips: int
    shot_size_counts: Tuple[int, ...]
    movement_counts: Tuple[int, ...]
    focal_labelled: int
    distance_labelled: int
    log_focal: Tuple[float, float]
    log_distance: Tuple[float, float]

    def to_dict(self) -> Dict[str, object]:
        d = asdict(self)
        d["shot_size_counts"] = dict(zip(SHOT_SIZE_CLASSES, self.shot_size_counts))
        d["movement_counts"] = dict(zip(MOVEMENT_CLASSES, self.movement_counts))
        return d


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    train_loss: float
    learning_rate: float
    seconds: float
    clips: int
    val: Dict[str, Optional[float]]
    score: float


@dataclass
class TrainResult:
    """The trained model (best validation pass's weights, eval mode) and how it got there."""

    model: CaptionerNet
    config: TrainConfig
    train_stats: LabelStats
    history: List[EpochRecord] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0
    stopped: str = ""


def _counts(labels: np.ndarray, classes: int) -> Tuple[int, ...]:
    labels = labels[labels >= 0]
    return tuple(int(x) for x in np.bincount(labels, minlength=classes)[:classes])


def _log_stats(values: np.ndarray) -> Tuple[float, float]:
    """Median and robust spread (1.4826 x MAD, floored) of the logs of the labelled values (> 0)."""
    logs = np.log(values[np.isfinite(values) & (values > 0)])
    center = float(np.median(logs))
    return center, max(_MIN_LOG_SCALE, float(1.4826 * np.median(np.abs(logs - center))))


def label_stats(dataset: Dataset, batch_size: int = 64) -> LabelStats:
    """Read every clip's labels once (:class:`LabelStats`)."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0)
    parts: Dict[str, List[np.ndarray]] = {k: [] for k in ("shot_size", "movement", "focal_mm", "distance_m")}
    for batch in loader:
        for name in parts:
            parts[name].append(torch.as_tensor(batch[name]).numpy())
    if not parts["shot_size"]:
        return LabelStats(0, (0,) * len(SHOT_SIZE_CLASSES), (0,) * len(MOVEMENT_CLASSES), 0, 0,
                          (math.log(50.0), 1.0), (math.log(3.0), 1.0))
    arrays = {name: np.concatenate(chunks) for name, chunks in parts.items()}
    focal, distance = arrays["focal_mm"].astype(np.float64), arrays["distance_m"].astype(np.float64)
    focal_ok, distance_ok = np.isfinite(focal) & (focal > 0), np.isfinite(distance) & (distance > 0)
    return LabelStats(
        clips=len(arrays["shot_size"]),
        shot_size_counts=_counts(arrays["shot_size"].astype(np.int64), len(SHOT_SIZE_CLASSES)),
        movement_counts=_counts(arrays["movement"].astype(np.int64), len(MOVEMENT_CLASSES)),
        focal_labelled=int(focal_ok.sum()), distance_labelled=int(distance_ok.sum()),
        log_focal=_log_stats(focal) if focal_ok.any() else (math.log(50.0), 1.0),
        log_distance=_log_stats(distance) if distance_ok.any() else (math.log(3.0), 1.0))


def class_weights(counts: Tuple[int, ...]) -> torch.Tensor:
    """Cross-entropy weights ``sqrt(N / (K n_c))`` (1 for a class without clips)."""
    n = np.asarray(counts, np.float64)
    present = n > 0
    if not present.any():
        return torch.ones(len(counts))
    w = np.ones_like(n)
    w[present] = np.sqrt(n[present].sum() / (present.sum() * n[present]))
    return torch.tensor(w, dtype=torch.float32)


def _mirror_table() -> torch.Tensor:
    names = list(MOVEMENT_CLASSES)
    table = []
    for name in names:
        if name.endswith("_left"):
            name = name[:-5] + "_right"
        elif name.endswith("_right"):
            name = name[:-6] + "_left"
        table.append(names.index(name))
    return torch.tensor(table, dtype=torch.int64)


_MIRROR = _mirror_table()


def mirror_movement_index(movement: torch.Tensor) -> torch.Tensor:
    """Movement class indexes of the left-right mirrored clips (pan and truck swap sides; -1 stays)."""
    return torch.where(movement >= 0, _MIRROR[movement.clamp(min=0)], movement)


def _augment(frames: torch.Tensor, movement: torch.Tensor, config: TrainConfig, generator: torch.Generator,
             looks: Sequence[PlaneLook] = (), look_generator: Optional[torch.Generator] = None
             ) -> Tuple[torch.Tensor, torch.Tensor]:
    b = frames.shape[0]
    drop = torch.rand(b, generator=generator) < config.depth_drop
    flip = torch.rand(b, generator=generator) < config.flip
    frames = frames.clone()
    frames[drop, :, DEPTH_PLANES] = 0.0
    frames[flip] = frames[flip].flip(-1)
    if looks and config.look_augment > 0.0:
        if look_generator is None:
            raise TrainingError("look augmentation needs a generator of its own (look_generator)")
        frames, _ = augment_looks(frames, looks, config.look_augment, look_generator, inplace=True)
    return frames, torch.where(flip, mirror_movement_index(movement), movement)


def _regression_loss(pred_log: torch.Tensor, sigma: torch.Tensor, true: torch.Tensor, scale: torch.Tensor
                     ) -> Tuple[torch.Tensor, int]:
    ok = torch.isfinite(true) & (true > 0)
    n = int(ok.sum())
    if not n:
        return pred_log.sum() * 0.0, 0
    target = torch.log(true[ok])
    mu, s = pred_log[ok], sigma[ok]
    fit = F.smooth_l1_loss(mu / scale, target / scale, beta=_SMOOTH_L1_BETA)
    nll = (0.5 * ((target - mu.detach()) / s) ** 2 + torch.log(s)).mean()
    return fit + _SPREAD_WEIGHT * nll, n


def _class_loss(logits: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    ok = labels >= 0
    if not bool(ok.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[ok], labels[ok], weight=weight)


def captioner_loss(outputs: Dict[str, torch.Tensor], batch: Dict[str, torch.Tensor], model: CaptionerNet,
                   shot_size_weight: torch.Tensor, movement_weight: torch.Tensor,
                   regression_weight: float = 0.5) -> Tuple[torch.Tensor, Dict[str, float]]:
    """The training loss of a batch (module docstring) and its terms."""
    shot = _class_loss(outputs["shot_size_logits"], batch["shot_size"], shot_size_weight)
    move = _class_loss(outputs["movement_logits"], batch["movement"], movement_weight)
    focal, _ = _regression_loss(outputs["log_focal_mm"], outputs["log_focal_sigma"], batch["focal_mm"],
                                model.head.log_focal_scale)
    distance, _ = _regression_loss(outputs["log_distance_m"], outputs["log_distance_sigma"], batch["distance_m"],
                                   model.head.log_distance_scale)
    total = shot + move + regression_weight * (focal + distance)
    return total, {"shot_size": float(shot.detach()), "movement": float(move.detach()),
                   "focal": float(focal.detach()), "distance": float(distance.detach())}


def validation_score(metrics: Dict[str, Optional[float]]) -> float:
    """Mean of the accuracies and ``1 - median relative error`` of the heads with labels."""
    parts = [metrics["shot_size_accuracy"], metrics["movement_accuracy"]]
    parts += [None if metrics[k] is None else 1.0 - metrics[k]
              for k in ("focal_median_rel_error", "distance_median_rel_error")]
    parts = [p for p in parts if p is not None]
    return float(np.mean(parts)) if parts else 0.0


def _batch_tensors(batch: Dict[str, object]) -> Dict[str, torch.Tensor]:
    return {
        "frames": torch.as_tensor(batch["frames"], dtype=torch.float32),
        "shot_size": torch.as_tensor(batch["shot_size"], dtype=torch.int64),
        "movement": torch.as_tensor(batch["movement"], dtype=torch.int64),
        "focal_mm": torch.as_tensor(batch["focal_mm"], dtype=torch.float32),
        "distance_m": torch.as_tensor(batch["distance_m"], dtype=torch.float32),
    }


def _fmt(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.3f}"


def train_captioner(train: Dataset, val: Dataset, config: TrainConfig = TrainConfig(),
                    looks: Optional[Sequence[PlaneLook]] = None) -> TrainResult:
    """Train a captioner of ``config.size`` on ``train``, choosing the pass by ``val`` (module
    docstring). ``looks``: what the look augmentation styles with (None: the shipped looks, for
    planes of 640x360 frames as the dataset builder stores them; made once per process, about 10 s)."""
    from tqdm import tqdm

    if len(train) == 0:  # type: ignore[arg-type]
        raise TrainingError("the training split has no clips")
    if len(val) == 0:  # type: ignore[arg-type]
        raise TrainingError("the validation split has no clips (it picks the best pass and calibrates)")
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    stats = label_stats(train)
    if not (sum(stats.shot_size_counts) or sum(stats.movement_counts) or stats.focal_labelled
            or stats.distance_labelled):
        raise TrainingError(f"the training split's {stats.clips} clips have no labels at all")
    model = CaptionerNet(network_config(config.size))
    model.set_target_stats(stats.log_focal, stats.log_distance)
    shot_w, move_w = class_weights(stats.shot_size_counts), class_weights(stats.movement_counts)

    order = torch.Generator().manual_seed(config.seed)
    augment = torch.Generator().manual_seed(config.seed + 1)
    look_generator = torch.Generator().manual_seed(config.seed + 2)
    if config.look_augment > 0.0 and looks is None:
        looks = shipped_plane_looks()
    sampler = RandomSampler(train, replacement=False, num_samples=config.clips_per_epoch, generator=order)
    loader = DataLoader(train, batch_size=config.batch_size, sampler=sampler, num_workers=0, drop_last=False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.learning_rate,
                                                    total_steps=config.epochs * len(loader), pct_start=0.15)
    result = TrainResult(model=model, config=config, train_stats=stats)
    best_score, best_state, stale = -math.inf, copy.deepcopy(model.state_dict()), 0
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        epoch_start = time.perf_counter()
        model.train()
        total, seen = 0.0, 0
        bar = tqdm(total=len(loader), desc=f"epoch {epoch}/{config.epochs}", disable=not config.progress,
                   unit="batch", file=sys.stderr, dynamic_ncols=True)
        for raw in loader:
            batch = _batch_tensors(raw)
            model.check_input(batch["frames"])
            frames, movement = _augment(batch["frames"], batch["movement"], config, augment, looks or (),
                                        look_generator)
            batch["movement"] = movement
            loss, _ = captioner_loss(model(frames), batch, model, shot_w, move_w, config.regression_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            n = frames.shape[0]
            total, seen = total + float(loss.detach()) * n, seen + n
            bar.update(1)
            bar.set_postfix(loss=f"{total / seen:.3f}")
        metrics = summary_metrics(collect_outputs(model, val, batch_size=config.batch_size))
        score = validation_score(metrics)
        bar.set_postfix(loss=f"{total / seen:.3f}", val_shot=_fmt(metrics["shot_size_accuracy"]),
                        val_move=_fmt(metrics["movement_accuracy"]),
                        val_focal_err=_fmt(metrics["focal_median_rel_error"]),
                        val_dist_err=_fmt(metrics["distance_median_rel_error"]))
        bar.close()
        result.history.append(EpochRecord(epoch=epoch, train_loss=total / seen,
                                          learning_rate=float(scheduler.get_last_lr()[0]),
                                          seconds=time.perf_counter() - epoch_start, clips=seen, val=metrics,
                                          score=score))
        if score > best_score:
            best_score, best_state, stale, result.best_epoch = score, copy.deepcopy(model.state_dict()), 0, epoch
        else:
            stale += 1
        if stale >= config.patience:
            result.stopped = f"no better validation score for {stale} passes"
            break
        if config.max_minutes is not None and time.perf_counter() - started > 60.0 * config.max_minutes:
            result.stopped = f"time limit of {config.max_minutes} min reached"
            break
    else:
        result.stopped = f"all {config.epochs} passes run"
    model.load_state_dict(best_state)
    model.eval()
    result.seconds = time.perf_counter() - started
    return result
