"""The catalogue's tables: every column with its type, unit and meaning, and the indexes ``find`` uses.

One description (:data:`TABLES`, :data:`INDEXES`) makes the DDL of both databases and the table
list in ``docs/studio-sync/catalogue.md``. Types are the ones SQLite and PostgreSQL read alike:
``TEXT``, ``INTEGER`` (32-bit in PostgreSQL: counts, indexes, 0/1 flags), ``BIGINT`` (master-clock
ns, bytes) and ``DOUBLE PRECISION`` (64-bit floats, so a filter compares the same value in
both). Times of day are ISO 8601 UTC text; JSON columns hold JSON text.

A **take** is a take folder in the studio's storage, keyed by its name. Its **frames** are the
frames the dataset builder takes from it (``engines/captioner/dataset``: every camera frame
nearest a ``label_fps`` grid, fused again and labelled); ``frame_index`` is the frame's place
among all the take's camera frames, so it names the same frame at any rate. Its **shots** are
the builder's shots (``engines/captioner/dataset/segment.py``): runs of frames with one shot
size, one movement and one lens, the take cut where the shot size or the movement changes for
good (a new value holding at least 0.5 s; flickers and a sensor's dropouts stay in the shot
they interrupt) or the lens jumps to a new focal length (more than 5 % from the one it held)
and settles there; a shot's labels are its frames' majority shot size and movement, their
mean focal length and subject distance. ``shot_id`` and ``key`` are the builder's, so a
catalogue row and a dataset sample name each other.

:func:`ensure_schema` creates what is missing and refuses a catalogue written by a newer schema
(:data:`SCHEMA_VERSION`, kept in ``schema_version``).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Dict, Mapping, Sequence, Tuple

from studio_sync.catalogue.db import Catalogue
from studio_sync.catalogue.errors import CatalogueSchemaError

__all__ = ["SCHEMA_VERSION", "Column", "Table", "Index", "TABLES", "INDEXES", "TABLE_ORDER", "TAKE_TABLES",
           "create_statements", "ensure_schema", "require_schema", "insert_sql", "row_values", "columns_of",
           "describe_tables", "utc_now"]

SCHEMA_VERSION = 1

TEXT, INT, BIGINT, FLOAT = "TEXT", "INTEGER", "BIGINT", "DOUBLE PRECISION"


@dataclass(frozen=True)
class Column:
    """One column: ``name``, SQL ``type``, ``unit`` ("" when none) and what it holds."""

    name: str
    type: str
    doc: str
    unit: str = ""
    required: bool = False


@dataclass(frozen=True)
class Table:
    """One table: its columns, primary key, foreign keys ``(columns, table, columns)`` and meaning."""

    name: str
    doc: str
    columns: Tuple[Column, ...]
    primary_key: Tuple[str, ...]
    foreign_keys: Tuple[Tuple[Tuple[str, ...], str, Tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    columns: Tuple[str, ...]


def _c(name: str, type_: str, doc: str, unit: str = "", required: bool = False) -> Column:
    return Column(name, type_, doc, unit, required)


_TAKE = _c("take", TEXT, "the take's folder name (its objects are <prefix><take>/...)", required=True)

#: The labels of a frame, as the dataset builder stores them (engines/captioner/dataset/records.py).
_FRAME_LABELS = (
    _c("shot_size", TEXT, "ECU, CU, MCU, MS, MLS, FS, WS, or none (measured: nobody in frame); NULL: missing"),
    _c("no_subject", INT, "1 when the shot size is none (nobody in frame), 0 when someone is; NULL: missing"),
    _c("movement", TEXT, "camera movement class (static, pan_left, dolly_in, zoom_in, handheld, ...); NULL: missing"),
    _c("movement_speed", FLOAT, "the movement's speed in movement_speed_unit; NULL for static, handheld, missing"),
    _c("movement_speed_unit", TEXT, "m/s (dolly, truck, pedestal), deg/s (pan, tilt, roll), %/s (zoom)"),
    _c("focal_length_mm", FLOAT, "the lens's focal length", "mm"),
    _c("focal_35mm_mm", FLOAT, "its 35 mm (full-frame) equivalent by the horizontal angle of view", "mm"),
    _c("subject_distance_m", FLOAT, "the subject's optical-axis distance; NULL: no subject or missing", "m"),
)

TABLES: Mapping[str, Table] = {t.name: t for t in (
    Table("schema_version", "the schema versions this catalogue was created or upgraded to", (
        _c("version", INT, "schema version", required=True),
        _c("applied_at", TEXT, "when, UTC", required=True),
    ), ("version",)),
    Table("takes", "one row per catalogued (verified) take", (
        _TAKE,
        _c("take_id", TEXT, "the dataset builder's id of the take (its name, dots replaced)", required=True),
        _c("scene", TEXT, "slate: scene"),
        _c("slate_shot", TEXT, "slate: shot"),
        _c("slate_take", INT, "slate: take number"),
        _c("status", TEXT, "take.json status (complete, ...)"),
        _c("timecode_rate", TEXT, "SMPTE rate label (24, 23.976, 29.97DF, ...)"),
        _c("timecode_in", TEXT, "take.json timecode in, HH:MM:SS:FF"),
        _c("timecode_out", TEXT, "take.json timecode out, HH:MM:SS:FF"),
        _c("start_ns", BIGINT, "recording start, master clock", "ns"),
        _c("stop_ns", BIGINT, "recording stop, master clock", "ns"),
        _c("start_utc", TEXT, "recording start, UTC"),
        _c("duration_s", FLOAT, "recording duration", "s"),
        _c("message_count", BIGINT, "messages in the bag (take.json)"),
        _c("recorded_bytes", BIGINT, "the bag's size as the recorder wrote it (take.json)", "bytes"),
        _c("plan_name", TEXT, "the capture plan the take was shot for, if any"),
        _c("plan_instruction", TEXT, "the plan's instruction to the crew, if any"),
        _c("bucket", TEXT, "the storage bucket"),
        _c("storage_key", TEXT, "the key prefix of the take's objects: <prefix><take>/"),
        _c("stored_files", INT, "objects of the take (ascmhl/ included)"),
        _c("stored_bytes", BIGINT, "their bytes", "bytes"),
        _c("uploaded_at", TEXT, "the newest object's last-modified time, UTC"),
        _c("take_json_sha256", TEXT, "SHA-256 of take.json"),
        _c("mhl_generation", INT, "the ASC MHL generation the take verified against (its newest)"),
        _c("mhl_generation_file", TEXT, "that generation's file in ascmhl/"),
        _c("hash_formats", TEXT, "digest formats checked (xxh64, xxh128), comma-separated"),
        _c("label_fps", FLOAT, "frames catalogued per second of the take", "1/s"),
        _c("frames", INT, "frames catalogued"),
        _c("shots", INT, "shots catalogued"),
        _c("has_lidar", INT, "1: the bag holds LiDAR points (subject, shot size)"),
        _c("has_pose", INT, "1: the bag holds rig poses (movement)"),
        _c("has_lens", INT, "1: the bag holds lens states (focal length)"),
        _c("has_captions", INT, "1: the take holds the captioner's captions.json"),
        _c("notes", TEXT, "JSON list: why labels or captions are absent, if they are"),
        _c("ingested_at", TEXT, "when this row was written, UTC", required=True),
        _c("ingest_run", TEXT, "the ingest run that wrote it", required=True),
    ), ("take",)),
    Table("shots", "one row per shot of a take (module docstring: what a shot is)", (
        _TAKE,
        _c("shot_index", INT, "0-based, in the take", required=True),
        _c("shot_id", TEXT, "the dataset builder's shot id, <take_id>__shotNNN", required=True),
        _c("first_frame_index", INT, "its first frame (index among the take's camera frames)"),
        _c("last_frame_index", INT, "its last frame"),
        _c("frames", INT, "catalogued frames in it"),
        _c("t_start_ns", BIGINT, "exposure mid-time of its first frame, master clock", "ns"),
        _c("t_end_ns", BIGINT, "... of its last frame", "ns"),
        _c("timecode_in", TEXT, "timecode of its first frame that has one"),
        _c("timecode_out", TEXT, "timecode of its last frame that has one"),
        _c("causes", TEXT, "what started it: take start, shot_size, movement, lens ('+'-separated)"),
        _c("shot_size", TEXT, "the majority shot size of its frames (NULL: none has one)"),
        _c("shot_size_share", FLOAT, "share of its labelled frames that agree (0-1)"),
        _c("no_subject", INT, "1 when its shot size is none"),
        _c("movement", TEXT, "the majority movement of its frames"),
        _c("movement_share", FLOAT, "share of its labelled frames that agree (0-1)"),
        _c("movement_speed", FLOAT, "mean speed of its frames of that movement, in movement_speed_unit"),
        _c("movement_speed_unit", TEXT, "m/s, deg/s or %/s"),
        _c("mean_focal_length_mm", FLOAT, "mean focal length of its frames", "mm"),
        _c("mean_focal_35mm_mm", FLOAT, "mean 35 mm equivalent", "mm"),
        _c("mean_subject_distance_m", FLOAT, "mean subject distance of its frames with a subject", "m"),
        _c("missing", TEXT, "JSON object: shot label -> why it is missing"),
        _c("caption", TEXT, "the captioner model's sentence for the caption shot overlapping it most"),
        _c("caption_confidence", FLOAT, "that caption's confidence (0-1)"),
    ), ("take", "shot_index"), ((("take",), "takes", ("take",)),)),
    Table("frames", "one row per catalogued frame", (
        _TAKE,
        _c("frame_index", INT, "the frame's place among the take's camera frames (0-based)", required=True),
        _c("shot_index", INT, "the shot it belongs to", required=True),
        _c("key", TEXT, "the dataset builder's sample key, <take_id>__NNNNNN", required=True),
        _c("t_ns", BIGINT, "exposure mid-time, master clock", "ns"),
        _c("timecode", TEXT, "its SMPTE timecode, HH:MM:SS:FF (NULL: none verified)"),
        _c("timecode_rate", TEXT, "the timecode's rate label"),
        _c("timecode_verdict", TEXT, "the node's verdict on that timecode"),
        *_FRAME_LABELS,
        _c("height_assumed", INT, "1: the frame cut the subject's head, a standing height was assumed"),
        _c("points_used", INT, "LiDAR returns in its depth"),
        _c("missing", TEXT, "JSON object: label -> why it is missing"),
        _c("caption", TEXT, "the captioner model's sentence for the caption shot holding this frame"),
        _c("caption_shot", INT, "that caption shot's index in captions.json"),
        _c("caption_confidence", FLOAT, "its confidence (0-1)"),
    ), ("take", "frame_index"), ((("take",), "takes", ("take",)), (("take", "shot_index"), "shots",
                                                                      ("take", "shot_index")))),
    Table("provenance", "one row per take: what recorded and labelled it, who sealed and offloaded it", (
        _TAKE,
        _c("rig_name", TEXT, "the rig profile's name"),
        _c("rig_simulated", INT, "1: the simulated stage"),
        _c("camera", TEXT, "the camera's name and size (WxH px @ rate)"),
        _c("lidars", TEXT, "the LiDARs' names and models, comma-separated"),
        _c("calibration", TEXT, "JSON: take.json's calibration (camera intrinsics, mounts, lens maps)"),
        _c("calibration_sha256", TEXT, "SHA-256 of that JSON (keys sorted)"),
        _c("software", TEXT, "JSON: take.json's software versions (onset, rclpy, rosbags, ...)"),
        _c("onset_version", TEXT, "the recorder's Onset version"),
        _c("recorder_host", TEXT, "the machine that recorded the take"),
        _c("engines", TEXT, "JSON: the rig's engine settings (captioner, style; their models)"),
        _c("captioner_model", TEXT, "the captioner model the rig named (NULL: the shipped one)"),
        _c("captions_model", TEXT, "JSON: the model that wrote captions.json (path, weights SHA-256, size)"),
        _c("captions_model_sha256", TEXT, "its weights' SHA-256"),
        _c("labels_software", TEXT, "JSON: the Onset that derived the labels at ingest (version, git commit)"),
        _c("sealed_by", TEXT, "author of ASC MHL generation 1 (the seal on the rig)"),
        _c("sealed_host", TEXT, "its host"),
        _c("sealed_at", TEXT, "its creation time"),
        _c("offloaded_by", TEXT, "author of the newest generation (who offloaded or sealed last)"),
        _c("offloaded_host", TEXT, "its host"),
        _c("offloaded_at", TEXT, "its creation time"),
        _c("offload_generation", INT, "its number"),
        _c("offload_process", TEXT, "its process: in-place (a seal) or transfer (a copy)"),
    ), ("take",), ((("take",), "takes", ("take",)),)),
    Table("generations", "one row per ASC MHL generation of a catalogued take", (
        _TAKE,
        _c("number", INT, "generation number (1 first)", required=True),
        _c("file_name", TEXT, "its file in ascmhl/"),
        _c("process", TEXT, "in-place or transfer"),
        _c("created_at", TEXT, "its creation time"),
        _c("host", TEXT, "the machine that wrote it"),
        _c("author", TEXT, "who wrote it"),
        _c("hash_formats", TEXT, "digest formats it holds, comma-separated"),
    ), ("take", "number"), ((("take",), "takes", ("take",)),)),
    Table("ingest_runs", "one row per `onset studio ingest`", (
        _c("run_id", TEXT, "random id", required=True),
        _c("started_at", TEXT, "UTC", required=True),
        _c("finished_at", TEXT, "UTC (NULL while running, or if it died)"),
        _c("status", TEXT, "running, finished or failed", required=True),
        _c("host", TEXT, "the machine that ran it"),
        _c("user_name", TEXT, "who ran it"),
        _c("endpoint", TEXT, "the S3 endpoint"),
        _c("bucket", TEXT, "the bucket"),
        _c("prefix", TEXT, "the key prefix"),
        _c("requested", TEXT, "JSON list of the takes asked for (NULL: every take under the prefix)"),
        _c("takes_seen", INT, "takes it looked at"),
        _c("ingested", INT, "takes verified and catalogued"),
        _c("refused", INT, "takes refused: not verified"),
        _c("failed", INT, "takes that verified but could not be catalogued, or could not be read"),
        _c("software", TEXT, "JSON: the ingesting Onset (version, git commit, python)"),
        _c("error", TEXT, "why the run failed, if it did"),
    ), ("run_id",)),
    Table("ingest_results", "one row per take per ingest run", (
        _c("run_id", TEXT, "the run", required=True),
        _TAKE,
        _c("status", TEXT, "ingested, refused or failed", required=True),
        _c("reason", TEXT, "one sentence: why it was refused or failed"),
        _c("problems", TEXT, "JSON list: one sentence per altered, missing or extra file"),
        _c("files_checked", INT, "files hashed against the history"),
        _c("bytes_checked", BIGINT, "their bytes", "bytes"),
        _c("frames", INT, "frames catalogued"),
        _c("shots", INT, "shots catalogued"),
        _c("finished_at", TEXT, "UTC"),
    ), ("run_id", "take"), ((("run_id",), "ingest_runs", ("run_id",)),)),
)}

#: Tables in creation order (a referenced table before the one referring to it).
TABLE_ORDER: Tuple[str, ...] = ("schema_version", "takes", "shots", "frames", "provenance", "generations",
                                "ingest_runs", "ingest_results")
#: A take's own rows, children first: the order they are deleted in when a take is replaced.
TAKE_TABLES: Tuple[str, ...] = ("frames", "shots", "generations", "provenance", "takes")

_FILTERED = ("shot_size", "movement", "movement_speed", "no_subject")
INDEXES: Tuple[Index, ...] = (
    *(Index(f"frames_{c}", "frames", (c,)) for c in (*_FILTERED, "focal_length_mm", "focal_35mm_mm",
                                                     "subject_distance_m")),
    Index("frames_shot", "frames", ("take", "shot_index")),
    *(Index(f"shots_{c}", "shots", (c,)) for c in (*_FILTERED, "mean_focal_length_mm", "mean_focal_35mm_mm",
                                                   "mean_subject_distance_m")),
    Index("takes_scene", "takes", ("scene",)),
    Index("takes_start", "takes", ("start_ns",)),
    Index("ingest_results_take", "ingest_results", ("take",)),
)


def columns_of(table: str) -> Tuple[str, ...]:
    """The column names of ``table``, in order."""
    return tuple(c.name for c in TABLES[table].columns)


def _ddl(table: Table) -> str:
    lines = [f"{c.name} {c.type}{' NOT NULL' if c.required or c.name in table.primary_key else ''}"
             for c in table.columns]
    lines.append(f"PRIMARY KEY ({', '.join(table.primary_key)})")
    for columns, other, their in table.foreign_keys:
        lines.append(f"FOREIGN KEY ({', '.join(columns)}) REFERENCES {other} ({', '.join(their)})")
    return f"CREATE TABLE IF NOT EXISTS {table.name} (\n  " + ",\n  ".join(lines) + "\n)"


def create_statements() -> Tuple[str, ...]:
    """``CREATE TABLE`` and ``CREATE INDEX`` statements (``IF NOT EXISTS``), both databases alike."""
    tables = tuple(_ddl(TABLES[name]) for name in TABLE_ORDER)
    indexes = tuple(f"CREATE INDEX IF NOT EXISTS {i.name} ON {i.table} ({', '.join(i.columns)})" for i in INDEXES)
    return tables + indexes


def insert_sql(table: str) -> str:
    """``INSERT INTO table (every column) VALUES (?, ...)``."""
    names = columns_of(table)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"


def row_values(table: str, row: Mapping[str, object]) -> Tuple[object, ...]:
    """``row``'s values in ``table``'s column order; a key the table lacks is a programming error."""
    unknown = set(row) - set(columns_of(table))
    if unknown:
        raise KeyError(f"table {table} has no column {', '.join(sorted(unknown))}")
    return tuple(row.get(name) for name in columns_of(table))


def utc_now() -> str:
    """Now, UTC, ISO 8601 to the microsecond with a ``Z``."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _versions(catalogue: Catalogue) -> Sequence[int]:
    return [int(r["version"]) for r in catalogue.rows("SELECT version FROM schema_version ORDER BY version")]


