"""Registration of synthetic film scans onto their controls: accuracy, metrics and every verdict."""

from __future__ import annotations

import numpy as np
import pytest

from engines.style.pairs import Verdict, map_points, register_pair, transform_shape
from engines.style.pairs import register as register_module
from engines.style.pairs.geometry import coverage
from engines.style.pairs.residual import block_residual
from engines.style.pairs.structure import local_contrast_normalised, luminance
from tests.engines.style.pairs import synth
from tests.engines.style.pairs.conftest import CONTROL_SIZE, TEST_SIZE


def _max_error_px(H: np.ndarray, H_truth: np.ndarray) -> float:
    """Largest distance, test px, between where ``H`` and the truth put the covered control pixels."""
    covered = coverage(H_truth, CONTROL_SIZE, TEST_SIZE, 0.0)
    y, x = np.nonzero(covered[::4, ::4])
    points = np.stack([4 * x, 4 * y], axis=1).astype(np.float64)
    return float(np.max(np.linalg.norm(map_points(H, points) - map_points(H_truth, points), axis=1)))


def test_recovers_the_truth_to_a_tenth_of_a_pixel(standard, standard_registration):
    registration = standard_registration
    assert registration.verdict is Verdict.REGISTERED and registration.detail == ""
    # Measured: 0.083 px at most over the covered control (1.07x, 2.5 deg, (13, -8) px, a perspective
    # tilt moving the corners ~4 px off a similarity, grain, vignette, a look).
    assert _max_error_px(registration.H_test_control, standard.H_test_control) < 0.25


def test_the_feature_guess_alone_is_not_enough(standard):
    """The perspective in the truth is what ECC is for: a similarity misses it by pixels (the truth's
    own similarity part by 4.3 px; the feature guess measures 3.8 px)."""
    H_similarity = synth.truth_homography(CONTROL_SIZE, TEST_SIZE, perspective=(0.0, 0.0))
    assert _max_error_px(H_similarity, standard.H_test_control) > 2.0


def test_metrics_describe_the_pair(standard_registration):
    m = standard_registration.metrics
    assert m.scale == pytest.approx(1.07, abs=0.002)
    assert m.rotation_deg == pytest.approx(2.5, abs=0.02)
    assert m.anisotropy < 1.005
    assert 1.0 < m.perspective_ratio < 1.1
    assert m.inliers >= 500 and m.inlier_ratio > 0.8  # measured 793 of 872
    assert m.ecc_correlation > 0.85  # measured 0.896
    assert m.residual_px < 0.15 and m.residual_p90_px < 0.4  # measured 0.07 / 0.20
    assert m.residual_blocks >= 20
    assert 0.5 < m.inlier_rms_px < 2.0  # keypoint localisation, measured 1.09
    assert m.misregistration_px == m.residual_p90_px


def test_a_scan_larger_than_the_working_size_is_registered_at_full_size(standard, monkeypatch):
    """A scan over MAX_WORKING_SIDE_PX is registered reduced; the transform comes back at full size."""
    monkeypatch.setattr(register_module, "MAX_WORKING_SIDE_PX", 400)
    registration = register_pair(standard.control, standard.test)
    assert registration.registered, registration.detail
    # Measured: 0.36 px (working at 400 px, i.e. 0.625x).
    assert _max_error_px(registration.H_test_control, standard.H_test_control) < 0.5


def test_a_control_blown_out_over_most_of_its_frame_still_registers(standard):
    """Clipped pixels take no part: over all of the frame, the white would correlate with the
    film's detail there at zero and ECC would not converge."""
    control = standard.control.copy()
    control[:, 200:] = 1.0
    registration = register_pair(control, standard.test)
    assert registration.registered, registration.detail
    points = np.array([[30.0, 30.0], [190.0, 30.0], [30.0, 330.0], [190.0, 330.0], [100.0, 180.0]])
    error = np.linalg.norm(map_points(registration.H_test_control, points) - map_points(standard.H_test_control,
                                                                                         points), axis=1)
    assert error.max() < 0.5  # measured 0.28 px over the unclipped third; ECC correlation 0.85


def test_a_residual_shift_is_measured(standard):
    shifted = np.array([[1.0, 0.0, 0.7], [0.0, 1.0, -0.4], [0.0, 0.0, 1.0]])
    z_c = local_contrast_normalised(luminance(standard.control))
    z_t = local_contrast_normalised(luminance(standard.test))
    residual = block_residual(z_c, z_t, standard.H_test_control @ shifted, 1.0)
    # Measured: median 0.79 px for a 0.81 px shift.
    assert residual.median_px == pytest.approx(np.hypot(0.7, 0.4), abs=0.1)


