"""The catalogue's frames and shots are the dataset builder's: the same frames, labels and shots, to the bit."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Dict, List

from studio_sync.catalogue import open_catalogue

_FLOATS = {"focal_length_mm", "focal_35mm_mm", "movement_speed", "subject_distance_m", "mean_focal_length_mm",
           "mean_focal_35mm_mm", "mean_subject_distance_m", "shot_size_share", "movement_share"}
_INTS = {"frame_index", "t_ns", "height_assumed", "points_used", "shot_index", "first_frame_index",
         "last_frame_index", "frames", "t_start_ns", "t_end_ns"}


def _value(name: str, text: str) -> Any:
    if text == "":
        return None
    if name in _FLOATS:
        return float(text)
    if name in _INTS:
        return int(text)
    if name == "missing":
        return json.loads(text)
    return text


def _csv(path: Path) -> List[Dict[str, Any]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [{k: _value(k, v) for k, v in row.items()} for row in csv.DictReader(handle)]


_FRAME_FIELDS = ("frame_index", "t_ns", "timecode", "timecode_rate", "timecode_verdict", "focal_length_mm",
                 "focal_35mm_mm", "movement", "movement_speed", "movement_speed_unit", "shot_size",
                 "subject_distance_m", "height_assumed", "points_used", "missing")
_SHOT_FIELDS = ("shot_index", "first_frame_index", "last_frame_index", "frames", "t_start_ns", "t_end_ns",
                "timecode_in", "timecode_out", "mean_focal_length_mm", "mean_focal_35mm_mm", "shot_size",
                "shot_size_share", "movement", "movement_share", "movement_speed", "movement_speed_unit",
                "mean_subject_distance_m", "missing")


def test_frame_labels_equal_the_dataset_builders(ingested, built, studio):
    expected = {row["key"]: row for row in _csv(built / "frames.csv")}
    with open_catalogue(ingested.url, create=False) as catalogue:
        rows = catalogue.rows("SELECT f.*, s.shot_id FROM frames f JOIN shots s ON s.take = f.take AND "
                              "s.shot_index = f.shot_index")
    assert len(rows) == len(expected) > 50
    assert {row["take"] for row in rows} == set(studio.good)
    for row in rows:
        reference = expected[row["key"]]
        got = {name: row[name] for name in _FRAME_FIELDS}
        got["missing"] = json.loads(row["missing"])
        assert got == {name: reference[name] for name in _FRAME_FIELDS}, row["key"]
        assert row["shot_id"] == reference["shot_id"]
        assert row["no_subject"] == (None if row["shot_size"] is None else int(row["shot_size"] == "none"))
    # Something of every label made it: a test of labels that are all missing would prove little.
    for name in ("focal_length_mm", "movement", "movement_speed", "shot_size", "subject_distance_m", "timecode"):
        assert any(row[name] is not None for row in rows), name


def test_shots_equal_the_dataset_builders(ingested, built):
    expected = {row["shot_id"]: row for row in _csv(built / "shots.csv")}
    with open_catalogue(ingested.url, create=False) as catalogue:
        rows = catalogue.rows("SELECT * FROM shots")
        takes = {row["take"]: row for row in catalogue.rows("SELECT take, shots, frames FROM takes")}
    assert {row["shot_id"] for row in rows} == set(expected) and len(rows) >= 4
    for row in rows:
        reference = expected[row["shot_id"]]
        got = {name: row[name] for name in _SHOT_FIELDS}
        got["missing"] = json.loads(row["missing"])
        assert got == {name: reference[name] for name in _SHOT_FIELDS}, row["shot_id"]
        assert row["causes"] == reference["causes"]
    for take, summary in takes.items():
        assert summary["shots"] == sum(row["take"] == take for row in rows)
        assert summary["frames"] == sum(row["frames"] for row in rows if row["take"] == take)
