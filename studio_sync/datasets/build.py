"""``onset studio dataset build``: a catalogue selection -> the captioner's dataset, read straight from the store.

:func:`build_studio_dataset` writes the captioner's dataset format (``docs/dataset.md``: WebDataset
shards of ``rgb.png``, 16-bit ``depth.png`` and JSON per frame, split by scene, ``frames.csv``,
``shots.csv``, ``index.json``) from the takes a :class:`~.selection.Selection` names:

1. the output folder is checked (new, empty, or an earlier dataset with ``overwrite``) and the
   scenes are split (:func:`engines.captioner.dataset.assign_splits`, from the catalogue's
   scenes) before anything is fetched;
2. the takes go to a runner (:mod:`.runner`: ``local`` in this process, ``ray`` on a cluster) in
   the dataset's write order (:func:`engines.captioner.dataset.build.take_order`); each is fetched
   with the reader identity and verified against its ASC MHL (:mod:`.fetch`; a take that does
   not verify stops the build, nothing of it is written), fused again, labelled and encoded;
3. this process writes the results in that order (:class:`~engines.captioner.dataset.build.DatasetWriter`):
   a frame the selection does not hold keeps no sample, but its labels still count for the shot
   it is in, so shots and shot ids are those of the catalogue and of a dataset of whole takes.

Each take's copy is checked against its catalogue rows (``take_id``, scene, ``take.json``
digest, the selected frames present at the build's rate): a mismatch means the catalogue is
stale (:class:`~.errors.CatalogueMismatchError`).

**Provenance.** Every sample's ``provenance`` adds ``source_url`` (``s3://bucket/prefix/take/``)
and the history it verified against (``mhl_chain_sha256``, ``mhl_generation``,
``mhl_generation_file``, ``mhl_generation_c4``); ``index.json``'s ``build.studio`` holds the
catalogue (URL, password masked), the query (phrase, flags and the filters they read as), the
storage and, per take in write order, its URL, history and the frames selected; each take's
``source_path`` is its URL. Nothing in the output depends on the engine, the cache or the
machine that fetched a take: local and Ray builds of one selection with the same options
(``command`` included) are the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from config.studio import StudioConfig
from engines.captioner.dataset.build import (
    BuildOptions,
    BuildReport,
    DatasetWriter,
    check_output,
    take_order,
)
from engines.captioner.dataset.splits import SPLITS, assign_splits
from studio_sync.datasets.errors import (
    CatalogueMismatchError,
    EngineError,
    NothingSelectedError,
    SelectionError,
)
from studio_sync.datasets.fetch import FetchedTake, TakeLocation
from studio_sync.datasets.runner import RUNNERS, LocalRunner, RayRunner, Runner, RunProgress, TakeJob, TakeResult
from studio_sync.datasets.selection import SelectedTake, Selection

__all__ = ["ENGINES", "StudioBuildReport", "build_studio_dataset", "default_cache", "check_selection"]

ENGINES = tuple(RUNNERS)
_FPS_SLACK = 1e-9


@dataclass(frozen=True)
class StudioBuildReport:
    """The finished dataset (``dataset``: the captioner builder's report), each take's fetch in
    write order, and the engine it ran on."""

    dataset: BuildReport
    fetched: Tuple[FetchedTake, ...]
    engine: str
    skipped: Tuple[Tuple[str, str], ...] = field(default=())

    @property
    def root(self) -> Path:
        return self.dataset.root


def default_cache(config: StudioConfig) -> Path:
    """Where verified copies of takes are kept by default: ``cache/`` beside the studio's data."""
    return config.embedded.data_dir.parent / "cache"


def check_selection(selection: Selection, options: BuildOptions) -> None:
    """Refuse a selection the build cannot honour: none at all, two takes with one id, or
    selected frames at another rate than they were catalogued at."""
    if not selection.takes:
        raise NothingSelectedError("nothing selected: the selection holds no take")
    seen: Dict[str, str] = {}
    for take in selection.takes:
        if take.take_id in seen:
            raise SelectionError(f"takes {seen[take.take_id]} and {take.take} have the same id {take.take_id!r}: "
                                 "their samples' keys would collide")
        seen[take.take_id] = take.take
        if take.frames is not None and take.label_fps is not None and abs(take.label_fps - options.fps) > _FPS_SLACK:
            raise SelectionError(f"take {take.take}'s frames were catalogued at {take.label_fps:g} fps; a selection of "
                                 f"frames is built at that rate, not {options.fps:g} (leave --fps out)")


def _check_result(result: TakeResult, selected: SelectedTake) -> None:
    source = result.encoded.source
    stale = "the catalogue is stale: ingest the take again (onset studio ingest)"
    if source.take_id != selected.take_id or source.scene != selected.scene:
        raise CatalogueMismatchError(f"take {selected.take}: the catalogue says id {selected.take_id!r} in scene "
                                     f"{selected.scene!r}, its take.json says {source.take_id!r} in scene "
                                     f"{source.scene!r}; {stale}")
    if selected.take_json_sha256 and source.take_json_sha256 != selected.take_json_sha256:
        raise CatalogueMismatchError(f"take {selected.take}: its take.json is not the one catalogued (SHA-256 "
                                     f"{source.take_json_sha256}, the catalogue has {selected.take_json_sha256}); "
                                     f"{stale}")
    if selected.frames is not None:
        absent = sorted(selected.frames - {r.frame_index for r in result.encoded.records})
        if absent:
            raise CatalogueMismatchError(f"take {selected.take}: the catalogue selects {len(absent)} frame(s) the "
                                         f"take does not give at {result.job.options.fps:g} fps (frame index "
                                         f"{absent[0]} first); {stale}")


def _sample_provenance(fetched: FetchedTake) -> Dict[str, Any]:
    return {"source_url": fetched.location.url, "mhl_chain_sha256": fetched.history_sha256,
            "mhl_generation": fetched.generation, "mhl_generation_file": fetched.generation_file,
            "mhl_generation_c4": fetched.generation_c4}


def _runner(engine: str, config: StudioConfig, cache: Path, spool_dir: Path, client: Any, credentials: Any,
            ray_address: Optional[str], ray_cpus: Optional[int], ray_init: Optional[Mapping[str, Any]],
            progress: Optional[RunProgress]) -> Runner:
    from studio_sync.storage import resolve_credentials, s3_client

    if engine == LocalRunner.name:
        return LocalRunner(client if client is not None else s3_client(config, "reader"), cache, spool_dir, progress)
    keys = credentials if credentials is not None else resolve_credentials(config, "reader")
    return RayRunner(config, keys, cache, address=ray_address, num_cpus=ray_cpus, init=ray_init, progress=progress)


def build_studio_dataset(
    config: StudioConfig,
    selection: Selection,
    out: Path,
    options: Optional[BuildOptions] = None,
    *,
    engine: str = "local",
    ray_address: Optional[str] = None,
    ray_cpus: Optional[int] = None,
    ray_init: Optional[Mapping[str, Any]] = None,
    cache: Optional[Path] = None,
    client: Any = None,
    credentials: Any = None,
    progress: Optional[RunProgress] = None,
) -> StudioBuildReport:
    """Build the dataset of ``selection`` into ``out`` from the studio's storage (module docstring),
    with the captioner builder's ``options`` (default :class:`BuildOptions`).

    ``engine``: ``local`` or ``ray`` (``ray_address``: a cluster's; None: a local instance of
    ``ray_cpus`` CPUs, ``ray_init`` added to its ``ray.init``); ``cache``: where verified copies
    of takes are kept (default :func:`default_cache`); ``client`` / ``credentials``: the reader's
    S3 client (local) or keys (Ray), default from ``config``; ``progress(stage, take, count)``
    hears ``fetched`` (files downloaded), ``frames`` (frames labelled) and ``written`` (samples)."""
    options = options if options is not None else BuildOptions()
    if engine not in RUNNERS:
        raise EngineError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    check_selection(selection, options)
    out = Path(out)
    check_output(out, options.overwrite)
    by_name = {t.take: t for t in selection.takes}
    assignment = assign_splits((t.scene for t in selection.takes), options.val_scenes, options.test_scenes,
                               options.val_fraction, options.test_fraction)
    order = take_order(list(selection.takes), assignment, lambda t: t.scene, lambda t: t.take)
    endpoint, storage = config.endpoint_url(), config.storage
    jobs = [TakeJob(TakeLocation(t.take, storage.bucket, storage.prefix, endpoint), options, t.frames)
            for split in SPLITS for t in order[split]]
    cache = Path(cache).expanduser() if cache is not None else default_cache(config)
    with _runner(engine, config, cache, out, client, credentials, ray_address, ray_cpus, ray_init,
                 progress) as runner:
        writer = DatasetWriter(out, options, assignment)
        results: Iterator[TakeResult] = runner.results(jobs)
        fetched: List[FetchedTake] = []
        try:
            for split in SPLITS:
                writer.start_split(split)
                for selected in order[split]:
                    result = next(results)
                    try:
                        assert result.job.location.name == selected.take, "runners keep the jobs' order"
                        _check_result(result, selected)
                        summary = writer.add_take(result.encoded, _sample_provenance(result.fetched),
                                                  source_path=result.fetched.location.url)
                    finally:
                        result.close()
                    fetched.append(result.fetched)
                    if progress is not None:
                        progress("written", selected.take, summary.samples)
                writer.close_split()
        except BaseException:
            writer.abort()
            raise
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()
    takes = [dict(f.provenance(), take=f.name, split=assignment[by_name[f.name].scene],
                  selected_frames=by_name[f.name].selected_frames, whole_take=by_name[f.name].frames is None)
             for f in fetched]
    studio = {"catalogue": selection.catalogue, "query": selection.query.to_dict(),
              "storage": {"endpoint": endpoint, "bucket": storage.bucket, "prefix": storage.prefix}, "takes": takes}
    report = writer.finish({"studio": studio})
    return StudioBuildReport(report, tuple(fetched), engine, selection.skipped)