def ensure_schema(catalogue: Catalogue) -> int:
    """Create the catalogue's tables and indexes where missing; its schema version.

    A catalogue holding some of Onset's tables but not the version table, or written by a newer
    schema, is refused with :class:`CatalogueSchemaError` before anything is written."""
    present = set(catalogue.table_names())
    ours = set(TABLE_ORDER)
    if present & ours and "schema_version" not in present:
        raise CatalogueSchemaError(f"catalogue {catalogue.url} holds tables named like Onset's "
                                   f"({', '.join(sorted(present & ours))}) but no schema_version table: "
                                   "it is not an Onset catalogue; give another database")
    if "schema_version" in present:
        versions = _versions(catalogue)
        newest = max(versions, default=0)
        if newest > SCHEMA_VERSION:
            raise CatalogueSchemaError(f"catalogue {catalogue.url} has schema version {newest}, newer than this "
                                       f"Onset's ({SCHEMA_VERSION}): upgrade onset-edge to read or write it")
        if newest == SCHEMA_VERSION and ours <= present:
            return newest
    with catalogue.transaction():
        for statement in create_statements():
            catalogue.execute(statement)
        if SCHEMA_VERSION not in (_versions(catalogue) if "schema_version" in present else []):
            catalogue.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                              (SCHEMA_VERSION, utc_now()))
    return SCHEMA_VERSION


def require_schema(catalogue: Catalogue) -> int:
    """The schema version of a catalogue that is only read; :class:`CatalogueSchemaError` when it
    holds no Onset catalogue (nothing ingested into it yet) or one of a newer schema."""
    present = set(catalogue.table_names())
    if not set(TABLE_ORDER) <= present:
        raise CatalogueSchemaError(f"catalogue {catalogue.url} holds no Onset catalogue yet: ingest takes into it "
                                   "first (onset studio ingest --catalogue URL)")
    newest = max(_versions(catalogue), default=0)
    if newest > SCHEMA_VERSION:
        raise CatalogueSchemaError(f"catalogue {catalogue.url} has schema version {newest}, newer than this "
                                   f"Onset's ({SCHEMA_VERSION}): upgrade onset-edge to read it")
    return newest


def describe_tables() -> Dict[str, Tuple[Column, ...]]:
    """Table name -> its columns (for documentation)."""
    return {name: TABLES[name].columns for name in TABLE_ORDER}
