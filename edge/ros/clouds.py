"""PointCloud <-> ``sensor_msgs/PointCloud2``, with per-point time and ring.

Written clouds use velodyne_pointcloud's XYZIRT layout, packed little-endian, 22 bytes a point:

- ``x, y, z`` float32 at 0/4/8: metres in ``header.frame_id`` (the LiDAR frame);
- ``intensity`` float32 at 12: return strength as the sensor reports it;
- ``ring`` uint16 at 16: laser index sorted by elevation;
- ``time`` float32 at 18: seconds of the point's master time after ``header.stamp``.

``header.stamp`` is the sweep's stamp on the master clock; per-point offsets are relative to it
(velodyne_pointcloud's convention; float32 keeps ~4 ns resolution over a 0.1 s sweep).

Read clouds may come from vendor drivers: the per-point time is either ``time`` (float32/float64
seconds, velodyne_pointcloud) or ``t`` (uint32/uint64 nanoseconds, ouster-ros), both relative to
``header.stamp``. Field offsets, ``point_step``, ``row_step`` padding and ``is_bigendian`` are
honoured; ``intensity`` and ``ring`` are optional (zeros when absent). Points without a return
(non-finite xyz, REP-117; or exactly 0,0,0, ouster-ros' organized clouds) are dropped.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple, Union

import numpy as np

from config.ros import LidarTimeField
from edge.ros.errors import CloudLayoutError, RosUnavailableError
from edge.ros.stamps import as_ns, bytes_into_msg, header, time_from_msg
from sensors.vocabulary import NS_PER_S, PointCloud, Stamp

try:
    from sensor_msgs.msg import PointCloud2, PointField
except ImportError as err:  # pragma: no cover - exercised only where sensor_msgs is missing
    raise RosUnavailableError("sensor_msgs") from err

__all__ = ["CLOUD_DTYPE", "MAX_CLOUD_POINTS", "MAX_POINT_OFFSET_S", "cloud_to_msg", "cloud_from_msg"]

#: The written layout (velodyne_pointcloud XYZIRT), little-endian, 22 bytes a point.
CLOUD_DTYPE = np.dtype(
    {
        "names": ["x", "y", "z", "intensity", "ring", "time"],
        "formats": ["<f4", "<f4", "<f4", "<f4", "<u2", "<f4"],
        "offsets": [0, 4, 8, 12, 16, 18],
        "itemsize": 22,
    }
)
_POINTFIELD_TYPES = {
    PointField.INT8: "i1",
    PointField.UINT8: "u1",
    PointField.INT16: "i2",
    PointField.UINT16: "u2",
    PointField.INT32: "i4",
    PointField.UINT32: "u4",
    PointField.FLOAT32: "f4",
    PointField.FLOAT64: "f8",
}
_TYPE_OF_KIND = {kind: datatype for datatype, kind in _POINTFIELD_TYPES.items()}
#: A cloud with more points than this is refused (an OS1-128 at 2048 columns has 262 144).
MAX_CLOUD_POINTS = 4_000_000
#: Per-point offsets beyond this from the header stamp do not belong to one sweep.
MAX_POINT_OFFSET_S = 10.0

_FLOATS = ("f4", "f8")
_INTEGERS = ("i1", "u1", "i2", "u2", "i4", "u4")
_NUMBERS = _FLOATS + _INTEGERS
_TIME_KINDS = {LidarTimeField.TIME: _FLOATS, LidarTimeField.T: ("u4",)}


def cloud_to_msg(cloud: PointCloud, stamp_ns: int, point_t_ns: np.ndarray, frame_id: str) -> PointCloud2:
    """PointCloud2 (XYZIRT, see module doc) of ``cloud`` with per-point master times ``point_t_ns``.

    ``stamp_ns`` (master) goes into ``header.stamp``; each point's ``time`` is
    ``(point_t_ns - stamp_ns) / 1e9`` as float32. ``cloud.t_ns`` (sensor clock) is not written:
    on the graph every time is master time.
    """
    stamp_ns = as_ns(stamp_ns, "stamp_ns")
    n = len(cloud)
    point_t_ns = np.asarray(point_t_ns)
    if point_t_ns.shape != (n,) or not np.issubdtype(point_t_ns.dtype, np.integer):
        raise ValueError(f"point_t_ns must be ({n},) integer ns, got {point_t_ns.shape} {point_t_ns.dtype}")
    points = np.empty(n, dtype=CLOUD_DTYPE)
    xyz = np.asarray(cloud.xyz_m)
    points["x"], points["y"], points["z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    points["intensity"] = cloud.intensity
    points["ring"] = cloud.ring
    # Integer difference first (exact), then one rounding to float32 seconds.
    points["time"] = (point_t_ns.astype(np.int64) - stamp_ns) / NS_PER_S
    fields = [
        PointField(name=name, offset=CLOUD_DTYPE.fields[name][1], datatype=_TYPE_OF_KIND[CLOUD_DTYPE.fields[name][0].str[1:]], count=1)
        for name in CLOUD_DTYPE.names
    ]
    msg = PointCloud2(
        header=header(stamp_ns, frame_id),
        height=1,
        width=n,
        fields=fields,
        is_bigendian=False,
        point_step=CLOUD_DTYPE.itemsize,
        row_step=CLOUD_DTYPE.itemsize * n,
        is_dense=bool(np.isfinite(xyz).all()),
    )
    msg.data = bytes_into_msg(points.view(np.uint8))  # after construction: the constructor would copy again
    return msg


def _layout(msg: PointCloud2) -> Dict[str, Tuple[int, str, int]]:
    """name -> (offset, numpy kind, count) of every field; duplicates and unknown types are errors."""
    fields: Dict[str, Tuple[int, str, int]] = {}
    for f in msg.fields:
        if f.name in fields:
            raise CloudLayoutError(f"point field {f.name!r} appears twice")
        kind = _POINTFIELD_TYPES.get(f.datatype)
        if kind is None:
            raise CloudLayoutError(f"point field {f.name!r} has unknown datatype {f.datatype}")
        fields[f.name] = (int(f.offset), kind, int(f.count))
    return fields


def _pick(
    fields: Dict[str, Tuple[int, str, int]], name: str, allowed: Tuple[str, ...], point_step: int, required: bool
) -> Optional[Tuple[int, str]]:
    if name not in fields:
        if required:
            raise CloudLayoutError(f"point cloud has no {name!r} field (fields: {sorted(fields)})")
        return None
    offset, kind, count = fields[name]
    if kind not in allowed:
        raise CloudLayoutError(f"point field {name!r} is {kind}, expected one of {allowed}")
    if count != 1:
        raise CloudLayoutError(f"point field {name!r} has count {count}, expected 1")
    if offset + np.dtype(kind).itemsize > point_step:
        raise CloudLayoutError(f"point field {name!r} at offset {offset} ({kind}) overruns point_step {point_step}")
    return offset, kind


def cloud_from_msg(
    msg: PointCloud2,
    time_field: Union[LidarTimeField, str],
    recv_ns: int,
    *,
    max_points: int = MAX_CLOUD_POINTS,
) -> PointCloud:
    """PointCloud of a PointCloud2 whose per-point time is ``time_field`` (see module doc).

    ``t_ns`` = header stamp + per-point offset, so it is on the publisher's clock (master time
    for Onset's own topic); ``stamp`` is ``Stamp(sensor_ns=header stamp, host_ns=recv_ns)``.
    Raises :class:`CloudLayoutError` for any layout that does not describe its bytes.
    """
    time_field = LidarTimeField(time_field)
    height, width, point_step, row_step = int(msg.height), int(msg.width), int(msg.point_step), int(msg.row_step)
    n = height * width
    if n > max_points:
        raise CloudLayoutError(f"point cloud of {width}x{height} = {n} points exceeds {max_points}")
    if n and point_step <= 0:
        raise CloudLayoutError(f"point_step {point_step} for {n} points")
    if row_step < width * point_step:
        raise CloudLayoutError(f"row_step {row_step} B shorter than width*point_step = {width}*{point_step}")
    raw = np.frombuffer(msg.data, dtype=np.uint8)
    if raw.size != row_step * height:
        raise CloudLayoutError(f"cloud data is {raw.size} B, expected row_step*height = {row_step}*{height}")
    if not msg.header.frame_id:
        raise CloudLayoutError("point cloud header.frame_id is empty: the points are in no known frame")
    stamp_ns = time_from_msg(msg.header.stamp)

    fields = _layout(msg)
    picks = {
        "x": _pick(fields, "x", _FLOATS, point_step, True),
        "y": _pick(fields, "y", _FLOATS, point_step, True),
        "z": _pick(fields, "z", _FLOATS, point_step, True),
        "time": _pick(fields, time_field.value, _TIME_KINDS[time_field], point_step, True),
        "intensity": _pick(fields, "intensity", _NUMBERS, point_step, False),
        "ring": _pick(fields, "ring", _INTEGERS, point_step, False),
    }
    present = {name: pick for name, pick in picks.items() if pick is not None}
    endian = ">" if msg.is_bigendian else "<"
    dtype = np.dtype(
        {
            "names": list(present),
            "formats": [endian + kind for _, kind in present.values()],
            "offsets": [offset for offset, _ in present.values()],
            "itemsize": max(point_step, 1),
        }
    )
    if row_step != width * point_step:  # padded rows: drop the padding (one copy)
        raw = np.ascontiguousarray(raw.reshape(height, row_step)[:, : width * point_step])
    points = raw.reshape(-1).view(dtype) if n else np.empty(0, dtype=dtype)

    # Hostile bytes may hold signalling NaNs or float64 beyond float32: those become NaN/inf and are
    # dropped or refused below, so numpy's cast warnings say nothing new.
    with np.errstate(invalid="ignore", over="ignore"):
        xyz = np.stack([points["x"], points["y"], points["z"]], axis=1).astype(np.float32)
        keep = np.isfinite(xyz).all(axis=1) & (xyz != 0.0).any(axis=1)
        offset = points["time"][keep]
        if time_field is LidarTimeField.TIME:
            offset_s = offset.astype(np.float64)
            if not np.isfinite(offset_s).all() or (offset_s.size and np.abs(offset_s).max() > MAX_POINT_OFFSET_S):
                raise CloudLayoutError(f"per-point 'time' not finite or beyond ±{MAX_POINT_OFFSET_S} s of the header stamp")
            offset_ns = np.rint(offset_s * NS_PER_S).astype(np.int64)
        else:
            offset_ns = offset.astype(np.int64)  # uint32 ns: at most 4.3 s, always within one sweep's reach
    ring = np.zeros(int(keep.sum()), dtype=np.uint16)
    if "ring" in present:
        ring_raw = points["ring"][keep].astype(np.int64)
        if ring_raw.size and (ring_raw.min() < 0 or ring_raw.max() > np.iinfo(np.uint16).max):
            raise CloudLayoutError(f"ring values outside 0..65535: {ring_raw.min()}..{ring_raw.max()}")
        ring = ring_raw.astype(np.uint16)
    intensity = np.zeros(ring.size, np.float32)
    if "intensity" in present:
        with np.errstate(invalid="ignore", over="ignore"):
            intensity = points["intensity"][keep].astype(np.float32)
        if not np.isfinite(intensity).all():
            raise CloudLayoutError("intensity values not finite as float32")
    return PointCloud(
        xyz_m=np.ascontiguousarray(xyz[keep]),
        intensity=intensity,
        ring=ring,
        t_ns=stamp_ns + offset_ns,
        stamp=Stamp(sensor_ns=stamp_ns, host_ns=as_ns(recv_ns, "recv_ns")),
        frame_id=msg.header.frame_id,
    )
