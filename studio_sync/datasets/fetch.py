"""A take read from the studio's storage into a local cache, every file verified against its ASC MHL history.

:func:`fetch_take` reads with whatever client it is given (the builder gives it the **reader**
identity's) and trusts nothing the store says before the take's own history vouches for it:

1. the take's objects under ``<prefix><take>/`` are listed; a key that is not a path inside the
   take refuses it;
2. its ``ascmhl/`` objects are downloaded (always: they are what vouches, and a few kB) and read
   with :func:`studio_sync.custody.read_history`, which checks the chain file, each generation's
   c4 digest, the XML and every recorded path. The SHA-256 of the chain file names the history
   (it lists every generation's c4 digest): the take's copy lives in
   ``<cache>/<first 32 hex digits of it>/<take>/``, so another state of the take's custody gets
   another folder;
3. every file the history records must be in the store with the size it recorded, and nothing
   else may be (names on the history's ignore list, ``.DS_Store``, aside): an object the history
   does not record is **extra**, a recorded file with no object **missing**. Each file is then
   taken from the cache when the cache holds it and it still hashes to the recorded digest while
   the store's object is the one it was downloaded from (same ETag, kept in
   ``<cache>/<...>/manifest.json``); otherwise it is streamed down into a staging folder, hashed
   in the recorded format as it passes (:mod:`studio_sync.storage.objects`), and moved into
   place only when the digest and size are the recorded ones (**altered** otherwise).

Every file is checked even after a first bad one, so a refusal
(:class:`~.errors.TakeNotVerifiedError`) names each bad file; a file that failed never replaces
the cache's verified copy. An interrupted fetch leaves every file it finished verified in the
cache: the next one fetches only the rest. What the cache folder holds afterwards is exactly
what the history records, byte for byte (stray files are removed). Digests are xxHash's
canonical hex (``xxh64``, ``xxh128``: XXH3-128), the strings ascmhl writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from studio_sync.custody import CHAIN_FILE, HISTORY_DIRNAME, ByteMeter, CustodyError, TakeHistory, read_history
from studio_sync.custody import file_digest as _file_digest
from studio_sync.datasets.errors import FetchError, TakeNotVerifiedError
from studio_sync.storage import StudioStorageError
from studio_sync.storage.objects import (
    StoredObject,
    download,
    is_history_path,
    is_ignored,
    list_take_objects,
    take_prefix,
)

__all__ = ["MANIFEST_FILE", "TakeLocation", "FetchedTake", "fetch_take", "history_sha256"]

MANIFEST_FILE = "manifest.json"
_FOLDER_DIGITS = 32
#: ``progress(bytes_done, bytes_in_all)`` over the files of one take (cached ones count as done).
FetchProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class TakeLocation:
    """Where a take lies: ``s3://<bucket>/<prefix><name>/`` on the store at ``endpoint``."""

    name: str
    bucket: str
    prefix: str
    endpoint: str

    @property
    def key_prefix(self) -> str:
        return take_prefix(self.prefix, self.name)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key_prefix}"


@dataclass(frozen=True)
class FetchedTake:
    """A take that verified, in the cache: ``folder`` holds exactly what its history records.

    ``history_sha256``: SHA-256 of its chain file; ``generation`` / ``generation_file`` /
    ``generation_c4``: its newest generation (what it verified against) and that file's c4
    digest as the chain recorded it; ``downloaded`` and ``reused``: the files (POSIX paths in the
    take) read from the store this time and those the cache already held, verified."""

    location: TakeLocation
    folder: Path
    history_sha256: str
    generation: int
    generation_file: str
    generation_c4: str
    hash_formats: Tuple[str, ...]
    files: int
    bytes: int
    downloaded: Tuple[str, ...] = field(default=())
    reused: Tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.location.name

    def provenance(self) -> Dict[str, Any]:
        """Where the take came from and what vouched for it, as plain JSON values."""
        return {"url": self.location.url, "mhl_chain_sha256": self.history_sha256,
                "mhl_generation": self.generation, "mhl_generation_file": self.generation_file,
                "mhl_generation_c4": self.generation_c4, "mhl_hash_formats": list(self.hash_formats)}


