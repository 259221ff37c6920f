"""The edge node's health: fused-frame counters, the once-a-second status table, ROS diagnostics.

A crew reads the status table; tools read ``/diagnostics``. Both come from the same figures:
the synchronizer's snapshot (fused rate, per-sensor sync flags, clock models), the drivers'
stats (rates, drops) and the stream's counters.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Tuple

from sensors.vocabulary import FusedFrame, SyncStatus

__all__ = ["NodeStatus", "diagnostics_entries", "format_node_status"]

_LEVEL_OK, _LEVEL_WARN, _LEVEL_ERROR, _LEVEL_STALE = 0, 1, 2, 3


#: Latency percentiles and the in-sync fraction are over the newest frames (43 s at 24 fps).
RECENT_FRAMES = 1024


def _percentile(sorted_values: List[int], q: float) -> int:
    """The ``q`` quantile (0..1) of sorted values, nearest rank."""
    rank = min(len(sorted_values) - 1, max(0, int(round(q * len(sorted_values) + 0.5)) - 1))
    return sorted_values[rank]


class NodeStatus:
    """Counters of fused frames as they leave the node (thread-safe).

    ``latency``: exposure mid-time (``FusedFrame.t_ns``) to the moment the frame was handed to the
    stream, on the master clock; with the in-sync fraction (frames on which every sensor, timecode
    included, was OK) it is kept for the newest :data:`RECENT_FRAMES` frames.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.frames = 0
        self.complete = 0
        self.streamed = 0
        self.without_timecode = 0
        self.flags: Dict[str, Dict[str, int]] = {}
        self._latency_ns: Deque[int] = deque(maxlen=RECENT_FRAMES)
        self._in_sync: Deque[bool] = deque(maxlen=RECENT_FRAMES)
        self._times_ns: Deque[int] = deque(maxlen=512)
        self.last_frame: Optional[FusedFrame] = None
        self.last_diagnostics: List[Any] = []

    def fused(self, frame: FusedFrame, streamed: bool, now_ns: int) -> None:
        with self._lock:
            self.frames += 1
            self.complete += int(frame.complete)
            self.streamed += int(streamed)
            self.without_timecode += int(frame.timecode is None)
            for entry in frame.sync:
                if entry.status is not SyncStatus.OK:
                    per = self.flags.setdefault(entry.sensor, {})
                    per[entry.status.value] = per.get(entry.status.value, 0) + 1
            self._latency_ns.append(now_ns - frame.t_ns)
            self._in_sync.append(frame.complete)
            self._times_ns.append(now_ns)
            self.last_frame = frame

    def in_sync_fraction(self) -> Optional[float]:
        """Share of the newest frames on which every sensor was in sync (None before the first)."""
        with self._lock:
            flags = list(self._in_sync)
        return sum(flags) / len(flags) if flags else None

    def rate_hz(self, now_ns: int, span_ns: int = 2_000_000_000) -> float:
        with self._lock:
            recent = [t for t in self._times_ns if t >= now_ns - span_ns]
        return len(recent) / (span_ns / 1e9)

    def latency_ms(self) -> Optional[Tuple[float, float, float]]:
        """p50, p99 and worst exposure-to-stream latency over the newest frames, ms."""
        with self._lock:
            values = sorted(self._latency_ns)
        if not values:
            return None
        return _percentile(values, 0.5) / 1e6, _percentile(values, 0.99) / 1e6, values[-1] / 1e6

    def summary(self, node: Any) -> Dict[str, Any]:
        now = node._clock_ns()
        latency = self.latency_ms()
        with self._lock:
            out = {
                "fused": self.frames,
                "complete": self.complete,
                "fused_hz": None,
                "streamed": self.streamed,
                "without_timecode": self.without_timecode,
                "flags": {k: dict(v) for k, v in self.flags.items()},
                "latency_ms": latency,
                "last_timecode": str(self.last_frame.timecode) if self.last_frame and self.last_frame.timecode else None,
            }
        out["fused_hz"] = self.rate_hz(now)
        out["in_sync"] = self.in_sync_fraction()
        out["recent_frames"] = min(self.frames, RECENT_FRAMES)
        return out


def _clock_row(clock: Any) -> Tuple[str, str, str]:
    if clock is None or clock.residual_jitter_ns is None:
        return "-", "-", "-"
    drift = "-" if clock.drift_ppm is None else f"{clock.drift_ppm:+.1f}"
    error = "-" if clock.error_estimate_ns is None else f"{clock.error_estimate_ns / 1e3:.0f}"
    return f"{clock.residual_jitter_ns / 1e6:.3f}", drift, error


