"""What each consumer of a fused-frame stream lost, as its own loss reports say.

:class:`ConsumerTable` keeps the newest :class:`~edge.stream.reports.LossReport` of every consumer
of one stream (one ``stream_id``), forgets consumers that have gone quiet for ``expire_after_s``
and counts the reports it could not use. No sockets and no clock of its own: the publisher hands
it decoded reports and the time (monotonic seconds), so it is tested without timing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping, Optional

from edge.stream.reports import LossReport

__all__ = ["ConsumerLoss", "ConsumerTable", "MAX_CONSUMERS", "describe_consumers"]

#: Consumers one stream tracks at most; a report from a further one is rejected (a hostile peer
#: cannot grow the table without bound).
MAX_CONSUMERS = 64


@dataclass(frozen=True)
class ConsumerLoss:
    """One consumer's counts as of its newest report.

    ``received``: frames it got; ``lost``: frames of this stream that never reached it (sequence
    gaps, counted from its first frame); ``last_seq``: ``seq`` of its newest frame; ``rejected``:
    messages it could not read; ``reports``: reports heard from it; ``quiet_s``: seconds since its
    newest report when the snapshot was taken.
    """

    name: str
    received: int
    lost: int
    last_seq: int
    rejected: int
    reports: int
    quiet_s: float

    @property
    def lost_fraction(self) -> float:
        """``lost / (received + lost)``: the share of the stream this consumer missed (0 when nothing came)."""
        total = self.received + self.lost
        return self.lost / total if total else 0.0


@dataclass
class _Entry:
    report: LossReport
    heard_s: float
    reports: int


class ConsumerTable:
    """The per-consumer loss table of the stream ``stream_id`` (not thread-safe: the publisher locks)."""

    def __init__(self, stream_id: str, expire_after_s: float = 5.0) -> None:
        if not expire_after_s > 0:
            raise ValueError(f"expire_after_s must be positive, got {expire_after_s}")
        self.stream_id = stream_id
        self.expire_after_s = float(expire_after_s)
        self._entries: Dict[str, _Entry] = {}
        self.rejected = 0
        self.expired = 0
        self.last_error: Optional[str] = None

    def reject(self, reason: str) -> None:
        """Count a report that could not be used (unreadable, another stream's, a full table)."""
        self.rejected += 1
        self.last_error = reason

    def update(self, report: LossReport, now_s: float) -> bool:
        """Take ``report`` heard at ``now_s``; False (and counted in ``rejected``) when it is not usable."""
        if report.stream_id != self.stream_id:
            self.reject(f"report from {report.consumer!r} is about stream {report.stream_id!r}, not {self.stream_id!r}")
            return False
        entry = self._entries.get(report.consumer)
        if entry is None:
            self.expire(now_s)
            if len(self._entries) >= MAX_CONSUMERS:
                self.reject(f"report from {report.consumer!r}: already {MAX_CONSUMERS} consumers")
                return False
            self._entries[report.consumer] = _Entry(report, now_s, 1)
            return True
        entry.report, entry.heard_s, entry.reports = report, now_s, entry.reports + 1
        return True

    def expire(self, now_s: float) -> int:
        """Forget consumers quiet for longer than ``expire_after_s``; how many were forgotten."""
        quiet = [name for name, e in self._entries.items() if now_s - e.heard_s > self.expire_after_s]
        for name in quiet:
            del self._entries[name]
        self.expired += len(quiet)
        return len(quiet)

    def snapshot(self, now_s: float) -> Dict[str, ConsumerLoss]:
        """The live consumers (expired ones forgotten first), by name."""
        self.expire(now_s)
        return {
            name: ConsumerLoss(name, e.report.received, e.report.lost, e.report.last_seq, e.report.rejected,
                               e.reports, max(0.0, now_s - e.heard_s))
            for name, e in sorted(self._entries.items())
        }


def describe_consumers(consumers: Mapping[str, ConsumerLoss]) -> str:
    """One line for a status display: ``captioner lost 17/1218 (1.4 %), preview lost 0/1235``.

    ``lost/total`` counts the frames of the stream since each consumer joined (received + lost);
    ``no consumer reporting`` when the table is empty.
    """
    if not consumers:
        return "no consumer reporting"
    parts = []
    for name, loss in sorted(consumers.items()):
        total = loss.received + loss.lost
        parts.append(f"{name} lost {loss.lost}/{total} ({100.0 * loss.lost_fraction:.1f} %)")
    return ", ".join(parts)
