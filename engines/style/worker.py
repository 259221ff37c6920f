"""The style engine a worker runs: the chosen look on every frame it takes, styled frames out.

Each fused frame the worker takes is brought to the preview size (``engines.style.preview_width``,
the camera's aspect kept: INTER_AREA for the image, nearest for the depth, the intrinsics scaled
with it), styled by the current look (:class:`~engines.style.live.LiveLook`, grain seeded by the
frame index), and published as a fused frame on the styled stream (``styled_endpoint``: the
fused-frame wire format, so a reader of the node's stream reads this one too) with the frame's
index, master time and timecode unchanged. The result each frame returns (``process``) says
which look made it and how long it took.

**Switching looks.** Every look offered (the shipped ones, ``looks_dir``'s, and ``off``) is
prepared when the worker starts, so a switch costs nothing: a request on the control endpoint
(ZeroMQ REQ/REP, JSON) ``{"look": NAME}`` makes NAME the look of the next frame the worker takes,
and the reply names it; ``{"looks": true}`` lists them. A request for an unknown look is refused
with the list; the current look stays. Frames are never queued, so a switch shows from the next
frame on (within two frames at any rate the worker keeps up with).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from engines.style.live import LiveLook
from engines.style.model.look import LOOK_SUFFIX, Look, load_look
from engines.style.model.shipped import OFF, resolve_look, shipped_look_names

__all__ = ["StyleEngine", "preview_size", "LookControl", "request_look"]

_log = logging.getLogger(__name__)


def preview_size(width: int, height: int, preview_width: int) -> tuple:
    """(width, height) of the styled frames: ``preview_width`` wide (never wider than the camera),
    the camera's aspect, even numbers (what video encoders take)."""
    w = min(int(preview_width), int(width))
    h = int(round(height * w / width))
    return w - w % 2, max(2, h - h % 2)


def _offered(looks_dir: Optional[Path]) -> Dict[str, Look]:
    looks = {name: resolve_look(name) for name in shipped_look_names()}
    if looks_dir is not None:
        for path in sorted(Path(looks_dir).glob(f"*{LOOK_SUFFIX}")):
            look = load_look(path)
            looks[look.name] = look
    looks[OFF] = resolve_look(OFF)
    return looks


class StyleEngine:
    """The worker's engine (module docstring); ``publisher`` takes the styled fused frames."""

    name = "style"

    def __init__(self, publisher: Any, look: str = "35mm", preview_width: int = 640, grain: bool = True,
                 looks_dir: Optional[Path] = None) -> None:
        self._publisher = publisher
        self._preview_width = int(preview_width)
        self._grain = bool(grain)
        self._looks = _offered(looks_dir)
        #: why the worker did not start on the look it was given (None when it did)
        self.problem: Optional[str] = None
        if look not in self._looks:
            try:
                extra = resolve_look(look)  # a path to a look file, or an error listing the names
                self._looks[extra.name] = extra
                look = extra.name
            except Exception as err:  # noqa: BLE001 - the frames still go out, unstyled, saying why
                self.problem = f"look {look!r} not loaded ({err}); styling off"
                _log.error("%s", self.problem)
                look = OFF
        self._current = look
        self._prepared: Dict[tuple, LiveLook] = {}
        self._lock = threading.Lock()

    @property
    def looks(self) -> List[str]:
        return list(self._looks)

    @property
    def current(self) -> str:
        return self._current

    def switch(self, name: str) -> str:
        """Make ``name`` the look of the next frame; KeyError (listing the looks) if it is not offered."""
        if name not in self._looks:
            raise KeyError(f"no look named {name!r}; the looks are {', '.join(self._looks)}")
        with self._lock:
            self._current = name
        return name

    def _live(self, name: str, height: int, width: int) -> LiveLook:
        key = (name, height, width)
        if key not in self._prepared:
            self._prepared[key] = LiveLook(self._looks[name], height, width, grain=self._grain)
        return self._prepared[key]

    def prepare(self, height: int, width: int) -> None:
        """Prepare every look for frames of this camera size (so that a switch costs nothing)."""
        w, h = preview_size(width, height, self._preview_width)
        for name in self._looks:
            self._live(name, h, w)

    def _resized(self, frame: Any):
        import cv2

        height, width = frame.rgb.shape[:2]
        w, h = preview_size(width, height, self._preview_width)
        if (w, h) == (width, height):
            return frame
        sx, sy = w / width, h / height
        K = np.array(frame.K, np.float64).copy()
        K[0, :] *= sx
        K[1, :] *= sy
        K[0, 2] = (frame.K[0, 2] + 0.5) * sx - 0.5
        K[1, 2] = (frame.K[1, 2] + 0.5) * sy - 0.5
        return dataclasses.replace(
            frame, rgb=cv2.resize(frame.rgb, (w, h), interpolation=cv2.INTER_AREA),
            depth_m=cv2.resize(frame.depth_m, (w, h), interpolation=cv2.INTER_NEAREST), K=K)

    def process(self, frame: Any) -> Dict[str, Any]:
        from engines.worker.loop import FrameRejected

        rgb = getattr(frame, "rgb", None)
        if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise FrameRejected(f"a styled frame needs an (H, W, 3) uint8 image; got "
                                f"{getattr(rgb, 'shape', None)} {getattr(rgb, 'dtype', type(rgb).__name__)}")
        t0 = time.perf_counter()
        small = self._resized(frame)
        with self._lock:
            name = self._current
        h, w = small.rgb.shape[:2]
        styled = self._live(name, h, w).apply(small.rgb, frame_index=int(frame.frame_index))
        self._publisher.publish(dataclasses.replace(small, rgb=styled))
        result = {"look": name, "styled_ms": round((time.perf_counter() - t0) * 1e3, 3), "size": [w, h]}
        if self.problem is not None:
            result["problem"] = self.problem
        return result

    def close(self) -> None:
        close = getattr(self._publisher, "close", None)
        if close is not None:
            close()


