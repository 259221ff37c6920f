"""Development (normal, push, bleach bypass), dye crosstalk, and the finish (print or scan).

**Exposure.** A look's negative sees the relative exposure ``e`` (1.0 = the grey card exposed
for the stock's rated EI; any extra exposure asked for already in) at
``x = log10 max(e, 2^-20) - n log10 2``, ``n`` the push: a negative to be pushed ``n`` stops is
rated at EI x 2^n, i.e. underexposed by ``n`` stops. The floor (20 stops under the grey card) is
far down the toe, where every curve is flat at D-min.

**Push processing** (longer first development), per stop pushed (values chosen for the direction
and rough size of the effects pushed VISION3 shows, not taken from a data sheet): the
straight-line gamma x (1 + 0.12 n), pivoting on the inertia point; a speed gain of 0.2 log H
(2/3 stop) per stop, so the shadows still lose a third of a stop per stop pushed; fog +0.04
density per stop on every layer (D-min up); RMS granularity x 1.2^n. At the grey card a push 1 negative lands 0.77 above its D-min (normal 0.75).

**Dye crosstalk.** A dye absorbs outside its own band (cyan some green and blue, magenta a good
deal of blue), so the density read in each channel mixes the three dye amounts. The model is one
3x3 mix ``C`` on net densities (density above the developed D-min): the net unwanted absorption
of the negative (what its coloured-coupler mask leaves) and of the print dyes, referred to the
negative. Measured channel from dye (rows R, G, B; columns cyan, magenta, yellow), before each row
is scaled to sum to 1 so that a neutral (equal net densities) stays neutral::

    R  1.00 0.05 0.01
    G  0.10 1.00 0.05
    B  0.06 0.18 1.00

The numbers are chosen from the general shape of the published spectral dye density curves
(magenta's blue absorption the largest), not fitted to them.

**Bleach bypass** (skip the bleach of the negative): the developed silver stays in the film as a
neutral density. Silver is proportional to the dye each layer developed, so it adds
``k mean(net)`` to all three channels: ``S = I + (k/3) 1 1^T`` with ``k = 0.5``. Neutral contrast
rises by ``1 + k`` (x1.5); a colour's channel differences stay, so relative to its much higher
contrast the picture is less saturated and its colours run into the print's toe and shoulder
sooner. The total mix is ``M = S C``; with ``k = 0`` it is ``C``.

**Print.** The print is exposed through the negative: print log exposure ``b_c - D_c`` for
channel ``c`` (``D_c`` the negative's density, ``b_c`` the printer light in log10). The printer
lights are *timed*: chosen so that the grey card, at the look's rating, prints to net density
``-log10 0.18 = 0.745`` in each channel, so it shows neutral at 18 % of the print's clear-film
white, the display encoding's grey (a lab's aim is about 1.0 visual density; 0.745 keeps the
control's grey where it was). The print's transmittance relative to clear film,
``10^-(P_c - D_min,c)``, is the linear output (1.0 = clear film = display white).

**Scan** (linear in density): the scanner reads the negative's densities and the inversion divides
by each layer's normal-development gamma about the grey card: linear
``0.18 10^((D_c - D_c,grey) / gamma_c)``. A pushed or bleach-bypassed negative keeps its extra
contrast; toe, shoulder and crosstalk stay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

import numpy as np

from engines.style.film.errors import FilmSpecError
from engines.style.film.stocks import Layers, LayerCurve, NegativeStock, PrintStock, layer_density, layer_log_exposure

__all__ = [
    "Development",
    "Scan",
    "Finish",
    "NORMAL",
    "PUSH_1",
    "PUSH_2",
    "BLEACH_BYPASS",
    "SCAN",
    "EXPOSURE_FLOOR",
    "GREY_PRINT_NET_DENSITY",
    "UNWANTED_ABSORPTION",
    "crosstalk_matrix",
    "mix_matrix",
    "developed_layers",
    "film_log_exposure",
    "net_density",
    "grey_net_density",
    "printer_lights",
    "finish_linear",
]

GAMMA_GAIN_PER_PUSH_STOP = 0.12
SPEED_GAIN_LOG_H_PER_PUSH_STOP = 0.2
FOG_DENSITY_PER_PUSH_STOP = 0.04
GRAIN_GAIN_PER_PUSH_STOP = 1.2

#: Smallest relative exposure the negative is evaluated at (20 stops under the grey card).
EXPOSURE_FLOOR = 2.0**-20

#: Net print density of the timed grey card: 18 % transmittance.
GREY_PRINT_NET_DENSITY = -math.log10(0.18)

#: Unwanted absorptions, measured channel (rows R, G, B) from dye (columns C, M, Y), before row scaling.
UNWANTED_ABSORPTION = ((1.00, 0.05, 0.01), (0.10, 1.00, 0.05), (0.06, 0.18, 1.00))

_LOG10_2 = math.log10(2.0)


@dataclass(frozen=True)
class Development:
    """How the negative is processed: ``push_stops`` (0, 1, 2: rated at EI x 2^n and developed
    longer) and ``silver_retention`` (0 normal; the bleach-bypass silver density per unit mean
    net dye density)."""

    name: str
    push_stops: int = 0
    silver_retention: float = 0.0

    def __post_init__(self) -> None:
        if not (0 <= self.push_stops <= 3 and 0.0 <= self.silver_retention <= 2.0):
            raise FilmSpecError(
                f"development {self.name!r} needs 0 <= push_stops <= 3 and 0 <= silver_retention <= 2, "
                f"got {self.push_stops}, {self.silver_retention}"
            )

    @property
    def grain_gain(self) -> float:
        """Factor on the RMS granularity from pushing."""
        return GRAIN_GAIN_PER_PUSH_STOP**self.push_stops


@dataclass(frozen=True)
class Scan:
    """A negative scanned linearly in density and inverted about the grey card (no print)."""


#: What turns the negative into the picture: a print film, or a scan.
Finish = Union[PrintStock, Scan]

NORMAL = Development("normal")
PUSH_1 = Development("push +1", push_stops=1)
PUSH_2 = Development("push +2", push_stops=2)
BLEACH_BYPASS = Development("bleach bypass", silver_retention=0.5)
SCAN = Scan()


def crosstalk_matrix() -> np.ndarray:
    """:data:`UNWANTED_ABSORPTION` with each row scaled to sum to 1 (3, 3) float64."""
    raw = np.asarray(UNWANTED_ABSORPTION, dtype=np.float64)
    return raw / raw.sum(axis=1, keepdims=True)


def mix_matrix(development: Development) -> np.ndarray:
    """The density mix ``M = S C`` (3, 3) on net densities: crosstalk, then retained silver."""
    silver = np.eye(3) + development.silver_retention / 3.0 * np.ones((3, 3))
    return silver @ crosstalk_matrix()


def developed_layers(stock: NegativeStock, development: Development) -> Layers:
    """The negative's layer curves after ``development`` (push: gamma, speed and fog)."""
    n = development.push_stops
    return tuple(  # type: ignore[return-value]
        LayerCurve(
            d_min=c.d_min + FOG_DENSITY_PER_PUSH_STOP * n,
            d_max=c.d_max + FOG_DENSITY_PER_PUSH_STOP * n,
            gamma=c.gamma * (1.0 + GAMMA_GAIN_PER_PUSH_STOP * n),
            log_h_inertia=c.log_h_inertia - SPEED_GAIN_LOG_H_PER_PUSH_STOP * n,
            toe=c.toe,
            shoulder=c.shoulder,
        )
        for c in stock.layers
    )


