"""Narrow errors of the camera family (GStreamer video; RTP video on the wire).

Each names what went wrong with the values involved: the missing package or element, the
element that posted a pipeline error and GStreamer's own message, the config field that cannot
make a pipeline.
"""

from __future__ import annotations

from typing import Optional

from sensors.errors import SensorError, SensorOpenError

__all__ = [
    "CameraError",
    "CameraConfigError",
    "GstUnavailableError",
    "MissingElementError",
    "PipelineError",
    "PipelineStartError",
    "CameraStateError",
    "RtpPacketError",
    "TimecodeMetaError",
]


class CameraError(SensorError):
    """Root of every error raised by the camera family."""


class CameraConfigError(CameraError, ValueError):
    """A camera configuration that cannot make a pipeline (names the field and value)."""


class GstUnavailableError(CameraError, ImportError):
    """PyGObject or one of GStreamer's introspection typelibs is not installed."""

    def __init__(self, what: str, cause: object = None) -> None:
        self.what = what
        detail = f" ({cause})" if cause else ""
        super().__init__(
            f"the camera driver needs GStreamer through PyGObject, and {what} is missing{detail}. "
            f"Install Debian's gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0 "
            f"gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad "
            f'(plus libgirepository1.0-dev libcairo2-dev pkg-config to build it), then pip install "PyGObject<3.50" '
            f"(3.50+ needs girepository-2.0), or: pip install 'onset-edge[gst]'"
        )


class MissingElementError(CameraError):
    """A GStreamer element the pipeline needs is not in this machine's registry."""

    def __init__(self, element: str, hint: str, needed_for: str = "") -> None:
        self.element, self.hint = element, hint
        purpose = f" (needed for {needed_for})" if needed_for else ""
        super().__init__(
            f"GStreamer element {element!r} is not installed on this machine{purpose}; {hint}. "
            f"Check with: gst-inspect-1.0 {element}"
        )


class PipelineError(CameraError):
    """An error GStreamer posted on the pipeline's bus, with the element that posted it.

    ``element`` is the posting element's factory and name (``filesrc (onset_source)``),
    ``message`` GStreamer's human message and ``debug`` its developer detail (file, function, and
    often the path or URL involved).
    """

    def __init__(self, camera: str, element: str, message: str, debug: Optional[str] = None) -> None:
        self.camera, self.element, self.message, self.debug = camera, element, message, debug
        detail = f" [{debug.strip()}]" if debug else ""
        super().__init__(f"camera {camera!r}: GStreamer element {element} failed: {message}{detail}")


class PipelineStartError(CameraError, SensorOpenError):
    """The pipeline could not be built or refused to start; says which source and why."""


class CameraStateError(CameraError, RuntimeError):
    """A call that needs a running (or an appsrc) pipeline on one that is not."""


class RtpPacketError(CameraError, ValueError):
    """Bytes that are not a readable RTP / RFC 4175 packet; ``reason`` is the drop counter's name."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason, self.detail = reason, detail
        super().__init__(f"RTP packet dropped ({reason}): {detail}")


class TimecodeMetaError(CameraError):
    """The GstVideoTimeCodeMeta reader cannot work here (libgstvideo-1.0 or its symbols missing)."""
