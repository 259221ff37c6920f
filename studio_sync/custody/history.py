"""A take's ASC MHL history: read and checked before any digest in it is trusted; one generation written.

The layout is ASC MHL v2.0's, as the ascmhl library writes it::

    <take>/ascmhl/0001_<take>_<YYYY-MM-DD_HHMMSSZ>.mhl   generation 1: a digest of every file
    <take>/ascmhl/0002_<take>_<YYYY-MM-DD_HHMMSSZ>.mhl   generation 2: a later seal, or a copy
    <take>/ascmhl/ascmhl_chain.xml                       each generation's file name and c4 digest

:func:`read_history` trusts nothing before checking it: the folder holds only those files; the
chain lists generations 1..N, each present and still hashing to the c4 digest the chain recorded
(a generation edited by hand or cut short no longer does); no generation file is missing from the
chain; every file is XML without a DTD under the right root element; every recorded path stays in
the take and every digest is well-formed. Only then is the history loaded with ascmhl's
``MHLHistory``.

:func:`write_generation` names the new file as ascmhl does, writes it and the new chain under
temporary names, fsyncs them and renames them into place, the generation first and the chain
last: a crash in between leaves a generation the chain does not list, which reading reports; any
failure removes what it wrote, so the history is the old one or the new one, never a mix.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import os
import platform
import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

from ascmhl import chain_xml_parser, hashlist_xml_parser
from ascmhl import hasher as mhl_hasher
from ascmhl.chain import MHLChain, MHLChainGeneration
from ascmhl.hashlist import MHLAuthor, MHLCreatorInfo, MHLHashList, MHLProcess, MHLTool
from ascmhl.history import MHLHistory
from ascmhl.ignore import MHLIgnoreSpec
from ascmhl.utils import datetime_isostring
from lxml import etree

from edge.recorder.metadata import fsync_dir
from studio_sync.custody.digests import HEX_DIGITS, describe_os_error, is_digest
from studio_sync.custody.errors import (
    ChainMismatchError,
    CorruptHistoryError,
    CustodyError,
    HistoryError,
    MissingHistoryError,
    TamperedHistoryError,
    UnsafePathError,
)
from studio_sync.custody.paths import HISTORY_DIRNAME, recorded_path_problem

__all__ = ["CHAIN_FILE", "PROCESS_IN_PLACE", "PROCESS_TRANSFER", "Generation", "RecordedFile", "TakeHistory",
           "read_history", "empty_history", "write_generation"]

CHAIN_FILE = "ascmhl_chain.xml"
PROCESS_IN_PLACE = "in-place"
PROCESS_TRANSFER = "transfer"
_PROCESSES = frozenset({PROCESS_IN_PLACE, PROCESS_TRANSFER, "flatten"})
_MHL_ROOT = "{urn:ASC:MHL:v2.0}hashlist"
_CHAIN_NS = "urn:ASC:MHL:DIRECTORY:v2.0"
_GENERATION_NAME = re.compile(r"^(\d{4,})_(.+)\.mhl$")
#: An MHL or chain file larger than this is refused unread (a take's are a few kB).
MAX_XML_BYTES = 64 << 20


@dataclass(frozen=True)
class Generation:
    """One generation of a take's history: its number, file in ``ascmhl/``, process and creator."""

    number: int
    file_name: str
    process: str  # "in-place" (a seal) or "transfer" (a copy)
    creation_date: Optional[str]
    host: Optional[str]
    author: Optional[str]
    hash_formats: Tuple[str, ...]  # the formats of the file digests it holds


@dataclass(frozen=True)
class RecordedFile:
    """What the history says about one file: the digest a verification checks it against.

    ``hash_format``/``digest`` are the original digest of its first generation (ASC MHL verifies
    against that); ``digests`` holds the first digest recorded in each format."""

    path: str
    size: Optional[int]
    generation: int
    hash_format: str
    digest: str
    digests: Mapping[str, str]


@dataclass(frozen=True)
class TakeHistory:
    """A take's checked history: ascmhl's ``MHLHistory``, its generations and its recorded files."""

    folder: Path
    mhl: MHLHistory
    generations: Tuple[Generation, ...]
    files: Mapping[str, RecordedFile]

    @property
    def latest(self) -> Generation:
        return self.generations[-1]


