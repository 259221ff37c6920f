"""Resolve/Adobe ``.cube`` 3D LUT files: written atomically, read strictly.

**Layout written** (Adobe Cube LUT Specification 1.0, as Resolve, OpenColorIO and LUT boxes read it)::

    TITLE "<title>"
    # <key>: <value>                    header comments (the look writer's are listed in docs/luts.md)
    LUT_3D_SIZE N                       17, 33 or 65
    DOMAIN_MIN 0.0 0.0 0.0
    DOMAIN_MAX 1.0 1.0 1.0
    R G B                               N^3 lines, red changing fastest, then green, then blue

Line ``1 + i_r + N i_g + N^2 i_b`` of the data holds the output for input
``(i_r, i_g, i_b) / (N - 1)`` (scaled to the domain). Values have 7 decimals: an absolute error of at
most 5e-8, below a float32's spacing near 1 and 1/80000 of a 12-bit code step.

**Tables in memory** are float32 arrays shaped (N, N, N, 3) indexed ``[r, g, b]`` (the red index
first, like the input triple), everywhere in this package: ``table[i_r, i_g, i_b]`` is the output
for that input.

**Reading** accepts the writer's layout and what other tools write within the specification:
comments (``#``) and blank lines anywhere, ``\\r\\n`` line ends, the keywords in any order before
the data, ``LUT_3D_INPUT_RANGE lo hi`` for the domain, any size from 2 to 256. Everything else is a
:class:`~engines.style.colour.errors.LutFormatError` naming the file and the line: a 1D LUT, a
missing or repeated keyword, an unknown keyword, a keyword after the data, a data line without
exactly three plain decimal numbers, a value outside +-65504 (the largest half float a LUT box's
texture holds), a domain whose minimum is not below its maximum, too few or too many data lines,
bytes that are not UTF-8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from engines.style.colour._atomic import write_atomic
from engines.style.colour.errors import ColourInputError, LutFormatError, LutSizeError

__all__ = ["LUT_SIZES", "MIN_CUBE_SIZE", "MAX_CUBE_SIZE", "VALUE_LIMIT", "DECIMALS", "CubeFile", "check_size",
           "write_cube", "read_cube"]

#: Sizes (points per axis) this package writes.
LUT_SIZES: Tuple[int, ...] = (17, 33, 65)

#: Sizes the reader accepts (Adobe's specification: 2 to 256).
MIN_CUBE_SIZE, MAX_CUBE_SIZE = 2, 256

#: Largest magnitude of a value the reader accepts (the largest half float).
VALUE_LIMIT = 65504.0

#: Decimals written per value.
DECIMALS = 7

_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_DATA_LINE = re.compile(rf"({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})", re.ASCII)
_NUMBER_ONLY = re.compile(_NUMBER)
_WHOLE = re.compile(r"[0-9]+")
_TITLE = re.compile(r'TITLE\s+"([^"]*)"')
_KEYWORDS = ("TITLE", "LUT_3D_SIZE", "DOMAIN_MIN", "DOMAIN_MAX", "LUT_3D_INPUT_RANGE")
_ONE_D = ("LUT_1D_SIZE", "LUT_1D_INPUT_RANGE")
_DOMAIN_WORDS = ("DOMAIN_MIN", "DOMAIN_MAX", "LUT_3D_INPUT_RANGE")
_KEYWORD = re.compile(r"[A-Z_][A-Z0-9_]*")

PathLike = Union[str, Path]


@dataclass(frozen=True, eq=False)
class CubeFile:
    """A ``.cube`` 3D LUT as read: ``table`` (N, N, N, 3) float32 indexed ``[r, g, b]``, its title,
    domain, the comment lines before the data (without ``#``) and the ``key: value`` ones among
    them as ``header`` (keys lower-case)."""

    path: Path
    table: np.ndarray
    title: Optional[str]
    domain_min: Tuple[float, float, float]
    domain_max: Tuple[float, float, float]
    comments: Tuple[str, ...] = ()
    header: Dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.table.shape[0])


def check_size(size: object) -> int:
    """``size`` if it is one of :data:`LUT_SIZES`, else :class:`LutSizeError`."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or int(size) not in LUT_SIZES:
        raise LutSizeError(size, LUT_SIZES)
    return int(size)


def _check_text(text: str, what: str) -> str:
    if any(ch in text for ch in '"\r\n') or not text.isprintable():
        raise ColourInputError(f"{what} {text!r} must be printable on one line, without double quotes")
    return text


def write_cube(path: PathLike, table: np.ndarray, *, title: str, comments: Sequence[str] = ()) -> Path:
    """Write ``table`` (N, N, N, 3) indexed ``[r, g, b]`` to ``path`` as the module docstring lays it
    out, domain [0, 1], atomically; returns the path. ``comments`` are header lines without ``#``."""
    table = np.asarray(table, dtype=np.float64)
    if table.ndim != 4 or table.shape[3] != 3 or not table.shape[0] == table.shape[1] == table.shape[2]:
        raise ColourInputError(f"a 3D LUT table must be shaped (N, N, N, 3), got {table.shape}")
    size = check_size(table.shape[0])
    if not np.all(np.isfinite(table)) or np.abs(table).max() > VALUE_LIMIT:
        raise ColourInputError(f"a 3D LUT table must hold finite values within +-{VALUE_LIMIT:g}")
    header = [f'TITLE "{_check_text(title, "title")}"']
    header += [f"# {_check_text(c, 'comment')}".rstrip() for c in comments]
    header += [f"LUT_3D_SIZE {size}", "DOMAIN_MIN 0.0 0.0 0.0", "DOMAIN_MAX 1.0 1.0 1.0"]
    # [r, g, b] to [b, g, r] makes red the fastest-changing index of the flattened rows.
    rows = table.transpose(2, 1, 0, 3).reshape(-1).tolist()
    line = f"%.{DECIMALS}f %.{DECIMALS}f %.{DECIMALS}f\n"

    def write(handle) -> None:
        handle.write("\n".join(header) + "\n")
        for start in range(0, len(rows), 3 * 4096):
            chunk = rows[start:start + 3 * 4096]
            handle.write((line * (len(chunk) // 3)) % tuple(chunk))

    return write_atomic(Path(path), write)


class _Parser:
    """One pass over a file's lines; keeps the header and the data rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: Dict[str, int] = {}
        self.title: Optional[str] = None
        self.size: Optional[int] = None
        self.domain_min = self.domain_max = None
        self.comments: List[str] = []
        self.rows: List[Tuple[str, str, str]] = []
        self.first_data_line: Optional[int] = None

    def fail(self, line: Optional[int], reason: str) -> LutFormatError:
        return LutFormatError(self.path, line, reason)

    def floats(self, number: int, words: List[str], keyword: str, n: int) -> Tuple[float, ...]:
        if len(words) != n or not all(_NUMBER_ONLY.fullmatch(w) for w in words):
            raise self.fail(number, f"{keyword} needs {n} numbers, got {' '.join(words)!r}")
        values = tuple(float(w) for w in words)
        if not all(abs(v) <= VALUE_LIMIT for v in values):
            raise self.fail(number, f"{keyword} {' '.join(words)} is outside +-{VALUE_LIMIT:g}")
        return values

    def keyword(self, number: int, text: str) -> None:
        word, *rest = text.split()
        if word in _ONE_D:
            raise self.fail(number, f"{word}: this is a 1D LUT; a 3D LUT (LUT_3D_SIZE) is expected")
        if word not in _KEYWORDS:
            raise self.fail(number, f"unknown keyword {word!r} (a 3D .cube has {', '.join(_KEYWORDS)})")
        if self.first_data_line is not None:
            raise self.fail(number, f"{word} after the data lines (which start on line {self.first_data_line})")
        if word in self.seen:
            raise self.fail(number, f"a second {word} (the first is on line {self.seen[word]})")
        clash = {"LUT_3D_INPUT_RANGE"} if word.startswith("DOMAIN_") else {"DOMAIN_MIN", "DOMAIN_MAX"}
        other = next((w for w in self.seen if w in clash), None) if word in _DOMAIN_WORDS else None
        if other is not None:
            raise self.fail(number, f"{word} and {other} (line {self.seen[other]}) both give the domain")
        self.seen[word] = number
        if word == "TITLE":
            match = _TITLE.fullmatch(text)
            if match is None:
                raise self.fail(number, 'TITLE must be followed by one "double-quoted" string')
            self.title = match.group(1)
        elif word == "LUT_3D_SIZE":
            if len(rest) != 1 or not _WHOLE.fullmatch(rest[0]) or not MIN_CUBE_SIZE <= int(rest[0]) <= MAX_CUBE_SIZE:
                raise self.fail(number, f"LUT_3D_SIZE must be one whole number from {MIN_CUBE_SIZE} to "
                                        f"{MAX_CUBE_SIZE}, got {' '.join(rest)!r}")
            self.size = int(rest[0])
        elif word == "LUT_3D_INPUT_RANGE":
            lo, hi = self.floats(number, rest, word, 2)
            self.domain_min, self.domain_max = (lo,) * 3, (hi,) * 3
        elif word == "DOMAIN_MIN":
            self.domain_min = self.floats(number, rest, word, 3)
        else:
            self.domain_max = self.floats(number, rest, word, 3)

    def data(self, number: int, text: str) -> None:
        if self.first_data_line is None:
            self.first_data_line = number
            if self.size is None:
                raise self.fail(number, "a data line before any LUT_3D_SIZE (the size must come first)")
        if len(self.rows) == self.size**3:
            raise self.fail(number, f"more data lines than LUT_3D_SIZE {self.size} has ({self.size**3})")
        match = _DATA_LINE.fullmatch(text)
        if match is None:
            words = text.split()
            if len(words) != 3:
                raise self.fail(number, f"a data line needs 3 numbers (red green blue), got {len(words)}: {text!r}")
            bad = next((w for w in words if not _NUMBER_ONLY.fullmatch(w)), None)
            if bad is None:
                raise self.fail(number, f"numbers must be separated by spaces or tabs: {text!r}")
            raise self.fail(number, f"not a number: {bad!r}")
        self.rows.append(match.groups())

    def line(self, number: int, raw: bytes) -> None:
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as err:
            raise self.fail(number, f"not UTF-8 text (byte 0x{raw[err.start]:02x} at column {err.start + 1})") from None
        if not text:
            return
        if text.startswith("#"):
            if self.first_data_line is None:
                self.comments.append(text[1:].strip())
        elif _KEYWORD.fullmatch(text.split(None, 1)[0]):
            self.keyword(number, text)
        else:
            self.data(number, text)


def _header(comments: Sequence[str]) -> Dict[str, str]:
    pairs = (c.split(":", 1) for c in comments if ":" in c)
    return {key.strip().lower(): value.strip() for key, value in pairs if key.strip()}


def read_cube(path: PathLike) -> CubeFile:
    """The 3D LUT in the ``.cube`` file at ``path``, validated as the module docstring says."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise LutFormatError(path, None, f"cannot read the file: {err.strerror or err}") from err
    parser = _Parser(path)
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, start=1):
        parser.line(number, raw)
    last = len(lines) if lines[-1].strip() or len(lines) == 1 else len(lines) - 1
    if parser.size is None:
        raise LutFormatError(path, last, "no LUT_3D_SIZE line: not a 3D .cube LUT")
    needed = parser.size**3
    if len(parser.rows) < needed:
        raise LutFormatError(path, last, f"the file ends after {len(parser.rows)} data lines; "
                                         f"LUT_3D_SIZE {parser.size} needs {needed}")
    domain_min = parser.domain_min or (0.0, 0.0, 0.0)
    domain_max = parser.domain_max or (1.0, 1.0, 1.0)
    if not all(lo < hi for lo, hi in zip(domain_min, domain_max)):
        where = parser.seen.get("DOMAIN_MAX") or parser.seen.get("LUT_3D_INPUT_RANGE")
        raise LutFormatError(path, where, f"the domain minimum {domain_min} is not below its maximum {domain_max}")
    values = np.array(parser.rows, dtype=np.float64)
    bad = np.flatnonzero(np.abs(values).max(axis=1) > VALUE_LIMIT)
    if bad.size:
        number = _data_line_number(lines, parser.first_data_line, int(bad[0]))
        raise LutFormatError(path, number, f"value outside +-{VALUE_LIMIT:g}: {' '.join(parser.rows[bad[0]])}")
    size = parser.size
    table = np.ascontiguousarray(values.reshape(size, size, size, 3).transpose(2, 1, 0, 3), dtype=np.float32)
    return CubeFile(path, table, parser.title, tuple(domain_min), tuple(domain_max), tuple(parser.comments),
                    _header(parser.comments))


def _data_line_number(lines: List[bytes], first: int, index: int) -> int:
    """The 1-based line number of data row ``index`` (rare: only for an error message)."""
    count = -1
    for number in range(first, len(lines) + 1):
        text = lines[number - 1].strip()
        if text and not text.startswith(b"#"):
            count += 1
            if count == index:
                return number
    return first
