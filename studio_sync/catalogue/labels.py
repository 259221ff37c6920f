"""A verified take's frame and shot labels, derived exactly as the captioner's dataset builder derives them.

Nothing is labelled here: this is the builder's own path (``engines/captioner/dataset/build.py``,
less the pictures), so a catalogue row and the dataset sample of the same frame carry the same
labels. The take is opened with :func:`engines.captioner.dataset.open_take`; its chosen frames
(every camera frame nearest a ``fps`` grid) are fused again and labelled by
:class:`engines.captioner.dataset.TakeFrames`; each becomes the builder's
:class:`~engines.captioner.dataset.records.FrameRecord` and the records are cut into shots by
:func:`engines.captioner.dataset.segment_shots`.

A take without camera frames is still a take: it is catalogued without frames, and
:attr:`TakeLabels.note` says why. A bag that cannot be read is a :class:`~.errors.LabelError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

from engines.captioner.dataset import (
    DEFAULT_FPS,
    DatasetError,
    NoCameraFramesError,
    Shot,
    TakeFrames,
    TakeSource,
    open_take,
    segment_shots,
)
from engines.captioner.dataset.metadata import shot_id
from engines.captioner.dataset.records import FrameRecord, frame_record
from studio_sync.catalogue.errors import LabelError

__all__ = ["DEFAULT_FPS", "TakeLabels", "label_take", "shot_id"]


@dataclass(frozen=True)
class TakeLabels:
    """A take's labelled frames (in frame order) and its shots; which sensors it had; ``note``:
    why it has no frames, when it has none."""

    source: TakeSource
    fps: float
    records: Tuple[FrameRecord, ...]
    shots: Tuple[Shot, ...]
    has_lidar: bool
    has_pose: bool
    has_lens: bool
    note: Optional[str] = None

    def shot_of(self, position: int) -> Shot:
        """The shot holding the record at ``position``."""
        return next(s for s in self.shots if s.first <= position <= s.last)


def label_take(folder: Path, fps: float = DEFAULT_FPS) -> TakeLabels:
    """The labels of the take in ``folder`` at ``fps`` frames a second (module docstring)."""
    try:
        source = open_take(Path(folder))
        try:
            frames = TakeFrames(source, fps)
        except NoCameraFramesError as err:
            return TakeLabels(source, float(fps), (), (), False, False, False, str(err))
        records = tuple(frame_record(frame, source.take_id, source.scene) for frame in frames)
    except DatasetError as err:
        raise LabelError(f"take {Path(folder).name} verified but its labels cannot be derived: {err}") from err
    return TakeLabels(source, float(fps), records, tuple(segment_shots(records)), frames.has_lidar, frames.has_pose,
                      frames.has_lens)
