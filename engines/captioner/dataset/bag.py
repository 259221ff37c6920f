"""Reading a take's bag with rosbags: the tracks first, then frames and LiDAR sweeps in order.

The bag is read twice, both times with ``rosbags.highlevel.AnyReader`` (the message definitions
come from the bag's own MCAP schemas), so no ROS 2 installation is needed:

1. :func:`read_tracks`: everything small, whole: rig poses (``geometry_msgs/TransformStamped`` on
   the pose topic; where a take has none, the ``stage -> rig`` transforms on ``/tf``), lens
   readings (the lens topic's JSON, ``edge/ros/lens.py``), each frame's verified timecode label
   (``sensor_msgs/TimeReference`` on the frame timecode topic, source ``"<verdict> HH:MM:SS:FF
   @rate"``), camera infos, the static transforms, and the message count of every topic;
2. :func:`iter_frames_and_sweeps`: camera frames (``sensor_msgs/Image``) and LiDAR sweeps
   (``sensor_msgs/PointCloud2``) in the bag's log-time order, one at a time, so a long take never
   sits in memory.

Every stamp is master-clock ns as the node wrote it. LiDAR points carry their own time: ``time``
(float32/64 s after the header stamp, Onset's and velodyne_pointcloud's layout) or ``t`` (uint32 ns,
ouster-ros); points without a return (non-finite, or exactly 0,0,0) are left out. A message that
does not decode is counted per topic with the first error (:attr:`TakeTracks.malformed`), never
turned into a value; a bag that cannot be opened at all is a :class:`BagReadError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Tuple, Union

import numpy as np

from edge.ros.errors import RosMessageError
from edge.ros.lens import lens_from_json
from engines.captioner.dataset.errors import BagReadError
from engines.captioner.dataset.source import TakeSource
from sensors.timecode.smpte import parse_timecode
from sensors.vocabulary import NS_PER_S, FrameRate, Timecode, quat_to_matrix

__all__ = [
    "PoseSamples",
    "LensSamples",
    "FrameLabel",
    "CameraInfoSample",
    "TakeTracks",
    "CameraImage",
    "LidarSweep",
    "read_tracks",
    "iter_frames_and_sweeps",
    "image_rgb",
    "sweep_points",
]

# encoding -> (channels, the channels giving R, G, B; None: grey)
_ENCODINGS = {"rgb8": (3, (0, 1, 2)), "bgr8": (3, (2, 1, 0)), "rgba8": (4, (0, 1, 2)), "bgra8": (4, (2, 1, 0)),
              "mono8": (1, None)}
_POINTFIELD_KINDS = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 8: "f8"}
_SOURCE = re.compile(r"^(?P<verdict>\S+) (?P<label>\d{2}:\d{2}:\d{2}[:;]\d{2}) @(?P<rate>\S+)$")


class PoseSamples(NamedTuple):
    """Rig poses ``T_stage_rig``: ``t_ns`` (N,) int64 increasing, ``position_m`` (N,3), ``quat_xyzw`` (N,4)."""

    t_ns: np.ndarray
    position_m: np.ndarray
    quat_xyzw: np.ndarray


class LensSamples(NamedTuple):
    """Lens readings: ``t_ns`` (N,) int64 increasing, ``focal_length_mm``, ``focus_distance_m``,
    ``t_stop`` (N,) float (NaN: no iris reported)."""

    t_ns: np.ndarray
    focal_length_mm: np.ndarray
    focus_distance_m: np.ndarray
    t_stop: np.ndarray


class FrameLabel(NamedTuple):
    """A frame's timecode as the node verified it: stamped with the frame's exposure (master ns)."""

    t_ns: int
    timecode: Timecode
    verdict: str


class CameraInfoSample(NamedTuple):
    """One ``camera_info``: ``K`` (3,3), plumb_bob ``distortion`` (5,), image size (px)."""

    t_ns: int
    K: np.ndarray
    distortion: Tuple[float, float, float, float, float]
    width_px: int
    height_px: int


class CameraImage(NamedTuple):
    """One camera frame: exposure mid-time (master ns), (H, W, 3) uint8, log time in the bag."""

    t_ns: int
    rgb: np.ndarray
    log_ns: int


class LidarSweep(NamedTuple):
    """One LiDAR message's returns: ``xyz_m`` (N,3) float32 in its frame, ``t_ns`` (N,) int64 master."""

    xyz_m: np.ndarray
    t_ns: np.ndarray
    frame_id: str
    log_ns: int


