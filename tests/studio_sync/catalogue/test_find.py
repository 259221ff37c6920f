"""``find``: a phrase's query in SQL returns exactly the shots a brute-force filter over the builder's labels finds."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

import pytest

from studio_sync.catalogue import find_shots, open_catalogue
from studio_sync.vocabulary import ShotQuery, parse_phrase

PHRASES = [
    "MCU",
    "MCU, zoom in",
    "MCU, 75mm",
    "MCU, 75mm, slow push-in, subject under 3 m",
    "static",
    "push in",
    "slow push-in",
    "moderate push-in",
    "35mm",
    "wide lens, static",
    "long lens",
    "subject under 3 m",
    "subject beyond 3 m",
    "fast zoom in",
    "zoom in, 20 %/s",
    "no subject",
    "CU",
    "handheld",
    "70-80mm",
    "50mm full-frame equivalent",
]

_NUMBERS = {"focal_length_mm", "focal_35mm_mm", "movement_speed", "subject_distance_m", "mean_focal_length_mm",
            "mean_focal_35mm_mm", "mean_subject_distance_m"}


def _rows(path: Path) -> List[Dict[str, Any]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for row in rows:
        out.append({k: (None if v == "" else float(v) if k in _NUMBERS else v) for k, v in row.items()})
    return out


def _brute_force(built: Path, phrase: str) -> Tuple[Set[Tuple[str, int]], Dict[Tuple[str, int], List[Dict]]]:
    """(shots whose shot labels match, matching frames per shot) straight from the builder's CSVs."""
    query = parse_phrase(phrase)
    shots = {row["shot_id"]: row for row in _rows(built / "shots.csv")}
    by_shot = {(row["take_id"], int(row["shot_index"])) for row in shots.values() if query.matches(row)}
    frames: Dict[Tuple[str, int], List[Dict]] = defaultdict(list)
    for row in _rows(built / "frames.csv"):
        if query.matches(row):
            shot = shots[row["shot_id"]]
            frames[(shot["take_id"], int(shot["shot_index"]))].append(row)
    return by_shot, dict(frames)


@pytest.mark.parametrize("phrase", PHRASES)
def test_find_returns_exactly_the_shots_whose_labels_match(ingested, built, phrase):
    by_shot, frames = _brute_force(built, phrase)
    query = parse_phrase(phrase)
    with open_catalogue(ingested.url, create=False) as catalogue:
        shot_level = find_shots(catalogue, query, level="shot")
        frame_level = find_shots(catalogue, query, level="frame")
    assert {(m.take, m.shot_index) for m in shot_level.shots} == by_shot
    assert shot_level.total == len(by_shot)
    for match in shot_level.shots:
        assert match.matching_frames == len(frames.get((match.take, match.shot_index), []))
    assert {(m.take, m.shot_index): m.matching_frames for m in frame_level.shots} == \
        {key: len(rows) for key, rows in frames.items()}
    for match in frame_level.shots:
        matched = sorted(frames[(match.take, match.shot_index)], key=lambda r: int(r["frame_index"]))
        assert (match.first_frame_index, match.last_frame_index) == (int(matched[0]["frame_index"]),
                                                                      int(matched[-1]["frame_index"]))
        assert (match.timecode_in, match.timecode_out) == (matched[0]["timecode"], matched[-1]["timecode"])
        assert (match.t_start_ns, match.t_end_ns) == (int(matched[0]["t_ns"]), int(matched[-1]["t_ns"]))


def test_the_phrases_find_something_and_nothing_at_both_levels(built):
    # The brute-force test above would pass on a catalogue that finds nothing for every phrase.
    found = [_brute_force(built, phrase) for phrase in PHRASES]
    assert sum(bool(shots) for shots, _ in found) >= 5 and sum(not shots for shots, _ in found) >= 3
    assert sum(bool(frames) for _, frames in found) >= 8 and sum(not frames for _, frames in found) >= 2
    # ... and some phrases hold at frame level but not for a whole shot.
    assert sum(bool(frames) and not shots for shots, frames in found) >= 2


def test_a_found_shot_says_where_it_is_and_what_it_is(ingested, studio):
    with open_catalogue(ingested.url, create=False) as catalogue:
        result = find_shots(catalogue, parse_phrase("push in"))
        shot = catalogue.rows("SELECT * FROM shots WHERE take = ? AND shot_index = ?",
                              (result.shots[0].take, result.shots[0].shot_index))[0]
    match, = result.shots
    assert match.take == studio.recorded.dolly.name and match.slate == "dolly-s2/1/1"
    assert (match.timecode_in, match.timecode_out) == (shot["timecode_in"], shot["timecode_out"])
    assert match.timecode_in is not None and match.timecode_in < match.timecode_out
    assert (match.movement, match.movement_speed_unit, match.shot_size) == ("dolly_in", "m/s", None)
    assert match.movement_speed == shot["movement_speed"]
    assert match.mean_focal_length_mm == pytest.approx(35.0, abs=0.01)
    assert match.caption == "WS on 35 mm, push-in" and match.matching_frames == match.frames == shot["frames"]
    assert match.to_dict()["slate"] == "dolly-s2/1/1"


def test_results_come_in_take_order_and_the_limit_cuts_them(ingested):
    query = parse_phrase("35mm")
    with open_catalogue(ingested.url, create=False) as catalogue:
        every = find_shots(catalogue, query)
        two = find_shots(catalogue, query, limit=2)
        none = find_shots(catalogue, query, limit=0)
        all_shots = find_shots(catalogue, ShotQuery())  # an empty query: every shot
        total = int(catalogue.scalar("SELECT COUNT(*) FROM shots"))
    assert every.total == len(every.shots) == 3
    assert [(m.take, m.shot_index) for m in every.shots] == sorted((m.take, m.shot_index) for m in every.shots)
    assert two.shots == every.shots[:2] and two.total == 3
    assert none.shots == () and none.total == 3
    assert all_shots.total == total == len(all_shots.shots)
