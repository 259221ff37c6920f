"""FreeD D1 ("camera position/orientation data") codec and its mapping to Onset's pose convention.

Wire layout (Vinten/Radamec free-d protocol, message type D1), 29 bytes, multi-byte fields
big-endian:

=====  =====  ==============  ===============================================================
byte   size   field           encoding
=====  =====  ==============  ===============================================================
0      1      message type    0xD1
1      1      camera ID       0..255
2      3      pan             signed 24-bit two's complement, degrees x 32768 (1/32768 deg)
5      3      tilt            as pan
8      3      roll            as pan
11     3      X               signed 24-bit two's complement, millimetres x 64 (1/64 mm)
14     3      Y               as X
17     3      Z (height)      as X
20     3      zoom            unsigned 24-bit, raw lens encoder counts
23     3      focus           unsigned 24-bit, raw lens encoder counts
26     2      spare           user defined (Onset: 16-bit packet counter, see below)
28     1      checksum        (0x40 - sum of bytes 0..27) mod 256
=====  =====  ==============  ===============================================================

Angles carry 8 integer and 15 fractional bits: -256 .. +255.99997 degrees (the protocol uses
-180..+180 for pan and roll, -90..+90 for tilt). Positions carry 17 integer and 6 fractional
bits: -131072 .. +131071.98 mm. Encoding rounds to the nearest unit, so a roundtrip is exact
to half a unit (1/65536 deg, 1/128 mm). One UDP datagram carries exactly one packet.

Spare bytes: the protocol leaves them to the user. Onset's simulated stage puts a 16-bit packet
counter there (big-endian, +1 per packet, wrapping 65535 -> 0), which lets the driver count lost
and reordered packets and see the sender's clock (counter x packet period). Real devices put
anything there (often zero); the driver then runs with ``spare_is_counter=False``.

Axes and angles. FreeD defines right-handed studio axes with X and Y horizontal and Z up; pan 0
looks along +Y, pan is positive to the right (clockwise seen from above); tilt is positive up;
roll positive clockwise seen from behind the camera. Onset (``sensors.vocabulary``) has stage
x forward, y left, z up; pan 0 looks along +x, positive counter-clockwise seen from above; tilt
positive up; roll positive clockwise seen from behind; ``R = Rz(pan) Ry(-tilt) Rx(roll)``.
Onset takes the tracking system's X/Y/Z as stage x/y/z (the tracking system is aligned to the
stage at set-up; millimetres -> metres). With the axes shared, a camera at FreeD pan ``p``
looks along ``(sin p, cos p)`` and at Onset pan ``q`` along ``(cos q, sin q)``, hence

    onset_pan = 90 deg - freed_pan        freed_pan = 90 deg - onset_pan   (wrapped to (-180, 180])

Not merely ``-freed_pan``: that would hold only if pan 0 looked along X. Tilt and roll have the
same sense in both conventions and pass unchanged. The whole mapping lives in
:func:`telemetry_from_pose` / :func:`pose_from_telemetry` and the helpers they share.
"""

from __future__ import annotations

import math
import numbers
from typing import Optional, Tuple

import numpy as np

from config.models import LensCalibrationConfig
from sensors.telemetry.errors import (
    FreedChecksumError,
    FreedFieldRangeError,
    FreedLengthError,
    FreedMessageTypeError,
)
from sensors.telemetry.lens import lens_from_raw, raw_from_lens
from sensors.telemetry.types import FreedD1
from sensors.vocabulary import (
    LensState,
    RigPose,
    matrix_to_quat,
    pan_tilt_roll_from_rotation,
    quat_to_matrix,
    rotation_from_pan_tilt_roll,
)

__all__ = [
    "FreedD1",
    "D1_MESSAGE_TYPE",
    "D1_PACKET_BYTES",
    "ANGLE_UNITS_PER_DEG",
    "POSITION_UNITS_PER_MM",
    "COUNTER_MODULUS",
    "d1_checksum",
    "encode_d1",
    "decode_d1",
    "onset_angles_from_freed",
    "freed_angles_from_onset",
    "rig_pose",
    "position_m_from_freed",
    "telemetry_from_pose",
    "pose_from_telemetry",
]