@dataclass
class TakeTracks:
    """What :func:`read_tracks` found. ``poses``/``lens`` None: the take has no such topic (or no
    valid message on it); ``pose_source`` names the topic the poses came from."""

    poses: Optional[PoseSamples]
    lens: Optional[LensSamples]
    labels: List[FrameLabel]
    camera_infos: List[CameraInfoSample]
    static_transforms: Dict[Tuple[str, str], np.ndarray]
    topic_counts: Dict[str, int]
    pose_source: Optional[str] = None
    malformed: Dict[str, Tuple[int, str]] = field(default_factory=dict)

    def count_malformed(self, topic: str, err: Exception) -> None:
        n, first = self.malformed.get(topic, (0, f"{type(err).__name__}: {err}"))
        self.malformed[topic] = (n + 1, first)


def _stamp_ns(header: Any) -> int:
    nanosec = int(header.stamp.nanosec)
    if not 0 <= nanosec < NS_PER_S:
        raise RosMessageError(f"header stamp nanosec {nanosec} out of range")
    return int(header.stamp.sec) * NS_PER_S + nanosec


def image_rgb(msg: Any) -> np.ndarray:
    """The (H, W, 3) uint8 RGB of a ``sensor_msgs/Image`` (rgb8, bgr8, rgba8, bgra8, mono8; row padding
    honoured), or RosMessageError saying what does not add up."""
    layout = _ENCODINGS.get(str(msg.encoding))
    if layout is None:
        raise RosMessageError(f"image encoding {msg.encoding!r} is not one of {sorted(_ENCODINGS)}")
    channels, order = layout
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    data = np.asarray(msg.data, dtype=np.uint8).reshape(-1)
    if height <= 0 or width <= 0 or step < width * channels or data.size != step * height:
        raise RosMessageError(f"image {width}x{height} px, step {step} B does not match its {data.size} B of data")
    pixels = data.reshape(height, step)[:, :width * channels].reshape(height, width, channels)
    if order is None:
        return np.repeat(pixels, 3, axis=2)
    return np.ascontiguousarray(pixels[:, :, list(order)])


def sweep_points(msg: Any) -> Tuple[np.ndarray, np.ndarray]:
    """``(xyz_m (N,3) float32, t_ns (N,) int64 master)`` of a ``sensor_msgs/PointCloud2`` carrying a
    per-point ``time`` (s) or ``t`` (ns) after its header stamp (module docstring)."""
    fields = {str(f.name): (int(f.offset), _POINTFIELD_KINDS.get(int(f.datatype))) for f in msg.fields}
    for name in ("x", "y", "z"):
        if name not in fields or fields[name][1] not in ("f4", "f8"):
            raise RosMessageError(f"point cloud has no float field {name!r} (fields: {sorted(fields)})")
    if "time" in fields and fields["time"][1] in ("f4", "f8"):
        time_field, scale = "time", float(NS_PER_S)
    elif "t" in fields and fields["t"][1] in ("u4", "u8"):
        time_field, scale = "t", 1.0
    else:
        raise RosMessageError(f"point cloud has no per-point time ('time' s or 't' ns; fields: {sorted(fields)})")
    n = int(msg.width) * int(msg.height)
    step, row_step = int(msg.point_step), int(msg.row_step)
    data = np.asarray(msg.data, dtype=np.uint8).reshape(-1)
    width = int(msg.width)
    if n == 0:
        return np.zeros((0, 3), np.float32), np.zeros(0, np.int64)
    if step <= 0 or row_step < width * step or data.size < row_step * int(msg.height):
        raise RosMessageError(f"point cloud of {n} points, point_step {step}, row_step {row_step} does not fit "
                              f"its {data.size} B of data")
    rows = data[: row_step * int(msg.height)].reshape(int(msg.height), row_step)[:, : width * step]
    packed = np.ascontiguousarray(rows).reshape(n, step)
    order = ">" if bool(msg.is_bigendian) else "<"

    def column(name: str) -> np.ndarray:
        offset, kind = fields[name]
        size = np.dtype(kind).itemsize
        if offset + size > step:
            raise RosMessageError(f"point field {name!r} at offset {offset} overruns point_step {step}")
        return packed[:, offset:offset + size].copy().view(order + kind).reshape(n)

    xyz = np.stack([column("x"), column("y"), column("z")], axis=1).astype(np.float32)
    offsets = column(time_field).astype(np.float64) * scale
    keep = np.isfinite(xyz).all(axis=1) & np.any(xyz != 0.0, axis=1) & np.isfinite(offsets)
    t_ns = _stamp_ns(msg.header) + np.round(offsets[keep]).astype(np.int64)
    return xyz[keep], t_ns


