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
from pathlib import Path
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


def _style_errors():
    from edge.cli.style_engine_cmd import style_errors

    return style_errors()


def _export_lut(args: argparse.Namespace) -> int:
    from engines.style.colour import cdl_allowed, fit_cdl, write_cc, write_look_lut
    from engines.style.model.look import colour_only
    from engines.style.model.shipped import resolve_look

    try:
        look = resolve_look(args.look)
        out = Path(args.output).expanduser()
        write_look_lut(lambda rgb: colour_only(rgb, look), out, args.size, args.input, look.name)
        print(f"{look.name}: {args.size}^3 LUT for {args.input} input -> {out}")
        if args.cdl:
            fit = fit_cdl(lambda rgb: colour_only(rgb, look), args.input)
            verdict = "offered" if cdl_allowed(fit) else "NOT offered: too far from the look"
            print(f"{look.name}: ASC CDL approximation, ΔE2000 against the look mean {fit.delta_e.mean:.2f}, "
                  f"p95 {fit.delta_e.p95:.2f}: {verdict}")
            if cdl_allowed(fit) or args.force_cdl:
                write_cc(Path(args.cdl).expanduser(), fit.cdl, look_name=look.name, encoding=args.input,
                         delta_e=fit.delta_e)
                print(f"  -> {args.cdl}")
        return 0
    except _style_errors() as err:
        print(f"onset style export-lut: {err}", file=sys.stderr)
        return EXIT_CORRUPT if "LutSize" in type(err).__name__ else 1


def _add_export_lut(verbs: argparse._SubParsersAction) -> None:
    from engines.style.colour import ENCODINGS, LUT_SIZES

    parser = verbs.add_parser(
        "export-lut", help="write a look's colour as a .cube 3D LUT (and an ASC CDL where it comes close)",
        formatter_class=_FORMAT,
        description="Bake LOOK's colour part for an input encoding into a Resolve/Adobe .cube (LUT_3D_SIZE,\n"
                    "DOMAIN_MIN/MAX, red fastest; the header names the look, the input and the output encoding).\n"
                    "Grain and halation are never baked. --cdl also fits an ASC CDL and writes it when its\n"
                    "ΔE2000 against the full look is small enough (docs/luts.md). For log inputs use 65.",
        epilog="examples:\n  onset style export-lut 35mm --size 33 --input rec709 --output 35mm-709.cube\n"
               "  onset style export-lut push2 --size 65 --input logc3 --output push2-logc3.cube --cdl push2.cc")
    parser.add_argument("look", metavar="LOOK", help="a shipped look (onset style looks) or a .look.json file")
    parser.add_argument("--size", type=int, default=33, choices=LUT_SIZES, help="lattice points per axis (default: 33)")
    parser.add_argument("--input", default="rec709", choices=ENCODINGS, help="the camera signal the LUT expects")
    parser.add_argument("--output", required=True, metavar="FILE", help="the .cube to write")
    parser.add_argument("--cdl", default=None, metavar="FILE", help="also fit an ASC CDL and write it here (.cc)")
    parser.add_argument("--force-cdl", action="store_true", help="write the CDL even when it is far from the look")
    parser.set_defaults(run=_export_lut)


def _pairs(args: argparse.Namespace) -> int:
    from engines.captioner.dataset.errors import DatasetError
    from engines.style.film import LOOK_NAMES
    from engines.style.pairs.stage import StageSelection, build_stage_pairs

    exposure = None
    if args.exposure:
        try:
            lo, _, hi = args.exposure.partition("-")
            exposure = (float(lo), float(hi))
        except ValueError:
            print(f"onset style pairs: --exposure must be LO-HI code values, e.g. 0.6-1.0; got {args.exposure!r}",
                  file=sys.stderr)
            return 1
    try:
        looks = list(LOOK_NAMES) if args.looks == "all" else [v.strip() for v in args.looks.split(",") if v.strip()]
        selection = StageSelection(exposure=exposure, hue=args.hue, plan_value=args.plan_value)
        count = [0]

        def progress(name: str) -> None:
            count[0] += 1
            if not args.quiet:
                print(f"  pair {count[0]}: {name}", file=sys.stderr)

        manifest = build_stage_pairs([Path(t).expanduser() for t in args.takes], Path(args.out).expanduser(), looks,
                                     every_s=args.every, selection=selection, overwrite=args.overwrite,
                                     progress=progress)
        print(f"{len(manifest['pairs'])} pairs x {len(looks)} looks from {len(args.takes)} takes -> {args.out}")
        return 0
    except (*_style_errors(), DatasetError) as err:  # DatasetError: a take folder that is missing or not a take
        print(f"onset style pairs: {err}", file=sys.stderr)
        return 1


