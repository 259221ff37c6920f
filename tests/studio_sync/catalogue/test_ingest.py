"""Ingest from a running studio into each backend: verified takes catalogued, the others refused and named."""

from __future__ import annotations

import hashlib
import json
import platform

import pytest

from studio_sync.catalogue import (
    FAILED,
    INGESTED,
    REFUSED,
    CatalogueQueryError,
    IngestError,
    ingest_takes,
    open_catalogue,
)
from studio_sync.storage import Credentials, s3_client
from tests.studio_sync.catalogue.conftest import CAPTION_MODEL, PREFIX, damage
from tests.studio_sync.catalogue.takes import upload_take

_TAKE_TABLES = ("takes", "shots", "frames", "provenance", "generations")


def _count(catalogue, table: str, take: str) -> int:
    return int(catalogue.scalar(f"SELECT COUNT(*) FROM {table} WHERE take = ?", (take,)))


def test_every_take_is_verified_the_good_catalogued_the_bad_refused_and_named(ingested, studio):
    r = studio.recorded
    outcomes = {o.take: o for o in ingested.report.outcomes}
    assert list(outcomes) == sorted(outcomes)  # name order
    assert {name: o.status for name, o in outcomes.items()} == {
        r.dolly.name: INGESTED, r.zoom.name: INGESTED, r.damaged.name: REFUSED, r.tampered.name: REFUSED,
        r.unsealed.name: REFUSED, r.fake.name: FAILED}
    damaged = outcomes[r.damaged.name]
    assert damaged.reason == "does NOT match generation 1: 1 altered, 1 missing, 1 extra"
    assert len(damaged.problems) == 3
    assert damaged.problems[0].startswith("altered: bag/bag_0.mcap (xxh64 recorded in generation 1")
    assert damaged.problems[1].startswith("missing: bag/metadata.yaml")
    assert damaged.problems[2].startswith("extra: notes.txt")
    assert "history cannot be trusted" in outcomes[r.tampered.name].reason
    assert "c4" in outcomes[r.tampered.name].reason
    assert "no ASC MHL history" in outcomes[r.unsealed.name].reason
    assert "labels cannot be derived" in outcomes[r.fake.name].reason
    assert outcomes[r.dolly.name].hash_formats == ("xxh64",) and outcomes[r.zoom.name].hash_formats == ("xxh128",)
    assert (ingested.report.ingested, ingested.report.refused, ingested.report.failed) == (2, 3, 1)
    assert not ingested.report.ok

    with open_catalogue(ingested.url, create=False) as catalogue:
        assert sorted(row["take"] for row in catalogue.rows("SELECT take FROM takes")) == sorted(studio.good)
        for name in (r.damaged.name, r.tampered.name, r.unsealed.name, r.fake.name):
            assert all(_count(catalogue, table, name) == 0 for table in _TAKE_TABLES), name
        for name in studio.good:
            assert all(_count(catalogue, table, name) > 0 for table in _TAKE_TABLES), name
        runs = catalogue.rows("SELECT * FROM ingest_runs")
        assert len(runs) == 1 and runs[0]["run_id"] == ingested.report.run_id
        run = runs[0]
        assert (run["status"], run["takes_seen"], run["ingested"], run["refused"], run["failed"]) == \
            ("finished", 6, 2, 3, 1)
        assert run["bucket"] == studio.config.storage.bucket and run["prefix"] == PREFIX and run["requested"] is None
        results = {row["take"]: row for row in catalogue.rows("SELECT * FROM ingest_results")}
        assert {name: row["status"] for name, row in results.items()} == \
            {name: o.status for name, o in outcomes.items()}
        assert json.loads(results[r.damaged.name]["problems"]) == list(damaged.problems)
        assert results[r.damaged.name]["reason"] == damaged.reason
        assert results[r.dolly.name]["frames"] == outcomes[r.dolly.name].frames > 0


