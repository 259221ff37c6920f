"""A UDP receiver shared by the packet drivers (LiDAR, FreeD telemetry), and the socket the
simulated senders send from.

The receiver binds exactly the address the profile names, stamps every datagram with the host's
master clock on arrival, and hands bytes to a decoder callback on its own thread. The stamp is
the kernel's (``SO_TIMESTAMPNS``: CLOCK_REALTIME, the clock ``time.time_ns()`` reads, taken when
the datagram reached the socket), not the time the receiving thread got round to it: on a busy
host that thread may wait tens of milliseconds for a core, and every such wait would read to
the clock models as transport delay. Where the kernel gives no stamp, the thread's clock is used. A sender's
socket sending to a loopback address is bound to loopback (:func:`sender_socket`), so nothing of
the stage listens beyond what the profile names either.
"""

from __future__ import annotations

import errno
import socket
import struct
import threading
import time
from typing import Callable, Optional

from sensors.errors import PortInUseError, SensorOpenError

__all__ = ["UdpReceiver", "SenderThread", "open_udp_socket", "sender_socket", "local_address_for", "MAX_DATAGRAM_BYTES"]

MAX_DATAGRAM_BYTES = 65535

# Linux's SO_TIMESTAMPNS (== SCM_TIMESTAMPNS), where the socket module does not name it.
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_TIMESPEC = struct.Struct("@qq")  # struct timespec: tv_sec, tv_nsec (64-bit Linux)
_ANCILLARY_BYTES = socket.CMSG_SPACE(_TIMESPEC.size)


def enable_kernel_stamps(sock: socket.socket) -> bool:
    """Ask the kernel to stamp each datagram ``sock`` receives; False where it cannot."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


def kernel_stamp_ns(ancdata) -> Optional[int]:
    """The kernel's receive time (int ns, CLOCK_REALTIME) in ``recvmsg`` ancillary data, or None."""
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack_from(data)
            return sec * 1_000_000_000 + nsec
    return None


def local_address_for(dest_host: str) -> Optional[str]:
    """The local address a socket sending to ``dest_host`` should bind: loopback for a loopback
    destination, None (the kernel's choice) otherwise."""
    return "127.0.0.1" if dest_host.startswith("127.") or dest_host == "localhost" else None


def sender_socket(dest_host: str) -> socket.socket:
    """A UDP socket for sending to ``dest_host``, bound to loopback when the destination is."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    local = local_address_for(dest_host)
    if local is not None:
        sock.bind((local, 0))
    return sock


class SenderThread:
    """The life cycle a simulated device's UDP sender shares: a subclass's ``start()`` opens
    ``_sock`` and runs ``_thread`` until ``_stop`` is set; :meth:`close` stops both."""

    _stop: threading.Event
    _thread: Optional[threading.Thread]
    _sock: Optional[socket.socket]

    def start(self) -> "SenderThread":  # pragma: no cover - every sender defines its own
        raise NotImplementedError

    def close(self) -> None:
        """Stop sending and close the socket; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_udp_socket(host: str, port: int, who: str, recv_buffer_bytes: int = 4 << 20) -> socket.socket:
    """Bind a UDP socket on ``host:port``; a held port raises :class:`PortInUseError` naming it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, recv_buffer_bytes)
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise PortInUseError(host, port, who) from err
        raise SensorOpenError(f"{who}: cannot bind UDP {host}:{port}: {err.strerror}") from err
    return sock


class UdpReceiver:
    """Receives datagrams on a thread and calls ``on_datagram(payload, host_ns)`` for each.

    ``host_ns`` is the kernel's receive stamp (module docstring), or ``clock_ns()`` right after
    ``recv`` returned where the kernel gives none or a ``clock_ns`` other than ``time.time_ns`` is
    given (a test's clock). ``kernel_stamped`` counts the datagrams stamped by the kernel.
    Exceptions from the callback are the caller's bug, not the wire's: they are counted in
    ``callback_errors`` and the receiver keeps running.
    """

    def __init__(
        self,
        host: str,
        port: int,
        on_datagram: Callable[[bytes, int], None],
        who: str,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.host, self.who = host, who
        self._sock = open_udp_socket(host, port, who)
        self.port = self._sock.getsockname()[1]
        self._sock.settimeout(0.2)
        self._on_datagram = on_datagram
        self._clock_ns = clock_ns
        self._kernel = clock_ns is time.time_ns and enable_kernel_stamps(self._sock)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.datagrams = 0
        self.kernel_stamped = 0
        self.callback_errors = 0
        self.last_callback_error: Optional[BaseException] = None

    def start(self) -> "UdpReceiver":
        self._thread = threading.Thread(target=self._run, name=f"udp-{self.who}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            stamp = None
            try:
                if self._kernel:
                    payload, ancdata, _, _ = self._sock.recvmsg(MAX_DATAGRAM_BYTES, _ANCILLARY_BYTES)
                    stamp = kernel_stamp_ns(ancdata)
                else:
                    payload = self._sock.recv(MAX_DATAGRAM_BYTES)
            except socket.timeout:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                raise
            if stamp is None:
                host_ns = self._clock_ns()
            else:
                host_ns = stamp
                self.kernel_stamped += 1
            self.datagrams += 1
            try:
                self._on_datagram(payload, host_ns)
            except Exception as err:  # noqa: BLE001 - keep receiving; counted and exposed
                self.callback_errors += 1
                self.last_callback_error = err

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._sock.close()

    def __enter__(self) -> "UdpReceiver":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
