"""The synchronizer's worker thread: it polls on every arrival and at the head frame's deadline.

:class:`PollWorker` knows nothing of frames: it calls ``poll()`` whenever :meth:`PollWorker.wake`
is called (a sample arrived) and otherwise sleeps until ``next_deadline_ns()`` or half a second,
whichever comes first. A failing poll is logged and the loop goes on.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Optional

from sensors.vocabulary import NS_PER_S

__all__ = ["PollWorker"]

log = logging.getLogger(__name__)

_IDLE_WAIT_S = 0.5


class PollWorker:
    """Runs ``poll`` on a thread of its own until :meth:`close`."""

    def __init__(self, poll: Callable[[], object], next_deadline_ns: Callable[[], Optional[int]],
                 clock_ns: Callable[[], int], name: str = "onset-sync") -> None:
        self._poll, self._next_deadline_ns, self._clock_ns, self._name = poll, next_deadline_ns, clock_ns, name
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> "PollWorker":
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before polling: an arrival during the poll wakes the next wait
            try:
                self._poll()
            except Exception:  # noqa: BLE001 - keep the stream alive; poll already guards each frame
                log.exception("synchronizer poll failed")
            deadline = self._next_deadline_ns()
            wait_s = _IDLE_WAIT_S
            if deadline is not None:
                wait_s = min(max(deadline - self._clock_ns(), 0) / NS_PER_S, _IDLE_WAIT_S)
            if wait_s > 0:
                self._wake.wait(wait_s)

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the thread; safe to call twice."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
            self._thread = None