def _pose(msg: Any, stage_frame: str, rig_frame: str) -> Optional[Tuple[int, np.ndarray, np.ndarray]]:
    """(t_ns, position, unit quaternion) of a stage -> rig transform; None for other frames."""
    if str(msg.header.frame_id) != stage_frame or str(msg.child_frame_id) != rig_frame:
        return None
    t, r = msg.transform.translation, msg.transform.rotation
    position = np.array([t.x, t.y, t.z], dtype=np.float64)
    q = np.array([r.x, r.y, r.z, r.w], dtype=np.float64)
    norm = float(np.linalg.norm(q))
    if not (np.isfinite(position).all() and np.isfinite(norm)) or abs(norm - 1.0) > 1e-3:
        raise RosMessageError(f"pose is not a rigid transform: translation {position}, |q| = {norm}")
    return _stamp_ns(msg.header), position, q / norm


def _frame_label(msg: Any) -> FrameLabel:
    match = _SOURCE.match(str(msg.source))
    if match is None:
        raise RosMessageError(f"frame timecode source {msg.source!r} is not '<verdict> HH:MM:SS:FF @<rate>'")
    try:
        tc = parse_timecode(match.group("label"), FrameRate.parse(match.group("rate")))
    except ValueError as err:
        raise RosMessageError(f"frame timecode source {msg.source!r}: {err}") from err
    return FrameLabel(_stamp_ns(msg.header), tc, match.group("verdict"))


def _camera_info(msg: Any) -> CameraInfoSample:
    K = np.asarray(msg.k, dtype=np.float64).reshape(3, 3)
    D = tuple(float(v) for v in np.asarray(msg.d, dtype=np.float64).reshape(-1))
    if str(msg.distortion_model) != "plumb_bob" or len(D) != 5:
        raise RosMessageError(f"camera info model {msg.distortion_model!r} with {len(D)} coefficients; "
                              "expected plumb_bob with 5")
    if not (np.isfinite(K).all() and np.isfinite(D).all()) or K[0, 0] <= 0 or K[1, 1] <= 0:
        raise RosMessageError("camera info K or D is not a usable calibration")
    return CameraInfoSample(_stamp_ns(msg.header), K, D, int(msg.width), int(msg.height))  # type: ignore[arg-type]


def _open(source: TakeSource):
    from rosbags.highlevel import AnyReader

    try:
        reader = AnyReader([source.bag_dir])
        reader.open()
    except Exception as err:  # rosbags raises its own errors, and OSError/KeyError on broken files
        closed = (source.bag_dir / "metadata.yaml").exists()
        hint = "" if closed else " (the take was not closed: run onset takes recover)"
        raise BagReadError(f"cannot read the bag of take {source.name} ({source.bag_dir}): {err}{hint}") from err
    return reader


def _messages(reader, connections, source: TakeSource):
    try:
        yield from reader.messages(connections=connections)
    except Exception as err:  # a chunk that does not read: the bag is damaged past this point
        raise BagReadError(f"the bag of take {source.name} stops being readable: {type(err).__name__}: {err}") from err


def _sorted_unique(t: np.ndarray) -> np.ndarray:
    """Indices that sort ``t`` and keep the first of equal times (tracks must increase strictly)."""
    order = np.argsort(t, kind="stable")
    keep = np.concatenate([[True], np.diff(t[order]) > 0]) if t.size else np.zeros(0, bool)
    return order[keep]


