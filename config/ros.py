"""Typed settings of Onset's ROS 2 node: its name, the topics it publishes and reads, frame ids.

Output topics carry what Onset's own drivers measure. Input topics default to the same names (the
synchronizer reads topics, not drivers) but can point at vendor drivers already on the graph:
:meth:`RosInputs.ouster` and :meth:`RosInputs.velodyne` give their usual topic names and the
per-point time field each one writes. Loaded from YAML like every profile: unknown keys are errors.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from typing import TYPE_CHECKING, Optional, Tuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from config.models import RigConfig

__all__ = ["LidarTimeField", "RosInputs", "RosConfig", "validate_topic_name", "validate_frame_id"]

# A ROS 2 name: tokens of [A-Za-z0-9_] not starting with a digit, '/'-separated, absolute ('/...'),
# private ('~/...') or relative; no empty token, no trailing '/'.
_TOKEN = r"[A-Za-z_][A-Za-z0-9_]*"
_TOPIC = re.compile(rf"^(/|~/)?{_TOKEN}(/{_TOKEN})*$")
_NODE_NAME = re.compile(rf"^{_TOKEN}$")
_NAMESPACE = re.compile(rf"^(/{_TOKEN})*$")
_FRAME_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")


def validate_topic_name(name: str) -> str:
    """``name`` if it is a valid ROS 2 topic name, else a ValueError pointing at what is wrong."""
    if not isinstance(name, str) or not _TOPIC.match(name):
        raise ValueError(
            f"invalid ROS 2 topic name {name!r}: use '/'-separated tokens of letters, digits and '_', "
            "each not starting with a digit, no '//' and no trailing '/' (e.g. /onset/lidar/points)"
        )
    return name


def validate_frame_id(frame_id: str) -> str:
    """``frame_id`` if tf2 accepts it (non-empty, no leading '/', no spaces), else a ValueError."""
    if not isinstance(frame_id, str) or not _FRAME_ID.match(frame_id):
        raise ValueError(f"invalid frame id {frame_id!r}: tf2 wants a non-empty name without a leading '/' or spaces")
    return frame_id


class LidarTimeField(str, enum.Enum):
    """Which per-point time field an input ``PointCloud2`` carries, relative to its header stamp."""

    TIME = "time"  # float32 seconds (velodyne_pointcloud, and Onset's own clouds)
    T = "t"  # uint32 nanoseconds (ouster-ros)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RosInputs(_Model):
    """Topics the node subscribes to; the defaults are Onset's own output topics."""

    lidar_points: str = "/onset/lidar/points"
    lidar_time_field: LidarTimeField = LidarTimeField.TIME
    image: str = "/onset/camera/image_raw"
    pose: str = "/onset/rig/pose"
    timecode: str = "/onset/timecode"

    @field_validator("lidar_points", "image", "pose", "timecode")
    @classmethod
    def _topic(cls, value: str) -> str:
        return validate_topic_name(value)

    @classmethod
    def ouster(cls, **overrides) -> "RosInputs":
        """ouster-ros: ``/ouster/points``, per-point ``t`` uint32 ns after the header stamp."""
        return cls(**{"lidar_points": "/ouster/points", "lidar_time_field": LidarTimeField.T, **overrides})

    @classmethod
    def velodyne(cls, **overrides) -> "RosInputs":
        """velodyne_driver + velodyne_pointcloud: ``/velodyne_points``, per-point ``time`` float32 s."""
        return cls(**{"lidar_points": "/velodyne_points", "lidar_time_field": LidarTimeField.TIME, **overrides})


