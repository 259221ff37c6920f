"""Shot-level captions from the model's frame-by-frame outputs over a take.

**Shots.** Each frame's predicted classes (shot size, movement) form one joint label; the take is
cut where that label changes *for good*: a run of frames shorter than ``min_frames`` (default
:data:`MIN_SHOT_FRAMES`, one second at the clip rate) is not a shot of its own but frames that
disagree with their neighbours. Such runs are merged away shortest first: one between two runs
of the same label joins them, otherwise it joins its longer neighbour (the earlier one on a
tie), until every run is at least ``min_frames`` long or one run is left. Neighbouring shots whose
captions then read the same shot size and movement (the caption takes the class of highest mean
probability, which can differ from the frames' joint label) are one shot: they are joined and
captioned again until no two neighbours agree.

**A shot's caption**:

* shot size and movement: the class with the highest mean (calibrated) probability over the
  shot's frames; each part's confidence is that class's mean probability;
* focal length and subject distance: a robust line through the shot's log values over time
  (Theil-Sen: the median of pairwise slopes), so a zoom or a dolly is not a spread; frames more
  than :data:`OUTLIER_SIGMAS` robust sigmas (1.4826 x the median absolute residual, at least
  :data:`MIN_ROBUST_SIGMA_LOG`) off it are outliers; the caption carries the *mean* focal length
  and the *median* subject distance of the other frames, the line's ends for a zoom, and each
  part's confidence: the mean over those frames of the probability, under the frame's predicted
  spread, that its value is within :data:`AGREEMENT_TOLERANCE` (5 %) of the truth;
* the shot's **confidence**: the product of the parts' confidences (the chance the whole caption
  is right if its parts err independently; the distance part is left out when there is no subject);
* **outliers**: every frame whose shot size or movement differs from the shot's, or whose focal
  length or subject distance is an outlier, with the reasons;
* **conflicts**: parts of the caption that contradict each other, said rather than hidden: a zoom
  whose focal-length line runs the other way (or stays within :data:`SLOW_ZOOM_PCT_PER_S` / 10 of
  flat), a dolly in whose subject distance grows (or out, shrinks). A conflicting zoom or dolly has
  no speed adjective, and its movement confidence is halved: the two readings cannot both be right;
* **TC in/out**: the first and last timecode among the shot's frames (a take's first or last frame
  may have been recorded before or after its timecode label);
* a **sentence** as a camera department says it: "MCU on 75 mm, slow push-in, subject at 2.4 m".
  A dolly is slow under :data:`SLOW_DOLLY_M_PER_S` and fast over :data:`FAST_DOLLY_M_PER_S` (from
  the distance line's slope), a zoom slow under :data:`SLOW_ZOOM_PCT_PER_S` and fast over
  :data:`FAST_ZOOM_PCT_PER_S` (from the focal line's); other movements have no speed in the
  model's outputs and get no adjective.

Pure functions of the frame outputs; :func:`shots_document` and :func:`shots_csv` turn the result
into the JSON and CSV that ``onset caption`` writes.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from engines.captioner.inputs import CLIP_RATE_HZ, MOVEMENT_CLASSES, SHOT_SIZE_CLASSES
from engines.captioner.model.errors import ModelInputError

__all__ = [
    "MIN_SHOT_FRAMES", "OUTLIER_SIGMAS", "MIN_ROBUST_SIGMA_LOG", "AGREEMENT_TOLERANCE", "SLOW_DOLLY_M_PER_S",
    "FAST_DOLLY_M_PER_S", "SLOW_ZOOM_PCT_PER_S", "FAST_ZOOM_PCT_PER_S", "FramePrediction", "OutlierFrame",
    "ShotCaption", "stable_runs", "robust_line", "aggregate_shots", "caption_sentence", "shots_document",
    "shots_csv", "CSV_COLUMNS",
]

MIN_SHOT_FRAMES = int(round(CLIP_RATE_HZ))
OUTLIER_SIGMAS = 3.0
#: Floor of the robust sigma of a log value (1 %): a model that repeats itself exactly would
#: otherwise make any wobble an outlier.
MIN_ROBUST_SIGMA_LOG = 0.01
AGREEMENT_TOLERANCE = 0.05
SLOW_DOLLY_M_PER_S = 0.3
FAST_DOLLY_M_PER_S = 1.0
SLOW_ZOOM_PCT_PER_S = 5.0
FAST_ZOOM_PCT_PER_S = 25.0
_NONE = SHOT_SIZE_CLASSES.index("none")
_MOVEMENT_WORDS: Dict[str, str] = {"dolly_in": "push-in", "dolly_out": "pull-out"}


@dataclass(frozen=True, eq=False)
class FramePrediction:
    """The model's outputs for the clip ending at one frame of a take: calibrated class
    probabilities (in vocabulary order), focal length (mm, 35 mm equivalent) and subject distance
    (m) with the predicted spread of their natural logs."""

    frame_index: int
    t_ns: int
    timecode: Optional[str]
    shot_size_probs: np.ndarray
    movement_probs: np.ndarray
    focal_mm: float
    focal_log_sigma: float
    distance_m: float
    distance_log_sigma: float

    @property
    def shot_size_index(self) -> int:
        return int(np.argmax(self.shot_size_probs))

    @property
    def movement_index(self) -> int:
        return int(np.argmax(self.movement_probs))

    @property
    def shot_size(self) -> str:
        return SHOT_SIZE_CLASSES[self.shot_size_index]

    @property
    def movement(self) -> str:
        return MOVEMENT_CLASSES[self.movement_index]

    def to_dict(self) -> Dict[str, object]:
        return {
            "frame_index": self.frame_index, "t_ns": self.t_ns, "timecode": self.timecode,
            "shot_size": self.shot_size, "shot_size_confidence": round(float(self.shot_size_probs.max()), 4),
            "movement": self.movement, "movement_confidence": round(float(self.movement_probs.max()), 4),
            "focal_mm": round(self.focal_mm, 2), "focal_log_sigma": round(self.focal_log_sigma, 4),
            "distance_m": round(self.distance_m, 3), "distance_log_sigma": round(self.distance_log_sigma, 4),
        }


@dataclass(frozen=True)
class OutlierFrame:
    frame_index: int
    t_ns: int
    timecode: Optional[str]
    reasons: Tuple[str, ...]


@dataclass(frozen=True)
class ShotCaption:
    """One shot (module docstring). Frame indexes are the take's; ``end_ns`` is the last frame's time."""

    index: int
    first_frame: int
    last_frame: int
    frames: int
    start_ns: int
    end_ns: int
    tc_in: Optional[str]
    tc_out: Optional[str]
    shot_size: str
    shot_size_confidence: float
    movement: str
    movement_confidence: float
    focal_mm_mean: float
    focal_mm_start: float
    focal_mm_end: float
    focal_confidence: float
    distance_m_median: Optional[float]
    distance_confidence: Optional[float]
    movement_rate: Optional[float]
    movement_rate_unit: Optional[str]
    confidence: float
    outliers: Tuple[OutlierFrame, ...]
    sentence: str
    conflicts: Tuple[str, ...] = ()

    def to_dict(self) -> Dict[str, object]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("outliers", "conflicts")}
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = round(value, 4)
        out["conflicts"] = list(self.conflicts)
        out["outliers"] = [{"frame_index": o.frame_index, "t_ns": o.t_ns, "timecode": o.timecode,
                            "reasons": list(o.reasons)} for o in self.outliers]
        return out


def stable_runs(labels: Sequence[int], min_frames: int = MIN_SHOT_FRAMES) -> List[Tuple[int, int, int]]:
    """``(start, stop, label)`` runs (stop exclusive) after merging away the runs shorter than
    ``min_frames`` (module docstring)."""
    runs: List[List[int]] = []
    for i, label in enumerate(labels):
        if runs and runs[-1][2] == label:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1, int(label)])
    while len(runs) > 1:
        i = min(range(len(runs)), key=lambda k: (runs[k][1] - runs[k][0], k))
        if runs[i][1] - runs[i][0] >= min_frames:
            break
        left = runs[i - 1] if i > 0 else None
        right = runs[i + 1] if i + 1 < len(runs) else None
        if left is not None and right is not None and left[2] == right[2]:
            runs[i - 1:i + 2] = [[left[0], right[1], left[2]]]
        elif right is None or (left is not None and left[1] - left[0] >= right[1] - right[0]):
            runs[i - 1:i + 1] = [[left[0], runs[i][1], left[2]]]  # type: ignore[index]
        else:
            runs[i:i + 2] = [[runs[i][0], right[1], right[2]]]
    return [(a, b, c) for a, b, c in runs]


def robust_line(t_s: np.ndarray, y: np.ndarray, max_points: int = 200) -> Tuple[float, float]:
    """Theil-Sen ``(intercept at t = 0, slope)`` of y over t (seconds); at most ``max_points``
    evenly spaced points enter the pairwise slopes."""
    t_s, y = np.asarray(t_s, np.float64), np.asarray(y, np.float64)
    if len(y) == 1 or np.ptp(t_s) == 0:
        return float(np.median(y)), 0.0
    pick = np.unique(np.linspace(0, len(y) - 1, min(len(y), max_points)).round().astype(int))
    tt, yy = t_s[pick], y[pick]
    i, j = np.triu_indices(len(tt), k=1)
    dt = tt[j] - tt[i]
    ok = dt != 0
    slope = float(np.median((yy[j] - yy[i])[ok] / dt[ok])) if ok.any() else 0.0
    return float(np.median(y - slope * t_s)), slope


def _regression_part(t_s: np.ndarray, values: np.ndarray, log_sigma: np.ndarray):
    """Robust line, inlier mask and confidence of one regression over a shot's frames."""
    logs = np.log(values)
    intercept, slope = robust_line(t_s, logs)
    residual = logs - (intercept + slope * t_s)
    sigma = max(MIN_ROBUST_SIGMA_LOG, 1.4826 * float(np.median(np.abs(residual - np.median(residual)))))
    inlier = np.abs(residual) <= OUTLIER_SIGMAS * sigma
    spread = np.maximum(log_sigma[inlier], 1e-6)
    within = np.array([math.erf(math.log1p(AGREEMENT_TOLERANCE) / (s * math.sqrt(2.0))) for s in spread])
    return intercept, slope, residual / sigma, inlier, float(within.mean()) if len(within) else 0.0


