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

The two halves are apart so that the expensive one can run elsewhere: :func:`encode_take` is the
work of one take (re-fuse, label, encode PNGs, cut shots), a function of that take alone whose
result (:class:`EncodedTake`) pickles whole; :class:`DatasetWriter` writes encoded takes
sequentially in :func:`take_order`. ``build_dataset`` runs both in this process; the studio's
builder (``studio_sync/datasets``) runs the first on other processes or machines and the second
here, and gets the same bytes.

Why WebDataset tar shards: a training team streams them sequentially from any storage (local
disk, S3, HTTP) with ``webdataset``, torchdata or plain ``tarfile``, shards shuffle and split
across workers and machines, and the PNGs inside are lossless and open anywhere; Parquet with
images would hold the same labels but make every reader decode images out of columns.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

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
from engines.captioner.dataset.source import TakeSource, open_take
from engines.captioner.dataset.splits import (
    DEFAULT_TEST_FRACTION,
    DEFAULT_VAL_FRACTION,
    SPLITS,
    assign_splits,
)
from engines.captioner.dataset.writer import DEFAULT_SHARD_BYTES, DEFAULT_SHARD_SAMPLES, ShardWriter

__all__ = ["BuildOptions", "BuildPlan", "TakeSummary", "BuildReport", "EncodedTake", "DatasetWriter", "check_output",
           "prepare_output", "plan_build", "encode_take", "take_order", "build_dataset"]

FRAMES_CSV, SHOTS_CSV = "frames.csv", "shots.csv"
T = TypeVar("T")


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