class LookControl:
    """The control endpoint (module docstring): a REP socket served on a thread of its own."""

    def __init__(self, engine: StyleEngine, endpoint: str) -> None:
        import zmq

        from edge.stream.publisher import check_bind_endpoint

        self._engine = engine
        self._ctx = zmq.Context.instance()
        self._socket = self._ctx.socket(zmq.REP)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.bind(check_bind_endpoint(endpoint))
        self.endpoint = self._socket.getsockopt(zmq.LAST_ENDPOINT).decode()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="look-control", daemon=True)
        self._thread.start()

    def _answer(self, request: Any) -> Dict[str, Any]:
        if not isinstance(request, dict):
            return {"ok": False, "error": "a request is a JSON object: {\"look\": NAME} or {\"looks\": true}"}
        if "look" in request:
            try:
                name = self._engine.switch(str(request["look"]))
            except KeyError as err:
                return {"ok": False, "error": str(err.args[0]), "look": self._engine.current}
            _log.info("look switched to %s", name)
            return {"ok": True, "look": name}
        return {"ok": True, "look": self._engine.current, "looks": self._engine.looks}

    def _serve(self) -> None:
        import zmq

        poller = zmq.Poller()
        poller.register(self._socket, zmq.POLLIN)
        while not self._stop.is_set():
            if not dict(poller.poll(100)):
                continue
            raw = self._socket.recv()
            try:
                answer = self._answer(json.loads(raw.decode("utf-8")))
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                answer = {"ok": False, "error": f"not JSON: {err}"}
            self._socket.send(json.dumps(answer).encode("utf-8"))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self._socket.close()


def request_look(endpoint: str, request: Dict[str, Any], timeout_ms: int = 2000) -> Dict[str, Any]:
    """Send one request to a style worker's control endpoint and return its answer."""
    import zmq

    socket = zmq.Context.instance().socket(zmq.REQ)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.RCVTIMEO, timeout_ms)
    socket.connect(endpoint)
    try:
        socket.send(json.dumps(request).encode("utf-8"))
        return json.loads(socket.recv().decode("utf-8"))
    except zmq.Again:
        raise TimeoutError(f"no style worker answered at {endpoint} within {timeout_ms} ms") from None
    finally:
        socket.close()
