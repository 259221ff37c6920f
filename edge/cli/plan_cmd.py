"""``onset plan``: capture plans, take series that vary one cinematic parameter (``docs/plans.md``).

``onset plan ls`` lists the plans; ``onset plan show NAME`` prints what the crew sets for each take
(on a real stage the crew shoots the plan by it); ``onset plan run NAME`` makes the simulated stage
shoot it, every take recorded through a real edge node of its own (:mod:`edge.plans.runner`: one
``onset node run`` per take on a temporary profile derived from ``--profile``, the take's stage
seed, shot and lens in it), each take's ``take.json`` naming the plan, the parameter and its value.
``--describe "PHRASE"`` in place of NAME makes the plan from production words ("CU, MCU", "slow
push-in"; :mod:`studio_sync.vocabulary`), saying first how it read them.
A progress line per take, a summary at the end. Ctrl-C stops the series: a rolling take is stopped
and kept, the finished ones are untouched; a second Ctrl-C kills the take's node at once (its take
is then recovered with ``onset takes recover``).

Exit status: 0 when every take is complete, 1 when one failed, 2 for a usage error (an unknown
plan, an index out of range, a real rig's profile), 130 when stopped.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import List, Sequence

from config import load_profile

__all__ = ["register", "format_plan_table"]

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_STOPPED = 130


def format_plan_table(takes: Sequence, seed_note: str = "") -> str:
    """The crew's table of a plan: one row per take (``#`` is the position ``--only`` takes),
    the value the plan varies and the instruction; each plan's fixed settings above its rows."""
    lines: List[str] = []
    header = ("#", "take", "varies", "value", "what the crew sets")
    rows: List[tuple] = []
    fixed_of = None
    for position, take in enumerate(takes):
        key = (take.plan, tuple(sorted((k, str(v)) for k, v in take.fixed.items())))
        if key != fixed_of:
            if rows:
                lines += _table(header, rows) + [""]
                rows = []
            fixed = "; ".join(f"{k} {v}" for k, v in take.fixed.items())
            lines.append(f"{take.plan}{seed_note}: fixed {fixed}")
            fixed_of = key
        rows.append((str(position), f"{take.plan} {take.index}", take.parameter, take.value_text, take.instruction))
    if rows:
        lines += _table(header, rows)
    return "\n".join(lines)


