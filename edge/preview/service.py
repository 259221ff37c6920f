"""Everything a preview server runs besides HTTP: its readers, encoder, links, viewers and figures.

:class:`PreviewSettings` says where each source is and how to serve; :meth:`PreviewSettings.from_rig`
takes them from a rig profile (docs/preview.md, "What the server reads"). :class:`PreviewService`
opens the parts all or nothing (a part that fails closes the ones already open and names itself),
hands each finished frame to the event loop (:meth:`PreviewService.attach`) and builds the
``state`` message, the ``hello`` message and ``/metrics`` from what its parts count.

The takes folder is the node's own when the node says where it records (``GET /take/status``),
else the one the settings name (``--takes-dir``, ``preview.takes_dir``, ``$ONSET_TAKES_DIR``), else
the profile's ``recorder.takes_dir``: where ``onset takes`` looks.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from config.recorder import DEFAULT_TAKES_DIR
from edge.preview.errors import PreviewStartError
from edge.preview.frames import EngineSwitches, FramePipeline, PipelineInputs
from edge.preview.latency import LatencyStages
from edge.preview.looks import LookLink, LutExport
from edge.preview.metrics import Family, histogram_family, render
from edge.preview.node_link import NodeLink
from edge.preview.parts import PART_KINDS
from edge.preview.protocol import MAX_TEXT_BYTES
from edge.preview.readers import FrameReader, ResultReader
from edge.preview.sources import SourceState, SourceStatus
from edge.preview.takes import TakeCatalogue
from edge.preview.viewers import MESSAGE_BURST, MESSAGES_PER_S, PreviewFrame, Viewer, ViewerHub

__all__ = ["SOURCES", "PreviewSettings", "PreviewService"]

#: The sources a preview reads, by the names the ``state`` message uses.
SOURCES = ("fused", "styled", "style", "captioner", "node", "looks")

_NODE_HINT = "start the node: onset node run"
_WORKERS_HINT = "start the engine workers: onset node run --engines"


@dataclass(frozen=True)
class PreviewSettings:
    """Where a preview listens and what it reads (module docstring). Endpoints are ZeroMQ; the
    control URL is the node's control API. ``token_source`` and ``control_token_hint`` say, in
    messages, where each token came from."""

    token: str
    host: str = "127.0.0.1"
    port: int = 8080
    token_source: str = "generated at start"
    watch_without_token: bool = False
    jpeg_quality: int = 80
    fused_endpoint: str = "tcp://127.0.0.1:5557"
    styled_endpoint: str = "tcp://127.0.0.1:5562"
    style_results_endpoint: str = "tcp://127.0.0.1:5561"
    captioner_results_endpoint: str = "tcp://127.0.0.1:5560"
    look_control_endpoint: str = "tcp://127.0.0.1:5563"
    control_url: str = "http://127.0.0.1:8765"
    control_token: Optional[str] = None
    control_token_hint: str = "set $ONSET_CONTROL_TOKEN or pass --control-token"
    takes_dir: Optional[Path] = None
    default_takes_dir: Path = DEFAULT_TAKES_DIR.expanduser()
    looks_dir: Optional[Path] = None
    preview_width: int = 640
    sensor_width_mm: float = 24.89
    poll_interval_s: float = 1.0
    # Studio sync settings: the takes page shows each take's offload and sync state from its queue.
    studio: Optional[Any] = None

    @classmethod
    def from_rig(cls, rig: Any, token: str, **overrides: Any) -> "PreviewSettings":
        """The settings of a rig profile's ``preview``, ``stream``, ``engines`` and ``control``
        sections; ``overrides`` (host, port, control_token, ...) win."""
        style, captioner, preview = rig.engines.style, rig.engines.captioner, rig.preview
        values: Dict[str, Any] = dict(
            token=token, host=preview.host, port=preview.port, watch_without_token=preview.watch_without_token,
            jpeg_quality=preview.jpeg_quality, fused_endpoint=rig.stream.endpoint,
            styled_endpoint=style.styled_endpoint, style_results_endpoint=style.results_endpoint,
            captioner_results_endpoint=captioner.results_endpoint, look_control_endpoint=style.control_endpoint,
            control_url=f"http://{rig.control.host}:{rig.control.port}",
            control_token_hint=f"set ${rig.control.token_env} or pass --control-token",
            takes_dir=preview.takes_dir, default_takes_dir=rig.recorder.takes_dir, looks_dir=style.looks_dir,
            preview_width=style.preview_width, sensor_width_mm=rig.camera.intrinsics.sensor_width_mm,
            studio=rig.studio,
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


class PreviewService:
    """The parts of one preview server (module docstring)."""

    def __init__(self, settings: PreviewSettings, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self.settings = settings
        self._clock_ns = clock_ns
        s = settings
        self.sources: Dict[str, SourceState] = {
            "fused": SourceState("fused", s.fused_endpoint, _NODE_HINT),
            "styled": SourceState("styled", s.styled_endpoint, _WORKERS_HINT),
            "style": SourceState("style", s.style_results_endpoint, _WORKERS_HINT),
            "captioner": SourceState("captioner", s.captioner_results_endpoint, _WORKERS_HINT),
            "node": SourceState("node", s.control_url, _NODE_HINT),
            "looks": SourceState("looks", s.look_control_endpoint, _WORKERS_HINT),
        }
        self.latency = LatencyStages()
        self.hub = ViewerHub(self.latency, clock_ns)
        self.switches = EngineSwitches()
        consumer = f"preview:{s.port}"
        self.raw = FrameReader(s.fused_endpoint, self.sources["fused"], consumer, on_frame=self._arrived)
        self.styled = FrameReader(s.styled_endpoint, self.sources["styled"], consumer, on_frame=self._arrived)
        self.style_results = ResultReader(s.style_results_endpoint, self.sources["style"])
        self.captions = ResultReader(s.captioner_results_endpoint, self.sources["captioner"])
        self.pipeline = FramePipeline(
            PipelineInputs(self.raw, self.styled, self.style_results, self.captions), self.switches, self.latency,
            wanted=lambda: self.hub.wanted, deliver=self._deliver, jpeg_quality=s.jpeg_quality,
            preview_width=s.preview_width, sensor_width_mm=s.sensor_width_mm)
        self.node = NodeLink(s.control_url, s.control_token, self.sources["node"], s.control_token_hint,
                             interval_s=s.poll_interval_s)
        self.looks = LookLink(s.look_control_endpoint, self.sources["looks"], interval_s=s.poll_interval_s)
        self.luts = LutExport(s.looks_dir)
        self.takes = TakeCatalogue(self.takes_dir, studio=s.studio)
        self.client_errors = 0
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._open: List[Tuple[str, Any]] = []

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> "PreviewService":
        """Open every part, in order; if one fails, close the ones open and say which failed."""
        for name, part in (("fused-frame reader", self.raw), ("styled-frame reader", self.styled),
                           ("style result reader", self.style_results), ("captioner result reader", self.captions),
                           ("encoder", self.pipeline), ("node link", self.node), ("look link", self.looks)):
            try:
                part.start()
            except Exception as err:
                self.close()
                raise PreviewStartError(f"preview: could not start the {name}: {type(err).__name__}: {err}") from err
            self._open.append((name, part))
        return self

    def close(self) -> None:
        self._loop = None
        for _, part in self._open:  # every thread is told at once, then each is waited for
            part.stop()
        while self._open:
            _, part = self._open.pop()
            part.close()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Frames go to ``loop`` from now on (the server's event loop, once it runs)."""
        self._loop = loop

    def detach(self) -> None:
        self._loop = None

    def now_ns(self) -> int:
        """The master clock (the host's), ns."""
        return int(self._clock_ns())

    def _arrived(self) -> None:
        self.pipeline.notify()

    def _deliver(self, frame: PreviewFrame) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self.hub.publish, frame)
        except RuntimeError:  # the loop closed meanwhile: the server is stopping
            pass

    # -- what the page reads ---------------------------------------------------------------------

    def takes_dir(self) -> Path:
        take = self.node.take
        reported = take.get("takes_dir") if isinstance(take, dict) else None
        if reported:
            return Path(reported)
        return self.settings.takes_dir or self.settings.default_takes_dir

    def _live(self, name: str) -> bool:
        return self.sources[name].status is SourceStatus.LIVE

    def current_look(self) -> Optional[str]:
        """The look the style worker reports on its newest frame, else the one it last said."""
        if self._live("style"):
            newest = self.style_results.newest()
            if newest is not None and newest["result"].get("look") is not None:
                return str(newest["result"]["look"])
        return self.looks.current

    def engines(self) -> Dict[str, Dict[str, bool]]:
        switches = self.switches.snapshot()
        return {"captioner": {"running": self._live("captioner"), "enabled": switches["captioner"]},
                "style": {"running": self._live("styled") or self._live("style"), "enabled": switches["style"]}}

    def state(self) -> Dict[str, Any]:
        """The ``state`` message (docs/preview.md); also ``GET /api/state``."""
        pipeline = self.pipeline
        return {
            "type": "state", "server_ns": self._clock_ns(),
            "sources": {name: source.view() for name, source in self.sources.items()},
            "health": self.node.health, "take": self.node.take,
            "latency": self.latency.summary(),
            "look": self.current_look(), "looks": self.looks.looks,
            "engines": self.engines(), "viewers": len(self.hub),
            "frames": {"built": pipeline.seq, "sent": self.hub.frames_sent, "skipped": self.hub.skipped_total,
                       "failed": pipeline.failed, "last_error": pipeline.last_error,
                       "encodes": dict(pipeline.encodes)},
            "takes_dir": str(self.takes_dir()),
        }

    def hello(self, viewer: Viewer) -> Dict[str, Any]:
        """The ``hello`` message a viewer gets first."""
        return {
            "type": "hello", "server_ns": self._clock_ns(), "viewer": viewer.id, "parts": sorted(viewer.parts),
            "kinds": list(PART_KINDS), "look": self.current_look(), "looks": self.looks.looks,
            "controls": viewer.controls,
            "limits": {"text_bytes": MAX_TEXT_BYTES, "messages_per_s": MESSAGES_PER_S, "burst": MESSAGE_BURST},
        }

    def metrics_text(self) -> str:
        """``/metrics`` (docs/preview.md)."""
        pipeline, hub = self.pipeline, self.hub
        families = [
            histogram_family("onset_preview_latency_seconds",
                             "Time from one stamp of a frame to the next (stage: from_to), master clock.",
                             self.latency.histograms()),
            Family("onset_preview_frames_built_total", "counter", "Frames built and encoded for the viewers.")
            .add(pipeline.seq),
            Family("onset_preview_frames_unwatched_total", "counter", "Frames that arrived while no viewer watched.")
            .add(pipeline.unwatched),
            Family("onset_preview_frames_failed_total", "counter", "Frames that could not be built (and were skipped).")
            .add(pipeline.failed),
            Family("onset_preview_frames_sent_total", "counter", "Frame messages sent, all viewers together.")
            .add(hub.frames_sent),
            Family("onset_preview_frames_skipped_total", "counter",
                   "Frames a viewer's slot replaced before they could be sent (a slow viewer).").add(hub.skipped_total),
            Family("onset_preview_viewers", "gauge", "Viewers connected now.").add(len(hub)),
            Family("onset_preview_client_errors_total", "counter",
                   "Messages from pages that could not be taken (answered with an error).").add(self.client_errors),
            Family("onset_preview_look_switches_total", "counter", "Look switches the style worker took.")
            .add(self.looks.switches),
        ]
        encodes = Family("onset_preview_part_encodes_total", "counter", "Parts encoded, once per frame and part.")
        encode_s = Family("onset_preview_part_encode_seconds_total", "counter", "Time spent encoding parts.")
        for kind in PART_KINDS:
            encodes.add(pipeline.encodes[kind], part=kind)
            encode_s.add(pipeline.encode_s[kind], part=kind)
        closed = Family("onset_preview_viewers_closed_total", "counter", "Viewers the server closed, by reason.")
        for reason in ("oversize", "flood"):
            closed.add(hub.closed.get(reason, 0), reason=reason)
        status = Family("onset_preview_source_status", "gauge", "1 for the status each source is in now.")
        for name, source in self.sources.items():
            now = source.status
            for option in SourceStatus:
                status.add(1 if option is now else 0, source=name, status=option.value)
        kept = Family("onset_preview_stream_frames_total", "counter", "Frames kept by the stream readers.")
        passed = Family("onset_preview_stream_passed_over_total", "counter",
                        "Frames a stream reader drained past to keep only the newest.")
        lost = Family("onset_preview_stream_lost_total", "counter", "Frames of a stream that never arrived (seq gaps).")
        for stream, reader in (("fused", self.raw), ("styled", self.styled)):
            kept.add(reader.kept, stream=stream)
            passed.add(reader.passed_over, stream=stream)
            lost.add(reader.lost, stream=stream)
        results = Family("onset_preview_results_total", "counter", "Engine results read, by engine.")
        results.add(self.style_results.received, engine="style").add(self.captions.received, engine="captioner")
        return render([*families, encodes, encode_s, closed, status, kept, passed, lost, results])
