"""Camera family: GStreamer video in, :class:`sensors.vocabulary.ImageFrame` out.

- :mod:`~sensors.camera.pipelines` builds the pipeline description for every source
  (``rtp``: RFC 4175 / ST 2110-20 RTP video on UDP; ``appsrc`` for in-process tests,
  ``videotestsrc``, ``v4l2src``, ``decklinkvideosrc``, ``rtspsrc``, ``filesrc``), each ending in
  an ``appsink``; no element waits for timecode (pure functions, no GStreamer needed);
- :mod:`~sensors.camera.rtp` reads RTP video headers, follows frames packet by packet and turns
  the 90 kHz RTP timestamps into nanoseconds on the camera's clock (pure);
- :mod:`~sensors.camera.driver` runs a pipeline and stamps each frame: for RTP, its exposure
  mid-time is the camera's RTP timestamp;
- :mod:`~sensors.camera.timecode_meta` reads the RP188 timecode a DeckLink card attaches to
  its buffers (``GstVideoTimeCodeMeta``, through ctypes);
- :mod:`~sensors.camera.sim` is the simulated cinema camera: its frame schedule on a drifting
  clock, its ground truth, and :class:`~sensors.camera.sim.RtpVideoSender`, which plays it in
  real time as RFC 4175 RTP (run in a process of its own by :mod:`sensors.sim.processes`);
- :mod:`~sensors.camera.gst` imports GStreamer (PyGObject) on demand and says what to install when
  it is missing; :mod:`~sensors.camera.optics` holds the camera maths.

Importing this package imports neither ``gi`` nor GStreamer: they load when a pipeline starts.
"""

from __future__ import annotations

from sensors.camera.errors import (
    CameraConfigError,
    CameraError,
    CameraStateError,
    GstUnavailableError,
    MissingElementError,
    PipelineError,
    PipelineStartError,
    RtpPacketError,
    TimecodeMetaError,
)
from sensors.camera.pipelines import build_pipeline, pack_rgb, rgb_stride_bytes, rtp_video_caps, unpack_rgb
from sensors.camera.types import CameraFrameTruth, FrameRenderer, PipelineSpec

__all__ = [
    "CameraDriver",
    "CameraSim",
    "RtpVideoSender",
    "build_pipeline",
    "rtp_video_caps",
    "pack_rgb",
    "unpack_rgb",
    "rgb_stride_bytes",
    "PipelineSpec",
    "CameraFrameTruth",
    "FrameRenderer",
    "CameraError",
    "CameraConfigError",
    "CameraStateError",
    "GstUnavailableError",
    "MissingElementError",
    "PipelineError",
    "PipelineStartError",
    "RtpPacketError",
    "TimecodeMetaError",
]


def __getattr__(name: str):
    # The driver and the simulator pull in the stage's and the vocabulary's modules; load them
    # only when asked for (neither imports gi until a pipeline starts).
    if name == "CameraDriver":
        from sensors.camera.driver import CameraDriver

        return CameraDriver
    if name in ("CameraSim", "RtpVideoSender"):
        from sensors.camera import sim

        return getattr(sim, name)
    raise AttributeError(f"module 'sensors.camera' has no attribute {name!r}")
