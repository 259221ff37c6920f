"""The lexicon: every word reachable as written, paces derived from the classifier's own thresholds."""

from __future__ import annotations

import dataclasses
import math

import pytest

from engines.captioner.dataset.records import LABEL_FIELDS
from engines.captioner.labeler import FrameLabels
from engines.captioner.lens import ZOOM_THRESHOLD_PCT_PER_S
from engines.captioner.movement import (
    STATIC_ROTATION_DEG_PER_S,
    STATIC_TRANSLATION_M_PER_S,
    MovementClass,
    translation_equivalent_deg_per_s,
    zoom_equivalent_deg_per_s,
)
from sensors.sim import shots
from studio_sync.vocabulary import BadTermError, NotLabelledError, Pace, parse_phrase
from studio_sync.vocabulary.lexicon import (
    ENTRIES,
    FAST_FROM_DEG_PER_S,
    LIGHTING_WORDS,
    NO_LIGHTING,
    NOT_LABELLED,
    PACE_RANGES,
    SLOW_BELOW_DEG_PER_S,
)
from studio_sync.vocabulary.query import SPEED_UNIT_OF

# What each kind of entry reads as when it is the whole phrase.
_ALONE = {
    "size": lambda q, v: q.shot_sizes == {v},
    "movement": lambda q, v: q.movements == v,
    "pace": lambda q, v: q.speed == PACE_RANGES[v],
    "lens": lambda q, v: q.focal_35mm_mm == v,
}


def test_keys_are_normalised_as_the_tokens_are():
    for key in ENTRIES:
        assert key == " ".join(key.split()) and key == key.lower() and "-" not in key, key


@pytest.mark.parametrize("key", sorted(ENTRIES))
def test_every_word_reads_as_its_entry_when_written_alone(key):
    entry = ENTRIES[key]
    if entry.kind in _ALONE:
        assert _ALONE[entry.kind](parse_phrase(key), entry.value)
    elif entry.kind == "not labelled":
        with pytest.raises(NotLabelledError, match=entry.value):
            parse_phrase(key)
    else:  # comparators, units, qualifiers, filler: never a term alone
        with pytest.raises(BadTermError):
            parse_phrase(key)


def test_every_movement_class_has_a_speed_unit_and_the_stage_agrees():
    assert set(SPEED_UNIT_OF) == set(MovementClass)
    for name, unit in shots.SPEED_UNITS.items():
        assert SPEED_UNIT_OF[MovementClass(name)] == unit, name


def test_paces_come_from_the_classifier_s_thresholds_on_one_angular_scale():
    slow, moderate, fast = (PACE_RANGES[p] for p in (Pace.SLOW, Pace.MODERATE, Pace.FAST))
    assert (slow.m_per_s.low, slow.deg_per_s.low, slow.pct_per_s.low) == (
        STATIC_TRANSLATION_M_PER_S, STATIC_ROTATION_DEG_PER_S, ZOOM_THRESHOLD_PCT_PER_S)
    to_deg = {"m/s": translation_equivalent_deg_per_s, "deg/s": lambda v: v, "%/s": zoom_equivalent_deg_per_s}
    for unit, convert in to_deg.items():
        assert convert(slow.for_unit(unit).high) == pytest.approx(SLOW_BELOW_DEG_PER_S)
        assert moderate.for_unit(unit).low == slow.for_unit(unit).high
        assert moderate.for_unit(unit).high == fast.for_unit(unit).low
        assert convert(fast.for_unit(unit).low) == pytest.approx(FAST_FROM_DEG_PER_S)
        assert math.isinf(fast.for_unit(unit).high)
    assert SLOW_BELOW_DEG_PER_S == 4 * STATIC_ROTATION_DEG_PER_S
    assert FAST_FROM_DEG_PER_S == 12 * STATIC_ROTATION_DEG_PER_S


def test_the_stage_s_own_words_for_its_speeds_agree():
    slow, moderate = PACE_RANGES[Pace.SLOW], PACE_RANGES[Pace.MODERATE]
    assert shots.ROLL_SPEED_DEG_PER_S in slow.deg_per_s  # "a slow Dutch roll"
    assert shots.ZOOM_SPEED_PCT_PER_S in slow.pct_per_s  # "a slow zoom"
    assert shots.PAN_SPEED_DEG_PER_S in moderate.deg_per_s  # "a steady pan"
    assert shots.DOLLY_SPEED_M_PER_S in moderate.m_per_s  # "a walking-pace dolly push"


def test_no_lighting_label_is_recorded_so_lighting_words_are_answered():
    # When a lighting label is added, the vocabulary should learn to filter on it.
    fields = set(LABEL_FIELDS) | {f.name for f in dataclasses.fields(FrameLabels)}
    assert not any("light" in f for f in fields)
    assert LIGHTING_WORDS and all(NOT_LABELLED[w] == NO_LIGHTING for w in LIGHTING_WORDS)
