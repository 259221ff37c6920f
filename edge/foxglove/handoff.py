"""Keep-newest hand-off from the node's threads to the bridge's encoder thread.

The node's threads (the synchronizer's worker with each fused frame, the LiDAR receiver with each
sweep) must never wait on Foxglove: :meth:`NewestSlots.put` stores a reference in the slot of its
kind and returns at once, replacing an item the encoder had not taken yet (counted as skipped).
The encoder thread takes every filled slot at once with :meth:`NewestSlots.take`. Nothing queues:
a slow encoder or a slow client costs frames to Foxglove, never time to the node.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Iterable, Optional

__all__ = ["NewestSlots"]


class NewestSlots:
    """One keep-newest slot per kind, one condition for the consumer; ``skipped`` counts per kind."""

    def __init__(self, kinds: Iterable[str]) -> None:
        self._cond = threading.Condition()
        self._items: Dict[str, Any] = {}
        self._kinds = frozenset(kinds)
        self.skipped: Dict[str, int] = {kind: 0 for kind in self._kinds}
        self._closed = False

    def put(self, kind: str, item: Any) -> bool:
        """Store ``item`` as the newest of ``kind``; True if it replaced one never taken. Never blocks
        longer than the lock (held for a dict store); ignored once closed."""
        if kind not in self._kinds:
            raise KeyError(f"no slot {kind!r}; slots: {sorted(self._kinds)}")
        with self._cond:
            if self._closed:
                return False
            replaced = kind in self._items
            if replaced:
                self.skipped[kind] += 1
            self._items[kind] = item
            self._cond.notify()
        return replaced

    def take(self, timeout_s: Optional[float]) -> Dict[str, Any]:
        """Every filled slot (emptied), waiting up to ``timeout_s`` for one; {} on timeout or once closed."""
        with self._cond:
            if not self._items and not self._closed:
                self._cond.wait(timeout_s)
            if self._closed:
                return {}
            items, self._items = self._items, {}
        return items

    def close(self) -> None:
        """Wake the consumer for good; what the slots held is dropped."""
        with self._cond:
            self._closed = True
            self._items = {}
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed
