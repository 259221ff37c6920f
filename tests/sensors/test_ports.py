"""Free loopback ports come from below the ephemeral range, so no sender's socket can take them."""

import socket

import pytest

from sensors import ports
from sensors.ports import LOWEST_PORT, ephemeral_port_range, free_loopback_port


@pytest.mark.parametrize("kind", [socket.SOCK_DGRAM, socket.SOCK_STREAM])
def test_the_port_is_free_and_below_the_ephemeral_range(kind):
    first_ephemeral, _ = ephemeral_port_range()
    chosen = {free_loopback_port(kind) for _ in range(20)}
    for port in chosen:
        assert LOWEST_PORT <= port < first_ephemeral
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", port))  # nothing holds it
    assert len(chosen) > 1  # not one fixed number


def test_a_held_port_is_never_handed_out(monkeypatch):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind(("127.0.0.1", free_loopback_port()))
        taken = held.getsockname()[1]
        draws = iter([taken, taken, taken + 1])
        monkeypatch.setattr(ports._pick, "randrange", lambda lo, hi: next(draws))
        assert free_loopback_port() == taken + 1


def test_a_machine_whose_ephemeral_range_starts_low_still_gets_a_port(monkeypatch, tmp_path):
    range_file = tmp_path / "ip_local_port_range"
    range_file.write_text("1024\t65535\n")
    monkeypatch.setattr(ports, "_RANGE_FILE", range_file)
    assert ephemeral_port_range() == (1024, 65535)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", free_loopback_port()))
