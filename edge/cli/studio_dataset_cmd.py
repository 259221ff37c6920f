"""``onset studio dataset build``: a training dataset from the studio's catalogue, read straight from its storage.

Uses the profile's ``studio`` section: the catalogue (``studio.catalogue.url``; ``--catalogue``
overrides it) to select takes and frames, the storage (read with the reader identity) to fetch
them. See docs/studio-sync/datasets.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List, Sequence

from edge.cli.args import add_profile_argument
from edge.cli.dataset_cmd import dataset_summary, missing_labels_note, split_scenes

__all__ = ["register", "recorded_command", "EXIT_FAILURE"]

EXIT_FAILURE = 1
#: Options that choose where and how the work runs, never what is built: left out of the
#: command the dataset records, so a local and a Ray build of one selection are the same bytes.
_ENGINE_OPTIONS = {"--ray": "optional", "--ray-cpus": "value", "--cache": "value", "--progress": "flag"}

_DESCRIPTION = """\
Build the captioner's training dataset (docs/dataset.md: WebDataset shards of rgb.png, 16-bit
depth.png in mm and JSON per frame, split by scene; frames.csv, shots.csv, index.json) from the
takes and frames a catalogue query selects, reading the takes straight from the studio's storage.

The query: a production phrase (--phrase "MCU, 75mm, slow push-in"), scenes (--scene), shot
sizes (--shot-size), a focal range in mm (--focal 50-85) and movements (--movement); each flag
narrows the phrase. Frames are selected by their own labels (--shots: every frame of the shots
whose shot labels match); with no label filter, whole takes. Each take is downloaded with the
reader identity into a cache (--cache) and every file verified against the take's ASC MHL
history as it arrives: a take that does not verify is refused and nothing is exported. Files the
cache already holds verified are not downloaded again.

