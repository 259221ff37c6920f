"""Shared synthetic pairs (synth.py), built once per session: registration takes ~0.3 s a pair."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from engines.style.pairs import Agreement, Registration, agreement_mask, register_pair, warp_test
from tests.engines.style.pairs import synth

CONTROL_SIZE = (640, 360)
TEST_SIZE = (600, 345)

#: Regions of the edited control (y slice, x slice): a textured object and a flat one that only the
#: control has, and a blown-out window (all channels 1.0) that only the control has.
TEXTURED_OBJECT = (slice(60, 130), slice(430, 500))
FLAT_OBJECT = (slice(200, 290), slice(420, 540))
BLOWN_WINDOW = (slice(200, 240), slice(60, 120))


@dataclass(frozen=True)
class Edited:
    """The standard pair with objects pasted into the control, registered and masked."""

    control: np.ndarray
    test: np.ndarray
    H_truth: np.ndarray
    registration: Registration
    test_warped: np.ndarray
    agreement: Agreement


@pytest.fixture(scope="session")
def standard() -> synth.Pair:
    pair, _ = synth.standard_pair()
    return pair


@pytest.fixture(scope="session")
def standard_canvas() -> np.ndarray:
    _, canvas = synth.standard_pair()
    return canvas


@pytest.fixture(scope="session")
def standard_registration(standard) -> Registration:
    return register_pair(standard.control, standard.test)


@pytest.fixture(scope="session")
def edited(standard) -> Edited:
    control = standard.control.copy()
    control[TEXTURED_OBJECT] = synth.scene(70, 70, 123)
    control[FLAT_OBJECT] = (0.2, 0.3, 0.8)
    control[BLOWN_WINDOW] = 1.0
    registration = register_pair(control, standard.test)
    assert registration.registered, registration.detail
    test_warped = warp_test(standard.test, registration.H_test_control, CONTROL_SIZE)
    agreement = agreement_mask(control, test_warped, registration.H_test_control, TEST_SIZE,
                               registration.metrics.misregistration_px)
    return Edited(control, standard.test, standard.H_test_control, registration, test_warped, agreement)
