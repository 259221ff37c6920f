"""List and describe the takes in a takes folder (``onset takes ls`` / ``onset takes show``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import yaml

from edge.recorder.errors import BagError, TakeFileError, TakeNotFoundError
from edge.recorder.take import BAG_DIRNAME, TAKE_JSON, TakeStatus, live_recorder_pid, read_take_json

__all__ = ["TakeSummary", "TakeDescription", "list_takes", "resolve_take", "describe_take",
           "bag_topic_counts", "folder_size", "INTERRUPTED"]

INTERRUPTED = "interrupted"  # take.json says recording but no process holds the take: recover it


@dataclass(frozen=True)
class TakeSummary:
    """One row of ``onset takes ls``. ``status`` is take.json's, or ``interrupted``."""

    name: str
    path: Path
    scene: Optional[str]
    shot: Optional[str]
    take: Optional[int]
    status: str
    tc_in: Optional[str]
    tc_out: Optional[str]
    start_ns: Optional[int]
    duration_s: Optional[float]
    message_count: Optional[int]
    size_bytes: int
    error: Optional[str]

    @property
    def slate(self) -> str:
        if self.scene is None:
            return "-"
        return f"{self.scene}/{self.shot}/{self.take}"


@dataclass(frozen=True)
class TakeDescription:
    """``onset takes show``: the take document, the per-topic counts read from the bag itself."""

    summary: TakeSummary
    document: Dict[str, Any]
    bag_counts: Dict[str, int] = field(default_factory=dict)
    bag_error: Optional[str] = None


def folder_size(path: Path) -> int:
    """Bytes of every file under ``path``."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def _summary(folder: Path, doc: Dict[str, Any]) -> TakeSummary:
    slate = doc.get("slate") or {}
    timecode = doc.get("timecode") or {}
    master = doc.get("master_time") or {}
    status = str(doc.get("status", "unknown"))
    if status == TakeStatus.RECORDING.value and live_recorder_pid(folder) is None:
        status = INTERRUPTED
    errors = doc.get("errors") or []
    return TakeSummary(
        name=folder.name,
        path=folder,
        scene=slate.get("scene"),
        shot=slate.get("shot"),
        take=slate.get("take"),
        status=status,
        tc_in=timecode.get("in"),
        tc_out=timecode.get("out"),
        start_ns=master.get("start_ns"),
        duration_s=doc.get("duration_s"),
        message_count=doc.get("message_count"),
        size_bytes=folder_size(folder),
        error=errors[-1].get("message") if errors and isinstance(errors[-1], dict) else None,
    )


def list_takes(takes_dir: Path) -> List[TakeSummary]:
    """Every take in ``takes_dir``, oldest first. A folder whose take.json is unreadable is listed
    with status ``unreadable`` and the reason as its error."""
    root = Path(takes_dir)
    if not root.is_dir():
        raise TakeNotFoundError(f"takes folder {root} does not exist")
    out: List[TakeSummary] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if not (folder / TAKE_JSON).exists() and not (folder / BAG_DIRNAME).is_dir():
            continue
        try:
            out.append(_summary(folder, read_take_json(folder)))
        except TakeFileError as err:
            out.append(TakeSummary(folder.name, folder, None, None, None, "unreadable", None, None, None,
                                   None, None, folder_size(folder), str(err)))
    out.sort(key=lambda s: (s.start_ns is None, s.start_ns or 0, s.name))
    return out


def resolve_take(takes_dir: Path, name_or_path: Union[str, Path]) -> Path:
    """A take folder from its name in ``takes_dir``, a unique name prefix, or a path."""
    candidate = Path(name_or_path)
    if (candidate / TAKE_JSON).exists() or (candidate / BAG_DIRNAME).is_dir():
        return candidate
    root = Path(takes_dir)
    direct = root / str(name_or_path)
    if direct.is_dir():
        return direct
    matches = sorted(p for p in root.glob(f"{name_or_path}*") if p.is_dir()) if root.is_dir() else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        names = ", ".join(p.name for p in matches[:5])
        raise TakeNotFoundError(f"{name_or_path!r} matches {len(matches)} takes in {root} ({names}...): "
                                "be more precise")
    raise TakeNotFoundError(f"no take {str(name_or_path)!r} in {root} (see onset takes ls)")


def bag_topic_counts(bag_dir: Path) -> Dict[str, int]:
    """Messages per topic as the bag's MCAP summary counts them (not as take.json says)."""
    from mcap.exceptions import McapError
    from mcap.reader import make_reader

    meta_path = bag_dir / "metadata.yaml"
    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
        files = meta["rosbag2_bagfile_information"]["relative_file_paths"]
    except FileNotFoundError as err:
        raise BagError(f"{meta_path} is missing: the bag was not closed (run onset takes recover)") from err
    except (OSError, yaml.YAMLError, KeyError, TypeError) as err:
        raise BagError(f"{meta_path} is not rosbag2 metadata: {err}") from err
    counts: Dict[str, int] = {}
    for name in files:
        try:
            with open(bag_dir / str(name), "rb") as f:
                summary = make_reader(f).get_summary()
        except (OSError, McapError, ValueError) as err:
            raise BagError(f"cannot read {bag_dir / str(name)}: {err}") from err
        if summary is None or summary.statistics is None:
            raise BagError(f"{bag_dir / str(name)} has no summary: the bag was not closed (run onset takes recover)")
        for channel_id, count in summary.statistics.channel_message_counts.items():
            channel = summary.channels.get(channel_id)
            topic = channel.topic if channel else f"<channel {channel_id}>"
            counts[topic] = counts.get(topic, 0) + int(count)
    return counts


def describe_take(path: Path) -> TakeDescription:
    """take.json and the bag's own per-topic counts (or why the bag cannot be read)."""
    folder = Path(path)
    doc = read_take_json(folder)
    bag_dir = folder / str((doc.get("bag") or {}).get("path") or BAG_DIRNAME)
    try:
        counts, problem = bag_topic_counts(bag_dir), None
    except BagError as err:
        counts, problem = {}, str(err)
    return TakeDescription(_summary(folder, doc), doc, counts, problem)
