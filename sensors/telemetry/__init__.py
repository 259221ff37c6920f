"""Camera tracking telemetry: FreeD D1 over UDP (cranes, dollies, remote heads, tracking systems).

- ``freed``: the D1 wire codec (``encode_d1`` / ``decode_d1``) and the one mapping between
  FreeD's axes and angles and Onset's pose convention (``telemetry_from_pose`` /
  ``pose_from_telemetry``).
- ``lens``: lens encoder counts <-> focal length (mm) and focus distance (m) through the
  profile's lens calibration.
- ``driver``: ``FreedDriver`` receives datagrams, decodes them into
  :class:`sensors.vocabulary.TelemetrySample` and counts every drop.
- ``schedule``: ``ArrivalSchedule`` gives a device without a packet counter a device time, by
  placing each arrival on the device's nominal tick schedule.
- ``sim``: ``FreedSim`` emits the rig's true pose as D1 packets on a drifting clock;
  ``FreedSender`` plays it over UDP in real time. Imported on first use: the simulated stage's
  package is not needed to read a real tracking system.
"""

from __future__ import annotations

from sensors.telemetry.driver import FreedDriver
from sensors.telemetry.errors import (
    FreedChecksumError,
    FreedDecodeError,
    FreedFieldRangeError,
    FreedLengthError,
    FreedMessageTypeError,
    LensCalibrationError,
    LensValueError,
    TelemetryError,
)
from sensors.telemetry.freed import (
    D1_MESSAGE_TYPE,
    D1_PACKET_BYTES,
    decode_d1,
    encode_d1,
    pose_from_telemetry,
    telemetry_from_pose,
)
from sensors.telemetry.lens import lens_from_raw, raw_from_lens
from sensors.telemetry.schedule import ArrivalSchedule, Placement, TickSchedule, fit_schedule
from sensors.telemetry.types import FreedD1, FreedSimPacket

__all__ = [
    "FreedDriver",
    "ArrivalSchedule",
    "TickSchedule",
    "Placement",
    "fit_schedule",
    "FreedSim",
    "FreedSender",
    "FreedD1",
    "FreedSimPacket",
    "D1_MESSAGE_TYPE",
    "D1_PACKET_BYTES",
    "encode_d1",
    "decode_d1",
    "telemetry_from_pose",
    "pose_from_telemetry",
    "lens_from_raw",
    "raw_from_lens",
    "TelemetryError",
    "FreedDecodeError",
    "FreedLengthError",
    "FreedMessageTypeError",
    "FreedChecksumError",
    "FreedFieldRangeError",
    "LensCalibrationError",
    "LensValueError",
]


def __getattr__(name: str):
    # The sim pulls in the simulated stage's package; load it only when asked for.
    if name in ("FreedSim", "FreedSender"):
        from sensors.telemetry import sim

        return getattr(sim, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
