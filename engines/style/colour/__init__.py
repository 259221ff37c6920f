"""The colour side of a look: input encodings, colour difference, and the files a look exports.

A look's colour part is a per-pixel function on Rec.709 display-referred RGB in [0, 1]. This
package turns it into what a set loads, and measures how well those files follow it:

- ``encodings``: the input encodings a LUT is baked for (``rec709``, ``logc3``, ``logc4``,
  ``slog3``) and :func:`to_look_domain`, which takes a log camera's code values through
  OpenColorIO's built-in transforms and a stated rendering into the look's domain;
- ``primaries``: the RGB/XYZ and white-adaptation matrices, from published chromaticities;
- ``delta_e``: CIEDE2000 between Rec.709 display-referred images (BT.1886 display light), with
  mean / p95 / max summaries;
- ``cube``: ``.cube`` 3D LUT files, written atomically (red fastest) and read strictly;
- ``bake``: :func:`bake_lut` samples the input encoding's lattice through a look;
  :func:`write_look_lut` writes it with a header naming look, encodings, size and software;
- ``cdl``, ``cc``: an ASC CDL fitted to a look (with its ΔE2000 against the look, and
  :func:`cdl_allowed` to decide whether to offer it) and its ``.cc`` file;
- ``check``: what ``onset style check-lut`` reports about a file, OpenColorIO included.

Tables are float32 (N, N, N, 3) indexed ``[r, g, b]``. Grain and halation are never in a LUT
(docs/luts.md). OpenColorIO is imported only when a log encoding or a file check needs it.
"""

from engines.style.colour.bake import LookFunction, apply_look, bake_lut, lattice, look_lut_comments, write_look_lut
from engines.style.colour.cc import CcFile, read_cc, write_cc
from engines.style.colour.cdl import (CDL_MAX_MEAN_DELTA_E, CDL_MAX_P95_DELTA_E, Cdl, CdlFit, apply_cdl, cdl_allowed,
                                      fit_cdl)
from engines.style.colour.check import LutReport, check_lut_file, format_report, report_json
from engines.style.colour.cube import LUT_SIZES, CubeFile, read_cube, write_cube
from engines.style.colour.delta_e import DeltaEStats, delta_e_2000, delta_e_2000_lab, delta_e_stats, rec709_display_to_lab
from engines.style.colour.encodings import (ENCODING_INFO, ENCODINGS, Encoding, decode_to_linear_rec709,
                                            render_to_display, to_look_domain)
from engines.style.colour.errors import (CdlFormatError, ColourError, ColourInputError, ColourWriteError,
                                         LookFunctionError, LutFormatError, LutSizeError, OcioLoadError,
                                         UnknownEncodingError)

__all__ = [
    # encodings
    "ENCODINGS",
    "ENCODING_INFO",
    "Encoding",
    "to_look_domain",
    "decode_to_linear_rec709",
    "render_to_display",
    # colour difference
    "DeltaEStats",
    "delta_e_2000",
    "delta_e_2000_lab",
    "delta_e_stats",
    "rec709_display_to_lab",
    # LUTs
    "LUT_SIZES",
    "CubeFile",
    "read_cube",
    "write_cube",
    "LookFunction",
    "lattice",
    "apply_look",
    "bake_lut",
    "look_lut_comments",
    "write_look_lut",
    # CDL
    "Cdl",
    "CdlFit",
    "CDL_MAX_MEAN_DELTA_E",
    "CDL_MAX_P95_DELTA_E",
    "apply_cdl",
    "fit_cdl",
    "cdl_allowed",
    "CcFile",
    "read_cc",
    "write_cc",
    # checks
    "LutReport",
    "check_lut_file",
    "format_report",
    "report_json",
    # errors
    "ColourError",
    "UnknownEncodingError",
    "ColourInputError",
    "LookFunctionError",
    "LutSizeError",
    "LutFormatError",
    "CdlFormatError",
    "ColourWriteError",
    "OcioLoadError",
]
