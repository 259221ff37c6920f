"""Read the SMPTE RP188 timecode a capture card attaches to a video buffer (``GstVideoTimeCodeMeta``).

``decklinkvideosrc`` attaches the SDI's RP188 (ancillary) timecode to each buffer it captures as
a ``GstVideoTimeCodeMeta``. The accessor ``gst_buffer_get_video_time_code_meta`` is a C macro
that introspection does not expose, so the meta is read through ctypes against libgstreamer-1.0
and libgstvideo-1.0: ``gst_buffer_get_meta(buffer, gst_video_time_code_meta_api_get_type())``,
then the struct as ``gstvideotimecode.h`` lays it out (GstMeta; then GstVideoTimeCode: its
config ``fps_n, fps_d, flags, latest_daily_jam``, then ``hours, minutes, seconds, frames,
field_count``). The buffer's C pointer is what PyGObject hashes a boxed value by.

Untested against a DeckLink card (none on the machines this was written on): the tests attach a
meta themselves with ``gst_buffer_add_video_time_code_meta_full`` (:func:`add_time_code_meta`)
and read it back through the driver. A meta whose rate is not a project rate, or whose digits
are not a valid label, reads as ``None`` (the driver counts it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from fractions import Fraction
from typing import Optional

from sensors.camera.errors import TimecodeMetaError
from sensors.vocabulary import FrameRate, Timecode

__all__ = ["read_time_code_meta", "add_time_code_meta", "timecode_from_meta_fields", "DROP_FRAME_FLAG"]

#: ``GST_VIDEO_TIME_CODE_FLAGS_DROP_FRAME``.
DROP_FRAME_FLAG = 1


class _GstMeta(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint), ("info", ctypes.c_void_p)]


class _TimeCodeConfig(ctypes.Structure):
    _fields_ = [("fps_n", ctypes.c_uint), ("fps_d", ctypes.c_uint), ("flags", ctypes.c_uint),
                ("latest_daily_jam", ctypes.c_void_p)]


class _TimeCodeMeta(ctypes.Structure):
    _fields_ = [("meta", _GstMeta), ("config", _TimeCodeConfig), ("hours", ctypes.c_uint),
                ("minutes", ctypes.c_uint), ("seconds", ctypes.c_uint), ("frames", ctypes.c_uint),
                ("field_count", ctypes.c_uint)]


_lock = threading.Lock()
_libs: Optional[tuple] = None


def _load() -> tuple:
    global _libs
    with _lock:
        if _libs is not None:
            return _libs
        names = {}
        for short, soname in (("gstreamer-1.0", "libgstreamer-1.0.so.0"), ("gstvideo-1.0", "libgstvideo-1.0.so.0")):
            try:
                names[short] = ctypes.CDLL(ctypes.util.find_library(short) or soname)
            except OSError as err:
                raise TimecodeMetaError(f"cannot load lib{short} to read RP188 timecode metas: {err}") from err
        gst, video = names["gstreamer-1.0"], names["gstvideo-1.0"]
        try:
            gst.gst_buffer_get_meta.restype = ctypes.c_void_p
            gst.gst_buffer_get_meta.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
            gst.gst_buffer_get_size.restype = ctypes.c_size_t
            gst.gst_buffer_get_size.argtypes = [ctypes.c_void_p]
            video.gst_video_time_code_meta_api_get_type.restype = ctypes.c_size_t
            video.gst_video_time_code_meta_api_get_type.argtypes = []
            add = video.gst_buffer_add_video_time_code_meta_full
            add.restype = ctypes.c_void_p
            add.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_uint,
                            ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint]
        except AttributeError as err:
            raise TimecodeMetaError(f"GStreamer lacks a time-code meta symbol: {err}") from err
        _libs = (gst, video, int(video.gst_video_time_code_meta_api_get_type()))
        return _libs


def _pointer(buffer) -> int:
    """The ``GstBuffer *`` of a PyGObject ``Gst.Buffer`` (checked against the buffer's size)."""
    gst, _, _ = _load()
    address = hash(buffer) & ((1 << (8 * ctypes.sizeof(ctypes.c_void_p))) - 1)
    if address == 0 or gst.gst_buffer_get_size(address) != buffer.get_size():
        raise TimecodeMetaError("cannot find the C buffer behind this Gst.Buffer (PyGObject changed?)")
    return address


def timecode_from_meta_fields(fps_n: int, fps_d: int, flags: int, hours: int, minutes: int, seconds: int,
                              frames: int) -> Optional[Timecode]:
    """The label of a GstVideoTimeCode's fields at its own rate; None if not a project rate or label."""
    if fps_d == 0:
        return None
    fps = Fraction(int(fps_n), int(fps_d))
    drop = bool(int(flags) & DROP_FRAME_FLAG)
    rate = next((r for r in FrameRate if r.fps == fps and r.drop_frame == drop), None)
    if rate is None:
        return None
    try:
        return Timecode(int(hours), int(minutes), int(seconds), int(frames), rate)
    except ValueError:
        return None


def read_time_code_meta(buffer) -> Optional[Timecode]:
    """The RP188 timecode attached to ``buffer`` (a ``Gst.Buffer``), or None when it has none.

    Raises :class:`TimecodeMetaError` when the GStreamer libraries cannot be used from ctypes.
    """
    gst, _, api_type = _load()
    meta = gst.gst_buffer_get_meta(_pointer(buffer), api_type)
    if not meta:
        return None
    tc = _TimeCodeMeta.from_address(meta)
    return timecode_from_meta_fields(tc.config.fps_n, tc.config.fps_d, tc.config.flags, tc.hours, tc.minutes,
                                     tc.seconds, tc.frames)


def add_time_code_meta(buffer, timecode: Timecode) -> None:
    """Attach ``timecode`` to a writable ``buffer`` as a card would (tests and offline tools)."""
    _, video, _ = _load()
    fps = timecode.rate.fps
    flags = DROP_FRAME_FLAG if timecode.rate.drop_frame else 0
    if not video.gst_buffer_add_video_time_code_meta_full(
        _pointer(buffer), fps.numerator, fps.denominator, None, flags,
        timecode.hours, timecode.minutes, timecode.seconds, timecode.frames, 0,
    ):
        raise TimecodeMetaError(f"GStreamer refused to attach timecode {timecode} to the buffer")