def format_node_status(node: Any, elapsed_s: float) -> str:
    """The status block ``onset node run`` prints once a second."""
    summary = node.health()
    snap = node.sync.snapshot()
    latency = summary["latency_ms"]
    lat_text = f"{latency[0]:.1f}/{latency[1]:.1f} ms" if latency else "-"
    in_sync = summary["in_sync"]
    sync_text = "-" if in_sync is None else f"{100 * in_sync:.1f} %"
    lines = [
        f"-- {elapsed_s:7.1f} s -- fused {summary['fused_hz']:.1f} fps ({summary['fused']} frames), in sync "
        f"{sync_text} (newest {summary['recent_frames']}), TC {summary['last_timecode'] or '-'}, "
        f"exposure->stream p50/p99 {lat_text}",
        _labels_line(snap) + "; " + _stream_line(node),
    ]
    header = ("sensor", "kind", "rate Hz", "synced", "late", "missing", "jitter ms", "drift ppm", "fit err us", "drops")
    rows = [header]
    drivers = {h.name: h for h in (node.sensors.handles if node.sensors else [])}
    for name, status in snap.sensors.items():
        drops = sum(n for key, n in snap.dropped.items() if key.startswith(f"{name}:"))
        handle = drivers.get(name)
        if handle is not None:
            drops += handle.stats.snapshot().dropped
        clock = status.clock
        rows.append((
            name, status.kind, f"{status.rate_hz:.1f}",
            "-" if status.samples == 0 else ("yes" if status.synced else "no"),
            str(snap.late.get(name, 0)), str(snap.missing.get(name, 0)), *_clock_row(clock), str(drops),
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        lines.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    if node.recorder is not None:
        status = node.recorder.status()
        lines.append(f"  recorder: {status.to_dict().get('state', status)}")
    return "\n".join(lines)


def _labels_line(snap: Any) -> str:
    labels = snap.labels or {}
    return (f"  timecode labels verified {labels.get('verified', 0)}, corrected {labels.get('corrected', 0)}, "
            f"unverified {labels.get('unverified', 0)}, jumps {snap.timecode_jumps}")


def _stream_line(node: Any) -> str:
    """What the stream's consumers report they lost (sequence gaps), by consumer."""
    consumers = node.stream_consumers()
    if not consumers:
        return "stream: no consumer reporting"
    parts = [f"{name} lost {loss.lost} of {loss.received + loss.lost}" for name, loss in sorted(consumers.items())]
    return "stream: " + ", ".join(parts)


def diagnostics_entries(node: Any) -> List[Tuple[str, int, str, Tuple[Tuple[str, str], ...]]]:
    """One ``diagnostic_msgs`` status per sensor plus one for the fusion, as (name, level, message, values)."""
    entries = []
    if node.sensors is not None:
        for handle in node.sensors.handles:
            snap = handle.stats.snapshot()
            ratio = snap.rate_hz / handle.expected_rate_hz if handle.expected_rate_hz else 0.0
            if snap.last_host_ns is None:
                level, message = _LEVEL_STALE, "no data"
            elif ratio < 0.5:
                level, message = _LEVEL_ERROR, f"rate {snap.rate_hz:.1f}/s of {handle.expected_rate_hz:.1f}"
            elif ratio < 0.9 or snap.dropped:
                level, message = _LEVEL_WARN, f"rate {snap.rate_hz:.1f}/s, {snap.dropped} dropped"
            else:
                level, message = _LEVEL_OK, f"rate {snap.rate_hz:.1f}/s"
            values = (("rate_hz", f"{snap.rate_hz:.2f}"), ("expected_hz", f"{handle.expected_rate_hz:.2f}"),
                      ("decoded", str(snap.decoded)), ("dropped", str(snap.dropped)))
            entries.append((f"onset/{handle.family}/{handle.name}", level, message, values))
    if node.sync is not None:
        snap = node.sync.snapshot()
        summary = node.health()
        level = _LEVEL_OK if summary["fused_hz"] > 0 else _LEVEL_STALE
        latency = summary["latency_ms"]
        values = (("fused_fps", f"{summary['fused_hz']:.2f}"), ("fused", str(snap.fused)),
                  ("complete", str(snap.fused_complete)),
                  ("in_sync_fraction", "-" if summary["in_sync"] is None else f"{summary['in_sync']:.4f}"),
                  ("latency_p50_ms", "-" if latency is None else f"{latency[0]:.2f}"),
                  ("latency_p99_ms", "-" if latency is None else f"{latency[1]:.2f}"))
        values += tuple((f"timecode_labels/{k}", str(v)) for k, v in (snap.labels or {}).items())
        values += (("timecode_jumps", str(snap.timecode_jumps)),)
        for name, loss in sorted(node.stream_consumers().items()):
            values += ((f"stream_lost/{name}", str(loss.lost)),)
        values += tuple((f"late/{k}", str(v)) for k, v in snap.late.items() if v)
        values += tuple((f"missing/{k}", str(v)) for k, v in snap.missing.items() if v)
        entries.append(("onset/fusion", level, f"{summary['fused_hz']:.1f} fused frames/s", values))
    return entries