def _add_pairs(verbs: argparse._SubParsersAction) -> None:
    from engines.style.pairs.stage import HUE_SECTORS

    parser = verbs.add_parser(
        "pairs", help="paired comparisons from recorded takes and the reference film pipeline",
        formatter_class=_FORMAT,
        description="Make pairs for the style engine: each take's camera frames (one every --every seconds) are\n"
                    "the controls; the reference film pipeline develops each for every look (docs/film-pipeline.md).\n"
                    "OUT/<look>/ then holds control/ and test/ (and truth/: the pipeline's colour part, for scoring\n"
                    "only), ready for `onset engines train style --pairs OUT/<look>`. Shoot the takes across shot\n"
                    "types and lighting with `onset plan run full --seed N`. --exposure/--hue/--plan-value keep\n"
                    "only frames where a training round found the look weakest.",
        epilog="examples:\n  onset style pairs takes/s1/* --out pairs/train --every 1.5\n"
               "  onset style pairs takes/s2/* --out pairs/highlights --looks 35mm --exposure 0.6-1.0")
    parser.add_argument("takes", nargs="+", metavar="TAKE", help="recorded take folders")
    parser.add_argument("--out", required=True, metavar="DIR", help="the pairs folder to make")
    parser.add_argument("--looks", default="all", help="comma-separated pipeline looks, or all (default)")
    parser.add_argument("--every", type=float, default=1.0, metavar="S", help="seconds between frames (default: 1)")
    parser.add_argument("--exposure", default=None, metavar="LO-HI", help="keep frames whose median luma is in LO-HI")
    parser.add_argument("--hue", default=None, choices=(*HUE_SECTORS, "neutral"), help="keep frames of this hue")
    parser.add_argument("--plan-value", default=None, metavar="V", help="keep takes whose plan value is V")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    parser.add_argument("--quiet", action="store_true", help="no line per pair")
    parser.set_defaults(run=_pairs)


def _looks(args: argparse.Namespace) -> int:
    from engines.style.model.shipped import OFF, SHIPPED_LOOKS_DIR, resolve_look, shipped_look_names

    names = shipped_look_names()
    if not names:
        print("no looks are shipped in this checkout (make style-looks builds them)")
    for name in names:
        look = resolve_look(name)
        ev_path = SHIPPED_LOOKS_DIR / f"{name}.evaluation.json"
        ev = json.loads(ev_path.read_text()) if ev_path.is_file() else {}
        colour = ev.get("colour", {})
        figure = f"held-out ΔE2000 mean {colour['mean']:.2f}, p95 {colour['p95']:.2f}" if colour.get("pairs") else ""
        print(f"{name:<15} from the pipeline's {look.card.get('film_look') or '-'}; {look.card.get('pairs', '?')} pairs"
              f"{'; ' + figure if figure else ''}")
    print(f"{OFF:<15} the frame as the camera made it")
    return 0


