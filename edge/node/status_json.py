"""The node's status as JSON: what ``GET /status`` on the control API answers (the preview polls it).

The same facts as the status table ``onset node run`` prints (:func:`edge.node.health.format_node_status`)
and the ``/diagnostics`` entries (:func:`edge.node.health.diagnostics_entries`), as plain values::

    {"v": 1, "node": "sim-stage", "t_ns": ...,
     "fused": {"fused": 4410, "complete": 4398, "fused_hz": 24.0, "streamed": 4410, "without_timecode": 0,
               "in_sync": 0.997, "recent_frames": 1024, "last_timecode": "01:00:03:18",
               "latency_ms": {"p50": 11.2, "p99": 19.8, "max": 25.0}, "flags": {"lidar": {"late": 3}}},
     "sensors": {"lidar": {"family": "lidar", "kind": "lidar", "rate_hz": 754.1, "expected_hz": 754.0,
                           "decoded": 33012, "dropped": 0, "drop_reasons": {}, "level": 0, "message": "rate 754.1/s",
                           "samples": 33012, "synced": true, "late": 3, "missing": 0, "unsynced": 0,
                           "clock": {"converged": true, "residual_jitter_ms": 0.021, "drift_ppm": 12.1,
                                     "error_estimate_us": 3.0, "offset_ns": ..., "steps": 0, "outliers": 2}}},
     "timecode_labels": {"verified": 4400, ...}, "timecode_jumps": 0,
     "stream": {"endpoint": "tcp://127.0.0.1:5557", "consumers": {"preview:8080": {"received": 4400, "lost": 2}}},
     "recorder": {...GET /take/status...} or null}

``rate_hz`` is what the driver decodes per second (packets for LiDAR and FreeD, frames for the
camera and timecode); ``level`` is the diagnostic level (0 OK, 1 warn, 2 error, 3 stale) of the
newest ``/diagnostics`` round, with its ``message``. Clock figures are the synchronizer's clock
model's (units in the names). Non-finite numbers are null.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Optional

__all__ = ["STATUS_VERSION", "node_status_document"]

STATUS_VERSION = 1


def _number(value: Any, digits: int = 4) -> Optional[float]:
    if value is None:
        return None
    number = float(value)
    return round(number, digits) if math.isfinite(number) else None


def _clock(clock: Any) -> Optional[Dict[str, Any]]:
    if clock is None:
        return None
    return {
        "converged": bool(clock.converged),
        "residual_jitter_ms": None if clock.residual_jitter_ns is None else _number(clock.residual_jitter_ns / 1e6),
        "drift_ppm": _number(clock.drift_ppm, 3),
        "error_estimate_us": None if clock.error_estimate_ns is None else _number(clock.error_estimate_ns / 1e3, 2),
        "offset_ns": clock.offset_ns,
        "steps": int(clock.steps),
        "outliers": int(clock.outliers),
        "observed": int(clock.observed),
    }


def _fused(summary: Dict[str, Any]) -> Dict[str, Any]:
    latency = summary.get("latency_ms")
    out = dict(summary)
    out["fused_hz"] = _number(summary.get("fused_hz"), 3)
    out["in_sync"] = _number(summary.get("in_sync"), 5)
    out["latency_ms"] = None if not latency else {
        "p50": _number(latency[0], 3), "p99": _number(latency[1], 3), "max": _number(latency[2], 3)}
    return out


def _sensors(node: Any) -> Dict[str, Dict[str, Any]]:
    levels = {entry[0]: (entry[1], entry[2]) for entry in (node.status.last_diagnostics or [])}
    snap = node.sync.snapshot() if node.sync is not None else None
    out: Dict[str, Dict[str, Any]] = {}
    for handle in (node.sensors.handles if node.sensors is not None else []):
        stats = handle.stats.snapshot()
        level, message = levels.get(f"onset/{handle.family}/{handle.name}", (None, None))
        out[handle.name] = {
            "family": handle.family, "rate_hz": _number(stats.rate_hz, 3),
            "expected_hz": _number(handle.expected_rate_hz, 3), "decoded": int(stats.decoded),
            "dropped": int(stats.dropped), "drop_reasons": {reason: int(n) for reason, n in stats.drop_reasons},
            "level": level, "message": message,
        }
    if snap is None:
        return out
    for name, status in snap.sensors.items():
        entry = out.setdefault(name, {"family": status.kind})
        refused = sum(n for key, n in snap.dropped.items() if key.startswith(f"{name}:"))
        entry.update({
            "kind": status.kind, "arrival_hz": _number(status.rate_hz, 3), "samples": int(status.samples),
            "synced": None if status.samples == 0 else bool(status.synced),
            "late": int(snap.late.get(name, 0)), "missing": int(snap.missing.get(name, 0)),
            "unsynced": int(snap.unsynced.get(name, 0)), "refused": int(refused), "clock": _clock(status.clock),
        })
    return out


def node_status_document(node: Any) -> Dict[str, Any]:
    """The status document of an :class:`~edge.node.app.EdgeNode` (module docstring)."""
    snap = node.sync.snapshot() if node.sync is not None else None
    stream = node.stream
    return {
        "v": STATUS_VERSION,
        "node": node.rig.name,
        "t_ns": int(node._clock_ns()),
        "fused": _fused(node.health()),
        "sensors": _sensors(node),
        "timecode_labels": dict(snap.labels or {}) if snap is not None else {},
        "timecode_jumps": int(snap.timecode_jumps) if snap is not None else 0,
        "stream": {
            "endpoint": None if stream is None else stream.endpoint,
            "consumers": {name: {"received": loss.received, "lost": loss.lost, "rejected": loss.rejected}
                          for name, loss in sorted(node.stream_consumers().items())},
        },
        "recorder": None if node.recorder is None else node.recorder.status().to_dict(),
    }
