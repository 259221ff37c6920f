"""The filmmaker's vocabulary: production phrases read into catalogue filters and capture plans.

``parse_phrase("MCU, 75mm, slow push-in, subject under 3 m")`` (:mod:`.parser`, over the tokens
and terms of :mod:`.tokens`) gives a :class:`ShotQuery` (:mod:`.query`): filters over the
captioner's frame and shot labels, with :meth:`~ShotQuery.explain` (how each term was read),
:meth:`~ShotQuery.matches` (a label record against the filters) and :meth:`~ShotQuery.to_dict`. The words, their ranges and units are in
:mod:`.lexicon` (``docs/studio-sync/vocabulary.md`` lists them); a phrase it cannot read raises a
:class:`VocabularyError` (:mod:`.errors`) naming the word, where it is, and what it knows instead.
:func:`plan_from_query` (:mod:`.plans`) turns a query into a capture plan for the simulated stage
(``onset plan show|run --describe``). No language model is involved: the same phrase always reads
the same way.
"""

from __future__ import annotations

from studio_sync.vocabulary.errors import (
    BadTermError,
    ConflictError,
    NotLabelledError,
    UnitError,
    UnknownWordError,
    UnshootableError,
    ValueOutOfRangeError,
    VocabularyError,
)
from studio_sync.vocabulary.lexicon import PACE_RANGES, Pace
from studio_sync.vocabulary.parser import parse_phrase
from studio_sync.vocabulary.query import SPEED_UNIT_OF, Range, Reading, ShotQuery, SpeedRange

__all__ = [
    "PACE_RANGES",
    "SPEED_UNIT_OF",
    "BadTermError",
    "ConflictError",
    "NotLabelledError",
    "Pace",
    "Range",
    "Reading",
    "ShotQuery",
    "SpeedRange",
    "UnitError",
    "UnknownWordError",
    "UnshootableError",
    "ValueOutOfRangeError",
    "VocabularyError",
    "parse_phrase",
    "plan_from_query",
    "DESCRIBED",
]


def __getattr__(name: str):
    # The plans side needs the capture plans and the simulated stage; the parser does not.
    if name in ("plan_from_query", "DESCRIBED"):
        from studio_sync.vocabulary import plans

        return getattr(plans, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
