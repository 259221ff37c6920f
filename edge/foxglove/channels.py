"""The bridge's channels: one topic per thing the stage shows, each with its well-known schema.

| topic | schema (encoding) | frame / content |
|---|---|---|
| ``/onset/camera/image/compressed`` | ``foxglove.CompressedImage`` (protobuf) | camera optical frame, JPEG |
| ``/onset/camera/calibration`` | ``foxglove.CameraCalibration`` (protobuf) | camera optical frame |
| ``/tf`` | ``foxglove.FrameTransforms`` (protobuf) | stage -> rig -> camera_optical, lidar |
| ``/onset/lidar/points`` | ``foxglove.PointCloud`` (protobuf) | the LiDAR's frame |
| ``/onset/timecode`` | ``onset.Timecode`` (JSON) | each fused frame's label |
| ``/onset/captioner/captions`` | ``onset.EngineResult`` (JSON) | the captioner worker's results |
| ``/onset/style/results`` | ``onset.EngineResult`` (JSON) | the style worker's results |

Every channel lives in the bridge's own ``foxglove.Context``, so nothing else in the process that
uses the SDK's global context (or a second bridge, in tests) shares its topics or its server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from edge.foxglove.messages import RESULT_SCHEMA, TIMECODE_SCHEMA

__all__ = ["TOPICS", "BridgeChannels", "open_channels"]

#: Role -> topic of every channel the bridge may open.
TOPICS: Dict[str, str] = {
    "image": "/onset/camera/image/compressed",
    "calibration": "/onset/camera/calibration",
    "transforms": "/tf",
    "cloud": "/onset/lidar/points",
    "timecode": "/onset/timecode",
    "captions": "/onset/captioner/captions",
    "style": "/onset/style/results",
}


@dataclass(frozen=True)
class BridgeChannels:
    """The open channels; ``captions`` and ``style`` are None when their relay is off."""

    image: Any
    calibration: Any
    transforms: Any
    cloud: Any
    timecode: Any
    captions: Optional[Any]
    style: Optional[Any]

    def by_role(self) -> Dict[str, Any]:
        """Role -> channel of every open channel."""
        return {role: getattr(self, role) for role in TOPICS if getattr(self, role) is not None}

    def frame_watched(self) -> bool:
        """Whether a client subscribes to anything a fused frame feeds (one cheap SDK call each)."""
        return (self.image.has_sinks() or self.calibration.has_sinks() or self.transforms.has_sinks()
                or self.timecode.has_sinks())

    def close(self) -> None:
        """Unadvertise every channel (clients see them go)."""
        for channel in self.by_role().values():
            channel.close()


def open_channels(context: Any, captions: bool, style: bool) -> BridgeChannels:
    """Every channel in ``context`` (a ``foxglove.Context``); the SDK is imported by the caller."""
    import foxglove
    from foxglove.channels import (
        CameraCalibrationChannel,
        CompressedImageChannel,
        FrameTransformsChannel,
        PointCloudChannel,
    )

    def json_channel(role: str, schema: Dict[str, Any]) -> Any:
        return foxglove.Channel(TOPICS[role], schema=schema, message_encoding="json", context=context)

    return BridgeChannels(
        image=CompressedImageChannel(TOPICS["image"], context=context),
        calibration=CameraCalibrationChannel(TOPICS["calibration"], context=context),
        transforms=FrameTransformsChannel(TOPICS["transforms"], context=context),
        cloud=PointCloudChannel(TOPICS["cloud"], context=context),
        timecode=json_channel("timecode", TIMECODE_SCHEMA),
        captions=json_channel("captions", RESULT_SCHEMA) if captions else None,
        style=json_channel("style", RESULT_SCHEMA) if style else None,
    )
