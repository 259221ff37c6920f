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


def test_datagrams_carry_the_kernels_arrival_time_not_the_busy_threads():
    import time

    got = []

    def slow(payload, host_ns):
        got.append((payload, host_ns, time.time_ns()))
        if len(got) == 1:
            time.sleep(0.2)  # the receiving thread is busy while the next datagrams arrive

    sent = {}
    with UdpReceiver("127.0.0.1", 0, slow, who="test") as rx:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for i in range(6):
                sent[bytes([i])] = time.time_ns()
                tx.sendto(bytes([i]), ("127.0.0.1", rx.port))
                time.sleep(0.02)
        assert wait_for(lambda: len(got) == 6)
    assert rx.kernel_stamped == 6
    for payload, host_ns, _ in got:
        assert 0 <= host_ns - sent[payload] < 5_000_000  # stamped on arrival...
    assert max(handled - sent[p] for p, _, handled in got) > 100_000_000  # ...though handled late


def test_a_test_clock_stamps_in_place_of_the_kernel():
    with UdpReceiver("127.0.0.1", 0, lambda p, t: got.append(t), who="test", clock_ns=lambda: 42) as rx:
        got = []
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            tx.sendto(b"x", ("127.0.0.1", rx.port))
        assert wait_for(lambda: len(got) == 1)
    assert got == [42] and rx.kernel_stamped == 0
