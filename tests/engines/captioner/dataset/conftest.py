"""Takes the dataset tests share, recorded once a session (:mod:`.takes`), and one dataset built from them.

* ``pan``: the sim stage's rig at rest, panning right (15 deg/s, 2.5 s) and at rest again, an actor
  in frame before the pan; recorded whole, without the lens topic, without LiDAR, without
  telemetry (pose, lens, /tf), without camera frames, and with the rig pose on /tf only, all in
  scene ``pan-s7``;
* ``framing``: a medium shot of actor 0 held by the dolly following it (3 s), in scenes ``ms-s7``
  and (the same messages again) ``ms-s9``.

The dataset puts ``ms-s7`` in validation and ``ms-s9`` in test by name, ``pan-s7`` by hash (train),
with 40 samples a shard so that splits span several shards.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict

import pytest

from config import load_profile
from engines.captioner.dataset import BuildOptions, BuildReport, build_dataset
from sensors.sim.framing import framing_take
from sensors.sim.shots import movement_plan
from sensors.sim.stage import Stage
from tests.engines.captioner.dataset.takes import Replayed, Variant, record_replay
from tests.harness.replay import EPOCH_NS

FULL = Variant("pan-s7", take=1)
NO_LENS = Variant("pan-s7", take=2, omit=frozenset({"lens"}))
NO_LIDAR = Variant("pan-s7", take=3, omit=frozenset({"lidar"}))
NO_TELEMETRY = Variant("pan-s7", take=4, omit=frozenset({"pose", "lens", "tf"}))
NO_FRAMES = Variant("pan-s7", take=5, omit=frozenset({"image"}))
POSE_ON_TF_ONLY = Variant("pan-s7", take=6, omit=frozenset({"pose"}))
FRAMING = Variant("ms-s7", take=1)
FRAMING_AGAIN = Variant("ms-s9", take=1)
#: What the build is told it was run as (provenance).
COMMAND = "onset dataset build takes --out ds --val-scenes ms-s7 --test-scenes ms-s9"
SHARD_SAMPLES = 40


@dataclass
class Built:
    """The shared dataset: where it is, what the build reported, and the replays it came from."""

    root: Path
    report: BuildReport
    replays: Dict[str, Replayed]


@pytest.fixture(scope="session")
def pan(tmp_path_factory) -> Replayed:
    base = load_profile()
    plan = movement_plan("pan_right", base.stage, duration_s=2.5, start_s=1.0)
    rig = base.model_copy(update={"stage": base.stage.model_copy(update={"shot": plan, "loop": False})})
    return record_replay(rig, Stage(rig.stage, EPOCH_NS), tmp_path_factory.mktemp("pan-takes"),
                         [FULL, NO_LENS, NO_LIDAR, NO_TELEMETRY, NO_FRAMES, POSE_ON_TF_ONLY], 4.5)


@pytest.fixture(scope="session")
def framing(tmp_path_factory) -> Replayed:
    base = load_profile()
    stage_config, plan = framing_take("MS", base.stage, 0, duration_s=3.0, start_s=1.0)
    rig = base.model_copy(update={"stage": stage_config.model_copy(update={"shot": plan, "loop": False})})
    return record_replay(rig, Stage(rig.stage, EPOCH_NS), tmp_path_factory.mktemp("framing-takes"),
                         [FRAMING, FRAMING_AGAIN], 3.0, start_s=plan[0].t_s - 0.5)


@pytest.fixture(scope="session")
def built(tmp_path_factory, pan: Replayed, framing: Replayed) -> Built:
    takes = [pan.takes[v] for v in (FULL, NO_LENS, NO_LIDAR, NO_TELEMETRY)] + [framing.takes[FRAMING],
                                                                                 framing.takes[FRAMING_AGAIN]]
    root = tmp_path_factory.mktemp("dataset") / "ds"
    options = BuildOptions(val_scenes=("ms-s7",), test_scenes=("ms-s9",), shard_samples=SHARD_SAMPLES,
                           command=COMMAND)
    report = build_dataset(takes, root, options)
    return Built(root, report, {"pan": pan, "framing": framing})
