"""The shared UDP receiver: loopback only, port conflicts named, callbacks isolated."""

import socket

import pytest

from sensors.errors import PortInUseError
from sensors.udp import UdpReceiver
from tests.polling import wait_for


def test_receives_and_stamps_datagrams():
    got = []
    with UdpReceiver("127.0.0.1", 0, lambda p, t: got.append((p, t)), who="test") as rx:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for i in range(5):
                tx.sendto(bytes([i]) * 10, ("127.0.0.1", rx.port))
        assert wait_for(lambda: len(got) == 5)
    assert [p[0] for p, _ in got] == [0, 1, 2, 3, 4]
    assert all(t > 0 for _, t in got)


def test_port_in_use_names_the_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"127.0.0.1:{port}") as info:
            UdpReceiver("127.0.0.1", port, lambda p, t: None, who="lidar")
        assert "lidar" in str(info.value)


def test_callback_errors_are_counted_not_fatal():
    seen = []

    def handler(payload, host_ns):
        if payload == b"bad":
            raise ValueError("boom")
        seen.append(payload)

    with UdpReceiver("127.0.0.1", 0, handler, who="test") as rx:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            tx.sendto(b"bad", ("127.0.0.1", rx.port))
            tx.sendto(b"good", ("127.0.0.1", rx.port))
        assert wait_for(lambda: seen == [b"good"])
        assert rx.callback_errors == 1
