"""The once-a-second status table of ``onset sim run`` and ``onset sensors probe``."""

from __future__ import annotations

from typing import Iterable, Optional, Sequence, Tuple

from sensors.stats import StatsSnapshot

__all__ = ["format_status_table", "format_drop_reasons"]

_HEADER = ("sensor", "kind", "rate /s", "expect", "decoded", "drops", "offset ms", "drift ppm", "jitter ms")


def format_drop_reasons(reasons: Sequence[Tuple[str, int]]) -> str:
    return ", ".join(f"{name} {count}" for name, count in reasons) or "-"


#: Offsets beyond this mean the sensor counts from an epoch of its own (a packet counter, the
#: timecode's midnight), not from the host's: only its drift and jitter say something.
_OWN_EPOCH_MS = 3_600_000.0


def _clock_cells(snap: StatsSnapshot) -> Tuple[str, str, str]:
    if snap.clock is None:
        return ("-", "-", "-")
    c = snap.clock
    offset = "own epoch" if abs(c.offset_ms) > _OWN_EPOCH_MS else f"{c.offset_ms:+.3f}"
    return (offset, f"{c.drift_ppm:+.1f}", f"{c.jitter_ms:.3f}")


def format_status_table(
    rows: Iterable[Tuple[StatsSnapshot, str, float]], elapsed_s: Optional[float] = None
) -> str:
    """Rows of (snapshot, family, expected rate per second) as an aligned text table.

    Rates count what the driver decodes: packets for LiDAR and FreeD, frames for the camera
    and timecode.
    Drops show the total and, in brackets, the reasons. Clock columns are host minus sensor
    time at the newest sample, the sensor clock's drift against the host, and residual jitter.
    """
    lines = [_HEADER]
    for snap, family, expected_hz in rows:
        drops = str(snap.dropped)
        if snap.dropped:
            drops += f" ({format_drop_reasons(snap.drop_reasons)})"
        lines.append(
            (snap.name, family, f"{snap.rate_hz:.1f}", f"{expected_hz:.1f}", str(snap.decoded), drops, *_clock_cells(snap))
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(_HEADER))]
    text = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
            for row in lines]
    if elapsed_s is not None:
        text.insert(0, f"-- {elapsed_s:7.1f} s --")
    return "\n".join(text)
