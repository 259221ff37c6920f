"""Which takes, and which of their frames, a dataset is built from: a catalogue query.

A :class:`DatasetQuery` is what the wrangler asks for: a production phrase
(:func:`studio_sync.vocabulary.parse_phrase`: "MCU, 75mm, slow push-in"), scenes, shot sizes, a
focal range (mm) and movements. Its filters are one :class:`~studio_sync.vocabulary.ShotQuery`
(:meth:`DatasetQuery.shot_query`): each flag narrows what the phrase asks for (a flag and the
phrase naming shot sizes keep the sizes both name; filters that leave nothing are refused);
scenes are matched exactly on the slate's scene.

:func:`select_from_catalogue` runs it over the catalogue's frames
(:func:`studio_sync.catalogue.where_clause`, the SQL ``onset studio find`` runs):

* ``level="frame"`` (the default): the frames whose own labels pass the filters;
* ``level="shot"``: every frame of the shots whose shot labels pass (the shot's majority size
  and movement, its mean focal length and distance).

A query with no label filter selects whole takes (``frames`` None). A take is selected when at
least one of its frames is; takes the catalogue holds without frames (no camera) never are. The
catalogue's frames are the dataset builder's own at the take's ``label_fps`` (same frame
indexes, same labels), so a dataset built at that rate holds exactly the selected frames.
Selections list takes by name; the builder writes them in its own order.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple

from engines.captioner.movement import MovementClass
from engines.captioner.shot_size import ShotSize
from studio_sync.datasets.errors import NothingSelectedError, SelectionError
from studio_sync.vocabulary import Range, ShotQuery, VocabularyError, parse_phrase

__all__ = ["LEVELS", "DatasetQuery", "SelectedTake", "Selection", "parse_focal", "parse_shot_size",
           "parse_movement", "select_from_catalogue", "select"]

LEVELS = ("frame", "shot")
_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?))?\s*(?:mm)?\s*$", re.IGNORECASE)


def parse_shot_size(text: str) -> ShotSize:
    """A shot size class from its name (``MCU``, ``ms``, ``none``)."""
    wanted = str(text).strip()
    for size in ShotSize:
        if size.value.lower() == wanted.lower():
            return size
    raise SelectionError(f"{text!r} is not a shot size: use one of {', '.join(s.value for s in ShotSize)}")


def parse_movement(text: str) -> MovementClass:
    """A movement class from its name (``dolly_in``, ``dolly-in`` and ``dolly in`` alike)."""
    wanted = re.sub(r"[\s-]+", "_", str(text).strip().lower())
    for movement in MovementClass:
        if movement.value == wanted:
            return movement
    raise SelectionError(f"{text!r} is not a camera movement: use one of "
                         f"{', '.join(m.value for m in MovementClass)}")


def parse_focal(text: str) -> Range:
    """A focal range in mm from ``50-85`` (closed) or ``75`` (the vocabulary's tolerance around
    it, as "75mm" reads in a phrase)."""
    match = _RANGE.match(str(text))
    if match is None:
        raise SelectionError(f"--focal {text!r}: give a focal length in mm (75) or a range (50-85)")
    low, high = match.group(1), match.group(2)
    try:
        reading = parse_phrase(f"{low}-{high}mm" if high is not None else f"{low}mm").focal_mm
    except VocabularyError as err:
        raise SelectionError(f"--focal {text!r}: {err}") from err
    if reading is None:
        raise SelectionError(f"--focal {text!r} reads as no focal range")
    return reading


def _narrow(name: str, have: FrozenSet[Any], wanted: FrozenSet[Any]) -> FrozenSet[Any]:
    if not wanted:
        return have
    if not have:
        return wanted
    both = have & wanted
    if not both:
        raise SelectionError(f"the phrase and the flags ask for different {name}: "
                             f"{sorted(v.value for v in have)} and {sorted(v.value for v in wanted)}")
    return frozenset(both)


@dataclass(frozen=True)
class DatasetQuery:
    """What a dataset is built from (module docstring). ``focal_mm``: the lens's focal length
    range, mm; ``level``: ``frame`` or ``shot``."""

    phrase: Optional[str] = None
    scenes: Tuple[str, ...] = ()
    shot_sizes: Tuple[str, ...] = ()
    focal_mm: Optional[Range] = None
    movements: Tuple[str, ...] = ()
    level: str = "frame"

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise SelectionError(f"a selection level is one of {', '.join(LEVELS)}, got {self.level!r}")

    def shot_query(self) -> ShotQuery:
        """The phrase's filters narrowed by the flags; :class:`~.errors.SelectionError` when the
        phrase cannot be read or the filters contradict each other."""
        try:
            base = parse_phrase(self.phrase) if self.phrase else ShotQuery()
        except VocabularyError as err:
            raise SelectionError(f"--phrase: {err}") from err
        sizes = _narrow("shot sizes", base.shot_sizes, frozenset(parse_shot_size(s) for s in self.shot_sizes))
        movements = _narrow("movements", base.movements, frozenset(parse_movement(m) for m in self.movements))
        focal = base.focal_mm
        if self.focal_mm is not None:
            focal = self.focal_mm if focal is None else focal.intersect(self.focal_mm)
            if focal is None:
                raise SelectionError(f"the phrase's focal range {base.focal_mm.describe('mm')} and --focal "
                                     f"{self.focal_mm.describe('mm')} do not overlap")
        return dataclasses.replace(base, shot_sizes=sizes, movements=movements, focal_mm=focal)

    def to_dict(self) -> Dict[str, Any]:
        """The query as plain JSON, with the filters it reads as."""
        return {"phrase": self.phrase, "scenes": list(self.scenes), "shot_sizes": list(self.shot_sizes),
                "focal_mm": None if self.focal_mm is None else self.focal_mm.to_list(),
                "movements": list(self.movements), "level": self.level, "filters": self.shot_query().to_dict()}


@dataclass(frozen=True)
class SelectedTake:
    """One selected take, as the catalogue knows it: its folder name in the store, the builder's
    ``take_id``, slate scene, the rate its frames were catalogued at, the SHA-256 of the
    ``take.json`` it was catalogued from, and ``frames``: the selected frame indexes (None: all)."""

    take: str
    take_id: str
    scene: str
    label_fps: Optional[float]
    take_json_sha256: Optional[str]
    frames: Optional[FrozenSet[int]] = None
    catalogued_frames: int = 0

    @property
    def selected_frames(self) -> int:
        return self.catalogued_frames if self.frames is None else len(self.frames)


@dataclass(frozen=True)
class Selection:
    """The takes a query selects (by name), the query, and the catalogue it ran on (URL with its
    password masked); ``skipped``: catalogued takes the query could not use, with why."""

    query: DatasetQuery
    catalogue: str
    takes: Tuple[SelectedTake, ...]
    skipped: Tuple[Tuple[str, str], ...] = field(default=())

    @property
    def frames(self) -> int:
        return sum(t.selected_frames for t in self.takes)

    @property
    def label_fps(self) -> Optional[float]:
        """The rate every selected take was catalogued at (None: they differ, or it is unknown)."""
        rates = {t.label_fps for t in self.takes}
        return next(iter(rates)) if len(rates) == 1 else None

    def to_dict(self) -> Dict[str, Any]:
        """What the dataset's provenance records: the catalogue, the query, the takes selected."""
        return {"catalogue": self.catalogue, "query": self.query.to_dict(),
                "takes": [{"take": t.take, "scene": t.scene, "selected_frames": t.selected_frames,
                           "whole_take": t.frames is None} for t in self.takes]}