def _unrelated(standard):
    other, _ = synth.standard_pair(seed=99)
    return standard.control, other.test


def _flat_grey(standard):
    return standard.control, np.full_like(standard.test, 0.5)


def _rotated_90(standard):
    return standard.control, np.ascontiguousarray(np.rot90(synth.film_look(standard.control)))


def _tiny(standard):
    return standard.control[:100, :120], standard.test[:90, :110]


def _scaled_2_5(standard):
    canvas = synth.scene(720, 420, 7)
    H = synth.truth_homography(CONTROL_SIZE, TEST_SIZE, scale=2.5)
    return standard.control, synth.scan(canvas, (40, 30), CONTROL_SIZE, TEST_SIZE, H, 3).test


def _squeezed(standard):
    canvas = synth.scene(720, 420, 7)
    squeeze = np.diag([1.2, 1.0, 1.0])
    H = synth.truth_homography(CONTROL_SIZE, TEST_SIZE, perspective=(0.0, 0.0)) @ squeeze
    return standard.control, synth.scan(canvas, (40, 30), CONTROL_SIZE, TEST_SIZE, H, 3).test


@pytest.mark.parametrize("make, verdict, words", [
    (_unrelated, Verdict.TOO_FEW_INLIERS, "agree on one similarity"),
    (_flat_grey, Verdict.TOO_FEW_FEATURES, "0 in the test"),
    (_rotated_90, Verdict.IMPLAUSIBLE_TRANSFORM, "rotates by -90.0 deg"),
    (_scaled_2_5, Verdict.IMPLAUSIBLE_TRANSFORM, "test px per control px, outside [0.5, 2.0]"),
    (_squeezed, Verdict.IMPLAUSIBLE_TRANSFORM, "shears or squeezes by 1.2"),
    (_tiny, Verdict.TOO_SMALL, "at least 128 px"),
], ids=["unrelated", "flat-grey", "rotated-90", "scaled-2.5", "squeezed-1.2", "tiny"])
def test_unregistrable_pairs_say_why(standard, make, verdict, words):
    control, test = make(standard)
    registration = register_pair(control, test)
    assert registration.verdict is verdict
    assert words in registration.detail
    assert registration.H_test_control is None and not registration.registered


def test_ecc_that_does_not_converge_is_a_verdict(standard, monkeypatch):
    def diverge(*args, **kwargs):
        raise register_module.cv2.error("The algorithm stopped before its convergence.")

    monkeypatch.setattr(register_module.cv2, "findTransformECC", diverge)
    monkeypatch.setattr(register_module.cv2, "findTransformECCWithMask", diverge, raising=False)
    registration = register_pair(standard.control, standard.test)
    assert registration.verdict is Verdict.ECC_FAILED
    assert "did not converge" in registration.detail and registration.metrics.inliers > 0


def test_ecc_that_wanders_off_the_feature_guess_is_a_verdict(standard, monkeypatch):
    monkeypatch.setattr(register_module, "MAX_ECC_DRIFT", 1e-4)
    registration = register_pair(standard.control, standard.test)
    assert registration.verdict is Verdict.ECC_FAILED and "moved the control's corners" in registration.detail


def test_a_correlation_under_the_threshold_is_a_verdict(standard, monkeypatch):
    monkeypatch.setattr(register_module, "MIN_ECC_CORRELATION", 0.95)
    registration = register_pair(standard.control, standard.test)
    assert registration.verdict is Verdict.LOW_CORRELATION and "under 0.95" in registration.detail


def test_transform_shape_of_a_known_map():
    H = synth.truth_homography((640, 360), (640, 360), scale=0.8, rotation_deg=-7.0, perspective=(0.0, 0.0))
    shape = transform_shape(H, (640, 360))
    assert shape.scale == pytest.approx(0.8) and shape.rotation_deg == pytest.approx(-7.0)
    assert shape.anisotropy == pytest.approx(1.0) and shape.perspective_ratio == pytest.approx(1.0)
    assert not shape.mirrored
    mirrored = transform_shape(np.diag([-1.0, 1.0, 1.0]), (640, 360))
    assert mirrored.mirrored
    squeezed = transform_shape(np.diag([1.2, 1.0, 1.0]), (640, 360))
    assert squeezed.anisotropy == pytest.approx(1.2)
