"""``onset sync push|status``: the upload queue to the studio's S3 storage (docs/studio-sync/upload.md).

A TAKE is a take folder's path, or its name (or a unique prefix of it) in the takes folder:
``--takes-dir``, else ``$ONSET_TAKES_DIR``, else the profile's ``recorder.takes_dir``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Tuple

from config import load_profile
from config.studio import MIN_PART_SIZE_MIB, StudioConfig
from edge.cli.args import add_profile_argument
from edge.cli.takes_cmd import TAKES_DIR_ENV, chosen_takes_dir, format_table, size_text

__all__ = ["register"]

EXIT_FAILURE = 1

_PUSH_EPILOG = """\
examples:
  onset sync push 12_3_004_20261105T142233Z   queue a take and upload it
  onset sync push 12_3_004 12_3_005           unique prefixes of names, in the takes folder
  onset sync push                             upload what is queued (resumes an interrupted upload)
  onset sync push --all                       queue every sealed take of the takes folder not yet in the studio
  onset sync push 12_3_004 --bwlimit 20       at most 20 MiB/s, to leave the set's network some room
  onset sync push /mnt/shuttle/12_3_004_20261105T142233Z --part-size 64 --concurrency 8

Each take is verified against its ASC MHL history before it is queued (a take that does not match,
or has none, is refused: `onset sync seal TAKE` writes one). Files go up with S3 multipart, parts
in parallel; a push that is killed, or a studio that restarts, loses nothing: the next push asks
the studio which parts it holds and sends only the others. Every object is then read back and
hashed against the MHL; only then is the take verified. Exit 0 when every take is verified in the
studio, 1 when any is refused, failed, or still queued (a studio that refused the keys or cannot be
reached: the take stays queued with the reason; `onset sync status` shows it).
"""

_STATUS_EPILOG = """\
examples:
  onset sync status                    the queue: queued, uploading with progress, verified, failed
  onset sync status --json             the same as JSON, for scripts