class RosConfig(_Model):
    """The ROS 2 node: name, namespace, domain, every topic it publishes and the frames it names.

    Frames follow REP-103/105 and ``sensors.vocabulary``: ``stage`` (world) -> ``rig`` (camera
    body) -> ``camera_optical`` and ``lidar``.
    """

    node_name: str = "onset_edge"
    namespace: str = Field("", description="'' or an absolute namespace such as /stage_a")
    domain_id: Optional[int] = Field(None, ge=0, le=232, description="None: take ROS_DOMAIN_ID from the environment")

    stage_frame: str = "stage"
    rig_frame: str = "rig"
    camera_frame: str = "camera_optical"
    lidar_frame: str = "lidar"

    lidar_topic: str = "/onset/lidar/points"
    image_topic: str = "/onset/camera/image_raw"
    camera_info_topic: str = "/onset/camera/camera_info"
    timecode_topic: str = "/onset/timecode"
    timecode_source: str = Field("LTC", description="first word of TimeReference.source: where the timecode came from")
    frame_timecode_topic: str = Field(
        "/onset/camera/timecode", description="each camera frame's verified label as TimeReference, stamped with "
        "the frame's exposure time; source 'verified|corrected|unverified HH:MM:SS:FF @rate'",
    )
    pose_topic: str = "/onset/rig/pose"
    tf_topic: str = "/tf"
    tf_static_topic: str = "/tf_static"
    diagnostics_topic: str = "/diagnostics"
    publish_tf: bool = Field(True, description="also publish /tf and /tf_static (only where tf2_msgs is importable)")

    sensor_qos_depth: int = Field(5, ge=1, le=1000, description="keep-last depth of the best-effort streams")
    inputs: RosInputs = RosInputs()
    interfaces: Optional[Tuple[str, ...]] = Field(
        ("127.0.0.1",),
        description="IP addresses DDS may bind and talk on (a Fast DDS interface allowlist, see "
                    "edge/ros/dds_profile.py); loopback by default; null leaves DDS on every interface",
    )

    @classmethod
    def from_rig(cls, rig: "RigConfig", **overrides) -> "RosConfig":
        """A RosConfig publishing on the topics and frames ``rig`` names for its sensors, and reading them.

        Camera info goes beside the image topic (``.../image_raw`` -> ``.../camera_info``); the pose
        topic is the first telemetry feed's, the LiDAR the first LiDAR's. ``overrides`` win.
        """
        image_parent = rig.camera.topic.rsplit("/", 1)[0] if "/" in rig.camera.topic else ""
        values = {
            "image_topic": rig.camera.topic,
            "camera_info_topic": f"{image_parent}/camera_info" if image_parent else "camera_info",
            "camera_frame": rig.camera.frame_id,
            "timecode_topic": rig.timecode.topic,
        }
        if rig.lidars:
            values.update(lidar_topic=rig.lidars[0].topic, lidar_frame=rig.lidars[0].frame_id)
        if rig.telemetry:
            values["pose_topic"] = rig.telemetry[0].topic
        values.update(overrides)
        if "inputs" not in overrides:  # the synchronizer reads what this rig's drivers publish
            topics = cls.model_construct(**values)
            values["inputs"] = RosInputs(
                lidar_points=topics.lidar_topic, image=topics.image_topic, pose=topics.pose_topic, timecode=topics.timecode_topic
            )
        return cls(**values)

    @field_validator("node_name")
    @classmethod
    def _node_name(cls, value: str) -> str:
        if not _NODE_NAME.match(value):
            raise ValueError(f"invalid node name {value!r}: letters, digits and '_', not starting with a digit")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not _NAMESPACE.match(value):
            raise ValueError(f"invalid namespace {value!r}: '' or '/'-separated tokens starting with '/', e.g. /stage_a")
        return value

    @field_validator("stage_frame", "rig_frame", "camera_frame", "lidar_frame")
    @classmethod
    def _frame(cls, value: str) -> str:
        return validate_frame_id(value)

    @field_validator(
        "lidar_topic", "image_topic", "camera_info_topic", "timecode_topic", "frame_timecode_topic", "pose_topic",
        "tf_topic", "tf_static_topic", "diagnostics_topic",
    )
    @classmethod
    def _topic(cls, value: str) -> str:
        return validate_topic_name(value)

    @field_validator("interfaces")
    @classmethod
    def _interfaces(cls, value: Optional[Tuple[str, ...]]) -> Optional[Tuple[str, ...]]:
        if value is None:
            return None
        if not value:
            raise ValueError("interfaces must name at least one address (null: no restriction)")
        out = []
        for address in value:
            try:
                out.append(str(ipaddress.ip_address(str(address).strip())))
            except ValueError as err:
                raise ValueError(
                    f"interface {address!r} is not an IP address: name the address DDS may use "
                    "(e.g. 127.0.0.1, ::1 or the stage network's 10.0.0.5), not an interface name"
                ) from err
        return tuple(dict.fromkeys(out))

    @field_validator("timecode_source")
    @classmethod
    def _source(cls, value: str) -> str:
        if not value or any(ch.isspace() for ch in value):
            raise ValueError(f"timecode_source {value!r} must be one word (it prefixes 'LTC 01:00:00:05 @24')")
        return value
