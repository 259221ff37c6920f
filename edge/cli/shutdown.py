"""How a long-running command stops when told: SIGINT or SIGTERM asks, a second signal forces.

The first signal sets :attr:`Shutdown.requested`; the command closes what it opened and
returns. If it has not finished within ``grace_s`` (a part that hangs in its close), or when a
second signal comes, :meth:`Shutdown.force` kills this process's children (the simulated
stage's processes), flushes what it can and leaves with ``os._exit`` (status ``128 + signal``).

Why not only Python signal handlers: Python runs a handler in the main thread, between two
bytecodes. A main thread blocked inside C (a thread or process join, a GStreamer state change,
a ZeroMQ context that waits for a socket, a DDS participant's destructor) never gets there, and
both signals then look ignored -- how ``onset node run`` used to hang, now and then, after
SIGINT. Here the handlers only note the signal; the C-level handler also writes its number to a
wakeup pipe (``signal.set_wakeup_fd``) that a watcher thread reads, and that thread counts
signals and runs the grace timer, whatever the main thread is doing. As a last resort, if no
Python thread can run at all (a thread stuck in C holding the GIL), ``SIGALRM`` armed at the
first signal ends the process from the kernel ``grace_s + 1`` s later.

A close that may hang for reasons of its own is run by :func:`close_within`: on a thread, waited
for a bounded time, after which this process's children are killed and the caller goes on with
the rest of its close. The simulated stage needs it: a terminal's Ctrl-C or ``timeout``'s SIGTERM
goes to the whole process group, so a stage process can die while it waits on a
``multiprocessing.Event``, and the parent's ``Event.set()`` then waits for ever for that sleeper
to wake (the condition's notify waits for every sleeper) -- the hang seen in about one run in
three of ``timeout N make demo`` and on Ctrl-C.

While :meth:`Shutdown.interruptible` is active (start-up), the first signal also raises
:class:`ShutdownRequested` (an ``Exception``, so all-or-nothing start-up code rolls back what it
opened) in the main thread.
"""

from __future__ import annotations

import contextlib
import faulthandler
import math
import os
import signal
import sys
import threading
import time
from typing import Callable, Iterator, List, Optional

