"""The entries of a new generation: each file's digests, and each folder's content and structure hashes.

Entries go through ascmhl's ``MHLGenerationCreationSession``, which marks each digest
``original`` (first seen), ``verified`` (equal to the history's) or ``new`` (a format the history
lacked). Files and folders are visited as ascmhl's own ``create`` visits them (post-order,
names sorted), so the generation lists them in the same order and its directory hashes are the
ones ``ascmhl verify --directory_hash`` recomputes: a folder's content hash is the hash of its
children's sorted digests, its structure hash that of their sorted (name + digest) hashes.
"""

from __future__ import annotations

import datetime as _dt
import os
import posixpath
from typing import Dict, List, Mapping, Sequence, Tuple

from ascmhl.generator import MHLGenerationCreationSession
from ascmhl.hasher import DirectoryHashContext
from ascmhl.hashlist import MHLHashList
from ascmhl.history import MHLHistory
from ascmhl.ignore import MHLIgnoreSpec

from studio_sync.custody.errors import CustodyError
from studio_sync.custody.paths import TakeTree

__all__ = ["build_hash_list"]


def _parent(rel: str) -> str:
    return posixpath.dirname(rel) or "."


def _post_order(children: Mapping[str, List[Tuple[str, bool]]]) -> List[str]:
    """Folders, each after every folder inside it, siblings in name order (iterative: no depth limit)."""
    order: List[str] = []
    stack: List[Tuple[str, bool]] = [(".", False)]
    while stack:
        folder, expanded = stack.pop()
        if expanded:
            order.append(folder)
            continue
        stack.append((folder, True))
        subfolders = sorted(rel for rel, is_dir in children[folder] if is_dir)
        stack.extend((rel, False) for rel in reversed(subfolders))
    return order


def _local_time(t_s: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(t_s)


def build_hash_list(mhl: MHLHistory, tree: TakeTree, digests: Mapping[str, Mapping[str, str]],
                    directory_formats: Sequence[str]) -> MHLHashList:
    """The new generation's hash list for ``tree``, whose files hash to ``digests[rel]``.

    ``digests[rel]`` lists the history's formats for that file first, then any new one; every
    format of ``directory_formats`` must be among each file's digests. A digest that differs from
    the history's is a :class:`CustodyError`: compare first, then build."""
    session = MHLGenerationCreationSession(mhl, MHLIgnoreSpec(mhl.latest_ignore_patterns()))
    children: Dict[str, List[Tuple[str, bool]]] = {rel: [] for rel in tree.directories}
    for rel in tree.directories[1:]:
        children[_parent(rel)].append((rel, True))
    files = {f.rel: f for f in tree.files}
    for rel in files:
        children[_parent(rel)].append((rel, False))

    content: Dict[str, Dict[str, str]] = {}
    structure: Dict[str, Dict[str, str]] = {}
    for folder in _post_order(children):
        contexts = {fmt: DirectoryHashContext(fmt) for fmt in directory_formats}
        for rel, is_dir in sorted(children[folder], key=lambda c: posixpath.basename(c[0])):
            path = str(tree.root / rel)
            if is_dir:
                for fmt, context in contexts.items():
                    context.append_directory_hashes(path, content[rel][fmt], structure[rel][fmt])
                continue
            info = files[rel]
            modified = _local_time(info.mtime_ns / 1e9)
            for fmt, digest in digests[rel].items():
                if not session.append_file_hash(path, info.size, modified, fmt, digest):
                    raise CustodyError(f"{rel}: its {fmt} digest {digest} differs from the history's")
            for fmt, context in contexts.items():
                context.append_file_hash(path, digests[rel][fmt])
        content[folder] = {fmt: c.final_content_hash_str() for fmt, c in contexts.items()}
        structure[folder] = {fmt: c.final_structure_hash_str() for fmt, c in contexts.items()}
        folder_path = str(tree.root) if folder == "." else str(tree.root / folder)
        session.append_multiple_format_directory_hashes(
            folder_path, _local_time(os.stat(folder_path).st_mtime), content[folder], structure[folder])
    return session.new_hash_lists[mhl]
