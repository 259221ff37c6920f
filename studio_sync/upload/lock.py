"""One ``onset sync push`` at a time: an exclusive ``flock`` on ``<queue>.lock``.

The kernel releases the lock when the process dies, however it dies (SIGKILL, a crash, a reboot),
so a lock never outlives its push. The holder writes its pid into the file; :func:`lock_holder`
tells the status whether an ``uploading`` take is being sent now or was interrupted.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator, Optional

from studio_sync.custody.digests import describe_os_error
from studio_sync.upload.errors import QueueBusyError, QueueError

__all__ = ["queue_lock", "lock_holder", "lock_path"]


def lock_path(queue_path: Path) -> Path:
    """``<queue>.lock``: held by the ``onset sync push`` uploading from the queue."""
    queue_path = Path(queue_path)
    return queue_path.with_name(queue_path.name + ".lock")


@contextlib.contextmanager
def queue_lock(queue_path: Path) -> Iterator[None]:
    """Hold the queue's push lock, or raise :class:`QueueBusyError` naming the process that holds it."""
    path = lock_path(queue_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(str(path), os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as err:
        raise QueueError(f"cannot open the queue's lock {path}: {describe_os_error(err)}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            raise QueueBusyError(f"another `onset sync push`{f' (pid {holder})' if holder else ''} is uploading from "
                                 f"{queue_path}; wait for it, or see `onset sync status`") from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as err:
            raise QueueError(f"cannot write the queue's lock {path}: {describe_os_error(err)}") from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _read_pid(fd: int) -> Optional[int]:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


def lock_holder(queue_path: Path) -> Optional[int]:
    """The pid of the push holding the queue (0 when unknown), or None when no push holds it."""
    path = lock_path(queue_path)
    try:
        fd = os.open(str(path), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
