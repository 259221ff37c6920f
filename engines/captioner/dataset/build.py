"""``onset dataset build``: takes -> labelled frames -> shots -> WebDataset shards split by scene.

:func:`plan_build` opens every take first (``take.json``, the bag's small topics; a take that is
not one, whose bag does not read or that has no camera frame stops the build before anything is
written) and assigns each scene a split (:mod:`.splits`). :func:`build_dataset` then takes the
splits in turn, and in each its takes by scene and name: every chosen frame is fused again and
labelled (:mod:`.refuse`), its PNGs encoded (:mod:`.png`) and spooled to a temporary file beside
the output while the take's labels are gathered; the take is cut into shots (:mod:`.segment`), and
its samples go into the split's shards (:mod:`.writer`) with their JSON (:mod:`.metadata`), the
take's frames contiguous and in frame order. ``frames.csv``, ``shots.csv`` and ``index.json``
follow. The output folder must be empty (or hold an earlier dataset, with ``overwrite``).

Why WebDataset tar shards: a training team streams them sequentially from any storage (local
disk, S3, HTTP) with ``webdataset``, torchdata or plain ``tarfile``, shards shuffle and split
across workers and machines, and the PNGs inside are lossless and open anywhere; Parquet with
images would hold the same labels but make every reader decode images out of columns.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from engines.captioner.dataset.errors import DatasetError, DatasetExistsError
from engines.captioner.dataset.metadata import (
    FRAME_COLUMNS,
    SHOT_COLUMNS,
    class_counts,
    frame_row,
    index_document,
    sample_document,
    shot_row,
    write_csv,
    write_json,
)
from engines.captioner.dataset.png import encode_depth_png, encode_rgb_png
from engines.captioner.dataset.provenance import command_line, software_provenance
from engines.captioner.dataset.reader import INDEX_FILE
from engines.captioner.dataset.records import FrameRecord, frame_record
from engines.captioner.dataset.refuse import DEFAULT_FPS, TakeFrames
from engines.captioner.dataset.segment import MIN_STABLE_S, Shot, segment_shots
from engines.captioner.dataset.source import open_take
from engines.captioner.dataset.splits import (
    DEFAULT_TEST_FRACTION,
    DEFAULT_VAL_FRACTION,
    SPLITS,
    assign_splits,
)
from engines.captioner.dataset.writer import DEFAULT_SHARD_BYTES, DEFAULT_SHARD_SAMPLES, ShardWriter

__all__ = ["BuildOptions", "BuildPlan", "TakeSummary", "BuildReport", "check_output", "plan_build", "build_dataset"]

FRAMES_CSV, SHOTS_CSV = "frames.csv", "shots.csv"


@dataclass(frozen=True)
class BuildOptions:
    """How to build: ``fps`` frames a second taken from each take; scenes named for validation and
    test (the others split by hash at the fractions); shard limits; PNG compression (lossless at
    every level, 0-9: slower, smaller); ``command`` for provenance (default: this process's)."""

    fps: float = DEFAULT_FPS
    val_scenes: Tuple[str, ...] = ()
    test_scenes: Tuple[str, ...] = ()
    val_fraction: float = DEFAULT_VAL_FRACTION
    test_fraction: float = DEFAULT_TEST_FRACTION
    shard_samples: int = DEFAULT_SHARD_SAMPLES
    shard_bytes: int = DEFAULT_SHARD_BYTES
    png_compress_level: int = 6
    command: Optional[str] = None
    overwrite: bool = False


@dataclass
class BuildPlan:
    """Every take opened (its frames not read yet) and each scene's split."""

    takes: List[TakeFrames]
    assignment: Dict[str, str]

    def takes_per_scene(self) -> Dict[str, int]:
        out: Dict[str, int] = {}
        for take in self.takes:
            out[take.source.scene] = out.get(take.source.scene, 0) + 1
        return out

    @property
    def expected_frames(self) -> int:
        return sum(t.expected_frames for t in self.takes)


@dataclass(frozen=True)
class TakeSummary:
    """What one take gave: samples, shots, and which sensors it had."""

    take_id: str
    name: str
    scene: str
    split: str
    samples: int
    shots: int
    lidar: bool
    pose: bool
    lens: bool
    take_json_sha256: str
    source_path: str
    malformed: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildReport:
    """The finished dataset: where it is, its takes and the samples per split."""

    root: Path
    takes: List[TakeSummary]
    samples_per_split: Dict[str, int]
    shots_per_split: Dict[str, int]


def plan_build(takes: Sequence[Path], options: BuildOptions = BuildOptions()) -> BuildPlan:
    """Open every take and split the scenes (module docstring); nothing is written."""
    if not takes:
        raise DatasetError("no takes given: name take folders (or a folder of takes)")
    opened: List[TakeFrames] = []
    seen: Dict[str, Path] = {}
    for path in takes:
        source = open_take(Path(path))
        if source.take_id in seen:
            raise DatasetError(f"takes {seen[source.take_id]} and {source.path} have the same id {source.take_id!r}")
        seen[source.take_id] = source.path
        opened.append(TakeFrames(source, options.fps))
    assignment = assign_splits((t.source.scene for t in opened), options.val_scenes, options.test_scenes,
                               options.val_fraction, options.test_fraction)
    return BuildPlan(opened, assignment)


def check_output(out: Path, overwrite: bool = False) -> None:
    """Raise :class:`DatasetExistsError` unless ``out`` is absent, empty, or (with ``overwrite``)
    holds only an earlier dataset's files."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DatasetExistsError(f"{out} is a file, not a folder for the dataset")
    present = list(out.iterdir()) if out.is_dir() else []
    if not present:
        return
    ours = {INDEX_FILE, FRAMES_CSV, SHOTS_CSV, *SPLITS}
    foreign = sorted(p.name for p in present if p.name not in ours)
    if foreign:
        raise DatasetExistsError(f"{out} already holds files that are not a dataset's ({', '.join(foreign[:5])}): "
                                 "give an empty or new folder")
    if not overwrite:
        raise DatasetExistsError(f"{out} already holds a dataset: give an empty or new folder, or overwrite it "
                                 "(--overwrite)")


def _prepare(out: Path, overwrite: bool) -> None:
    check_output(out, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    for p in out.iterdir():
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()


class _Spool:
    """Encoded files kept on disk while a take's labels are gathered."""

    def __init__(self, folder: Path) -> None:
        self._file = tempfile.TemporaryFile(dir=folder, prefix=".spool-")

    def put(self, data: bytes) -> Tuple[int, int]:
        self._file.seek(0, 2)
        offset = self._file.tell()
        self._file.write(data)
        return offset, len(data)

    def get(self, where: Tuple[int, int]) -> bytes:
        self._file.seek(where[0])
        return self._file.read(where[1])

    def close(self) -> None:
        self._file.close()


def _shot_of(shots: List[Shot], position: int) -> Shot:
    return next(s for s in shots if s.first <= position <= s.last)


def _write_take(take: TakeFrames, split: str, writer: ShardWriter, out: Path, options: BuildOptions,
                provenance: Dict[str, Any], progress: Optional[Callable[[int], None]],
                frame_rows: List[Dict[str, Any]], shot_rows: List[Dict[str, Any]]
                ) -> Tuple[TakeSummary, List[FrameRecord]]:
    source = take.source
    spool = _Spool(out)
    try:
        records: List[FrameRecord] = []
        stored: List[Tuple[Tuple[int, int], Tuple[int, int], Tuple[int, int]]] = []
        for frame in take:
            shape = frame.rgb.shape[:2]
            rgb = spool.put(encode_rgb_png(frame.rgb, options.png_compress_level))
            depth = spool.put(encode_depth_png(frame.depth_m, shape, options.png_compress_level))
            records.append(frame_record(frame, source.take_id, source.scene))
            stored.append((rgb, depth, shape))
            if progress is not None:
                progress(1)
        shots = segment_shots(records)
        sample_provenance = dict(provenance, take_json_sha256=source.take_json_sha256, take_name=source.name)
        for position, (record, (rgb, depth, shape)) in enumerate(zip(records, stored)):
            shot = _shot_of(shots, position)
            doc = sample_document(record, source, split, shot, sample_provenance, shape, take.has_lidar)
            files = {"rgb.png": spool.get(rgb), "depth.png": spool.get(depth),
                     "json": json.dumps(doc, allow_nan=False, sort_keys=True).encode("utf-8")}
            shard = writer.add(record.key, files, mtime_s=record.t_ns // 1_000_000_000)
            frame_rows.append(frame_row(record, split, shot, str(shard.relative_to(out))))
        shot_rows.extend(shot_row(shot, records, split) for shot in shots)
    finally:
        spool.close()
    malformed = {topic: {"messages": n, "first_error": first} for topic, (n, first) in take.tracks.malformed.items()}
    summary = TakeSummary(source.take_id, source.name, source.scene, split, len(records), len(shots),
                          take.has_lidar, take.has_pose, take.has_lens, source.take_json_sha256, str(source.path),
                          malformed)
    return summary, records


def build_dataset(
    takes: Sequence[Path],
    out: Path,
    options: BuildOptions = BuildOptions(),
    *,
    plan: Optional[BuildPlan] = None,
    progress: Optional[Callable[[int], None]] = None,
) -> BuildReport:
    """Build the dataset of ``takes`` into ``out`` (module docstring). ``plan``: the takes already
    opened by :func:`plan_build`; ``progress(n)`` hears every ``n`` frames done."""
    plan = plan if plan is not None else plan_build(takes, options)
    out = Path(out)
    _prepare(out, options.overwrite)
    software = software_provenance()
    command = options.command if options.command is not None else command_line()
    provenance = dict(software, command=command, fps=float(options.fps))
    frame_rows: List[Dict[str, Any]] = []
    shot_rows: List[Dict[str, Any]] = []
    summaries: List[TakeSummary] = []
    splits: Dict[str, Any] = {}
    records_by_split: Dict[str, int] = {}
    for split in SPLITS:
        chosen = sorted((t for t in plan.takes if plan.assignment[t.source.scene] == split),
                        key=lambda t: (t.source.scene, t.source.name))
        writer = ShardWriter(out / split, options.shard_samples, options.shard_bytes)
        split_records: List[FrameRecord] = []
        try:
            for take in chosen:
                summary, records = _write_take(take, split, writer, out, options, provenance, progress, frame_rows,
                                               shot_rows)
                summaries.append(summary)
                split_records.extend(records)
        except BaseException:
            writer.abort()
            raise
        shards = writer.close()
        records_by_split[split] = len(split_records)
        splits[split] = {
            "scenes": sorted({t.source.scene for t in chosen}),
            "takes": [t.source.take_id for t in chosen],
            "shards": [str(p.relative_to(out)) for p in shards],
            "samples": len(split_records),
            "shots": sum(1 for r in shot_rows if r["split"] == split),
            "counts": class_counts(split_records),
        }
    write_csv(out / FRAMES_CSV, FRAME_COLUMNS, frame_rows)
    write_csv(out / SHOTS_CSV, SHOT_COLUMNS, shot_rows)
    build = {"command": command, "fps": float(options.fps), "val_scenes": list(options.val_scenes),
             "test_scenes": list(options.test_scenes), "val_fraction": options.val_fraction,
             "test_fraction": options.test_fraction, "shard_samples": options.shard_samples,
             "shard_bytes": options.shard_bytes, "png_compress_level": options.png_compress_level,
             "min_stable_s": MIN_STABLE_S, "scene_splits": dict(sorted(plan.assignment.items()))}
    write_json(out / INDEX_FILE, index_document(build, splits, [asdict(s) for s in summaries], software))
    return BuildReport(out, summaries, records_by_split, {s: int(v["shots"]) for s, v in splits.items()})