def _local_bytes(folder) -> tuple:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def test_takes_and_provenance_say_what_recorded_sealed_offloaded_and_labelled_each_take(ingested, studio):
    r = studio.recorded
    with open_catalogue(ingested.url, create=False) as catalogue:
        takes = {row["take"]: row for row in catalogue.rows("SELECT * FROM takes")}
        provenance = {row["take"]: row for row in catalogue.rows("SELECT * FROM provenance")}
        generations = catalogue.rows("SELECT * FROM generations WHERE take = ? ORDER BY number", (r.zoom.name,))
        dolly_rows = catalogue.rows("SELECT * FROM generations WHERE take = ? ORDER BY number", (r.dolly.name,))
    for name, folder in studio.good.items():
        document = json.loads((folder / "take.json").read_text())
        take, prov = takes[name], provenance[name]
        assert (take["scene"], take["slate_shot"], take["slate_take"]) == (
            document["slate"]["scene"], document["slate"]["shot"], document["slate"]["take"])
        assert take["start_ns"] == document["master_time"]["start_ns"]
        assert take["stop_ns"] == document["master_time"]["stop_ns"]
        assert take["message_count"] == document["message_count"]
        assert take["timecode_rate"] == document["timecode"]["rate"]
        assert take["take_json_sha256"] == hashlib.sha256((folder / "take.json").read_bytes()).hexdigest()
        assert (take["stored_files"], take["stored_bytes"]) == _local_bytes(folder)  # ascmhl/ included
        assert take["storage_key"] == f"{PREFIX}{name}/" and take["bucket"] == studio.config.storage.bucket
        assert take["label_fps"] == 12.0 and take["ingest_run"] == ingested.report.run_id
        assert prov["rig_name"] == document["rig"]["name"] == "sim-stage" and prov["rig_simulated"] == 1
        assert prov["camera"] == "camera 128x72 px @ 24" and prov["lidars"] == "lidar (VLP-16)"
        assert json.loads(prov["calibration"]) == document["calibration"]
        assert prov["calibration_sha256"] == hashlib.sha256(prov["calibration"].encode()).hexdigest()
        assert json.loads(prov["software"]) == document["software"]
        assert prov["onset_version"] == document["software"]["onset"]
        assert prov["recorder_host"] == document["recorder"]["host"]
        assert json.loads(prov["engines"]) == document["rig"]["engines"]
        assert prov["sealed_by"] == "dit" and prov["sealed_host"] == platform.node()
        labels_software = json.loads(prov["labels_software"])
        assert labels_software["software"] == "onset-edge" and labels_software["fps"] == 12.0

    zoom, dolly = takes[r.zoom.name], takes[r.dolly.name]
    assert (zoom["has_lidar"], zoom["has_pose"], zoom["has_lens"], zoom["has_captions"]) == (1, 1, 1, 0)
    assert (dolly["has_lidar"], dolly["has_pose"], dolly["has_lens"], dolly["has_captions"]) == (0, 1, 1, 1)
    assert (zoom["hash_formats"], dolly["hash_formats"]) == ("xxh128", "xxh64")
    assert (zoom["mhl_generation"], dolly["mhl_generation"]) == (2, 2)
    # The zoom take was offloaded by `loader` (a transfer generation) after `dit` sealed it on the rig.
    prov = provenance[r.zoom.name]
    assert (prov["offloaded_by"], prov["offload_generation"], prov["offload_process"]) == ("loader", 2, "transfer")
    assert prov["offloaded_at"] >= prov["sealed_at"]
    assert [(g["number"], g["process"], g["author"]) for g in generations] == \
        [(1, "in-place", "dit"), (2, "transfer", "loader")]
    assert zoom["mhl_generation_file"] == generations[-1]["file_name"]
    dolly_generations = [(g["number"], g["process"], g["author"]) for g in dolly_rows]
    assert dolly_generations == [(1, "in-place", "dit"), (2, "in-place", "dit")]
    assert provenance[r.dolly.name]["offload_process"] == "in-place"
    assert json.loads(provenance[r.dolly.name]["captions_model"]) == CAPTION_MODEL
    assert provenance[r.dolly.name]["captions_model_sha256"] == CAPTION_MODEL["weights_sha256"]
    assert provenance[r.zoom.name]["captions_model"] is None


