"""Finding pairs in a folder: both layouts, and every problem reported by name instead of raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.style.pairs import Layout, NoPairsError, PairFolderError, PairsError, ProblemKind, find_pairs
from tests.engines.style.pairs.files import gradient, write


def _problems(pair_set):
    return {(p.name, p.kind) for p in pair_set.problems}


def test_subfolder_layout(tmp_path):
    write(tmp_path / "control" / "A001.png", gradient())
    write(tmp_path / "test" / "A001.tif", gradient(), bits=16)  # stems pair across extensions
    write(tmp_path / "control" / "A002.jpg", gradient())
    write(tmp_path / "test" / "A002.png", gradient(200, 150))
    (tmp_path / "README.txt").write_text("beside the subfolders: not read")
    pairs = find_pairs(tmp_path)
    assert pairs.layout is Layout.SUBFOLDERS and pairs.problems == ()
    assert [p.name for p in pairs] == ["A001", "A002"]
    first, second = pairs.pairs
    assert first.control_path == tmp_path / "control" / "A001.png" and first.test_path == tmp_path / "test" / "A001.tif"
    assert not first.sizes_differ
    assert second.sizes_differ and second.control_size_px == (160, 130) and second.test_size_px == (200, 150)


def test_digital_and_film_subfolders_in_any_case(tmp_path):
    write(tmp_path / "Digital" / "s1.png", gradient())
    write(tmp_path / "FILM" / "s1.png", gradient())
    pairs = find_pairs(tmp_path)
    assert [p.name for p in pairs] == ["s1"] and pairs.layout is Layout.SUBFOLDERS


def test_suffix_layout(tmp_path):
    write(tmp_path / "sc12.tk3.control.png", gradient())
    write(tmp_path / "sc12.tk3.test.TIFF", gradient(), bits=16)
    write(tmp_path / "B.digital.png", gradient())
    write(tmp_path / "B.film.jpg", gradient())
    (tmp_path / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (tmp_path / "exports").mkdir()
    pairs = find_pairs(tmp_path)
    assert pairs.layout is Layout.SUFFIXES and pairs.problems == ()
    assert [p.name for p in pairs] == ["B", "sc12.tk3"]
    assert pairs.pairs[1].test_path.name == "sc12.tk3.test.TIFF"


def test_missing_partners_are_reported_both_ways(tmp_path):
    write(tmp_path / "control" / "A.png", gradient())
    write(tmp_path / "test" / "A.png", gradient())
    write(tmp_path / "control" / "only_control.png", gradient())
    write(tmp_path / "test" / "only_test.png", gradient())
    pairs = find_pairs(tmp_path)
    assert [p.name for p in pairs] == ["A"]
    assert _problems(pairs) == {("only_control", ProblemKind.MISSING_TEST), ("only_test", ProblemKind.MISSING_CONTROL)}
    missing = next(p for p in pairs.problems if p.name == "only_control")
    assert missing.path == tmp_path / "control" / "only_control.png"
    assert missing.reason == "control only_control.png has no test of the same name"


def test_bad_files_are_reported_and_their_pairs_not_used(tmp_path):
    write(tmp_path / "good.control.png", gradient())
    write(tmp_path / "good.test.png", gradient())
    data = write(tmp_path / "cut.control.png", gradient()).read_bytes()
    (tmp_path / "cut.control.png").write_bytes(data[:200])  # a corrupt PNG
    write(tmp_path / "cut.test.png", gradient())
    write(tmp_path / "text.control.png", gradient())
    (tmp_path / "text.test.png").write_text("not a picture")  # a text file named .png
    write(tmp_path / "tiny.control.png", gradient(100, 60))
    write(tmp_path / "tiny.test.png", gradient(100, 60))
    (tmp_path / "notes.control.txt").write_text("x")
    (tmp_path / "contact_sheet.png").write_text("no role")
    pairs = find_pairs(tmp_path)
    assert [p.name for p in pairs] == ["good"]
    assert _problems(pairs) == {
        ("cut", ProblemKind.CORRUPT_IMAGE),
        ("text", ProblemKind.NOT_AN_IMAGE),
        ("tiny", ProblemKind.TOO_SMALL),
        ("notes", ProblemKind.NOT_AN_IMAGE),
        ("contact_sheet", ProblemKind.STRAY_FILE),
    }
    reasons = {p.name: (p.path.name, p.reason) for p in pairs.problems}
    assert reasons["cut"][0] == "cut.control.png" and "control truncated PNG" in reasons["cut"][1]
    assert reasons["text"][0] == "text.test.png"
    assert "first bytes b'not a pi' are not a PNG signature" in reasons["text"][1]
    assert "at least 128 px" in reasons["tiny"][1]
    assert "expected NAME.control.EXT or NAME.test.EXT" in reasons["contact_sheet"][1]


def test_two_files_for_one_name_and_role(tmp_path):
    write(tmp_path / "control" / "A.png", gradient())
    write(tmp_path / "control" / "A.tif", gradient())
    write(tmp_path / "test" / "A.png", gradient())
    pairs = find_pairs(tmp_path)
    assert len(pairs) == 0
    (problem,) = pairs.problems
    assert problem.kind is ProblemKind.DUPLICATE_NAME and "A.png, A.tif" in problem.reason


def test_non_images_inside_role_folders(tmp_path):
    write(tmp_path / "control" / "A.png", gradient())
    write(tmp_path / "test" / "A.png", gradient())
    (tmp_path / "test" / "A.xmp").write_text("<x:xmpmeta/>")
    (tmp_path / "test" / "old").mkdir()
    pairs = find_pairs(tmp_path)
    assert len(pairs) == 1
    assert _problems(pairs) == {("A", ProblemKind.NOT_AN_IMAGE), ("old", ProblemKind.STRAY_FILE)}


@pytest.mark.parametrize("make, error, words", [
    (lambda root: root / "nowhere", PairFolderError, "no such folder of pairs"),
    (lambda root: write(root / "one.png", gradient()), PairFolderError, "is a file; expected a folder"),
    (lambda root: root, NoPairsError, "no files to read"),
    (lambda root: (root / "control").mkdir() or (root / "test").mkdir() or root, NoPairsError, "no files to read"),
    (lambda root: (root / "control").mkdir() or root, PairFolderError, "has control/ but no test/"),
    (lambda root: (root / "control").mkdir() or (root / "film").mkdir() or root, PairFolderError, "two layouts"),
], ids=["missing", "a-file", "empty", "empty-subfolders", "control-without-test", "mixed-layouts"])
def test_unreadable_folders_raise(tmp_path, make, error, words):
    folder = make(tmp_path)
    with pytest.raises(error, match=words) as err:
        find_pairs(Path(folder))
    assert isinstance(err.value, PairsError) and str(folder) in str(err.value)
