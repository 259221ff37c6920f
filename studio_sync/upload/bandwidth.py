"""A token bucket every upload thread draws from, so all parts together keep to one rate.

Tokens are bytes. The bucket fills at ``rate_bytes_s`` up to ``burst_bytes`` and starts full;
``take(n)`` books ``n`` tokens at once and sleeps while the level is below zero. Over any
interval of ``T`` seconds at most ``burst_bytes + rate_bytes_s * T`` bytes pass, whatever the
number of threads; the burst is kept small (a quarter second of the rate, at most 256 KiB), so
the link sees a steady rate rather than a part at full speed followed by silence. Bytes are
drawn as the HTTP body is written to the socket (:mod:`studio_sync.upload.client`), not when a
part is read from disk or hashed.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

__all__ = ["TokenBucket", "MIB", "bucket_for"]

MIB = 1 << 20
_MAX_BURST = 256 * 1024


class TokenBucket:
    """``rate_bytes_s`` bytes a second for all threads together (see the module docstring)."""

    def __init__(self, rate_bytes_s: float, burst_bytes: Optional[int] = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if rate_bytes_s <= 0:
            raise ValueError(f"a bandwidth cap must be positive, got {rate_bytes_s} bytes/s")
        self.rate = float(rate_bytes_s)
        self.burst = int(burst_bytes if burst_bytes is not None else max(1, min(_MAX_BURST, self.rate / 4)))
        self._clock, self._sleep = clock, sleep
        self._tokens = float(self.burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def take(self, n: int) -> None:
        """Draw ``n`` bytes' worth of tokens, sleeping until they are there.

        The draw is booked at once (the level may go below zero) and the caller sleeps off its
        own deficit, so threads are served in the order they asked and none spins."""
        if n <= 0:
            return
        with self._lock:
            self._refill()
            self._tokens -= n
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)


def bucket_for(bandwidth_mib_s: Optional[float]) -> Optional[TokenBucket]:
    """The bucket of ``studio.upload.bandwidth_mib_s`` (MiB/s), or None for no cap."""
    return None if bandwidth_mib_s is None else TokenBucket(bandwidth_mib_s * MIB)
