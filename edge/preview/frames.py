"""The encoder thread: the newest frame, matched, captioned, encoded once for every viewer.

While the style worker sends (its newest styled frame is under :data:`STYLED_FRESH_S` old, and
the page has not turned the styled output off), a preview frame is made for each new styled frame,
with the node's frame of the same ``frame_index`` and exposure time (``raw`` and the ``fused``
stamp; absent when the reader passed it over). Otherwise one is made for each new node frame, at
the preview size the style worker would use (``engines.style.preview_width``, the camera's aspect).

Each frame gets the captioner's result for its index, or the newest one before it, and the look
the style worker reported for it. Its parts are encoded here, on this thread (OpenCV and zlib let
go of the GIL while they work), once, and only those some viewer asked for
(:attr:`~edge.preview.viewers.ViewerHub.wanted`); with no viewer nothing is encoded. The finished
:class:`~edge.preview.viewers.PreviewFrame` goes to ``deliver``, which hands it to the event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, Optional

import numpy as np

from edge.preview.latency import LatencyStages
from edge.preview.parts import encode_depth, encode_jpeg, fit_image, needed_kinds, part_spec
from edge.preview.protocol import json_text
from edge.preview.readers import FrameReader, Received, ResultReader
from edge.preview.viewers import PreviewFrame
from engines.style.worker import preview_size

__all__ = ["STYLED_FRESH_S", "EngineSwitches", "PipelineInputs", "FramePipeline"]

#: A styled frame older than this means the style worker has stopped: frames come from the node.
#: Long enough that a busy worker's late frame does not turn the look off and on again (the
#: picture would flicker between the look and the raw image); a stopped worker shows within it.
STYLED_FRESH_S = 2.0
_WAIT_S = 0.1
_log = logging.getLogger(__name__)


class EngineSwitches:
    """The page's switches of the engines' output (thread-safe): ``captioner`` (captions on the
    frames) and ``style`` (the styled image; off: the raw image stands in)."""

    NAMES = ("captioner", "style")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._enabled = {name: True for name in self.NAMES}

    def enabled(self, name: str) -> bool:
        with self._lock:
            return self._enabled[name]

    def set(self, name: str, enabled: bool) -> None:
        with self._lock:
            self._enabled[name] = bool(enabled)

    def snapshot(self) -> Dict[str, bool]:
        with self._lock:
            return dict(self._enabled)


@dataclass(frozen=True)
class PipelineInputs:
    """What the pipeline reads: the two frame streams and the two engines' results."""

    raw: FrameReader
    styled: FrameReader
    style_results: ResultReader
    captions: ResultReader


def _lens(frame: Any) -> Optional[Dict[str, Any]]:
    lens = frame.lens
    if lens is None:
        return None
    return {"focal_length_mm": lens.focal_length_mm, "focus_distance_m": lens.focus_distance_m, "t_stop": lens.t_stop}