def _speed_word(movement: str, rate: Optional[float]) -> str:
    if rate is None:
        return ""
    speed = abs(rate)
    if movement.startswith("dolly"):
        slow, fast = SLOW_DOLLY_M_PER_S, FAST_DOLLY_M_PER_S
    else:
        slow, fast = SLOW_ZOOM_PCT_PER_S, FAST_ZOOM_PCT_PER_S
    return "slow " if speed < slow else "fast " if speed > fast else ""


def caption_sentence(shot_size: str, movement: str, focal_mm_start: float, focal_mm_end: float,
                     focal_mm_mean: float, distance_m: Optional[float], movement_rate: Optional[float]) -> str:
    """"MCU on 75 mm, slow push-in, subject at 2.4 m" (module docstring)."""
    if movement.startswith("zoom") and round(focal_mm_start) != round(focal_mm_end):
        lens = f"{focal_mm_start:.0f}-{focal_mm_end:.0f} mm"
    else:
        lens = f"{focal_mm_mean:.0f} mm"
    move = _speed_word(movement, movement_rate) + _MOVEMENT_WORDS.get(movement, movement.replace("_", " "))
    if shot_size == "none" or distance_m is None:
        return f"No subject, {lens}, {move}"
    return f"{shot_size} on {lens}, {move}, subject at {distance_m:.1f} m"


