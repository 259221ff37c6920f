"""Waiting in tests without sleeping as synchronization: poll a condition up to a deadline."""

from __future__ import annotations

import time
from typing import Callable

__all__ = ["wait_for"]


def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0, poll_s: float = 0.005) -> bool:
    """Poll ``predicate`` until it is true or ``timeout_s`` passes; its last answer."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll_s)
    return bool(predicate())
