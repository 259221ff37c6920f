"""Reading a phrase of production vocabulary into a :class:`~.query.ShotQuery`.

``parse_phrase("MCU, 75mm, slow push-in, subject under 3 m")`` reads:

1. **Tokens** (:mod:`.tokens`): numbers (``75``, ``2.5``), words (letters; a hyphen between
   letters is a space), and symbols (``/``, ``%``, ``°``; a dash before a number is a minus or
   the dash of a range). Brackets, quotes and sentence punctuation read as spaces; any other
   symbol is an error.
2. **Terms**: the tokens between separators (:data:`~.lexicon.SEPARATORS`: commas, "and",
   "with", ...; the "and" of "between 2 and 4 m" separates nothing).
3. **Within a term**, left to right, the longest word sequence the lexicon knows
   (:data:`~.lexicon.ENTRIES`) or a quantity: an optional comparator ("under", "longer than",
   "between"), a number, optionally a second one after "-", "to" (or "and" after "between"),
   and a unit; after mm, optionally a word that makes it the 35 mm equivalent.

The terms together make the query: shot sizes and movements add up (either one), ranges narrow
(both hold: "over 50mm, under 85mm" is 50-85 mm), one pace holds for the whole phrase. Anything
else is a :class:`~.errors.VocabularyError` naming the word, where it is, and what the vocabulary
knows instead: an unknown word, a number without a unit or out of range, terms that cannot all
hold, a word no label answers (lighting: "no lighting labels are recorded yet").
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Set, Tuple

from engines.captioner.movement import MovementClass
from engines.captioner.shot_size import ShotSize
from studio_sync.vocabulary.errors import (
    BadTermError,
    ConflictError,
    NotLabelledError,
    UnitError,
    UnknownWordError,
    ValueOutOfRangeError,
    VocabularyError,
    close_words,
)
from studio_sync.vocabulary.lexicon import (
    CATEGORIES,
    DISTANCE,
    DISTANCE_LIMIT_M,
    DISTANCE_TOLERANCE,
    ENTRIES,
    FOCAL,
    FOCAL_LIMITS_MM,
    FOCAL_TOLERANCE,
    MAX_ENTRY_WORDS,
    MAX_PHRASE_CHARS,
    PACE_RANGES,
    SHOT_SIZE_NAMES,
    SPEED,
    SPEED_LIMITS,
    SPEED_TOLERANCE,
    UNITS,
    Comparator,
    Unit,
)
from studio_sync.vocabulary.query import (
    SPEED_UNIT_OF,
    Range,
    Reading,
    ShotQuery,
    SpeedRange,
    describe_movements,
    movement_units,
    number_text,
)
from studio_sync.vocabulary.tokens import Token, closed_end, split_terms, tokenize

__all__ = ["parse_phrase"]

_EQUIVALENT_AFTER_35MM = frozenset({"equivalent", "equiv", "eq"})
# The order a term's meanings are said in.
_KIND_ORDER = ("size", "movement", "pace", "speed", "lens", "focal", "focal_35mm", "distance")
_FIELD_OF = {"size": "shot_sizes", "movement": "movements", "pace": "speed", "speed": "speed",
             "lens": "focal_35mm_mm", "focal": "focal_mm", "focal_35mm": "focal_35mm_mm", "distance": "distance_m"}
_LIMITS = {FOCAL: FOCAL_LIMITS_MM, DISTANCE: (0.0, DISTANCE_LIMIT_M)}
_TOLERANCE = {FOCAL: FOCAL_TOLERANCE, DISTANCE: DISTANCE_TOLERANCE, SPEED: SPEED_TOLERANCE}
_UNIT_NAMES = "units: mm (focal length); m, cm, ft (subject distance); m/s, deg/s, %/s (speed)"


class _Part(NamedTuple):
    """One thing a term says: its kind (:data:`_KIND_ORDER`), value, words and where they start."""

    kind: str
    value: Any
    text: str
    start: int
    note: str = ""


class _Reader:
    """Reads one phrase; keeps it for the errors' messages."""

    def __init__(self, phrase: str) -> None:
        self.phrase = phrase

    # -- errors

    def _where(self, first: Token, last: Optional[Token] = None) -> Dict[str, Any]:
        end = (last or first).end
        return {"phrase": self.phrase, "word": self.phrase[first.start:end], "position": first.start}

    def _unknown(self, token: Token) -> UnknownWordError:
        what = "symbol" if token.kind == "symbol" else "word"
        known = [k for k, e in ENTRIES.items() if e.kind != "filler"]
        return UnknownWordError(f'"{token.text}" is not a {what} the vocabulary knows', **self._where(token),
                                suggestions=close_words(token.norm, known), known=CATEGORIES)

    # -- lexicon

    @staticmethod
    def _lookup(tokens: Sequence[Token], i: int):
        """The longest entry starting at ``tokens[i]`` and how many tokens it takes, or (None, 0)."""
        for width in range(min(MAX_ENTRY_WORDS, len(tokens) - i), 0, -1):
            span = tokens[i:i + width]
            if any(t.kind == "number" for t in span):
                continue
            entry = ENTRIES.get(" ".join(t.norm for t in span))
            if entry is not None:
                return entry, width
        return None, 0

    def term(self, tokens: List[Token]) -> List[_Part]:
        parts: List[_Part] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.kind == "number" or token.norm == "-":
                part, i = self._quantity(tokens, i, None, token)
                parts.append(part)
                continue
            entry, width = self._lookup(tokens, i)
            if entry is None:
                raise self._unknown(token)
            last = tokens[i + width - 1]
            text = self.phrase[token.start:last.end]
            if entry.kind == "comparator":
                part, i = self._quantity(tokens, i + width, entry.value, token, text)
                parts.append(part)
                continue
            i += width
            if entry.kind == "filler":
                continue
            if entry.kind == "not labelled":
                raise NotLabelledError(f'"{text}": {entry.value}', **self._where(token, last), known=CATEGORIES)
            if entry.kind == "unit":
                raise BadTermError(f'"{text}" is a unit: it goes after a number ("75mm", "3 m", "0.3 m/s")',
                                   **self._where(token, last))
            if entry.kind == "equivalent":
                raise BadTermError(f'"{text}" says a focal length is the 35 mm equivalent: it goes after one '
                                   f'("50mm full-frame equivalent")', **self._where(token, last))
            parts.append(_Part(entry.kind, entry.value, text, token.start))
        if not parts:
            first, last = tokens[0], tokens[-1]
            raise BadTermError(f'"{self.phrase[first.start:last.end]}" says nothing a label answers',
                               **self._where(first, last), known=CATEGORIES)
        return parts

    # -- quantities

    def _number(self, tokens: Sequence[Token], i: int, head: Token) -> Tuple[float, int]:
        sign = 1.0
        if i < len(tokens) and tokens[i].norm == "-":
            sign, i = -1.0, i + 1
        if i >= len(tokens) or tokens[i].kind != "number":
            at = tokens[i - 1] if i > 0 else head
            raise BadTermError(f'"{self.phrase[head.start:at.end]}" needs a number and a unit after it '
                               f'("under 3 m", "longer than 85mm")', **self._where(head, at))
        return sign * float(tokens[i].text), i + 1

    def _unit(self, tokens: Sequence[Token], i: int) -> Tuple[Optional[Unit], int]:
        entry, width = self._lookup(tokens, i)
        if entry is not None and entry.kind == "unit":
            return entry.value, i + width
        return None, i

    def _equivalent(self, tokens: Sequence[Token], i: int) -> Tuple[bool, int]:
        entry, width = self._lookup(tokens, i)
        if entry is not None and entry.kind == "equivalent":
            return True, i + width
        if (i + 2 < len(tokens) and tokens[i].kind == "number" and float(tokens[i].text) == 35.0
                and tokens[i + 1].norm == "mm" and tokens[i + 2].norm in _EQUIVALENT_AFTER_35MM):
            return True, i + 3
        return False, i

    def _quantity(self, tokens: Sequence[Token], i: int, comparator: Optional[Comparator], head: Token,
                  said: str = "") -> Tuple[_Part, int]:
        """The quantity from ``head`` on (the comparator ``said``, then ``tokens[i:]``) and where it ends."""
        while i < len(tokens):  # "under about 3 m"
            entry, width = self._lookup(tokens, i)
            if entry is None or entry.kind != "filler":
                break
            i += width
        values = []
        value, i = self._number(tokens, i, head)
        values.append(value)
        first_unit, after = self._unit(tokens, i)
        unit_text = self.phrase[tokens[i].start:tokens[after - 1].end] if first_unit is not None else ""
        i = after
        second_unit = None
        if i + 1 < len(tokens) and (tokens[i].norm in ("-", "to") or (
                comparator is not None and comparator.bound == "between" and tokens[i].norm == "and")):
            if tokens[i + 1].kind == "number" or (tokens[i + 1].norm == "-" and tokens[i].norm != "-"):
                value, i = self._number(tokens, i + 1, head)
                values.append(value)
                second_unit, i = self._unit(tokens, i)
        last = tokens[i - 1]
        text = self.phrase[head.start:last.end]
        where = self._where(head, last)
        if comparator is not None and comparator.bound == "between" and len(values) < 2:
            raise BadTermError(f'"{text}" needs two numbers ("between 2 and 4 m", "from 50 to 85mm")', **where)
        if comparator is not None and comparator.bound != "between" and len(values) > 1:
            raise BadTermError(f'"{text}": "{said}" takes one number; a range is "2 to 4 m" or '
                               f'"between 2 and 4 m"', **where)
        if first_unit is not None and second_unit is not None and first_unit.domain != second_unit.domain:
            raise UnitError(f'"{text}" runs from a {first_unit.domain} to a {second_unit.domain}', **where)
        unit = second_unit or first_unit
        if unit is None and i < len(tokens) and self._lookup(tokens, i)[0] is None:
            stray = tokens[i]
            raise UnitError(f'"{self.phrase[head.start:stray.end]}": "{stray.text}" is not a unit the vocabulary '
                            f'knows', **self._where(stray), suggestions=close_words(stray.norm, UNITS),
                            known=(_UNIT_NAMES,))
        if unit is None:
            number = number_text(values[-1])
            raise UnitError(f'"{text}" needs a unit: {number} mm (a focal length), {number} m or {number} ft '
                            f'(a subject distance), or a speed in m/s, deg/s or %/s', **where,
                            known=CATEGORIES)
        if comparator is not None and unit.domain not in comparator.domains:
            domains = " or ".join(sorted(comparator.domains))
            raise BadTermError(f'"{text}": "{said}" is said of a {domains}, not of a {unit.domain}', **where)
        equivalent = False
        if unit.domain == FOCAL:
            equivalent, i = self._equivalent(tokens, i)
            text = self.phrase[head.start:tokens[i - 1].end]
            where = self._where(head, tokens[i - 1])
        scaled = [v * unit.factor for v in values]
        for v in scaled:
            self._check(v, unit, text, where)
        bound = "single" if comparator is None and len(values) == 1 else (
            "between" if len(values) == 2 else comparator.bound)
        span = self._range(bound, scaled, unit.domain)
        note = ""
        if bound == "single":
            note = f"{number_text(values[0])} {unit_text} ±{number_text(100 * _TOLERANCE[unit.domain])} %"
        if unit.domain == SPEED:
            return _Part("speed", SpeedRange.of({unit.unit: span}), text, head.start, note), i
        kind = {FOCAL: "focal_35mm" if equivalent else "focal", DISTANCE: "distance"}[unit.domain]
        return _Part(kind, span, text, head.start, note), i

    def _check(self, value: float, unit: Unit, text: str, where: Dict[str, Any]) -> None:
        low, high = (0.0, SPEED_LIMITS[unit.unit]) if unit.domain == SPEED else _LIMITS[unit.domain]
        if low > 0.0:
            shown = f"{number_text(low)}-{number_text(high)} {unit.unit}"
        else:
            shown = f"more than 0 and up to {number_text(high)} {unit.unit}"
        if value < 0.0:
            problem = f"a {unit.domain} cannot be negative"
        elif value == 0.0:
            problem = f"a {unit.domain} of 0 {unit.unit} is none at all"
        elif value < low:
            problem = f"{number_text(value)} {unit.unit} is shorter than any lens"
        elif value > high:
            problem = f"{number_text(value)} {unit.unit} is past any {unit.domain} a label records"
        else:
            return
        raise ValueOutOfRangeError(f'"{text}": {problem}; the vocabulary reads {unit.domain}s of {shown}', **where)

    @staticmethod
    def _range(bound: str, values: List[float], domain: str) -> Range:
        if bound == "single":
            tolerance = _TOLERANCE[domain]
            return Range(values[0] * (1.0 - tolerance), values[0] * (1.0 + tolerance))
        if bound == "at_most":
            return Range(0.0, values[0])
        if bound == "at_least":
            return Range(values[0], math.inf)
        return Range(min(values), max(values))


