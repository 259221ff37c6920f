"""``onset takes``: list, describe and recover the takes in a takes folder (no node needed)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional

from edge.recorder.catalog import describe_take, list_takes, resolve_take
from config import load_profile
from config.recorder import RecorderConfig
from edge.recorder.errors import RecorderError
from edge.recorder.recover import recover_all, recover_take

__all__ = ["register", "TAKES_DIR_ENV", "format_table", "size_text", "chosen_takes_dir"]

TAKES_DIR_ENV = "ONSET_TAKES_DIR"
EXIT_FAILURE = 1


def chosen_takes_dir(args: argparse.Namespace, profile_takes_dir: Optional[Path] = None) -> Path:
    """``--takes-dir``, else ``$ONSET_TAKES_DIR``, else the profile's ``recorder.takes_dir``
    (``profile_takes_dir`` when the caller has the profile already)."""
    chosen = args.takes_dir or os.environ.get(TAKES_DIR_ENV)
    if chosen:
        return Path(chosen).expanduser()
    return profile_takes_dir if profile_takes_dir is not None else load_profile(args.profile).recorder.takes_dir


def _takes_dir(args: argparse.Namespace) -> Path:
    return chosen_takes_dir(args)


def size_text(n: int) -> str:
    """A byte count as a person reads it: ``512 B``, ``31.6 MB``, ``1.2 TB`` (powers of 1000)."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000.0
    return f"{value:.1f} TB"


def _duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(float(seconds), 60.0)
    return f"{int(minutes)}:{secs:04.1f}"