def _conflicts(movement: str, rate: Optional[float]) -> Tuple[str, ...]:
    """What contradicts a zoom or dolly caption in its own focal or distance line (module docstring)."""
    if rate is None:
        return ()
    if movement.startswith("zoom"):
        expected = 1.0 if movement == "zoom_in" else -1.0
        if rate * expected < SLOW_ZOOM_PCT_PER_S / 10.0:
            return (f"{movement.replace('_', ' ')}, but the focal length changes {rate:+.1f} %/s",)
    elif movement.startswith("dolly"):
        expected = -1.0 if movement == "dolly_in" else 1.0  # a push-in brings the subject closer
        if rate * expected <= 0.0:
            return (f"{movement.replace('_', ' ')}, but the subject distance changes {rate:+.2f} m/s",)
    return ()


def _shot(index: int, frames: Sequence[FramePrediction]) -> ShotCaption:
    shot_probs = np.stack([f.shot_size_probs for f in frames])
    move_probs = np.stack([f.movement_probs for f in frames])
    shot_k, move_k = int(shot_probs.mean(axis=0).argmax()), int(move_probs.mean(axis=0).argmax())
    shot_size, movement = SHOT_SIZE_CLASSES[shot_k], MOVEMENT_CLASSES[move_k]
    t_s = np.array([(f.t_ns - frames[0].t_ns) * 1e-9 for f in frames])
    focal = _regression_part(t_s, np.array([f.focal_mm for f in frames]), np.array([f.focal_log_sigma for f in frames]))
    distance = _regression_part(t_s, np.array([f.distance_m for f in frames]),
                                np.array([f.distance_log_sigma for f in frames]))
    has_subject = shot_k != _NONE
    focal_values = np.array([f.focal_mm for f in frames])[focal[3]]
    distance_values = np.array([f.distance_m for f in frames])[distance[3]]
    focal_start, focal_end = math.exp(focal[0]), math.exp(focal[0] + focal[1] * t_s[-1])
    distance_median = float(np.median(distance_values)) if has_subject else None
    rate, unit = None, None
    if movement.startswith("dolly") and has_subject:
        rate, unit = distance[1] * distance_median, "m/s"
    elif movement.startswith("zoom"):
        rate, unit = 100.0 * focal[1], "%/s"
    conflicts = _conflicts(movement, rate)
    if conflicts:
        rate = None
    outliers: List[OutlierFrame] = []
    for k, f in enumerate(frames):
        reasons = []
        if f.shot_size_index != shot_k:
            reasons.append(f"shot size {f.shot_size}, not {shot_size}")
        if f.movement_index != move_k:
            reasons.append(f"movement {f.movement}, not {movement}")
        if not focal[3][k]:
            reasons.append(f"focal length {f.focal_mm:.1f} mm is {abs(focal[2][k]):.1f} robust sigmas off")
        if has_subject and not distance[3][k]:
            reasons.append(f"subject distance {f.distance_m:.2f} m is {abs(distance[2][k]):.1f} robust sigmas off")
        if reasons:
            outliers.append(OutlierFrame(f.frame_index, f.t_ns, f.timecode, tuple(reasons)))
    parts = [float(shot_probs[:, shot_k].mean()), float(move_probs[:, move_k].mean()), focal[4]]
    if conflicts:
        parts[1] *= 0.5
    if has_subject:
        parts.append(distance[4])
    focal_mean = float(focal_values.mean())
    timecodes = [f.timecode for f in frames if f.timecode is not None]
    return ShotCaption(
        index=index, first_frame=frames[0].frame_index, last_frame=frames[-1].frame_index, frames=len(frames),
        start_ns=frames[0].t_ns, end_ns=frames[-1].t_ns, tc_in=timecodes[0] if timecodes else None,
        tc_out=timecodes[-1] if timecodes else None,
        shot_size=shot_size, shot_size_confidence=parts[0], movement=movement, movement_confidence=parts[1],
        focal_mm_mean=focal_mean, focal_mm_start=focal_start, focal_mm_end=focal_end, focal_confidence=focal[4],
        distance_m_median=distance_median, distance_confidence=distance[4] if has_subject else None,
        movement_rate=rate, movement_rate_unit=unit, confidence=float(np.prod(parts)),
        outliers=tuple(outliers), conflicts=conflicts,
        sentence=caption_sentence(shot_size, movement, focal_start, focal_end, focal_mean, distance_median, rate))


