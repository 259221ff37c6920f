"""Pairs folders as the trainer and the evaluation read them.

A folder made by ``onset style pairs`` (its manifest says ``aligned``) is read as it is: its pairs
are aligned to the pixel by construction, so every pixel is a sample. Any other folder is a
user's pairs: each is registered and masked (``engines.style.pairs.load_registered_pairs``), and
the pairs that cannot be registered or agree too little come back as problems, not pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional

import numpy as np

from engines.style.model.train import TrainingPair

__all__ = ["PairsFolder", "read_pairs_folder"]


@dataclass(frozen=True)
class PairsFolder:
    folder: Path
    pairs: List[TrainingPair]
    problems: list
    aligned: bool
    manifest: Optional[dict]

    @property
    def film_look(self) -> Optional[str]:
        """The pipeline look a stage pairs folder was developed with (its folder name), else None."""
        if self.manifest is not None and self.folder.name in self.manifest.get("looks", []):
            return self.folder.name
        return None


def read_pairs_folder(folder: Path, progress: Optional[Callable[[int], None]] = None) -> PairsFolder:
    """The pairs of ``folder`` (module docstring)."""
    from engines.style.pairs import find_pairs, load_image, load_registered_pairs
    from engines.style.pairs.stage import read_manifest

    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is not None and manifest.get("aligned"):
        tags = {p["name"]: p for p in manifest.get("pairs", [])}
        found = find_pairs(folder)
        pairs, problems = [], list(found.problems)  # PairSet.problems is a tuple
        for files in found.pairs:
            control, test = load_image(files.control_path), load_image(files.test_path)
            if control.shape != test.shape:
                problems.append(f"{files.name}: control {control.shape} and test {test.shape} differ in size")
                continue
            pairs.append(TrainingPair(files.name, control, test, np.ones(control.shape[:2], bool),
                                      dict(tags.get(files.name, {}))))
            if progress is not None:
                progress(1)
        return PairsFolder(folder, pairs, problems, True, manifest)
    registered, problems = load_registered_pairs(folder, progress=progress)
    pairs = [TrainingPair(p.name, p.control, p.test_warped, p.mask) for p in registered]
    return PairsFolder(folder, pairs, list(problems), False, manifest)
