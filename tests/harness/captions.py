"""The auto-labeler on replayed takes of the simulated stage, and the stage's truth to score it.

:func:`labelled_replay` plays a shot plan on the stage (offline: :mod:`tests.harness.replay`, the
sensors decoded by the real drivers, fused by the real synchronizer) and labels every fused frame
with :class:`engines.captioner.labeler.AutoLabeler`, which sees only the fused frames. Each labelled
frame comes back with its true exposure instant, so :func:`truth_shot` can score it from the
stage's own geometry: who is framed, how far, at which size, by the same definitions the labeler
uses (:mod:`engines.captioner.shot_size`). Scoring only: the truth never reaches the labeler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from config.models import RigConfig, ShotKeyframe
from config.sync import SyncConfig
from edge.fusion.depth import camera_intrinsics
from engines.captioner.labeler import AutoLabeler, FrameLabels
from engines.captioner.shot_size import ShotSize, frame_cut, shot_size_of
from sensors.sim.actors import ACTOR_HEIGHT_M
from sensors.vocabulary import NS_PER_S
from tests.harness.replay import EPOCH_NS

__all__ = ["Labelled", "labelled_replay", "truth_shot", "TruthShot", "CHIN_BELOW_TOP"]

#: The chin lies this share of the actors' height below their top (1.52 of 1.75 m): a person whose
#: face is out of frame (the frame's upper edge below the chin) is not a framed subject.
CHIN_BELOW_TOP = 0.13


@dataclass(frozen=True)
class Labelled:
    """One fused frame's labels and its true exposure mid-time (master ns) and plan time (s)."""

    labels: FrameLabels
    master_ns: int
    plan_s: float


@dataclass(frozen=True)
class TruthShot:
    """The stage's truth at an instant: ``size`` (``NONE``: no framed actor), ``distance_m``
    (median optical-axis depth of the framed actor's visible surface) and ``actor`` (its index)."""

    size: ShotSize
    distance_m: Optional[float]
    actor: Optional[int]


def labelled_replay(base: RigConfig, plan: List[ShotKeyframe], seconds: float, warmup_s: float,
                    seed: int = 0, stage_config=None) -> Tuple[object, List[Labelled]]:
    """Play ``plan`` (not looped) on ``base``'s stage (or ``stage_config``, e.g. with the track laid
    for the shot) for ``warmup_s + seconds`` and label every fused frame; returns
    ``(the Stage, labelled frames in order)``."""
    from tests.harness.window import replay_window, shot_run
    from sensors.sim.stage import Stage

    config = base.stage if stage_config is None else stage_config
    rig = base.model_copy(update={"stage": config.model_copy(update={"shot": plan, "loop": False})})
    stage = Stage(rig.stage, EPOCH_NS)
    run = shot_run(rig, stage, seconds, warmup_s, seed=seed)
    result = replay_window(run, SyncConfig.model_validate(rig.sync.model_dump()))
    truth = {e.item.frame_index: e.truth for e in run.events if e.kind == "frame"}
    labeler = AutoLabeler(rig.camera.intrinsics.sensor_width_mm)
    out = []
    for _, frame, _ in result.fused:
        labels = labeler.label(frame)
        master = int(truth[frame.frame_index].master_ns)
        out.append(Labelled(labels, master, (master - EPOCH_NS) / NS_PER_S))
    return stage, out


def truth_shot(stage, camera, t_ns: int, step_px: int = 4, min_pixels: int = 20) -> TruthShot:
    """Who is framed at master time ``t_ns`` and how (module docstring): the camera's pixels every
    ``step_px`` are cast at the true pose and lens; an actor with at least ``min_pixels`` of them
    and its face in frame is a candidate; the one nearest the frame's centre column (then the
    nearer) is the subject, its plane through the median of its visible surface."""
    lens = stage.lens(t_ns)
    K, _ = camera_intrinsics(camera, lens.focal_length_mm)
    T = stage.T_stage_optical(t_ns)
    us, vs = np.meshgrid(np.arange(0, camera.width_px, step_px), np.arange(0, camera.height_px, step_px))
    pixels = np.stack([us.ravel(), vs.ravel(), np.ones(us.size)], axis=1)
    rays = (pixels @ np.linalg.inv(K).T) @ T[:3, :3].T
    norm = np.linalg.norm(rays, axis=1)
    hits = stage.cast_rays(np.repeat(T[None, :3, 3], len(rays), axis=0), rays / norm[:, None], int(t_ns))
    optical = hits.distance_m / norm
    first = int(stage.scene.first_actor_id)
    best = None
    for k in range(len(stage.actors)):
        on = hits.object_id == first + k
        if np.count_nonzero(on) < min_pixels:
            continue
        points = T[:3, 3] + rays[on] / norm[on, None] * hits.distance_m[on, None]
        xy = (float(np.median(points[:, 0])), float(np.median(points[:, 1])))
        cut = frame_cut(K, T, (camera.width_px, camera.height_px), xy, ACTOR_HEIGHT_M)
        if cut.upper_z_m < ACTOR_HEIGHT_M * (1.0 - CHIN_BELOW_TOP):
            continue  # the face is out of frame: legs or a torso, not a framed subject
        key = (abs(float(us.ravel()[on].mean()) - (camera.width_px - 1) / 2.0), float(np.median(optical[on])))
        if best is None or key < best[0]:
            best = (key, k, cut)
    if best is None:
        return TruthShot(ShotSize.NONE, None, None)
    return TruthShot(shot_size_of(best[2]), best[0][1], best[1])
