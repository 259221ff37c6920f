"""``onset sync verify|seal|copy``: a take's chain of custody on the edge box (docs/studio-sync/custody.md).

A TAKE is a take folder's path, or its name (or a unique prefix of it) in the takes folder:
``--takes-dir``, else ``$ONSET_TAKES_DIR``, else the profile's ``recorder.takes_dir``. Each
command reports every take it was given and exits 1 if any of them failed; a progress bar goes
to stderr when it is a terminal (or with ``--progress``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from config import load_profile
from config.studio import CustodyConfig
from edge.cli.args import add_profile_argument
from edge.cli.takes_cmd import TAKES_DIR_ENV, chosen_takes_dir, format_table, size_text
from edge.recorder.errors import RecorderError

__all__ = ["register"]

EXIT_FAILURE = 1

_VERIFY_EPILOG = """\
examples:
  onset sync verify 12_3_004_20261105T142233Z
  onset sync verify 12_3_004                   a unique prefix of the name, in the takes folder
  onset sync verify /mnt/shuttle/12_3_004_20261105T142233Z --progress
  onset sync verify 12_3_004 12_3_005 --json   one JSON document for scripts

Every file of the take is read again and compared with the digest its first generation recorded
(xxh64 or xxh128). The history itself is checked first: the chain file holds each generation
file's c4 digest, so an MHL file edited by hand or cut short is reported, not trusted. Exit 0
when every take verifies, 1 when any file is missing, extra or altered or a history is damaged.
Nothing is written. The same digests can be checked by hand: `xxhsum -H1 FILE` prints xxh64.
"""

_SEAL_EPILOG = """\
examples:
  onset sync seal 12_3_004_20261105T142233Z   a take recorded before sealing was on, or with
                                              studio.custody.on_close: false
  onset sync seal 12_3_004 --hash-format xxh128
  onset sync seal 12_3_004 --author "Jo Wrangler"

The recorder seals every take when it closes (studio.custody.on_close). Sealing a take that has
a history adds the next generation: every file recorded before must still match (else nothing
is written and the differences are listed); files added since (captions) are recorded as new.
"""

_COPY_EPILOG = """\
examples:
  onset sync copy 12_3_004_20261105T142233Z /mnt/shuttle
  onset sync copy 12_3_004 12_3_005 /mnt/shuttle --progress
  onset sync copy /takes/12_3_004_20261105T142233Z /mnt/raid/day3 --hash-format xxh128

DEST is a folder; each take lands in DEST/<take name>, which must not exist yet (a take is never
copied over another). Each file is checked against the source's history as it is read, read back
from DEST and checked again; the copy's history keeps every earlier generation byte for byte and
gets a new one, process "transfer". The source is only read. A failed copy leaves nothing in DEST.
"""


def _takes_dir(args: argparse.Namespace) -> Path:
    return chosen_takes_dir(args)


def _resolve(args: argparse.Namespace, name: str) -> Path:
    from edge.recorder.catalog import resolve_take

    path = Path(name).expanduser()
    if "/" in name or path.is_dir():
        return path  # a path: the custody functions say what is wrong with it, if anything
    return resolve_take(_takes_dir(args), name)


def _custody(args: argparse.Namespace) -> CustodyConfig:
    return load_profile(args.profile).studio.custody


class _Bar:
    """A tqdm byte bar on stderr (hidden unless stderr is a terminal or ``--progress``), fed (done, total)."""

    def __init__(self, label: str, show: bool) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=None, unit="B", unit_scale=True, unit_divisor=1024, desc=label, file=sys.stderr,
                         leave=False, disable=not (show or sys.stderr.isatty()))

    def __call__(self, done: int, total: int) -> None:
        if self._bar.total != total:
            self._bar.total = total
            self._bar.refresh()
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def _each_take(args: argparse.Namespace) -> Iterator[Tuple[str, Optional[Path], Optional[str]]]:
    """``(TAKE, its folder, None)``, or ``(TAKE, None, why it was not found)``, for each TAKE argument."""
    from studio_sync.custody import CustodyError

    for name in args.takes:
        try:
            yield name, _resolve(args, name), None
        except (RecorderError, CustodyError) as err:
            yield name, None, str(err)


def _with_bar(show: bool, job: Callable[..., Any], folder: Path, *args: Any, **kwargs: Any) -> Any:
    """``job(folder, *args, progress=bar, **kwargs)`` with a progress bar for ``folder``."""
    bar = _Bar(folder.name, show)
    try:
        return job(folder, *args, progress=bar, **kwargs)
    finally:
        bar.close()


# -- verify -------------------------------------------------------------------------------------
def _problem_rows(report: Any) -> List[List[str]]:
    rows = [["altered", a.path, a.hash_format, a.expected, a.actual, str(a.generation)] for a in report.altered]
    rows += [["missing", m.path, m.hash_format, m.expected, "-", str(m.generation)] for m in report.missing]
    rows += [["extra", e.path, "-", "-", "-", "-"] for e in report.extra]
    return rows


def _verify(args: argparse.Namespace) -> int:
    from studio_sync.custody import CustodyError, verify_take

    failed = False
    documents: List[Dict[str, Any]] = []
    for name, folder, problem in _each_take(args):
        report = None
        if folder is not None:
            try:
                report = _with_bar(args.progress, verify_take, folder)
            except CustodyError as err:
                problem = str(err)
        failed = failed or report is None or not report.ok
        if args.json:
            documents.append(report.to_dict() if report is not None else
                             {"take": str(folder or name), "ok": False, "error": problem})
            continue
        if report is None:
            print(f"FAILED    {folder.name if folder else name}: {problem}")
        elif report.ok:
            print(f"VERIFIED  {report.summary()}, {size_text(report.bytes_checked)}")
        else:
            print(f"FAILED    {report.summary()}")
            table = format_table(["", "FILE", "FORMAT", "RECORDED", "NOW", "GENERATION"], _problem_rows(report))
            print("\n".join("  " + line for line in table.splitlines()))
    if args.json:
        print(json.dumps(documents, indent=2))
    return EXIT_FAILURE if failed else 0


# -- seal ---------------------------------------------------------------------------------------
def _generation_settings(args: argparse.Namespace) -> Tuple[str, Optional[str]]:
    """The hash format and author of a new generation: the options, else the profile's custody."""
    custody = _custody(args)
    return args.hash_format or custody.hash_format, args.author if args.author is not None else custody.author


