"""Selection by catalogue query: exactly the takes and frames whose labels the query passes.

The referee is :meth:`studio_sync.vocabulary.ShotQuery.matches` run over the labels of the
captioner builder's own dataset of the same takes; the selection runs the catalogue's SQL.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from studio_sync.datasets import (
    DatasetQuery,
    NothingSelectedError,
    SelectionError,
    parse_focal,
    parse_movement,
    parse_shot_size,
)
from studio_sync.vocabulary import Range
from tests.studio_sync.datasets.conftest import CU, MS, PAN
from tests.studio_sync.datasets.samples import samples_by_key


def _expected(reference, query: DatasetQuery, shot_level: bool = False):
    """{take name: frame indexes} whose labels (or whose shot's labels) the query passes."""
    shot_query = query.shot_query()
    found = defaultdict(set)
    for sample in samples_by_key(reference.root).values():
        meta = sample.meta
        if query.scenes and meta["scene"] not in query.scenes:
            continue
        labels = meta["shot_labels"] if shot_level else meta["labels"]
        if shot_query.matches(labels):
            found[meta["take_name"]].add(meta["frame_index"])
    return dict(found)


def _selected(selection):
    return {t.take: set(t.frames) for t in selection.takes}


@pytest.mark.parametrize("phrase, scenes", [("pan right", {PAN}), ("MS", {MS}), ("CU", {CU}),
                                            ("static", {PAN, MS, CU}), ("90-95mm, handheld", {MS}),
                                            ("no subject, static", {PAN})])
def test_a_phrase_selects_exactly_the_frames_whose_labels_it_passes(studio, reference, takes, phrase, scenes):
    query = DatasetQuery(phrase=phrase)
    selection = studio.selection(query)
    expected = _expected(reference, query)
    assert {takes.name(s) for s in scenes} == set(expected)
    assert _selected(selection) == expected
    assert selection.frames == sum(len(v) for v in expected.values())
    assert all(t.label_fps == 12.0 for t in selection.takes)


def test_shot_level_selects_every_frame_of_the_shots_whose_shot_labels_pass(studio, reference):
    query = DatasetQuery(phrase="pan right", level="shot")
    frame_level = _expected(reference, DatasetQuery(phrase="pan right"))
    expected = _expected(reference, query, shot_level=True)
    assert _selected(studio.selection(query)) == expected
    assert expected != frame_level  # the two levels differ on these takes


def test_scenes_alone_select_whole_takes(studio, takes):
    selection = studio.selection(DatasetQuery(scenes=(MS, CU)))
    assert [(t.take, t.frames) for t in selection.takes] == sorted((takes.name(s), None) for s in (MS, CU))
    assert {t.scene for t in selection.takes} == {MS, CU}
    assert len(studio.selection(DatasetQuery()).takes) == 3


def test_flags_narrow_the_phrase(studio, reference, takes):
    query = DatasetQuery(phrase="static", shot_sizes=("MS",), scenes=(MS, CU))
    assert _selected(studio.selection(query)) == _expected(reference, query)
    assert list(_selected(studio.selection(query))) == [takes.name(MS)]
    focal = DatasetQuery(focal_mm=parse_focal("140-200"))
    assert list(_selected(studio.selection(focal))) == [takes.name(CU)]
    moving = DatasetQuery(movements=("pan right", "truck_left"), scenes=(PAN, MS))
    assert _selected(studio.selection(moving)) == _expected(reference, moving)
    assert set(_selected(studio.selection(moving))) == {takes.name(PAN), takes.name(MS)}


def test_a_query_nothing_passes_is_refused_with_how_it_was_read(studio):
    with pytest.raises(NothingSelectedError, match=r'"ECU" -> shot size is ECU'):
        studio.selection(DatasetQuery(phrase="ECU"))
    with pytest.raises(NothingSelectedError, match="nothing selected"):
        studio.selection(DatasetQuery(scenes=("no-such-scene",)))


@pytest.mark.parametrize("query, message", [
    (DatasetQuery(phrase="MS", shot_sizes=("CU",)), "different shot sizes"),
    (DatasetQuery(phrase="75mm", focal_mm=Range(20.0, 30.0)), "do not overlap"),
    (DatasetQuery(phrase="push in", movements=("static",)), "different movements"),
    (DatasetQuery(phrase="banana shot"), "--phrase"),
    (DatasetQuery(shot_sizes=("medium",)), "not a shot size"),
    (DatasetQuery(movements=("wobble",)), "not a camera movement"),
])
def test_filters_that_cannot_hold_are_refused_before_the_catalogue_is_read(query, message):
    with pytest.raises(SelectionError, match=message):
        query.shot_query()


def test_flag_values_read_as_the_vocabulary_reads_them():
    assert parse_focal("50-85") == Range(50.0, 85.0)
    reading = parse_focal("75")
    assert reading.low < 75.0 < reading.high
    assert parse_shot_size("mcu").value == "MCU" and parse_shot_size("none").value == "none"
    assert parse_movement("dolly in") is parse_movement("dolly-in") is parse_movement("DOLLY_IN")
    with pytest.raises(SelectionError):
        parse_focal("wide")
    with pytest.raises(SelectionError):
        DatasetQuery(level="take")
