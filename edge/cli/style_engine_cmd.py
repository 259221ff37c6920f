"""``onset engines train style`` and ``onset engines evaluate style``: learning a look from a folder
of pairs, and scoring it on held-out pairs (docs/style-model.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Tuple

__all__ = ["add_train_style", "add_evaluate_style", "style_errors"]

EXIT_FAILURE = 1
TARGETS_MISSED = 3
_FMT = argparse.RawDescriptionHelpFormatter


def style_errors() -> Tuple[type, ...]:
    from engines.style.colour.errors import ColourError
    from engines.style.film.errors import FilmError
    from engines.style.model.errors import StyleModelError
    from engines.style.pairs.errors import PairsError

    return (StyleModelError, PairsError, FilmError, ColourError, OSError)


def _progress_bar(total: int, what: str, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=what, unit="pair", disable=quiet, file=sys.stderr, leave=False)


def _read(folder: Path, quiet: bool):
    from engines.style.model.data import read_pairs_folder
    from engines.style.pairs import find_pairs

    total = len(find_pairs(folder).pairs)
    with _progress_bar(total, f"reading {folder.name}", quiet) as bar:
        data = read_pairs_folder(folder, progress=bar.update)
    for problem in data.problems:
        print(f"  not used: {problem}", file=sys.stderr)
    return data


def _card_markdown(look, report, data) -> str:
    card = look.card
    lines = [f"# Look `{look.name}`", "",
             f"Learned by Onset's style engine from {report.pairs} pairs in `{data.folder}` "
             f"({'aligned stage pairs' if data.aligned else 'registered user pairs'}); "
             f"input encoding {look.input_encoding}, output Rec.709 display-referred.", ""]
    if data.film_look:
        lines += [f"The pairs' tests come from Onset's reference film pipeline, look `{data.film_look}` "
                  "(docs/film-pipeline.md), not from scanned film.", ""]
    lines += ["## Rounds", "", "| round | fit RMS | pairs' ΔE2000 mean | p95 | weakest |", "|---|---|---|---|---|"]
    for r in report.rounds:
        lines.append(f"| {r.round} | {r.fit_rms:.4f} | {r.delta_e_mean:.3f} | {r.delta_e_p95:.3f} | "
                     f"{'; '.join(r.weakest()) or '-'} |")
    lines += ["", "## Texture", "", f"- vignette: gain exp({look.vignette.a:.3f} r² + {look.vignette.b:.3f} r⁴)",
              f"- halation: {card.get('halation_note') or look.halation.to_dict()}",
              f"- grain: RMS at mid grey R/G/B "
              f"{', '.join(f'{v:.4f}' for v in look.grain.rms[:, 6]) if look.grain is not None else '-'}", ""]
    if "evaluation" in card:
        lines += ["## Evaluation", "", "```", card["evaluation_text"], "```", ""]
    lines += ["## Software", "", *[f"- {k}: {v}" for k, v in card.get("software", {}).items()], ""]
    return "\n".join(lines)


def _software() -> dict:
    import platform

    import numpy

    out = {"python": platform.python_version(), "numpy": numpy.__version__}
    try:
        import torch

        out["torch"] = torch.__version__
    except ImportError:
        pass
    try:
        from importlib.metadata import version

        out["onset-edge"] = version("onset-edge")
    except Exception:  # noqa: BLE001 - a source checkout without metadata
        pass
    return out


def _train_style(args: argparse.Namespace) -> int:
    from engines.style.model.look import LOOK_SUFFIX, save_look
    from engines.style.model.train import train_look

    try:
        folder = Path(args.pairs).expanduser()
        data = _read(folder, args.no_progress)
        if not data.pairs:
            print(f"onset engines train style: no usable pairs in {folder}", file=sys.stderr)
            return EXIT_FAILURE
        name = args.name or data.film_look or folder.name
        print(f"learning look {name!r} from {len(data.pairs)} pairs, {args.rounds} rounds", file=sys.stderr)
        look, report = train_look(data.pairs, name, rounds=args.rounds, samples_per_pair=args.samples_per_pair,
                                  max_samples=args.max_samples, steps=args.steps, seed=args.seed, progress=lambda m: print(f"  {m}", file=sys.stderr))
        for r in report.rounds:
            worst = ", ".join(f"{s.name} ({s.delta_e_mean:.2f})" for s in r.worst)
            print(f"  round {r.round} worst pairs: {worst}")
            for hint in r.weakest():
                print(f"  round {r.round} weakest: {hint}")
        look = look.with_card(pairs_folder=str(folder.resolve()), pairs=report.pairs, samples=report.samples,
                              aligned=data.aligned, film_look=data.film_look, halation_note=report.halation_note,
                              rounds=[{"round": r.round, "fit_rms": r.fit_rms, "delta_e_mean": r.delta_e_mean,
                                       "delta_e_p95": r.delta_e_p95, "by_exposure": r.by_exposure,
                                       "by_hue": r.by_hue, "worst": [s.name for s in r.worst]}
                                      for r in report.rounds],
                              software=_software(), not_used=[str(p) for p in data.problems])
        out = Path(args.out).expanduser()
        if not out.name.endswith(LOOK_SUFFIX):
            out = out.with_name(out.name + LOOK_SUFFIX)
        out.parent.mkdir(parents=True, exist_ok=True)
        save_look(look, out)
        card = out.with_name(out.name[: -len(LOOK_SUFFIX)] + ".card.md")
        card.write_text(_card_markdown(look, report, data))
        print(f"look {name!r} -> {out} (card {card})")
        return 0
    except style_errors() as err:
        print(f"onset engines train style: {err}", file=sys.stderr)
        return EXIT_FAILURE


def _evaluate_style(args: argparse.Namespace) -> int:
    from engines.style.model.evaluate import evaluate_colour, evaluate_grain, format_evaluation, truth_of
    from engines.style.model.shipped import resolve_look
    from engines.style.model.train import score_pairs
    from engines.style.pairs import load_image

    try:
        look = resolve_look(args.look)
        folder = Path(args.pairs).expanduser()
        data = _read(folder, args.no_progress)
        result: dict = {"look": look.name, "pairs_folder": str(folder.resolve())}
        truths = [truth_of(folder, p.name) for p in data.pairs]
        if data.pairs and all(t is not None for t in truths):
            result["colour"] = evaluate_colour(look, [p.control for p in data.pairs], [load_image(t) for t in truths])
        elif data.pairs:
            scores, _ = score_pairs(data.pairs, look)
            means = [s.delta_e_mean for s in scores]
            result["blocks"] = {"pairs": len(scores), "mean": sum(means) / max(len(means), 1),
                                "p95": sorted(means)[int(0.95 * (len(means) - 1))] if means else 0.0}
        film_look = data.film_look or look.card.get("film_look")
        if look.grain is None:
            result["grain_note"] = "the look has no grain"
        elif film_look:
            shape = data.pairs[0].control.shape[:2] if data.pairs else (360, 640)
            result["grain"] = evaluate_grain(look, film_look, shape)
        else:
            result["grain_note"] = "no reference pipeline look to compare the grain with (a user's pairs)"
        text = format_evaluation(result)
        print(text)
        if args.json:
            payload = json.dumps(result, indent=1) + "\n"
            if args.json == "-":
                sys.stdout.write(payload)
            else:
                Path(args.json).write_text(payload)
        met = all(part.get("met", True) for key, part in result.items() if key in ("colour", "grain"))
        return TARGETS_MISSED if (args.strict and not met) else 0
    except style_errors() as err:
        print(f"onset engines evaluate style: {err}", file=sys.stderr)
        return EXIT_FAILURE


def add_train_style(train_engines: argparse._SubParsersAction) -> None:
    p = train_engines.add_parser(
        "style", help="learn a film look from a folder of pairs", formatter_class=_FMT,
        description="Learn a look from DIR's pairs (a digital control and a film test of the same scene each):\n"
                    "its colour (tone curves per channel and a 3x3 crosstalk) and its texture (vignette,\n"
                    "halation, grain), in rounds that report the worst-matched pairs and where the look is\n"
                    "weakest (exposure band, hue). A folder from `onset style pairs` is used as it is; any other\n"
                    "folder's pairs are registered, masked where they agree, and those that cannot be are\n"
                    "reported, not used (docs/style-pairs.md, docs/style-model.md).",
        epilog="examples:\n  onset engines train style --pairs pairs/35mm --out looks/35mm.look.json\n"
               "  onset engines train style --pairs my-scans --name kodak-250d --out kodak-250d.look.json")
    p.add_argument("--pairs", required=True, metavar="DIR", help="a pairs folder (control/ + test/, or NAME.control/.test)")
    p.add_argument("--out", required=True, metavar="FILE", help="the look file to write (NAME.look.json)")
    p.add_argument("--name", default=None, help="the look's name (default: the folder's)")
    p.add_argument("--rounds", type=int, default=3, metavar="N", help="fitting rounds (default: 3)")
    p.add_argument("--steps", type=int, default=600, metavar="N", help="optimiser steps per round (default: 600)")
    p.add_argument("--samples-per-pair", type=int, default=3000, metavar="N",
                   help="colour samples drawn from each pair per round (default: 3000)")
    p.add_argument("--max-samples", type=int, default=40000, metavar="N",
                   help="colour samples per round in all, fewer per pair when there are many (default: 40000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=_train_style)


def add_evaluate_style(evaluate_engines: argparse._SubParsersAction) -> None:
    p = evaluate_engines.add_parser(
        "style", help="a look's colour and grain against held-out pairs", formatter_class=_FMT,
        description="Score a look on held-out pairs: on stage pairs, its colour part against the reference\n"
                    "pipeline's (ΔE2000 mean < 1.0, p95 < 2.5) and its grain against the pipeline's on flat\n"
                    "fields (RMS and power spectrum within 10 %); on a user's pairs, the look against the tests.",
        epilog="examples:\n  onset engines evaluate style --look 35mm --pairs pairs-heldout/35mm\n"
               "  onset engines evaluate style --look my.look.json --pairs scans --json eval.json")
    p.add_argument("--look", required=True, help="a shipped look's name or a .look.json file")
    p.add_argument("--pairs", required=True, metavar="DIR", help="held-out pairs folder")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the figures as JSON ('-': stdout)")
    p.add_argument("--strict", action="store_true", help=f"exit {TARGETS_MISSED} when a target is missed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=_evaluate_style)