def _in(column: str, values: Sequence[Any]) -> Tuple[str, List[Any]]:
    return f"{column} IN ({', '.join('?' for _ in values)})", list(values)


def _matching_frames(catalogue: Any, shot_query: ShotQuery, level: str, scenes: Sequence[str]
                     ) -> Dict[str, FrozenSet[int]]:
    from studio_sync.catalogue import where_clause

    if level == "frame":
        where, params = where_clause(shot_query, "frame", "f")
        joins = "JOIN takes t ON t.take = f.take"
    else:
        where, params = where_clause(shot_query, "shot", "s")
        joins = "JOIN shots s ON s.take = f.take AND s.shot_index = f.shot_index JOIN takes t ON t.take = f.take"
    if scenes:
        condition, values = _in("t.scene", scenes)
        where, params = f"({where}) AND {condition}", [*params, *values]
    rows = catalogue.rows(f"SELECT f.take, f.frame_index FROM frames f {joins} WHERE {where} "
                          "ORDER BY f.take, f.frame_index", params)
    found: Dict[str, set] = {}
    for row in rows:
        found.setdefault(str(row["take"]), set()).add(int(row["frame_index"]))
    return {take: frozenset(frames) for take, frames in found.items()}


def _take_rows(catalogue: Any, scenes: Sequence[str]) -> List[Mapping[str, Any]]:
    where, params = ("1 = 1", []) if not scenes else _in("scene", scenes)
    return catalogue.rows("SELECT take, take_id, scene, label_fps, take_json_sha256, frames FROM takes "
                          f"WHERE {where} ORDER BY take", params)