def prepare_output(out: Path, overwrite: bool) -> None:
    """Check ``out`` (:func:`check_output`), create it and empty it of an earlier dataset."""
    check_output(out, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    for p in out.iterdir():
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()


class _Spool:
    """Encoded files kept while a take's labels are gathered: on disk in ``folder`` (an unnamed
    temporary file), or in memory when ``folder`` is None. Pickling one (to send an encoded take
    to another process) carries its bytes; the copy keeps them in memory."""

    def __init__(self, folder: Optional[Path] = None) -> None:
        self._file: BinaryIO = io.BytesIO() if folder is None else tempfile.TemporaryFile(dir=folder, prefix=".spool-")

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

    def __getstate__(self) -> Dict[str, Any]:
        self._file.seek(0)
        return {"data": self._file.read()}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self._file = io.BytesIO(state["data"])


@dataclass
class EncodedTake:
    """One take fused again, labelled, cut into shots and its PNGs encoded: everything the shards
    need, not written yet (:func:`encode_take`). ``records`` are every chosen frame in frame order
    (the shots are cut over all of them); ``stored[i]`` is where frame ``i``'s RGB and depth PNGs
    lie in the spool and the image's (H, W), or None for a frame left out by ``keep``. It pickles
    whole (its spool's bytes with it), so another process may encode and this one write;
    :meth:`close` frees the spool."""

    source: TakeSource
    records: List[FrameRecord]
    stored: List[Optional[Tuple[Tuple[int, int], Tuple[int, int], Tuple[int, int]]]]
    shots: List[Shot]
    has_lidar: bool
    has_pose: bool
    has_lens: bool
    malformed: Dict[str, Any]
    spool: _Spool

    def close(self) -> None:
        self.spool.close()


def encode_take(take: Union[Path, TakeSource, TakeFrames], options: BuildOptions = BuildOptions(), *,
                spool_dir: Optional[Path] = None, keep: Optional[Callable[[FrameRecord], bool]] = None,
                progress: Optional[Callable[[int], None]] = None) -> EncodedTake:
    """The expensive work of one take, a function of the take alone: every chosen frame fused
    again and labelled (:mod:`.refuse`), its PNGs encoded at ``options.png_compress_level``, the
    take cut into shots. PNGs are spooled to an unnamed file in ``spool_dir`` (None: in memory);
    ``keep(record)`` False leaves a frame's PNGs out (its labels still count for the shots);
    ``progress(1)`` hears every frame done."""
    frames = take if isinstance(take, TakeFrames) else TakeFrames(take, options.fps)
    spool = _Spool(spool_dir)
    try:
        source = frames.source
        records: List[FrameRecord] = []
        stored: List[Optional[Tuple[Tuple[int, int], Tuple[int, int], Tuple[int, int]]]] = []
        for frame in frames:
            record = frame_record(frame, source.take_id, source.scene)
            records.append(record)
            if keep is None or keep(record):
                shape = frame.rgb.shape[:2]
                rgb = spool.put(encode_rgb_png(frame.rgb, options.png_compress_level))
                depth = spool.put(encode_depth_png(frame.depth_m, shape, options.png_compress_level))
                stored.append((rgb, depth, shape))
            else:
                stored.append(None)
            if progress is not None:
                progress(1)
    except BaseException:
        spool.close()
        raise
    malformed = {topic: {"messages": n, "first_error": first} for topic, (n, first) in frames.tracks.malformed.items()}
    return EncodedTake(source, records, stored, segment_shots(records), frames.has_lidar, frames.has_pose,
                       frames.has_lens, malformed, spool)


def _shot_of(shots: List[Shot], position: int) -> Shot:
    return next(s for s in shots if s.first <= position <= s.last)


def take_order(takes: Sequence[T], assignment: Mapping[str, str], scene: Callable[[T], str],
               name: Callable[[T], str]) -> Dict[str, List[T]]:
    """The order a dataset is written in: each split (:data:`~.splits.SPLITS` order) with its
    takes by scene and name. Every builder writes in this order, so the same takes give the same
    shards."""
    return {split: sorted((t for t in takes if assignment[scene(t)] == split), key=lambda t: (scene(t), name(t)))
            for split in SPLITS}


class DatasetWriter:
    """Writes encoded takes into the dataset at ``out``, one split at a time, in the order given
    (:func:`take_order`); :meth:`finish` writes ``frames.csv``, ``shots.csv`` and ``index.json``.

    :meth:`add_take`'s ``provenance`` is added to its samples' ``provenance``, and
    :meth:`finish`'s ``build_extra`` to ``index.json``'s ``build`` (after the builder's own keys):
    what a builder of another source records about where the takes came from. The folder is
    prepared at once (:func:`prepare_output`)."""

    def __init__(self, out: Path, options: BuildOptions, assignment: Mapping[str, str]) -> None:
        self.out, self.options, self.assignment = Path(out), options, dict(assignment)
        prepare_output(self.out, options.overwrite)
        self.software = software_provenance()
        self.command = options.command if options.command is not None else command_line()
        self.provenance = dict(self.software, command=self.command, fps=float(options.fps))
        self.frame_rows: List[Dict[str, Any]] = []
        self.shot_rows: List[Dict[str, Any]] = []
        self.summaries: List[TakeSummary] = []
        self.splits: Dict[str, Any] = {}
        self.records_by_split: Dict[str, int] = {}
        self._split: Optional[str] = None
        self._writer: Optional[ShardWriter] = None
        self._split_records: List[FrameRecord] = []
        self._split_takes: List[TakeSource] = []

    def start_split(self, split: str) -> None:
        """Begin writing ``split``'s shards (the one before must be closed)."""
        assert self._writer is None, "close the split before starting another"
        self._split, self._split_records, self._split_takes = split, [], []
        self._writer = ShardWriter(self.out / split, self.options.shard_samples, self.options.shard_bytes)

    def add_take(self, encoded: EncodedTake, provenance: Optional[Mapping[str, Any]] = None,
                 source_path: Optional[str] = None) -> TakeSummary:
        """Write one encoded take's kept frames into the open split, its frames contiguous and in
        frame order; its shots that hold a kept frame go into ``shots.csv``. ``source_path``
        (default: the take folder) is what ``index.json`` says the take was read from."""
        assert self._writer is not None and self._split is not None, "start a split first"
        split, writer, out, source = self._split, self._writer, self.out, encoded.source
        records, shots = encoded.records, encoded.shots
        sample_provenance = dict(self.provenance, take_json_sha256=source.take_json_sha256, take_name=source.name,
                                 **dict(provenance or {}))
        kept: List[FrameRecord] = []
        written_shots = set()
        for position, (record, where) in enumerate(zip(records, encoded.stored)):
            if where is None:
                continue
            rgb, depth, shape = where
            shot = _shot_of(shots, position)
            doc = sample_document(record, source, split, shot, sample_provenance, shape, encoded.has_lidar)
            files = {"rgb.png": encoded.spool.get(rgb), "depth.png": encoded.spool.get(depth),
                     "json": json.dumps(doc, allow_nan=False, sort_keys=True).encode("utf-8")}
            shard = writer.add(record.key, files, mtime_s=record.t_ns // 1_000_000_000)
            self.frame_rows.append(frame_row(record, split, shot, str(shard.relative_to(out))))
            kept.append(record)
            written_shots.add(shot.index)
        shot_rows = [shot_row(shot, records, split) for shot in shots if shot.index in written_shots]
        self.shot_rows.extend(shot_rows)
        summary = TakeSummary(source.take_id, source.name, source.scene, split, len(kept), len(shot_rows),
                              encoded.has_lidar, encoded.has_pose, encoded.has_lens, source.take_json_sha256,
                              str(source.path) if source_path is None else source_path, encoded.malformed)
        self.summaries.append(summary)
        self._split_records.extend(kept)
        self._split_takes.append(source)
        return summary

    def close_split(self) -> None:
        """Finish the open split's shards and note its scenes, takes, shards and counts."""
        assert self._writer is not None and self._split is not None, "no split is open"
        shards = self._writer.close()
        split, chosen, records = self._split, self._split_takes, self._split_records
        self._writer = self._split = None
        self.records_by_split[split] = len(records)
        self.splits[split] = {
            "scenes": sorted({t.scene for t in chosen}),
            "takes": [t.take_id for t in chosen],
            "shards": [str(p.relative_to(self.out)) for p in shards],
            "samples": len(records),
            "shots": sum(1 for r in self.shot_rows if r["split"] == split),
            "counts": class_counts(records),
        }

    def abort(self) -> None:
        """Drop the shard being written (the build failed); no ``index.json`` is written."""
        if self._writer is not None:
            self._writer.abort()
        self._writer = self._split = None

    def finish(self, build_extra: Optional[Mapping[str, Any]] = None) -> BuildReport:
        """Write ``frames.csv``, ``shots.csv`` and, last, ``index.json``; the finished dataset."""
        options, out = self.options, self.out
        write_csv(out / FRAMES_CSV, FRAME_COLUMNS, self.frame_rows)
        write_csv(out / SHOTS_CSV, SHOT_COLUMNS, self.shot_rows)
        build = {"command": self.command, "fps": float(options.fps), "val_scenes": list(options.val_scenes),
                 "test_scenes": list(options.test_scenes), "val_fraction": options.val_fraction,
                 "test_fraction": options.test_fraction, "shard_samples": options.shard_samples,
                 "shard_bytes": options.shard_bytes, "png_compress_level": options.png_compress_level,
                 "min_stable_s": MIN_STABLE_S, "scene_splits": dict(sorted(self.assignment.items())),
                 **dict(build_extra or {})}
        write_json(out / INDEX_FILE, index_document(build, self.splits, [asdict(s) for s in self.summaries],
                                                    self.software))
        return BuildReport(out, list(self.summaries), dict(self.records_by_split),
                           {s: int(v["shots"]) for s, v in self.splits.items()})


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
    writer = DatasetWriter(Path(out), options, plan.assignment)
    order = take_order(plan.takes, plan.assignment, lambda t: t.source.scene, lambda t: t.source.name)
    for split, chosen in order.items():
        writer.start_split(split)
        try:
            for take in chosen:
                encoded = encode_take(take, options, spool_dir=writer.out, progress=progress)
                try:
                    writer.add_take(encoded)
                finally:
                    encoded.close()
        except BaseException:
            writer.abort()
            raise
        writer.close_split()
    return writer.finish()
