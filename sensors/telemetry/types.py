"""Value objects of the telemetry family: a FreeD D1 packet's fields and a simulated packet."""

from __future__ import annotations

from dataclasses import dataclass

from sensors.vocabulary import LensState, RigPose

__all__ = ["FreedD1", "FreedSimPacket"]


@dataclass(frozen=True)
class FreedD1:
    """The fields of one FreeD D1 packet, in FreeD's own convention and units.

    Angles in degrees as FreeD defines them (pan 0 looks along the studio +Y axis, positive to the
    right; tilt positive up; roll positive clockwise seen from behind); ``x_mm``, ``y_mm``,
    ``z_mm`` in the tracking system's studio axes (Z up); ``zoom_raw`` and ``focus_raw`` are lens
    encoder counts (0 .. 2**24 - 1); ``spare`` is the two user-defined bytes as one big-endian
    integer (0 .. 65535). Conversion to Onset's pose convention: ``sensors.telemetry.freed``.
    """

    camera_id: int
    pan_deg: float
    tilt_deg: float
    roll_deg: float
    x_mm: float
    y_mm: float
    z_mm: float
    zoom_raw: int
    focus_raw: int
    spare: int = 0


@dataclass(frozen=True)
class FreedSimPacket:
    """One packet the simulated tracking system sends, with the ground truth it was made from.

    ``index`` counts packets since the sim's epoch (0, 1, ...); ``master_ns`` is the master-clock
    time at which the packet is sampled and sent; ``counter`` the 16-bit value in its spare bytes;
    ``pose`` and ``lens`` the true rig pose and lens at ``master_ns``; ``payload`` the D1 bytes.
    """

    index: int
    master_ns: int
    counter: int
    pose: RigPose
    lens: LensState
    payload: bytes
