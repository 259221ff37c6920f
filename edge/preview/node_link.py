"""The preview's link to the node's control API: its status polled once a second, takes on request.

A thread asks ``GET /status`` (health, sensors, clocks: :mod:`edge.node.status_json`) and
``GET /take/status`` (the recorder) every :data:`POLL_INTERVAL_S` with the node's control token,
and keeps the newest answers. A node that is not up, or that refuses the token, leaves the
``node`` source ``waiting`` (or ``late``, ``gone``) with that reason; polling goes on, so a node
started later is picked up. A node older than ``GET /status`` still gives the take status.
Take start and stop go to the same API, on the caller's thread (the server runs them off its
event loop).
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Optional

from edge.preview.sources import SourceState
from edge.preview.threads import SourceThread
from edge.recorder.control import ControlClient
from edge.recorder.errors import ControlAuthError, ControlError, ControlUnavailableError

__all__ = ["POLL_INTERVAL_S", "NodeLink"]

POLL_INTERVAL_S = 1.0
_POLL_TIMEOUT_S = 1.0
_TAKE_TIMEOUT_S = 10.0


class NodeLink(SourceThread):
    """Polls one node's control API at ``url`` (module docstring). ``token_hint``: where the
    token comes from, said when the node refuses it."""

    #: A poll waiting on its answer is left behind (a daemon that only reads).
    close_wait_s = 0.5

    def __init__(self, url: str, token: Optional[str], state: SourceState, token_hint: str,
                 interval_s: float = POLL_INTERVAL_S) -> None:
        super().__init__("preview-node")
        self.url = url
        self.state = state
        self._token_hint = token_hint
        self._poller = ControlClient(url, token, timeout_s=_POLL_TIMEOUT_S)
        self._control = ControlClient(url, token, timeout_s=_TAKE_TIMEOUT_S)
        self._interval_s = float(interval_s)
        self._lock = threading.Lock()
        self._health: Optional[Dict[str, Any]] = None
        self._take: Optional[Dict[str, Any]] = None

    @property
    def health(self) -> Optional[Dict[str, Any]]:
        """The newest ``GET /status`` answer (None before the first)."""
        with self._lock:
            return self._health

    @property
    def take(self) -> Optional[Dict[str, Any]]:
        """The newest ``GET /take/status`` answer (None before the first)."""
        with self._lock:
            return self._take

    def refused(self) -> str:
        """Why the node would not answer: the token."""
        return f"the node at {self.url} refused the preview's control token ({self._token_hint})"

    def poll(self) -> None:
        """One round: the take status, then the node's status; the source says how it went."""
        try:
            take = self._poller.status()
        except ControlAuthError:
            self.state.problem(self.refused())
            return
        except ControlError as err:
            self.state.problem(str(err))
            return
        try:
            health: Optional[Dict[str, Any]] = self._poller.node_status()
        except ControlAuthError:
            self.state.problem(self.refused())
            return
        except ControlUnavailableError as err:
            self.state.problem(str(err))
            return
        except ControlError as err:  # a node without GET /status: takes still work
            health = None
            problem: Optional[str] = f"no node status: {err}"
        else:
            problem = None
        with self._lock:
            self._take, self._health = take, health
        self.state.heard()
        if problem is not None:
            self.state.problem(problem)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception as err:  # noqa: BLE001 - an answer this link cannot read must not end the polling
                self.state.problem(f"the node at {self.url} answered something unreadable: {type(err).__name__}: {err}")
            self._stop.wait(self._interval_s)

    def start_take(self, scene: str, shot: str, take: int) -> Dict[str, Any]:
        """Start a take on the node (ControlError with the node's status code when it refuses)."""
        return self._control.start(scene, shot, take)

    def stop_take(self) -> Dict[str, Any]:
        return self._control.stop()
