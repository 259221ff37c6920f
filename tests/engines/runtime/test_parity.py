"""Parity: every backend that can run here against the torch reference, within stated tolerances."""

import numpy as np
import pytest

from engines.runtime import TOLERANCES, Tolerance, check_parity, compare_outputs, list_backends
from engines.runtime.parity import REFERENCE_BACKEND
from tests.engines.runtime.nets import make_inputs

pytest.importorskip("torch")


def test_the_stated_tolerances():
    assert TOLERANCES["fp32"] == Tolerance(atol=1e-4, rtol=1e-3)
    assert TOLERANCES["tf32"] == Tolerance(atol=5e-3, rtol=5e-3)
    assert TOLERANCES["fp16"] == Tolerance(atol=2e-2, rtol=2e-2)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_available_backend_matches_the_torch_reference(tiny_model, seed):
    report = check_parity(tiny_model, make_inputs(seed=seed))
    assert report.ok, report.describe()
    statuses = {s.name: s for s in list_backends()}
    ran = {r.backend for r in report.results}
    skipped = dict(report.skipped)
    # Every backend but the reference is either compared or skipped with the reason its probe gives.
    assert ran | set(skipped) == set(statuses) - {REFERENCE_BACKEND}
    for name, reason in skipped.items():
        assert not statuses[name].available and reason == statuses[name].reason
    assert "onnxruntime-cpu" in ran
    for result in report.results:
        assert [o.name for o in result.outputs] == ["logits", "distance_m"]
        assert all(o.tolerance == TOLERANCES[result.precision] for o in result.outputs)


def test_an_error_past_the_tolerance_fails_and_one_inside_passes():
    ref = {"y": np.array([1.0, -2.0, 0.0], np.float32)}
    tol = TOLERANCES["fp32"]
    inside = {"y": ref["y"] + np.float32(0.9) * (tol.atol + tol.rtol * np.abs(ref["y"]))}
    outside = {"y": ref["y"] + np.array([0.0, 0.0, 1.2 * tol.atol], np.float32)}
    (ok,) = compare_outputs(ref, inside, tol)
    (bad,) = compare_outputs(ref, outside, tol)
    assert ok.ok and ok.worst_fraction_of_tolerance == pytest.approx(0.9, rel=1e-3)
    assert not bad.ok and bad.worst_fraction_of_tolerance == pytest.approx(1.2, rel=1e-3)


def test_integer_outputs_must_be_equal_and_nan_must_be_where_the_reference_has_it():
    tol = TOLERANCES["fp16"]
    (same,) = compare_outputs({"k": np.array([1, 2])}, {"k": np.array([1, 2])}, tol)
    (off,) = compare_outputs({"k": np.array([1, 2])}, {"k": np.array([1, 3])}, tol)
    assert same.ok and not off.ok and "exact match" in off.problem
    (nan_ok,) = compare_outputs({"y": np.array([np.nan, 1.0])}, {"y": np.array([np.nan, 1.0])}, tol)
    (nan_bad,) = compare_outputs({"y": np.array([np.nan, 1.0])}, {"y": np.array([0.0, 1.0])}, tol)
    assert nan_ok.ok and not nan_bad.ok


def test_a_missing_or_misshapen_output_fails():
    tol = TOLERANCES["fp32"]
    (missing,) = compare_outputs({"y": np.zeros(2)}, {}, tol)
    (shape,) = compare_outputs({"y": np.zeros(2)}, {"y": np.zeros(3)}, tol)
    assert not missing.ok and missing.problem == "missing"
    assert not shape.ok and "shape" in shape.problem
