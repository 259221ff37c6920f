"""A query's SQL agrees with ``ShotQuery.matches`` on any labels: property tests over SQLite, and the SQL itself."""

from __future__ import annotations

import math
from typing import Any, Dict, List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engines.captioner.movement import MovementClass
from engines.captioner.shot_size import ShotSize
from studio_sync.catalogue import CatalogueError, open_catalogue, where_clause
from studio_sync.catalogue.query import LEVEL_COLUMNS
from studio_sync.vocabulary import SPEED_UNIT_OF, Range, ShotQuery, SpeedRange, parse_phrase

_UNITS = ("m/s", "deg/s", "%/s")
_edges = st.sampled_from([0.0, 0.05, 0.3, 1.0, 3.0, 12.0, 35.0, 50.0, 73.125, 76.875, 85.0, 300.0])
_values = st.one_of(st.none(), _edges, st.floats(min_value=0.0, max_value=400.0, allow_nan=False))


@st.composite
def _ranges(draw) -> Range:
    low = draw(_edges)
    high = draw(st.one_of(st.just(math.inf), _edges.filter(lambda h: h >= low)))
    return Range(low, high)


@st.composite
def _labels(draw, level: str) -> Dict[str, Any]:
    movement = draw(st.sampled_from([None, *[m.value for m in MovementClass if m is not MovementClass.MISSING]]))
    unit = SPEED_UNIT_OF.get(MovementClass(movement)) if movement is not None else None
    speed = draw(_values) if unit is not None else None
    columns = LEVEL_COLUMNS[level]
    return {
        columns["shot_size"]: draw(st.sampled_from([None, *[s.value for s in ShotSize]])),
        columns["movement"]: movement,
        columns["speed"]: speed,
        columns["speed_unit"]: unit if speed is not None else None,
        columns["focal_mm"]: draw(_values),
        columns["focal_35mm_mm"]: draw(_values),
        columns["distance_m"]: draw(_values),
    }


@st.composite
def _queries(draw) -> ShotQuery:
    maybe = lambda strategy: draw(st.one_of(st.none(), strategy))  # noqa: E731
    speeds = draw(st.dictionaries(st.sampled_from(_UNITS), _ranges(), max_size=3))
    return ShotQuery(
        shot_sizes=frozenset(draw(st.sets(st.sampled_from(list(ShotSize)), max_size=3))),
        focal_mm=maybe(_ranges()),
        focal_35mm_mm=maybe(_ranges()),
        movements=frozenset(draw(st.sets(st.sampled_from(list(MovementClass)), max_size=3))),
        speed=SpeedRange.of(speeds) if speeds and draw(st.booleans()) else None,
        distance_m=maybe(_ranges()),
    )


def _select(labels: List[Dict[str, Any]], query: ShotQuery, level: str) -> List[int]:
    columns = list(labels[0])
    with open_catalogue("sqlite:///:memory:") as catalogue:
        catalogue.execute(f"CREATE TABLE labels (i INTEGER, {', '.join(columns)})")
        catalogue.executemany(f"INSERT INTO labels (i, {', '.join(columns)}) VALUES (?{', ?' * len(columns)})",
                              [(i, *row.values()) for i, row in enumerate(labels)])
        where, params = where_clause(query, level)
        return [r["i"] for r in catalogue.rows(f"SELECT i FROM labels WHERE {where} ORDER BY i", params)]


@pytest.mark.parametrize("level", ["frame", "shot"])
@given(data=st.data())
def test_the_sql_selects_exactly_what_the_query_matches(level, data):
    labels = data.draw(st.lists(_labels(level), min_size=1, max_size=25))
    query = data.draw(_queries())
    assert _select(labels, query, level) == [i for i, row in enumerate(labels) if query.matches(row)]


def test_an_empty_query_selects_everything():
    assert where_clause(ShotQuery()) == ("1 = 1", [])


def test_a_phrase_becomes_conditions_on_the_filter_columns():
    where, params = where_clause(parse_phrase("MCU, 75mm, slow push-in, subject under 3 m"), "frame", "f")
    assert where == ("(f.shot_size IN (?)) AND (f.movement IN (?)) AND ((f.movement_speed_unit = ? AND "
                     "f.movement_speed >= ? AND f.movement_speed <= ?) OR (f.movement_speed_unit = ? AND "
                     "f.movement_speed >= ? AND f.movement_speed <= ?) OR (f.movement_speed_unit = ? AND "
                     "f.movement_speed >= ? AND f.movement_speed <= ?)) AND (f.focal_length_mm >= ? AND "
                     "f.focal_length_mm <= ?) AND (f.subject_distance_m >= ? AND f.subject_distance_m <= ?)")
    assert params[:3] == ["MCU", "dolly_in", "m/s"] and params[-4:] == [73.125, 76.875, 0.0, 3.0]
    shot_where, _ = where_clause(parse_phrase("75mm, subject under 3 m"), "shot")
    assert "mean_focal_length_mm >= ?" in shot_where and "mean_subject_distance_m <= ?" in shot_where


def test_the_missing_movement_class_is_a_null_movement():
    where, params = where_clause(ShotQuery(movements=frozenset({MovementClass.MISSING, MovementClass.STATIC})),
                                 "frame")
    assert where == "(movement IN (?) OR movement IS NULL)" and params == ["static"]


def test_an_unknown_level_is_refused():
    with pytest.raises(CatalogueError, match="one of shot, frame"):
        where_clause(ShotQuery(), "take")
