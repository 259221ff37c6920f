"""``onset studio ingest|find``: verify the stored takes and catalogue them; search the catalogue in production words.

Both commands use the profile's ``studio`` section: the storage (``ingest`` reads it with the
reader identity) and the catalogue (``studio.catalogue.url``, default SQLite beside the embedded
studio's data; ``--catalogue URL`` overrides it). See docs/studio-sync/catalogue.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence

from edge.cli.args import add_profile_argument

__all__ = ["register", "EXIT_FAILURE", "EXIT_VOCABULARY"]

EXIT_FAILURE = 1
EXIT_VOCABULARY = 2
DEFAULT_LIMIT = 50
_MIB = float(1 << 20)

_INGEST_DESCRIPTION = """\
Verify every take in the studio's storage against its ASC MHL history and catalogue the good ones.

Each object of a take is streamed down with the reader identity and hashed in the format its
history recorded (xxh64 or xxh128); its size and digest must be the recorded ones, no recorded
file may be missing and no other file present. A take that does not verify is REFUSED: it is
printed with each bad file, nothing of it is catalogued (an earlier entry of it is withdrawn),
and the run records it. A verified take is labelled as the captioner's dataset builder labels
it (frames at --fps, their shot size, movement and speed, focal length and its 35 mm equivalent,
subject distance; shots; the model's captions when the take has captions.json) and catalogued
with its provenance (rig, calibration, software and model versions, who sealed and offloaded it
and when). Ingesting a take again replaces its rows. Exit status 1 when any take was refused or
failed.
"""
_INGEST_EPILOG = """\
examples:
  onset studio ingest                 every take under the storage's prefix, into the default catalogue
  onset studio ingest 12_3_004_20261105T142233Z --progress
  onset studio ingest --catalogue postgresql://onset@db.studio/catalogue --json
  onset studio ingest --catalogue sqlite:////srv/studio/catalogue.sqlite
"""
_FIND_DESCRIPTION = """\
Find shots in the catalogue by a production phrase: shot sizes (ECU ... WS, no subject), focal
lengths ("75mm", "50-85mm", "longer than 85mm", "50mm full-frame equivalent"), movements (static,
pan, tilt, push in, pull out, truck, crane, zoom, handheld) with a pace (slow, moderate, fast) or
a speed ("0.3 m/s"), and subject distances ("subject under 3 m"). Commas separate terms; every
term must hold. It prints how it read the phrase, then the shots whose shot labels match (their
majority shot size and movement, mean focal length, speed and distance); with --frames, the
shots holding frames whose own labels match, with the timecodes of the first and last such
frame. A word it cannot read is named with what it knows instead (exit status 2).
"""
_FIND_EPILOG = """\
examples:
  onset studio find "MCU, 75mm, slow push-in, subject under 3 m"
  onset studio find "wide lens, static" --limit 10
  onset studio find "close-up, long lens" --frames
  onset studio find "static, no subject" --catalogue postgresql://onset@db.studio/catalogue --json
"""


def _config(args: argparse.Namespace):
    from edge.cli.studio_storage_cmd import studio_config

    return studio_config(args)


def _catalogue_url(args: argparse.Namespace, config) -> str:
    return args.catalogue if args.catalogue else config.catalogue_url()


def _fail(command: str, err: BaseException) -> int:
    print(f"onset studio {command}: {err}", file=sys.stderr)
    return EXIT_FAILURE


class _ProgressPrinter:
    """One line on stderr each time a take's hashing passes another tenth."""

    def __init__(self) -> None:
        self._last: Dict[str, int] = {}

    def __call__(self, take: str, done: int, total: int) -> None:
        tenth = 10 if total <= 0 else int(10 * done / total)
        if self._last.get(take) == tenth:
            return
        self._last[take] = tenth
        print(f"  {take}: {done / _MIB:.1f} of {total / _MIB:.1f} MiB hashed", file=sys.stderr, flush=True)


def _outcome_lines(outcome) -> List[str]:
    from studio_sync.catalogue import INGESTED, REFUSED

    if outcome.status == INGESTED:
        formats = ", ".join(outcome.hash_formats) or "-"
        line = (f"ingested {outcome.take}: {outcome.files_checked} files verified against generation "
                f"{outcome.generation} ({formats}), {outcome.frames} frames in {outcome.shots} "
                f"{'shot' if outcome.shots == 1 else 'shots'}")
        return [line] + [f"  note: {n}" for n in outcome.notes]
    word = "REFUSED" if outcome.status == REFUSED else "FAILED"
    lines = [f"{word} {outcome.take}: {outcome.reason}"]
    lines += [f"  {p}" for p in outcome.problems]
    if outcome.withdrawn:
        lines.append("  its earlier catalogue entry was withdrawn")
    return lines


def _ingest(args: argparse.Namespace) -> int:
    from studio_sync.catalogue import CatalogueError, IngestOptions, ingest_takes, open_catalogue
    from studio_sync.storage import StudioStorageError

    config = _config(args)
    if args.fps <= 0:
        print(f"onset studio ingest: --fps must be positive; got {args.fps}", file=sys.stderr)
        return EXIT_VOCABULARY
    options = IngestOptions(fps=args.fps, work_dir=args.work_dir)
    printer: Optional[Callable] = None if args.json else (lambda o: print("\n".join(_outcome_lines(o)), flush=True))
    try:
        with open_catalogue(_catalogue_url(args, config)) as catalogue:
            report = ingest_takes(config, catalogue, args.takes or None, options=options,
                                  progress=_ProgressPrinter() if args.progress else None, on_outcome=printer)
    except (CatalogueError, StudioStorageError) as err:
        return _fail("ingest", err)
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        if not report.outcomes:
            print(f"no takes under {report.source}")
        print(f"catalogue {report.catalogue}: {report.ingested} ingested, {report.refused} refused, "
              f"{report.failed} failed (run {report.run_id})")
    return 0 if report.ok else EXIT_FAILURE


def _number(value: Optional[float], unit: str, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f} {unit}"


def _movement(match) -> str:
    if match.movement is None:
        return "-"
    if match.movement_speed is None:
        return match.movement
    return f"{match.movement} {match.movement_speed:.3g} {match.movement_speed_unit or ''}".rstrip()


def _table(matches: Sequence[Any]) -> List[str]:
    header = ("TAKE", "SLATE", "SHOT", "TC IN-OUT", "SIZE", "FOCAL", "MOVEMENT", "DISTANCE", "FRAMES")
    rows = [header]
    for m in matches:
        rows.append((m.take, m.slate, str(m.shot_index), f"{m.timecode_in or '-'}-{m.timecode_out or '-'}",
                     m.shot_size or "-",
                     _number(m.mean_focal_length_mm, "mm"), _movement(m), _number(m.mean_subject_distance_m, "m", 2),
                     f"{m.matching_frames}/{m.frames}"))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    return ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


def _find(args: argparse.Namespace) -> int:
    from studio_sync.catalogue import CatalogueError, find_shots, open_catalogue, require_schema
    from studio_sync.vocabulary import VocabularyError, parse_phrase

    if args.limit is not None and args.limit < 0:
        print(f"onset studio find: --limit is a number of shots, 0 or more; got {args.limit}", file=sys.stderr)
        return EXIT_VOCABULARY
    try:
        query = parse_phrase(args.phrase)
    except VocabularyError as err:
        print(f"onset studio find: {err}", file=sys.stderr)
        return EXIT_VOCABULARY
    config = _config(args)
    level = "frame" if args.frames else "shot"
    try:
        with open_catalogue(_catalogue_url(args, config), create=False) as catalogue:
            require_schema(catalogue)
            result = find_shots(catalogue, query, level=level, limit=args.limit)
            url = catalogue.url
    except CatalogueError as err:
        return _fail("find", err)
    if args.json:
        print(json.dumps({"phrase": args.phrase, "catalogue": url, "query": query.to_dict(),
                          "read_as": query.explain(), "level": level, "total": result.total,
                          "shots": [m.to_dict() for m in result.shots]}, indent=1))
        return 0
    print("read as:")
    for line in query.explain() or ["(no filter: every shot)"]:
        print(f"  {line}")
    if not result.shots:
        print("no shot matches" if result.total == 0 else f"{result.total} shots match (none shown: --limit 0)")
        return 0
    print()
    print("\n".join(_table(result.shots)))
    count, shown = result.total, len(result.shots)
    if level == "frame":
        verb = "holds matching frames" if count == 1 else "hold matching frames"
    else:
        verb = "matches" if count == 1 else "match"
    print(f"\n{count} {'shot' if count == 1 else 'shots'} {verb}" + (f" ({shown} shown; --limit)" if shown < count
                                                                        else ""))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``ingest`` and ``find`` to the ``onset studio`` group."""
    ingest = commands.add_parser("ingest", help="verify the stored takes against their MHL and catalogue them",
                                 description=_INGEST_DESCRIPTION, epilog=_INGEST_EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_profile_argument(ingest)
    ingest.add_argument("takes", nargs="*", metavar="TAKE",
                        help="take folder names in the storage (default: every take under the prefix)")
    ingest.add_argument("--catalogue", default=None, metavar="URL",
                        help="sqlite:///PATH or postgresql://user@host/db (default: the profile's "
                             "studio.catalogue.url, else SQLite beside the embedded studio's data)")
    ingest.add_argument("--fps", type=float, default=12.0, metavar="N",
                        help="frames catalogued per second of each take (default: 12, the dataset builder's)")
    ingest.add_argument("--work-dir", default=None, metavar="DIR",
                        help="where each take is copied down to be checked and labelled (default: the system's "
                             "temporary folder; removed after each take)")
    ingest.add_argument("--progress", action="store_true", help="print each take's hashing progress on stderr")
    ingest.add_argument("--json", action="store_true", help="print the run's report as JSON")
    ingest.set_defaults(run=_ingest)

    find = commands.add_parser("find", help="find shots by a production phrase (\"MCU, 75mm, slow push-in\")",
                               description=_FIND_DESCRIPTION, epilog=_FIND_EPILOG,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    add_profile_argument(find)
    find.add_argument("phrase", metavar="PHRASE", help="what to find, in production vocabulary")
    find.add_argument("--catalogue", default=None, metavar="URL",
                      help="sqlite:///PATH or postgresql://user@host/db (default: the profile's catalogue)")
    find.add_argument("--frames", action="store_true",
                      help="match frame by frame: shots holding frames whose own labels match")
    find.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                      help=f"list at most N shots (default: {DEFAULT_LIMIT})")
    find.add_argument("--json", action="store_true", help="print the reading and the shots as JSON")
    find.set_defaults(run=_find)
