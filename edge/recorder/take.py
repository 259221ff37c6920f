"""A take folder and its ``take.json``: slate, timecode in/out, rig, calibration, software, topics, status.

A take is ``<takes_dir>/<scene>_<shot>_<take:03d>_<UTC start YYYYMMDDTHHMMSSZ>/`` holding the bag
folder ``bag/`` and ``take.json``. Names sort by slate, then by start time; scene and shot never
contain ``_``, so a name splits back into its slate. ``take.json`` is replaced atomically (temp
file, fsync, rename) at start, at stop, on failure and after recovery, so a reader always sees a
whole document.

A take shot for a capture plan (``edge/plans/``, ``docs/plans.md``) carries the plan in
``take.json`` ``plan``: an object with at least :data:`PLAN_KEYS` (``name``, ``index``,
``parameter``, ``value``, ``unit``, ``fixed``, ``seed``, ``instruction``; more keys are kept as
given), checked once by :func:`validate_plan`. A take without one has ``"plan": null``.
"""

from __future__ import annotations

import datetime as _dt
import enum
import fcntl
import importlib.util
import json
import math
import os
import platform
import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Dict, List, Optional

from edge.recorder.errors import SlateError, TakeFileError
from edge.recorder.metadata import write_bytes_atomic

__all__ = [
    "TAKE_FORMAT",
    "TAKE_FORMAT_VERSION",
    "TAKE_JSON",
    "BAG_DIRNAME",
    "LOCK_FILE",
    "RESERVE_FILE",
    "TakeStatus",
    "Slate",
    "validate_slate",
    "take_folder_name",
    "utc_label",
    "software_versions",
    "calibration_from_rig",
    "write_take_json",
    "read_take_json",
    "live_recorder_pid",
    "parse_take_name",
    "PLAN_KEYS",
    "MAX_PLAN_BYTES",
    "validate_plan",
]

TAKE_FORMAT = "onset-take"
TAKE_FORMAT_VERSION = 1
TAKE_JSON = "take.json"
BAG_DIRNAME = "bag"
LOCK_FILE = ".recording.lock"
RESERVE_FILE = ".reserve"
_SLATE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,31}$")
_MAX_TAKE = 9999
_NS_PER_S = 1_000_000_000
#: Keys every take plan object has (``take.json`` ``plan``); see :func:`validate_plan`.
PLAN_KEYS = ("name", "index", "parameter", "value", "unit", "fixed", "seed", "instruction")
#: Largest plan object a take carries, bytes of JSON.
MAX_PLAN_BYTES = 16 * 1024
_SOFTWARE = (("onset", "onset-edge"), ("rclpy", "rclpy"), ("rosbags", "rosbags"), ("mcap", "mcap"),
             ("mcap_ros2", "mcap-ros2-support"), ("numpy", "numpy"), ("pydantic", "pydantic"))


class TakeStatus(str, enum.Enum):
    """Where a take stands. ``recording`` on disk with no live recorder means it was interrupted."""

    RECORDING = "recording"
    COMPLETE = "complete"
    FAILED = "failed"
    RECOVERED = "recovered"


@dataclass(frozen=True)
class Slate:
    """What the clapperboard says: scene and shot labels (``12``, ``12A``, ``3.1``) and the take number (>= 1)."""

    scene: str
    shot: str
    take: int

    def __str__(self) -> str:
        return f"scene {self.scene} shot {self.shot} take {self.take}"


def _slate_part(name: str, value: object) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise SlateError(f"{name} must be text such as '12' or '12A', got {type(value).__name__}")
    text = str(value).strip()
    if not text:
        raise SlateError(f"{name} is empty: give the {name} from the slate, e.g. --{name} 12")
    if not _SLATE_PART.match(text):
        raise SlateError(
            f"{name} {text!r} cannot name a take: use 1-32 letters, digits, '.' or '-', starting with a letter "
            f"or digit (no spaces, '/' or '_')"
        )
    return text