__all__ = ["Shutdown", "ShutdownRequested", "close_within", "kill_children"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ShutdownRequested(Exception):
    """A stop was asked for (SIGINT or SIGTERM) while the command was starting up."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name} during start-up")


def kill_children(timeout_s: float = 0.5) -> List[int]:
    """SIGKILL every descendant of this process (best effort, bounded); their pids."""
    pids = _descendants(os.getpid())
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + timeout_s
    for pid in pids:  # reap the direct children so nothing is left as a zombie of ours
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                break
            time.sleep(0.01)
    return pids


def _descendants(root: int) -> List[int]:
    """Pids of every descendant of ``root``, from /proc (no psutil needed)."""
    children: dict = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()  # after "pid (comm) ": state, ppid, ...
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def close_within(close: Callable[[], None], timeout_s: float, what: str) -> bool:
    """Run ``close()`` on a thread for at most ``timeout_s``; True when it finished in time.

    When it did not, every child process is killed (what a stuck close was waiting for) and the
    thread is left behind (a daemon); an exception from ``close`` is reported on stderr.
    """
    done = threading.Event()
    failure: List[BaseException] = []

    def run() -> None:
        try:
            close()
        except BaseException as err:  # noqa: BLE001 - reported below, the caller goes on closing
            failure.append(err)
        finally:
            done.set()

    threading.Thread(target=run, name=f"close {what}", daemon=True).start()
    if done.wait(timeout_s):
        if failure:
            print(f"onset: closing {what} failed: {type(failure[0]).__name__}: {failure[0]}", file=sys.stderr)
        return True
    killed = kill_children()
    print(f"onset: {what} did not close within {timeout_s:g} s; killed its processes {killed}", file=sys.stderr,
          flush=True)
    return False


class Shutdown:
    """SIGINT/SIGTERM handling for one command run from the main thread (a context manager).

    ``grace_s``: seconds from the first signal to the forced exit. ``on_request``: called with
    the signal's name when the first one comes (from the watcher thread). ``on_force``: called
    (best effort) just before a forced exit, e.g. to say why on stderr. ``exit``: how to leave
    (``os._exit``; tests replace it).
    """

    def __init__(
        self,
        grace_s: float = 3.5,
        *,
        on_request: Optional[Callable[[str], None]] = None,
        on_force: Optional[Callable[[str], None]] = None,
        exit: Callable[[int], None] = os._exit,  # noqa: A002 - the name says what it replaces
    ) -> None:
        if not grace_s > 0:
            raise ValueError(f"grace_s must be positive, got {grace_s}")
        self.grace_s = float(grace_s)
        self.requested = threading.Event()
        self.signum: Optional[int] = None
        self._on_request = on_request
        self._on_force = on_force
        self._exit = exit
        self._count = 0
        self._lock = threading.Lock()
        self._interruptible = False
        self._installed = False
        self._previous: dict = {}
        self._previous_wakeup = -1
        self._pipe: Optional[tuple] = None
        self._watcher: Optional[threading.Thread] = None
        self._deadline: Optional[float] = None
        self._finished = threading.Event()

    # -- install / uninstall (main thread) -----------------------------------------------------

    def install(self) -> "Shutdown":
        """Take over SIGINT and SIGTERM (and the wakeup fd) for this process; main thread only."""
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("Shutdown.install() must run in the main thread (signal handlers live there)")
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)  # the C handler must never block on a full pipe
        self._pipe = (read_fd, write_fd)
        for signum in _SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        self._previous[signal.SIGALRM] = signal.signal(signal.SIGALRM, signal.SIG_DFL)
        self._previous_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        self._watcher = threading.Thread(target=self._watch, name="shutdown-watcher", daemon=True)
        self._watcher.start()
        self._installed = True
        return self

    def uninstall(self) -> None:
        """Give the signals back (after a clean stop); the forced exit is disarmed."""
        if not self._installed:
            return
        self._installed = False
        self._finished.set()
        signal.alarm(0)
        signal.set_wakeup_fd(self._previous_wakeup)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        read_fd, write_fd = self._pipe
        os.close(write_fd)  # wakes the watcher, which closes the read end
        if self._watcher is not None:
            self._watcher.join(timeout=1.0)
        self._pipe = None

    def __enter__(self) -> "Shutdown":
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """Within this block a stop request raises :class:`ShutdownRequested` in the main thread."""
        if self.requested.is_set():
            raise ShutdownRequested(self.signum if self.signum is not None else signal.SIGTERM)
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False

    @property
    def signal_name(self) -> str:
        """The first signal's name (``SIGTERM``), or ``"no signal"``."""
        return signal.Signals(self.signum).name if self.signum is not None else "no signal"

    def stopping(self) -> None:
        """The command is stopping (for any reason): from now on it has ``grace_s`` to finish."""
        self._arm()

    def wait(self, timeout_s: Optional[float]) -> bool:
        """Wait up to ``timeout_s`` for a stop request; True once one came."""
        return self.requested.wait(timeout_s)

    # -- the signals --------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: object) -> None:
        # Runs in the main thread when it is free to; counting is the watcher's job (it hears every
        # signal through the wakeup fd even while the main thread is blocked).
        self._note(signum)
        if self._interruptible:
            self._interruptible = False
            raise ShutdownRequested(signum)

    def _note(self, signum: int) -> None:
        with self._lock:
            if self.signum is None:
                self.signum = signum
            self.requested.set()
        self._arm()

    def _arm(self) -> None:
        """Start the grace period once: the watcher forces the exit at its end."""
        with self._lock:
            if self._deadline is not None or not self._installed:
                return
            self._deadline = time.monotonic() + self.grace_s
            # The kernel's backstop: SIGALRM's default action ends the process even if no thread
            # of ours can run.
            signal.alarm(int(math.ceil(self.grace_s)) + 1)
        self._wake()

    def _wake(self) -> None:
        """Make the watcher recompute its timeout (a byte that is not a signal number)."""
        if self._pipe is not None:
            try:
                os.write(self._pipe[1], b"\0")
            except OSError:
                pass

    def _watch(self) -> None:
        read_fd = self._pipe[0]
        import select

        try:
            while not self._finished.is_set():
                timeout = None
                if self._deadline is not None:
                    timeout = max(0.0, self._deadline - time.monotonic())
                ready, _, _ = select.select([read_fd], [], [], timeout)
                if not ready:
                    if self._deadline is not None and time.monotonic() >= self._deadline and not self._finished.is_set():
                        self.force(f"did not stop within {self.grace_s:g} s of {self._name()}")
                    continue
                data = os.read(read_fd, 64)
                if not data:  # uninstall closed the write end
                    return
                for signum in data:
                    if signum not in _SIGNALS:
                        continue
                    self._count += 1
                    self._note(signum)
                    if self._count == 1 and self._on_request is not None:
                        try:
                            self._on_request(signal.Signals(signum).name)
                        except Exception:  # noqa: BLE001 - a message must not stop the stop
                            pass
                    if self._count >= 2 and not self._finished.is_set():
                        self.force(f"second signal ({signal.Signals(signum).name})")
        finally:
            os.close(read_fd)

    def _name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else "the stop request"

    def force(self, why: str) -> None:
        """Kill the children and leave now with ``128 + signal`` (best effort before ``exit``)."""
        code = 128 + self.signum if self.signum is not None else 1
        try:
            if self._on_force is not None:
                self._on_force(why)
            # Where every thread stands: what the close was stuck in is the bug to fix.
            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
            kill_children()
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
        except BaseException:  # noqa: BLE001 - nothing may stand between a forced stop and the exit
            pass
        self._finished.set()
        self._exit(code)
