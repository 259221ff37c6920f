"""Free loopback ports for the stage's own inputs, chosen outside the kernel's ephemeral range.

A port found by binding port 0 comes from the ephemeral range (Linux: 32768-60999), the same
range the kernel draws from for every socket that binds no port of its own: a simulated sender,
a client's connection. Released again, it can be handed to such a socket a moment later, and the
receiver that was meant to own it then fails with "address already in use". Ports below the
ephemeral range are handed out only to those who ask for them by number, so a free one stays free
until its owner binds it.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

__all__ = ["free_loopback_port", "ephemeral_port_range"]

#: The lowest port handed out: clear of the well-known and most registered service ports.
LOWEST_PORT = 20000
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_ATTEMPTS = 200
_pick = random.SystemRandom()


def ephemeral_port_range() -> tuple:
    """(first, last) port the kernel hands to sockets that bind none; Linux's default elsewhere."""
    try:
        first, last = (int(v) for v in _RANGE_FILE.read_text().split())
        return first, last
    except (OSError, ValueError):
        return 32768, 60999


def free_loopback_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port on 127.0.0.1 that nothing holds now (UDP by default, ``socket.SOCK_STREAM`` for TCP),
    outside the ephemeral range where the machine leaves room for one."""
    first_ephemeral, _ = ephemeral_port_range()
    if first_ephemeral - LOWEST_PORT >= 1000:
        for _ in range(_ATTEMPTS):
            port = _pick.randrange(LOWEST_PORT, first_ephemeral)
            with socket.socket(socket.AF_INET, kind) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket(socket.AF_INET, kind) as s:  # a machine whose ephemeral range starts low
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
