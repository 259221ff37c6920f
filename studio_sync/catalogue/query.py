"""A :class:`~studio_sync.vocabulary.ShotQuery` read into SQL over the catalogue's shots and frames.

:func:`where_clause` turns each filter of the query into a condition with ``?`` parameters, on
the columns of either level (:data:`LEVEL_COLUMNS`), with exactly the semantics of
:meth:`ShotQuery.matches`:

* shot sizes: ``shot_size IN (...)`` (``none`` is nobody in frame); a missing size never matches;
* movements: ``movement IN (...)``, and ``movement IS NULL`` when the query asks for the
  ``missing`` class;
* speed: per unit of the movement label, ``(unit = ? AND low <= speed <= high)``, the units
  OR-ed; a label without a speed never matches;
* focal length, its 35 mm equivalent, subject distance: ``low <= value <= high`` (closed; no
  upper bound when the range is open above); NULL never matches.

An empty query is ``1 = 1``. :func:`find_shots` lists shots: by their **shot** labels (the
shot's majority size and movement, its mean focal length, speed and distance), or by their
**frames** (a shot holding at least one frame whose own labels match, with the timecodes of the
first and last such frame). Results come in take start order, then shot order.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from engines.captioner.movement import MovementClass
from studio_sync.catalogue.db import Catalogue
from studio_sync.catalogue.errors import CatalogueError
from studio_sync.vocabulary import Range, ShotQuery

__all__ = ["LEVELS", "LEVEL_COLUMNS", "ShotMatch", "FindResult", "where_clause", "find_shots"]

LEVELS = ("shot", "frame")
#: The columns each query filter reads, per level: frames carry the frame's labels, shots their own.
LEVEL_COLUMNS: Mapping[str, Mapping[str, str]] = {
    "frame": {"shot_size": "shot_size", "movement": "movement", "speed": "movement_speed",
              "speed_unit": "movement_speed_unit", "focal_mm": "focal_length_mm", "focal_35mm_mm": "focal_35mm_mm",
              "distance_m": "subject_distance_m"},
    "shot": {"shot_size": "shot_size", "movement": "movement", "speed": "movement_speed",
             "speed_unit": "movement_speed_unit", "focal_mm": "mean_focal_length_mm",
             "focal_35mm_mm": "mean_focal_35mm_mm", "distance_m": "mean_subject_distance_m"},
}


def _range(column: str, allowed: Range) -> Tuple[str, List[Any]]:
    parts, params = [], []
    if math.isinf(allowed.low) and allowed.low < 0:
        parts.append(f"{column} IS NOT NULL")
    else:
        parts.append(f"{column} >= ?")
        params.append(float(allowed.low))
    if not math.isinf(allowed.high):
        parts.append(f"{column} <= ?")
        params.append(float(allowed.high))
    return " AND ".join(parts), params


def _in(column: str, values: Sequence[str]) -> Tuple[str, List[Any]]:
    return f"{column} IN ({', '.join('?' for _ in values)})", list(values)


def where_clause(query: ShotQuery, level: str = "shot", alias: str = "") -> Tuple[str, List[Any]]:
    """``(condition, parameters)`` selecting the rows of ``level`` (``shot``: the shots table,
    ``frame``: the frames table) whose labels pass every filter of ``query``; ``alias`` is the
    table's alias in the statement (module docstring)."""
    if level not in LEVEL_COLUMNS:
        raise CatalogueError(f"a query level is one of {', '.join(LEVELS)}, got {level!r}")
    prefix = f"{alias}." if alias else ""
    col = {key: prefix + name for key, name in LEVEL_COLUMNS[level].items()}
    conditions: List[str] = []
    params: List[Any] = []

    def add(condition: str, values: Sequence[Any]) -> None:
        conditions.append(f"({condition})")
        params.extend(values)

    if query.shot_sizes:
        add(*_in(col["shot_size"], sorted(s.value for s in query.shot_sizes)))
    if query.movements:
        named = sorted(m.value for m in query.movements if m is not MovementClass.MISSING)
        either = []
        values: List[Any] = []
        if named:
            condition, values = _in(col["movement"], named)
            either.append(condition)
        if MovementClass.MISSING in query.movements:
            either.append(f"{col['movement']} IS NULL")
        add(" OR ".join(either), values)
    if query.speed is not None:
        either, values = [], []
        for unit, allowed in query.speed.ranges().items():
            condition, bounds = _range(col["speed"], allowed)
            either.append(f"({col['speed_unit']} = ? AND {condition})")
            values.extend([unit, *bounds])
        add(" OR ".join(either) if either else "1 = 0", values)
    for allowed, key in ((query.focal_mm, "focal_mm"), (query.focal_35mm_mm, "focal_35mm_mm"),
                         (query.distance_m, "distance_m")):
        if allowed is not None:
            add(*_range(col[key], allowed))
    if not conditions:
        return "1 = 1", []
    return " AND ".join(conditions), params


