"""A fake stage for the preview tests: the node's and the engines' publishers on loopback ports,
frames whose every stamp the test knows, a style worker's look control, WebSocket helpers."""

from __future__ import annotations

import dataclasses
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from edge.preview import unpack_frame
from edge.stream import FusedFramePublisher
from engines.worker.results import ResultPublisher
from sensors.ports import free_loopback_port
from sensors.vocabulary import FrameRate, FusedFrame, LensState, SensorSync, SyncStatus, Timecode

TOKEN = "t0ken-for-tests"
BASE_NS = 1_800_000_000_000_000_000
FRAME_NS = 41_666_667
#: The node sends a frame this long after its exposure, the style worker this long after that.
FUSED_AFTER_NS = 5_000_000
STYLED_AFTER_NS = 15_000_000


def endpoint() -> str:
    return f"tcp://127.0.0.1:{free_loopback_port(socket.SOCK_STREAM)}"


def make_frame(index: int, width: int = 160, height: int = 90, noisy: bool = False) -> FusedFrame:
    """A frame whose image is a gradient (with noise: a JPEG of realistic size) and whose depth
    holds 2.5 m + index mm on every third row, NaN elsewhere."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // width, y * 255 // height, (x + y + index) % 256], -1).astype(np.uint8)
    if noisy:
        rng = np.random.default_rng(index)
        rgb = np.clip(rgb.astype(np.int16) + rng.integers(-20, 20, rgb.shape), 0, 255).astype(np.uint8)
    depth = np.full((height, width), np.nan, np.float32)
    depth[::3, :] = 2.5 + index / 1000.0
    K = np.array([[width * 1.6, 0.0, width / 2.0], [0.0, width * 1.6, height / 2.0], [0.0, 0.0, 1.0]])
    return FusedFrame(
        frame_index=index, t_ns=BASE_NS + index * FRAME_NS,
        timecode=Timecode(1, 0, index // 24 % 60, index % 24, FrameRate.FPS_24), rgb=rgb, depth_m=depth, pose=None,
        lens=LensState(40.0, 3.0, 2.8), K=K, distortion=(0.0,) * 5,
        sync=(SensorSync("lidar", SyncStatus.OK, 12.5, 0.21), SensorSync("freed", SyncStatus.LATE, float("inf"), 0.05)),
        points_used=100)


def styled_of(frame: FusedFrame, width: int, height: int) -> FusedFrame:
    """The style worker's frame of ``frame``: preview size (intrinsics scaled), image inverted (so
    it is told from the raw one)."""
    import cv2

    h0, w0 = frame.rgb.shape[:2]
    sx, sy = width / w0, height / h0
    K = np.array(frame.K, dtype=np.float64)
    K[0, :] *= sx
    K[1, :] *= sy
    K[0, 2], K[1, 2] = (frame.K[0, 2] + 0.5) * sx - 0.5, (frame.K[1, 2] + 0.5) * sy - 0.5
    rgb = 255 - cv2.resize(frame.rgb, (width, height), interpolation=cv2.INTER_AREA)
    depth = cv2.resize(frame.depth_m, (width, height), interpolation=cv2.INTER_NEAREST)
    return dataclasses.replace(frame, rgb=np.ascontiguousarray(rgb), depth_m=depth, K=K)


class _Clock:
    def __init__(self) -> None:
        self.value = BASE_NS

    def __call__(self) -> int:
        return self.value


@dataclass
class FakeStage:
    """The node's stream, the styled stream and both engines' results, all on this process."""

    endpoints: Dict[str, str] = field(default_factory=lambda: {k: endpoint() for k in (
        "fused", "styled", "style", "captioner", "looks")})
    fused: Optional[FusedFramePublisher] = None
    styled: Optional[FusedFramePublisher] = None
    style_results: Optional[ResultPublisher] = None
    captions: Optional[ResultPublisher] = None
    preview_width: int = 80

    def __post_init__(self) -> None:
        self._fused_clock, self._styled_clock = _Clock(), _Clock()

    def open_node(self) -> "FakeStage":
        self.fused = FusedFramePublisher(self.endpoints["fused"], send_hwm=4, stream_id="node", clock_ns=self._fused_clock)
        return self

    def open_engines(self) -> "FakeStage":
        self.styled = FusedFramePublisher(self.endpoints["styled"], send_hwm=4, stream_id="style",
                                          clock_ns=self._styled_clock, reports=False)
        self.style_results = ResultPublisher(self.endpoints["style"])
        self.captions = ResultPublisher(self.endpoints["captioner"])
        return self

    def publish(self, frame: FusedFrame, caption: bool = True, styled: bool = True, look: str = "35mm") -> None:
        """``frame`` as the node sends it, then (when the engines are open) its caption and its styled frame."""
        self._fused_clock.value = frame.t_ns + FUSED_AFTER_NS
        self.fused.publish(frame)
        meta = {"stream_id": "node", "seq": frame.frame_index}
        if self.captions is not None and caption:
            self.captions.publish(_envelope("captioner", frame, meta, {"labels": {"shot_size": "MS",
                                                                                  "frame": frame.frame_index}}))
        if self.styled is not None and styled:
            from engines.style.worker import preview_size

            width, height = preview_size(frame.rgb.shape[1], frame.rgb.shape[0], self.preview_width)
            self._styled_clock.value = frame.t_ns + STYLED_AFTER_NS
            self.styled.publish(styled_of(frame, width, height))
            self.style_results.publish(_envelope("style", frame, meta, {"look": look, "styled_ms": 3.0}))

    def close(self) -> None:
        for part in (self.fused, self.styled, self.style_results, self.captions):
            if part is not None:
                part.close()


def _envelope(engine: str, frame: FusedFrame, meta: Dict[str, Any], result: Dict[str, Any]) -> Dict[str, Any]:
    from engines.worker.results import envelope

    wire = type("Meta", (), meta)
    return envelope(engine, frame, wire, result, latency_ms=1.0, worker={"processed": 1})


class FakeStyleEngine:
    """What a style worker's LookControl switches: records the switches it was asked for."""

    def __init__(self, looks=("35mm", "push2", "off")) -> None:
        self.looks = list(looks)
        self.current = self.looks[0]
        self.switched: List[str] = []

    def switch(self, name: str) -> str:
        if name not in self.looks:
            raise KeyError(f"no look named {name!r}; the looks are {', '.join(self.looks)}")
        self.current = name
        self.switched.append(name)
        return name


