"""Master-clock nanoseconds <-> ``builtin_interfaces/Time`` and ``std_msgs/Header``, exactly (no float)."""

from __future__ import annotations

import array

import numpy as np

from edge.ros.errors import RosMessageError, RosUnavailableError, StampRangeError
from sensors.vocabulary import NS_PER_S

try:
    from builtin_interfaces.msg import Time
    from std_msgs.msg import Header
except ImportError as err:  # pragma: no cover - exercised only where the message packages are missing
    raise RosUnavailableError(getattr(err, "name", None) or "builtin_interfaces") from err

__all__ = ["as_ns", "time_to_msg", "time_from_msg", "header", "bytes_into_msg"]

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def as_ns(value: int, name: str) -> int:
    """An integer (Python or numpy) as ``int``; floats and bools are a TypeError (time is never a float here)."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an int of nanoseconds, got {value!r}")
    return int(value.__index__())


def time_to_msg(t_ns: int) -> Time:
    """``builtin_interfaces/Time`` of master time ``t_ns``: floor seconds and 0..999 999 999 ns."""
    sec, nanosec = divmod(as_ns(t_ns, "t_ns"), NS_PER_S)
    if not _INT32_MIN <= sec <= _INT32_MAX:
        raise StampRangeError(f"t_ns={t_ns} is {sec} s, outside the int32 seconds of builtin_interfaces/Time")
    return Time(sec=sec, nanosec=nanosec)


def time_from_msg(msg: Time) -> int:
    """Nanoseconds of a ``builtin_interfaces/Time``; a nanosec field of 1 s or more is malformed."""
    if not 0 <= msg.nanosec < NS_PER_S:
        raise RosMessageError(f"time nanosec={msg.nanosec} out of range 0..999999999")
    return int(msg.sec) * NS_PER_S + int(msg.nanosec)


def header(t_ns: int, frame_id: str) -> Header:
    """``std_msgs/Header`` stamped with master time ``t_ns`` in ``frame_id``."""
    return Header(stamp=time_to_msg(t_ns), frame_id=frame_id)


def bytes_into_msg(buffer: np.ndarray) -> array.array:
    """One copy of a contiguous array's bytes into the ``array('B')`` a ``uint8[]`` field holds.

    Assign it to the field after constructing the message: Humble's setter keeps an array.array
    as is (no copy), while passing it to the constructor copies it again; lists would be checked
    element by element in Python. (Newer releases copy once more in the setter, a memcpy.)
    """
    data = array.array("B")
    data.frombytes(np.ascontiguousarray(buffer).reshape(-1).view(np.uint8))
    return data