D1_MESSAGE_TYPE = 0xD1
D1_PACKET_BYTES = 29
ANGLE_UNITS_PER_DEG = 32768  # 15 fractional bits
POSITION_UNITS_PER_MM = 64  # 6 fractional bits
COUNTER_MODULUS = 1 << 16  # the two spare bytes
_CHECKSUM_BASE = 0x40
_S24_MIN, _S24_MAX = -(1 << 23), (1 << 23) - 1
_U24_MAX = (1 << 24) - 1


def d1_checksum(body: bytes) -> int:
    """FreeD checksum of ``body`` (every byte before the checksum): (0x40 - sum) mod 256."""
    return (_CHECKSUM_BASE - sum(body)) & 0xFF


def _fixed_point(field: str, value: float, units_per: int, unit: str) -> int:
    """Signed 24-bit fixed-point count of ``value`` (rounded to the nearest unit)."""
    low, high = _S24_MIN / units_per, _S24_MAX / units_per
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise FreedFieldRangeError(field, value, low, high, unit)
    number = float(value)
    if not math.isfinite(number):
        raise FreedFieldRangeError(field, value, low, high, unit)
    count = round(number * units_per)
    if not _S24_MIN <= count <= _S24_MAX:
        raise FreedFieldRangeError(field, value, low, high, unit)
    return count


def _unsigned(field: str, value: int, high: int) -> int:
    """An integer field in 0..high; bools and non-integers are refused, not coerced."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= int(value) <= high:
        raise FreedFieldRangeError(field, value, 0, high)
    return int(value)


def encode_d1(packet: FreedD1) -> bytes:
    """The 29 wire bytes of ``packet``; a value a field cannot carry raises FreedFieldRangeError."""
    body = bytearray((D1_MESSAGE_TYPE, _unsigned("camera_id", packet.camera_id, 0xFF)))
    for field in ("pan_deg", "tilt_deg", "roll_deg"):
        body += _fixed_point(field, getattr(packet, field), ANGLE_UNITS_PER_DEG, "deg").to_bytes(3, "big", signed=True)
    for field in ("x_mm", "y_mm", "z_mm"):
        body += _fixed_point(field, getattr(packet, field), POSITION_UNITS_PER_MM, "mm").to_bytes(3, "big", signed=True)
    body += _unsigned("zoom_raw", packet.zoom_raw, _U24_MAX).to_bytes(3, "big")
    body += _unsigned("focus_raw", packet.focus_raw, _U24_MAX).to_bytes(3, "big")
    body += _unsigned("spare", packet.spare, COUNTER_MODULUS - 1).to_bytes(2, "big")
    body.append(d1_checksum(body))
    return bytes(body)


def _s24(buf: bytes, at: int) -> int:
    return int.from_bytes(buf[at : at + 3], "big", signed=True)


def _u24(buf: bytes, at: int) -> int:
    return int.from_bytes(buf[at : at + 3], "big")


def decode_d1(data: bytes) -> FreedD1:
    """Parse one D1 packet (bytes-like). Checks, in order: length, message type, checksum.

    Raises FreedLengthError, FreedMessageTypeError or FreedChecksumError (all
    ``sensors.errors.DecodeError``) carrying what was received.
    """
    buf = bytes(memoryview(data))
    if len(buf) != D1_PACKET_BYTES:
        raise FreedLengthError(len(buf), D1_PACKET_BYTES)
    if buf[0] != D1_MESSAGE_TYPE:
        raise FreedMessageTypeError(buf[0], D1_MESSAGE_TYPE)
    computed = d1_checksum(buf[:-1])
    if buf[-1] != computed:
        raise FreedChecksumError(buf[-1], computed)
    return FreedD1(
        camera_id=buf[1],
        pan_deg=_s24(buf, 2) / ANGLE_UNITS_PER_DEG,
        tilt_deg=_s24(buf, 5) / ANGLE_UNITS_PER_DEG,
        roll_deg=_s24(buf, 8) / ANGLE_UNITS_PER_DEG,
        x_mm=_s24(buf, 11) / POSITION_UNITS_PER_MM,
        y_mm=_s24(buf, 14) / POSITION_UNITS_PER_MM,
        z_mm=_s24(buf, 17) / POSITION_UNITS_PER_MM,
        zoom_raw=_u24(buf, 20),
        focus_raw=_u24(buf, 23),
        spare=int.from_bytes(buf[26:28], "big"),
    )


def _wrap_deg(angle_deg: float) -> float:
    """Angle in (-180, 180]."""
    wrapped = math.fmod(angle_deg + 180.0, 360.0)
    if wrapped <= 0.0:
        wrapped += 360.0
    return wrapped - 180.0


# The sign/offset conventions, defined once (see the module docstring).
def onset_angles_from_freed(pan_deg: float, tilt_deg: float, roll_deg: float) -> Tuple[float, float, float]:
    """FreeD (pan, tilt, roll) in degrees -> Onset's (pan, tilt, roll) in degrees."""
    return _wrap_deg(90.0 - pan_deg), tilt_deg, roll_deg