def empty_history(folder: Path) -> MHLHistory:
    """An ``MHLHistory`` with no generation yet, rooted at ``folder``."""
    history = MHLHistory()
    history.asc_mhl_path = str(Path(folder) / HISTORY_DIRNAME)
    history.chain = MHLChain(str(Path(folder) / HISTORY_DIRNAME / CHAIN_FILE))
    return history


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _xml_root(path: Path, label: str) -> etree._Element:
    """The root element of an MHL or chain file parsed without entities, network or DTD."""
    size = path.stat().st_size
    if size > MAX_XML_BYTES:
        raise CorruptHistoryError(f"{label} is {size} bytes, more than an ASC MHL file of a take ever is")
    try:
        tree = etree.parse(str(path), _PARSER)
    except etree.XMLSyntaxError as err:
        raise CorruptHistoryError(f"{label} is not well-formed XML ({err}): it was cut short or edited") from err
    if tree.docinfo.doctype:
        raise CorruptHistoryError(f"{label} declares a DOCTYPE; ASC MHL files have none")
    return tree.getroot()


def _child_text(element: etree._Element, tag: str) -> Optional[str]:
    child = element.find(f"{{{_CHAIN_NS}}}{tag}")
    return None if child is None or child.text is None else child.text.strip()


def _chain_entries(chain_path: Path, label: str) -> List[Tuple[int, str, str]]:
    """``(sequence number, file name, c4 digest)`` of each generation the chain file lists."""
    root = _xml_root(chain_path, label)
    if root.tag != f"{{{_CHAIN_NS}}}ascmhldirectory":
        raise CorruptHistoryError(f"{label} is not an ASC MHL chain file (root element {root.tag!r})")
    entries = []
    for element in root:
        if not isinstance(element.tag, str):
            continue  # a comment or processing instruction
        number, name, c4 = element.get("sequencenr"), _child_text(element, "path"), _child_text(element, "c4")
        if element.tag != f"{{{_CHAIN_NS}}}hashlist" or not (number or "").isdigit() or not name or not c4:
            raise CorruptHistoryError(f"{label} holds an entry that is not a generation (sequence number, "
                                      "file name and c4 digest)")
        entries.append((int(number), name, c4))
    return entries


def _check_chain(folder: Path, generation_files: Dict[str, int]) -> None:
    """The chain lists generations 1..N, each present with the c4 digest the chain recorded."""
    take = folder.name
    entries = _chain_entries(folder / HISTORY_DIRNAME / CHAIN_FILE, f"take {take}: ascmhl/{CHAIN_FILE}")
    listed = set()
    for index, (number, name, c4) in enumerate(sorted(entries), start=1):
        if number != index:
            raise ChainMismatchError(f"take {take}: ascmhl/{CHAIN_FILE} lists generation {number} where generation "
                                     f"{index} belongs: generations were removed or the chain was edited")
        match = _GENERATION_NAME.match(name)
        if "/" in name or match is None or int(match.group(1)) != number:
            raise ChainMismatchError(f"take {take}: ascmhl/{CHAIN_FILE} names {name!r} as generation {number}, "
                                     f"which is not a generation {number} file name")
        if name not in generation_files:
            raise ChainMismatchError(f"take {take}: generation {number}, ascmhl/{name}, is listed in the chain "
                                     "file but missing from the folder")
        actual = mhl_hasher.hash_file(str(folder / HISTORY_DIRNAME / name), "c4")
        if actual != c4:
            raise TamperedHistoryError(
                f"take {take}: ascmhl/{name} (generation {number}) changed after it was written: the chain file "
                f"recorded c4 {c4}, the file now hashes to {actual}; the history cannot be trusted")
        listed.add(name)
    unlisted = sorted(set(generation_files) - listed)
    if unlisted:
        raise ChainMismatchError(f"take {take}: ascmhl/{unlisted[0]} is not listed in the chain file: it was added by "
                                 "hand or a seal was interrupted; remove it if no one vouches for it")


