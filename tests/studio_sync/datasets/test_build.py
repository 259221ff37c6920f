"""A dataset built from the studio: the captioner builder's dataset of the same takes, with their provenance."""

from __future__ import annotations

import dataclasses
import hashlib
import socket
import sys

import pytest

from engines.captioner.dataset import DatasetExistsError, read_index
from studio_sync.datasets import (
    CatalogueMismatchError,
    DatasetQuery,
    EngineError,
    RayNotInstalledError,
    RayUnreachableError,
    SelectionError,
    TakeNotVerifiedError,
    build_studio_dataset,
)
from tests.studio_sync.datasets.conftest import MS, OPTIONS
from tests.studio_sync.datasets.samples import samples_by_key
from tests.studio_sync.datasets.store import upload_take

_STUDIO_PROVENANCE = ("source_url", "mhl_chain_sha256", "mhl_generation", "mhl_generation_file", "mhl_generation_c4")


def _without_provenance(meta):
    return {k: v for k, v in meta.items() if k != "provenance"}


def test_a_studio_build_holds_the_samples_and_labels_of_the_local_build(studio_build, reference):
    ours, theirs = samples_by_key(studio_build.root), samples_by_key(reference.root)
    assert list(ours) == list(theirs) and len(ours) > 60
    for key, sample in ours.items():
        other = theirs[key]
        assert sample.files["rgb.png"] == other.files["rgb.png"]
        assert sample.files["depth.png"] == other.files["depth.png"]
        assert _without_provenance(sample.meta) == _without_provenance(other.meta)
        extra = {k: v for k, v in sample.meta["provenance"].items() if k not in other.meta["provenance"]}
        assert set(extra) == set(_STUDIO_PROVENANCE)
        assert {k: sample.meta["provenance"][k] for k in other.meta["provenance"]} == other.meta["provenance"]
    for name in ("frames.csv", "shots.csv"):
        assert (studio_build.root / name).read_bytes() == (reference.root / name).read_bytes()
    assert studio_build.dataset.samples_per_split == reference.samples_per_split
    assert sorted(p.relative_to(studio_build.root).as_posix() for p in studio_build.root.rglob("*.tar")) == \
        sorted(p.relative_to(reference.root).as_posix() for p in reference.root.rglob("*.tar"))


def test_the_index_records_the_query_the_urls_and_the_mhl_digests(studio_build, reference, studio, takes):
    index, theirs = read_index(studio_build.root), read_index(reference.root)
    studio_part = index["build"].pop("studio")
    assert index["build"] == theirs["build"]
    assert index["splits"] == theirs["splits"]
    prefix = f"s3://{studio.running.bucket}/{studio.config.storage.prefix}"
    for ours, other in zip(index["takes"], theirs["takes"]):
        assert ours.pop("source_path") == f"{prefix}{other['name']}/"
        other.pop("source_path")
        assert ours == other
    assert studio_part["catalogue"] == studio.catalogue_url
    assert studio_part["query"]["phrase"] is None and studio_part["query"]["filters"]["shot_sizes"] == []
    assert studio_part["storage"]["bucket"] == studio.running.bucket
    by_name = {t["take"]: t for t in studio_part["takes"]}
    assert [t["take"] for t in studio_part["takes"]] == [t["name"] for t in theirs["takes"]]
    for folder in takes.folders:
        entry = by_name[folder.name]
        chain = (folder / "ascmhl" / "ascmhl_chain.xml").read_bytes()
        assert entry["url"] == f"{prefix}{folder.name}/"
        assert entry["mhl_chain_sha256"] == hashlib.sha256(chain).hexdigest()
        assert entry["mhl_generation"] == 1 and entry["mhl_generation_file"].encode() in chain
        assert entry["mhl_generation_c4"].encode() in chain
        assert entry["whole_take"] is True