def freed_angles_from_onset(pan_deg: float, tilt_deg: float, roll_deg: float) -> Tuple[float, float, float]:
    """Onset's (pan, tilt, roll) in degrees -> FreeD (pan, tilt, roll) in degrees (pan in (-180, 180])."""
    return _wrap_deg(90.0 - pan_deg), tilt_deg, roll_deg


def rig_pose(t_ns: int, position_m: np.ndarray, pan_deg: float, tilt_deg: float, roll_deg: float) -> RigPose:
    """``T_stage_rig`` from a stage position (m) and Onset pan/tilt/roll (deg)."""
    R = rotation_from_pan_tilt_roll(pan_deg, tilt_deg, roll_deg)
    return RigPose(t_ns=int(t_ns), position_m=np.asarray(position_m, dtype=float), orientation_xyzw=matrix_to_quat(R))


def telemetry_from_pose(
    pose: RigPose,
    lens: LensState,
    calibration: LensCalibrationConfig,
    camera_id: int = 1,
    spare: int = 0,
) -> FreedD1:
    """The D1 fields a tracking system reports for the rig at ``pose`` with ``lens``.

    Position m -> mm on the shared axes, angles through :func:`freed_angles_from_onset`, lens
    through the calibration's inverse (nearest encoder counts, clamped to the table).
    """
    onset = pan_tilt_roll_from_rotation(quat_to_matrix(pose.orientation_xyzw))
    pan, tilt, roll = freed_angles_from_onset(*onset)
    x_m, y_m, z_m = (float(v) for v in np.asarray(pose.position_m, dtype=float).reshape(3))
    zoom_raw, focus_raw = raw_from_lens(lens, calibration)
    return FreedD1(
        camera_id=camera_id,
        pan_deg=pan,
        tilt_deg=tilt,
        roll_deg=roll,
        x_mm=x_m * 1000.0,
        y_mm=y_m * 1000.0,
        z_mm=z_m * 1000.0,
        zoom_raw=zoom_raw,
        focus_raw=focus_raw,
        spare=spare,
    )


def position_m_from_freed(packet: FreedD1) -> np.ndarray:
    """Stage position (3,) in metres of a D1 packet's X/Y/Z (mm)."""
    return np.array([packet.x_mm, packet.y_mm, packet.z_mm], dtype=float) / 1000.0


def pose_from_telemetry(
    packet: FreedD1,
    calibration: LensCalibrationConfig,
    t_ns: int = 0,
    t_stop: Optional[float] = None,
) -> Tuple[RigPose, LensState]:
    """Inverse of :func:`telemetry_from_pose`: the rig pose (stamped ``t_ns``) and lens state.

    FreeD carries no iris, so ``t_stop`` is passed through.
    """
    pan, tilt, roll = onset_angles_from_freed(packet.pan_deg, packet.tilt_deg, packet.roll_deg)
    pose = rig_pose(t_ns, position_m_from_freed(packet), pan, tilt, roll)
    return pose, lens_from_raw(packet.zoom_raw, packet.focus_raw, calibration, t_stop=t_stop)
