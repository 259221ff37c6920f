"""Print a rig's status once a second until a duration passes or Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Callable, List, Optional, TextIO

from edge.cli.status import format_status_table
from sensors.rig import SensorRig

__all__ = ["watch"]


def watch(
    sensors: Optional[SensorRig],
    duration_s: Optional[float],
    interval_s: float = 1.0,
    extra_lines: Callable[[], List[str]] = lambda: [],
    out: TextIO = sys.stdout,
) -> None:
    """Print the status table every ``interval_s`` until ``duration_s`` (None: until Ctrl-C/SIGTERM).

    With no ``sensors`` only the elapsed time and ``extra_lines`` are printed.
    """
    stop = threading.Event()
    previous = {}
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
            if sensors is not None:
                rows = [(h.stats.snapshot(), h.family, h.expected_rate_hz) for h in sensors.handles]
                print(format_status_table(rows, elapsed_s=now - start), file=out)
            else:
                print(f"-- {now - start:7.1f} s --", file=out)
            for line in extra_lines():
                print(line, file=out)
            out.flush()
            if interrupted or (end is not None and now >= end):
                return
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
