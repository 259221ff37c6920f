"""What the synchronizer counts: fused frames, the flags they carried, samples it refused.

One :class:`SyncCounters` per synchronizer; the synchronizer's lock guards it. Flags are counted
per sensor and status (``late``, ``missing``, ``unsynced``); refusals as ``"sensor:reason"``.
"""

from __future__ import annotations

from collections import deque
from typing import Deque, Dict, Iterable

from sensors.vocabulary import FusedFrame, SyncStatus

__all__ = ["SyncCounters"]


class SyncCounters:
    """Counters of one synchronizer (not thread-safe: the synchronizer's lock guards it)."""

    def __init__(self, sensors: Iterable[str]) -> None:
        names = list(sensors)
        self.fused = 0
        self.fused_complete = 0
        self.late: Dict[str, int] = dict.fromkeys(names, 0)
        self.missing: Dict[str, int] = dict.fromkeys(names, 0)
        self.unsynced: Dict[str, int] = dict.fromkeys(names, 0)
        self.dropped: Dict[str, int] = {}
        self.emitted_ns: Deque[int] = deque(maxlen=256)  # poll times of the newest fused frames
        self._by_status = {SyncStatus.LATE: self.late, SyncStatus.MISSING: self.missing,
                           SyncStatus.UNSYNCED: self.unsynced}

    def drop(self, sensor: str, reason: str, count: int = 1) -> bool:
        """Count ``count`` refused samples of ``sensor`` under ``reason``; returns False (refused)."""
        key = f"{sensor}:{reason}"
        self.dropped[key] = self.dropped.get(key, 0) + int(count)
        return False

    def fused_frame(self, frame: FusedFrame, now_ns: int) -> None:
        """Count one fused frame and every flag it carries."""
        self.fused += 1
        self.fused_complete += int(frame.complete)
        self.emitted_ns.append(int(now_ns))
        for entry in frame.sync:
            counter = self._by_status.get(entry.status)
            if counter is not None:
                counter[entry.sensor] = counter.get(entry.sensor, 0) + 1
