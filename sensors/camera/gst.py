"""GStreamer import and start-up guard for the camera family.

``gi`` and GStreamer are optional heavy imports: they load only when a camera pipeline is built,
and a missing piece raises :class:`GstUnavailableError` saying what to install. Elements are
checked against the registry before a pipeline is parsed, so a missing plugin is named
(:class:`MissingElementError`) instead of surfacing as a vague parse failure.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Iterable, Optional

from sensors.camera.errors import GstUnavailableError, MissingElementError

__all__ = ["ELEMENT_HINTS", "require_gst", "gst_available", "element_available", "require_elements"]

#: Which Debian package (or hardware driver) provides each element the pipelines use.
ELEMENT_HINTS = {
    "appsrc": "install gstreamer1.0-plugins-base (the app library)",
    "appsink": "install gstreamer1.0-plugins-base (the app library)",
    "videotestsrc": "install gstreamer1.0-plugins-base",
    "videoconvert": "install gstreamer1.0-plugins-base",
    "videoscale": "install gstreamer1.0-plugins-base",
    "videorate": "install gstreamer1.0-plugins-base",
    "decodebin": "install gstreamer1.0-plugins-base (and the decoders your stream needs)",
    "audioconvert": "install gstreamer1.0-plugins-base",
    "audioresample": "install gstreamer1.0-plugins-base",
    "deinterleave": "install gstreamer1.0-plugins-good",
    "queue": "install gstreamer1.0 (core)",
    "filesrc": "install gstreamer1.0 (core)",
    "capsfilter": "install gstreamer1.0 (core)",
    "udpsrc": "install gstreamer1.0-plugins-good",
    "udpsink": "install gstreamer1.0-plugins-good",
    "rtpvrawdepay": "install gstreamer1.0-plugins-good (RTP raw video, RFC 4175)",
    "rtpvrawpay": "install gstreamer1.0-plugins-good (RTP raw video, RFC 4175)",
    "v4l2src": "install gstreamer1.0-plugins-good (Video4Linux2, Linux only)",
    "rtspsrc": "install gstreamer1.0-plugins-good",
    "decklinkvideosrc": "install gstreamer1.0-plugins-bad and Blackmagic Desktop Video (the DeckLink driver)",
    "decklinkaudiosrc": "install gstreamer1.0-plugins-bad and Blackmagic Desktop Video (the DeckLink driver)",
    "pulsesrc": "install gstreamer1.0-pulseaudio",
    "alsasrc": "install gstreamer1.0-alsa",
    "jackaudiosrc": "install gstreamer1.0-plugins-good's JACK plugin (gstreamer1.0-jack)",
}

_lock = threading.Lock()
_modules: Optional[SimpleNamespace] = None


def _load_rclpy_first() -> None:
    """Load rclpy's libraries before GStreamer's, where rclpy is installed.

    The ROS 2 wheels bundle their own builds of shared libraries; when GStreamer (with its video
    and app libraries) has loaded first, creating an rclpy node later in the same process
    segfaults. Loaded in this order, both work. Without rclpy there is nothing to do.
    """
    try:
        import rclpy  # noqa: F401
    except ImportError:
        pass


def require_gst() -> SimpleNamespace:
    """``Gst``, ``GstVideo``, ``GstApp`` and ``GLib``, imported and initialised once.

    Raises :class:`GstUnavailableError` naming the missing piece (PyGObject or a typelib).
    """
    global _modules
    with _lock:
        if _modules is not None:
            return _modules
        _load_rclpy_first()
        try:
            import gi
        except ImportError as err:
            raise GstUnavailableError("PyGObject (the 'gi' module)", err) from err
        for namespace in ("Gst", "GstVideo", "GstApp"):
            try:
                gi.require_version(namespace, "1.0")
            except ValueError as err:
                raise GstUnavailableError(f"the {namespace}-1.0 introspection typelib", err) from err
        try:
            from gi.repository import GLib, Gst, GstApp, GstVideo
        except ImportError as err:  # pragma: no cover - require_version already checked
            raise GstUnavailableError("a GStreamer introspection typelib", err) from err
        ok, _ = Gst.init_check(None)
        if not ok:  # pragma: no cover - only on a broken GStreamer install
            raise GstUnavailableError("a working GStreamer (Gst.init_check failed)")
        _modules = SimpleNamespace(Gst=Gst, GstVideo=GstVideo, GstApp=GstApp, GLib=GLib)
        return _modules


def gst_available() -> bool:
    """True when :func:`require_gst` succeeds (for test markers and ``onset sensors probe``)."""
    try:
        require_gst()
    except GstUnavailableError:
        return False
    return True


def element_available(factory: str) -> bool:
    """True when GStreamer's registry has an element factory called ``factory``."""
    return require_gst().Gst.ElementFactory.find(factory) is not None


def require_elements(factories: Iterable[str], needed_for: str = "") -> None:
    """Raise :class:`MissingElementError` for the first factory the registry lacks."""
    for factory in factories:
        if not element_available(factory):
            hint = ELEMENT_HINTS.get(factory, "install the GStreamer plugin package that provides it")
            raise MissingElementError(factory, hint, needed_for)
