"""One engine on the fused-frame stream: take the newest frame, run the engine, send the result out.

:func:`serve` is the body of a worker process. It never queues: each time the engine is free it
takes the newest frame the stream has delivered and counts the ones it passed over as
``skipped`` (the stream's own ``lost`` counts what ZeroMQ dropped before they reached the worker,
at the subscriber's small high-water mark). A frame the engine cannot take (wrong size or type,
:class:`FrameRejected`) is counted in ``rejected`` with its reason and the worker goes on; any
other exception ends the worker, and its supervisor (:mod:`engines.worker.supervisor`) starts a
new one.

An engine is any object with ``name`` and ``process(frame) -> dict`` (the result payload, or None
for a frame it only remembers, such as the frames between two clips); ``close()`` if it has one.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Protocol, Sequence

from engines.worker.results import envelope

__all__ = ["Engine", "FrameRejected", "WorkerCounters", "serve"]

_log = logging.getLogger(__name__)


class FrameRejected(ValueError):
    """A frame the engine cannot take; the worker counts it and goes on."""


class Engine(Protocol):
    name: str

    def process(self, frame: Any) -> Optional[Dict[str, Any]]: ...


class Output(Protocol):
    def publish(self, message: Dict[str, Any]) -> None: ...


@dataclass
class WorkerCounters:
    """What one worker did: frames ``processed``, passed over (``skipped``), ``rejected``, lost by
    the stream before they arrived (``lost``), results ``sent``; ``restarts`` is set by the
    supervisor (through the environment) so results say how often the worker was restarted."""

    processed: int = 0
    skipped: int = 0
    rejected: int = 0
    lost: int = 0
    sent: int = 0
    restarts: int = 0
    last_rejection: Optional[str] = None

    def as_dict(self) -> Dict[str, int]:
        return {"processed": self.processed, "skipped": self.skipped, "rejected": self.rejected,
                "lost": self.lost, "restarts": self.restarts}


def serve(engine: Engine, subscriber: Any, outputs: Sequence[Output], stop: threading.Event, *,
          counters: Optional[WorkerCounters] = None, wait_ms: float = 200.0,
          max_frames: Optional[int] = None, clock_ns: Callable[[], int] = time.time_ns) -> WorkerCounters:
    """Run ``engine`` on ``subscriber``'s frames until ``stop`` is set (or ``max_frames`` processed)."""
    counters = WorkerCounters() if counters is None else counters
    while not stop.is_set() and (max_frames is None or counters.processed < max_frames):
        frame = subscriber.recv(timeout_ms=wait_ms)
        if frame is None:
            continue
        while True:  # the newest delivered frame; the ones before it are skipped, not queued
            newer = subscriber.recv(timeout_ms=0)
            if newer is None:
                break
            frame = newer
            counters.skipped += 1
        meta = subscriber.last_meta
        counters.lost = int(subscriber.lost)
        try:
            result = engine.process(frame)
        except FrameRejected as err:
            counters.rejected += 1
            if counters.last_rejection != str(err):
                _log.warning("%s: frame %d rejected: %s", engine.name, frame.frame_index, err)
            counters.last_rejection = str(err)
            continue
        counters.processed += 1
        if result is None:
            continue
        sent_ns = meta.sent_ns if meta is not None else clock_ns()
        message = envelope(engine.name, frame, meta, result, latency_ms=(clock_ns() - sent_ns) / 1e6,
                           worker=counters.as_dict())
        for output in outputs:
            output.publish(message)
        counters.sent += 1
    return counters
