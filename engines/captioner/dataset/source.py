"""A take as the dataset builder reads it: its identity, its topics and the rig it was shot with.

:func:`open_take` reads ``take.json`` once (``edge/recorder/take.py``) and says, without reading
the bag, everything the re-fusion needs from it:

* **identity**: the folder's name, a ``take_id`` usable in WebDataset keys (the name with every
  character but letters, digits, ``-`` and ``_`` replaced by ``-``: keys must not hold dots), the
  slate (the scene is what splits are made by), and the SHA-256 of ``take.json``'s bytes;
* **topics**: the node's names from the take's rig profile (``ros:`` or derived from its sensors;
  :class:`config.ros.RosConfig`), the lens topic beside the pose topic (``edge/ros/lens.py``);
* **rig**: the camera (size, sensor width, distortion, principal point) from ``take.json``'s
  ``rig``, else its ``calibration.camera``; the first LiDAR's mount ``T_rig_lidar`` from
  ``calibration.lidars``, else the rig; the synchronizer's LiDAR window and pose hold time. A
  take whose document carries no camera is still opened (``camera`` None): the bag's
  ``camera_info`` may say it (:mod:`.refuse`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import numpy as np

from config.models import CameraConfig, IntrinsicsConfig, RigConfig
from config.ros import RosConfig
from config.sync import SyncConfig
from edge.recorder.errors import TakeFileError
from edge.recorder.take import BAG_DIRNAME, TAKE_JSON, read_take_json
from edge.ros.lens import lens_topic_beside
from engines.captioner.dataset.errors import NotATakeError

__all__ = ["TakeTopics", "TakeSource", "open_take", "take_id_of"]

_UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class TakeTopics:
    """The topic names a take's node published, and the tf frames of its rig pose."""

    image: str
    camera_info: str
    lidar: str
    pose: str
    lens: str
    frame_timecode: str
    tf: str
    tf_static: str
    stage_frame: str
    rig_frame: str
    lidar_frame: str

    @classmethod
    def of(cls, ros: RosConfig) -> "TakeTopics":
        return cls(ros.image_topic, ros.camera_info_topic, ros.lidar_topic, ros.pose_topic,
                   lens_topic_beside(ros.pose_topic), ros.frame_timecode_topic, ros.tf_topic, ros.tf_static_topic,
                   ros.stage_frame, ros.rig_frame, ros.lidar_frame)


@dataclass(frozen=True)
class TakeSource:
    """One take folder, opened (module docstring). Times are master-clock ns."""

    path: Path
    bag_dir: Path
    name: str
    take_id: str
    scene: str
    shot: str
    take: int
    take_json_sha256: str
    document: Dict[str, Any]
    topics: TakeTopics
    camera: Optional[CameraConfig]
    T_rig_lidar: Optional[np.ndarray]
    lidar_window_ns: Tuple[int, int]
    hold_ns: int
    timecode_rate: Optional[str]

    @property
    def status(self) -> str:
        return str(self.document.get("status", "unknown"))


def take_id_of(name: str) -> str:
    """A WebDataset-safe id of a take folder's name (no dots: WebDataset splits keys at them)."""
    text = _UNSAFE_KEY_CHARS.sub("-", str(name))
    return text or "take"


def _rig(document: Dict[str, Any]) -> Optional[RigConfig]:
    raw = document.get("rig")
    if not isinstance(raw, dict):
        return None
    try:
        return RigConfig.model_validate(raw)
    except ValueError:
        return None  # a profile from another version of Onset: the calibration section still tells the camera


def _camera(document: Dict[str, Any], rig: Optional[RigConfig]) -> Optional[CameraConfig]:
    if rig is not None:
        return rig.camera
    camera = (document.get("calibration") or {}).get("camera")
    if not isinstance(camera, dict):
        return None
    try:
        return CameraConfig(width_px=int(camera["width_px"]), height_px=int(camera["height_px"]),
                            intrinsics=IntrinsicsConfig.model_validate(camera.get("intrinsics") or {}))
    except (KeyError, TypeError, ValueError):
        return None


def _lidar_mount(document: Dict[str, Any], rig: Optional[RigConfig]) -> Optional[np.ndarray]:
    for lidar in (document.get("calibration") or {}).get("lidars") or []:
        try:
            T = np.asarray(lidar["T_rig_lidar"], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            continue
        if T.shape == (4, 4) and np.isfinite(T).all():
            return T  # the first LiDAR: the one the node publishes
    if rig is not None and rig.lidars:
        return rig.lidars[0].mount.matrix()
    return None


def open_take(path: Path) -> TakeSource:
    """The take in folder ``path``; :class:`NotATakeError` saying why when it is not one."""
    folder = Path(path)
    if not folder.is_dir():
        raise NotATakeError(f"{folder} is not a folder: give a take folder (one holding take.json and bag/)")
    if not (folder / TAKE_JSON).exists():
        raise NotATakeError(f"{folder} is not a take folder: it has no {TAKE_JSON} (nor take folders inside it)")
    try:
        document = read_take_json(folder)
        raw = (folder / TAKE_JSON).read_bytes()
    except TakeFileError as err:
        raise NotATakeError(str(err)) from err
    except OSError as err:
        raise NotATakeError(f"cannot read {folder / TAKE_JSON}: {err}") from err
    bag_dir = folder / str((document.get("bag") or {}).get("path") or BAG_DIRNAME)
    if not bag_dir.is_dir():
        raise NotATakeError(f"{folder} is not a take: it has no bag folder {bag_dir.name}/")
    slate = document.get("slate") or {}
    scene = slate.get("scene")
    if not isinstance(scene, str) or not scene:
        raise NotATakeError(f"{folder / TAKE_JSON} has no slate scene: the dataset splits takes by scene")
    rig = _rig(document)
    ros = rig.ros_config() if rig is not None else RosConfig()
    sync = rig.sync if rig is not None else SyncConfig()
    name = str(document.get("name") or folder.name)
    rate = (document.get("timecode") or {}).get("rate")
    return TakeSource(
        path=folder,
        bag_dir=bag_dir,
        name=name,
        take_id=take_id_of(name),
        scene=scene,
        shot=str(slate.get("shot", "")),
        take=int(slate.get("take") or 0),
        take_json_sha256=hashlib.sha256(raw).hexdigest(),
        document=document,
        topics=TakeTopics.of(ros),
        camera=_camera(document, rig),
        T_rig_lidar=_lidar_mount(document, rig),
        lidar_window_ns=(int(sync.lidar_window_ns[0]), int(sync.lidar_window_ns[1])),
        hold_ns=int(sync.hold_ns),
        timecode_rate=None if rate is None else str(rate),
    )