def test_captions_are_catalogued_per_frame_and_per_shot(ingested, studio):
    with open_catalogue(ingested.url, create=False) as catalogue:
        frames = catalogue.rows("SELECT frame_index, caption, caption_shot, caption_confidence FROM frames "
                                "WHERE take = ? ORDER BY frame_index", (studio.recorded.dolly.name,))
        shots = catalogue.rows("SELECT first_frame_index, last_frame_index, caption FROM shots WHERE take = ? "
                               "ORDER BY shot_index", (studio.recorded.dolly.name,))
        zoom_captions = catalogue.scalar("SELECT COUNT(*) FROM frames WHERE take = ? AND caption IS NOT NULL",
                                         (studio.recorded.zoom.name,))
    assert frames and zoom_captions == 0
    for frame in frames:
        if frame["frame_index"] <= 29:
            assert (frame["caption"], frame["caption_shot"], frame["caption_confidence"]) == \
                ("WS on 35 mm, static", 0, 0.81)
        elif frame["frame_index"] <= 86:
            assert (frame["caption"], frame["caption_shot"]) == ("WS on 35 mm, push-in", 1)
        else:
            assert frame["caption"] is None
    assert len(shots) == 3
    for shot in shots:
        first, last = shot["first_frame_index"], shot["last_frame_index"]
        overlap_static = max(0, min(last, 29) - first + 1)
        overlap_push = max(0, min(last, 86) - max(first, 30) + 1)
        expected = "WS on 35 mm, static" if overlap_static >= overlap_push else "WS on 35 mm, push-in"
        assert shot["caption"] == expected


def _dump(catalogue, take: str):
    skip = {"ingested_at", "ingest_run"}
    out = {}
    for table in _TAKE_TABLES:
        rows = catalogue.rows(f"SELECT * FROM {table} WHERE take = ?", (take,))
        out[table] = sorted((tuple(sorted((k, v) for k, v in row.items() if k not in skip)) for row in rows))
    return out


def test_ingesting_again_gives_the_same_rows(catalogue_url, studio):
    name = studio.recorded.dolly.name
    with open_catalogue(catalogue_url) as catalogue:
        first = ingest_takes(studio.config, catalogue, [name])
        before = _dump(catalogue, name)
        second = ingest_takes(studio.config, catalogue, [name, name])  # a name given twice is ingested once
        after = _dump(catalogue, name)
        assert [o.status for o in first.outcomes] == [o.status for o in second.outcomes] == [INGESTED]
        assert before == after and len(before["frames"]) == first.outcomes[0].frames > 0
        assert catalogue.scalar("SELECT ingest_run FROM takes WHERE take = ?", (name,)) == second.run_id
        assert int(catalogue.scalar("SELECT COUNT(*) FROM ingest_runs")) == 2
        results = catalogue.rows("SELECT run_id, status FROM ingest_results WHERE take = ? ORDER BY finished_at",
                                 (name,))
        assert [(row["run_id"], row["status"]) for row in results] == [(first.run_id, INGESTED),
                                                                       (second.run_id, INGESTED)]
        runs = catalogue.rows("SELECT requested FROM ingest_runs WHERE run_id = ?", (second.run_id,))
        assert json.loads(runs[0]["requested"]) == [name, name]