The work of each take (fetch, re-fusion, labels, PNGs) runs in this process, or with --ray on a
Ray cluster (--ray HOST:6379, --ray ray://HOST:10001, --ray auto) or a local Ray instance
(--ray alone); the dataset is the same bytes either way. Provenance: every sample names its
take's S3 URL and MHL generation; index.json holds the query, the catalogue and every take's
MHL digests.
"""
_EPILOG = """\
examples:
  onset studio dataset build --out /data/mcu-75 --phrase "MCU, 75mm"
  onset studio dataset build --out ds --scene 12 --scene 14 --val-scenes 14
  onset studio dataset build --out ds --shot-size CU --shot-size MCU --focal 50-85 --movement dolly_in
  onset studio dataset build --out ds --phrase "slow push-in" --shots --progress
  onset studio dataset build --out /data/all --ray ray-head.studio:6379 --cache /scratch/onset-cache
  onset studio dataset build --out ds --phrase static --ray --ray-cpus 4 --overwrite
"""


def recorded_command(argv: Sequence[str]) -> str:
    """The command line as the dataset records it: ``argv`` less the options that only choose
    where the work runs (``--ray [ADDRESS]``, ``--ray-cpus``, ``--cache``, ``--progress``)."""
    from engines.captioner.dataset.provenance import command_line

    kept: List[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        word = args[i]
        name = word.split("=", 1)[0]
        kind = _ENGINE_OPTIONS.get(name)
        if kind is None:
            kept.append(word)
        elif "=" not in word and kind == "value":
            i += 1
        elif "=" not in word and kind == "optional" and i + 1 < len(args) and not args[i + 1].startswith("-"):
            i += 1
        i += 1
    return command_line(kept)


class _Printer:
    """One line on stderr per take fetched and per take written (``--progress``)."""

    def __init__(self) -> None:
        self.frames: Dict[str, int] = {}

    def __call__(self, stage: str, take: str, count: int) -> None:
        if stage == "fetched":
            print(f"  {take}: verified against its MHL, {count} file(s) downloaded", file=sys.stderr, flush=True)
        elif stage == "frames":
            self.frames[take] = self.frames.get(take, 0) + count
        elif stage == "written":
            print(f"  {take}: {self.frames.get(take, 0)} frames labelled, {count} samples written", file=sys.stderr,
                  flush=True)


def _build(args: argparse.Namespace) -> int:
    from edge.cli.studio_storage_cmd import studio_config
    from engines.captioner.dataset import BuildOptions, DatasetError
    from engines.captioner.dataset.build import check_output
    from studio_sync.datasets import (
        DatasetQuery,
        StudioDatasetError,
        build_studio_dataset,
        parse_focal,
        select_from_catalogue,
    )
    from studio_sync.storage import StudioStorageError

    def fail(err: BaseException) -> int:
        print(f"onset studio dataset build: {err}", file=sys.stderr)
        return EXIT_FAILURE

    config = studio_config(args)
    try:
        query = DatasetQuery(phrase=args.phrase, scenes=split_scenes(args.scene),
                             shot_sizes=split_scenes(args.shot_size),
                             focal_mm=None if args.focal is None else parse_focal(args.focal),
                             movements=split_scenes(args.movement), level="shot" if args.shots else "frame")
        shot_query = query.shot_query()
        check_output(Path(args.out), args.overwrite)
        selection = select_from_catalogue(args.catalogue or config.catalogue_url(), query)
    except (StudioDatasetError, DatasetError) as err:
        return fail(err)
    fps = args.fps if args.fps is not None else (selection.label_fps or 12.0)
    options = BuildOptions(fps=fps, val_scenes=split_scenes(args.val_scenes),
                           test_scenes=split_scenes(args.test_scenes),
                           val_fraction=args.val_fraction, test_fraction=args.test_fraction,
                           shard_samples=args.shard_samples, shard_bytes=int(args.shard_mb * 1_000_000),
                           png_compress_level=args.png_level, command=recorded_command(sys.argv),
                           overwrite=args.overwrite)
    print("read as:")
    for line in shot_query.explain() or ["(no label filter: whole takes)"]:
        print(f"  {line}")
    print(f"selected {selection.frames} frames of {len(selection.takes)} take(s) from {selection.catalogue}")
    for take, why in selection.skipped:
        print(f"note: take {take} left out: {why}")
    engine = "ray" if args.ray is not None else "local"
    try:
        report = build_studio_dataset(config, selection, Path(args.out), options, engine=engine,
                                      ray_address=args.ray or None, ray_cpus=args.ray_cpus,
                                      cache=None if args.cache is None else Path(args.cache),
                                      progress=_Printer() if args.progress else None)
    except (StudioDatasetError, DatasetError, StudioStorageError) as err:
        return fail(err)
    downloaded = sum(len(f.downloaded) for f in report.fetched)
    reused = sum(len(f.reused) for f in report.fetched)
    print(f"{dataset_summary(report.dataset)} ({engine}; {downloaded} file(s) downloaded, {reused} from the cache)")
    for note in filter(None, map(missing_labels_note, report.dataset.takes)):
        print(note)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``dataset`` (with ``build``) to the ``onset studio`` group."""
    group = commands.add_parser("dataset", help="training datasets from the catalogue, read from the storage",
                                description="Training datasets built from catalogue queries, read straight from the "
                                            "studio's storage (docs/studio-sync/datasets.md).")
    sub = group.add_subparsers(dest="dataset_command", metavar="COMMAND")
    sub.required = True
    build = sub.add_parser("build", help="a catalogue query -> the captioner's dataset (locally or on Ray)",
                           description=_DESCRIPTION, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_profile_argument(build)
    build.add_argument("--out", required=True, metavar="DIR", help="the dataset folder (new or empty)")
    what = build.add_argument_group("what to select")
    what.add_argument("--phrase", default=None, metavar="PHRASE",
                      help='production vocabulary: "MCU, 75mm, slow push-in" (onset studio find reads it the same)')
    what.add_argument("--scene", action="append", default=[], metavar="S[,S...]",
                      help="only takes of these slate scenes (repeat or comma-separate)")
    what.add_argument("--shot-size", action="append", default=[], metavar="SIZE",
                      help="ECU, CU, MCU, MS, MLS, FS, WS or none (repeat for several)")
    what.add_argument("--focal", default=None, metavar="MM|LOW-HIGH",
                      help="focal length in mm: a range (50-85) or a length (75, with the vocabulary's tolerance)")
    what.add_argument("--movement", action="append", default=[], metavar="MOVE",
                      help="static, pan_left, pan_right, tilt_up, dolly_in, truck_left, zoom_in, handheld, ... "
                           "(repeat for several)")
    what.add_argument("--shots", action="store_true",
                      help="select every frame of the shots whose shot labels match (default: frames by their own)")
    what.add_argument("--catalogue", default=None, metavar="URL",
                      help="sqlite:///PATH or postgresql://user@host/db (default: the profile's catalogue)")
    how = build.add_argument_group("how to build")
    how.add_argument("--fps", type=float, default=None,
                     help="frames a second from each take (default: the rate the takes were catalogued at)")
    how.add_argument("--val-scenes", action="append", default=[], metavar="S[,S...]", help="scenes for validation")
    how.add_argument("--test-scenes", action="append", default=[], metavar="S[,S...]", help="scenes for test")
    how.add_argument("--val-fraction", type=float, default=0.1, help="share of the other scenes hashed into "
                                                                     "validation (default 0.1)")
    how.add_argument("--test-fraction", type=float, default=0.1, help="share of the other scenes hashed into test "
                                                                      "(default 0.1)")
    how.add_argument("--shard-samples", type=int, default=1000, metavar="N", help="samples per shard at most")
    how.add_argument("--shard-mb", type=float, default=500.0, metavar="MB", help="megabytes per shard at most")
    how.add_argument("--png-level", type=int, default=6, choices=range(10), metavar="0-9",
                     help="PNG compression (lossless at every level; default 6)")
    how.add_argument("--overwrite", action="store_true", help="replace an earlier dataset in DIR")
    run = build.add_argument_group("where it runs")
    run.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                     help="run each take's work as a Ray task: on the cluster at ADDRESS (HOST:6379, "
                          "ray://HOST:10001, auto), or on a local Ray instance when no address is given")
    run.add_argument("--ray-cpus", type=int, default=None, metavar="N",
                     help="CPUs of the local Ray instance (default: all of this machine's)")
    run.add_argument("--cache", default=None, metavar="DIR",
                     help="where verified copies of takes are kept (default: cache/ beside the studio's data)")
    run.add_argument("--progress", action="store_true", help="print each take as it is fetched and written")
    build.set_defaults(run=_build)