States: hashed (sealed in the takes folder, not queued), queued, uploading, interrupted (its push
died; the next `onset sync push` resumes it), verified (every object read back from the studio
matches the MHL), failed (with the reason; fix it and push the take again by name).
"""


def _positive_int(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {low} to {high}, got {value}")
        return value

    return parse


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MiB/s, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"a bandwidth cap must be positive, got {value}")
    return value


def _takes_dir(args: argparse.Namespace, profile_takes_dir: Path) -> Path:
    return chosen_takes_dir(args, profile_takes_dir)


def _config(args: argparse.Namespace) -> Tuple[StudioConfig, Path]:
    profile = load_profile(args.profile)
    config = profile.studio
    update = {}
    if getattr(args, "part_size", None) is not None:
        update["part_size_mib"] = args.part_size
    if getattr(args, "concurrency", None) is not None:
        update["concurrency"] = args.concurrency
    if getattr(args, "bwlimit", None) is not None:
        update["bandwidth_mib_s"] = args.bwlimit
    if update:
        config = config.model_copy(update={"upload": config.upload.model_copy(update=update)})
    return config, _takes_dir(args, profile.recorder.takes_dir)


def _resolve(takes_dir: Path, names: List[str]) -> Tuple[List[Path], List[Tuple[str, str]]]:
    from edge.recorder.catalog import resolve_take
    from edge.recorder.errors import RecorderError

    found, refused = [], []
    for name in names:
        if Path(name).expanduser().is_dir():
            found.append(Path(name).expanduser())
            continue
        try:
            found.append(resolve_take(takes_dir, name))
        except RecorderError as err:
            refused.append((name, str(err)))
    return found, refused


def _every_take(takes_dir: Path) -> Tuple[List[Path], List[Tuple[str, str]]]:
    """Every closed take of the takes folder (takes still recording are left for later)."""
    from edge.recorder.catalog import INTERRUPTED, list_takes
    from edge.recorder.errors import RecorderError
    from edge.recorder.take import TakeStatus

    try:
        takes = list_takes(takes_dir)
    except RecorderError as err:
        return [], [(str(takes_dir), str(err))]
    return [t.path for t in takes if t.status not in (TakeStatus.RECORDING.value, INTERRUPTED)], []


def _print_outcomes(report, config: StudioConfig) -> None:
    from studio_sync.upload import ALREADY_VERIFIED

    storage = config.storage
    for outcome in report.outcomes:
        where = f"s3://{storage.bucket}/{storage.prefix}{outcome.name}/"
        if outcome.ok and outcome.reason == ALREADY_VERIFIED:
            print(f"VERIFIED  {outcome.name}: {ALREADY_VERIFIED} ({where})")
        elif outcome.ok:
            parts = sum(o.parts_sent for o in outcome.objects if not o.single_put)
            small = sum(1 for o in outcome.objects if o.single_put)
            reused = f", {outcome.parts_reused} part(s) already in the studio" if outcome.parts_reused else ""
            print(f"VERIFIED  {outcome.name}: {size_text(outcome.bytes_total)} in {where}, every object read back "
                  f"and matching the MHL ({parts} part(s) and {small} small file(s) sent{reused})")
        else:
            print(f"{outcome.state.upper():<9} {outcome.name}: {outcome.reason}")
    for take, reason in report.refused:
        print(f"REFUSED   {take}: {reason}")
    for name, reason in report.failed_earlier:
        print(f"FAILED    {name} (earlier, not retried; push it by name once fixed): {reason}")


def _push(args: argparse.Namespace) -> int:
    from studio_sync.upload import NotS3Error, QueueError, TqdmProgress, push

    config, takes_dir = _config(args)
    if args.all:
        folders, refused = _every_take(takes_dir)
        named, more = _resolve(takes_dir, args.takes)
        folders += [f for f in named if f not in folders]
        refused += more
    else:
        folders, refused = _resolve(takes_dir, args.takes)
    for take, reason in refused:
        print(f"REFUSED   {take}: {reason}")
    if (args.takes or args.all) and not folders:
        return EXIT_FAILURE if refused else 0
    progress = TqdmProgress(show=args.progress)
    try:
        report = push(config, folders, progress=progress, plan_progress=progress.hashing)
    except NotS3Error as err:
        print(f"onset sync push: {err}; nothing was queued or sent", file=sys.stderr)
        return EXIT_FAILURE
    except QueueError as err:
        print(f"onset sync push: {err}; once that is fixed, run it again: a push resumes what was sent",
              file=sys.stderr)
        return EXIT_FAILURE
    finally:
        progress.close()
    _print_outcomes(report, config)
    if report.stopped:
        print(f"onset sync push: stopped: {report.stopped}; the takes stay queued (see onset sync status)",
              file=sys.stderr)
    if not report.outcomes and not report.refused and not refused and not args.takes and not args.all:
        print("nothing queued: give takes to push (onset sync push TAKE), or --all")
    return 0 if report.ok and not refused else EXIT_FAILURE


def _status(args: argparse.Namespace) -> int:
    from studio_sync.upload import QueueError, status_rows

    config, takes_dir = _config(args)
    try:
        rows = status_rows(config, takes_dir)
    except QueueError as err:
        print(f"onset sync status: {err}", file=sys.stderr)
        return EXIT_FAILURE
    if args.json:
        print(json.dumps({"queue": str(config.upload.queue_path), "takes": [r.to_dict() for r in rows]}, indent=2))
        return 0
    if not rows:
        print(f"the upload queue is empty ({config.upload.queue_path}) and no sealed take is in {takes_dir}")
        return 0
    table = []
    for r in rows:
        share = f" ({100 * r.bytes_sent // r.bytes_total}%)" if r.bytes_total and r.state != "verified" else ""
        sent = "-" if r.state == "hashed" else f"{size_text(r.bytes_sent)} / {size_text(r.bytes_total)}{share}"
        files = "-" if r.state == "hashed" else f"{r.files_verified}/{r.files_total}"
        table.append([r.name, r.state, sent, files, (r.updated_utc or "-").replace("T", " ").rstrip("Z"),
                      r.reason or ""])
    print(format_table(["TAKE", "STATE", "IN THE STUDIO", "VERIFIED", "UPDATED (UTC)", "REASON"], table))
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--takes-dir", default=None, metavar="DIR",
                        help=f"where take names are looked up (default: ${TAKES_DIR_ENV}, else the profile's "
                             "recorder.takes_dir)")
    add_profile_argument(parser)


def register(commands: argparse._SubParsersAction) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    push = commands.add_parser(
        "push", help="queue takes and upload them to the studio (resumable, every object verified)",
        description="Verify each take against its ASC MHL history, queue it, and upload the queue to the studio's "
                    "S3 storage with multipart parts in parallel; every object is read back and checked.",
        epilog=_PUSH_EPILOG, formatter_class=fmt)
    push.add_argument("takes", nargs="*", metavar="TAKE",
                      help="take folder path, name or unique name prefix (none: upload what is queued)")
    push.add_argument("--all", action="store_true", help="queue every closed take of the takes folder")
    push.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                      help="progress bars on stderr (default: when stderr is a terminal)")
    push.add_argument("--part-size", type=_positive_int(MIN_PART_SIZE_MIB, 5120), default=None, metavar="MIB",
                      help=f"multipart part size in MiB, {MIN_PART_SIZE_MIB} to 5120 (default: studio.upload."
                           "part_size_mib, 16); an upload resumed keeps the part size it started with")
    push.add_argument("--concurrency", type=_positive_int(1, 64), default=None, metavar="N",
                      help="parts sent at once (default: studio.upload.concurrency, 4)")
    push.add_argument("--bwlimit", type=_rate, default=None, metavar="MIB_S",
                      help="cap on the upload rate in MiB/s, all parts together (default: studio.upload."
                           "bandwidth_mib_s, none)")
    _common(push)
    push.set_defaults(run=_push)

    status = commands.add_parser(
        "status", help="the upload queue: hashed, queued, uploading, verified, failed (with the reason)",
        description="Show every take of the upload queue and the sealed takes not yet queued.",
        epilog=_STATUS_EPILOG, formatter_class=fmt)
    status.add_argument("--json", action="store_true", help="print JSON instead of the table")
    _common(status)
    status.set_defaults(run=_status)