def _add_looks(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser("looks", help="the looks shipped with Onset", formatter_class=_FORMAT,
                              description="List the shipped looks by the names the other commands take.")
    parser.set_defaults(run=_looks)


def _switch(args: argparse.Namespace) -> int:
    from config import load_profile
    from engines.style.worker import request_look

    try:
        endpoint = args.control or load_profile(args.profile).engines.style.control_endpoint
        answer = request_look(endpoint, {"looks": True} if args.look is None else {"look": args.look})
    except TimeoutError as err:
        print(f"onset style switch: {err} (is `onset engines serve` or `onset node run --engines` running?)",
              file=sys.stderr)
        return 1
    if not answer.get("ok"):
        print(f"onset style switch: {answer.get('error')}", file=sys.stderr)
        return 1
    if args.look is None:
        print(f"now {answer['look']}; offered: {', '.join(answer.get('looks', []))}")
    else:
        print(f"look {answer['look']} from the next frame on")
    return 0


def _add_switch(verbs: argparse._SubParsersAction) -> None:
    from edge.cli.args import add_profile_argument

    parser = verbs.add_parser(
        "switch", help="switch the running style worker's look (or list its looks)", formatter_class=_FORMAT,
        description="Ask the style worker (onset engines serve, or onset node run --engines) to style the next\n"
                    "frames with LOOK; without LOOK, print the current look and the ones offered.",
        epilog="examples:\n  onset style switch push1\n  onset style switch off\n  onset style switch")
    parser.add_argument("look", nargs="?", default=None, metavar="LOOK", help="a look the worker offers, or off")
    add_profile_argument(parser)
    parser.add_argument("--control", default=None, metavar="ENDPOINT",
                        help="the worker's control endpoint (default: the profile's engines.style.control_endpoint)")
    parser.set_defaults(run=_switch)


def _closed_loop(args: argparse.Namespace) -> int:
    import torch

    from engines.captioner.dataset import iter_take_frames
    from engines.captioner.inputs import CLIP_RATE_HZ
    from engines.captioner.model.checkpoint import load_checkpoint
    from engines.captioner.model.runner import predict_frames
    from engines.captioner.shipped import SHIPPED_CHECKPOINT
    from engines.style.closed_loop import LoopTally, closed_loop
    from engines.style.model.shipped import resolve_look, shipped_look_names

    torch.set_num_threads(args.threads)
    try:
        model = load_checkpoint(Path(args.model) if args.model else SHIPPED_CHECKPOINT).build_model()
        names = shipped_look_names() if args.looks == "all" else [v.strip() for v in args.looks.split(",") if v]
        looks = {name: resolve_look(name) for name in names}
        totals = {name: LoopTally() for name in looks}
        for k, take in enumerate(args.takes, 1):
            frames = list(iter_take_frames(Path(take).expanduser(), fps=CLIP_RATE_HZ))
            for name, tally in closed_loop(frames, looks, lambda fs: predict_frames(model, fs)).items():
                totals[name] = totals[name].merge(tally)
            print(f"  take {k}/{len(args.takes)}: {Path(take).name}, {len(frames)} frames", file=sys.stderr)
    except Exception as err:  # noqa: BLE001 - one line naming what failed, for a command-line user
        print(f"onset style closed-loop: {err}", file=sys.stderr)
        return 1
    summaries = {name: tally.summary() for name, tally in totals.items()}
    print(f"{'look':<15}{'frames':>8}{'shot size':>11}{'movement':>10}{'focal':>8}{'distance':>10}  "
          f"(changed; targets <= 2 %)")
    for name, s in summaries.items():
        dist = "-" if s["distance_mean_rel_change"] is None else f"{100 * s['distance_mean_rel_change']:.2f}%"
        print(f"{name:<15}{s['frames']:>8}{100 * s['shot_size_changed']:>10.1f}%{100 * s['movement_changed']:>9.1f}%"
              f"{100 * s['focal_mean_rel_change']:>7.2f}%{dist:>10}  {'met' if s['met'] else 'MISSED'}")
    if args.json:
        Path(args.json).write_text(json.dumps(summaries, indent=1) + "\n")
    return 3 if args.strict and not all(s["met"] for s in summaries.values()) else 0


def _add_closed_loop(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "closed-loop", help="does a look change what the captioner reads? raw vs styled takes",
        formatter_class=_FORMAT,
        description="Caption each take's frames (12 fps) raw and styled by each look, and compare: the share of\n"
                    "frames whose shot size or movement changes, and the mean relative change of focal length\n"
                    "and subject distance. A look that changes what the captioner sees by more than 2 % is a\n"
                    "defect of the look.",
        epilog="examples:\n  onset style closed-loop takes/s4/*\n"
               "  onset style closed-loop TAKE --looks push2,bleach-bypass --json loop.json")
    parser.add_argument("takes", nargs="+", metavar="TAKE", help="recorded take folders (held out from training)")
    parser.add_argument("--looks", default="all", help="comma-separated looks, or all shipped ones (default)")
    parser.add_argument("--model", default=None, metavar="FILE", help="captioner model (default: the shipped one)")
    parser.add_argument("--json", default=None, metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 3 when a look misses a target")
    parser.add_argument("--threads", type=int, default=2, metavar="N", help="torch CPU threads (default: 2)")
    parser.set_defaults(run=_closed_loop)


#: The declarers of ``onset style``'s sub-commands, in ``--help`` order.
_SUBCOMMANDS: List[Callable[[argparse._SubParsersAction], None]] = [_add_looks, _add_switch, _add_pairs,
                                                                     _add_export_lut, _add_check_lut,
                                                                     _add_closed_loop]


def register(groups: argparse._SubParsersAction) -> None:
    """Add ``onset style`` and its sub-commands to the top-level ``groups``."""
    group = groups.add_parser("style", help="the style engine's looks: pairs, LUT and CDL files",
                              formatter_class=_FORMAT,
                              description=_DESCRIPTION,
                              epilog="examples:\n  onset style check-lut look.cube\n"
                                     "  onset style check-lut look.cc --json")
    verbs = group.add_subparsers(dest="style_verb", metavar="VERB")
    verbs.required = True
    for add in _SUBCOMMANDS:
        add(verbs)
