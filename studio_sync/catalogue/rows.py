"""A verified take turned into the catalogue's rows: takes, shots, frames, provenance, generations.

Pure functions of what ingest gathered (:class:`~.verify.FetchedTake`, :class:`~.labels.TakeLabels`,
:class:`~.captions.TakeCaptions`); the columns and their units are :mod:`.schema`'s. Values read
from ``take.json`` are taken only when they have the type the column holds (a take recorded by
another version of Onset may lack a section or spell it differently): anything else is NULL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

from studio_sync.catalogue.captions import TakeCaptions
from studio_sync.catalogue.labels import TakeLabels, shot_id
from studio_sync.catalogue.verify import FetchedTake

__all__ = ["TakeRows", "take_rows", "json_text", "no_subject_flag"]


@dataclass(frozen=True)
class TakeRows:
    """Every row of one take, by table."""

    take: Dict[str, Any]
    shots: List[Dict[str, Any]]
    frames: List[Dict[str, Any]]
    provenance: Dict[str, Any]
    generations: List[Dict[str, Any]]


def json_text(value: Any) -> Optional[str]:
    """``value`` as compact JSON with sorted keys (None stays None)."""
    return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def no_subject_flag(shot_size: Optional[str]) -> Optional[int]:
    """1 for the shot size ``none`` (nobody in frame), 0 for any other, None when missing."""
    return None if shot_size is None else int(shot_size == "none")


def _at(document: Mapping[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


def _int(value: Any) -> Optional[int]:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _flag(value: Any) -> Optional[int]:
    return int(value) if isinstance(value, bool) else None


def _camera(rig: Mapping[str, Any]) -> Optional[str]:
    camera = rig.get("camera")
    if not isinstance(camera, Mapping):
        return None
    name, w, h, fps = camera.get("name"), camera.get("width_px"), camera.get("height_px"), camera.get("fps")
    return f"{name or 'camera'} {w}x{h} px @ {fps}"


def _lidars(rig: Mapping[str, Any]) -> Optional[str]:
    lidars = rig.get("lidars")
    if not isinstance(lidars, list):
        return None
    return ", ".join(f"{lidar.get('name')} ({lidar.get('model')})" for lidar in lidars
                     if isinstance(lidar, Mapping)) or None


def _frame_rows(take: str, labels: TakeLabels, captions: Optional[TakeCaptions]) -> List[Dict[str, Any]]:
    rows = []
    for position, record in enumerate(labels.records):
        caption = captions.for_frame(record.frame_index) if captions is not None else None
        rows.append({
            "take": take, "frame_index": record.frame_index, "shot_index": labels.shot_of(position).index,
            "key": record.key, "t_ns": record.t_ns, "timecode": record.timecode,
            "timecode_rate": record.timecode_rate, "timecode_verdict": record.timecode_verdict,
            "shot_size": record.shot_size, "no_subject": no_subject_flag(record.shot_size),
            "movement": record.movement, "movement_speed": record.movement_speed,
            "movement_speed_unit": record.movement_speed_unit, "focal_length_mm": record.focal_length_mm,
            "focal_35mm_mm": record.focal_35mm_mm, "subject_distance_m": record.subject_distance_m,
            "height_assumed": int(record.height_assumed), "points_used": record.points_used,
            "missing": json_text(dict(record.missing)),
            "caption": None if caption is None else caption.sentence,
            "caption_shot": None if caption is None else caption.index,
            "caption_confidence": None if caption is None else caption.confidence,
        })
    return rows


def _shot_rows(take: str, labels: TakeLabels, captions: Optional[TakeCaptions]) -> List[Dict[str, Any]]:
    rows = []
    for shot in labels.shots:
        frames = labels.records[shot.first:shot.last + 1]
        timecodes = [r.timecode for r in frames if r.timecode is not None]
        first, last = frames[0].frame_index, frames[-1].frame_index
        caption = captions.for_range(first, last) if captions is not None else None
        shot_labels = shot.labels
        rows.append({
            "take": take, "shot_index": shot.index, "shot_id": shot_id(labels.source.take_id, shot.index),
            "first_frame_index": first, "last_frame_index": last, "frames": shot_labels.frames,
            "t_start_ns": frames[0].t_ns, "t_end_ns": frames[-1].t_ns,
            "timecode_in": timecodes[0] if timecodes else None, "timecode_out": timecodes[-1] if timecodes else None,
            "causes": "+".join(shot.causes),
            "shot_size": shot_labels.shot_size, "shot_size_share": shot_labels.shot_size_share,
            "no_subject": no_subject_flag(shot_labels.shot_size),
            "movement": shot_labels.movement, "movement_share": shot_labels.movement_share,
            "movement_speed": shot_labels.movement_speed, "movement_speed_unit": shot_labels.movement_speed_unit,
            "mean_focal_length_mm": shot_labels.mean_focal_length_mm,
            "mean_focal_35mm_mm": shot_labels.mean_focal_35mm_mm,
            "mean_subject_distance_m": shot_labels.mean_subject_distance_m,
            "missing": json_text(dict(shot_labels.missing)),
            "caption": None if caption is None else caption.sentence,
            "caption_confidence": None if caption is None else caption.confidence,
        })
    return rows


def _provenance(take: str, fetched: FetchedTake, document: Mapping[str, Any], captions: Optional[TakeCaptions],
                labels_software: Mapping[str, Any]) -> Dict[str, Any]:
    rig = document.get("rig") if isinstance(document.get("rig"), Mapping) else {}
    calibration = document.get("calibration") if isinstance(document.get("calibration"), Mapping) else None
    calibration_text = json_text(calibration)
    generations = fetched.history.generations
    sealed, newest = generations[0], generations[-1]
    return {
        "take": take,
        "rig_name": _str(rig.get("name")), "rig_simulated": _flag(rig.get("simulated")),
        "camera": _camera(rig), "lidars": _lidars(rig),
        "calibration": calibration_text,
        "calibration_sha256": None if calibration_text is None else
        hashlib.sha256(calibration_text.encode("utf-8")).hexdigest(),
        "software": json_text(document.get("software") if isinstance(document.get("software"), Mapping) else None),
        "onset_version": _str(_at(document, "software.onset")),
        "recorder_host": _str(_at(document, "recorder.host")),
        "engines": json_text(rig.get("engines") if isinstance(rig.get("engines"), Mapping) else None),
        "captioner_model": _str(_at(rig, "engines.captioner.model")),
        "captions_model": json_text(dict(captions.model)) if captions is not None and captions.model else None,
        "captions_model_sha256": None if captions is None else captions.model_sha256,
        "labels_software": json_text(dict(labels_software)),
        "sealed_by": sealed.author, "sealed_host": sealed.host, "sealed_at": sealed.creation_date,
        "offloaded_by": newest.author, "offloaded_host": newest.host, "offloaded_at": newest.creation_date,
        "offload_generation": newest.number, "offload_process": newest.process,
    }


def take_rows(fetched: FetchedTake, labels: TakeLabels, captions: Optional[TakeCaptions], *, bucket: str,
              storage_key: str, run_id: str, ingested_at: str, labels_software: Mapping[str, Any],
              notes: Sequence[str] = ()) -> TakeRows:
    """Every row of the verified take ``fetched`` (module docstring)."""
    take = fetched.name
    document = labels.source.document
    history = fetched.history
    formats = sorted({f.hash_format for f in history.files.values()})
    take_row = {
        "take": take, "take_id": labels.source.take_id, "scene": labels.source.scene,
        "slate_shot": labels.source.shot, "slate_take": labels.source.take,
        "status": _str(document.get("status")),
        "timecode_rate": _str(_at(document, "timecode.rate")), "timecode_in": _str(_at(document, "timecode.in")),
        "timecode_out": _str(_at(document, "timecode.out")),
        "start_ns": _int(_at(document, "master_time.start_ns")), "stop_ns": _int(_at(document, "master_time.stop_ns")),
        "start_utc": _str(_at(document, "master_time.start_utc")), "duration_s": _float(document.get("duration_s")),
        "message_count": _int(document.get("message_count")), "recorded_bytes": _int(document.get("size_bytes")),
        "plan_name": _str(_at(document, "plan.name")), "plan_instruction": _str(_at(document, "plan.instruction")),
        "bucket": bucket, "storage_key": storage_key, "stored_files": len(fetched.objects),
        "stored_bytes": fetched.stored_bytes, "uploaded_at": fetched.uploaded_at,
        "take_json_sha256": labels.source.take_json_sha256,
        "mhl_generation": history.latest.number, "mhl_generation_file": history.latest.file_name,
        "hash_formats": ",".join(formats),
        "label_fps": labels.fps, "frames": len(labels.records), "shots": len(labels.shots),
        "has_lidar": int(labels.has_lidar), "has_pose": int(labels.has_pose), "has_lens": int(labels.has_lens),
        "has_captions": int(captions is not None),
        "notes": json_text(list(notes)) if notes else None,
        "ingested_at": ingested_at, "ingest_run": run_id,
    }
    generations = [{"take": take, "number": g.number, "file_name": g.file_name, "process": g.process,
                    "created_at": g.creation_date, "host": g.host, "author": g.author,
                    "hash_formats": ",".join(g.hash_formats)} for g in history.generations]
    return TakeRows(take_row, _shot_rows(take, labels, captions), _frame_rows(take, labels, captions),
                    _provenance(take, fetched, document, captions, labels_software), generations)