def select(catalogue: Any, query: DatasetQuery) -> Selection:
    """The takes and frames ``query`` selects in the open ``catalogue`` (module docstring);
    :class:`~.errors.NothingSelectedError` when there are none."""
    shot_query = query.shot_query()
    scenes = tuple(dict.fromkeys(s for s in query.scenes if s))
    takes = _take_rows(catalogue, scenes)
    matched = None if shot_query.empty else _matching_frames(catalogue, shot_query, query.level, scenes)
    selected: List[SelectedTake] = []
    skipped: List[Tuple[str, str]] = []
    for row in takes:
        name, count = str(row["take"]), int(row.get("frames") or 0)
        if count == 0:
            skipped.append((name, "catalogued without frames (no camera frames)"))
            continue
        if row.get("scene") is None:
            skipped.append((name, "its slate names no scene, which the dataset splits by"))
            continue
        frames = None if matched is None else matched.get(name)
        if matched is not None and not frames:
            continue
        fps = row.get("label_fps")
        selected.append(SelectedTake(name, str(row["take_id"]), str(row["scene"]),
                                     None if fps is None else float(fps), row.get("take_json_sha256"), frames,
                                     count))
    asked = [f"phrase {query.phrase!r}" if query.phrase else "", f"scenes {', '.join(scenes)}" if scenes else "",
             "--shot-size/--focal/--movement" if (query.shot_sizes or query.movements or query.focal_mm) else ""]
    what = " and ".join(a for a in asked if a) or "the query"
    url = str(getattr(catalogue, "url", ""))
    if not selected:
        raise NothingSelectedError(f"nothing selected: no take in the catalogue {url} has frames that {what} "
                                   f"select (read as: {'; '.join(shot_query.explain()) or 'no label filter'})")
    return Selection(query, url, tuple(selected), tuple(skipped))


def select_from_catalogue(url: str, query: DatasetQuery) -> Selection:
    """Open the catalogue at ``url`` (read only: it must exist and hold Onset's tables) and
    :func:`select` from it; catalogue failures become :class:`~.errors.SelectionError`."""
    from studio_sync.catalogue import CatalogueError, open_catalogue, require_schema

    query.shot_query()  # a phrase that does not read is refused before the catalogue is opened
    try:
        with open_catalogue(url, create=False) as catalogue:
            require_schema(catalogue)
            return select(catalogue, query)
    except CatalogueError as err:
        raise SelectionError(str(err)) from err
