"""The dataset's metadata: each sample's JSON, ``frames.csv``, ``shots.csv`` and ``index.json``.

A sample's JSON (``KEY.json`` in its shard, schema :data:`~.reader.SCHEMA_VERSION`) is
self-contained: the take (``take_id``, ``take_name``, ``scene``, its ``slate``), its
``split``, ``frame_index`` (the frame's place among the take's camera frames), ``t_ns`` (exposure
mid-time, master ns), ``timecode`` / ``timecode_rate`` / ``timecode_verdict``, the shot
(``shot_id``, ``shot_index``), the frame's ``labels`` and their ``missing`` reasons
(:mod:`.records`), the shot's ``shot_labels`` (:mod:`.segment`), what the depth PNG holds, and
``provenance`` (software, version, git commit, the build command, the fps, ``take.json``'s SHA-256).

``frames.csv`` has one row per sample and ``shots.csv`` one per shot, the same fields flattened
(an empty cell is a missing value; ``missing`` is a JSON object). ``index.json`` says the format
and schema version, the build's arguments, the class vocabularies the labels use (those of
:mod:`engines.captioner.inputs`), and per split its scenes, takes, shards and counts per class.
Files are written whole or not at all (temp file, rename); ``index.json`` last, so a folder with
one holds a finished dataset.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Sequence

from engines.captioner.dataset.png import DEPTH_SATURATED_MM
from engines.captioner.dataset.reader import DATASET_FORMAT, SCHEMA_VERSION
from engines.captioner.dataset.records import LABEL_FIELDS, FrameRecord
from engines.captioner.dataset.segment import Shot
from engines.captioner.inputs import MOVEMENT_CLASSES, SHOT_SIZE_CLASSES

__all__ = ["FRAME_COLUMNS", "SHOT_COLUMNS", "sample_document", "frame_row", "shot_row", "shot_id", "write_csv",
           "write_json", "class_counts", "index_document"]

FRAME_COLUMNS = ("key", "split", "take_id", "scene", "frame_index", "t_ns", "timecode", "timecode_rate",
                 "timecode_verdict", "shot_id", *LABEL_FIELDS, "height_assumed", "points_used", "missing", "shard")
SHOT_COLUMNS = ("shot_id", "split", "take_id", "scene", "shot_index", "first_frame_index", "last_frame_index",
                "frames", "t_start_ns", "t_end_ns", "timecode_in", "timecode_out", "causes",
                "mean_focal_length_mm", "mean_focal_35mm_mm", "shot_size", "shot_size_share", "movement",
                "movement_share", "movement_speed", "movement_speed_unit", "mean_subject_distance_m", "missing")


def shot_id(take_id: str, index: int) -> str:
    return f"{take_id}__shot{int(index):03d}"


def _shot_labels(shot: Shot) -> Dict[str, Any]:
    labels = asdict(shot.labels)
    labels["missing"] = dict(shot.labels.missing)
    return labels


def sample_document(record: FrameRecord, take: Any, split: str, shot: Shot, provenance: Mapping[str, Any],
                    image_hw: Sequence[int], has_lidar: bool) -> Dict[str, Any]:
    """A sample's JSON document (module docstring); ``take`` is its :class:`~.source.TakeSource`."""
    return {
        "schema_version": SCHEMA_VERSION,
        "key": record.key,
        "take_id": record.take_id,
        "take_name": take.name,
        "scene": record.scene,
        "slate": {"scene": take.scene, "shot": take.shot, "take": take.take},
        "split": split,
        "frame_index": record.frame_index,
        "t_ns": record.t_ns,
        "timecode": record.timecode,
        "timecode_rate": record.timecode_rate,
        "timecode_verdict": record.timecode_verdict,
        "shot_id": shot_id(record.take_id, shot.index),
        "shot_index": shot.index,
        "labels": record.labels(),
        "missing": dict(record.missing),
        "height_assumed": record.height_assumed,
        "points_used": record.points_used,
        "shot_labels": _shot_labels(shot),
        "image": {"file": "rgb.png", "width_px": int(image_hw[1]), "height_px": int(image_hw[0])},
        "depth": {"file": "depth.png", "unit": "mm", "no_return": 0, "saturated_mm": DEPTH_SATURATED_MM,
                  "from_lidar": bool(has_lidar)},
        "provenance": dict(provenance),
    }


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list, tuple)) and not isinstance(value, str):
        return json.dumps(value, sort_keys=True) if isinstance(value, dict) else "+".join(str(v) for v in value)
    return value


def frame_row(record: FrameRecord, split: str, shot: Shot, shard: str) -> Dict[str, Any]:
    row = {name: getattr(record, name) for name in FRAME_COLUMNS if hasattr(record, name)}
    row.update(split=split, shot_id=shot_id(record.take_id, shot.index), shard=shard, missing=dict(record.missing))
    return {name: _cell(row.get(name)) for name in FRAME_COLUMNS}


def shot_row(shot: Shot, records: Sequence[FrameRecord], split: str) -> Dict[str, Any]:
    frames = records[shot.first:shot.last + 1]
    timecodes = [r.timecode for r in frames if r.timecode is not None]
    row = dict(asdict(shot.labels))
    row.update(shot_id=shot_id(frames[0].take_id, shot.index), split=split, take_id=frames[0].take_id,
               scene=frames[0].scene, shot_index=shot.index, first_frame_index=frames[0].frame_index,
               last_frame_index=frames[-1].frame_index, t_start_ns=frames[0].t_ns, t_end_ns=frames[-1].t_ns,
               timecode_in=timecodes[0] if timecodes else None, timecode_out=timecodes[-1] if timecodes else None,
               causes=shot.causes, missing=dict(shot.labels.missing))
    return {name: _cell(row.get(name)) for name in SHOT_COLUMNS}


def _replace(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    _replace(Path(path), text.getvalue().encode("utf-8"))


def write_json(path: Path, document: Mapping[str, Any]) -> None:
    _replace(Path(path), (json.dumps(document, indent=2, allow_nan=False) + "\n").encode("utf-8"))


def class_counts(records: Sequence[FrameRecord]) -> Dict[str, Any]:
    """Frames per shot size and per movement (``missing`` counted too), and missing frames per label."""
    sizes = Counter(r.shot_size if r.shot_size is not None else "missing" for r in records)
    moves = Counter(r.movement if r.movement is not None else "missing" for r in records)
    missing = Counter(name for r in records for name in r.missing)
    return {
        "shot_size": {name: sizes.get(name, 0) for name in (*SHOT_SIZE_CLASSES, "missing")},
        "movement": {name: moves.get(name, 0) for name in (*MOVEMENT_CLASSES, "missing")},
        "missing": dict(sorted(missing.items())),
    }


def index_document(build: Mapping[str, Any], splits: Mapping[str, Any], takes: List[Dict[str, Any]],
                   software: Mapping[str, Any]) -> Dict[str, Any]:
    """``index.json`` (module docstring)."""
    return {
        "format": DATASET_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "software": dict(software),
        "build": dict(build),
        "sample": {"key": "<take_id>__<frame_index:06d>", "files": ["rgb.png", "depth.png", "json"],
                   "depth_unit": "mm", "depth_no_return": 0, "depth_saturated_mm": DEPTH_SATURATED_MM},
        "vocabularies": {"shot_size": list(SHOT_SIZE_CLASSES), "movement": list(MOVEMENT_CLASSES)},
        "splits": dict(splits),
        "takes": takes,
        "counts": {"samples": sum(int(s["samples"]) for s in splits.values()),
                   "shots": sum(int(s["shots"]) for s in splits.values()), "takes": len(takes)},
    }
