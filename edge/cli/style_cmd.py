"""``onset style``: the style engine's looks and the files they export (docs/luts.md).

Each sub-command is a pair of functions: ``_add_<verb>(verbs)`` declares its arguments and
``_<verb>(args)`` runs it; :data:`_SUBCOMMANDS` lists the declarers in the order ``--help`` shows
them, so a new verb is two functions and one entry there. The colour package is imported only
when a command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable, List

__all__ = ["register", "EXIT_CORRUPT"]

#: Exit status of a command given a file that is corrupt, or that OpenColorIO refuses.
EXIT_CORRUPT = 2

_FORMAT = argparse.RawDescriptionHelpFormatter

_DESCRIPTION = """\
The style engine learns film looks from paired comparisons. A look's colour part is a function of
one colour; it leaves the engine as files a set loads:

  .cube  a 3D LUT (Resolve/Adobe format): a lattice of N x N x N input colours (N = 17, 33 or 65)
         and the look's output at each, red changing fastest; players interpolate between points.
         OpenColorIO, Resolve and on-set LUT boxes load it.
  .cc    an ASC CDL (slope, offset, power per channel and a saturation) that approximates the look,
         offered only when it comes close (its ΔE2000 against the look is in its description).

A LUT is baked for an input encoding, the camera signal it expects:
  rec709  Rec.709 display-referred (BT.709 OETF, Rec.709 primaries, D65): the look's own domain
  logc3   ARRI LogC3, EI 800, ARRI Wide Gamut 3
  logc4   ARRI LogC4, ARRI Wide Gamut 4
  slog3   Sony S-Log3, S-Gamut3.Cine
Log code values are decoded through OpenColorIO's built-in camera transforms and rendered to
Rec.709 display-referred; the output is always Rec.709 display-referred. Grain and halation
depend on neighbouring pixels and on time, so they are never in a LUT.
"""


def _check_lut(args: argparse.Namespace) -> int:
    from engines.style.colour import ColourError, check_lut_file, format_report, report_json

    try:
        report = check_lut_file(args.file)
    except ColourError as err:
        print(f"onset style check-lut: {err}", file=sys.stderr)
        return EXIT_CORRUPT
    if args.json:
        print(json.dumps(report_json(report), indent=2))
    else:
        print(format_report(report))
    return 0


def _add_check_lut(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "check-lut", help="validate a .cube or .cc and load it with OpenColorIO", formatter_class=_FORMAT,
        description="Read FILE strictly (every problem is named with its line) and print what it holds: for a\n"
                    ".cube the size, domain, title, header comments (the input encoding among them), the\n"
                    "value range, whether each channel rises along the grey axis; for a .cc the slope,\n"
                    "offset, power and saturation. Then load it with OpenColorIO, as a LUT box would, and\n"
                    "compare its output with the file's own numbers.\n\n"
                    f"Exit status: 0 the file is good; {EXIT_CORRUPT} it is corrupt or OpenColorIO refuses it.",
        epilog="examples:\n  onset style check-lut looks/kodak-5219-logc3-33.cube\n"
               "  onset style check-lut looks/kodak-5219.cc --json")
    parser.add_argument("file", metavar="FILE", help="a .cube 3D LUT or a .cc ASC CDL")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=_check_lut)


#: The declarers of ``onset style``'s sub-commands, in ``--help`` order.
_SUBCOMMANDS: List[Callable[[argparse._SubParsersAction], None]] = [_add_check_lut]


def register(groups: argparse._SubParsersAction) -> None:
    """Add ``onset style`` and its sub-commands to the top-level ``groups``."""
    group = groups.add_parser("style", help="the style engine's looks: LUT and CDL files", formatter_class=_FORMAT,
                              description=_DESCRIPTION,
                              epilog="examples:\n  onset style check-lut look.cube\n"
                                     "  onset style check-lut look.cc --json")
    verbs = group.add_subparsers(dest="style_verb", metavar="VERB")
    verbs.required = True
    for add in _SUBCOMMANDS:
        add(verbs)
