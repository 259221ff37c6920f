"""H&D curves: monotone within D-min..D-max, straight-line gamma, balanced stocks, checked specs."""

import dataclasses

import numpy as np
import pytest

from engines.style.film import (
    NEGATIVE_STOCKS,
    PRINT_STOCKS,
    VISION3_500T,
    VISION_2383,
    FilmSpecError,
    LayerCurve,
    layer_density,
)
from engines.style.film.stocks import layer_log_exposure

ALL_CURVES = [
    pytest.param(curve, id=f"{stock.codes}-{'RGB'[i]}")
    for stock in (*NEGATIVE_STOCKS.values(), *PRINT_STOCKS.values())
    for i, curve in enumerate(stock.layers)
]

LOG_H = np.linspace(-8.0, 8.0, 16001)


@pytest.mark.parametrize("curve", ALL_CURVES)
def test_every_curve_rises_with_exposure_between_its_d_min_and_d_max(curve):
    density = layer_density(curve, LOG_H)
    assert np.all(np.diff(density) >= 0.0)
    assert density.min() >= curve.d_min
    assert density.max() <= curve.d_max
    # The ends reach the limits: D-min in the toe, the shoulder toward D-max.
    assert density[0] - curve.d_min < 1e-6
    assert curve.d_max - layer_density(curve, np.array([curve.log_h_inertia + 30.0]))[0] < 1e-3


@pytest.mark.parametrize("curve", ALL_CURVES)
def test_the_straight_line_has_the_stated_gamma(curve):
    # The straight line is the curve's steepest part, between the toe and the shoulder.
    slope = np.diff(layer_density(curve, LOG_H)) / np.diff(LOG_H)
    assert slope.max() == pytest.approx(curve.gamma, rel=0.01)
    # It is straight: within 5 % of gamma over at least a 1.5 density span.
    straight = LOG_H[1:][slope > 0.95 * curve.gamma]
    assert (straight.max() - straight.min()) * curve.gamma > 1.5


@pytest.mark.parametrize("stock", list(NEGATIVE_STOCKS.values()), ids=lambda s: s.codes)
def test_a_negative_s_straight_line_spans_more_than_eleven_stops(stock):
    for curve in stock.layers:
        slope = np.diff(layer_density(curve, LOG_H)) / np.diff(LOG_H)
        straight = LOG_H[1:][slope > 0.95 * curve.gamma]
        assert (straight.max() - straight.min()) / np.log10(2.0) > 11.0


@pytest.mark.parametrize("curve", ALL_CURVES)
def test_log_exposure_inverts_the_curve(curve):
    log_h = np.linspace(curve.log_h_inertia - 0.5, curve.log_h_inertia + 2.0, 11)
    assert layer_log_exposure(curve, layer_density(curve, log_h)) == pytest.approx(log_h, abs=1e-9)


def test_the_500t_grey_card_sits_on_the_straight_line_about_0_75_above_d_min():
    for curve in VISION3_500T.layers:
        net = layer_density(curve, np.array([0.0]))[0] - curve.d_min
        assert net == pytest.approx(0.75, abs=0.03)


@pytest.mark.parametrize("negative", list(NEGATIVE_STOCKS.values()), ids=lambda s: s.codes)
@pytest.mark.parametrize("print_stock", list(PRINT_STOCKS.values()), ids=lambda s: s.codes)
def test_negative_and_print_gammas_multiply_to_the_same_contrast_in_each_channel(negative, print_stock):
    products = [n.gamma * p.gamma for n, p in zip(negative.layers, print_stock.layers)]
    assert max(products) / min(products) < 1.01


def test_the_negative_mask_makes_blue_d_min_highest_and_print_d_max_near_4():
    d_min = [c.d_min for c in VISION3_500T.layers]
    assert d_min[0] < d_min[1] < d_min[2]
    assert all(3.7 <= c.d_max <= 4.1 for c in VISION_2383.layers)


@pytest.mark.parametrize(
    "change, named",
    [({"d_max": 0.1}, "d_max=0.1"), ({"gamma": -0.6}, "gamma=-0.6"), ({"toe": 0.0}, "toe=0.0")],
)
def test_unphysical_curves_are_refused_naming_the_values(change, named):
    with pytest.raises(FilmSpecError, match=named):
        dataclasses.replace(VISION3_500T.layers[0], **change)


def test_a_density_outside_the_curve_cannot_be_inverted():
    curve = LayerCurve(d_min=0.2, d_max=2.6, gamma=0.6, log_h_inertia=-1.25, toe=0.1, shoulder=0.3)
    with pytest.raises(FilmSpecError, match="outside"):
        layer_log_exposure(curve, np.array([3.0]))
