"""What the studio dataset tests share, made once a session.

* three small takes of the simulated stage, recorded in-process (``tests/engines/captioner/dataset/takes.py``)
  and sealed with :func:`studio_sync.custody.seal_take`: ``pan-s7`` (the rig panning right, nobody
  in frame), ``ms-s7`` (a medium shot held by a dolly following the actor) and ``cu-s9`` (a
  close-up held the same way, on a longer lens);
* a running studio (SeaweedFS on free ports) holding them under its prefix, and a catalogue
  (SQLite) they were ingested into by :func:`studio_sync.catalogue.ingest_takes`;
* the referee: :func:`engines.captioner.dataset.build_dataset` run on the same take folders;
* the dataset of every take built from the studio in this process, with its own cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import pytest

from config import load_profile
from engines.captioner.dataset import BuildOptions, BuildReport, build_dataset
from sensors.sim.framing import framing_take
from sensors.sim.shots import movement_plan
from sensors.sim.stage import Stage
from studio_sync.catalogue import ingest_takes, open_catalogue
from studio_sync.custody import seal_take
from studio_sync.datasets import DatasetQuery, Selection, StudioBuildReport, build_studio_dataset, select
from tests.engines.captioner.dataset.takes import Variant, record_replay
from tests.harness.replay import EPOCH_NS
from tests.harness.studio import RunningStudio, running_studio
from tests.studio_sync.datasets.store import upload_take

#: What every build in these tests is told it was run as (provenance), so builds compare byte for byte.
COMMAND = "onset studio dataset build --out ds --val-scenes ms-s7"
OPTIONS = BuildOptions(val_scenes=("ms-s7",), shard_samples=16, command=COMMAND)
PAN, MS, CU = "pan-s7", "ms-s7", "cu-s9"


@dataclass
class Takes:
    """The recorded takes by scene, and all of them."""

    by_scene: Dict[str, Path]

    @property
    def folders(self) -> List[Path]:
        return [self.by_scene[s] for s in (PAN, MS, CU)]

    def name(self, scene: str) -> str:
        return self.by_scene[scene].name


@dataclass
class Studio:
    """The running studio holding the takes, and the catalogue they were ingested into."""

    running: RunningStudio
    catalogue_url: str

    @property
    def config(self):
        return self.running.config

    def selection(self, query: DatasetQuery) -> Selection:
        with open_catalogue(self.catalogue_url, create=False) as catalogue:
            return select(catalogue, query)


def _unsealed(rig):
    custody = rig.studio.custody.model_copy(update={"on_close": False})
    return rig.model_copy(update={"studio": rig.studio.model_copy(update={"custody": custody})})


@pytest.fixture(scope="session")
def takes(tmp_path_factory) -> Takes:
    base = _unsealed(load_profile())
    folder = tmp_path_factory.mktemp("studio-takes")
    found: Dict[str, Path] = {}
    plan = movement_plan("pan_right", base.stage, duration_s=2.0, start_s=0.5)
    rig = base.model_copy(update={"stage": base.stage.model_copy(update={"shot": plan, "loop": False})})
    found.update({v.scene: p for v, p in record_replay(rig, Stage(rig.stage, EPOCH_NS), folder / PAN,
                                                         [Variant(PAN)], 3.0).takes.items()})
    for size, scene in (("MS", MS), ("MCU", CU)):
        stage, plan = framing_take(size, base.stage, 0, duration_s=2.0, start_s=1.0)
        rig = base.model_copy(update={"stage": stage.model_copy(update={"shot": plan, "loop": False})})
        replayed = record_replay(rig, Stage(rig.stage, EPOCH_NS), folder / scene, [Variant(scene)], 2.0,
                                 start_s=plan[0].t_s - 0.5)
        found.update({v.scene: p for v, p in replayed.takes.items()})
    for path in found.values():
        assert not (path / "ascmhl").exists()
        seal_take(path, author="onset-tests")
    return Takes(found)


@pytest.fixture(scope="session")
def studio(takes: Takes, tmp_path_factory) -> Studio:
    with running_studio() as running:
        writer = running.client("writer")
        for folder in takes.folders:
            upload_take(writer, running.bucket, running.config.storage.prefix, folder)
        url = f"sqlite:///{tmp_path_factory.mktemp('catalogue') / 'catalogue.sqlite'}"
        with open_catalogue(url) as catalogue:
            report = ingest_takes(running.config, catalogue)
        assert [o.status for o in report.outcomes] == ["ingested"] * 3, report.to_dict()
        yield Studio(running, url)


@pytest.fixture(scope="session")
def reference(takes: Takes, tmp_path_factory) -> BuildReport:
    """The captioner builder's dataset of the same take folders: the referee."""
    return build_dataset(takes.folders, tmp_path_factory.mktemp("reference") / "ds", OPTIONS)


@pytest.fixture(scope="session")
def studio_build(studio: Studio, tmp_path_factory) -> StudioBuildReport:
    """Every take, built from the studio in this process."""
    root = tmp_path_factory.mktemp("studio-build")
    return build_studio_dataset(studio.config, studio.selection(DatasetQuery()), root / "ds", OPTIONS,
                                cache=root / "cache")