def validate_slate(scene: object, shot: object, take: object) -> Slate:
    """A checked :class:`Slate`, or :class:`SlateError` saying which part is wrong and why."""
    scene_text = _slate_part("scene", scene)
    shot_text = _slate_part("shot", shot)
    if isinstance(take, bool) or not isinstance(take, int):
        if isinstance(take, str) and take.strip().isdigit():
            take = int(take.strip())
        else:
            raise SlateError(f"take must be a whole number >= 1, got {take!r}")
    if not 1 <= take <= _MAX_TAKE:
        raise SlateError(f"take must be between 1 and {_MAX_TAKE}, got {take}")
    return Slate(scene_text, shot_text, int(take))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _plan_problems(plan: Dict[str, Any]) -> List[str]:
    """What is wrong with each of the plan's :data:`PLAN_KEYS` (empty when nothing is)."""
    problems = []
    for key, ok, expected in (
        ("name", lambda v: isinstance(v, str) and v.strip() != "", "a plan name such as 'focal-sweep'"),
        ("index", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a whole number >= 0"),
        ("parameter", lambda v: isinstance(v, str) and v.strip() != "", "the parameter varied, e.g. 'focal_length_mm'"),
        ("value", lambda v: isinstance(v, str) or _is_number(v), "a finite number or a name"),
        ("unit", lambda v: v is None or isinstance(v, str), "a unit such as 'mm', or null"),
        ("fixed", lambda v: isinstance(v, dict), "an object of the settings held fixed"),
        ("seed", lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)), "a whole number, or null"),
        ("instruction", lambda v: isinstance(v, str), "the crew's instruction as text"),
    ):
        if not ok(plan[key]):
            problems.append(f"{key} must be {expected}, got {plan[key]!r}")
    return problems