# -- WebSocket helpers -----------------------------------------------------------------------------


def connect_to(port: int, token: Optional[str] = TOKEN, **kwargs: Any):
    """A WebSocket viewer of the preview on 127.0.0.1:``port`` (a context manager)."""
    from websockets.sync.client import connect as ws_connect

    url = f"ws://127.0.0.1:{port}/ws" + (f"?token={token}" if token is not None else "")
    return ws_connect(url, open_timeout=5, close_timeout=2, max_size=2**22, **kwargs)


def connect(server, token: Optional[str] = TOKEN, **kwargs: Any):
    return connect_to(server.settings.port, token, **kwargs)


def next_message(ws, want: Callable[[Any], bool], timeout_s: float = 5.0) -> Any:
    """The first message that ``want`` accepts: a dict for text (parsed), (header, parts) for binary."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no wanted message within the timeout")
        raw = ws.recv(timeout=left)
        message = unpack_frame(raw) if isinstance(raw, bytes) else json.loads(raw)
        if want(message):
            return message


def is_text(kind: str) -> Callable[[Any], bool]:
    return lambda m: isinstance(m, dict) and m.get("type") == kind


def is_frame(m: Any) -> bool:
    return isinstance(m, tuple)


def publish_until(stage: FakeStage, ws, want: Callable[[Any], bool], first: int = 0, timeout_s: float = 10.0,
                  **publish: Any):
    """Publish frames ``first``, ``first + 1``, ... until ``ws`` gets a frame ``want`` accepts
    (ZeroMQ connects lazily: the first frames may reach no one); (that frame, the next index)."""
    index, deadline = first, time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        stage.publish(make_frame(index), **publish)
        sent, index = index, index + 1
        try:
            message = next_message(ws, lambda m, sent=sent: is_frame(m) and m[0]["frame_index"] == sent, 0.3)
        except TimeoutError:
            continue
        if want(message):
            return message, index
    raise TimeoutError(f"no wanted frame after publishing frames {first}..{index - 1}")