def _generation_files(folder: Path) -> Dict[str, int]:
    """``{file name: generation number}`` of the ``.mhl`` files in ``ascmhl/``; nothing else may be there."""
    take, path = folder.name, folder / HISTORY_DIRNAME
    if path.is_symlink():
        raise UnsafePathError(f"take {take}: {HISTORY_DIRNAME} is a symbolic link; a history is a folder of the take")
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        raise MissingHistoryError(f"take {take} has no ASC MHL history (no files in {HISTORY_DIRNAME}/): seal it "
                                  f"first with `onset sync seal {take}`")
    if not path.is_dir():
        raise CorruptHistoryError(f"take {take}: {HISTORY_DIRNAME} is not a folder")
    found: Dict[str, int] = {}
    with os.scandir(path) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        label = f"take {take}: {HISTORY_DIRNAME}/{entry.name}"
        if entry.is_symlink():
            raise UnsafePathError(f"{label} is a symbolic link; a history holds plain files only")
        match = _GENERATION_NAME.match(entry.name)
        if entry.name.startswith(".") and entry.name.endswith(".tmp"):
            raise CorruptHistoryError(f"{label} is left by a seal or copy that was interrupted before it finished; "
                                      "the history is as it was before that: remove the file")
        if not entry.is_file(follow_symlinks=False) or (match is None and entry.name != CHAIN_FILE):
            raise CorruptHistoryError(f"{label} is not part of an ASC MHL history (only NNNN_*.mhl files and "
                                      f"{CHAIN_FILE} are); remove it if it is not yours")
        if match is not None:
            found[entry.name] = int(match.group(1))
    if not (path / CHAIN_FILE).exists():
        raise ChainMismatchError(f"take {take}: {HISTORY_DIRNAME}/ holds generations but no chain file {CHAIN_FILE}, "
                                 "which vouches for them; the history cannot be trusted")
    return found


def _generation(hash_list: MHLHashList, folder: Path) -> Generation:
    """The summary of one loaded generation, after checking what it records."""
    name = os.path.basename(hash_list.file_path)
    label = f"take {folder.name}: {HISTORY_DIRNAME}/{name}"
    creator, process = hash_list.creator_info, hash_list.process_info.process
    if creator is None or creator.tool is None or not process or process not in _PROCESSES:
        raise CorruptHistoryError(f"{label} lacks its creator or process (in-place, transfer, flatten)")
    formats: List[str] = []
    for media_hash in hash_list.media_hashes:
        problem = recorded_path_problem(media_hash.path)
        if problem:
            raise UnsafePathError(f"{label} records {problem}; a take's history names files inside the take only "
                                  "(it was edited by hand or made for another folder)")
        if media_hash.is_directory:
            continue
        if not media_hash.hash_entries:
            raise CorruptHistoryError(f"{label} records {media_hash.path} without a digest")
        for entry in media_hash.hash_entries:
            if entry.hash_format in HEX_DIGITS and not is_digest(entry.hash_format, entry.hash_string):
                raise CorruptHistoryError(f"{label} records {media_hash.path} with the malformed "
                                          f"{entry.hash_format} digest {entry.hash_string!r}")
            if entry.hash_format not in formats:
                formats.append(entry.hash_format)
    author = creator.authors[0].name if creator.authors else None
    return Generation(hash_list.generation_number, name, process, creator.creation_date, creator.host_name,
                      author, tuple(formats))


def _recorded_files(mhl: MHLHistory, folder: Path) -> Dict[str, RecordedFile]:
    first_seen: Dict[str, Tuple[int, Optional[int], List]] = {}
    for hash_list in mhl.hash_lists:
        for media_hash in hash_list.media_hashes:
            if media_hash.is_directory:
                continue
            seen = first_seen.setdefault(media_hash.path, (hash_list.generation_number, media_hash.file_size, []))
            seen[2].extend(media_hash.hash_entries)
    files: Dict[str, RecordedFile] = {}
    for path, (generation, size, entries) in first_seen.items():
        digests: Dict[str, str] = {}
        for entry in entries:
            digests.setdefault(entry.hash_format, entry.hash_string)
        original = next((e for e in entries if e.action == "original" and e.hash_format in HEX_DIGITS), None)
        chosen = original or next((e for e in entries if e.hash_format in HEX_DIGITS), None)
        if chosen is None:
            raise HistoryError(f"take {folder.name}: the history records {path} only in "
                               f"{', '.join(sorted(digests))}, which Onset does not check (it checks xxh64, xxh128)")
        files[path] = RecordedFile(path, size, generation, chosen.hash_format, chosen.hash_string, digests)
    return files


