"""Camera family: GStreamer video with SMPTE LTC timecode on every frame.

- :mod:`~sensors.camera.pipelines` builds the pipeline description for every source
  (``appsrc`` for the simulated stage, ``videotestsrc``, ``v4l2src``, ``decklinkvideosrc``,
  ``rtspsrc``, ``filesrc``), each ending in ``timecodestamper`` (LTC on its ``ltc_sink`` pad)
  and an ``appsink`` (pure functions, no GStreamer needed);
- :mod:`~sensors.camera.driver` runs it and turns frames into :class:`sensors.vocabulary.ImageFrame`
  with the timecode the stamper read and the exposure's sensor/host stamps;
- :mod:`~sensors.camera.sim` is the simulated cinema camera: rendered frames and the LTC it records,
  pushed into the driver's appsrcs on the camera's own drifting clock;
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
)
from sensors.camera.pipelines import build_pipeline, default_ltc_input, pack_rgb, rgb_stride_bytes, unpack_rgb
from sensors.camera.types import CameraFrameTruth, FrameRenderer, LtcInput, PipelineSpec

__all__ = [
    "CameraDriver",
    "CameraSim",
    "build_pipeline",
    "default_ltc_input",
    "pack_rgb",
    "unpack_rgb",
    "rgb_stride_bytes",
    "PipelineSpec",
    "LtcInput",
    "CameraFrameTruth",
    "FrameRenderer",
    "CameraError",
    "CameraConfigError",
    "CameraStateError",
    "GstUnavailableError",
    "MissingElementError",
    "PipelineError",
    "PipelineStartError",
]


def __getattr__(name: str):
    # The driver and the simulator pull in the stage's and the timecode family's modules; load
    # them only when asked for (neither imports gi until a pipeline starts).
    if name == "CameraDriver":
        from sensors.camera.driver import CameraDriver

        return CameraDriver
    if name == "CameraSim":
        from sensors.camera.sim import CameraSim

        return CameraSim
    raise AttributeError(f"module 'sensors.camera' has no attribute {name!r}")
