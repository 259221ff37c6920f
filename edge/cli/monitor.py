"""Print a status block once a second until a duration passes or Ctrl-C / SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Any, Callable, List, Optional, TextIO

from edge.cli.status import format_status_table
from sensors.rig import SensorRig

__all__ = ["watch", "watch_lines"]


def watch_lines(
    render: Callable[[float], str],
    duration_s: Optional[float],
    interval_s: float = 1.0,
    out: TextIO = sys.stdout,
    stop: Optional[Any] = None,
) -> None:
    """Print ``render(elapsed_s)`` every ``interval_s`` until ``duration_s`` (None: until stopped).

    ``stop``: anything with ``wait(timeout_s) -> bool`` that says when to stop (the node's
    :class:`~edge.cli.shutdown.Shutdown`); without one, Ctrl-C and SIGTERM stop it."""
    previous = {}
    if stop is None:
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, lambda *_: stop.set())
    start = time.monotonic()
    end = None if duration_s is None else start + duration_s
    ticks = 0
    try:
        while True:
            ticks += 1
            wake = start + ticks * interval_s
            if end is not None:
                wake = min(wake, end)
            interrupted = stop.wait(max(0.0, wake - time.monotonic()))
            now = time.monotonic()
            print(render(now - start), file=out)
            out.flush()
            if interrupted or (end is not None and now >= end):
                return
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def watch(
    sensors: Optional[SensorRig],
    duration_s: Optional[float],
    interval_s: float = 1.0,
    extra_lines: Callable[[], List[str]] = lambda: [],
    out: TextIO = sys.stdout,
) -> None:
    """The drivers' status table every ``interval_s``; with no ``sensors`` only the elapsed time
    and ``extra_lines``."""

    def render(elapsed_s: float) -> str:
        if sensors is not None:
            rows = [(h.stats.snapshot(), h.family, h.expected_rate_hz) for h in sensors.handles]
            head = format_status_table(rows, elapsed_s=elapsed_s)
        else:
            head = f"-- {elapsed_s:7.1f} s --"
        return "\n".join([head, *extra_lines()])

    watch_lines(render, duration_s, interval_s, out)
