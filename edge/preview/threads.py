"""The preview's reader threads share one life cycle: start, ask to stop, close.

Each source the preview reads (a stream, a result stream, the style worker's control socket, the
node's control API) has a daemon thread of its own, made by :meth:`SourceThread.start` after the
subclass's :meth:`~SourceThread._open` (a socket, a client) and running its ``_run`` until
``_stop`` is set. :meth:`~SourceThread.stop` only asks (the server asks every thread first, then
closes them, so the stops overlap); :meth:`~SourceThread.close` asks and waits up to
``close_wait_s`` — a thread still inside a poll that waits on an answer is left behind, a daemon
that only reads.
"""

from __future__ import annotations

import threading
from typing import Optional

__all__ = ["SourceThread"]


class SourceThread:
    """A daemon thread named ``thread_name`` that runs ``_run`` until stopped (module docstring)."""

    #: Seconds :meth:`close` waits for the thread.
    close_wait_s = 2.0

    def __init__(self, thread_name: str) -> None:
        self._thread_name = thread_name
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _open(self) -> None:
        """What the thread needs before it starts (a socket, a client); nothing by default."""

    def _run(self) -> None:
        raise NotImplementedError

    def start(self):
        self._open()
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the thread to stop (without waiting for it)."""
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.close_wait_s)
            self._thread = None
