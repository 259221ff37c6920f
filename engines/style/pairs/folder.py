"""Find the pairs in a folder a user brings: which files are a control and its test, and what is wrong.

Two layouts (docs/style-pairs.md), chosen by what the folder holds:

* **Subfolders** (:attr:`Layout.SUBFOLDERS`): ``control/`` and ``test/`` (or ``digital/`` and
  ``film/``; folder names in any case) with files of the same stem: ``control/A012.png`` pairs
  with ``test/A012.tif``. Files beside the two subfolders are not read.
* **Suffixes** (:attr:`Layout.SUFFIXES`): one folder of ``NAME.control.EXT`` and ``NAME.test.EXT``
  (``.digital`` / ``.film`` are read the same way): ``A012.control.png`` + ``A012.test.tif``.

A pair's name is the stem (``A012``). Both files of every pair are probed, i.e. decoded once
(:func:`~engines.style.pairs.image.probe_image`), so a damaged file is found before any
registration. Nothing found here raises but a folder that is missing, ambiguous or empty: a
control without its test (and the reverse), two files claiming one name and role, a file not
named as part of a pair, a file that is not an image, corrupt, of float samples or too small are
each a :class:`PairProblem` naming the file, and the pair they belong to is not used. Pairs of different
sizes are kept (registration recovers the scale) and say so in :attr:`PairFiles.sizes_differ`.
Hidden files (a leading ``.``, e.g. ``.DS_Store``) are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

from engines.style.pairs.errors import NoPairsError, PairFolderError, PairImageError
from engines.style.pairs.image import IMAGE_SUFFIXES, image_type_of, probe_image
from engines.style.pairs.types import Layout, PairFiles, PairProblem, PairSet, ProblemKind

__all__ = ["ROLE_NAMES", "find_pairs"]

#: The (control, test) role names, as subfolders or as the suffix before the extension.
ROLE_NAMES = (("control", "test"), ("digital", "film"))

_CONTROL_ROLES = {control for control, _ in ROLE_NAMES}
_TEST_ROLES = {test for _, test in ROLE_NAMES}
_EXTENSIONS = ", ".join(IMAGE_SUFFIXES)

#: name -> role ("control" / "test") -> the files claiming it.
_Claims = Dict[str, Dict[str, List[Path]]]


def _visible(folder: Path) -> List[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _role_folders(folder: Path) -> Optional[Tuple[Path, Path]]:
    """The (control, test) subfolders of a subfolder layout, None for a suffix layout."""
    subdirs = {p.name.lower(): p for p in _visible(folder) if p.is_dir()}
    found = [(c, t) for c, t in ROLE_NAMES if c in subdirs or t in subdirs]
    if not found:
        return None
    if len(found) > 1:
        names = ", ".join(f"{c}/ + {t}/" for c, t in found)
        raise PairFolderError(f"{folder}: holds subfolders of two layouts ({names}); keep one")
    control, test = found[0]
    for present, absent in ((control, test), (test, control)):
        if present in subdirs and absent not in subdirs:
            raise PairFolderError(f"{folder}: has {subdirs[present].name}/ but no {absent}/ beside it")
    return subdirs[control], subdirs[test]


def _claim_subfolders(control_dir: Path, test_dir: Path, problems: List[PairProblem]) -> _Claims:
    claims: _Claims = {}
    for role, folder in (("control", control_dir), ("test", test_dir)):
        for path in _visible(folder):
            if path.is_dir():
                problems.append(PairProblem(path.name, path, f"a folder inside {folder.name}/; pairs are files",
                                            ProblemKind.STRAY_FILE))
            elif image_type_of(path) is None:
                problems.append(PairProblem(path.stem, path, f"not an image: {path.name} in {folder.name}/ should "
                                            f"be PNG, JPEG or TIFF ({_EXTENSIONS})", ProblemKind.NOT_AN_IMAGE))
            else:
                claims.setdefault(path.stem, {}).setdefault(role, []).append(path)
    return claims


def _role_of(suffix: str) -> Optional[str]:
    """"control" or "test" for a role suffix (any case), None for anything else."""
    if suffix.lower() in _CONTROL_ROLES:
        return "control"
    if suffix.lower() in _TEST_ROLES:
        return "test"
    return None


def _claim_suffixes(folder: Path, problems: List[PairProblem]) -> _Claims:
    claims: _Claims = {}
    for path in _visible(folder):
        if path.is_dir():
            continue  # a suffix layout is flat; an unrelated subfolder (exports, notes) is not ours
        name, _, role_name = path.stem.rpartition(".")
        role = _role_of(role_name)
        if role is None or not name:
            problems.append(PairProblem(path.stem, path, f"not part of a pair: expected NAME.control.EXT or "
                                        f"NAME.test.EXT with EXT one of {_EXTENSIONS}", ProblemKind.STRAY_FILE))
        elif image_type_of(path) is None:
            problems.append(PairProblem(name, path, f"not an image: {path.name} should be PNG, JPEG or TIFF "
                                        f"({_EXTENSIONS})", ProblemKind.NOT_AN_IMAGE))
        else:
            claims.setdefault(name, {}).setdefault(role, []).append(path)
    return claims


def _pair_of(name: str, roles: Dict[str, List[Path]], problems: List[PairProblem]) -> Optional[PairFiles]:
    for role, paths in roles.items():
        if len(paths) > 1:
            listed = ", ".join(p.name for p in paths)
            problems.append(PairProblem(name, paths[0], f"{len(paths)} {role} files named {name}: {listed}; "
                                        f"keep one", ProblemKind.DUPLICATE_NAME))
            return None
    if "test" not in roles:
        path = roles["control"][0]
        problems.append(PairProblem(name, path, f"control {path.name} has no test of the same name",
                                    ProblemKind.MISSING_TEST))
        return None
    if "control" not in roles:
        path = roles["test"][0]
        problems.append(PairProblem(name, path, f"test {path.name} has no control of the same name",
                                    ProblemKind.MISSING_CONTROL))
        return None
    control_path, test_path = roles["control"][0], roles["test"][0]
    sizes = []
    for role, path in (("control", control_path), ("test", test_path)):
        try:
            sizes.append(probe_image(path).size_px)
        except PairImageError as err:
            problems.append(PairProblem(name, path, f"{role} {err.reason}", err.kind))
    if len(sizes) < 2:
        return None
    return PairFiles(name, control_path, test_path, sizes[0], sizes[1])


def find_pairs(folder: Path) -> PairSet:
    """The pairs in ``folder`` and the problems found (module docstring).

    Raises :class:`PairFolderError` for a missing folder, a file, or an ambiguous layout, and
    :class:`NoPairsError` for a folder without a single file to read.
    """
    folder = Path(folder)
    if not folder.exists():
        raise PairFolderError(f"{folder}: no such folder of pairs")
    if not folder.is_dir():
        raise PairFolderError(f"{folder}: is a file; expected a folder of pairs")
    problems: List[PairProblem] = []
    role_folders = _role_folders(folder)
    if role_folders is None:
        layout, claims = Layout.SUFFIXES, _claim_suffixes(folder, problems)
    else:
        layout, claims = Layout.SUBFOLDERS, _claim_subfolders(*role_folders, problems)
    if not claims and not problems:
        where = f"{role_folders[0]} and {role_folders[1]}" if role_folders else str(folder)
        raise NoPairsError(f"{where}: no files to read; expected pairs laid out as control/NAME.EXT + "
                           f"test/NAME.EXT or as NAME.control.EXT + NAME.test.EXT (docs/style-pairs.md)")
    pairs = [pair for name in sorted(claims) if (pair := _pair_of(name, claims[name], problems)) is not None]
    return PairSet(folder, layout, tuple(pairs), tuple(problems))