def aggregate_shots(frames: Sequence[FramePrediction], min_frames: int = MIN_SHOT_FRAMES) -> List[ShotCaption]:
    """A take's frame outputs, in order, -> its shots (module docstring)."""
    frames = list(frames)
    if not frames:
        return []
    if any(b.frame_index <= a.frame_index for a, b in zip(frames, frames[1:])):
        raise ModelInputError("frame outputs must come in order of frame_index, each index once")
    joint = [f.shot_size_index * len(MOVEMENT_CLASSES) + f.movement_index for f in frames]
    spans = [[a, b] for a, b, _ in stable_runs(joint, min_frames)]
    shots = [_shot(0, frames[a:b]) for a, b in spans]
    k = 0
    while k + 1 < len(shots):  # neighbours whose captions agree are one shot
        if (shots[k].shot_size, shots[k].movement) == (shots[k + 1].shot_size, shots[k + 1].movement):
            spans[k:k + 2] = [[spans[k][0], spans[k + 1][1]]]
            shots[k:k + 2] = [_shot(0, frames[spans[k][0]:spans[k][1]])]
            k = max(0, k - 1)
        else:
            k += 1
    return [_shot(i, frames[a:b]) for i, (a, b) in enumerate(spans)]


CSV_COLUMNS: Tuple[str, ...] = (
    "shot", "first_frame", "last_frame", "frames", "tc_in", "tc_out", "start_ns", "end_ns", "shot_size",
    "shot_size_confidence", "movement", "movement_confidence", "focal_mm_mean", "focal_mm_start", "focal_mm_end",
    "distance_m_median", "movement_rate", "movement_rate_unit", "confidence", "outlier_count", "outlier_frames",
    "conflicts", "caption",
)


