"""Keeps an engine worker process running: start it, restart it when it dies, stop it on request.

A worker is a child process (``argv``, its own process group so a signal to the supervisor's
terminal does not reach it twice). When it exits with anything but 0 while the supervisor is
running, it is started again after a back-off that doubles from ``backoff_s`` up to
``max_backoff_s`` and resets once a worker has lived ``healthy_after_s``; the number of restarts is
passed to the new worker in ``ONSET_WORKER_RESTARTS`` so its results can say it. More than
``max_restarts`` restarts within ``window_s`` means the worker cannot run (a bad model file, a
missing dependency): the supervisor stops and says so, with the worker's last words.

:meth:`Supervisor.stop` sends SIGTERM to the worker's group, waits ``stop_timeout_s`` and then
kills it: nothing is left running.
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
import threading
import time
from typing import Deque, Optional, Sequence

__all__ = ["Supervisor", "WorkerFailed", "RESTARTS_ENV"]

_log = logging.getLogger(__name__)
RESTARTS_ENV = "ONSET_WORKER_RESTARTS"
_TAIL_LINES = 20


class WorkerFailed(RuntimeError):
    """The worker kept dying; the message carries its last lines of output."""


class Supervisor:
    def __init__(self, argv: Sequence[str], *, name: str = "worker", env: Optional[dict] = None,
                 backoff_s: float = 0.5, max_backoff_s: float = 10.0, healthy_after_s: float = 30.0,
                 max_restarts: int = 5, window_s: float = 60.0, stop_timeout_s: float = 5.0) -> None:
        self.argv = list(argv)
        self.name = name
        self._env = dict(os.environ if env is None else env)
        self.backoff_s, self.max_backoff_s = float(backoff_s), float(max_backoff_s)
        self.healthy_after_s = float(healthy_after_s)
        self.max_restarts, self.window_s = int(max_restarts), float(window_s)
        self.stop_timeout_s = float(stop_timeout_s)
        self.restarts = 0
        self.failure: Optional[str] = None
        self._process: Optional[subprocess.Popen] = None
        self._tail: Deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self._recent: Deque[float] = collections.deque()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> Optional[int]:
        process = self._process
        return None if process is None or process.poll() is not None else process.pid

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "Supervisor":
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-supervisor", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout_s: Optional[float] = None) -> bool:
        """Wait until the supervisor ends (stopped, or the worker failed for good); True if it ended."""
        if self._thread is not None:
            self._thread.join(timeout_s)
        return not self.running

    def _spawn(self) -> subprocess.Popen:
        env = dict(self._env)
        env[RESTARTS_ENV] = str(self.restarts)
        process = subprocess.Popen(self.argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   start_new_session=True, text=True, errors="replace")
        threading.Thread(target=self._pump, args=(process,), name=f"{self.name}-output", daemon=True).start()
        return process

    def _pump(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            line = line.rstrip("\n")
            self._tail.append(line)
            _log.info("%s[%d]: %s", self.name, process.pid, line)

    def _run(self) -> None:
        delay = self.backoff_s
        while not self._stop.is_set():
            started = time.monotonic()
            with self._lock:
                if self._stop.is_set():
                    break
                self._process = self._spawn()
            code = self._process.wait()
            if self._stop.is_set():
                break
            if code == 0:
                _log.info("%s exited cleanly", self.name)
                break
            now = time.monotonic()
            lived = now - started
            self._recent.append(now)
            while self._recent and now - self._recent[0] > self.window_s:
                self._recent.popleft()
            if len(self._recent) > self.max_restarts:
                self.failure = (f"{self.name} died {len(self._recent)} times in {self.window_s:.0f} s (last exit "
                                f"status {code}); its last output:\n  " + "\n  ".join(self._tail))
                _log.error("%s", self.failure)
                break
            delay = self.backoff_s if lived >= self.healthy_after_s else delay
            _log.warning("%s exited with status %s after %.1f s; restarting in %.1f s", self.name, code, lived, delay)
            if self._stop.wait(delay):
                break
            delay = min(delay * 2, self.max_backoff_s)
            self.restarts += 1

    def stop(self) -> None:
        """Stop the worker (SIGTERM to its group, then SIGKILL) and the supervisor."""
        self._stop.set()
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        if self._thread is not None:
            self._thread.join(self.stop_timeout_s)

    def raise_if_failed(self) -> None:
        if self.failure is not None:
            raise WorkerFailed(self.failure)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass

