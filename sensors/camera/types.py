"""Value objects of the camera family (``ImageFrame`` and ``Stamp`` live in :mod:`sensors.vocabulary`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol, Tuple

import numpy as np

from config.models import CameraConfig, CameraSource
from sensors.vocabulary import Timecode

__all__ = ["PipelineSpec", "CameraFrameTruth", "FrameRenderer"]


@dataclass(frozen=True)
class PipelineSpec:
    """A camera pipeline as a ``gst-launch`` description plus what the driver needs to know of it.

    ``elements`` are the factory names the description uses (checked against the registry
    before parsing); ``video_live`` says whether the video source is live;
    ``index_from_offset`` says whether the buffer offset is the frame number (appsrc,
    videotestsrc) or the frame number must come from the time stamp (the RTP timestamp for
    ``rtp``, the PTS otherwise); ``rtp`` whether frames arrive as RFC 4175 RTP on UDP (their
    stamps are the camera's RTP timestamps); ``timecode_meta`` whether the source attaches
    SMPTE RP188 timecode to its buffers (DeckLink).
    """

    description: str
    elements: Tuple[str, ...]
    source: CameraSource
    video_live: bool
    index_from_offset: bool
    width_px: int
    height_px: int
    rtp: bool = False
    timecode_meta: bool = False


@dataclass(frozen=True)
class CameraFrameTruth:
    """What the simulated camera knows of its frame ``k``: the ground truth a test compares to.

    ``frame_index`` is the frame number the camera's stamp gives (what the driver reports:
    ``round(stamp * fps)`` on the camera's clock), ``master_ns`` the exposure mid-time on the
    master clock, ``sensor_ns`` the camera's stamp of it as the driver reads it (for RTP: the
    90 kHz RTP timestamp in ns), ``pts_ns`` the PTS pushed into an in-process ``appsrc``
    (``sensor_ns`` minus the pipeline's sensor epoch), ``rtp_timestamp`` the 32-bit RTP
    timestamp on the wire, ``timecode`` the label of the LTC frame whose start is nearest the
    exposure mid-time (None without an LTC generator): the stage's ground-truth label.
    """

    frame_index: int
    master_ns: int
    sensor_ns: int
    pts_ns: int
    timecode: Optional[Timecode]
    rtp_timestamp: int = 0
    k: int = 0


class FrameRenderer(Protocol):
    """Anything that renders what the camera sees at a master time: the simulated stage."""

    def render(self, t_ns: int, camera: CameraConfig) -> np.ndarray:  # (H, W, 3) uint8
        ...
