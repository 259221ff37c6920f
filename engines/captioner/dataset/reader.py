"""Reading a built dataset without torch: its index, its shards, each sample's files.

:func:`read_index` loads ``DIR/index.json`` and refuses another format or a newer schema
version; :func:`index_shard` lists one tar shard's samples with where each file's bytes lie in
it (so a sample can be read again by seeking, without unpacking the shard); :func:`iter_samples`
streams a split in stored order: every take's frames together, in frame order.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Tuple

from engines.captioner.dataset.errors import DatasetFormatError
from engines.captioner.dataset.writer import SAMPLE_SUFFIXES

__all__ = ["DATASET_FORMAT", "SCHEMA_VERSION", "INDEX_FILE", "SampleRef", "Sample", "read_index", "split_shards",
           "index_shard", "read_member", "iter_samples", "sample_json"]

DATASET_FORMAT = "onset-captioner-dataset"
SCHEMA_VERSION = 1
INDEX_FILE = "index.json"


@dataclass(frozen=True)
class SampleRef:
    """One sample in a shard: its key and, per file suffix, ``(offset, size)`` of its bytes in the tar."""

    key: str
    shard: Path
    members: Mapping[str, Tuple[int, int]]


@dataclass(frozen=True)
class Sample:
    """One sample read whole: its key, its parsed JSON and every file's bytes by suffix."""

    key: str
    meta: Dict[str, Any]
    files: Mapping[str, bytes]


def read_index(root: Path) -> Dict[str, Any]:
    """The dataset's ``index.json`` (module docstring)."""
    path = Path(root) / INDEX_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise DatasetFormatError(f"{root} is not a captioner dataset: it has no {INDEX_FILE} "
                                 "(build one with onset dataset build)") from err
    except (OSError, ValueError) as err:
        raise DatasetFormatError(f"cannot read {path}: {err}") from err
    if not isinstance(document, dict) or document.get("format") != DATASET_FORMAT:
        raise DatasetFormatError(f"{path} is not an Onset captioner dataset index "
                                 f"(no \"format\": \"{DATASET_FORMAT}\")")
    version = document.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise DatasetFormatError(f"{path}: schema version {version!r} is newer than this reader "
                                 f"({SCHEMA_VERSION}); upgrade onset-edge")
    return document


def split_shards(root: Path, index: Mapping[str, Any], split: str) -> List[Path]:
    """The shards of ``split`` in order, as the index lists them."""
    splits = index.get("splits") or {}
    if split not in splits:
        raise DatasetFormatError(f"the dataset at {root} has no split {split!r} (it has {', '.join(sorted(splits))})")
    return [Path(root) / str(rel) for rel in splits[split].get("shards") or []]


def index_shard(path: Path) -> List[SampleRef]:
    """The samples of one shard in stored order, with their files' places (module docstring)."""
    samples: List[SampleRef] = []
    try:
        with tarfile.open(path, "r:") as tar:
            current_key, members = None, {}
            for info in tar:
                if not info.isfile():
                    continue
                key, dot, suffix = info.name.partition(".")
                if not dot:
                    raise DatasetFormatError(f"{path}: member {info.name!r} has no suffix")
                if key != current_key:
                    if current_key is not None:
                        samples.append(SampleRef(current_key, Path(path), members))
                    current_key, members = key, {}
                members[suffix] = (int(info.offset_data), int(info.size))
            if current_key is not None:
                samples.append(SampleRef(current_key, Path(path), members))
    except (OSError, tarfile.TarError) as err:
        raise DatasetFormatError(f"cannot read shard {path}: {err}") from err
    for ref in samples:
        absent = [s for s in SAMPLE_SUFFIXES if s not in ref.members]
        if absent:
            raise DatasetFormatError(f"{path}: sample {ref.key} lacks {', '.join(absent)}")
    return samples


def read_member(handle, offset: int, size: int) -> bytes:
    """``size`` bytes at ``offset`` of an open shard file."""
    handle.seek(offset)
    data = handle.read(size)
    if len(data) != size:
        raise DatasetFormatError(f"shard {getattr(handle, 'name', '?')} ends inside a member")
    return data


def sample_json(data: bytes, key: str) -> Dict[str, Any]:
    """A sample's parsed JSON, checked for its schema version."""
    try:
        meta = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise DatasetFormatError(f"sample {key}: its json is not JSON: {err}") from err
    version = meta.get("schema_version") if isinstance(meta, dict) else None
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise DatasetFormatError(f"sample {key}: schema version {version!r}, this reader knows {SCHEMA_VERSION}")
    return meta


def iter_samples(root: Path, split: str) -> Iterator[Sample]:
    """Every sample of ``split`` in stored order, read whole."""
    index = read_index(root)
    for shard in split_shards(root, index, split):
        refs = index_shard(shard)
        with open(shard, "rb") as handle:
            for ref in refs:
                files = {suffix: read_member(handle, *ref.members[suffix]) for suffix in ref.members}
                yield Sample(ref.key, sample_json(files["json"], ref.key), files)
