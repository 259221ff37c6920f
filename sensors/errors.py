"""Root errors of the sensors package; each family adds narrow subclasses in its own ``errors``."""

from __future__ import annotations

__all__ = ["SensorError", "DecodeError", "PortInUseError", "SensorOpenError"]


class SensorError(Exception):
    """Root of every error raised by Onset's sensors, drivers and simulated stage."""


class DecodeError(SensorError):
    """Bytes from a wire or a file that are not a valid packet of the expected format.

    Drivers catch these, count them as drops and go on; they never reach the node.
    """


class PortInUseError(SensorError):
    """A UDP/TCP port another process (or another sensor) already holds."""

    def __init__(self, host: str, port: int, who: str) -> None:
        self.host, self.port, self.who = host, port, who
        super().__init__(
            f"{who}: cannot bind {host}:{port}, the port is already in use "
            f"(another Onset, a vendor driver, or a second sensor on the same port?); "
            f"free it or set a different port in the profile"
        )


class SensorOpenError(SensorError):
    """A sensor that could not be opened at start-up; names the sensor and why."""
