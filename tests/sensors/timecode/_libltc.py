"""libltc (the LTC library inside GStreamer's timecodestamper) through ctypes: the independent
referee for the LTC codec, the simulated generator and the decoder.

libltc ships with GStreamer's bad plugins (Debian ``libltc11``); tests that need it skip, saying
so, where it is missing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import List, Optional, Tuple

import numpy as np
import pytest

from sensors.vocabulary import FrameRate, Timecode

# enum LTC_TV_STANDARD
_TV_525_60, _TV_625_50, _TV_FILM_24 = 0, 1, 3


class _SMPTETimecode(ctypes.Structure):
    _fields_ = [
        ("timezone", ctypes.c_char * 6),
        ("years", ctypes.c_ubyte),
        ("months", ctypes.c_ubyte),
        ("days", ctypes.c_ubyte),
        ("hours", ctypes.c_ubyte),
        ("mins", ctypes.c_ubyte),
        ("secs", ctypes.c_ubyte),
        ("frame", ctypes.c_ubyte),
    ]


def _load() -> Optional[ctypes.CDLL]:
    for name in ("libltc.so.11", ctypes.util.find_library("ltc")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.ltc_decoder_create.restype = ctypes.c_void_p
        lib.ltc_decoder_create.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.ltc_decoder_free.argtypes = [ctypes.c_void_p]
        lib.ltc_decoder_write.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_longlong]
        lib.ltc_decoder_read.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.ltc_frame_to_time.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        lib.ltc_encoder_create.restype = ctypes.c_void_p
        lib.ltc_encoder_create.argtypes = [ctypes.c_double, ctypes.c_double, ctypes.c_int, ctypes.c_int]
        lib.ltc_encoder_free.argtypes = [ctypes.c_void_p]
        for fn in ("ltc_encoder_set_timecode", "ltc_encoder_get_frame"):
            getattr(lib, fn).argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.ltc_encoder_encode_frame.argtypes = [ctypes.c_void_p]
        lib.ltc_encoder_inc_timecode.argtypes = [ctypes.c_void_p]
        lib.ltc_encoder_get_buffer.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.ltc_encoder_get_buffer.restype = ctypes.c_int
        return lib
    return None


LIB = _load()


def require() -> ctypes.CDLL:
    if LIB is None:
        pytest.skip("libltc not found (Debian package libltc11, pulled in by gstreamer1.0-plugins-bad)")
    return LIB


def _standard(rate: FrameRate) -> int:
    return {24: _TV_FILM_24, 25: _TV_625_50}.get(rate.nominal_fps, _TV_525_60)


def libltc_decode(audio: np.ndarray, rate: FrameRate, sample_rate_hz: int) -> List[Tuple[Timecode, int, bytes]]:
    """libltc's reading of uint8 LTC audio: (timecode, first sample of the frame, raw 10 frame bytes)."""
    lib = require()
    audio = np.ascontiguousarray(audio, dtype=np.uint8)
    decoder = lib.ltc_decoder_create(int(round(sample_rate_hz / float(rate.fps))), 64)
    frame_ext = ctypes.create_string_buffer(4096)  # LTCFrameExt, with room to spare for any 1.x layout
    stime = _SMPTETimecode()
    out: List[Tuple[Timecode, int, bytes]] = []
    try:
        for at in range(0, audio.size, 1024):
            chunk = audio[at : at + 1024]
            lib.ltc_decoder_write(decoder, chunk.ctypes.data, chunk.size, at)
            while lib.ltc_decoder_read(decoder, frame_ext):
                lib.ltc_frame_to_time(ctypes.byref(stime), frame_ext, 0)
                # LTCFrame is 80 bits in three 32-bit words; off_start (int64) follows at byte 16.
                off_start = int(np.frombuffer(frame_ext.raw[16:24], dtype=np.int64)[0])
                tc = Timecode(stime.hours, stime.mins, stime.secs, stime.frame, rate)
                out.append((tc, off_start, frame_ext.raw[:10]))
    finally:
        lib.ltc_decoder_free(decoder)
    return out


def libltc_encode(start: Timecode, count: int, sample_rate_hz: int) -> Tuple[np.ndarray, List[np.ndarray]]:
    """libltc's audio (uint8) of ``count`` frames from ``start`` and each frame's 80 bits."""
    lib = require()
    encoder = lib.ltc_encoder_create(float(sample_rate_hz), float(start.rate.fps), _standard(start.rate), 0)
    stime = _SMPTETimecode(b"+0000", 0, 0, 0, start.hours, start.minutes, start.seconds, start.frames)
    frame = ctypes.create_string_buffer(16)
    buf = ctypes.create_string_buffer(16384)
    audio, frames = [], []
    try:
        lib.ltc_encoder_set_timecode(encoder, ctypes.byref(stime))
        for _ in range(count):
            lib.ltc_encoder_get_frame(encoder, frame)
            frames.append(np.unpackbits(np.frombuffer(frame.raw[:10], dtype=np.uint8), bitorder="little"))
            lib.ltc_encoder_encode_frame(encoder)
            n = lib.ltc_encoder_get_buffer(encoder, buf)
            audio.append(np.frombuffer(buf.raw[:n], dtype=np.uint8).copy())
            lib.ltc_encoder_inc_timecode(encoder)
    finally:
        lib.ltc_encoder_free(encoder)
    return np.concatenate(audio), frames