def film_log_exposure(relative_exposure: np.ndarray, development: Development) -> np.ndarray:
    """log10 exposure on the negative for relative exposures ``e`` (1.0 = grey card, any extra
    exposure already in), the push's under-rating applied; float64."""
    e = np.maximum(np.asarray(relative_exposure, dtype=np.float64), EXPOSURE_FLOOR)
    return np.log10(e) - development.push_stops * _LOG10_2


def net_density(log_h: np.ndarray, layers: Layers) -> np.ndarray:
    """Each layer's density above its D-min at log10 exposures ``log_h`` (..., 3), float64."""
    out = np.empty(np.shape(log_h), dtype=np.float64)
    for c, curve in enumerate(layers):
        out[..., c] = layer_density(curve, log_h[..., c]) - curve.d_min
    return out


def grey_net_density(layers: Layers, development: Development) -> np.ndarray:
    """Mixed net densities (3,) of the grey card at the look's rating (no extra exposure)."""
    log_h = film_log_exposure(np.ones(3), development)
    return mix_matrix(development) @ net_density(log_h, layers)


def printer_lights(layers: Layers, development: Development, print_stock: PrintStock) -> np.ndarray:
    """log10 printer lights (3,) that print the grey card to :data:`GREY_PRINT_NET_DENSITY` in each channel."""
    grey_negative = np.array([c.d_min for c in layers]) + grey_net_density(layers, development)
    aim = np.array([c.d_min + GREY_PRINT_NET_DENSITY for c in print_stock.layers])
    return np.array([layer_log_exposure(p, aim[i]) for i, p in enumerate(print_stock.layers)]) + grey_negative


def finish_linear(
    mixed_net: np.ndarray,
    layers: Layers,
    stock: NegativeStock,
    development: Development,
    finish: Finish,
    lights: np.ndarray,
) -> np.ndarray:
    """Linear output (..., 3) float64 from the negative's mixed net densities; ``lights`` are the
    :func:`printer_lights` for a print, or the grey card's :func:`grey_net_density` for a scan."""
    out = np.empty(np.shape(mixed_net), dtype=np.float64)
    if isinstance(finish, Scan):
        for c, curve in enumerate(stock.layers):
            out[..., c] = 0.18 * 10.0 ** ((mixed_net[..., c] - lights[c]) / curve.gamma)
        return out
    for c, curve in enumerate(finish.layers):
        print_log_h = lights[c] - (layers[c].d_min + mixed_net[..., c])
        out[..., c] = 10.0 ** -(layer_density(curve, print_log_h) - curve.d_min)
    return out
