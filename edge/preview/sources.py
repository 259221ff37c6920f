"""What the preview knows of each thing it reads: ``waiting``, ``live``, ``late`` or ``gone``, and why.

A source is ``waiting`` until its first message (or first answer, for the ones that are polled),
``live`` while its newest one is under :data:`LATE_AFTER_S` old, ``late`` up to
:data:`GONE_AFTER_S`, then ``gone``. The reason says where the preview listens and what it last
met there (a refused token, nobody listening), so the page can tell the crew what to start.
"""

from __future__ import annotations

import enum
import threading
import time
from typing import Any, Callable, Dict, Optional

__all__ = ["LATE_AFTER_S", "GONE_AFTER_S", "SourceStatus", "SourceState"]

#: Seconds without a message after which a source is ``late``.
LATE_AFTER_S = 2.0
#: Seconds without a message after which a source is ``gone``.
GONE_AFTER_S = 5.0


class SourceStatus(str, enum.Enum):
    WAITING = "waiting"
    LIVE = "live"
    LATE = "late"
    GONE = "gone"


class SourceState:
    """One source (thread-safe). ``where``: its endpoint or URL; ``hint``: what to start when
    nothing comes (``"start the node: onset node run"``). ``monotonic_s``: the clock of the ages."""

    def __init__(self, name: str, where: str, hint: str, monotonic_s: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.where = where
        self.hint = hint
        self._monotonic_s = monotonic_s
        self._lock = threading.Lock()
        self._last_s: Optional[float] = None
        self._problem: Optional[str] = None
        self.messages = 0

    def heard(self) -> None:
        """A message (or a good answer) came now."""
        with self._lock:
            self._last_s = self._monotonic_s()
            self._problem = None
            self.messages += 1

    def problem(self, reason: str) -> None:
        """What went wrong on the newest attempt (a poll that failed, a message that did not read)."""
        with self._lock:
            self._problem = str(reason)

    def age_s(self) -> Optional[float]:
        """Seconds since the newest message (None before the first)."""
        with self._lock:
            return None if self._last_s is None else self._monotonic_s() - self._last_s

    @property
    def status(self) -> SourceStatus:
        return self._judge()[0]

    def _judge(self):
        with self._lock:
            last, problem = self._last_s, self._problem
            now = self._monotonic_s()
        if last is None:
            return SourceStatus.WAITING, problem or f"nothing from {self.where} yet: {self.hint}", None
        age = now - last
        if age < LATE_AFTER_S:
            return SourceStatus.LIVE, problem, age
        tail = problem or self.hint
        status = SourceStatus.LATE if age < GONE_AFTER_S else SourceStatus.GONE
        return status, f"nothing from {self.where} for {age:.1f} s: {tail}", age

    def view(self) -> Dict[str, Any]:
        """``{"status", "reason", "age_s", "where", "messages"}`` for the ``state`` message."""
        status, reason, age = self._judge()
        return {"status": status.value, "reason": reason, "age_s": None if age is None else round(age, 3),
                "where": self.where, "messages": self.messages}