def _list(client: Any, location: TakeLocation) -> Tuple[Dict[str, StoredObject], List[str]]:
    try:
        objects, unsafe = list_take_objects(client, location.bucket, location.prefix, location.name,
                                            location.endpoint)
    except StudioStorageError as err:
        raise FetchError(str(err)) from None
    return {o.rel: o for o in objects}, unsafe


def _download(client: Any, location: TakeLocation, obj: StoredObject, dest: Path, hash_format: Optional[str],
              meter: Optional[Callable[[int], None]]) -> Tuple[int, Optional[str]]:
    """Stream ``obj`` into the new file ``dest``, hashing it as it passes; ``(bytes, hex digest)``."""
    try:
        return download(client, location.bucket, obj.key, dest, location.endpoint, hash_format, meter)
    except StudioStorageError as err:
        raise FetchError(str(err)) from None


def history_sha256(take_folder: Path) -> str:
    """SHA-256 (hex) of the take's chain file, ``ascmhl/ascmhl_chain.xml``."""
    return hashlib.sha256((Path(take_folder) / HISTORY_DIRNAME / CHAIN_FILE).read_bytes()).hexdigest()


def _read_history(client: Any, location: TakeLocation, objects: Dict[str, StoredObject],
                  staging: Path) -> TakeHistory:
    history_objects = [o for rel, o in sorted(objects.items()) if is_history_path(rel)]
    if not history_objects:
        raise TakeNotVerifiedError(location.name, f"no ASC MHL history in the store (nothing under "
                                                  f"{location.url}{HISTORY_DIRNAME}/): seal the take and upload it")
    for obj in history_objects:
        _download(client, location, obj, staging / obj.rel, None, None)
    try:
        return read_history(staging)
    except CustodyError as err:
        raise TakeNotVerifiedError(location.name, f"its ASC MHL history cannot be trusted: {err}") from err


def _chain_c4(history: TakeHistory) -> str:
    generations = list(getattr(history.mhl.chain, "generations", None) or [])
    latest = [g for g in generations if int(g.generation_number) == history.latest.number]
    return str(latest[0].hash_string) if latest else ""


def _read_manifest(path: Path) -> Dict[str, Dict[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none yet, or damaged: every file is fetched again
    files = document.get("files") if isinstance(document, dict) else None
    return {str(k): v for k, v in files.items() if isinstance(v, dict)} if isinstance(files, dict) else {}


def _write_manifest(path: Path, location: TakeLocation, files: Dict[str, Dict[str, Any]]) -> None:
    partial = path.with_name(path.name + ".partial")
    document = {"take": location.name, "url": location.url, "files": dict(sorted(files.items()))}
    partial.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, path)


def _cached(dest: Path, hash_format: str, digest: str, size: Optional[int], entry: Optional[Dict[str, Any]],
            etag: str) -> bool:
    """The cache's copy is the store's object as it was verified, and still hashes to ``digest``."""
    if entry is None or entry.get("etag") != etag or entry.get("digest") != digest:
        return False
    if dest.is_symlink() or not dest.is_file() or (size is not None and dest.stat().st_size != size):
        return False
    try:
        return _file_digest(dest, hash_format) == digest
    except CustodyError:
        return False


def _install_history(source: Path, folder: Path) -> None:
    target = folder / HISTORY_DIRNAME
    folder.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target)
    os.replace(source / HISTORY_DIRNAME, target)


