"""The agreement mask on a registered synthetic pair whose control has things the test does not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engines.style.pairs import MIN_AGREEMENT_FRACTION, agreement_mask, register_pair, warp_test
from engines.style.pairs.agreement import BORDER_MARGIN_PX
from engines.style.pairs.geometry import coverage
from tests.engines.style.pairs import synth
from tests.engines.style.pairs.conftest import BLOWN_WINDOW, CONTROL_SIZE, FLAT_OBJECT, TEST_SIZE, TEXTURED_OBJECT


def test_an_object_only_the_control_has_is_dropped(edited):
    mask = edited.agreement.mask
    # Measured: 0.2 % of the textured object's pixels kept, none of the flat one's (its inside is
    # enclosed by its disagreeing outline; without that rule 34 % of it would be kept).
    assert mask[TEXTURED_OBJECT].mean() < 0.02
    assert mask[FLAT_OBJECT].mean() < 0.02


def test_the_border_the_warp_brings_in_is_dropped(edited):
    """No kept pixel lies outside the test's true coverage, nor within the margin of either edge."""
    mask = edited.agreement.mask
    inside_truth = coverage(edited.H_truth, CONTROL_SIZE, TEST_SIZE, BORDER_MARGIN_PX - 0.5)
    assert not (mask & ~inside_truth).any()
    outside_truth = ~coverage(edited.H_truth, CONTROL_SIZE, TEST_SIZE, 0.0)
    assert outside_truth.mean() > 0.2  # the warp really leaves a border: measured 0.27 of the frame
    inside_margin = coverage(edited.H_truth, CONTROL_SIZE, TEST_SIZE, BORDER_MARGIN_PX)
    assert edited.agreement.stats.outside == pytest.approx(1.0 - inside_margin.mean(), abs=0.002)


