"""The viewers of the preview: one latest-frame slot each, one sender task each, nothing queued.

A :class:`Viewer` holds at most one frame waiting to be sent (:meth:`Viewer.offer_frame`): the
newest frame replaces the one the viewer has not been sent yet, and the replaced one counts as
skipped (the frame header's ``skipped`` says how many since the last one it got). Its text
messages (``pong``, ``error``, ``hello``) wait in a short bounded deque and its ``state`` in a
slot of its own. One asyncio task per viewer (:func:`run_sender`) sends what is there, text
first (a ``pong`` that waits behind a frame would skew the page's clock), each send awaited: a
viewer that stops reading blocks only its own task, holds one frame, and costs the others
nothing.

:class:`ViewerHub` lives on the event loop: it offers every new frame to every viewer, keeps the
union of the parts the viewers asked for (read by the encoder thread, so only parts someone wants
are encoded), builds each viewer's frame message (its parts, its ``sent`` stamp, its ``skipped``)
and turns ``drawn`` reports into latencies.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Deque, Dict, FrozenSet, Optional, Tuple

from edge.preview.errors import ClientMessageError
from edge.preview.latency import LatencyStages
from edge.preview.parts import DEFAULT_PARTS, kinds_for
from edge.preview.protocol import Drawn, pack_frame

__all__ = ["MESSAGES_PER_S", "MESSAGE_BURST", "RateLimit", "PreviewFrame", "Viewer", "ViewerHub", "run_sender"]

#: Messages a second a page may send, sustained, and the burst it may send at once: a `drawn` for
#: every frame at 60 fps and the pings are well under it; a flood (a script, a bug) is not.
MESSAGES_PER_S = 150.0
MESSAGE_BURST = 300.0
#: Frames a viewer remembers it was sent (for ``drawn`` reports).
_SENT_REMEMBERED = 64
#: Text messages a viewer may have waiting; beyond, the oldest is dropped (and counted).
_TEXTS_WAITING = 32
#: A ``drawn`` stamp this far before its frame was sent, or after, is not believed.
_DRAWN_EARLY_NS = 100_000_000
_DRAWN_LATE_NS = 60_000_000_000


class RateLimit:
    """A token bucket: ``rate`` messages a second sustained, ``burst`` at once; ``allow()`` takes one."""

    def __init__(self, rate: float = MESSAGES_PER_S, burst: float = MESSAGE_BURST,
                 monotonic_s: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst = float(rate), float(burst)
        self._monotonic_s = monotonic_s
        self._tokens = float(burst)
        self._last = monotonic_s()

    def allow(self) -> bool:
        now = self._monotonic_s()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


@dataclass(frozen=True)
class PreviewFrame:
    """One frame as built once for every viewer.

    ``header_json``: the JSON object of every header key that is the same for all viewers;
    ``parts``: kind -> encoded bytes; ``specs``: kind -> its header entry; ``stamps``: the
    master-clock stamps known so far (``exposure``, ``fused``, ``engines``).
    """

    seq: int
    frame_index: int
    header_json: str
    parts: Dict[str, bytes]
    specs: Dict[str, Dict[str, Any]]
    stamps: Dict[str, int]


class Viewer:
    """One page's socket (module docstring). Lives on the event loop."""

    def __init__(self, ident: int, controls: bool) -> None:
        self.id = ident
        self.controls = controls
        self.parts: FrozenSet[str] = DEFAULT_PARTS
        self.limit = RateLimit()
        self.wake = asyncio.Event()
        self.frame: Optional[PreviewFrame] = None
        self.state_text: Optional[str] = None
        self.texts: Deque[str] = deque()
        self.sent_stamps: "OrderedDict[int, Tuple[Dict[str, int], int]]" = OrderedDict()
        self.skipped = 0
        self.skipped_total = 0
        self.frames_sent = 0
        self.texts_dropped = 0

    def offer_frame(self, frame: PreviewFrame) -> None:
        if self.frame is not None:
            self.skipped += 1
            self.skipped_total += 1
        self.frame = frame
        self.wake.set()

    def offer_text(self, text: str) -> None:
        if len(self.texts) >= _TEXTS_WAITING:
            self.texts.popleft()
            self.texts_dropped += 1
        self.texts.append(text)
        self.wake.set()

    def offer_state(self, text: str) -> None:
        self.state_text = text
        self.wake.set()


