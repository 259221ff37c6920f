"""The closed loop: the captioner reads the styled frames too, and a look must not change what it reads.

For each frame the captioner reads twice, raw and styled by a look (with its grain), the two
readings are compared:

* shot size and movement: the share of frames whose class differs (target at most
  :data:`MAX_CLASS_CHANGE`, 2 %);
* focal length and subject distance: the mean relative change ``|styled - raw| / raw`` over the
  frames (target at most :data:`MAX_VALUE_CHANGE`, 2 %); the distance only where the raw reading
  has a subject.

:class:`LoopTally` accumulates the comparison frame by frame (the live worker keeps one per look
for its health figure); :func:`compare_predictions` tallies two lists of frame predictions
(``engines.captioner.model.shots.FramePrediction``); :func:`closed_loop` styles frames with each
look and runs the captioner over raw and styled (a model from ``engines.captioner.model``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Sequence

import numpy as np

__all__ = ["MAX_CLASS_CHANGE", "MAX_VALUE_CHANGE", "LoopTally", "compare_predictions", "closed_loop"]

MAX_CLASS_CHANGE = 0.02
MAX_VALUE_CHANGE = 0.02
_NONE = "none"


@dataclass
class LoopTally:
    """Raw-vs-styled readings counted so far (module docstring)."""

    frames: int = 0
    shot_size_changed: int = 0
    movement_changed: int = 0
    focal_change_sum: float = 0.0
    distance_frames: int = 0
    distance_change_sum: float = 0.0

    def add(self, raw, styled) -> None:
        """One frame's two readings (anything with shot_size, movement, focal_mm, distance_m)."""
        self.frames += 1
        self.shot_size_changed += int(raw.shot_size != styled.shot_size)
        self.movement_changed += int(raw.movement != styled.movement)
        self.focal_change_sum += abs(styled.focal_mm - raw.focal_mm) / max(raw.focal_mm, 1e-6)
        if raw.shot_size != _NONE:
            self.distance_frames += 1
            self.distance_change_sum += abs(styled.distance_m - raw.distance_m) / max(raw.distance_m, 1e-6)

    def merge(self, other: "LoopTally") -> "LoopTally":
        """Both tallies together (takes read one at a time)."""
        return LoopTally(*(getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(self)))

    def summary(self) -> Dict[str, object]:
        n = max(self.frames, 1)
        out: Dict[str, object] = {
            "frames": self.frames,
            "shot_size_changed": self.shot_size_changed / n,
            "movement_changed": self.movement_changed / n,
            "focal_mean_rel_change": self.focal_change_sum / n,
            "distance_mean_rel_change": (self.distance_change_sum / self.distance_frames
                                         if self.distance_frames else None),
        }
        out["met"] = bool(self.frames and out["shot_size_changed"] <= MAX_CLASS_CHANGE
                          and out["movement_changed"] <= MAX_CLASS_CHANGE
                          and out["focal_mean_rel_change"] <= MAX_VALUE_CHANGE
                          and (out["distance_mean_rel_change"] is None
                               or out["distance_mean_rel_change"] <= MAX_VALUE_CHANGE))
        return out


def compare_predictions(raw: Sequence, styled: Sequence) -> LoopTally:
    """Tally two readings of the same frames, in the same order (frame indexes must match)."""
    tally = LoopTally()
    for a, b in zip(raw, styled):
        if a.frame_index != b.frame_index:
            raise ValueError(f"the readings are of different frames: {a.frame_index} and {b.frame_index}")
        tally.add(a, b)
    return tally


def closed_loop(frames: Iterable, looks: Dict[str, object], read: Callable[[List], List]) -> Dict[str, LoopTally]:
    """For each look: ``read`` (frames -> frame predictions, e.g. ``runner.predict_frames`` with a
    model) on the raw frames and on the frames styled by the look, compared (module docstring).
    ``frames`` are fused or take frames (``rgb`` uint8, ``frame_index``); the styling keeps
    everything but the image."""
    from engines.style.live import LiveLook

    frames = list(frames)
    if not frames:
        return {}
    raw = read(frames)
    out: Dict[str, LoopTally] = {}
    for name, look in looks.items():
        prepared: Dict[tuple, LiveLook] = {}
        styled_frames = []
        for f in frames:
            h, w = f.rgb.shape[:2]
            live = prepared.setdefault((h, w), LiveLook(look, h, w))
            styled_frames.append(dataclasses.replace(f, rgb=live.apply(np.ascontiguousarray(f.rgb),
                                                                      frame_index=int(f.frame_index))))
        out[name] = compare_predictions(raw, read(styled_frames))
    return out