@dataclass(frozen=True)
class ShotMatch:
    """One shot found: its take and slate, where it lies (timecodes, frame indexes, master ns),
    its shot labels and caption, ``frames`` catalogued in it and ``matching_frames``: those whose
    own labels pass the query. With ``level="frame"`` the timecodes and ``first_frame_index`` /
    ``last_frame_index`` are those of the first and last matching frame."""

    take: str
    scene: Optional[str]
    slate_shot: Optional[str]
    slate_take: Optional[int]
    shot_index: int
    shot_id: str
    timecode_in: Optional[str]
    timecode_out: Optional[str]
    first_frame_index: int
    last_frame_index: int
    t_start_ns: Optional[int]
    t_end_ns: Optional[int]
    frames: int
    matching_frames: int
    shot_size: Optional[str]
    movement: Optional[str]
    movement_speed: Optional[float]
    movement_speed_unit: Optional[str]
    mean_focal_length_mm: Optional[float]
    mean_focal_35mm_mm: Optional[float]
    mean_subject_distance_m: Optional[float]
    caption: Optional[str]

    @property
    def slate(self) -> str:
        """``scene/shot/take``."""
        return f"{self.scene or '-'}/{self.slate_shot or '-'}/{self.slate_take if self.slate_take is not None else '-'}"

    def to_dict(self) -> Dict[str, Any]:
        out = asdict(self)
        out["slate"] = self.slate
        return out


@dataclass(frozen=True)
class FindResult:
    """The shots found (at most the limit asked for), how many matched in all, and the level."""

    level: str
    total: int
    shots: Tuple[ShotMatch, ...]


_SHOT_FIELDS = ("s.take", "t.scene", "t.slate_shot", "t.slate_take", "s.shot_index", "s.shot_id", "s.frames",
                "s.shot_size", "s.movement", "s.movement_speed", "s.movement_speed_unit", "s.mean_focal_length_mm",
                "s.mean_focal_35mm_mm", "s.mean_subject_distance_m", "s.caption")
_ORDER = "COALESCE(t.start_ns, 0), s.take, s.shot_index"


def _limit(limit: Optional[int]) -> Tuple[str, List[Any]]:
    if limit is None:
        return "", []
    if int(limit) < 0:
        raise CatalogueError(f"a limit is a number of shots, 0 or more; got {limit}")
    return " LIMIT ?", [int(limit)]