def format_table(headers: List[str], rows: List[List[str]], right: frozenset = frozenset()) -> str:
    """Plain text columns; ``right`` holds the indexes of right-aligned columns."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]
    lines = []
    for row in [headers, *rows]:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in pairs]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _ls(args: argparse.Namespace) -> int:
    root = _takes_dir(args)
    try:
        takes = list_takes(root)
    except RecorderError as err:
        print(f"onset takes ls: {err}", file=sys.stderr)
        return EXIT_FAILURE
    if not takes:
        print(f"no takes in {root}")
        return 0
    rows = [[t.name, t.slate, t.tc_in or "-", t.tc_out or "-", _duration(t.duration_s),
             "-" if t.message_count is None else str(t.message_count), size_text(t.size_bytes), t.status]
            for t in takes]
    print(format_table(["NAME", "SLATE", "TC IN", "TC OUT", "DURATION", "MESSAGES", "SIZE", "STATUS"],
                       rows, right=frozenset({4, 5, 6})))
    interrupted = [t for t in takes if t.status == "interrupted"]
    if interrupted:
        print(f"\n{len(interrupted)} interrupted take(s): make them valid bags with `onset takes recover --all`")
    return 0


def _show(args: argparse.Namespace) -> int:
    try:
        description = describe_take(resolve_take(_takes_dir(args), args.name))
    except RecorderError as err:
        print(f"onset takes show: {err}", file=sys.stderr)
        return EXIT_FAILURE
    s, doc = description.summary, description.document
    software = doc.get("software") or {}
    bag = doc.get("bag") or {}
    print(f"take     {s.name}")
    print(f"folder   {s.path}")
    print(f"slate    scene {s.scene} shot {s.shot} take {s.take}")
    print(f"status   {s.status}" + (f" ({s.error})" if s.error else ""))
    print(f"TC       {s.tc_in or '-'} -> {s.tc_out or '-'} at {(doc.get('timecode') or {}).get('rate') or '-'} fps")
    master = doc.get("master_time") or {}
    print(f"master   {master.get('start_utc') or '-'} -> {master.get('stop_utc') or '-'} ({_duration(s.duration_s)})")
    print(f"bag      {bag.get('path')}/ {bag.get('storage')} metadata v{bag.get('metadata_version')}, "
          f"compression {bag.get('compression')}, {size_text(s.size_bytes)} in the folder")
    print("software " + ", ".join(f"{k} {v}" for k, v in software.items() if v and k != "platform"))
    dropped = {k: v for k, v in (doc.get("dropped") or {}).items() if v}
    if dropped:
        print("dropped  " + ", ".join(f"{k} {v}" for k, v in sorted(dropped.items())))
    for note in doc.get("notes") or []:
        print(f"note     {note}")
    for error in doc.get("errors") or []:
        print(f"error    {error.get('message') if isinstance(error, dict) else error}")
    print()
    in_doc = {t.get("name"): t for t in doc.get("topics") or []}
    names = sorted(set(in_doc) | set(description.bag_counts))
    rows = [[n, str((in_doc.get(n) or {}).get("type", "-")), str(description.bag_counts.get(n, "-")),
             str((in_doc.get(n) or {}).get("message_count", "-"))] for n in names]
    if rows:
        print(format_table(["TOPIC", "TYPE", "IN BAG", "IN TAKE.JSON"], rows, right=frozenset({2, 3})))
    if description.bag_error:
        print(f"\nbag: {description.bag_error}")
    return 0


def _recover(args: argparse.Namespace) -> int:
    try:
        if args.all:
            reports = recover_all(_takes_dir(args))
            if not reports:
                print(f"nothing to recover in {_takes_dir(args)}")
        else:
            reports = [recover_take(resolve_take(_takes_dir(args), args.path))]
    except RecorderError as err:
        print(f"onset takes recover: {err}", file=sys.stderr)
        return EXIT_FAILURE
    for report in reports:
        print(report)
    return EXIT_FAILURE if any(r.action == "skipped" for r in reports) else 0


def _add_dir(parser: argparse.ArgumentParser) -> None:
    from edge.cli.args import add_profile_argument

    parser.add_argument("--takes-dir", default=None, metavar="DIR",
                        help=f"the takes folder (default: ${TAKES_DIR_ENV}, else the profile's recorder.takes_dir, "
                             f"{RecorderConfig().takes_dir})")
    add_profile_argument(parser)


def register(groups: argparse._SubParsersAction) -> None:
    group = groups.add_parser("takes", help="list, describe and recover recorded takes",
                              description="List, describe and recover the takes in a takes folder.")
    sub = group.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    fmt = argparse.RawDescriptionHelpFormatter

    ls = sub.add_parser(
        "ls", help="list the takes", formatter_class=fmt,
        description="One line per take, oldest first: name, slate, TC in/out, duration, messages, size, status.\n"
                    "'interrupted' means the recording process died: `onset takes recover` fixes the bag.",
        epilog="examples:\n  onset takes ls\n  onset takes ls --takes-dir /mnt/takes",
    )
    _add_dir(ls)
    ls.set_defaults(run=_ls)

    show = sub.add_parser(
        "show", help="describe one take", formatter_class=fmt,
        description="take.json in brief (slate, TC, software, notes, errors) and the messages per topic\n"
                    "counted from the bag itself beside what take.json says.",
        epilog=("examples:\n  onset takes show 12_3_004_20261105T142233Z\n"
                "  onset takes show 12_3_004   (a unique prefix)"),
    )
    show.add_argument("name", metavar="NAME", help="take folder name (or a unique prefix, or a path)")
    _add_dir(show)
    show.set_defaults(run=_show)

    recover = sub.add_parser(
        "recover", help="make interrupted takes valid bags again", formatter_class=fmt,
        description="Rewrite an interrupted take's bag from its complete chunks (the torn tail is dropped), write\n"
                    "metadata.yaml and mark take.json 'recovered'. The original file is kept as *.partial.\n"
                    "Takes still being recorded by a live process are left alone.",
        epilog="examples:\n  onset takes recover 12_3_004_20261105T142233Z\n  onset takes recover --all",
    )
    target = recover.add_mutually_exclusive_group(required=True)
    target.add_argument("path", nargs="?", metavar="PATH", help="take folder name or path")
    target.add_argument("--all", action="store_true", help="every take that needs it")
    _add_dir(recover)
    recover.set_defaults(run=_recover)
