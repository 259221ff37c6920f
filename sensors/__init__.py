"""Onset's sensors: one subpackage per family (lidar, camera, telemetry, timecode) and the
simulated stage (sim) that speaks their wire formats.

Every family has the same role-named modules: ``driver.py`` decodes the wire, ``sim.py`` emits
it, ``types.py`` holds its value objects. Shared value objects live in :mod:`sensors.vocabulary`.
Importing this package imports nothing heavy.
"""

from sensors.errors import DecodeError, PortInUseError, SensorError, SensorOpenError

__all__ = ["SensorError", "DecodeError", "PortInUseError", "SensorOpenError"]
