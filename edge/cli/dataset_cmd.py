"""``onset dataset``: build the captioner's training dataset from takes, and describe one (no node needed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, List, Optional, Sequence

__all__ = ["register", "expand_takes", "split_scenes", "dataset_summary", "missing_labels_note"]

EXIT_FAILURE = 1


def expand_takes(paths: Sequence[str]) -> List[Path]:
    """Take folders from the command line: a take folder as is, a folder of takes as every take
    in it (by name); anything else is passed on for the builder to refuse with its reason."""
    from edge.recorder.take import TAKE_JSON

    out: List[Path] = []
    for text in paths:
        path = Path(text).expanduser()
        if path.is_dir() and not (path / TAKE_JSON).exists():
            inside = sorted(p for p in path.iterdir() if p.is_dir() and (p / TAKE_JSON).exists())
            if inside:
                out.extend(inside)
                continue
        out.append(path)
    return list(dict.fromkeys(out))


def split_scenes(values: Optional[Sequence[str]]) -> tuple:
    """The names of a repeated, comma-separated option (``--val-scenes 12,14 --val-scenes 15``)."""
    return tuple(s.strip() for value in values or () for s in value.split(",") if s.strip())


def dataset_summary(report: Any) -> str:
    """``N samples (train a, val b, test c) from T takes, S shots, in DIR`` of a built dataset."""
    total = sum(report.samples_per_split.values())
    per = ", ".join(f"{s} {n}" for s, n in report.samples_per_split.items())
    return (f"{total} samples ({per}) from {len(report.takes)} takes, {sum(report.shots_per_split.values())} shots, "
            f"in {report.root}")


def missing_labels_note(take: Any) -> Optional[str]:
    """The note for a take of a built dataset that lacks LiDAR, rig pose or lens, or None."""
    absent = [name for name, has in (("LiDAR", take.lidar), ("rig pose", take.pose), ("lens", take.lens)) if not has]
    if not absent:
        return None
    return f"note: take {take.name} has no {', '.join(absent)}: those labels are marked missing"


def _build(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from engines.captioner.dataset import BuildOptions, DatasetError, build_dataset, plan_build
    from engines.captioner.dataset.build import check_output
    from engines.captioner.dataset.splits import SPLITS, split_table

    options = BuildOptions(fps=args.fps, val_scenes=split_scenes(args.val_scenes),
                           test_scenes=split_scenes(args.test_scenes),
                           val_fraction=args.val_fraction, test_fraction=args.test_fraction,
                           shard_samples=args.shard_samples, shard_bytes=int(args.shard_mb * 1_000_000),
                           png_compress_level=args.png_level, overwrite=args.overwrite)
    takes = expand_takes(args.takes)
    try:
        check_output(Path(args.out), options.overwrite)
        plan = plan_build(takes, options)
        print("\n".join(split_table(plan.assignment, plan.takes_per_scene())))
        empty = [s for s in SPLITS if s not in plan.assignment.values()]
        if empty:
            print(f"note: no scene fell in {' or '.join(empty)}; name scenes with --val-scenes / --test-scenes")
        with tqdm(total=plan.expected_frames, unit="frame", desc="re-fusing and labelling", file=sys.stderr,
                  disable=None) as bar:
            report = build_dataset(takes, Path(args.out), options, plan=plan, progress=bar.update)
    except DatasetError as err:
        print(f"onset dataset build: {err}", file=sys.stderr)
        return EXIT_FAILURE
    print(dataset_summary(report))
    for take in report.takes:
        note = missing_labels_note(take)
        if note:
            print(note)
        for topic, problem in take.malformed.items():
            print(f"note: take {take.name}: {problem['messages']} message(s) on {topic} did not decode "
                  f"({problem['first_error']})")
    return 0


def _show(args: argparse.Namespace) -> int:
    from edge.cli.takes_cmd import format_table
    from engines.captioner.dataset import DatasetError, read_index

    try:
        index = read_index(Path(args.dir))
    except DatasetError as err:
        print(f"onset dataset show: {err}", file=sys.stderr)
        return EXIT_FAILURE
    build, software = index.get("build") or {}, index.get("software") or {}
    splits = index.get("splits") or {}
    print(f"dataset  {args.dir}  (schema {index.get('schema_version')})")
    print(f"built by {software.get('software')} {software.get('version') or '?'}"
          + (f" at {str(software.get('git_commit'))[:12]}" if software.get("git_commit") else "")
          + f", {build.get('fps')} fps: {build.get('command') or '-'}")
    rows = [[name, str(len(s.get("scenes") or [])), str(len(s.get("takes") or [])), str(s.get("samples", 0)),
             str(s.get("shots", 0)), str(len(s.get("shards") or [])), ", ".join(s.get("scenes") or []) or "-"]
            for name, s in splits.items()]
    print(format_table(["SPLIT", "SCENES", "TAKES", "SAMPLES", "SHOTS", "SHARDS", "SCENE NAMES"], rows,
                       right=frozenset({1, 2, 3, 4, 5})))
    for label in ("shot_size", "movement"):
        classes = [c for c in (index.get("vocabularies") or {}).get(label, [])] + ["missing"]
        counts = {name: (s.get("counts") or {}).get(label) or {} for name, s in splits.items()}
        shown = [c for c in classes if any(counts[n].get(c, 0) for n in counts)]
        if not shown:
            continue
        print()
        table = [[c] + [str(counts[n].get(c, 0)) for n in splits] for c in shown]
        print(format_table([label.upper()] + [n.upper() for n in splits], table,
                           right=frozenset(range(1, len(splits) + 1))))
    missing = {n: (s.get("counts") or {}).get("missing") or {} for n, s in splits.items()}
    labels = sorted({k for m in missing.values() for k in m})
    if labels:
        print()
        table = [[k] + [str(missing[n].get(k, 0)) for n in splits] for k in labels]
        print(format_table(["MISSING"] + [n.upper() for n in splits], table,
                           right=frozenset(range(1, len(splits) + 1))))
    return 0


def register(groups: argparse._SubParsersAction) -> None:
    group = groups.add_parser("dataset", help="build and describe the captioner's training dataset",
                              description="Build the captioner's training dataset from recorded takes "
                                          "(docs/dataset.md), and describe one.")
    sub = group.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    fmt = argparse.RawDescriptionHelpFormatter

    build = sub.add_parser(
        "build", help="takes -> labelled frames, shots and WebDataset shards, split by scene", formatter_class=fmt,
        description="Fuse every take's frames again at --fps, label them from the sensors (lens, rig pose, LiDAR),\n"
                    "cut each take into shots and write DIR/<split>/shard-NNNNNN.tar (WebDataset: rgb.png, 16-bit\n"
                    "depth.png in mm, json per frame), frames.csv, shots.csv and index.json. Scenes are split into\n"
                    "train/val/test (named with --val-scenes/--test-scenes, the rest by a stable hash); a scene is\n"
                    "in one split only. Labels a take cannot measure (no LiDAR, no telemetry, no lens topic) are\n"
                    "marked missing with the reason, never guessed.",
        epilog="examples:\n"
               "  onset dataset build ~/onset-takes --out /data/captioner-v1\n"
               "  onset dataset build takes/pan-s7_* takes/ms-s3_* --out ds --val-scenes ms-s3 --fps 12\n"
               "  onset dataset build ~/onset-takes --out ds --test-scenes pan-s9,ms-s9 --shard-samples 500",
    )
    build.add_argument("takes", nargs="+", metavar="TAKE", help="take folders, or folders of takes")
    build.add_argument("--out", required=True, metavar="DIR", help="the dataset folder (new or empty)")
    build.add_argument("--fps", type=float, default=12.0, help="frames a second taken from each take (default 12)")
    build.add_argument("--val-scenes", action="append", default=[], metavar="S[,S...]",
                       help="scenes for validation (repeat or comma-separate)")
    build.add_argument("--test-scenes", action="append", default=[], metavar="S[,S...]",
                       help="scenes for test (repeat or comma-separate)")
    build.add_argument("--val-fraction", type=float, default=0.1,
                       help="share of the other scenes hashed into validation (default 0.1)")
    build.add_argument("--test-fraction", type=float, default=0.1,
                       help="share of the other scenes hashed into test (default 0.1)")
    build.add_argument("--shard-samples", type=int, default=1000, metavar="N",
                       help="samples per shard at most (default 1000)")
    build.add_argument("--shard-mb", type=float, default=500.0, metavar="MB",
                       help="megabytes per shard at most (default 500)")
    build.add_argument("--png-level", type=int, default=6, choices=range(10), metavar="0-9",
                       help="PNG compression (lossless at every level; default 6)")
    build.add_argument("--overwrite", action="store_true", help="replace an earlier dataset in DIR")
    build.set_defaults(run=_build)

    show = sub.add_parser(
        "show", help="counts per split and class", formatter_class=fmt,
        description="What a built dataset holds: its build, each split's scenes, takes, samples, shots and\n"
                    "shards, frames per shot size and movement class, and labels marked missing.",
        epilog="examples:\n  onset dataset show /data/captioner-v1",
    )
    show.add_argument("dir", metavar="DIR", help="a dataset folder (with index.json)")
    show.set_defaults(run=_show)