def test_a_frame_selection_builds_exactly_the_selected_frames_with_their_takes_shots(studio, reference, tmp_path):
    selection = studio.selection(DatasetQuery(phrase="static"))
    report = build_studio_dataset(studio.config, selection, tmp_path / "ds", OPTIONS, cache=tmp_path / "cache")
    ours, theirs = samples_by_key(report.root), samples_by_key(reference.root)
    wanted = {f"{t.take_id}__{i:06d}" for t in selection.takes for i in t.frames}
    assert set(ours) == wanted and len(ours) == selection.frames
    for key, sample in ours.items():
        assert sample.files["rgb.png"] == theirs[key].files["rgb.png"]
        assert _without_provenance(sample.meta) == _without_provenance(theirs[key].meta)
        assert sample.meta["labels"]["movement"] == "static"
    frames = (report.root / "frames.csv").read_text().splitlines()
    reference_rows = set((reference.root / "frames.csv").read_text().splitlines()[1:])
    assert len(frames) == 1 + len(wanted)
    assert all(row.split(",")[0] in wanted for row in frames[1:])
    shot_ids = {sample.meta["shot_id"] for sample in ours.values()}
    shots = (report.root / "shots.csv").read_text().splitlines()[1:]
    reference_shots = {row.split(",")[0]: row for row in (reference.root / "shots.csv").read_text().splitlines()[1:]}
    assert sorted(row.split(",")[0] for row in shots) == sorted(shot_ids)
    assert all(reference_shots[row.split(",")[0]] == row for row in shots)
    assert reference_rows  # the reference has rows to compare with at all
    index = read_index(report.root)
    assert index["build"]["studio"]["query"]["phrase"] == "static"
    assert {t["take"]: t["selected_frames"] for t in index["build"]["studio"]["takes"]} == \
        {t.take: len(t.frames) for t in selection.takes}


def test_a_take_altered_in_the_store_is_refused_and_nothing_is_exported(studio, takes, tmp_path):
    prefix = "build-altered/"
    writer = studio.running.client("writer")
    for scene, folder in takes.by_scene.items():
        alter = {"bag/bag_0.mcap": lambda data: data[:-1] + bytes([data[-1] ^ 0x80])} if scene == MS else None
        upload_take(writer, studio.running.bucket, prefix, folder, alter)
    storage = studio.config.storage.model_copy(update={"prefix": prefix})
    config = studio.config.model_copy(update={"storage": storage})
    out = tmp_path / "ds"
    with pytest.raises(TakeNotVerifiedError) as caught:
        build_studio_dataset(config, studio.selection(DatasetQuery()), out, OPTIONS, cache=tmp_path / "cache")
    assert caught.value.take == takes.name(MS)
    assert "altered: bag/bag_0.mcap" in str(caught.value)
    assert not (out / "index.json").exists()
    assert not list(out.glob(".spool-*")) and not list(out.rglob("*.partial"))


def test_a_take_the_catalogue_describes_otherwise_is_refused_as_stale(studio, tmp_path):
    selection = studio.selection(DatasetQuery(scenes=(MS,)))
    stale = dataclasses.replace(selection, takes=(dataclasses.replace(selection.takes[0], take_json_sha256="0" * 64),))
    with pytest.raises(CatalogueMismatchError, match="take.json is not the one catalogued"):
        build_studio_dataset(studio.config, stale, tmp_path / "ds", OPTIONS, cache=tmp_path / "cache")
    real = min(studio.selection(DatasetQuery(phrase="MS")).takes[0].frames)
    frames = dataclasses.replace(selection.takes[0], frames=frozenset({real, 10_000}))
    with pytest.raises(CatalogueMismatchError, match="frame index 10000"):
        build_studio_dataset(studio.config, dataclasses.replace(selection, takes=(frames,)), tmp_path / "ds2",
                             OPTIONS, cache=tmp_path / "cache")


def test_what_the_build_cannot_honour_is_refused_before_anything_is_fetched(studio, tmp_path, monkeypatch):
    frames = studio.selection(DatasetQuery(phrase="MS"))
    whole = studio.selection(DatasetQuery(scenes=(MS,)))
    out = tmp_path / "ds"
    with pytest.raises(SelectionError, match="catalogued at 12 fps"):
        build_studio_dataset(studio.config, frames, out, dataclasses.replace(OPTIONS, fps=6.0))
    assert not out.exists()
    with pytest.raises(SelectionError, match="nothing selected"):
        build_studio_dataset(studio.config, dataclasses.replace(whole, takes=()), out, OPTIONS)
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(DatasetExistsError):
        build_studio_dataset(studio.config, whole, out, OPTIONS)
    with pytest.raises(EngineError, match="not one of local, ray"):
        build_studio_dataset(studio.config, whole, tmp_path / "other", OPTIONS, engine="dask")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(RayNotInstalledError, match=r"pip install 'onset-edge\[ray\]'"):
        build_studio_dataset(studio.config, whole, tmp_path / "other", OPTIONS, engine="ray")


def test_a_ray_address_nothing_listens_on_is_refused_at_once(studio, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RayUnreachableError, match=f"no Ray cluster answers at 127.0.0.1:{port}"):
        build_studio_dataset(studio.config, studio.selection(DatasetQuery(scenes=(MS,))), tmp_path / "ds", OPTIONS,
                             engine="ray", ray_address=f"127.0.0.1:{port}")
    assert not (tmp_path / "ds").exists()
