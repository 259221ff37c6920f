"""The lens state on ROS 2: versioned JSON in a ``std_msgs/String`` beside the rig pose.

ROS 2 has no standard lens message, so the node publishes each telemetry sample's lens as a
``std_msgs/msg/String`` whose ``data`` is one JSON object, version :data:`LENS_FORMAT_VERSION`::

    {"v": 1, "t_ns": 1767225601802083005, "focal_length_mm": 35.0, "focus_distance_m": 3.0,
     "t_stop": null, "zoom_raw": 21845, "focus_raw": 4000}

``t_ns`` is the sample's master time (the same stamp as its pose on the pose topic),
``focal_length_mm`` and ``focus_distance_m`` what the rig's lens calibration maps the encoders'
``zoom_raw`` / ``focus_raw`` counts to, ``t_stop`` the iris (null where the source reports none:
FreeD carries none). The topic sits beside the pose topic (:func:`lens_topic_beside`:
``/onset/rig/pose`` -> ``/onset/rig/lens``), so takes record it and readers find it there.

This module is the codec only, pure Python (no rclpy), so that take readers on machines without
ROS 2 (the dataset builder) decode the same text the node writes. A newer version than this
one, a missing or non-finite field, is a :class:`~edge.ros.errors.RosMessageError`.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, NamedTuple, Optional

from edge.ros.errors import RosMessageError
from sensors.vocabulary import LensState

__all__ = [
    "LENS_FORMAT_VERSION",
    "LENS_MSGTYPE",
    "LENS_TOPIC_NAME",
    "LensReading",
    "lens_to_json",
    "lens_from_json",
    "lens_topic_beside",
]

LENS_FORMAT_VERSION = 1
#: The message type the lens JSON travels in.
LENS_MSGTYPE = "std_msgs/msg/String"
#: Last token of the lens topic, beside the pose topic's.
LENS_TOPIC_NAME = "lens"


class LensReading(NamedTuple):
    """One telemetry sample's lens: master time ``t_ns``, the calibrated :class:`LensState` and
    the encoders' raw counts it was mapped from."""

    t_ns: int
    lens: LensState
    zoom_raw: int
    focus_raw: int


def lens_topic_beside(pose_topic: str) -> str:
    """The lens topic in the pose topic's namespace: ``/onset/rig/pose`` -> ``/onset/rig/lens``."""
    parent, sep, _ = str(pose_topic).rpartition("/")
    return f"{parent}{sep}{LENS_TOPIC_NAME}" if sep else LENS_TOPIC_NAME


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RosMessageError(f"lens JSON field {name!r} must be an integer, got {value!r}")
    return int(value)


def _finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise RosMessageError(f"lens JSON field {name!r} must be a finite number, got {value!r}")
    return float(value)


def lens_to_json(lens: LensState, t_ns: int, zoom_raw: int, focus_raw: int) -> str:
    """The JSON text of one lens reading (module docstring); ``t_ns`` master ns."""
    t_stop: Optional[float] = None if lens.t_stop is None else float(lens.t_stop)
    document: Dict[str, Any] = {
        "v": LENS_FORMAT_VERSION,
        "t_ns": int(t_ns),
        "focal_length_mm": float(lens.focal_length_mm),
        "focus_distance_m": float(lens.focus_distance_m),
        "t_stop": t_stop,
        "zoom_raw": int(zoom_raw),
        "focus_raw": int(focus_raw),
    }
    return json.dumps(document, allow_nan=False, separators=(",", ":"))


def lens_from_json(text: str) -> LensReading:
    """The :class:`LensReading` of a lens JSON text; anything else is a RosMessageError that
    says which field is wrong."""
    try:
        document = json.loads(text)
    except (TypeError, ValueError) as err:
        raise RosMessageError(f"lens message is not JSON: {err}") from err
    if not isinstance(document, dict):
        raise RosMessageError(f"lens message must be a JSON object, got {type(document).__name__}")
    version = document.get("v")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= LENS_FORMAT_VERSION:
        raise RosMessageError(f"lens message version {version!r}: this Onset reads version 1 to {LENS_FORMAT_VERSION}")
    missing = [k for k in ("t_ns", "focal_length_mm", "focus_distance_m", "zoom_raw", "focus_raw") if k not in document]
    if missing:
        raise RosMessageError(f"lens message lacks {', '.join(missing)}")
    t_stop = document.get("t_stop")
    lens = LensState(
        focal_length_mm=_finite(document["focal_length_mm"], "focal_length_mm"),
        focus_distance_m=_finite(document["focus_distance_m"], "focus_distance_m"),
        t_stop=None if t_stop is None else _finite(t_stop, "t_stop"),
    )
    if lens.focal_length_mm <= 0.0:
        raise RosMessageError(f"lens focal_length_mm must be positive, got {lens.focal_length_mm}")
    return LensReading(_int(document["t_ns"], "t_ns"), lens, _int(document["zoom_raw"], "zoom_raw"),
                       _int(document["focus_raw"], "focus_raw"))