class _Builder:
    """The terms' parts put together into one query (the module docstring)."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.sizes: Set[ShotSize] = set()
        self.movements: Set[MovementClass] = set()
        self.values: Dict[str, Any] = {}
        self.set_by: Dict[str, List[_Part]] = {}

    def add(self, part: _Part) -> None:
        field = _FIELD_OF[part.kind]
        if part.kind == "size":
            self.sizes.add(part.value)
        elif part.kind == "movement":
            self.movements |= part.value
        else:
            new = PACE_RANGES[part.value] if part.kind == "pace" else part.value
            old = self.values.get(field)
            both = new if old is None else old.intersect(new)
            if both is None:
                earlier = " and ".join(f'"{p.text}"' for p in self.set_by[field])
                raise ConflictError(
                    f'"{part.text}" ({self._said(field, new)}) and {earlier} ({self._said(field, old)}) '
                    f'leave no {self._what(field)} that is both', phrase=self.reader.phrase, word=part.text,
                    position=part.start)
            self.values[field] = both
        self.set_by.setdefault(field, []).append(part)

    @staticmethod
    def _what(field: str) -> str:
        return {"speed": "speed", "focal_mm": "focal length", "focal_35mm_mm": "35 mm-equivalent focal length",
                "distance_m": "subject distance"}[field]

    def _said(self, field: str, value: Any) -> str:
        if field == "speed":
            return value.describe(movement_units(self.movements) or None)
        return value.describe("m" if field == "distance_m" else "mm")

    def _conflict(self, part: _Part, reason: str) -> ConflictError:
        return ConflictError(f'"{part.text}": {reason}', phrase=self.reader.phrase, word=part.text,
                             position=part.start)

    def check(self) -> None:
        """What the terms say together that cannot hold (a pace for a camera without a speed label,
        a distance without a subject, a speed in the wrong unit)."""
        if ShotSize.NONE in self.sizes and "distance_m" in self.values:
            raise self._conflict(self.set_by["distance_m"][0],
                                 "a frame without a subject has no subject distance (\"no subject\" asks for one)")
        speed: Optional[SpeedRange] = self.values.get("speed")
        if speed is None or not self.movements:
            return
        speedless = [m for m in MovementClass if m in self.movements and SPEED_UNIT_OF[m] is None]
        if speedless:
            names = " or ".join(m.value for m in speedless)
            raise self._conflict(self.set_by["speed"][0], f"{names} has no speed label: a pace or a speed goes with "
                                                          f"a moving camera (pan, dolly, truck, pedestal, zoom, ...)")
        wanted = movement_units(self.movements)
        if not set(wanted) & set(speed.ranges()):
            names = " or ".join(m.value for m in MovementClass if m in self.movements)
            raise self._conflict(self.set_by["speed"][0], f"a speed in {', '.join(speed.ranges())} does not fit "
                                                          f"{names}, measured in {', '.join(wanted)}")

    def describe(self, part: _Part) -> str:
        if part.kind == "size":
            if part.value is ShotSize.NONE:
                return f"no subject in frame (shot size {ShotSize.NONE.value})"
            return f"shot size is {part.value.value} ({SHOT_SIZE_NAMES[part.value]})"
        if part.kind == "movement":
            return describe_movements(part.value)
        if part.kind == "pace":
            units = movement_units(self.movements) or None
            return f"pace {part.value.value}: {PACE_RANGES[part.value].describe(units)}"
        note = f" ({part.note})" if part.note else ""
        if part.kind == "speed":
            return f"speed {part.value.describe()}{note}"
        if part.kind == "lens":
            return f"35 mm-equivalent focal length {part.value.describe('mm')} (a {part.text.lower()})"
        if part.kind == "focal":
            return f"focal length {part.value.describe('mm')}{note}"
        if part.kind == "focal_35mm":
            return f"35 mm-equivalent focal length {part.value.describe('mm')}{note}"
        return f"subject distance {part.value.describe('m')}{note}"

    def query(self, terms: List[Tuple[str, int, List[_Part]]]) -> ShotQuery:
        readings = []
        for text, start, parts in terms:
            ordered = sorted(parts, key=lambda p: _KIND_ORDER.index(p.kind))
            fields = tuple(dict.fromkeys(_FIELD_OF[p.kind] for p in ordered))
            readings.append(Reading(text, start, "; ".join(self.describe(p) for p in ordered), fields))
        return ShotQuery(
            shot_sizes=frozenset(self.sizes),
            focal_mm=self.values.get("focal_mm"),
            focal_35mm_mm=self.values.get("focal_35mm_mm"),
            movements=frozenset(self.movements),
            speed=self.values.get("speed"),
            distance_m=self.values.get("distance_m"),
            readings=tuple(readings),
            phrase=self.reader.phrase,
        )


def parse_phrase(text: str) -> ShotQuery:
    """The :class:`~.query.ShotQuery` a phrase of production vocabulary asks for (the module
    docstring), its readings saying how each term was read. Raises a
    :class:`~.errors.VocabularyError` (its subclasses say what kind) for a phrase it cannot read,
    and ``TypeError`` for one that is not text."""
    if not isinstance(text, str):
        raise TypeError(f"a phrase is text, got {type(text).__name__}")
    if len(text) > MAX_PHRASE_CHARS:
        raise VocabularyError(f"the phrase is {len(text)} characters long; the vocabulary reads at most "
                              f"{MAX_PHRASE_CHARS}", phrase="", word="", position=MAX_PHRASE_CHARS)
    reader = _Reader(text)
    builder = _Builder(reader)
    terms = []
    for tokens in split_terms(tokenize(text)):
        parts = reader.term(tokens)
        for part in parts:
            builder.add(part)
        start = tokens[0].start
        terms.append((text[start:closed_end(text, start, tokens[-1].end)], start, parts))
    if not terms:
        raise VocabularyError(f'"{text.strip()}" names nothing to look for', phrase=text, known=CATEGORIES)
    builder.check()
    return builder.query(terms)
