"""The six film looks by the names the command line uses, each a stock, format, development and finish.

=================  ================================  ==========  ===============  ==========
name               negative                          format      development      finish
=================  ================================  ==========  ===============  ==========
``35mm``           VISION3 500T 5219                 Super 35    normal           print 2383
``16mm``           VISION3 500T 7219                 Super 16    normal           print 2383
``super8``         VISION3 500T 7219 (Super 8)       Super 8     normal           print 2383
``push1``          VISION3 500T 5219, rated EI 1000  Super 35    push +1          print 2383
``push2``          VISION3 500T 5219, rated EI 2000  Super 35    push +2          print 2383
``bleach-bypass``  VISION3 500T 5219                 Super 35    bleach bypass    print 2383
=================  ================================  ==========  ===============  ==========

The three format looks share the stock (7219 is 5219's emulsion on 16 mm and Super 8 film), the
development and the print, so they differ by the gate alone: grain, halation spread and vignette.
The 16 mm and Super 8 looks are printed as a blow-up to 2383 (3383 is its 16 mm version); any of
them can be scanned instead by a spec with ``finish=SCAN``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from engines.style.film.errors import UnknownLookError
from engines.style.film.formats import SUPER8, SUPER16, SUPER35, FilmFormat
from engines.style.film.process import BLEACH_BYPASS, NORMAL, PUSH_1, PUSH_2, Development, Finish
from engines.style.film.stocks import VISION3_500T, VISION_2383, NegativeStock

__all__ = ["FilmLook", "LOOKS", "LOOK_NAMES", "look_spec", "as_look"]


@dataclass(frozen=True)
class FilmLook:
    """A film test's recipe: the negative, the camera gate, the development and the finish."""

    name: str
    stock: NegativeStock
    film_format: FilmFormat
    development: Development
    finish: Finish


#: The looks by name.
LOOKS = {
    look.name: look
    for look in (
        FilmLook("35mm", VISION3_500T, SUPER35, NORMAL, VISION_2383),
        FilmLook("16mm", VISION3_500T, SUPER16, NORMAL, VISION_2383),
        FilmLook("super8", VISION3_500T, SUPER8, NORMAL, VISION_2383),
        FilmLook("push1", VISION3_500T, SUPER35, PUSH_1, VISION_2383),
        FilmLook("push2", VISION3_500T, SUPER35, PUSH_2, VISION_2383),
        FilmLook("bleach-bypass", VISION3_500T, SUPER35, BLEACH_BYPASS, VISION_2383),
    )
}

#: The look names, in the order the command line lists them.
LOOK_NAMES = tuple(LOOKS)


def look_spec(name: str) -> FilmLook:
    """The look called ``name``; an unknown name raises :class:`UnknownLookError` listing the valid ones."""
    try:
        return LOOKS[name]
    except (KeyError, TypeError):
        raise UnknownLookError(f"unknown film look {name!r}; valid looks: {', '.join(LOOK_NAMES)}") from None


def as_look(look: Union[FilmLook, str]) -> FilmLook:
    """``look`` itself if it is a :class:`FilmLook`, else the look of that name."""
    return look if isinstance(look, FilmLook) else look_spec(look)
