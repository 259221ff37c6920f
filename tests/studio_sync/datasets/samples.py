"""A built dataset read back whole with the captioner's reader: samples by key, every file's bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Dict

from engines.captioner.dataset import SPLITS, iter_samples

__all__ = ["samples_by_key", "file_digests"]


def samples_by_key(root: Path) -> Dict[str, object]:
    """Every sample of every split, by key."""
    return {s.key: s for split in SPLITS for s in iter_samples(Path(root), split)}


def file_digests(root: Path) -> Dict[str, str]:
    """SHA-256 of every file under ``root``, by its POSIX path there."""
    root = Path(root)
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
