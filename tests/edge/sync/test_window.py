"""The LiDAR window's trade, scored as ``python -m benchmarks window`` scores it, on a tiny replay of
the default shot: waiting for points after the exposure gives younger depth on the walking actors,
and the depth there lands nearer the actors' true place at the frame's instant.

The sim's truth (which surface each return hit, where the actors are) is used for scoring only.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.bench_window import replay_window, score_window, shot_run, summary
from config import load_profile
from config.sync import SyncConfig
from sensors.vocabulary import NS_PER_MS, NS_PER_S

from ._stage import EPOCH_NS

WARMUP_S, SCORED_S = 1.0, 1.0


@pytest.fixture(scope="module")
def shot():
    from sensors.sim.stage import Stage

    rig = load_profile()
    rig = rig.model_copy(update={"camera": rig.camera.model_copy(update={"width_px": 320, "height_px": 180})})
    stage = Stage(rig.stage, EPOCH_NS)
    run = shot_run(rig, stage, SCORED_S, WARMUP_S)
    span = (EPOCH_NS + int(WARMUP_S * NS_PER_S), EPOCH_NS + int((WARMUP_S + SCORED_S) * NS_PER_S))
    return rig, stage, run, span


def _scored(shot, after_ms: int):
    rig, stage, run, span = shot
    config = rig.sync.model_copy(update={"lidar_window_ns": (100 * NS_PER_MS, after_ms * NS_PER_MS),
                                         "deadline_ns": (21 + after_ms) * NS_PER_MS})
    score = score_window(run, stage, replay_window(run, SyncConfig.model_validate(config.model_dump())), span)
    return score, summary(score)


@pytest.mark.slow
def test_waiting_for_points_after_the_exposure_gives_younger_depth_on_the_actors(shot):
    now, now_s = _scored(shot, 0)
    later, later_s = _scored(shot, 50)
    print(f"\nactors: depth age p50 {now_s['actor_age']:.1f} ms with (100, 0), {later_s['actor_age']:.1f} ms with "
          f"(100, 50); reprojection p50 {now_s['actor'][0]:.2f} px -> {later_s['actor'][0]:.2f} px; static set "
          f"p95 {now_s['static'][1]:.3f} px; {now.scored} of {now.frames} frames")
    for score, s in ((now, now_s), (later, later_s)):
        assert score.frames >= 20 and score.scored == score.frames  # every frame had depth to score
        assert score.covered == score.fused == score.frames  # each waited for its whole window
        assert s["n_actor"] > 200  # the actors are in view
        assert s["static"][1] < 0.25  # the static set lands where it is, whatever the window
    # Waiting buys fresher returns on the actors, and with them depth nearer where the actors are.
    assert later_s["actor_age"] < 0.8 * now_s["actor_age"]
    assert later_s["actor"][0] < 0.85 * now_s["actor"][0]
    # The wait it costs: the frames were fused only once the points up to t + 50 ms had come.
    assert np.min(later.wait_ms) >= 49.0 > np.max(now.wait_ms)
