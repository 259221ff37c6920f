"""The take control API: a small HTTP JSON server in the node, and its client for ``onset take``.

Endpoints (every one needs ``Authorization: Bearer <token>``, else 401)::

    GET  /status                                                -> the node's status (health, sensors)
    GET  /take/status                                           -> recorder status
    POST /take/start  {"scene", "shot", "take", "tc_in"?, "plan"?} -> the take that started
    POST /take/stop   {"tc_out"?}                               -> the take that stopped

``/status`` is what the node's once-a-second status table says, as JSON: fused-frame counters,
latency and in-sync fraction, and per sensor its rates, drops and clock model
(:func:`edge.node.status_json.node_status_document`; the preview polls it). A server made without
a ``status`` callable answers it 404.

``plan``: the capture plan the take is shot for, kept in its ``take.json`` (an object with
``name``, ``index``, ``parameter``, ``value``, ``unit``, ``fixed``, ``seed`` and ``instruction``:
:func:`edge.recorder.take.validate_plan`); a start without it records ``"plan": null``.

Errors answer ``{"error": "..."}`` with 400 (bad slate, plan or body), 409 (already recording / not
recording), 507 (below the free-space floor), 404/405 (unknown path or method), 503 (the status
could not be gathered). The server binds
loopback addresses only: the preview and the CLI run on the edge box itself.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import secrets
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Optional, Tuple

from edge.recorder.errors import (
    ControlAuthError,
    ControlError,
    ControlUnavailableError,
    DiskSpaceError,
    RecorderError,
    RecorderStateError,
    SlateError,
)

__all__ = ["ControlServer", "ControlClient", "DEFAULT_CONTROL_URL", "CONTROL_URL_ENV", "CONTROL_TOKEN_ENV"]

DEFAULT_CONTROL_URL = "http://127.0.0.1:8765"
CONTROL_URL_ENV = "ONSET_CONTROL_URL"
CONTROL_TOKEN_ENV = "ONSET_CONTROL_TOKEN"
_MAX_BODY_BYTES = 64 * 1024
_REQUEST_TIMEOUT_S = 10.0
_log = logging.getLogger(__name__)


def _status_for(err: RecorderError) -> int:
    if isinstance(err, SlateError):
        return 400
    if isinstance(err, RecorderStateError):
        return 409
    if isinstance(err, DiskSpaceError):
        return 507
    return 500


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    timeout = _REQUEST_TIMEOUT_S  # a client that stalls mid-request does not hold a thread for ever
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        _log.debug("control %s: " + format, self.client_address[0], *args)

    def _send(self, status: int, body: Dict[str, Any]) -> None:
        self._send_text(status, json.dumps(body))

    def _send_text(self, status: int, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        # One request per connection: an error answered before the body was read cannot desync the next.
        self.send_header("Connection", "close")
        self.close_connection = True
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="onset"')
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.server.token.encode())
        if not ok:
            self._send(401, {"error": "missing or wrong token: send Authorization: Bearer <token>"})
        return ok

    def _body(self) -> Optional[Dict[str, Any]]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > _MAX_BODY_BYTES:
            self._send(413 if length > 0 else 400, {"error": f"body must be 0..{_MAX_BODY_BYTES} bytes of JSON"})
            return None
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            self._send(400, {"error": f"body is not JSON: {err}"})
            return None
        if not isinstance(body, dict):
            self._send(400, {"error": "body must be a JSON object"})
            return None
        return body

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if not self._authorized():
            return
        path = self.path.split("?")[0]
        if path == "/take/status":
            self._send(200, self.server.recorder.status().to_dict())
        elif path == "/status" and self.server.status is not None:
            self._send_status()
        elif path in ("/take/start", "/take/stop"):
            self._send(405, {"error": f"{self.path} needs POST"})
        else:
            known = "/status, " if self.server.status is not None else ""
            self._send(404, {"error": f"no endpoint {self.path}; there are {known}/take/status, /take/start, /take/stop"})

    def _send_status(self) -> None:
        try:
            text = json.dumps(self.server.status(), allow_nan=False)
        except Exception as err:  # noqa: BLE001 - a status that cannot be gathered must not kill the handler
            _log.warning("control: the node status could not be gathered: %s", err)
            self._send(503, {"error": f"the node status could not be gathered: {type(err).__name__}: {err}"})
            return
        self._send_text(200, text)

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        if not self._authorized():
            return
        path = self.path.split("?")[0]
        if path not in ("/take/start", "/take/stop"):
            code = 405 if path in ("/take/status", "/status") else 404
            self._send(code, {"error": f"no POST endpoint {self.path}"})
            return
        body = self._body()
        if body is None:
            return
        recorder, timecode_now = self.server.recorder, self.server.timecode_now
        try:
            if path == "/take/start":
                missing = [k for k in ("scene", "shot", "take") if k not in body]
                if missing:
                    self._send(400, {"error": f"missing {', '.join(missing)} (send scene, shot and take)"})
                    return
                tc_in = body.get("tc_in") or (timecode_now() if timecode_now else None)
                info = recorder.start(body["scene"], body["shot"], body["take"], tc_in=tc_in, plan=body.get("plan"))
            else:
                tc_out = body.get("tc_out") or (timecode_now() if timecode_now else None)
                info = recorder.stop(tc_out=tc_out)
        except RecorderError as err:
            self._send(_status_for(err), {"error": str(err)})
            return
        self._send(200, info.to_dict())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: Tuple[str, int], recorder: Any, token: str,
                 timecode_now: Optional[Callable[[], Any]], status: Optional[Callable[[], Dict[str, Any]]]) -> None:
        self.recorder = recorder
        self.token = token
        self.timecode_now = timecode_now
        self.status = status
        super().__init__(address, _Handler)


class ControlServer:
    """Serves the control API for ``recorder`` (a ``TakeRecorder``) on a loopback address.

    ``port=0`` picks a free port (read it back from :attr:`port` / :attr:`url`). ``token``: the
    bearer token clients must send; a random one is made when none is given. ``timecode_now``:
    the node's current timecode, used for TC in/out when a request does not carry them.
    ``status``: returns the node's status document (plain JSON values, no NaN) for ``GET /status``.
    """

    def __init__(self, recorder: Any, host: str = "127.0.0.1", port: int = 0, token: Optional[str] = None,
                 timecode_now: Optional[Callable[[], Any]] = None,
                 status: Optional[Callable[[], Dict[str, Any]]] = None) -> None:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise ControlError(f"the control API binds loopback addresses only, not {host!r}")
        if token is not None and not token.strip():
            raise ControlError("the control token is empty")
        self.token = token or secrets.token_urlsafe(24)
        self._address = (host, int(port))
        self._recorder = recorder
        self._timecode_now = timecode_now
        self._status = status
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None

    def start(self) -> "ControlServer":
        self._server = _Server(self._address, self._recorder, self.token, self._timecode_now, self._status)
        # A short poll interval: close() returns within 50 ms instead of the default 0.5 s.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="take-control", daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        if self._server is None:
            raise ControlError("the control server is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def __enter__(self) -> "ControlServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()


class ControlClient:
    """Talks to a node's control API: plain HTTP JSON over ``urllib``."""

    def __init__(self, base_url: str = DEFAULT_CONTROL_URL, token: Optional[str] = None,
                 timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    def _request(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read().decode("utf-8") or "{}")
        except urllib.error.HTTPError as err:
            message = _error_text(err)
            if err.code == 401:
                raise ControlAuthError(f"the node at {self.base_url} refused the token: {message} "
                                       f"(pass --token or set {CONTROL_TOKEN_ENV})", 401) from err
            raise ControlError(message, err.code) from err
        except urllib.error.URLError as err:
            reason = err.reason
            if isinstance(reason, ConnectionRefusedError) or "refused" in str(reason).lower():
                raise ControlUnavailableError(
                    f"no Onset node is listening at {self.base_url}: start it with `make demo` / `onset node run`"
                ) from err
            raise ControlUnavailableError(f"cannot reach the Onset node at {self.base_url}: {reason}") from err
        except (TimeoutError, OSError) as err:
            raise ControlUnavailableError(f"the Onset node at {self.base_url} did not answer: {err}") from err
        except ValueError as err:
            raise ControlError(f"the node at {self.base_url} answered something that is not JSON: {err}") from err

    def status(self) -> Dict[str, Any]:
        """The recorder's status (``GET /take/status``)."""
        return self._request("GET", "/take/status")

    def node_status(self) -> Dict[str, Any]:
        """The node's status document (``GET /status``): health, sensors, clocks."""
        return self._request("GET", "/status")

    def start(self, scene: str, shot: str, take: int, tc_in: Optional[str] = None,
              plan: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Start a take; ``plan``: the capture plan it is shot for (kept in its ``take.json``)."""
        body: Dict[str, Any] = {"scene": scene, "shot": shot, "take": take}
        if tc_in:
            body["tc_in"] = tc_in
        if plan is not None:
            body["plan"] = plan
        return self._request("POST", "/take/start", body)

    def stop(self, tc_out: Optional[str] = None) -> Dict[str, Any]:
        return self._request("POST", "/take/stop", {"tc_out": tc_out} if tc_out else {})


def _error_text(err: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(err.read().decode("utf-8"))
        if isinstance(body, dict) and "error" in body:
            return str(body["error"])
    except (ValueError, UnicodeDecodeError, OSError):
        pass
    return f"HTTP {err.code} {err.reason}"
