"""The closed loop, live: the captioner worker also reads the style worker's frames and says how
often the look changed what it read (a health figure in every captioner result).

The captioner reads raw frames at its clip rate; :class:`StyledWatch` remembers its reading of
each clip frame by frame index, takes the styled frames of those same indexes from the styled
stream (non-blocking, newest first; others are dropped), reads them with a second clip of its
own on the same model sessions, and tallies the two readings
(``engines.style.closed_loop.LoopTally``) for the look that styled them, which it learns from the
style worker's results. A look change starts a new tally. Frames the style worker skipped leave
gaps in the styled clip; the figure counts only the frames read both ways (``frames``).
"""

from __future__ import annotations

from collections import OrderedDict
from types import SimpleNamespace
from typing import Any, Dict, Optional

from engines.style.closed_loop import LoopTally

__all__ = ["StyledWatch", "reading_of"]

#: Raw readings kept for frames whose styled copy has not arrived yet.
_PENDING = 48


def reading_of(frame_index: int, document: Dict[str, Any]) -> SimpleNamespace:
    """A comparable reading from a captioner result's ``model`` document."""
    return SimpleNamespace(frame_index=frame_index, shot_size=document["shot_size"]["class"],
                           movement=document["movement"]["class"],
                           focal_mm=float(document["focal_35mm"]["value"]),
                           distance_m=float(document["subject_distance"]["value"]))


class StyledWatch:
    """Compare the captioner's readings of raw and styled frames (module docstring).

    ``styled``: a fused-frame subscriber of the styled stream (``recv(timeout_ms)``); ``looks``:
    a result subscriber of the style worker's results (``recv(timeout_ms)`` -> envelope dict);
    ``read(frame) -> model document``: the second clip's reading of a styled frame."""

    def __init__(self, styled: Any, looks: Any, read) -> None:
        self._styled, self._looks, self._read = styled, looks, read
        self._raw: "OrderedDict[int, SimpleNamespace]" = OrderedDict()
        self._look_of: "OrderedDict[int, str]" = OrderedDict()
        self.look: Optional[str] = None
        self.tally = LoopTally()

    def raw(self, frame_index: int, document: Dict[str, Any]) -> None:
        """The captioner's reading of raw clip frame ``frame_index``."""
        self._raw[int(frame_index)] = reading_of(frame_index, document)
        while len(self._raw) > _PENDING:
            self._raw.popitem(last=False)

    def poll(self) -> None:
        """Take what the style worker sent since the last call and compare what can be compared."""
        message = self._looks.recv(timeout_ms=0)
        while message is not None:
            look = (message.get("result") or {}).get("look")
            if look is not None:
                self._look_of[int(message["frame_index"])] = look
            message = self._looks.recv(timeout_ms=0)
        while len(self._look_of) > 4 * _PENDING:
            self._look_of.popitem(last=False)
        frame = self._styled.recv(timeout_ms=0)
        while frame is not None:
            index = int(frame.frame_index)
            raw = self._raw.pop(index, None)
            look = self._look_of.get(index)
            if raw is not None and look is not None:
                if look != self.look:
                    self.look, self.tally = look, LoopTally()
                self.tally.add(raw, reading_of(index, self._read(frame)))
            frame = self._styled.recv(timeout_ms=0)

    def summary(self) -> Dict[str, Any]:
        """The health figure: the current look and its tally (``closed_loop.LoopTally.summary``)."""
        return {"look": self.look, **self.tally.summary()}

    def close(self) -> None:
        for source in (self._styled, self._looks):
            close = getattr(source, "close", None)
            if close is not None:
                close()
