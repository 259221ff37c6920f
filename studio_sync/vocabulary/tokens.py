"""A phrase as tokens and terms, each token where the phrase has it (0-based character offsets).

**Tokens**: numbers (``75``, ``2.5``, ``.5``: ASCII digits), words (letters, an apostrophe inside:
"subject's"), symbols (one character each). Spaces, brackets, quotes and sentence punctuation are
dropped; every dash is ``-``, and is kept only before a number (a minus, or a range's dash), so a
hyphen between words joins nothing ("push-in" reads as "push in"). Words are compared in lower
case. **Terms**: the tokens between separators (:data:`~.lexicon.SEPARATORS`), except the "and" of
"between 2 and 4 m".
"""

from __future__ import annotations

import re
from typing import List, NamedTuple, Sequence

from studio_sync.vocabulary.lexicon import SEPARATORS

__all__ = ["Token", "tokenize", "split_terms", "closed_end"]

_TOKEN = re.compile(
    r"(?P<number>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
    r"|(?P<word>[^\W\d_]+(?:['\u2019][^\W\d_]+)*)"
    r"|(?P<space>\s+)"
    r"|(?P<symbol>.)",
    re.DOTALL,
)
# Punctuation read as a space.
_IGNORED = frozenset("()[]{}\"'!?.:`\u2018\u2019\u201c\u201d\u2026")
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2212")
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


class Token(NamedTuple):
    """One token: ``text`` as written from character ``start``, ``norm`` as it is looked up
    (lower case; a dash ``-``), ``kind`` ``number``, ``word`` or ``symbol``."""

    text: str
    norm: str
    start: int
    kind: str  # number, word, symbol

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def tokenize(phrase: str) -> List[Token]:
    """The tokens of ``phrase`` (the module docstring)."""
    out: List[Token] = []
    for match in _TOKEN.finditer(phrase):
        kind, text = match.lastgroup, match.group()
        if kind == "space" or (kind == "symbol" and text in _IGNORED):
            continue
        if kind == "symbol" and text in _DASHES:
            out.append(Token(text, "-", match.start(), "symbol"))
        elif kind == "word":
            out.append(Token(text, text.lower().replace("\u2019", "'"), match.start(), "word"))
        else:
            out.append(Token(text, text, match.start(), str(kind)))
    # A dash means something only before a number (a minus, or a range's dash): elsewhere it
    # joins words ("push-in", "close-up").
    return [t for i, t in enumerate(out)
            if t.norm != "-" or (i + 1 < len(out) and out[i + 1].kind == "number")]


def split_terms(tokens: Sequence[Token]) -> List[List[Token]]:
    """The non-empty terms of a phrase's tokens, separators dropped (the module docstring)."""
    terms: List[List[Token]] = [[]]
    for token in tokens:
        current = terms[-1]
        between = (len(current) >= 2 and current[-2].norm == "between" and current[-1].kind == "number") or (
            len(current) >= 3 and current[-3].norm == "between" and current[-2].kind == "number")
        if token.norm in SEPARATORS and not (token.norm == "and" and between):
            terms.append([])
        else:
            current.append(token)
    return [t for t in terms if t]


def closed_end(text: str, start: int, end: int) -> int:
    """``end`` moved past the brackets that close the ones opened in ``text[start:end]``."""
    for opener, closer in _CLOSERS.items():
        while text.count(opener, start, end) > text.count(closer, start, end) and text[end:end + 1] == closer:
            end += 1
    return end
