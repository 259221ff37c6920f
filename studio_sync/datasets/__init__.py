"""Training datasets from the studio's catalogue, read straight from the studio's storage, locally or on Ray.

``onset studio dataset build`` (:func:`build_studio_dataset`) selects takes and frames with a
catalogue query (:mod:`.selection`: scenes, shot sizes, a focal range, movements, a production
phrase read by :mod:`studio_sync.vocabulary`), fetches each take with the reader identity into a
local cache, verifying every file against the take's ASC MHL history as it arrives (:mod:`.fetch`;
a take that does not verify is refused, never exported), and writes the captioner's dataset
format (``docs/dataset.md``) with the provenance of every take (the query, the S3 URL, the MHL
digests). The work of each take runs in this process or as a Ray task (:mod:`.runner`); the
writing always runs here, in one order, so both give the same bytes. See
docs/studio-sync/datasets.md.

Modules, one job each: ``selection``, ``fetch``, ``runner``, ``build``, ``errors``.
"""

from __future__ import annotations

from studio_sync.datasets.build import ENGINES, StudioBuildReport, build_studio_dataset, check_selection, default_cache
from studio_sync.datasets.errors import (
    CatalogueMismatchError,
    EngineError,
    FetchError,
    NothingSelectedError,
    RayNotInstalledError,
    RayUnreachableError,
    SelectionError,
    StudioDatasetError,
    TakeNotVerifiedError,
)
from studio_sync.datasets.fetch import MANIFEST_FILE, FetchedTake, TakeLocation, fetch_take, history_sha256
from studio_sync.datasets.runner import RUNNERS, LocalRunner, RayRunner, Runner, TakeJob, TakeResult, run_take
from studio_sync.datasets.selection import (
    LEVELS,
    DatasetQuery,
    SelectedTake,
    Selection,
    parse_focal,
    parse_movement,
    parse_shot_size,
    select,
    select_from_catalogue,
)

__all__ = [
    "build_studio_dataset",
    "StudioBuildReport",
    "ENGINES",
    "default_cache",
    "check_selection",
    "DatasetQuery",
    "Selection",
    "SelectedTake",
    "LEVELS",
    "select",
    "select_from_catalogue",
    "parse_focal",
    "parse_shot_size",
    "parse_movement",
    "fetch_take",
    "FetchedTake",
    "TakeLocation",
    "history_sha256",
    "MANIFEST_FILE",
    "run_take",
    "TakeJob",
    "TakeResult",
    "Runner",
    "LocalRunner",
    "RayRunner",
    "RUNNERS",
    "StudioDatasetError",
    "SelectionError",
    "NothingSelectedError",
    "CatalogueMismatchError",
    "FetchError",
    "TakeNotVerifiedError",
    "EngineError",
    "RayNotInstalledError",
    "RayUnreachableError",
]