def test_a_practical_clipped_in_the_control_takes_its_halation_margin(standard_canvas):
    """A lamp blown out in the digital frame but held by the film: the pixels 2-4 px around it agree
    in structure and are not edges, and only the halation margin (1 % of 360 px: 4 px) drops them."""
    canvas = standard_canvas.copy()
    canvas[150:190, 300:360] = 1.0  # control pixels [120:160, 260:320]
    H = synth.truth_homography(CONTROL_SIZE, TEST_SIZE)
    pair = synth.scan(canvas, (40, 30), CONTROL_SIZE, TEST_SIZE, H, 11)
    registration = register_pair(pair.control, pair.test)
    assert registration.registered, registration.detail
    warped = warp_test(pair.test, registration.H_test_control, CONTROL_SIZE)
    agreement = agreement_mask(pair.control, warped, registration.H_test_control, TEST_SIZE,
                               registration.metrics.misregistration_px)
    lamp = np.zeros(agreement.mask.shape, dtype=np.uint8)
    lamp[120:160, 260:320] = 1

    def ring(inner: int, outer: int) -> np.ndarray:
        grown = [cv2.dilate(lamp, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
                 for r in (inner, outer)]
        return grown[1].astype(bool) & ~grown[0].astype(bool)

    assert not agreement.mask[ring(1, 4)].any()
    assert agreement.mask[ring(6, 12)].mean() > 0.5  # beyond the margin the mask goes on


def test_the_black_outside_the_warp_makes_no_disagreement(standard, standard_registration):
    """Just inside the border margin the mask keeps as much as deeper in: the band-pass is taken over
    the covered pixels only, so the edge between the warped test and its black surround is no edge."""
    r = standard_registration
    warped = warp_test(standard.test, r.H_test_control, CONTROL_SIZE)
    agreement = agreement_mask(standard.control, warped, r.H_test_control, TEST_SIZE, r.metrics.misregistration_px)
    near = coverage(standard.H_test_control, CONTROL_SIZE, TEST_SIZE, BORDER_MARGIN_PX) & ~coverage(
        standard.H_test_control, CONTROL_SIZE, TEST_SIZE, 3 * BORDER_MARGIN_PX)
    deep = coverage(standard.H_test_control, CONTROL_SIZE, TEST_SIZE, 3 * BORDER_MARGIN_PX)
    # Measured: 0.948 kept in the band 8-24 px inside, 0.944 deeper (0.49 in the band with a plain blur).
    assert agreement.mask[near].mean() > 0.85 and agreement.mask[deep].mean() > 0.85


def test_clipped_pixels_are_dropped(edited):
    mask = edited.agreement.mask
    clipped = (edited.control >= 0.99).any(axis=2) | (edited.control <= 0.01).any(axis=2)
    assert clipped[BLOWN_WINDOW].all()
    assert not (mask & clipped).any()
    assert edited.agreement.stats.clipped > 0.005  # measured 0.014: the window and its halation margin


def test_clipping_in_the_test_alone_is_dropped(standard, standard_registration):
    """A patch blown out in the film scan only: the structure is flat in both, so only the clip rule catches it."""
    test = standard.test.copy()
    test[150:200, 250:320] = 1.0
    H = standard_registration.H_test_control
    warped = warp_test(test, H, CONTROL_SIZE)
    agreement = agreement_mask(standard.control, warped, H, TEST_SIZE, 0.2)
    blown = (warped >= 0.99).any(axis=2)
    assert blown.sum() > 2000
    assert not (agreement.mask & blown).any()
    # and the halation margin around it: 1 % of the 360 px side, 4 px
    halo = cv2.dilate(blown.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert not (agreement.mask & halo).any()
    assert agreement.mask[145:205, 240:330].any()  # the margin is not the whole neighbourhood


def test_colours_under_the_mask_follow_the_known_look(edited):
    """test_warped = vignette x look(control) + grain wherever the mask keeps a pixel."""
    mask = edited.agreement.mask
    gain = cv2.warpPerspective(synth.vignette(TEST_SIZE), edited.registration.H_test_control, CONTROL_SIZE,
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    predicted = (synth.film_look(edited.control) * gain[..., None])[mask]
    measured = edited.test_warped[mask]
    residual = measured - predicted
    # Measured: |median| under 1e-4 per channel, MAD 0.0075 (the grain), 99th percentile 0.030.
    assert np.all(np.abs(np.median(residual, axis=0)) < 0.003)
    assert np.all(np.percentile(np.abs(residual), 99, axis=0) < 0.045)
    for channel in range(3):  # per-channel medians of the measured value in bins of the predicted one
        bins = np.digitize(predicted[:, channel], np.linspace(0.1, 0.9, 9))
        for b in np.unique(bins):
            chosen = bins == b
            if chosen.sum() >= 200:
                gap = np.median(measured[chosen, channel]) - np.median(predicted[chosen, channel])
                assert abs(gap) < 0.01, (channel, b, gap)


def test_kept_fraction_and_stats_add_up(edited):
    stats = edited.agreement.stats
    total = stats.fraction + stats.outside + stats.clipped + stats.disagree + stats.edge
    assert total == pytest.approx(1.0)
    assert stats.fraction == pytest.approx(edited.agreement.mask.mean())
    assert 0.5 < stats.fraction < 0.7  # measured 0.60
    assert stats.fraction > MIN_AGREEMENT_FRACTION


def test_edges_are_dropped_by_the_misregistration(edited):
    """A larger residual drops more pixels near colour edges; the rest of the mask is unchanged."""
    e = edited
    wide = agreement_mask(e.control, e.test_warped, e.registration.H_test_control, TEST_SIZE, 3.0)
    assert wide.stats.edge > e.agreement.stats.edge + 0.05
    assert not (wide.mask & ~e.agreement.mask).any()
    edge_strength = np.abs(cv2.Laplacian(e.control, cv2.CV_32F)).max(axis=2)
    assert edge_strength[wide.mask].mean() < edge_strength[e.agreement.mask].mean()


def test_an_overexposed_scan_keeps_little(standard):
    """A scan printed two stops hot: it still registers on its shadows, but most of it is clipped."""
    test = np.clip(standard.test * 2.0, 0.0, 1.0)
    registration = register_pair(standard.control, test)
    assert registration.registered, registration.detail
    warped = warp_test(test, registration.H_test_control, CONTROL_SIZE)
    agreement = agreement_mask(standard.control, warped, registration.H_test_control, TEST_SIZE,
                               registration.metrics.misregistration_px)
    # Measured: 0.107 kept, 0.60 clipped (against 0.60 kept, 0.014 clipped for the exposure as shot).
    assert agreement.fraction < 0.15 and agreement.stats.clipped > 0.5
