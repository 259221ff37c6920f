"""The catalogue tests' studio: small real takes, sealed and uploaded once a session into a running SeaweedFS.

The store (prefix ``takes/``) holds, in name order:

* ``dolly-s2_1_001_*``: the push-in take, sealed xxh64 by ``dit`` as the recorder closed it, then
  given the captioner's ``captions.json`` (made with ``engines.captioner.model.shots.shots_document``)
  and sealed again (generation 2, in place);
* ``dolly-s2_1_002_*``: the same take, damaged in the store: ``bag/bag_0.mcap`` altered (one byte,
  same size), ``bag/metadata.yaml`` deleted, ``notes.txt`` added;
* ``fake-s3_1_001_*``: a sealed folder that looks like a take but whose bag is noise (verifies,
  cannot be labelled);
* ``tampered-s4_1_001_*``: a sealed take whose MHL generation was edited in the store;
* ``unsealed-s5_1_001_*``: a take uploaded without its ASC MHL history;
* ``zoom-s1_1_001_*``: the MCU zoom take, sealed xxh128 by ``dit`` as the recorder closed it and
  offloaded by ``loader`` (``copy_take``: generation 2, transfer).

``catalogue_url`` gives each test a new, empty catalogue on each backend: a SQLite file, and a
database of one real PostgreSQL server for the session (:mod:`tests.harness.postgres`). The
dataset builder is run on the good takes' local folders as the referee of labels and shots
(``built``). Nothing here runs git: the builder's provenance is told there is no checkout.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator

import pytest

from studio_sync.catalogue import IngestReport, ingest_takes, open_catalogue
from studio_sync.custody import copy_take, seal_take
from tests.harness.postgres import postgres_unavailable, running_postgres
from tests.harness.studio import RunningStudio, running_studio
from tests.studio_sync.catalogue.takes import Variant, record_dolly, record_zoom, upload_take

PREFIX = "takes/"
GOOD_DOLLY = Variant("dolly-s2", take=1, omit=frozenset({"lidar"}))
DAMAGED_DOLLY = Variant("dolly-s2", take=2, omit=frozenset({"lidar"}))
SPARE_DOLLY = Variant("dolly-s2", take=3, omit=frozenset({"lidar"}))
CAPTION_MODEL = {"path": "/models/captioner.onsetcap", "weights_sha256": "ab" * 32, "size": "small"}


@dataclass
class Recorded:
    """The local take folders, by role."""

    zoom: Path
    dolly: Path
    damaged: Path
    spare: Path
    fake: Path
    tampered: Path
    unsealed: Path


@dataclass
class Studio:
    """The running studio, the takes' local folders, and the names the store holds them under."""

    running: RunningStudio
    recorded: Recorded

    @property
    def config(self):
        return self.running.config

    def client(self, role: str = "writer"):
        return self.running.client(role)

    @property
    def good(self) -> Dict[str, Path]:
        return {self.recorded.dolly.name: self.recorded.dolly, self.recorded.zoom.name: self.recorded.zoom}


@pytest.fixture(scope="session", autouse=True)
def _no_git():
    # The builder's provenance asks git for the checkout's commit; these tests run no git.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("engines.captioner.dataset.provenance.git_commit", lambda: (None, None))
        yield


