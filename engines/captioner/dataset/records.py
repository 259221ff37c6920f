"""One stored frame's labels as the dataset keeps them: plain values, a label per field, missing named.

:func:`frame_record` turns a labelled :class:`~.refuse.TakeFrame` into a :class:`FrameRecord`,
the row that goes into a sample's JSON, ``frames.csv`` and the shot segmentation. Stored label
fields and their units:

* ``focal_length_mm``: the lens's focal length; ``focal_35mm_mm``: its 35 mm equivalent by the
  horizontal angle of view (``docs/captioner.md``);
* ``movement`` (a class of :data:`engines.captioner.inputs.MOVEMENT_CLASSES`), ``movement_speed``
  in ``movement_speed_unit`` (deg/s, m/s or %/s; None for static and handheld);
* ``shot_size`` (a class of :data:`engines.captioner.inputs.SHOT_SIZE_CLASSES`; ``none``: measured,
  nobody in frame);
* ``subject_distance_m``: the subject's optical-axis distance (None when there is no subject).

A label that could not be measured is None and ``missing`` maps its field name to the reason
(the labeler's label names become the stored fields they fill: ``focal_length`` both focal
fields, ``subject`` the distance). None without a ``missing`` entry means "measured: there is
none" (no subject in frame, no speed for a static camera).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Dict, Mapping, Optional

from engines.captioner.movement import MovementClass
from engines.captioner.shot_size import ShotSize

__all__ = ["LABEL_FIELDS", "NOT_FINITE", "FrameRecord", "frame_record", "stored_missing"]

#: The stored frame label fields, in the order CSV columns list them.
LABEL_FIELDS = ("focal_length_mm", "focal_35mm_mm", "movement", "movement_speed", "movement_speed_unit", "shot_size",
                "subject_distance_m")
# The labeler's label names -> the stored fields they fill.
_FIELDS_OF = {"focal_length": ("focal_length_mm", "focal_35mm_mm"), "movement": ("movement",),
              "shot_size": ("shot_size",), "subject": ("subject_distance_m",)}


@dataclass(frozen=True)
class FrameRecord:
    """One stored frame (module docstring). ``frame_index``: the frame's place among its take's
    camera frames; ``t_ns``: exposure mid-time, master ns; ``timecode`` its SMPTE label at
    ``timecode_rate`` (None: the take had none for it); ``points_used``: LiDAR returns in its depth."""

    key: str
    take_id: str
    scene: str
    frame_index: int
    t_ns: int
    timecode: Optional[str]
    timecode_rate: Optional[str]
    timecode_verdict: Optional[str]
    focal_length_mm: Optional[float]
    focal_35mm_mm: Optional[float]
    movement: Optional[str]
    movement_speed: Optional[float]
    movement_speed_unit: Optional[str]
    shot_size: Optional[str]
    subject_distance_m: Optional[float]
    height_assumed: bool
    points_used: int
    missing: Mapping[str, str]

    def labels(self) -> Dict[str, Any]:
        """The label fields as a dict (the sample JSON's ``labels``)."""
        return {name: getattr(self, name) for name in LABEL_FIELDS}

    def to_dict(self) -> Dict[str, Any]:
        out = asdict(self)
        out["missing"] = dict(self.missing)
        return out


def stored_missing(labeler_missing: Mapping[str, str]) -> Dict[str, str]:
    """The labeler's ``missing`` (label name -> reason) keyed by the stored fields it empties."""
    out: Dict[str, str] = {}
    for name, reason in labeler_missing.items():
        for stored in _FIELDS_OF.get(name, (name,)):
            out[stored] = str(reason)
    return dict(sorted(out.items()))


#: The reason a label is missing when the labeler gave a value that is not a finite number.
NOT_FINITE = "the labeler gave a value that is not a finite number"


def _finite(value: Optional[float]) -> Optional[float]:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _not_finite(labels: Any) -> Dict[str, str]:
    """Stored fields whose value the labeler gave as NaN or infinite: missing, not stored as such."""
    values = {"focal_length_mm": labels.focal.focal_length_mm, "focal_35mm_mm": labels.focal.equivalent_35mm_mm,
              "movement": labels.movement.speed, "subject_distance_m": labels.subject_distance_m}
    return {name: NOT_FINITE for name, v in values.items() if v is not None and not math.isfinite(float(v))}


def frame_record(frame: Any, take_id: str, scene: str) -> FrameRecord:
    """The :class:`FrameRecord` of a :class:`~.refuse.TakeFrame` of take ``take_id`` in ``scene``."""
    labels = frame.labels
    missing = {**_not_finite(labels), **stored_missing(frame.missing)}
    missing = dict(sorted(missing.items()))
    movement = labels.movement
    moved = movement.movement is not MovementClass.MISSING and "movement" not in missing
    sized = "shot_size" not in missing
    subject = None if "subject_distance_m" in missing else labels.subject_distance_m
    focal_known = "focal_length_mm" not in missing
    timecode = frame.timecode
    return FrameRecord(
        key=f"{take_id}__{int(frame.frame_index):06d}",
        take_id=take_id,
        scene=scene,
        frame_index=int(frame.frame_index),
        t_ns=int(frame.t_ns),
        timecode=None if timecode is None else str(timecode),
        timecode_rate=None if timecode is None else timecode.rate.label,
        timecode_verdict=frame.timecode_verdict,
        focal_length_mm=_finite(labels.focal.focal_length_mm) if focal_known else None,
        focal_35mm_mm=_finite(labels.focal.equivalent_35mm_mm) if focal_known else None,
        movement=movement.movement.value if moved else None,
        movement_speed=_finite(movement.speed) if moved else None,
        movement_speed_unit=movement.speed_unit if moved and movement.speed is not None else None,
        shot_size=ShotSize(labels.shot_size).value if sized else None,
        subject_distance_m=_finite(subject),
        height_assumed=bool(labels.height_assumed) if sized else False,
        points_used=int(frame.fused.points_used),
        missing=missing,
    )