def _cell(value: object, digits: int = 3) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def shots_csv(shots: Sequence[ShotCaption]) -> str:
    """One row per shot, :data:`CSV_COLUMNS`; outlier frames as space-separated frame indexes,
    conflicts separated by "; "."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in shots:
        writer.writerow([
            s.index, s.first_frame, s.last_frame, s.frames, _cell(s.tc_in), _cell(s.tc_out), s.start_ns, s.end_ns,
            s.shot_size, _cell(s.shot_size_confidence), s.movement, _cell(s.movement_confidence),
            _cell(s.focal_mm_mean, 1), _cell(s.focal_mm_start, 1), _cell(s.focal_mm_end, 1),
            _cell(s.distance_m_median, 2), _cell(s.movement_rate), _cell(s.movement_rate_unit), _cell(s.confidence),
            len(s.outliers), " ".join(str(o.frame_index) for o in s.outliers), "; ".join(s.conflicts), s.sentence,
        ])
    return buf.getvalue()


def shots_document(shots: Sequence[ShotCaption], frames: Sequence[FramePrediction], take: Dict[str, object],
                   model: Dict[str, object], min_frames: int = MIN_SHOT_FRAMES) -> Dict[str, object]:
    """The JSON document of a take's captions: format, take and model identity, shots, frames."""
    return {
        "format": "onset-captions", "format_version": 1, "take": dict(take), "model": dict(model),
        "clip_rate_hz": CLIP_RATE_HZ, "min_shot_frames": min_frames,
        "shots": [s.to_dict() for s in shots], "frames": [f.to_dict() for f in frames],
    }