def read_history(folder: Path) -> TakeHistory:
    """The checked history of the take at ``folder`` (see the module docstring for what is checked).

    Raises :class:`MissingHistoryError` when there is none, :class:`UnsafePathError` for a path
    out of the take, and a :class:`HistoryError` saying what is wrong for any other damage."""
    folder = Path(folder)
    generation_files = _generation_files(folder)
    _check_chain(folder, generation_files)
    for name in generation_files:
        root = _xml_root(folder / HISTORY_DIRNAME / name, f"take {folder.name}: {HISTORY_DIRNAME}/{name}")
        if root.tag != _MHL_ROOT:
            raise CorruptHistoryError(f"take {folder.name}: {HISTORY_DIRNAME}/{name} is not an ASC MHL v2.0 "
                                      f"hash list (root element {root.tag!r})")
    try:
        mhl = MHLHistory.load_from_path(str(folder))
    except Exception as err:  # noqa: BLE001 - ascmhl's parsers raise whatever a malformed file makes them
        raise CorruptHistoryError(f"take {folder.name}: the ascmhl library cannot read the history: "
                                  f"{type(err).__name__}: {err}") from err
    if mhl.child_histories:
        raise CorruptHistoryError(f"take {folder.name} holds a second ASC MHL history in "
                                  f"{mhl.child_histories[0].get_root_path()}; a take has one history")
    generations = tuple(_generation(hash_list, folder) for hash_list in mhl.hash_lists)
    return TakeHistory(folder, mhl, generations, _recorded_files(mhl, folder))


def _user() -> Optional[str]:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no such user in this container's passwd, no LOGNAME
        return None


def _onset_version() -> str:
    try:
        return version("onset-edge")
    except PackageNotFoundError:
        return "unknown"


def _fsync(path: Path) -> None:
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _verify_new_formats(hash_list: MHLHashList) -> None:
    # ASC MHL: a digest in a format the history did not have yet counts as verified once the
    # file's existing digest verified in the same generation (what ascmhl's own writer does).
    for media_hash in hash_list.media_hashes:
        verified = any(e.action == "verified" for e in media_hash.hash_entries)
        for entry in media_hash.hash_entries:
            if entry.action == "new" and verified:
                entry.action = "verified"


def write_generation(folder: Path, mhl: MHLHistory, hash_list: MHLHashList, take_name: str, process: str,
                     author: Optional[str] = None, comment: Optional[str] = None) -> Path:
    """Write ``hash_list`` as the next generation of ``mhl`` into ``folder/ascmhl/`` with the new chain.

    ``take_name`` names the file (``NNNN_<take_name>_<UTC time>.mhl``), ``process`` is ``in-place``
    or ``transfer``, ``author`` defaults to the user running Onset. Returns the new file's path;
    on any failure nothing of it is left and :class:`CustodyError` says why."""
    history_dir = Path(folder) / HISTORY_DIRNAME
    number = mhl.latest_generation_number() + 1
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d_%H%M%SZ")
    final = history_dir / f"{number:04d}_{take_name}_{stamp}.mhl"
    chain_final = history_dir / CHAIN_FILE
    tmp, chain_tmp = history_dir / f".{final.name}.tmp", history_dir / f".{CHAIN_FILE}.tmp"

    creator = MHLCreatorInfo()
    creator.tool = MHLTool("onset", _onset_version())
    creator.creation_date = datetime_isostring(_dt.datetime.now())
    creator.host_name = platform.node()
    creator.comment = comment
    name = author if author is not None else _user()
    if name:
        creator.authors.append(MHLAuthor(name))
    hash_list.creator_info = creator
    hash_list.process_info.process = MHLProcess(process)
    hash_list.process_info.ignore_spec = MHLIgnoreSpec(mhl.latest_ignore_patterns())
    _verify_new_formats(hash_list)

    created_dir = not history_dir.exists()
    renamed = False
    chain = mhl.chain
    try:
        history_dir.mkdir(exist_ok=True)
        hashlist_xml_parser.write_hash_list(hash_list, str(tmp))
        _fsync(tmp)
        os.replace(tmp, final)
        renamed = True
        hash_list.file_path, hash_list.generation_number = str(final), number
        chain.file_path = str(chain_tmp)
        try:
            chain_xml_parser.write_chain(chain, hash_list)
        finally:
            chain.file_path = str(chain_final)
        _fsync(chain_tmp)
        os.replace(chain_tmp, chain_final)
        fsync_dir(history_dir)
    except Exception as err:  # noqa: BLE001 - whatever failed, the history is put back as it was
        for path in (tmp, chain_tmp) + ((final,) if renamed else ()):
            try:
                path.unlink()
            except OSError:
                pass
        if created_dir:
            try:
                history_dir.rmdir()
            except OSError:
                pass
        reason = describe_os_error(err) if isinstance(err, OSError) else f"{type(err).__name__}: {err}"
        raise CustodyError(f"cannot write generation {number} of take {take_name} into {history_dir}: {reason}; "
                           "the history is unchanged") from err
    mhl.append_hash_list(hash_list)
    chain.append_generation(MHLChainGeneration(number, final.name, "c4", hash_list.generate_reference_hash()))
    return final
