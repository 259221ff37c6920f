"""parse_phrase: production words to catalogue filters, how it read them, and the words it cannot read."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.captioner.movement import MovementClass
from engines.captioner.shot_size import ShotSize
from studio_sync.vocabulary import (
    BadTermError,
    ConflictError,
    NotLabelledError,
    Pace,
    ShotQuery,
    UnitError,
    UnknownWordError,
    ValueOutOfRangeError,
    VocabularyError,
    parse_phrase,
)
from studio_sync.vocabulary.lexicon import (
    CATEGORIES,
    ENTRIES,
    MAX_PHRASE_CHARS,
    MOVEMENT_WORDS,
    PACE_RANGES,
    PACE_WORDS,
    SHOT_SIZE_WORDS,
)

M, S = MovementClass, ShotSize
EXAMPLE = "MCU, 75mm, slow push-in, subject under 3 m"


def _approx(r):
    return None if r is None else pytest.approx(tuple(r), rel=1e-3)


def test_the_example_phrase_reads_to_exactly_its_filters():
    q = parse_phrase(EXAMPLE)
    assert q.shot_sizes == {S.MCU}
    assert tuple(q.focal_mm) == pytest.approx((73.125, 76.875))
    assert q.focal_35mm_mm is None
    assert q.movements == {M.DOLLY_IN}
    ranges = q.speed.ranges()
    assert ranges["m/s"] == pytest.approx((0.05, 0.3 * math.pi / 3), rel=1e-9)  # 6 deg/s at 3 m
    assert ranges["deg/s"] == pytest.approx((1.5, 6.0))
    assert ranges["%/s"] == pytest.approx((1.0, 6.0 * math.pi / 1.8))  # 6 deg/s as a zoom
    assert tuple(q.distance_m) == (0.0, 3.0)
    assert not q.no_subject
    assert q == ShotQuery(shot_sizes=frozenset({S.MCU}), focal_mm=q.focal_mm, movements=frozenset({M.DOLLY_IN}),
                          speed=PACE_RANGES[Pace.SLOW], distance_m=q.distance_m)


def test_the_explanation_says_how_each_term_was_read():
    assert parse_phrase(EXAMPLE).explain() == [
        '"MCU" -> shot size is MCU (medium close-up)',
        '"75mm" -> focal length 73.1-76.9 mm (75 mm ±2.5 %)',
        '"slow push-in" -> movement is dolly_in; pace slow: 0.05-0.314 m/s',
        '"subject under 3 m" -> subject distance at most 3 m',
    ]
    assert parse_phrase("over 50mm and under 85mm").explain()[-1] == "together -> focal length 50-85 mm"
    assert parse_phrase("CU with MCU").explain()[-1] == "together -> shot size is CU or MCU"
    readings = parse_phrase(EXAMPLE).readings
    assert [(r.text, r.position) for r in readings] == [("MCU", 0), ("75mm", 5), ("slow push-in", 11),
                                                        ("subject under 3 m", 25)]


@pytest.mark.parametrize("size", list(ShotSize))
def test_every_shot_size_is_reachable_by_a_word(size):
    words = [w for w, s in SHOT_SIZE_WORDS.items() if s is size]
    assert words, f"no word reads as {size}"
    for word in words:
        assert parse_phrase(word).shot_sizes == {size}, word


@pytest.mark.parametrize("movement", list(MovementClass))
def test_every_movement_class_is_reachable_by_a_word(movement):
    words = [w for w, kinds in MOVEMENT_WORDS.items() if kinds == {movement}]
    assert words, f"no word reads as {movement} alone"
    assert all(parse_phrase(w).movements == {movement} for w in words)


@pytest.mark.parametrize("pace", list(Pace))
def test_every_pace_is_reachable_by_a_word(pace):
    words = [w for w, p in PACE_WORDS.items() if p is pace]
    assert words and all(parse_phrase(f"{w} pan").speed == PACE_RANGES[pace] for w in words)


@pytest.mark.parametrize(
    ("phrase", "size"),
    [("medium close-up", S.MCU), ("MCU", S.MCU), ("medium closeup", S.MCU), ("Medium Close Up", S.MCU),
     ("close up", S.CU), ("close-up", S.CU), ("CU", S.CU), ("tight", S.CU), ("ECU", S.ECU),
     ("extreme close-up", S.ECU), ("medium shot", S.MS), ("cowboy", S.MLS), ("medium long", S.MLS),
     ("full shot", S.FS), ("wide", S.WS), ("WS", S.WS), ("establishing shot", S.WS), ("no subject", S.NONE),
     ("empty frame", S.NONE), ("plate", S.NONE)],
)
def test_shot_size_synonyms(phrase, size):
    assert parse_phrase(phrase).shot_sizes == {size}


@pytest.mark.parametrize(
    ("phrase", "movements"),
    [("push in", {M.DOLLY_IN}), ("push-in", {M.DOLLY_IN}), ("dolly in", {M.DOLLY_IN}), ("pushing in", {M.DOLLY_IN}),
     ("pull out", {M.DOLLY_OUT}), ("track left", {M.TRUCK_LEFT}), ("truck right", {M.TRUCK_RIGHT}),
     ("pan left", {M.PAN_LEFT}), ("pans right", {M.PAN_RIGHT}), ("tilt up", {M.TILT_UP}),
     ("crane up", {M.PEDESTAL_UP}), ("pedestal down", {M.PEDESTAL_DOWN}), ("boom up", {M.PEDESTAL_UP}),
     ("zoom in", {M.ZOOM_IN}), ("handheld", {M.HANDHELD}), ("hand-held", {M.HANDHELD}),
     ("locked off", {M.STATIC}), ("locked-off", {M.STATIC}), ("static", {M.STATIC}),
     ("pan", {M.PAN_LEFT, M.PAN_RIGHT}), ("zoom", {M.ZOOM_IN, M.ZOOM_OUT}),
     ("pan left and tilt up", {M.PAN_LEFT, M.TILT_UP})],
)
def test_movement_synonyms(phrase, movements):
    assert parse_phrase(phrase).movements == movements


@pytest.mark.parametrize(("phrase", "pace"), [("slow push-in", Pace.SLOW), ("gentle pan", Pace.SLOW),
                                              ("push in slowly", Pace.SLOW), ("quick pan", Pace.FAST),
                                              ("fast tilt up", Pace.FAST), ("steady dolly in", Pace.MODERATE)])
def test_speed_words_are_ranges_of_the_movement_label(phrase, pace):
    assert parse_phrase(phrase).speed == PACE_RANGES[pace]


@pytest.mark.parametrize(
    ("phrase", "field", "expected"),
    [
        ("75mm", "focal_mm", (73.125, 76.875)),
        ("75 mm", "focal_mm", (73.125, 76.875)),
        ("a 75 millimetre lens", "focal_mm", (73.125, 76.875)),
        ("50-85mm", "focal_mm", (50.0, 85.0)),
        ("50 to 85 mm", "focal_mm", (50.0, 85.0)),
        ("between 50 and 85mm", "focal_mm", (50.0, 85.0)),
        ("longer than 85mm", "focal_mm", (85.0, math.inf)),
        ("under 50mm", "focal_mm", (0.0, 50.0)),
        ("over 50mm, under 85mm", "focal_mm", (50.0, 85.0)),
        ("wide lens", "focal_35mm_mm", (0.0, 35.0)),
        ("long lens", "focal_35mm_mm", (85.0, math.inf)),
        ("50mm full-frame equivalent", "focal_35mm_mm", (48.75, 51.25)),
        ("75mm equivalent", "focal_35mm_mm", (73.125, 76.875)),
        ("75mm (35mm equivalent)", "focal_35mm_mm", (73.125, 76.875)),
        ("subject under 3 m", "distance_m", (0.0, 3.0)),
        ("within 2 m", "distance_m", (0.0, 2.0)),
        ("2 to 4 metres", "distance_m", (2.0, 4.0)),
        ("between 2 and 4 m", "distance_m", (2.0, 4.0)),
        ("2m-4m", "distance_m", (2.0, 4.0)),
        ("2 m to 4", "distance_m", (2.0, 4.0)),
        ("beyond 5m", "distance_m", (5.0, math.inf)),
        ("3 m away", "distance_m", (2.7, 3.3)),
        ("10 ft", "distance_m", (2.7432, 3.3528)),
        ("subject closer than 10 feet", "distance_m", (0.0, 3.048)),
        ("50 cm", "distance_m", (0.45, 0.55)),
    ],
)
def test_numbers_with_units_are_ranges(phrase, field, expected):
    q = parse_phrase(phrase)
    assert tuple(getattr(q, field)) == pytest.approx(expected)
    others = {"focal_mm", "focal_35mm_mm", "distance_m"} - {field}
    assert all(getattr(q, name) is None for name in others)


@pytest.mark.parametrize(("phrase", "unit", "expected"),
                         [("push in at 0.3 m/s", "m/s", (0.27, 0.33)), ("pan left at 10 deg/s", "deg/s", (9.0, 11.0)),
                          ("pan left at 10°/s", "deg/s", (9.0, 11.0)), ("zoom in at 5 %/s", "%/s", (4.5, 5.5)),
                          ("dolly in faster than 0.5 m/s", "m/s", (0.5, math.inf))])
def test_a_speed_with_a_unit_is_a_range_of_that_unit_only(phrase, unit, expected):
    ranges = parse_phrase(phrase).speed.ranges()
    assert list(ranges) == [unit] and tuple(ranges[unit]) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("phrase", "error", "word", "says"),
    [
        ("0 mm", ValueOutOfRangeError, "0 mm", "0 mm is none at all"),
        ("MCU, 0mm", ValueOutOfRangeError, "0mm", "1-1000 mm"),
        ("-5mm", ValueOutOfRangeError, "-5mm", "cannot be negative"),
        ("10000 mm", ValueOutOfRangeError, "10000 mm", "past any focal length"),
        ("0.5mm", ValueOutOfRangeError, "0.5mm", "shorter than any lens"),
        ("subject at 0 m", ValueOutOfRangeError, "0 m", "subject"),
        ("beyond 5000 m", ValueOutOfRangeError, "beyond 5000 m", "up to 200 m"),
        ("push in at 0 m/s", ValueOutOfRangeError, "0 m/s", "speed"),
        ("75", UnitError, "75", "75 mm (a focal length)"),
        ("MCU, 75 inches", UnitError, "inches", "not a unit"),
        ("2 m to 4 mm", UnitError, "2 m to 4 mm", "from a distance to a focal length"),
    ],
)
def test_numbers_are_validated_where_they_enter(phrase, error, word, says):
    with pytest.raises(error) as caught:
        parse_phrase(phrase)
    err = caught.value
    assert err.word == word and phrase[err.position:err.position + len(word)] == word
    assert says in str(err)


def test_an_unknown_word_is_named_with_its_place_close_words_and_the_categories():
    phrase = "MCU, dolyl in"
    with pytest.raises(UnknownWordError) as caught:
        parse_phrase(phrase)
    err = caught.value
    assert (err.word, err.position) == ("dolyl", 5)
    assert "dolly in" in err.suggestions and "dolly" in err.suggestions
    assert err.known == CATEGORIES
    lines = str(err).splitlines()
    assert lines[0] == '"dolyl" is not a word the vocabulary knows'
    assert lines[1] == "  " + phrase and lines[2] == "  " + " " * 5 + "^^^^^"
    assert any("movements (" in line for line in lines)


def test_an_unknown_symbol_is_named_too():
    with pytest.raises(UnknownWordError) as caught:
        parse_phrase("MCU # 2")
    assert (caught.value.word, caught.value.position) == ("#", 4)


@pytest.mark.parametrize("phrase", ["low-key", "MCU, backlit", "golden hour", "night", "lighting"])
def test_lighting_words_are_answered_not_ignored(phrase):
    with pytest.raises(NotLabelledError) as caught:
        parse_phrase(phrase)
    assert "no lighting labels are recorded yet" in str(caught.value)
    assert caught.value.word in phrase


@pytest.mark.parametrize(("phrase", "says"), [("two-shot", "counts or places the people"),
                                              ("dutch angle", "camera's angle"), ("rack focus", "focus")])
def test_words_no_label_answers_say_why(phrase, says):
    with pytest.raises(NotLabelledError, match=says):
        parse_phrase(phrase)


@pytest.mark.parametrize(
    ("phrase", "word", "says"),
    [
        ("slow, fast", "fast", "leave no speed"),
        ("50mm, 85mm", "85mm", "leave no focal length"),
        ("beyond 5 m, under 3 m", "under 3 m", "leave no subject distance"),
        ("static, slow", "slow", "static has no speed"),
        ("handheld, fast", "fast", "handheld has no speed"),
        ("no subject, under 3 m", "under 3 m", "without a subject"),
        ("pan left at 0.3 m/s", "0.3 m/s", "measured in deg/s"),
    ],
)
def test_terms_that_cannot_all_hold_conflict(phrase, word, says):
    with pytest.raises(ConflictError, match=says) as caught:
        parse_phrase(phrase)
    assert caught.value.word == word


@pytest.mark.parametrize(
    ("phrase", "says"),
    [("under", "needs a number"), ("between 2 m", "needs two numbers"), ("under 2-4 m", "takes one number"),
     ("closer than 50mm", "said of a distance"), ("longer than 3 m", "said of a focal length"),
     ("mm", "is a unit"), ("MCU, equivalent", "goes after one"), ("the", "says nothing")],
)
def test_known_words_that_do_not_make_a_term(phrase, says):
    with pytest.raises(BadTermError, match=says):
        parse_phrase(phrase)


@pytest.mark.parametrize("phrase", ["", "   ", ",,", " and , with "])
def test_a_phrase_that_names_nothing_is_refused(phrase):
    with pytest.raises(VocabularyError, match="names nothing"):
        parse_phrase(phrase)


def test_a_phrase_too_long_is_refused_before_it_is_read():
    with pytest.raises(VocabularyError, match=f"at most {MAX_PHRASE_CHARS}"):
        parse_phrase("MCU, " * MAX_PHRASE_CHARS)


def _read_or_refuse(phrase: str):
    try:
        q = parse_phrase(phrase)
    except VocabularyError as err:
        assert err.reason and str(err)
        assert 0 <= err.position <= len(phrase)
        assert not err.word or phrase[err.position:err.position + len(err.word)] == err.word
        return None
    for r in q.readings:
        assert phrase[r.position:r.position + len(r.text)] == r.text
    json.dumps(q.to_dict(), allow_nan=False)
    assert q.explain() and isinstance(q.matches({}), bool)
    return q


@given(st.text(max_size=80))
def test_any_text_is_read_or_refused_with_a_vocabulary_error(phrase):
    _read_or_refuse(phrase)


# Known words, numbers and the glue between them, a third of the pieces each.
_PIECES = st.one_of(
    st.sampled_from(sorted(ENTRIES)),
    st.sampled_from(["0", "3", "75", "2.5", ".5", "10000", "-5", "1e4", "35"]),
    st.sampled_from(["-", ",", "and", "to", "with", "(", ")", "/", "%", "°", "m/s", "mm", "m", "ft", "x", "#", "75mm"]),
)


@settings(max_examples=500)
@given(st.lists(_PIECES, max_size=8).map(" ".join))
def test_any_string_of_known_words_is_read_or_refused_with_a_vocabulary_error(phrase):
    _read_or_refuse(phrase)