class ViewerHub:
    """Every viewer of one server (module docstring). ``clock_ns``: the master clock."""

    def __init__(self, latency: LatencyStages, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._latency = latency
        self._clock_ns = clock_ns
        self._viewers: Dict[int, Viewer] = {}
        self._ids = itertools.count(1)
        #: The parts some viewer wants (replaced whole, so another thread may read it at any time).
        self.wanted: FrozenSet[str] = frozenset()
        self.frames_sent = 0
        #: Viewers closed by the server, by reason (``oversize``, ``flood``).
        self.closed: Dict[str, int] = {}
        self._skipped_by_gone = 0

    def __len__(self) -> int:
        return len(self._viewers)

    def viewers(self) -> Tuple[Viewer, ...]:
        return tuple(self._viewers.values())

    def add(self, controls: bool) -> Viewer:
        viewer = Viewer(next(self._ids), controls)
        self._viewers[viewer.id] = viewer
        self._recompute()
        return viewer

    def remove(self, viewer: Viewer) -> None:
        if self._viewers.pop(viewer.id, None) is not None:
            self._skipped_by_gone += viewer.skipped_total
        self._recompute()

    def set_parts(self, viewer: Viewer, parts: FrozenSet[str]) -> None:
        viewer.parts = frozenset(parts)
        self._recompute()

    def _recompute(self) -> None:
        wanted: set = set()
        for viewer in self._viewers.values():
            wanted |= viewer.parts
        self.wanted = frozenset(wanted)

    def count_close(self, reason: str) -> None:
        self.closed[reason] = self.closed.get(reason, 0) + 1

    @property
    def skipped_total(self) -> int:
        """Frames a viewer's slot replaced before they were sent, every viewer so far."""
        return sum(v.skipped_total for v in self._viewers.values()) + self._skipped_by_gone

    def publish(self, frame: PreviewFrame) -> None:
        for viewer in self._viewers.values():
            viewer.offer_frame(frame)

    def broadcast_state(self, text: str) -> None:
        for viewer in self._viewers.values():
            viewer.offer_state(text)

    def frame_message(self, viewer: Viewer, frame: PreviewFrame, skipped: int) -> bytes:
        """``frame`` as ``viewer`` gets it: its parts, its ``sent`` stamp and ``skipped`` count."""
        kinds = kinds_for(viewer.parts, frame.parts)
        sent_ns = self._clock_ns()
        stamps = dict(frame.stamps, sent=sent_ns)
        own = json.dumps({"type": "frame", "seq": frame.seq, "parts": [frame.specs[k] for k in kinds],
                          "stamps_ns": stamps, "skipped": skipped}, separators=(",", ":"))
        header = own[:-1] + "," + frame.header_json[1:] if frame.header_json != "{}" else own
        viewer.sent_stamps[frame.seq] = (frame.stamps, sent_ns)
        if len(viewer.sent_stamps) > _SENT_REMEMBERED:
            viewer.sent_stamps.popitem(last=False)
        if "engines" in frame.stamps:
            self._latency.observe_ns("engines_sent", frame.stamps["engines"], sent_ns)
        if "fused" in frame.stamps:
            self._latency.observe_ns("fused_sent", frame.stamps["fused"], sent_ns)
        return pack_frame(header, [frame.parts[k] for k in kinds])

    def drawn(self, viewer: Viewer, report: Drawn) -> None:
        """A page drew frame ``report.seq``; ClientMessageError for one it was not sent (lately)."""
        found = viewer.sent_stamps.get(report.seq)
        if found is None:
            raise ClientMessageError(f"drawn seq {report.seq} was not sent to this viewer among its newest "
                                     f"{_SENT_REMEMBERED} frames")
        stamps, sent_ns = found
        if not sent_ns - _DRAWN_EARLY_NS <= report.drawn_ns <= sent_ns + _DRAWN_LATE_NS:
            raise ClientMessageError(f"drawn_ns of seq {report.seq} is {(report.drawn_ns - sent_ns) / 1e6:.1f} ms "
                                     "from when it was sent: is the page's clock offset applied?")
        self._latency.observe_ns("sent_drawn", sent_ns, report.drawn_ns)
        if "fused" in stamps:
            self._latency.observe_ns("fused_drawn", stamps["fused"], report.drawn_ns)
        self._latency.observe_ns("exposure_drawn", stamps["exposure"], report.drawn_ns)


async def run_sender(viewer: Viewer, hub: ViewerHub, send_text: Callable[[str], Awaitable[None]],
                     send_bytes: Callable[[bytes], Awaitable[None]]) -> None:
    """Send what ``viewer`` has waiting, for as long as its socket takes it (module docstring)."""
    while True:
        await viewer.wake.wait()
        viewer.wake.clear()
        while viewer.texts:
            await send_text(viewer.texts.popleft())
        if viewer.state_text is not None:
            text, viewer.state_text = viewer.state_text, None
            await send_text(text)
        if viewer.frame is not None:
            frame, viewer.frame = viewer.frame, None
            skipped, viewer.skipped = viewer.skipped, 0
            await send_bytes(hub.frame_message(viewer, frame, skipped))
            viewer.frames_sent += 1
            hub.frames_sent += 1
