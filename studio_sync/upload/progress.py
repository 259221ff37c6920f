"""Progress bars of a push on stderr: one for the take being sent and one for all takes (tqdm).

Bytes are counted as they are written to the socket and taken back when an attempt fails; parts
the studio already held count at once. Hidden unless stderr is a terminal or ``show`` is set.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable, Optional, TextIO, Tuple

__all__ = ["TqdmProgress"]


class TqdmProgress:
    """A :class:`~studio_sync.upload.types.ProgressSink` drawing tqdm bars (see the module docstring)."""

    def __init__(self, show: Optional[bool] = None, stream: Optional[TextIO] = None) -> None:
        self._stream = stream or sys.stderr
        self._disable = not (show if show is not None else self._stream.isatty())
        self._lock = threading.Lock()
        self._overall: Any = None
        self._take: Any = None
        self._hashing: Any = None

    def hashing(self, name: str) -> Callable[[int, int], None]:
        """A ``progress(done, total)`` for verifying take ``name`` before it is queued (its own bar)."""
        with self._lock:
            self._close_hashing()
            bar = self._hashing = self._bar(total=None, desc=f"verify {name}", position=0, leave=False)

        def update(done: int, total: int) -> None:
            with self._lock:
                if bar.total != total:
                    bar.total = total
                    bar.refresh()
                bar.update(done - bar.n)

        return update

    def _close_hashing(self) -> None:
        if self._hashing is not None:
            self._hashing.close()
            self._hashing = None

    def _bar(self, **kwargs: Any) -> Any:
        from tqdm import tqdm

        return tqdm(unit="B", unit_scale=True, unit_divisor=1024, file=self._stream, disable=self._disable,
                    dynamic_ncols=True, **kwargs)

    def begin(self, takes: Tuple[Tuple[str, int, int], ...]) -> None:
        with self._lock:
            self._close_hashing()
            total = sum(t[1] for t in takes)
            self._overall = self._bar(total=total, initial=sum(t[2] for t in takes),
                                      desc=f"{len(takes)} take(s)", position=0, leave=True)

    def take_started(self, name: str, total: int, done: int) -> None:
        with self._lock:
            self._take = self._bar(total=total, initial=done, desc=name, position=1, leave=False)

    def advance(self, name: str, n: int) -> None:
        with self._lock:
            for bar in (self._take, self._overall):
                if bar is not None:
                    bar.update(n)

    def take_finished(self, name: str, state: str) -> None:
        with self._lock:
            if self._take is not None:
                self._take.close()
                self._take = None

    def close(self) -> None:
        with self._lock:
            self._close_hashing()
            for bar in (self._take, self._overall):
                if bar is not None:
                    bar.close()
            self._take = self._overall = None