def _captions(take: Path) -> None:
    from engines.captioner.model.shots import ShotCaption, shots_document

    def caption(index: int, first: int, last: int, sentence: str, confidence: float) -> ShotCaption:
        return ShotCaption(index=index, first_frame=first, last_frame=last, frames=last - first + 1, start_ns=0,
                           end_ns=0, tc_in=None, tc_out=None, shot_size="WS", shot_size_confidence=0.9,
                           movement="static", movement_confidence=0.9, focal_mm_mean=35.0, focal_mm_start=35.0,
                           focal_mm_end=35.0, focal_confidence=0.9, distance_m_median=None, distance_confidence=None,
                           movement_rate=None, movement_rate_unit=None, confidence=confidence, outliers=(),
                           sentence=sentence)

    shots = [caption(0, 0, 29, "WS on 35 mm, static", 0.81), caption(1, 30, 86, "WS on 35 mm, push-in", 0.64)]
    document = shots_document(shots, [], take={"name": take.name}, model=CAPTION_MODEL)
    (take / "captions.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def _fake_take(folder: Path, scene: str) -> Path:
    (folder / "bag").mkdir(parents=True)
    (folder / "bag" / "bag_0.mcap").write_bytes(random.Random(scene).randbytes(4096))
    (folder / "bag" / "metadata.yaml").write_text("rosbag2_bagfile_information:\n  version: 5\n  message_count: 0\n")
    document = {"format": "onset-take", "format_version": 1, "name": folder.name, "status": "complete",
                "slate": {"scene": scene, "shot": "1", "take": 1},
                "bag": {"path": "bag", "file": "bag_0.mcap", "storage": "mcap"}, "notes": [], "errors": []}
    (folder / "take.json").write_text(json.dumps(document, indent=2) + "\n")
    return folder


@pytest.fixture(scope="session")
def recorded(tmp_path_factory) -> Recorded:
    root = tmp_path_factory.mktemp("catalogue-takes")
    rig_dir, offload_dir = root / "rig", root / "offload"
    rig_dir.mkdir()
    offload_dir.mkdir()
    zoom = record_zoom(rig_dir)
    dollies = record_dolly(rig_dir, [GOOD_DOLLY, DAMAGED_DOLLY, SPARE_DOLLY])
    zoom = copy_take(zoom, offload_dir, author="loader").copy
    dolly = dollies[GOOD_DOLLY]
    _captions(dolly)
    seal_take(dolly, hash_format="xxh64", author="dit", comment="captions added")
    fake = _fake_take(root / "fake-s3_1_001_20260101T000000Z", "fake-s3")
    tampered = _fake_take(root / "tampered-s4_1_001_20260101T000000Z", "tampered-s4")
    unsealed = _fake_take(root / "unsealed-s5_1_001_20260101T000000Z", "unsealed-s5")
    seal_take(fake, author="dit")
    seal_take(tampered, author="dit")
    return Recorded(zoom, dolly, dollies[DAMAGED_DOLLY], dollies[SPARE_DOLLY], fake, tampered, unsealed)


def damage(client, bucket: str, prefix: str, take: Path, name: str = "") -> str:
    """Alter ``bag/bag_0.mcap`` (one byte), delete ``bag/metadata.yaml``, add ``notes.txt``, in the store."""
    name = name or take.name
    base = f"{prefix}{name}/"
    bag = bytearray((take / "bag" / "bag_0.mcap").read_bytes())
    bag[len(bag) // 2] ^= 0x01
    client.put_object(Bucket=bucket, Key=base + "bag/bag_0.mcap", Body=bytes(bag))
    client.delete_object(Bucket=bucket, Key=base + "bag/metadata.yaml")
    client.put_object(Bucket=bucket, Key=base + "notes.txt", Body=b"slate was wrong\n")
    return name


@pytest.fixture(scope="session")
def studio(recorded: Recorded) -> Iterator[Studio]:
    with running_studio() as running:
        writer, bucket = running.client("writer"), running.bucket
        for folder in (recorded.zoom, recorded.dolly, recorded.damaged, recorded.fake, recorded.tampered,
                       recorded.unsealed):
            upload_take(writer, bucket, PREFIX, folder)
        damage(writer, bucket, PREFIX, recorded.damaged)
        mhl = next((recorded.tampered / "ascmhl").glob("0001_*.mhl"))
        edited = mhl.read_bytes().replace(b"<author", b"<!-- edited --><author", 1)
        assert edited != mhl.read_bytes()
        writer.put_object(Bucket=bucket, Key=f"{PREFIX}{recorded.tampered.name}/ascmhl/{mhl.name}", Body=edited)
        yield Studio(running, recorded)


@pytest.fixture(scope="session")
def postgres():
    reason = postgres_unavailable()
    if reason is not None:
        pytest.skip(f"no PostgreSQL server for the catalogue tests: {reason}")
    with running_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def catalogue_url(request, tmp_path) -> str:
    """A new, empty catalogue on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    return request.getfixturevalue("postgres").new_database()


@dataclass
class Ingested:
    """One backend's catalogue after ingesting the whole store, and the run's report."""

    url: str
    report: IngestReport


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def ingested(request, studio: Studio, tmp_path_factory) -> Ingested:
    """The whole store ingested once a session into each backend (tests only read it)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('ingested') / 'catalogue.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").new_database("ingested")
    with open_catalogue(url) as catalogue:
        report = ingest_takes(studio.config, catalogue)
    return Ingested(url, report)


@pytest.fixture(scope="session")
def built(recorded: Recorded, tmp_path_factory) -> Path:
    """The dataset builder's dataset of the good takes (its frames.csv and shots.csv are the referee)."""
    from engines.captioner.dataset import BuildOptions, build_dataset

    out = tmp_path_factory.mktemp("built") / "ds"
    build_dataset([recorded.dolly, recorded.zoom], out, BuildOptions(command="onset dataset build"))
    return out