def _seal(args: argparse.Namespace) -> int:
    from studio_sync.custody import CustodyError, seal_take

    hash_format, author = _generation_settings(args)
    failed = False
    for _, folder, problem in _each_take(args):
        if folder is not None:
            try:
                result = _with_bar(args.progress, seal_take, folder, hash_format, author,
                                   comment="sealed by hand (onset sync seal)")
            except CustodyError as err:
                problem = str(err)
            else:
                first = len(result.new_files) if result.generation > 1 else 0
                new = f", {first} recorded for the first time" if first else ""
                print(f"sealed {result.take.name}: generation {result.generation} "
                      f"(ascmhl/{result.mhl_file.name}), {result.files} files, {size_text(result.bytes)}, "
                      f"{result.hash_format}{new}")
                continue
        failed = True
        print(f"onset sync seal: {problem}", file=sys.stderr)
    return EXIT_FAILURE if failed else 0


# -- copy ---------------------------------------------------------------------------------------
def _copy(args: argparse.Namespace) -> int:
    from studio_sync.custody import CustodyError, copy_take

    hash_format, author = _generation_settings(args)
    failed = False
    for _, folder, problem in _each_take(args):
        if folder is not None:
            try:
                result = _with_bar(args.progress, copy_take, folder, args.dest, hash_format, author)
            except CustodyError as err:
                problem = str(err)
            else:
                print(f"copied {result.source.name} to {result.copy}: {result.files} files, {size_text(result.bytes)}, "
                      f"every byte read back and verified ({', '.join(result.hash_formats)}); generation "
                      f"{result.generation} (transfer) is ascmhl/{result.mhl_file.name}")
                continue
        failed = True
        print(f"onset sync copy: {problem}", file=sys.stderr)
    return EXIT_FAILURE if failed else 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--takes-dir", default=None, metavar="DIR",
                        help=f"where take names are looked up (default: ${TAKES_DIR_ENV}, else the profile's "
                             "recorder.takes_dir)")
    parser.add_argument("--progress", action="store_true",
                        help="show a progress bar on stderr even when it is not a terminal")
    add_profile_argument(parser)


def _writer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hash-format", choices=("xxh64", "xxh128"), default=None,
                        help="digest of the new generation (default: the profile's studio.custody.hash_format, xxh64)")
    parser.add_argument("--author", default=None, metavar="NAME",
                        help="the MHL's author (default: studio.custody.author, else the user running onset)")


def register(commands: argparse._SubParsersAction) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    verify = commands.add_parser(
        "verify", help="re-hash takes against their ASC MHL history; name missing, extra, altered files",
        description="Re-hash each take and compare every file with its ASC MHL history.",
        epilog=_VERIFY_EPILOG, formatter_class=fmt)
    verify.add_argument("takes", nargs="+", metavar="TAKE", help="take folder path, name or unique name prefix")
    verify.add_argument("--json", action="store_true", help="print one JSON list of reports instead of the table")
    _common(verify)
    verify.set_defaults(run=_verify)

    seal = commands.add_parser(
        "seal", help="write a take's first (or next) ASC MHL generation",
        description="Hash every file of each take and write the next in-place generation into <take>/ascmhl/.",
        epilog=_SEAL_EPILOG, formatter_class=fmt)
    seal.add_argument("takes", nargs="+", metavar="TAKE", help="take folder path, name or unique name prefix")
    _writer_options(seal)
    _common(seal)
    seal.set_defaults(run=_seal)

    copy = commands.add_parser(
        "copy", help="offload takes to another folder or drive, verified, with a new MHL generation",
        description="Copy each take into DEST/<take name>, verify every byte, add a transfer generation.",
        epilog=_COPY_EPILOG, formatter_class=fmt)
    copy.add_argument("takes", nargs="+", metavar="TAKE", help="take folder path, name or unique name prefix")
    copy.add_argument("dest", metavar="DEST", help="the folder the takes are copied into")
    _writer_options(copy)
    _common(copy)
    copy.set_defaults(run=_copy)