def test_a_replacement_that_fails_half_way_leaves_the_old_rows(catalogue_url, studio, monkeypatch):
    import studio_sync.catalogue.ingest as ingest_module

    name = studio.recorded.dolly.name
    real = ingest_module.take_rows

    def broken(*args, **kwargs):
        rows = real(*args, **kwargs)
        rows.frames.append(dict(rows.frames[-1]))  # the same frame twice: the primary key refuses it
        return rows

    with open_catalogue(catalogue_url) as catalogue:
        first = ingest_takes(studio.config, catalogue, [name])
        before = _dump(catalogue, name)
        monkeypatch.setattr(ingest_module, "take_rows", broken)
        with pytest.raises(CatalogueQueryError, match="frames"):
            ingest_takes(studio.config, catalogue, [name])
        assert _dump(catalogue, name) == before
        assert catalogue.scalar("SELECT ingest_run FROM takes WHERE take = ?", (name,)) == first.run_id
        statuses = [row["status"] for row in catalogue.rows("SELECT status FROM ingest_runs ORDER BY started_at")]
        assert statuses == ["finished", "failed"]


def test_a_take_damaged_after_it_was_catalogued_is_refused_and_withdrawn(catalogue_url, studio):
    prefix = "later/"
    config = studio.config.model_copy(update={"storage": studio.config.storage.model_copy(update={"prefix": prefix})})
    writer, bucket = studio.client("writer"), studio.running.bucket
    name = upload_take(writer, bucket, prefix, studio.recorded.spare)
    try:
        with open_catalogue(catalogue_url) as catalogue:
            assert [o.status for o in ingest_takes(config, catalogue).outcomes] == [INGESTED]
            assert _count(catalogue, "frames", name) > 0
            damage(writer, bucket, prefix, studio.recorded.spare)
            outcome, = ingest_takes(config, catalogue).outcomes
            assert (outcome.take, outcome.status, outcome.withdrawn) == (name, REFUSED, True)
            assert [p.split(":")[0] for p in outcome.problems] == ["altered", "missing", "extra"]
            assert all(_count(catalogue, table, name) == 0 for table in _TAKE_TABLES)
    finally:
        for page in writer.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents") or []:
                writer.delete_object(Bucket=bucket, Key=item["Key"])


def test_a_named_take_the_store_lacks_is_refused(catalogue_url, studio):
    with open_catalogue(catalogue_url) as catalogue:
        outcome, = ingest_takes(studio.config, catalogue, ["nowhere_1_001_20270101T000000Z"]).outcomes
        assert outcome.status == REFUSED and "not in the store" in outcome.reason
        outcome, = ingest_takes(studio.config, catalogue, ["../escape"]).outcomes
        assert outcome.status == REFUSED and "not a take folder name" in outcome.reason


def test_ingest_reads_with_the_reader_identity_and_stops_when_its_keys_are_refused(catalogue_url, studio,
                                                                                 monkeypatch):
    import studio_sync.catalogue.ingest as ingest_module

    roles = []

    def recording(config, role="writer", **kwargs):
        roles.append(role)
        return s3_client(config, role, **kwargs)

    monkeypatch.setattr(ingest_module, "s3_client", recording)
    with open_catalogue(catalogue_url) as catalogue:
        report = ingest_takes(studio.config, catalogue, [studio.recorded.dolly.name])
        assert roles == ["reader"] and report.ok
        wrong = s3_client(studio.config, "reader", credentials=Credentials("reader", "NOSUCHKEY", "nosecret"))
        with pytest.raises(IngestError, match="refused the keys"):
            ingest_takes(studio.config, catalogue, client=wrong)
        run = catalogue.rows("SELECT status, error FROM ingest_runs ORDER BY started_at")[-1]
        assert run["status"] == "failed" and "refused the keys" in run["error"]


def test_progress_follows_the_hashing_of_each_take(catalogue_url, studio):
    heard = []
    with open_catalogue(catalogue_url) as catalogue:
        ingest_takes(studio.config, catalogue, [studio.recorded.zoom.name],
                     progress=lambda take, done, total: heard.append((take, done, total)))
    total = sum(p.stat().st_size for p in studio.recorded.zoom.rglob("*") if p.is_file() and "ascmhl" not in p.parts)
    assert heard[0] == (studio.recorded.zoom.name, 0, total) and heard[-1] == (studio.recorded.zoom.name, total, total)
    assert [d for _, d, _ in heard] == sorted(d for _, d, _ in heard)