def _scaled_K(K: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Intrinsics of an image resized by (sx, sy), pixel centres kept (as the style worker scales them)."""
    out = np.array(K, dtype=np.float64)
    out[0, 0], out[0, 1], out[1, 1] = K[0, 0] * sx, K[0, 1] * sx, K[1, 1] * sy
    out[0, 2] = (K[0, 2] + 0.5) * sx - 0.5
    out[1, 2] = (K[1, 2] + 0.5) * sy - 0.5
    return out


class FramePipeline:
    """The encoder thread (module docstring).

    ``wanted``: the parts some viewer wants now; ``deliver``: takes each finished frame (on this
    thread). ``jpeg_quality``: of both images; ``preview_width``: width of raw-driven frames;
    ``sensor_width_mm``: the camera's, for the header's ``camera``.
    """

    def __init__(self, inputs: PipelineInputs, switches: EngineSwitches, latency: LatencyStages, *,
                 wanted: Callable[[], FrozenSet[str]], deliver: Callable[[PreviewFrame], None],
                 jpeg_quality: int, preview_width: int, sensor_width_mm: float) -> None:
        self._in = inputs
        self._switches = switches
        self._latency = latency
        self._wanted = wanted
        self._deliver = deliver
        self._quality = int(jpeg_quality)
        self._preview_width = int(preview_width)
        self._sensor_width_mm = float(sensor_width_mm)
        self._new = threading.Event()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._done_raw = 0
        self._done_styled = 0
        self.seq = 0
        self.unwatched = 0
        #: Frames that could not be built (an image of no pixels, an encoder that failed), and why.
        self.failed = 0
        self.last_error: Optional[str] = None
        self.encodes: Dict[str, int] = {"styled": 0, "raw": 0, "depth": 0}
        self.encode_s: Dict[str, float] = {"styled": 0.0, "raw": 0.0, "depth": 0.0}

    def notify(self) -> None:
        """Something new arrived (called by the readers, on their threads)."""
        self._new.set()

    def start(self) -> "FramePipeline":
        self._thread = threading.Thread(target=self._run, name="preview-encoder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the thread to stop (without waiting for it)."""
        self._stop.set()
        self._new.set()

    def close(self) -> None:
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._new.wait(_WAIT_S)
            self._new.clear()
            job = self._next_job()
            if job is None:
                continue
            wanted = self._wanted()
            if not wanted:
                self.unwatched += 1
                continue
            try:
                frame = self._build(job[0], job[1], wanted)
            except Exception as err:  # noqa: BLE001 - one frame that cannot be shown must not stop the preview
                self.failed += 1
                self.last_error = f"frame {(job[0] or job[1]).frame.frame_index}: {type(err).__name__}: {err}"
                _log.warning("preview: %s", self.last_error)
                continue
            self._deliver(frame)

    def _next_job(self):
        """(styled, raw) to make the next frame of, either may be None; None when nothing is new."""
        styled = self._in.styled.latest()
        if (styled is not None and self._switches.enabled("style")
                and time.monotonic() - styled.received_s < STYLED_FRESH_S):
            if styled.number == self._done_styled:
                return None
            self._done_styled = styled.number
            return styled, self._in.raw.find(styled.frame.frame_index, styled.frame.t_ns)
        raw = self._in.raw.latest()
        if raw is None or raw.number == self._done_raw:
            return None
        self._done_raw = raw.number
        return None, raw

    def _encode(self, kind: str, make: Callable[[], bytes], parts: Dict[str, bytes]) -> None:
        t0 = time.perf_counter()
        parts[kind] = make()
        self.encode_s[kind] += time.perf_counter() - t0
        self.encodes[kind] += 1

    def _build(self, styled: Optional[Received], raw: Optional[Received], wanted: FrozenSet[str]) -> PreviewFrame:
        base = styled.frame if styled is not None else raw.frame
        if min(base.rgb.shape[:2]) < 2:
            raise ValueError(f"an image of {base.rgb.shape[1]} x {base.rgb.shape[0]} px cannot be previewed")
        if styled is not None:
            height, width = styled.frame.rgb.shape[:2]
            K = np.asarray(styled.frame.K, dtype=np.float64)
        else:
            h0, w0 = raw.frame.rgb.shape[:2]
            width, height = preview_size(w0, h0, self._preview_width)
            K = _scaled_K(np.asarray(raw.frame.K, dtype=np.float64), width / w0, height / h0)
        parts: Dict[str, bytes] = {}
        need = needed_kinds(wanted, styled is not None)
        if "styled" in need:
            self._encode("styled", lambda: encode_jpeg(styled.frame.rgb, self._quality), parts)
        if "raw" in need and raw is not None:
            self._encode("raw", lambda: encode_jpeg(fit_image(raw.frame.rgb, width, height), self._quality), parts)
        if "depth" in need:
            self._encode("depth", lambda: encode_depth(base.depth_m, width, height), parts)
        stamps = {"exposure": int(base.t_ns)}
        if raw is not None:
            stamps["fused"] = int(raw.meta.sent_ns)
            self._latency.observe_ns("exposure_fused", base.t_ns, raw.meta.sent_ns)
        if styled is not None:
            stamps["engines"] = int(styled.meta.sent_ns)
            if raw is not None:
                self._latency.observe_ns("fused_engines", raw.meta.sent_ns, styled.meta.sent_ns)
        self.seq += 1
        header = self._header(base, raw, styled is not None, width, height, K)
        return PreviewFrame(self.seq, int(base.frame_index), json_text(header), parts,
                            {k: part_spec(k, len(v), width, height) for k, v in parts.items()}, stamps)

    def _header(self, frame: Any, raw: Optional[Received], styled: bool, width: int, height: int,
                K: np.ndarray) -> Dict[str, Any]:
        tc = frame.timecode
        index = int(frame.frame_index)
        stream_id = None if raw is None else raw.meta.stream_id
        caption = self._in.captions.at_or_before(index, stream_id) if self._switches.enabled("captioner") else None
        look = None
        if styled:
            result = self._in.style_results.at_or_before(index)
            look = None if result is None else result["result"].get("look")
        return {
            "frame_index": index, "t_ns": int(frame.t_ns),
            "timecode": None if tc is None else str(tc), "rate": None if tc is None else tc.rate.label,
            "width": int(width), "height": int(height), "look": look, "lens": _lens(frame),
            "camera": {"sensor_width_mm": self._sensor_width_mm, "fx_px": float(K[0, 0]), "fy_px": float(K[1, 1]),
                       "cx_px": float(K[0, 2]), "cy_px": float(K[1, 2])},
            "sync": [{"sensor": s.sensor, "status": s.status.value, "gap_ms": s.gap_ms,
                      "residual_jitter_ms": s.residual_jitter_ms} for s in frame.sync],
            "caption": None if caption is None else caption["result"],
            "caption_frame_index": None if caption is None else caption["frame_index"],
        }
