"""The captioner model's captions of a take (``captions.json``, written by ``onset caption``), per frame and shot.

``captions.json`` (``engines/captioner/model/shots.py``, format ``onset-captions`` version 1)
holds the model's shots: each a run of the take's camera frames ``first_frame``..``last_frame``
(the take's frame indexes, as the catalogue's) with a ``sentence`` ("MCU on 75 mm, slow
push-in, subject at 2.4 m") and a ``confidence``; and ``model``, what wrote them. A catalogued
frame's caption is the sentence of the caption shot that holds its index; a catalogued shot's
is that of the caption shot overlapping it by the most frames (the earlier on a tie).

The file verified against the take's history before it is read here, so it is what was
recorded; one that is not readable captions is left out with a note, and the take is
catalogued without captions rather than refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

__all__ = ["CAPTIONS_FILE", "CAPTIONS_FORMAT", "CaptionShot", "TakeCaptions", "read_captions"]

CAPTIONS_FILE = "captions.json"
CAPTIONS_FORMAT = "onset-captions"
_VERSIONS = (1,)
#: A captions file larger than this is not read (a take's are a few hundred kB).
MAX_CAPTIONS_BYTES = 64 << 20


@dataclass(frozen=True)
class CaptionShot:
    """One of the model's shots: frames ``first_frame``..``last_frame`` (take frame indexes,
    inclusive), its sentence and confidence (0-1, None when not given)."""

    index: int
    first_frame: int
    last_frame: int
    sentence: str
    confidence: Optional[float]


@dataclass(frozen=True)
class TakeCaptions:
    """A take's captions: its caption shots in frame order and the model that wrote them."""

    shots: Tuple[CaptionShot, ...]
    model: Mapping[str, Any]

    def for_frame(self, frame_index: int) -> Optional[CaptionShot]:
        """The caption shot holding ``frame_index``, or None."""
        return next((s for s in self.shots if s.first_frame <= frame_index <= s.last_frame), None)

    def for_range(self, first: int, last: int) -> Optional[CaptionShot]:
        """The caption shot overlapping frames ``first``..``last`` the most, or None."""
        best, overlap = None, 0
        for shot in self.shots:
            n = min(last, shot.last_frame) - max(first, shot.first_frame) + 1
            if n > overlap:
                best, overlap = shot, n
        return best

    @property
    def model_sha256(self) -> Optional[str]:
        value = self.model.get("weights_sha256")
        return value if isinstance(value, str) else None


def _int(value: Any) -> Optional[int]:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _shot(raw: Any, position: int) -> CaptionShot:
    if not isinstance(raw, dict):
        raise ValueError(f"shot {position} is not an object")
    first, last = _int(raw.get("first_frame")), _int(raw.get("last_frame"))
    if first is None or last is None or last < first:
        raise ValueError(f"shot {position} has no frame range (first_frame <= last_frame)")
    sentence = raw.get("sentence")
    if not isinstance(sentence, str):
        raise ValueError(f"shot {position} has no sentence")
    confidence = raw.get("confidence")
    confidence = float(confidence) if isinstance(confidence, (int, float)) and not isinstance(confidence, bool) \
        else None
    index = _int(raw.get("index"))
    return CaptionShot(position if index is None else index, first, last, sentence, confidence)


def read_captions(folder: Path) -> Tuple[Optional[TakeCaptions], Optional[str]]:
    """``(captions, note)`` of the take in ``folder``: ``(None, None)`` when it has no captions
    file, ``(None, why)`` when the file is not readable captions."""
    path = Path(folder) / CAPTIONS_FILE
    if not path.is_file():
        return None, None
    try:
        if path.stat().st_size > MAX_CAPTIONS_BYTES:
            raise ValueError(f"it is larger than {MAX_CAPTIONS_BYTES} bytes")
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("format") != CAPTIONS_FORMAT:
            raise ValueError(f'it is not "format": "{CAPTIONS_FORMAT}"')
        if document.get("format_version") not in _VERSIONS:
            raise ValueError(f"format version {document.get('format_version')!r} is not one this Onset reads "
                             f"({', '.join(map(str, _VERSIONS))})")
        raw_shots = document.get("shots")
        if not isinstance(raw_shots, list):
            raise ValueError("it has no list of shots")
        shots: List[CaptionShot] = [_shot(raw, i) for i, raw in enumerate(raw_shots)]
        model = document.get("model")
        model_doc: Dict[str, Any] = dict(model) if isinstance(model, dict) else {}
    except (OSError, UnicodeDecodeError, ValueError) as err:
        return None, f"{CAPTIONS_FILE} left out: {err}"
    return TakeCaptions(tuple(sorted(shots, key=lambda s: s.first_frame)), model_doc), None
