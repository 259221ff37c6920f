"""The colour part of a look: identity, a transform worked by hand, serialisation, refusals."""

import json

import numpy as np
import pytest

from engines.style.model.colour import CURVE_KNOTS, OUT_DOMAIN, ColourTransform, apply_colour, identity_colour

#: A 3-knot transform small enough to follow by hand: input knots at sqrt(x) = 0, 0.5, 1; output
#: knots at v = -0.5, 0.5, 1.5.
HAND_IN = np.array([[0.0, 0.6, 1.0], [0.0, 0.5, 1.0], [0.0, 0.2, 1.0]])
HAND_MATRIX = np.array([[0.9, 0.1, 0.0], [0.0, 1.0, 0.0], [0.05, 0.05, 0.9]])
HAND_OUT = np.array([[-0.5, 0.5, 1.5], [0.0, 0.4, 1.4], [-0.2, 0.3, 1.0]])


def _hand() -> ColourTransform:
    return ColourTransform(HAND_IN, HAND_MATRIX, HAND_OUT)


def test_identity_changes_nothing():
    rgb = np.random.default_rng(1).random((20000, 3))
    out = apply_colour(rgb, identity_colour())
    # Exact at the input knots (x = (i / 32)^2); between them a chord of x = s^2 in s, off by at
    # most h^2 / 4 = 2.44e-4 (h = 1/32): a sixteenth of an 8-bit step.
    knots = np.linspace(0.0, 1.0, CURVE_KNOTS) ** 2
    np.testing.assert_allclose(apply_colour(np.stack([knots] * 3, axis=-1), identity_colour()),
                               np.stack([knots] * 3, axis=-1), atol=1e-6)
    assert np.abs(out - rgb).max() < 2.5e-4
    codes = np.arange(256) / 255.0
    np.testing.assert_array_equal(np.round(apply_colour(np.stack([codes] * 3, axis=-1), identity_colour()) * 255),
                                  np.round(np.stack([codes] * 3, axis=-1) * 255))


def test_a_transform_by_hand():
    x = np.array([[0.25, 0.25, 0.64], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    # row 0: s = (0.5, 0.5, 0.8); u = (0.6, 0.5, 0.2 + 0.6 * 0.8 = 0.68);
    #   v = (0.9 * 0.6 + 0.1 * 0.5, 0.5, 0.05 * 0.6 + 0.05 * 0.5 + 0.9 * 0.68) = (0.59, 0.5, 0.667);
    #   y = (0.59, 0.4, 0.3 + 0.167 * 0.7 = 0.4169)
    # row 1: u = v = (1, 1, 1); y = (1.0, 0.4 + 0.5, 0.3 + 0.5 * 0.7) = (1.0, 0.9, 0.65)
    # row 2: u = v = 0; y = (0.0, 0.4 - 0.5 * 0.4 = 0.2, 0.3 - 0.5 * 0.5 = 0.05)
    expected = np.array([[0.59, 0.4, 0.3 + (0.667 - 0.5) * 0.7], [1.0, 0.9, 0.65], [0.0, 0.2, 0.05]])
    out = apply_colour(x, _hand())
    assert out.dtype == np.float32 and out.shape == (3, 3)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_output_is_clipped_and_any_leading_shape_is_kept():
    brighten = ColourTransform(HAND_IN, np.eye(3) * 1.4, HAND_OUT)
    frame = np.random.default_rng(2).random((4, 5, 6, 3))
    out = apply_colour(frame, brighten)
    assert out.shape == frame.shape and out.min() >= 0.0 and out.max() == 1.0
    np.testing.assert_array_equal(out.reshape(-1, 3), apply_colour(frame.reshape(-1, 3), brighten))


def test_dict_round_trip_through_json():
    t = _hand()
    back = ColourTransform.from_dict(json.loads(json.dumps(t.to_dict())))
    for name in ("in_curves", "matrix", "out_curves"):
        np.testing.assert_array_equal(getattr(back, name), getattr(t, name))
    assert t.to_dict()["out_domain"] == list(OUT_DOMAIN)


def test_another_output_domain_is_refused():
    data = {**_hand().to_dict(), "out_domain": [0.0, 1.0]}
    with pytest.raises(ValueError, match=r"output curve domain \[0.0, 1.0\]"):
        ColourTransform.from_dict(data)


@pytest.mark.parametrize("in_curves, matrix, out_curves, message", [
    (HAND_IN[:2], HAND_MATRIX, HAND_OUT, r"in_curves must be \(3, K >= 2\).*\(2, 3\)"),
    (HAND_IN[:, :1], HAND_MATRIX, HAND_OUT, r"in_curves .*\(3, 1\)"),
    (HAND_IN, HAND_MATRIX, HAND_OUT.ravel(), r"out_curves .*\(9,\)"),
    (HAND_IN, HAND_MATRIX[:, :2], HAND_OUT, r"matrix must be 3x3.*\(3, 2\)"),
    (HAND_IN, np.where(np.eye(3) > 0, np.nan, 0.0), HAND_OUT, "must be finite"),
    (np.where(HAND_IN == 1.0, np.inf, HAND_IN), HAND_MATRIX, HAND_OUT, "must be finite"),
])
def test_bad_parts_are_refused(in_curves, matrix, out_curves, message):
    with pytest.raises(ValueError, match=message):
        ColourTransform(in_curves, matrix, out_curves)


def test_apply_needs_rgb():
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\).*\(4, 2\)"):
        apply_colour(np.zeros((4, 2)), identity_colour())


@pytest.mark.parametrize("matrix, crosstalk", [
    (np.eye(3), False),
    (np.diag([1.3, 0.8, 1.1]), False),
    (np.eye(3) + 5e-4 * (1 - np.eye(3)), False),
    (HAND_MATRIX, True),
    (np.eye(3) + np.array([[0, 0, 0], [0, 0, 0], [-0.01, 0, 0]]), True),
])
def test_has_crosstalk(matrix, crosstalk):
    assert ColourTransform(HAND_IN, matrix, HAND_OUT).has_crosstalk is crosstalk
