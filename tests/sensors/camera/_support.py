"""Helpers of the camera tests: a numpy test-pattern stage and small camera configs."""

from __future__ import annotations

import threading
import time
from typing import Callable

import numpy as np
import pytest

from config.models import CameraConfig, ClockConfig, TimecodeConfig
from sensors.camera.gst import gst_available

#: GStreamer tests are marked ``gst`` and skipped (shown as skipped, with the reason) without PyGObject.
GST_MARKS = (
    pytest.mark.gst,
    pytest.mark.skipif(not gst_available(), reason="GStreamer through PyGObject is not installed"),
)


def gst_only(test):
    """Decorator: :data:`GST_MARKS` on one test."""
    for mark in GST_MARKS:
        test = mark(test)
    return test


class PatternStage:
    """Renders a test pattern that encodes the master time: a stand-in for the ray-cast stage."""

    def __init__(self) -> None:
        self.calls = []

    def render(self, t_ns: int, camera: CameraConfig) -> np.ndarray:
        self.calls.append(int(t_ns))
        h, w = camera.height_px, camera.width_px
        rgb = np.empty((h, w, 3), dtype=np.uint8)
        rgb[..., 0] = (np.arange(w, dtype=np.int64) * 255 // max(w - 1, 1)).astype(np.uint8)[None, :]
        rgb[..., 1] = (np.arange(h, dtype=np.int64) * 255 // max(h - 1, 1)).astype(np.uint8)[:, None]
        rgb[..., 2] = (int(t_ns) // 1_000_000) % 256
        return rgb


def small_camera(fps: str = "24", source: str = "appsrc", **kwargs) -> CameraConfig:
    """A 160x90 camera on a drifting, jittery clock (the profile's figures)."""
    fields = dict(
        source=source,
        width_px=160,
        height_px=90,
        fps=fps,
        clock=ClockConfig(offset_ns=2_500_000, drift_ppm=20.0, jitter_ns=100_000),
    )
    fields.update(kwargs)
    return CameraConfig(**fields)


def timecode_config(rate: str = "24", start: str = "01:00:00:00") -> TimecodeConfig:
    return TimecodeConfig(rate=rate, start=start, clock=ClockConfig(offset_ns=0, drift_ppm=10.0))


def wait_for(predicate: Callable[[], bool], timeout_s: float, check: Callable[[], None] = lambda: None) -> bool:
    """Poll ``predicate`` until it holds or ``timeout_s`` passes; ``check`` may raise meanwhile."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        check()
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def rfc4175_packets(rgb: np.ndarray, timestamp: int, first_sequence: int, payload_type: int = 96,
                    line_bytes_per_packet: int = 1440) -> list:
    """An RGB frame as RFC 4175 RTP datagrams, written here from the RFC (independent of GStreamer's
    payloader): one line segment of up to ``line_bytes_per_packet`` bytes per packet, marker on
    the last, sequence numbers from ``first_sequence`` (mod 2^16)."""
    import struct

    height, width = rgb.shape[:2]
    chunk_px = max(1, line_bytes_per_packet // 3)
    packets = []
    segments = [(line, x) for line in range(height) for x in range(0, width, chunk_px)]
    for i, (line, x) in enumerate(segments):
        data = rgb[line, x:x + chunk_px].tobytes()
        sequence = (first_sequence + i) & 0xFFFF
        marker = 0x80 if i == len(segments) - 1 else 0
        header = struct.pack("!BBHII", 0x80, marker | payload_type, sequence, timestamp & 0xFFFFFFFF, 0x1234)
        payload = struct.pack("!HHHH", 0, len(data), line & 0x7FFF, x & 0x7FFF) + data
        packets.append(header + payload)
    return packets


class Collector:
    """Frames a driver hands on (its ``on_frame``), kept under a lock."""

    def __init__(self) -> None:
        self.frames = []
        self.lock = threading.Lock()

    def __call__(self, frame) -> None:
        with self.lock:
            self.frames.append(frame)

    def __len__(self) -> int:
        with self.lock:
            return len(self.frames)