def validate_plan(plan: object) -> Optional[Dict[str, Any]]:
    """A take's checked plan object (a copy), or None for none; :class:`SlateError` says what is wrong.

    It must be a JSON object with every key of :data:`PLAN_KEYS` (extra keys are kept), no NaN or
    infinity, and at most :data:`MAX_PLAN_BYTES` of JSON."""
    if plan is None:
        return None
    if not isinstance(plan, dict):
        raise SlateError(f"the take's plan must be a JSON object with {', '.join(PLAN_KEYS)}, got {type(plan).__name__}")
    missing = [key for key in PLAN_KEYS if key not in plan]
    if missing:
        raise SlateError(f"the take's plan lacks {', '.join(missing)} (a plan has {', '.join(PLAN_KEYS)})")
    problems = _plan_problems(plan)
    if problems:
        raise SlateError("the take's plan: " + "; ".join(problems))
    try:
        text = json.dumps(plan, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise SlateError(f"the take's plan is not plain JSON (objects, lists, text, finite numbers): {err}") from err
    if len(text.encode("utf-8")) > MAX_PLAN_BYTES:
        raise SlateError(f"the take's plan is {len(text.encode('utf-8'))} bytes of JSON, more than {MAX_PLAN_BYTES}")
    return json.loads(text)


def utc_label(t_ns: int) -> str:
    """``YYYYMMDDTHHMMSSZ`` of a master time in ns since the Unix epoch."""
    moment = _dt.datetime.fromtimestamp(t_ns // _NS_PER_S, tz=_dt.timezone.utc)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def utc_iso(t_ns: Optional[int]) -> Optional[str]:
    """ISO 8601 UTC with microseconds, or None."""
    if t_ns is None:
        return None
    moment = _dt.datetime.fromtimestamp(t_ns / _NS_PER_S, tz=_dt.timezone.utc)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def take_folder_name(slate: Slate, start_ns: int) -> str:
    """``12_3_004_20261105T142233Z``: sorts by scene, shot, take, then start time."""
    return f"{slate.scene}_{slate.shot}_{slate.take:03d}_{utc_label(start_ns)}"


def parse_take_name(name: str) -> Optional[Slate]:
    """The slate a take folder's name carries, or None if the name is not a take name."""
    parts = name.split("_")
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    try:
        return validate_slate(parts[0], parts[1], int(parts[2]))
    except SlateError:
        return None


def live_recorder_pid(folder: Path) -> Optional[int]:
    """The pid of the process recording into ``folder`` right now, or None.

    The recorder holds an flock on the take's lock file; the kernel drops it when that process
    dies, so a take with a free lock (or none) is not being recorded, whatever take.json says.
    Returns -1 when the holder is alive but its pid could not be read.
    """
    path = Path(folder) / LOCK_FILE
    try:
        fd = os.open(str(path), os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _package_version(name: str) -> Optional[str]:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def software_versions() -> Dict[str, Optional[str]]:
    """Versions of Onset and of everything that shapes a take (None where a package is absent)."""
    out: Dict[str, Optional[str]] = {"python": platform.python_version()}
    for key, dist in _SOFTWARE:
        out[key] = _package_version(dist)
    if out["rclpy"] is None:
        out["rclpy"] = _package_version("ros-rclpy")
    if out["rclpy"] is None and importlib.util.find_spec("rclpy") is not None:
        # A ROS host's rclpy (from /opt/ros) may carry no package metadata; found without importing it.
        out["rclpy"] = f"system ({os.environ.get('ROS_DISTRO') or 'unknown distro'})"
    out["ros_distro"] = os.environ.get("ROS_DISTRO")
    out["platform"] = platform.platform()
    return out


def calibration_from_rig(rig: Any) -> Dict[str, Any]:
    """The rig's calibration as the take needs it: camera intrinsics model, mounts, lens tables, clocks.

    The camera's K depends on the lens's focal length at each frame (it is on every fused frame);
    here are the values it is computed from.
    """
    from sensors.vocabulary import T_RIG_CAMERA_OPTICAL

    camera = rig.camera
    return {
        "camera": {
            "name": camera.name,
            "frame_id": camera.frame_id,
            "width_px": camera.width_px,
            "height_px": camera.height_px,
            "frame_rate": camera.fps,
            "intrinsics": camera.intrinsics.model_dump(mode="json"),
            "T_rig_camera_optical": [[float(v) for v in row] for row in T_RIG_CAMERA_OPTICAL],
        },
        "lidars": [
            {
                "name": lidar.name,
                "model": lidar.model.value,
                "frame_id": lidar.frame_id,
                "T_rig_lidar": [[float(v) for v in row] for row in lidar.mount.matrix()],
                "mount": lidar.mount.model_dump(mode="json"),
                "clock": lidar.clock.model_dump(mode="json"),
            }
            for lidar in rig.lidars
        ],
        "lens": {t.name: t.lens.model_dump(mode="json") for t in rig.telemetry},
        "timecode": {"rate": rig.timecode.rate},
    }


def write_take_json(folder: Path, document: Dict[str, Any]) -> Path:
    """Replace ``folder/take.json`` atomically."""
    path = Path(folder) / TAKE_JSON
    text = json.dumps(document, indent=2, sort_keys=False, allow_nan=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"))
    return path


def read_take_json(folder: Path) -> Dict[str, Any]:
    """The take document in ``folder``, or :class:`TakeFileError` saying what is wrong with it."""
    path = Path(folder) / TAKE_JSON
    try:
        raw = path.read_bytes()
    except FileNotFoundError as err:
        raise TakeFileError(f"{path} does not exist: {folder} is not a take folder") from err
    except OSError as err:
        raise TakeFileError(f"cannot read {path}: {err.strerror}") from err
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise TakeFileError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(document, dict) or document.get("format") != TAKE_FORMAT:
        raise TakeFileError(f"{path} is not an Onset take document (no \"format\": \"{TAKE_FORMAT}\")")
    found = document.get("format_version")
    if not isinstance(found, int) or found > TAKE_FORMAT_VERSION:
        raise TakeFileError(f"{path}: take format version {found!r} is newer than this Onset reads "
                            f"({TAKE_FORMAT_VERSION}); upgrade onset-edge")
    return document


def topics_document(topics: List[Any], flushed_only: bool = False) -> List[Dict[str, Any]]:
    """Per-topic entries of ``take.json`` from :class:`edge.recorder.bag.TopicStats`.

    ``flushed_only``: count the messages in complete chunks only (a bag that was not closed).
    """
    return [
        {
            "name": t.name,
            "type": t.msgtype,
            "message_count": t.flushed_count if flushed_only else t.message_count,
            "first_ns": t.first_ns,
            "last_ns": t.last_ns,
            "max_gap_ms": round(t.max_gap_ns / 1e6, 3),
        }
        for t in topics
    ]