def read_tracks(source: TakeSource) -> TakeTracks:
    """The take's poses, lens readings, frame labels, camera infos and static transforms (module docstring)."""
    topics = source.topics
    reader = _open(source)
    try:
        counts: Dict[str, int] = {}
        for c in reader.connections:
            counts[c.topic] = counts.get(c.topic, 0) + int(c.msgcount)
        wanted = {topics.pose, topics.lens, topics.frame_timecode, topics.camera_info, topics.tf_static}
        if counts.get(topics.pose, 0) == 0:
            wanted.add(topics.tf)  # the rig pose is on /tf too
        connections = [c for c in reader.connections if c.topic in wanted]
        tracks = TakeTracks(None, None, [], [], {}, counts)
        poses: Dict[str, List[Tuple[int, np.ndarray, np.ndarray]]] = {topics.pose: [], topics.tf: []}
        lens_rows: List[Tuple[int, float, float, float]] = []
        for connection, _, raw in _messages(reader, connections, source):
            topic = connection.topic
            try:
                msg = reader.deserialize(raw, connection.msgtype)
                if topic == topics.pose:
                    pose = _pose(msg, topics.stage_frame, topics.rig_frame)
                    if pose is None:
                        raise RosMessageError(f"pose frames {msg.header.frame_id!r} -> {msg.child_frame_id!r}, "
                                              f"expected {topics.stage_frame!r} -> {topics.rig_frame!r}")
                    poses[topic].append(pose)
                elif topic == topics.lens:
                    reading = lens_from_json(str(msg.data))
                    t_stop = np.nan if reading.lens.t_stop is None else reading.lens.t_stop
                    lens_rows.append((reading.t_ns, reading.lens.focal_length_mm, reading.lens.focus_distance_m,
                                      t_stop))
                elif topic == topics.frame_timecode:
                    tracks.labels.append(_frame_label(msg))
                elif topic == topics.camera_info:
                    tracks.camera_infos.append(_camera_info(msg))
                elif topic in (topics.tf, topics.tf_static):
                    for transform in msg.transforms:
                        if topic == topics.tf:
                            pose = _pose(transform, topics.stage_frame, topics.rig_frame)
                            if pose is not None:
                                poses[topic].append(pose)
                        else:
                            t, r = transform.transform.translation, transform.transform.rotation
                            T = np.eye(4)
                            T[:3, :3] = quat_to_matrix(np.array([r.x, r.y, r.z, r.w], dtype=np.float64))
                            T[:3, 3] = (t.x, t.y, t.z)
                            tracks.static_transforms[(str(transform.header.frame_id),
                                                      str(transform.child_frame_id))] = T
            except Exception as err:  # noqa: BLE001 - a message that does not decode is counted, never a value
                tracks.count_malformed(topic, err)
    finally:
        reader.close()
    for topic in (topics.pose, topics.tf):
        rows = poses[topic]
        if rows:
            t = np.array([r[0] for r in rows], dtype=np.int64)
            keep = _sorted_unique(t)
            tracks.poses = PoseSamples(t[keep], np.array([r[1] for r in rows])[keep],
                                       np.array([r[2] for r in rows])[keep])
            tracks.pose_source = topic
            break
    if lens_rows:
        table = np.array(lens_rows, dtype=np.float64)
        t = np.array([r[0] for r in lens_rows], dtype=np.int64)
        keep = _sorted_unique(t)
        tracks.lens = LensSamples(t[keep], table[keep, 1], table[keep, 2], table[keep, 3])
    tracks.labels.sort(key=lambda label: label.t_ns)
    tracks.camera_infos.sort(key=lambda info: info.t_ns)
    return tracks


def iter_frames_and_sweeps(source: TakeSource, tracks: Optional[TakeTracks] = None
                           ) -> Iterator[Union[CameraImage, LidarSweep]]:
    """Camera frames and LiDAR sweeps of the take in log-time order (module docstring); a message
    that does not decode is counted in ``tracks.malformed`` when given, and skipped."""
    topics = source.topics
    reader = _open(source)
    try:
        connections = [c for c in reader.connections if c.topic in (topics.image, topics.lidar)]
        for connection, log_ns, raw in _messages(reader, connections, source):
            try:
                msg = reader.deserialize(raw, connection.msgtype)
                if connection.topic == topics.image:
                    item: Union[CameraImage, LidarSweep] = CameraImage(_stamp_ns(msg.header), image_rgb(msg),
                                                                       int(log_ns))
                else:
                    xyz, t_ns = sweep_points(msg)
                    item = LidarSweep(xyz, t_ns, str(msg.header.frame_id), int(log_ns))
            except Exception as err:  # noqa: BLE001 - a message that does not decode is counted, never a value
                if tracks is not None:
                    tracks.count_malformed(connection.topic, err)
                continue
            yield item
    finally:
        reader.close()
