"""A folder of pairs end to end: what the trainer receives, and what is reported instead."""

from __future__ import annotations

import numpy as np
import pytest

from engines.style.pairs import NoPairsError, ProblemKind, RegisteredPair, Verdict, load_registered_pairs, map_points
from engines.style.pairs import load as load_module
from tests.engines.style.pairs import synth
from tests.engines.style.pairs.conftest import CONTROL_SIZE, TEST_SIZE
from tests.engines.style.pairs.files import write


@pytest.fixture(scope="module")
def folder(tmp_path_factory, standard):
    root = tmp_path_factory.mktemp("pairs")
    other, _ = synth.standard_pair(seed=99)
    write(root / "control" / "A012.png", standard.control)  # 8-bit PNG control
    write(root / "test" / "A012.tif", standard.test, bits=16)  # 16-bit TIFF scan
    write(root / "control" / "B007.png", standard.control)
    sideways = np.ascontiguousarray(np.rot90(standard.test))
    write(root / "test" / "B007.png", sideways, bits=16)  # scanned sideways: -87.5 deg
    write(root / "control" / "C003.jpg", standard.control)
    write(root / "test" / "C003.jpg", other.test)  # another scene's scan
    write(root / "control" / "D001.png", standard.control)  # its scan never came back
    return root


def test_good_pairs_come_back_ready_to_learn_from(folder, standard):
    calls = []
    pairs, _ = load_registered_pairs(folder, progress=calls.append)
    assert calls == [1, 1, 1]  # A012, B007, C003 (D001 has no test to register)
    (pair,) = pairs
    assert isinstance(pair, RegisteredPair) and pair.name == "A012"
    assert pair.control.shape == pair.test_warped.shape == (360, 640, 3)
    assert pair.control.dtype == pair.test_warped.dtype == np.float32
    assert pair.mask.dtype == bool and pair.mask.shape == (360, 640)
    samples_control, samples_test = pair.control[pair.mask], pair.test_warped[pair.mask]
    assert samples_control.shape == samples_test.shape and len(samples_control) > 120_000  # measured 157.6k (0.684)
    points = np.array([[20.0, 20.0], [620.0, 30.0], [320.0, 180.0], [40.0, 330.0], [600.0, 340.0]])
    error = np.linalg.norm(map_points(pair.transform, points) - map_points(standard.H_test_control, points), axis=1)
    assert error.max() < 0.25  # from 8- and 16-bit files; measured 0.08 px
    metrics = pair.metrics
    assert metrics.control_size_px == CONTROL_SIZE and metrics.test_size_px == TEST_SIZE
    assert metrics.registration.scale == pytest.approx(1.07, abs=0.002)
    assert metrics.agreement.fraction == pytest.approx(pair.mask.mean())


def test_pairs_that_cannot_be_used_are_reported(folder):
    _, problems = load_registered_pairs(folder)
    by_name = {p.name: p for p in problems}
    assert set(by_name) == {"B007", "C003", "D001"}
    assert by_name["D001"].kind is ProblemKind.MISSING_TEST
    sideways, unrelated = by_name["B007"], by_name["C003"]
    assert sideways.kind is ProblemKind.NOT_REGISTERED and sideways.verdict is Verdict.IMPLAUSIBLE_TRANSFORM
    assert "rotates by -87.5 deg, beyond +-15.0 deg" in sideways.reason
    assert sideways.path == folder / "test" / "B007.png"
    assert unrelated.verdict is Verdict.TOO_FEW_INLIERS
    assert unrelated.reason.startswith("not registered (too_few_inliers)")


def test_a_pair_that_agrees_too_little_is_reported(folder, monkeypatch):
    monkeypatch.setattr(load_module, "MIN_AGREEMENT_FRACTION", 0.9)
    pairs, problems = load_registered_pairs(folder)
    assert pairs == []
    low = next(p for p in problems if p.name == "A012")
    assert low.kind is ProblemKind.LOW_AGREEMENT and low.verdict is None
    assert "only 68.4%" in low.reason and "(at least 90% needed)" in low.reason and "outside the test" in low.reason


def test_an_image_that_goes_bad_after_the_scan_is_reported(folder, tmp_path):
    from engines.style.pairs import find_pairs, register_pair_files

    pair = next(p for p in find_pairs(folder) if p.name == "A012")
    broken = tmp_path / "A012.tif"
    broken.write_bytes(b"II*\x00" + bytes(64))
    problem = register_pair_files(type(pair)(pair.name, pair.control_path, broken, pair.control_size_px,
                                             pair.test_size_px))
    assert problem.kind is ProblemKind.CORRUPT_IMAGE and problem.path == broken
    assert problem.reason.startswith("test a damaged TIFF")


def test_an_empty_folder_raises(tmp_path):
    with pytest.raises(NoPairsError):
        load_registered_pairs(tmp_path)
