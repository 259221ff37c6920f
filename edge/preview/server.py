"""The preview server: the app on uvicorn, on a thread of its own, with its parts around it.

:meth:`PreviewServer.start` binds the configured address first (so a port in use is said at once,
and nothing else has started), opens the service's parts (readers, encoder, links) all or nothing,
then runs uvicorn on that socket on a thread and waits until it serves. :meth:`PreviewServer.close`
asks uvicorn to stop (open WebSockets are closed with 1012; whatever is still running after
:data:`GRACE_S` is cancelled) and closes the parts. ``onset preview`` runs one from its main thread,
which only waits for SIGINT/SIGTERM; tests run one the same way.

uvicorn settings that matter here: the ``websockets-sansio`` protocol (a send waits while the
socket's buffer is full, which is what makes a stalled viewer cost only itself), no per-message
deflate (JPEG does not compress; deflate would cost CPU per viewer), a message limit of
:data:`WS_MAX_BYTES` at the protocol (a larger one closes with 1009; over 4 kB the app closes
with 1008), pings every 20 s (a page that stops answering is closed after 40 s). Each viewer's
socket has a send buffer of :data:`SEND_BUFFER_BYTES`, not the kernel's autotuned megabytes: a
slow viewer then skips frames within a few frames instead of queueing seconds of them in the kernel.
"""

from __future__ import annotations

import socket
import threading
from typing import Optional

from edge.preview.access import Access
from edge.preview.errors import PreviewStartError
from edge.preview.service import PreviewService, PreviewSettings

__all__ = ["GRACE_S", "WS_MAX_BYTES", "SEND_BUFFER_BYTES", "PreviewServer", "describe_bind"]

#: Seconds a stop waits for connections and tasks before it cancels them.
GRACE_S = 2.0
#: The largest WebSocket message the protocol takes, bytes.
WS_MAX_BYTES = 64 * 1024
#: The kernel's send buffer of each viewer's socket, bytes (Linux doubles it): with the event
#: loop's own 64 KiB, what a viewer can have in flight before its sends wait, a few frames.
SEND_BUFFER_BYTES = 128 * 1024
_START_TIMEOUT_S = 10.0


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def describe_bind(host: str) -> str:
    """What binding ``host`` means for who can reach the page."""
    if _is_loopback(host):
        return f"binds {host} only: this machine"
    if host in ("0.0.0.0", "::"):
        return f"binds {host}: every interface of this machine, anyone on its networks who has the token"
    return f"binds {host} only: reachable from that network by anyone who has the token"


def _ws_protocol() -> str:
    """uvicorn's sans-I/O websockets protocol where it has one (0.35 on), else its websockets one:
    both wait on a full socket buffer, where wsproto's would buffer without bound."""
    from uvicorn.config import WS_PROTOCOLS

    return "websockets-sansio" if "websockets-sansio" in WS_PROTOCOLS else "websockets"


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say they are TCP,
    # and accepted sockets inherit the listener's; with Nagle on, each HTTP answer waited 40 ms for
    # the peer's delayed ACK, and each frame's last segment could too.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)  # accepted sockets inherit it
        sock.bind((host, port))
        sock.listen(64)
    except OSError as err:
        sock.close()
        hint = " (is another preview running? pick one with --port)" if err.errno == 98 else ""
        raise PreviewStartError(f"the preview cannot listen on {host}:{port}: {err.strerror}{hint}") from err
    sock.set_inheritable(True)
    return sock


class PreviewServer:
    """One preview server (module docstring). ``log_level``: uvicorn's."""

    def __init__(self, settings: PreviewSettings, log_level: str = "warning") -> None:
        self.settings = settings
        self.service = PreviewService(settings)
        self.access = Access(settings.token, settings.watch_without_token)
        self._log_level = log_level
        self._server = None
        self._thread: Optional[threading.Thread] = None
        self._socket: Optional[socket.socket] = None
        self._failure: Optional[BaseException] = None

    @property
    def url(self) -> str:
        return self.settings.url

    @property
    def page_url(self) -> str:
        """The page's address with the token in its fragment (what the crew opens)."""
        return f"{self.settings.url}/#token={self.settings.token}"

    def start(self) -> "PreviewServer":
        import uvicorn

        from edge.preview.app import create_app

        self._socket = _listen(self.settings.host, self.settings.port)
        try:
            self.service.start()
        except BaseException:
            self._socket.close()
            raise
        config = uvicorn.Config(
            create_app(self.service, self.access), log_level=self._log_level, lifespan="on",
            ws=_ws_protocol(), ws_max_size=WS_MAX_BYTES, ws_per_message_deflate=False,
            ws_ping_interval=20.0, ws_ping_timeout=20.0, timeout_graceful_shutdown=GRACE_S,
            access_log=False, server_header=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="preview-http", daemon=True)
        self._thread.start()
        deadline = threading.Event()
        for _ in range(int(_START_TIMEOUT_S / 0.01)):
            if self._server.started or not self._thread.is_alive():
                break
            deadline.wait(0.01)
        if not self._server.started:
            self.close()
            raise PreviewStartError(f"the preview's HTTP server did not start: {self._failure!r}")
        return self

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as err:  # noqa: BLE001 - SystemExit from uvicorn's start-up included
            self._failure = err

    def close(self) -> None:
        """Stop serving and close every part (idempotent)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=GRACE_S + 3.0)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self.service.close()

    def __enter__(self) -> "PreviewServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
