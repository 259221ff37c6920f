"""An engine's result stream, relayed to a Foxglove channel on a daemon thread of its own.

Each envelope read from the worker's ZeroMQ stream (:class:`engines.worker.results.ResultSubscriber`)
goes out as the same JSON on the channel, logged at the frame's master time (``t_ns``), while a
client subscribes to it; unsubscribed, the stream is still drained, so a client that comes later
sees the newest result rather than an old one. The worker need not be up: ZeroMQ connects when it
binds. A result the subscriber cannot read is counted there (``rejected``), never relayed.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Dict, Optional

from engines.worker.results import ResultSubscriber, encode_result

__all__ = ["ResultRelay"]

_log = logging.getLogger(__name__)
_POLL_MS = 100


class ResultRelay:
    """Relays ``endpoint``'s results to ``channel`` (a JSON ``foxglove.Channel``); ``name`` for logs."""

    def __init__(self, name: str, endpoint: str, channel: Any) -> None:
        self.name = name
        self.endpoint = endpoint
        self._channel = channel
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._subscriber: Optional[ResultSubscriber] = None
        self.received = 0
        self.relayed = 0
        self.errors = 0
        self.last_error: Optional[str] = None

    def start(self) -> "ResultRelay":
        self._subscriber = ResultSubscriber(self.endpoint)
        self._thread = threading.Thread(target=self._run, name=f"foxglove-{self.name}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        subscriber = self._subscriber
        try:
            while not self._stop.is_set():
                message = subscriber.recv(_POLL_MS)
                while message is not None and not self._stop.is_set():
                    self._relay(message)
                    message = subscriber.recv(0)
        finally:
            subscriber.close()

    def _relay(self, message: Dict[str, Any]) -> None:
        self.received += 1
        if not self._channel.has_sinks():
            return
        try:
            t_ns = message.get("t_ns")
            log_time = t_ns if isinstance(t_ns, int) and not isinstance(t_ns, bool) and t_ns >= 0 else None
            self._channel.log(encode_result(message), log_time=log_time)
        except Exception as err:  # noqa: BLE001 - one bad result must not end the relay
            self.errors += 1
            self.last_error = f"{type(err).__name__}: {err}"
            (_log.warning if self.errors == 1 else _log.debug)("relaying a %s result failed: %s", self.name, err)
            return
        self.relayed += 1

    @property
    def rejected(self) -> int:
        """Messages on the stream that were not readable results."""
        return 0 if self._subscriber is None else self._subscriber.rejected

    def close(self) -> None:
        """Stop the thread and close its socket (within one poll, 0.1 s)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
