"""The vocabulary of the chain of custody: hash formats, progress callbacks, and what each job returns.

Paths inside a take are POSIX paths relative to the take folder (``bag/bag_0.mcap``), the form
ASC MHL files record them in. Sizes are bytes; digests are lower-case hex strings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

__all__ = [
    "HASH_FORMATS",
    "DEFAULT_HASH_FORMAT",
    "Progress",
    "MissingFile",
    "ExtraFile",
    "AlteredFile",
    "CustodyReport",
    "SealResult",
    "CopyResult",
]

#: The digests Onset writes and checks (ASC MHL names); ``xxh128`` is XXH3's 128-bit variant.
HASH_FORMATS: Tuple[str, ...] = ("xxh64", "xxh128")
DEFAULT_HASH_FORMAT = "xxh64"

#: ``progress(bytes_done, bytes_in_all)``, called as a job reads: seal and verify read each file
#: once, a copy reads it twice (the copy pass, then the verification of the copy).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class MissingFile:
    """A file the history records that is not in the take folder."""

    path: str
    size: Optional[int]
    hash_format: str
    expected: str
    generation: int  # the generation that first recorded it


@dataclass(frozen=True)
class ExtraFile:
    """A file in the take folder that no generation of the history records."""

    path: str
    size: int


@dataclass(frozen=True)
class AlteredFile:
    """A file whose digest is not the one its first generation recorded."""

    path: str
    hash_format: str
    expected: str
    actual: str
    expected_size: Optional[int]
    actual_size: int
    generation: int


@dataclass(frozen=True)
class CustodyReport:
    """What ``verify_take`` found: every file re-hashed against the history up to ``generation``.

    Each file is checked against the digest its first generation recorded (as ASC MHL verifies),
    in that digest's format."""

    take: Path
    generation: int
    generation_file: str
    files_checked: int
    bytes_checked: int
    missing: Tuple[MissingFile, ...] = ()
    extra: Tuple[ExtraFile, ...] = ()
    altered: Tuple[AlteredFile, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no file is missing, extra or altered."""
        return not (self.missing or self.extra or self.altered)

    def problems(self) -> List[str]:
        """One sentence per missing, extra or altered file."""
        lines = [f"altered: {a.path} ({a.hash_format} recorded in generation {a.generation}: {a.expected}, "
                 f"now {a.actual})" for a in self.altered]
        lines += [f"missing: {m.path} (recorded in generation {m.generation})" for m in self.missing]
        lines += [f"extra: {e.path} (in no generation)" for e in self.extra]
        return lines

    def summary(self) -> str:
        """One line: verified, or how many files are altered, missing and extra."""
        if self.ok:
            return (f"{self.take.name}: verified {self.files_checked} files against generation "
                    f"{self.generation} ({self.generation_file})")
        counts = [f"{len(items)} {word}" for items, word in
                  ((self.altered, "altered"), (self.missing, "missing"), (self.extra, "extra")) if items]
        return f"{self.take.name}: does NOT match generation {self.generation}: {', '.join(counts)}"

    def to_dict(self) -> Dict[str, Any]:
        """The report as plain JSON values."""
        return {
            "take": str(self.take),
            "ok": self.ok,
            "generation": self.generation,
            "generation_file": self.generation_file,
            "files_checked": self.files_checked,
            "bytes_checked": self.bytes_checked,
            "missing": [asdict(m) for m in self.missing],
            "extra": [asdict(e) for e in self.extra],
            "altered": [asdict(a) for a in self.altered],
        }


@dataclass(frozen=True)
class SealResult:
    """A generation written in place into ``<take>/ascmhl/``."""

    take: Path
    generation: int
    mhl_file: Path
    hash_format: str
    files: int
    bytes: int
    new_files: Tuple[str, ...] = field(default=())  # first recorded by this generation


@dataclass(frozen=True)
class CopyResult:
    """An offload copy, every byte verified, with its ``transfer`` generation."""

    source: Path
    copy: Path
    generation: int
    mhl_file: Path
    hash_formats: Tuple[str, ...]
    files: int
    bytes: int
