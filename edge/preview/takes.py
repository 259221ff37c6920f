"""The takes page's catalogue: the takes folder as the node records it, thumbnails, next free take.

:meth:`TakeCatalogue.listing` reads the takes folder (:func:`edge.recorder.catalog.list_takes`)
and gives each take its slate, TC in/out, duration, status and health (what ``take.json`` says
was dropped, and its errors), its caption summary when ``onset caption`` has written
``captions.json`` into it, its offload and sync state (:func:`studio_sync.upload.status.sync_states`:
``not sealed``, ``hashed``, ``queued``, ``uploading`` with its bytes, ``interrupted``,
``verified`` in the studio, ``failed`` with the reason) and its thumbnail's URL. A thumbnail is one camera frame decoded from
the take's bag (:func:`engines.captioner.dataset.bag.iter_frames_and_sweeps`, the first frame),
:data:`THUMBNAIL_WIDTH` px wide, kept in memory by take and ``take.json`` version: nothing is
written into a take folder, whose files are hashed on their way to the studio.

:meth:`TakeCatalogue.next_take` is the next free take number of a scene and shot (one more than
the highest in the folder); :meth:`TakeCatalogue.existing` names the take folder a slate already has.
Take names are checked against the folder's own entries: a name is never joined into a path
unchecked.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from edge.preview.errors import PreviewError
from edge.preview.parts import encode_jpeg, fit_image
from edge.recorder.catalog import TakeSummary, list_takes
from edge.recorder.errors import RecorderError, TakeNotFoundError
from edge.recorder.take import BAG_DIRNAME, TAKE_JSON, parse_take_name, read_take_json

__all__ = ["THUMBNAIL_WIDTH", "CAPTIONS_FILE", "NOT_SEALED", "NoSuchTake", "NoThumbnail", "TakeCatalogue"]

THUMBNAIL_WIDTH = 320
CAPTIONS_FILE = "captions.json"
_THUMBNAILS_KEPT = 256
_MAX_CAPTIONS_BYTES = 64 << 20
_SENTENCES = 3
_HEALTHY = ("complete", "recovered")
#: The sync state of a take with no ASC MHL history yet (recorded before sealing, or its seal failed).
NOT_SEALED = "not sealed"


class NoSuchTake(PreviewError):
    """A take name that is not a take in the takes folder."""


class NoThumbnail(PreviewError):
    """A take whose bag gives no camera frame; the message says why."""


def _slate(summary: TakeSummary) -> Tuple[Optional[str], Optional[str], Optional[int]]:
    if summary.scene is not None:
        return summary.scene, summary.shot, summary.take
    parsed = parse_take_name(summary.name)
    return (None, None, None) if parsed is None else (parsed.scene, parsed.shot, parsed.take)


def _health(folder: Path, summary: TakeSummary) -> Dict[str, Any]:
    try:
        doc = read_take_json(folder)
    except RecorderError as err:
        return {"ok": False, "status": summary.status, "dropped": None, "errors": 1, "problem": str(err)}
    dropped = {k: int(v) for k, v in (doc.get("dropped") or {}).items() if isinstance(v, int) and v}
    errors = doc.get("errors") or []
    sensors = doc.get("sensors") or {}
    short = {name: entry for name, entry in sensors.items()
             if isinstance(entry, dict) and entry.get("decoded") != entry.get("offered")}
    return {
        "ok": summary.status in _HEALTHY and not dropped and not errors and not short,
        "status": summary.status, "dropped": sum(dropped.values()), "dropped_by_reason": dropped,
        "errors": len(errors), "problem": summary.error,
        "sensors_short": sorted(short),
    }


def _caption_summary(folder: Path) -> Optional[Dict[str, Any]]:
    path = folder / CAPTIONS_FILE
    try:
        if not path.is_file() or path.stat().st_size > _MAX_CAPTIONS_BYTES:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    shots = doc.get("shots") if isinstance(doc, dict) else None
    if not isinstance(shots, list):
        return None
    shots = [s for s in shots if isinstance(s, dict)]
    confidences = [float(s["confidence"]) for s in shots if isinstance(s.get("confidence"), (int, float))]
    return {"shots": len(shots), "sentences": [str(s.get("sentence", "")) for s in shots[:_SENTENCES]],
            "confidence": round(sum(confidences) / len(confidences), 4) if confidences else None}


class TakeCatalogue:
    """The takes in ``takes_dir()`` (called each time: the node says where it records, and may
    say so only once it is up). Thread-safe."""

    def __init__(self, takes_dir: Callable[[], Path], studio: Optional[Any] = None) -> None:
        self._takes_dir = takes_dir
        self._studio = studio
        self._lock = threading.Lock()
        self._thumbnails: "OrderedDict[Tuple[str, int], bytes]" = OrderedDict()
        self._captions: Dict[Tuple[str, int], Optional[Dict[str, Any]]] = {}
        self.thumbnails_decoded = 0

    @property
    def takes_dir(self) -> Path:
        return Path(self._takes_dir())

    def _summaries(self) -> List[TakeSummary]:
        try:
            return list_takes(self.takes_dir)
        except TakeNotFoundError:
            return []

    def listing(self) -> Dict[str, Any]:
        """``{"takes_dir", "takes": [...]}``, oldest first (module docstring)."""
        root = self.takes_dir
        takes = []
        states = self._sync_states(root)
        for summary in self._summaries():
            scene, shot, take = _slate(summary)
            takes.append({
                "id": summary.name, "slate": {"scene": scene, "shot": shot, "take": take},
                "tc_in": summary.tc_in, "tc_out": summary.tc_out, "duration_s": summary.duration_s,
                "start_ns": summary.start_ns, "status": summary.status, "message_count": summary.message_count,
                "size_bytes": summary.size_bytes, "health": _health(summary.path, summary),
                "captions": self._captions_of(summary.path),
                "sync": None if states is None else states.get(summary.name) or {"state": NOT_SEALED, "reason": None},
                "thumbnail": f"/api/takes/{summary.name}/thumbnail.jpg",
            })
        return {"takes_dir": str(root), "exists": root.is_dir(), "takes": takes}

    def _sync_states(self, root: Path) -> Optional[Dict[str, Dict[str, Any]]]:
        """Each take's sync state by name (a take missing from it is not sealed); None when no
        studio settings were given. A queue that cannot be read makes every take say why."""
        if self._studio is None:
            return None
        from studio_sync.upload.status import sync_states

        try:
            return sync_states(self._studio, root)
        except Exception as err:  # noqa: BLE001 - the list must show even when the queue does not read
            problem = f"the upload queue could not be read: {err}"
            return {s.name: {"state": "unknown", "reason": problem} for s in self._summaries()}

    def _captions_of(self, folder: Path) -> Optional[Dict[str, Any]]:
        try:
            key = (folder.name, (folder / CAPTIONS_FILE).stat().st_mtime_ns)
        except OSError:
            return None
        with self._lock:
            if key not in self._captions:
                if len(self._captions) > _THUMBNAILS_KEPT:
                    self._captions.clear()
                self._captions[key] = _caption_summary(folder)
            return self._captions[key]

    def existing(self, scene: str, shot: str, take: int) -> Optional[str]:
        """The name of the take folder this slate already has, or None."""
        for summary in self._summaries():
            if _slate(summary) == (scene, shot, take):
                return summary.name
        return None

    def next_take(self, scene: str, shot: str) -> int:
        """One more than the highest take of ``scene``/``shot`` in the folder (1 for a new shot)."""
        takes = [t for s in self._summaries() for (sc, sh, t) in [_slate(s)] if sc == scene and sh == shot and t]
        return max(takes, default=0) + 1

    def folder(self, take_id: str) -> Path:
        """The folder of take ``take_id``; :class:`NoSuchTake` unless it is an entry of the takes folder."""
        root = self.takes_dir
        try:
            names = {p.name for p in root.iterdir() if p.is_dir()}
        except OSError:
            names = set()
        if take_id not in names:
            raise NoSuchTake(f"no take {take_id!r:.80} in {root} (GET /api/takes lists them)")
        folder = root / take_id
        if not (folder / TAKE_JSON).exists() and not (folder / BAG_DIRNAME).is_dir():
            raise NoSuchTake(f"{take_id!r:.80} in {root} is not a take folder (no {TAKE_JSON}, no {BAG_DIRNAME}/)")
        return folder

    def thumbnail(self, take_id: str) -> bytes:
        """JPEG of the take's first camera frame (module docstring): NoSuchTake or NoThumbnail."""
        folder = self.folder(take_id)
        try:
            version = (folder / TAKE_JSON).stat().st_mtime_ns
        except OSError:
            version = 0
        key = (take_id, version)
        with self._lock:
            if key in self._thumbnails:
                self._thumbnails.move_to_end(key)
                return self._thumbnails[key]
        data = _decode_thumbnail(folder)
        with self._lock:
            self._thumbnails[key] = data
            self.thumbnails_decoded += 1
            while len(self._thumbnails) > _THUMBNAILS_KEPT:
                self._thumbnails.popitem(last=False)
        return data


def _decode_thumbnail(folder: Path) -> bytes:
    from engines.captioner.dataset.bag import CameraImage, iter_frames_and_sweeps
    from engines.captioner.dataset.errors import DatasetError
    from engines.captioner.dataset.source import open_take

    try:
        source = open_take(folder)
        items = iter_frames_and_sweeps(source)
        try:
            image = next((item for item in items if isinstance(item, CameraImage)), None)
        finally:
            items.close()
    except DatasetError as err:
        raise NoThumbnail(f"take {folder.name}: {err}") from err
    if image is None:
        raise NoThumbnail(f"take {folder.name} has no camera frame on {source.topics.image} in its bag")
    height, width = image.rgb.shape[:2]
    thumb_w = min(THUMBNAIL_WIDTH, width)
    thumb_h = max(2, int(round(height * thumb_w / width)))
    return encode_jpeg(fit_image(image.rgb, thumb_w, thumb_h), 80)
