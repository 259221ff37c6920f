"""Shots within a take: where the labels change for good, and each shot's own labels.

A take is one camera roll; inside it the camera may hold one framing, then move, then hold
another. :func:`segment_shots` cuts the take's stored frames (:class:`~.records.FrameRecord`, in
frame order) into shots where a label changes *for good*:

* **shot size** or **movement**: over the frames that have the label (missing ones are skipped, a
  sensor dropout is not a cut), a *stable run* is a run of one value lasting at least
  :data:`MIN_STABLE_S` (from its first frame to the frame after its last). A shot starts at the
  first frame of each stable run whose value differs from the stable run before it; values that
  flicker for less than that (a class at its threshold, the ramp of a move) stay in the shot
  they interrupt;
* **a lens jump**: the focal length moves by more than :data:`LENS_JUMP_FRACTION` from the value
  the lens last held (a lens change, a snap zoom; a steady zoom moves well under 1 % a frame at
  12 fps, and the held value follows it) and stays within that fraction of its new value for
  :data:`MIN_STABLE_S`; the shot starts where it settled. A single wrong reading is no jump.

Cuts closer than :data:`MIN_STABLE_S` to the one before (or to the take's start) are one change
and merge into it. Every shot has shot-level labels (:func:`shot_labels`): the mean focal length
(and its 35 mm equivalent), the predominant shot size and the movement by majority over the
shot's frames (with the share of frames that agree: a confidence), the mean speed of the frames of
that movement, and the mean subject distance; a shot label none of its frames has is missing,
with the reason most of its frames give.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from engines.captioner.dataset.records import FrameRecord

__all__ = [
    "MIN_STABLE_S",
    "LENS_JUMP_FRACTION",
    "ShotLabels",
    "Shot",
    "stable_changes",
    "lens_jumps",
    "segment_shots",
    "shot_labels",
]

#: How long a new shot size or movement must hold to start a shot, s.
MIN_STABLE_S = 0.5
#: A focal length change between two frames larger than this share of it is a lens jump.
LENS_JUMP_FRACTION = 0.05
# Stamps are whole ns a frame period apart and jitter: durations are compared with this slack.
_SLACK_NS = 1_000_000


@dataclass(frozen=True)
class ShotLabels:
    """One shot's labels (module docstring); ``*_share`` is the share of the shot's frames with
    that label which agree with the majority."""

    frames: int
    mean_focal_length_mm: Optional[float]
    mean_focal_35mm_mm: Optional[float]
    shot_size: Optional[str]
    shot_size_share: Optional[float]
    movement: Optional[str]
    movement_share: Optional[float]
    movement_speed: Optional[float]
    movement_speed_unit: Optional[str]
    mean_subject_distance_m: Optional[float]
    missing: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Shot:
    """Frames ``first`` to ``last`` (positions in the take's records, inclusive) as one shot;
    ``causes``: what started it (``take start``, ``shot_size``, ``movement``, ``lens``)."""

    index: int
    first: int
    last: int
    causes: Tuple[str, ...]
    labels: ShotLabels


def _frame_step_ns(t_ns: np.ndarray) -> float:
    steps = np.diff(t_ns)
    return float(np.median(steps)) if steps.size else 0.0


def stable_changes(t_ns: Sequence[int], values: Sequence[Optional[str]], min_stable_s: float = MIN_STABLE_S
                   ) -> List[int]:
    """Positions where a class label changes for good (module docstring): the first frame of each
    stable run whose value differs from the stable run before it. ``values`` None: missing."""
    t = np.asarray(t_ns, dtype=np.int64)
    step = _frame_step_ns(t)
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    runs: List[Tuple[int, int, str]] = []  # (first, last, value) over known frames
    for i, v in known:
        if runs and runs[-1][2] == v:
            runs[-1] = (runs[-1][0], i, v)
        else:
            runs.append((i, i, v))
    changes: List[int] = []
    state: Optional[str] = None
    for first, last, value in runs:
        if (t[last] - t[first] + step) < min_stable_s * 1e9 - _SLACK_NS:
            continue
        if state is not None and value != state:
            changes.append(first)
        state = value
    return changes


def lens_jumps(t_ns: Sequence[int], focal_mm: Sequence[Optional[float]], fraction: float = LENS_JUMP_FRACTION,
               min_stable_s: float = MIN_STABLE_S) -> List[int]:
    """Positions where the focal length jumped and settled (module docstring)."""
    t = np.asarray(t_ns, dtype=np.int64)
    step, stable_ns = _frame_step_ns(t), min_stable_s * 1e9 - _SLACK_NS
    known = [(i, float(f)) for i, f in enumerate(focal_mm) if f is not None and f > 0]
    out: List[int] = []
    if not known:
        return out
    settled = known[0][1]  # the focal length the lens last held (a steady zoom moves it along)
    for k in range(1, len(known)):
        i, f = known[k]
        if abs(f / settled - 1.0) <= fraction:
            settled = f
            continue
        lasts = t[known[-1][0]] - t[i] + step >= stable_ns
        holds = all(abs(g / f - 1.0) <= fraction for j, g in known[k:] if t[j] - t[i] < stable_ns)
        if lasts and holds:
            out.append(i)
            settled = f
    return out


def _majority(values: Sequence[Optional[str]]) -> Tuple[Optional[str], Optional[float]]:
    known = [v for v in values if v is not None]
    if not known:
        return None, None
    counts = Counter(known)
    top = max(counts.values())
    winner = next(v for v in known if counts[v] == top)  # ties: the one seen first
    return winner, top / len(known)


def _mean(values: Sequence[Optional[float]]) -> Optional[float]:
    known = [float(v) for v in values if v is not None]
    return float(np.mean(known)) if known else None


def shot_labels(records: Sequence[FrameRecord]) -> ShotLabels:
    """The shot-level labels of one shot's frames (module docstring)."""
    size, size_share = _majority([r.shot_size for r in records])
    movement, movement_share = _majority([r.movement for r in records])
    speeds = [r.movement_speed for r in records if r.movement == movement and r.movement_speed is not None]
    unit = next((r.movement_speed_unit for r in records if r.movement == movement and r.movement_speed_unit), None)
    labels = ShotLabels(
        frames=len(records),
        mean_focal_length_mm=_mean([r.focal_length_mm for r in records]),
        mean_focal_35mm_mm=_mean([r.focal_35mm_mm for r in records]),
        shot_size=size,
        shot_size_share=size_share,
        movement=movement,
        movement_share=movement_share,
        movement_speed=_mean(speeds) if movement is not None else None,
        movement_speed_unit=unit if speeds else None,
        mean_subject_distance_m=_mean([r.subject_distance_m for r in records]),
    )
    missing: Dict[str, str] = {}
    for shot_field, frame_field in (("mean_focal_length_mm", "focal_length_mm"), ("shot_size", "shot_size"),
                                    ("movement", "movement"), ("mean_subject_distance_m", "subject_distance_m")):
        if getattr(labels, shot_field) is None:
            reasons = Counter(r.missing[frame_field] for r in records if frame_field in r.missing)
            if reasons:
                missing[shot_field] = reasons.most_common(1)[0][0]
    labels.missing.update(missing)
    return labels


def segment_shots(records: Sequence[FrameRecord], min_stable_s: float = MIN_STABLE_S,
                  lens_jump_fraction: float = LENS_JUMP_FRACTION) -> List[Shot]:
    """The shots of one take's records (in frame order; module docstring)."""
    if not records:
        return []
    t = [r.t_ns for r in records]
    causes: Dict[int, List[str]] = {}
    for cause, positions in (("shot_size", stable_changes(t, [r.shot_size for r in records], min_stable_s)),
                             ("movement", stable_changes(t, [r.movement for r in records], min_stable_s)),
                             ("lens", lens_jumps(t, [r.focal_length_mm for r in records], lens_jump_fraction,
                                                 min_stable_s))):
        for i in positions:
            causes.setdefault(i, []).append(cause)
    starts: List[Tuple[int, List[str]]] = [(0, ["take start"])]
    for i in sorted(causes):
        if t[i] - t[starts[-1][0]] < min_stable_s * 1e9 - _SLACK_NS:
            starts[-1][1].extend(c for c in causes[i] if c not in starts[-1][1])
        else:
            starts.append((i, list(causes[i])))
    shots = []
    for k, (first, why) in enumerate(starts):
        last = starts[k + 1][0] - 1 if k + 1 < len(starts) else len(records) - 1
        shots.append(Shot(k, first, last, tuple(why), shot_labels(records[first:last + 1])))
    return shots