def _by_shot(catalogue: Catalogue, query: ShotQuery, limit: Optional[int]) -> FindResult:
    frame_where, frame_params = where_clause(query, "frame", "f")
    shot_where, shot_params = where_clause(query, "shot", "s")
    base = f"FROM shots s JOIN takes t ON t.take = s.take WHERE {shot_where}"
    total = int(catalogue.scalar(f"SELECT COUNT(*) {base}", shot_params) or 0)
    limit_sql, limit_params = _limit(limit)
    rows = catalogue.rows(
        f"SELECT {', '.join(_SHOT_FIELDS)}, s.timecode_in, s.timecode_out, s.first_frame_index, s.last_frame_index, "
        f"s.t_start_ns, s.t_end_ns, (SELECT COUNT(*) FROM frames f WHERE f.take = s.take AND "
        f"f.shot_index = s.shot_index AND {frame_where}) AS matching_frames {base} ORDER BY {_ORDER}{limit_sql}",
        [*frame_params, *shot_params, *limit_params])
    return FindResult("shot", total, tuple(_match(r) for r in rows))


def _by_frame(catalogue: Catalogue, query: ShotQuery, limit: Optional[int]) -> FindResult:
    frame_where, frame_params = where_clause(query, "frame", "f")
    grouped = (f"(SELECT f.take, f.shot_index, COUNT(*) AS matching_frames, MIN(f.frame_index) AS first_i, "
               f"MAX(f.frame_index) AS last_i FROM frames f WHERE {frame_where} GROUP BY f.take, f.shot_index) m")
    base = (f"FROM {grouped} JOIN shots s ON s.take = m.take AND s.shot_index = m.shot_index "
            "JOIN takes t ON t.take = s.take")
    total = int(catalogue.scalar(f"SELECT COUNT(*) {base}", frame_params) or 0)
    limit_sql, limit_params = _limit(limit)
    rows = catalogue.rows(
        f"SELECT {', '.join(_SHOT_FIELDS)}, fi.timecode AS timecode_in, fo.timecode AS timecode_out, "
        f"m.first_i AS first_frame_index, m.last_i AS last_frame_index, fi.t_ns AS t_start_ns, fo.t_ns AS t_end_ns, "
        f"m.matching_frames {base} JOIN frames fi ON fi.take = m.take AND fi.frame_index = m.first_i "
        f"JOIN frames fo ON fo.take = m.take AND fo.frame_index = m.last_i ORDER BY {_ORDER}{limit_sql}",
        [*frame_params, *limit_params])
    return FindResult("frame", total, tuple(_match(r) for r in rows))


def _match(row: Mapping[str, Any]) -> ShotMatch:
    def num(key: str) -> Optional[float]:
        value = row.get(key)
        return None if value is None else float(value)

    return ShotMatch(
        take=row["take"], scene=row.get("scene"), slate_shot=row.get("slate_shot"), slate_take=row.get("slate_take"),
        shot_index=int(row["shot_index"]), shot_id=row["shot_id"], timecode_in=row.get("timecode_in"),
        timecode_out=row.get("timecode_out"), first_frame_index=int(row["first_frame_index"]),
        last_frame_index=int(row["last_frame_index"]),
        t_start_ns=None if row.get("t_start_ns") is None else int(row["t_start_ns"]),
        t_end_ns=None if row.get("t_end_ns") is None else int(row["t_end_ns"]),
        frames=int(row.get("frames") or 0), matching_frames=int(row.get("matching_frames") or 0),
        shot_size=row.get("shot_size"), movement=row.get("movement"), movement_speed=num("movement_speed"),
        movement_speed_unit=row.get("movement_speed_unit"), mean_focal_length_mm=num("mean_focal_length_mm"),
        mean_focal_35mm_mm=num("mean_focal_35mm_mm"), mean_subject_distance_m=num("mean_subject_distance_m"),
        caption=row.get("caption"))


def find_shots(catalogue: Catalogue, query: ShotQuery, *, level: str = "shot",
               limit: Optional[int] = None) -> FindResult:
    """The shots of ``catalogue`` that ``query`` matches at ``level`` (``shot`` or ``frame``;
    module docstring), at most ``limit`` of them (None: all)."""
    if level == "shot":
        return _by_shot(catalogue, query, limit)
    if level == "frame":
        return _by_frame(catalogue, query, limit)
    raise CatalogueError(f"a query level is one of {', '.join(LEVELS)}, got {level!r}")
