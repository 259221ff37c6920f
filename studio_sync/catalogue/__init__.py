"""The studio's catalogue: takes verified in the studio's storage, their shots, frames, labels and provenance.

``onset studio ingest`` (:func:`ingest_takes`) checks every take in the storage against its ASC
MHL history, byte for byte, with the reader identity; a take that does not verify is refused,
named with each bad file, and nothing of it is catalogued. A verified take is labelled through
the captioner's dataset builder (the same frames, labels and shots a dataset of it holds) and
catalogued with its captions and provenance: rig, calibration, software, engine and model
versions, who sealed and offloaded it and when. ``onset studio find`` (:func:`find_shots`) reads a
production phrase (:func:`studio_sync.vocabulary.parse_phrase`) into SQL over the shots and
frames. The catalogue is SQLite by default and PostgreSQL by URL (:func:`open_catalogue`), the
same SQL on both. See docs/studio-sync/catalogue.md.

Modules, one job each: ``db`` (the two databases behind one adapter), ``schema`` (tables,
columns, units, indexes), ``store`` (the takes in the storage, by name), ``verify`` (a stored
take against its history, read with :mod:`studio_sync.storage.objects`), ``labels`` (the
dataset builder's labels), ``captions`` (the model's captions), ``rows`` (a take into rows),
``write`` (rows into the catalogue), ``ingest``, ``query`` (a phrase's query into SQL),
``errors``.
"""

from __future__ import annotations

from studio_sync.catalogue.captions import CAPTIONS_FILE, CaptionShot, TakeCaptions, read_captions
from studio_sync.catalogue.db import BACKENDS, Catalogue, CatalogueUrl, mask_url, open_catalogue, parse_catalogue_url
from studio_sync.catalogue.errors import (
    CatalogueDriverError,
    CatalogueError,
    CatalogueNotFoundError,
    CatalogueQueryError,
    CatalogueSchemaError,
    CatalogueUrlError,
    IngestError,
    LabelError,
    TakeRefusedError,
)
from studio_sync.catalogue.ingest import (
    FAILED,
    INGESTED,
    REFUSED,
    IngestOptions,
    IngestReport,
    TakeOutcome,
    ingest_takes,
)
from studio_sync.catalogue.labels import TakeLabels, label_take
from studio_sync.catalogue.query import LEVELS, FindResult, ShotMatch, find_shots, where_clause
from studio_sync.catalogue.schema import (
    INDEXES,
    SCHEMA_VERSION,
    TABLES,
    Column,
    Table,
    ensure_schema,
    require_schema,
)
from studio_sync.catalogue.verify import FetchedTake, fetch_verified_take

__all__ = [
    "ingest_takes",
    "IngestOptions",
    "IngestReport",
    "TakeOutcome",
    "INGESTED",
    "REFUSED",
    "FAILED",
    "find_shots",
    "where_clause",
    "FindResult",
    "ShotMatch",
    "LEVELS",
    "open_catalogue",
    "parse_catalogue_url",
    "mask_url",
    "Catalogue",
    "CatalogueUrl",
    "BACKENDS",
    "ensure_schema",
    "require_schema",
    "SCHEMA_VERSION",
    "TABLES",
    "INDEXES",
    "Table",
    "Column",
    "fetch_verified_take",
    "FetchedTake",
    "label_take",
    "TakeLabels",
    "read_captions",
    "TakeCaptions",
    "CaptionShot",
    "CAPTIONS_FILE",
    "CatalogueError",
    "CatalogueUrlError",
    "CatalogueDriverError",
    "CatalogueNotFoundError",
    "CatalogueSchemaError",
    "CatalogueQueryError",
    "IngestError",
    "LabelError",
    "TakeRefusedError",
]