def _table(header: tuple, rows: List[tuple]) -> List[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(c.rjust(w) if i == 0 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
            for row in [header, *rows]]


def _takes(args: argparse.Namespace, rig) -> list:
    from edge.plans import plan_takes

    if args.describe is not None:
        from studio_sync.vocabulary import parse_phrase, plan_from_query

        query = parse_phrase(args.describe)
        print("\n".join(query.explain()) + "\n", flush=True)
        return plan_from_query(query, rig, seed=getattr(args, "seed", None), duration_s=args.seconds)
    return plan_takes(args.name, actor_count=rig.stage.actor_count, camera=rig.camera, duration_s=args.seconds)


def _ls(args: argparse.Namespace) -> int:
    from edge.plans import PLAN_DESCRIPTIONS, PLAN_NAMES, plan_takes

    width = max(len(n) for n in PLAN_NAMES)
    for name in PLAN_NAMES:
        print(f"{name.ljust(width)}  {len(plan_takes(name)):3d} takes  {PLAN_DESCRIPTIONS[name]}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from edge.plans import PlanError
    from studio_sync.vocabulary import VocabularyError

    rig = load_profile(args.profile)
    try:
        takes = _takes(args, rig)
    except (PlanError, VocabularyError) as err:
        print(f"onset plan show: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(format_plan_table(takes))
    print(f"\n{len(takes)} takes of {args.seconds:g} s")
    return 0


def _selected(takes: list, only: Sequence[int]) -> list:
    if not only:
        return list(takes)
    bad = [i for i in only if not 0 <= i < len(takes)]
    if bad:
        raise ValueError(f"--only {' '.join(map(str, bad))}: the plan's takes are numbered 0..{len(takes) - 1} "
                         f"(the # column of onset plan show)")
    return [takes[i] for i in dict.fromkeys(only)]


def _outcome_line(position: int, total: int, outcome) -> str:
    take = outcome.take
    head = f"[{position + 1}/{total}] {take.plan} {take.index} ({take.value_text}): {outcome.status} in {outcome.wall_s:.1f} s"
    if outcome.status == "complete":
        return f"{head}, {outcome.message} -> {outcome.folder}"
    return f"{head}: {outcome.message}"


def _run(args: argparse.Namespace) -> int:
    from edge.plans import DEFAULT_LEAD_S, PlanError
    from edge.plans.runner import PlanRunner

    rig = load_profile(args.profile)
    try:
        takes = _selected(_takes(args, rig), args.only or ())
        runner = PlanRunner(rig, Path(args.takes_dir) if args.takes_dir else rig.recorder.takes_dir,
                            seed=args.seed, lead_s=DEFAULT_LEAD_S if args.lead is None else args.lead,
                            retries=args.retries, on_line=lambda line: print(line, flush=True))
    except (PlanError, ValueError) as err:
        print(f"onset plan run: {err}", file=sys.stderr)
        return EXIT_USAGE
    asked = []

    def on_signal(signum: int, _frame) -> None:
        asked.append(signum)
        if len(asked) == 1:
            print(f"onset plan run: {signal.Signals(signum).name}: stopping after this take's stop "
                  "(a second signal kills its node)", file=sys.stderr, flush=True)
            runner.stop()
        else:
            runner.abort()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    total = len(takes)
    name = args.name if args.describe is None else f'"{args.describe}"'
    print(f"{name} on stage seed {runner.seed}: {total} takes of {args.seconds:g} s into {runner.takes_dir}",
          flush=True)
    started = time.monotonic()

    def progress(position: int, outcome) -> None:
        print(_outcome_line(position, total, outcome), flush=True)

    try:
        outcomes = runner.run(takes, on_outcome=progress)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    wall_s = time.monotonic() - started
    complete = sum(o.status == "complete" for o in outcomes)
    failed = sum(o.status == "failed" for o in outcomes)
    interrupted = sum(o.status == "interrupted" for o in outcomes)
    per_take = f" ({wall_s / len(outcomes):.1f} s a take)" if outcomes else ""
    print(f"{name} on stage seed {runner.seed}: {complete} of {total} takes complete, {failed} failed"
          + (f", {interrupted} interrupted" if interrupted else "")
          + (f", {total - len(outcomes)} not shot" if total > len(outcomes) else "")
          + f", in {wall_s:.0f} s{per_take}")
    for outcome in outcomes:
        if outcome.status == "failed":
            print(f"  failed: {outcome.take.plan} {outcome.take.index} ({outcome.take.value_text}): "
                  f"{outcome.message.splitlines()[0]}")
    if runner.stopping:
        return EXIT_STOPPED
    return 0 if complete == total else EXIT_FAILURE


def register(groups: argparse._SubParsersAction) -> None:
    from edge.cli.args import add_profile_argument
    from edge.plans import DEFAULT_LEAD_S, PLAN_NAMES
    from sensors.sim.shots import DEFAULT_DURATION_S

    fmt = argparse.RawDescriptionHelpFormatter
    group = groups.add_parser("plan", help="capture plans: take series that vary one cinematic parameter",
                              description="Capture plans: take series that vary one cinematic parameter "
                                          "(focal length, movement, shot size) with the rest held fixed.")
    sub = group.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    ls = sub.add_parser("ls", help="list the plans", description="List the capture plans.",
                        epilog="examples:\n  onset plan ls", formatter_class=fmt)
    ls.set_defaults(run=_ls)

    def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("name", nargs="?", choices=PLAN_NAMES, metavar="NAME",
                           help=f"the plan: {', '.join(PLAN_NAMES)}")
        which.add_argument("--describe", default=None, metavar="PHRASE",
                           help='the plan that shoots a phrase of production words, e.g. "CU, MCU" or "slow push-in" '
                                "(docs/studio-sync/vocabulary.md)")
        parser.add_argument("--seconds", type=float, default=DEFAULT_DURATION_S, metavar="S",
                            help=f"length of each take's shot (default: {DEFAULT_DURATION_S:g})")
        add_profile_argument(parser)

    show = sub.add_parser(
        "show", help="what the crew sets for each take", formatter_class=fmt,
        description="Print a plan's takes: what the crew sets for each one (on a real stage, shoot it by this).",
        epilog=('examples:\n  onset plan show focal-sweep\n  onset plan show full --seconds 6\n'
                '  onset plan show --describe "CU, MCU"'),
    )
    add_plan_arguments(show)
    show.set_defaults(run=_show)

    run = sub.add_parser(
        "run", help="shoot a plan on the simulated stage", formatter_class=fmt,
        description=("Shoot a plan on the simulated stage: for each take an edge node on the stage set up for\n"
                     "it, the take recorded once the node is in sync (scene <plan>-s<seed>, shot the take's\n"
                     "index, take 1 or the next free), take.json naming the plan. --seed gives another set\n"
                     "dressing, other actors' walks and other lights. Ctrl-C stops after the rolling take."),
        epilog=("examples:\n"
                "  onset plan run focal-sweep\n"
                "  onset plan run movement-sweep --seed 3 --takes-dir /mnt/takes\n"
                "  onset plan run focal-sweep --only 0 1 --seconds 3\n"
                '  onset plan run --describe "slow push-in, pan left"'),
    )
    add_plan_arguments(run)
    run.add_argument("--seed", type=int, default=None, metavar="N",
                     help="stage seed: set dressing, actors' walks, lighting (default: the profile's)")
    run.add_argument("--takes-dir", default=None, metavar="DIR",
                     help="where the takes go (default: the profile's recorder.takes_dir, ~/onset/takes)")
    run.add_argument("--only", type=int, nargs="+", default=None, metavar="INDEX",
                     help="shoot only these takes (the # column of onset plan show)")
    run.add_argument("--lead", type=float, default=None, metavar="S",
                     help=f"plan time (s) before which no shot begins, for the node to sync (default: {DEFAULT_LEAD_S:g})")
    run.add_argument("--retries", type=int, default=1, metavar="N",
                     help="fresh nodes a take gets when one was not in sync in time (default: 1)")
    run.set_defaults(run=_run)
