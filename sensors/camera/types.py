"""Value objects of the camera family (``ImageFrame`` and ``Stamp`` live in :mod:`sensors.vocabulary`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional, Protocol, Tuple

import numpy as np

from config.models import CameraConfig, CameraSource
from sensors.vocabulary import Timecode

__all__ = ["LtcInput", "PipelineSpec", "CameraFrameTruth", "FrameRenderer"]


class LtcInput(str, enum.Enum):
    """Where the LTC audio that ``timecodestamper`` reads on its ``ltc_sink`` pad comes from."""

    NONE = "none"  # camera.ltc is off: frames carry no timecode
    APPSRC = "appsrc"  # pushed by code (the simulated stage, or a recorded LTC track)
    DEVICE = "device"  # an audio input (sound card, capture card's embedded audio)


@dataclass(frozen=True)
class PipelineSpec:
    """A camera pipeline as a ``gst-launch`` description plus what the driver needs to know of it.

    ``elements`` are the factory names the description uses (checked against the registry
    before parsing); ``video_live`` says whether the video source is live (timecodestamper
    then waits on the clock for LTC; when it is not live it waits for the LTC stream to end);
    ``index_from_offset`` says whether the buffer offset is the frame number (appsrc,
    videotestsrc) or the frame number must come from the PTS.
    """

    description: str
    elements: Tuple[str, ...]
    source: CameraSource
    video_live: bool
    ltc: LtcInput
    index_from_offset: bool
    width_px: int
    height_px: int


@dataclass(frozen=True)
class CameraFrameTruth:
    """What the simulated camera knows of frame ``frame_index``: the ground truth a test compares to.

    ``master_ns`` is the exposure mid-time on the master clock, ``sensor_ns`` the camera clock's
    stamp of it (the buffer's PTS plus the pipeline's sensor epoch), ``pts_ns`` the PTS pushed,
    ``timecode`` the label of the LTC frame whose start is nearest the exposure mid-time
    (None without an LTC generator).
    """

    frame_index: int
    master_ns: int
    sensor_ns: int
    pts_ns: int
    timecode: Optional[Timecode]


class FrameRenderer(Protocol):
    """Anything that renders what the camera sees at a master time: the simulated stage."""

    def render(self, t_ns: int, camera: CameraConfig) -> np.ndarray:  # (H, W, 3) uint8
        ...