def _remove_strays(folder: Path, keep: Sequence[str]) -> None:
    wanted = set(keep)
    for path in sorted(folder.rglob("*"), reverse=True):
        rel = path.relative_to(folder).as_posix()
        if is_history_path(rel):
            continue
        if path.is_symlink() or (path.is_file() and rel not in wanted):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def fetch_take(client: Any, location: TakeLocation, cache: Path,
               progress: Optional[FetchProgress] = None) -> FetchedTake:
    """Verify take ``location`` against its history and have its copy in ``cache`` (module
    docstring). Raises :class:`~.errors.TakeNotVerifiedError` naming every bad file when it does
    not verify, :class:`~.errors.FetchError` when the store cannot be listed or read."""
    cache = Path(cache).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    objects, unsafe = _list(client, location)
    if unsafe:
        raise TakeNotVerifiedError(location.name, f"{len(unsafe)} key(s) under {location.url} are not paths inside "
                                                  "the take", unsafe)
    if not objects:
        raise FetchError(f"take {location.name} is not in the store: nothing under {location.url} "
                         "(removed after it was catalogued?)")
    staging_root = Path(tempfile.mkdtemp(prefix=".fetch-", dir=str(cache)))
    try:
        staging = staging_root / location.name
        history = _read_history(client, location, objects, staging)
        chain_sha = history_sha256(staging)
        folder = cache / chain_sha[:_FOLDER_DIGITS] / location.name
        manifest_path = folder.parent / MANIFEST_FILE
        _install_history(staging, folder)
        manifest = _read_manifest(manifest_path)
        patterns = list(history.mhl.latest_ignore_patterns() or [])
        stored = {rel: o for rel, o in objects.items() if not is_history_path(rel) and not is_ignored(rel, patterns)}
        recorded = history.files
        problems = [f"extra: {rel} (in the store, in no generation)" for rel in sorted(set(stored) - set(recorded))]
        problems += [f"missing: {rel} (recorded in generation {r.generation}, not in the store)"
                     for rel, r in sorted(recorded.items()) if rel not in stored]
        to_check = [rel for rel in sorted(recorded) if rel in stored]
        total = sum(stored[rel].size for rel in to_check)
        meter = ByteMeter(total, progress)
        downloaded: List[str] = []
        reused: List[str] = []
        for index, rel in enumerate(to_check):
            expected, obj = recorded[rel], stored[rel]
            if expected.size is not None and obj.size != expected.size:
                problems.append(f"altered: {rel} ({obj.size} bytes in the store, {expected.size} recorded in "
                                f"generation {expected.generation})")
                continue
            dest = folder / rel
            if _cached(dest, expected.hash_format, expected.digest, expected.size, manifest.get(rel), obj.etag):
                reused.append(rel)
                meter(obj.size)
                continue
            part = staging_root / "files" / f"{index:06d}"
            size, digest = _download(client, location, obj, part, expected.hash_format, meter)
            if digest != expected.digest or (expected.size is not None and size != expected.size):
                problems.append(f"altered: {rel} ({expected.hash_format} recorded in generation "
                                f"{expected.generation}: {expected.digest}, the store's object: {digest})")
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, dest)
            manifest[rel] = {"etag": obj.etag, "size": size, "hash_format": expected.hash_format,
                             "digest": expected.digest}
            downloaded.append(rel)
        _write_manifest(manifest_path, location, {rel: manifest[rel] for rel in manifest if rel in recorded})
        if problems:
            raise TakeNotVerifiedError(location.name, f"{len(problems)} file(s) do not match generation "
                                                      f"{history.latest.number} of its ASC MHL history", problems)
        _remove_strays(folder, to_check)
    except OSError as err:
        raise FetchError(f"take {location.name}: cannot write its copy under {cache}: {err}") from err
    except StudioStorageError as err:
        raise FetchError(f"take {location.name}: {err}") from err
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)
    formats = tuple(sorted({recorded[rel].hash_format for rel in to_check}))
    latest = history.latest
    return FetchedTake(location, folder, chain_sha, latest.number, latest.file_name, _chain_c4(history), formats,
                       len(to_check), total, tuple(downloaded), tuple(reused))
