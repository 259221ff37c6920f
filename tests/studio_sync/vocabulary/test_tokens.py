"""Tokens and terms: where each word is in the phrase, what a dash means, what separates terms."""

from __future__ import annotations

from studio_sync.vocabulary.tokens import closed_end, split_terms, tokenize


def _norms(phrase):
    return [[t.norm for t in term] for term in split_terms(tokenize(phrase))]


def test_tokens_keep_their_place_in_the_phrase():
    phrase = "MCU,  75mm (slow Push-in)"
    tokens = tokenize(phrase)
    assert [(t.norm, t.kind) for t in tokens] == [("mcu", "word"), (",", "symbol"), ("75", "number"), ("mm", "word"),
                                                  ("slow", "word"), ("push", "word"), ("in", "word")]
    assert all(phrase[t.start:t.end] == t.text for t in tokens)


def test_a_dash_is_kept_only_before_a_number():
    assert [t.norm for t in tokenize("close-up, 50\u201385mm, -5mm")] == [
        "close", "up", ",", "50", "-", "85", "mm", ",", "-", "5", "mm"]


def test_terms_split_at_separators_but_not_inside_between():
    assert _norms("MCU and CU with pan; tilt & zoom + roll") == [["mcu"], ["cu"], ["pan"], ["tilt"], ["zoom"],
                                                                 ["roll"]]
    assert _norms("between 2 and 4 m and MCU") == [["between", "2", "and", "4", "m"], ["mcu"]]
    assert _norms("between 2 m and 4 m") == [["between", "2", "m", "and", "4", "m"]]
    assert _norms(", ,") == []


def test_a_term_s_text_takes_the_brackets_it_opened():
    text = "75mm (35mm equivalent), MCU"
    assert closed_end(text, 0, text.index(")")) == text.index(")") + 1
    assert closed_end(text, 24, 27) == 27
