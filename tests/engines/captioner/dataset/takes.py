"""Takes of the simulated stage recorded in-process, as the edge node records them, for the dataset tests.

:func:`record_replay` plays a shot plan offline (:mod:`tests.harness.replay`: the sensors' sims
decoded by the real drivers) into a real :class:`edge.sync.Synchronizer` with a pinned clock, and
does with every sample what :class:`edge.node.EdgeNode` does: each camera frame, telemetry sample
and LiDAR sweep goes out stamped with its master time through the synchronizer's clock models
(``to_master_ns``), the telemetry's lens state beside its pose, every label verdict on the frame
timecode topic, camera info from the fused frames, ``/tf`` and ``/tf_static``. Those messages are
written with the node's topics and types (rosbags messages, CDR) through the project's
:class:`edge.recorder.TakeRecorder`, whose writer thread makes a take folder (bag + take.json).

One replay records several takes at once (:class:`Variant`): the same messages with some topics
left out (a take without the lens topic, without LiDAR, without telemetry) and another slate.
Camera frames carry a seeded pattern (:func:`painted_rgb`) instead of black, so that lossless
storage can be checked. The replay's own fused frames come back too: what the live node fused,
to score the builder's re-fusion against. The stage's truth never reaches a take.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from config.models import RigConfig
from config.recorder import RecorderConfig
from edge.node.bag_tf import TF_MSGTYPE, tf_message
from edge.recorder import TakeRecorder
from edge.ros.lens import LENS_MSGTYPE, lens_to_json, lens_topic_beside
from edge.sync import Synchronizer
from sensors.timecode.smpte import timecode_to_ns
from sensors.vocabulary import (
    NS_PER_S,
    T_RIG_CAMERA_OPTICAL,
    FusedFrame,
    ImageFrame,
    LensState,
    PointCloud,
    RigPose,
    Timecode,
    matrix_to_quat,
    rotation_from_pan_tilt_roll,
)
from tests.harness.replay import EPOCH_NS, build_run, replay

__all__ = ["Variant", "Replayed", "record_replay", "painted_rgb", "node_messages", "CLOUD_DTYPE"]

#: The node's PointCloud2 layout (edge/ros/clouds.py): XYZIRT, little endian, 22 bytes a point.
CLOUD_DTYPE = np.dtype({"names": ["x", "y", "z", "intensity", "ring", "time"],
                        "formats": ["<f4", "<f4", "<f4", "<f4", "<u2", "<f4"],
                        "offsets": [0, 4, 8, 12, 16, 18], "itemsize": 22})
_FLOAT32, _UINT16 = 7, 4  # sensor_msgs/PointField datatypes
#: The node publishes a LiDAR sweep per revolution; slices are gathered into sweeps this long.
_SWEEP_NS = NS_PER_S // 10
#: Camera info goes out with the first fused frame and every this many frames (edge/node/app.py).
_CAMERA_INFO_EVERY = 24


@dataclass(frozen=True)
class Variant:
    """One take of a replay: its slate and the topics left out of it."""

    scene: str
    shot: str = "1"
    take: int = 1
    omit: frozenset = frozenset()


@dataclass
class Replayed:
    """What one replay recorded: ``takes`` (variant -> take folder), the synchronizer's fused frames
    (what the live node fused), the rig, and the camera index of every frame written, in order (its
    picture is :meth:`image`)."""

    rig: RigConfig
    takes: Dict[Variant, Path]
    fused: List[FusedFrame]
    camera_indices: List[int] = field(default_factory=list)
    topics: Dict[str, str] = field(default_factory=dict)
    seed: int = 0
    #: Every telemetry sample written, in order: (its pose on the master clock, its focal length).
    telemetry: List[tuple] = field(default_factory=list)

    def image(self, position: int) -> np.ndarray:
        """The picture of the take's frame number ``position`` (0-based, in the order written)."""
        return painted_rgb(self.camera_indices[position], self.rig.camera.height_px, self.rig.camera.width_px,
                           self.seed)


@lru_cache(maxsize=4)
def _gradient(height_px: int, width_px: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    v, u = np.mgrid[0:height_px, 0:width_px]
    base = np.stack([u * 255 // max(width_px - 1, 1), v * 255 // max(height_px - 1, 1), u + v], axis=-1)
    return u, v, base


def painted_rgb(frame_index: int, height_px: int, width_px: int, seed: int = 0) -> np.ndarray:
    """A seeded (H, W, 3) uint8 picture for frame ``frame_index``: gradients, a moving bar and a
    patch of noise (every value 0..255 occurs; the noise keeps a lossy codec from passing)."""
    rng = np.random.default_rng([seed, frame_index])
    u, _, base = _gradient(height_px, width_px)
    picture = base.copy()
    picture[..., 2] = (picture[..., 2] + 7 * frame_index) % 256
    picture[np.abs(u - (13 * frame_index) % width_px) < 6] = (250, 240, 10)
    h, w = min(48, height_px), min(64, width_px)
    picture[:h, :w] = rng.integers(0, 256, (h, w, 3))
    return picture.astype(np.uint8)


def _time(types, t_ns: int):
    sec, nanosec = divmod(int(t_ns), NS_PER_S)
    return types.message_class("builtin_interfaces/msg/Time")(sec=sec, nanosec=nanosec)


def _header(types, t_ns: int, frame_id: str):
    return types.message_class("std_msgs/msg/Header")(stamp=_time(types, t_ns), frame_id=frame_id)


class _Messages:
    """The node's conversions (edge/ros/messages.py, edge/ros/clouds.py) as rosbags messages."""

    def __init__(self, types, rig: RigConfig) -> None:
        self.types, self.ros = types, rig.ros_config()
        self.T = types.message_class

    def image(self, rgb: np.ndarray, stamp_ns: int):
        h, w = rgb.shape[:2]
        return self.T("sensor_msgs/msg/Image")(header=_header(self.types, stamp_ns, self.ros.camera_frame), height=h,
                                               width=w, encoding="rgb8", is_bigendian=0, step=3 * w,
                                               data=np.ascontiguousarray(rgb).reshape(-1))

    def camera_info(self, K: np.ndarray, distortion, width_px: int, height_px: int, stamp_ns: int):
        K = np.asarray(K, dtype=np.float64)
        roi = self.T("sensor_msgs/msg/RegionOfInterest")(x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
        return self.T("sensor_msgs/msg/CameraInfo")(
            header=_header(self.types, stamp_ns, self.ros.camera_frame), height=int(height_px), width=int(width_px),
            distortion_model="plumb_bob", d=np.asarray(distortion, dtype=np.float64), k=K.reshape(9).copy(),
            r=np.eye(3).reshape(9), p=np.hstack([K, np.zeros((3, 1))]).reshape(12), binning_x=0, binning_y=0, roi=roi)

    def cloud(self, xyz: np.ndarray, intensity: np.ndarray, ring: np.ndarray, point_t_ns: np.ndarray):
        stamp = int(point_t_ns[0])
        points = np.zeros(len(xyz), dtype=CLOUD_DTYPE)
        points["x"], points["y"], points["z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
        points["intensity"], points["ring"] = intensity, ring
        points["time"] = ((point_t_ns - stamp) / NS_PER_S).astype(np.float32)
        PF = self.T("sensor_msgs/msg/PointField")
        fields = [PF(name=n, offset=o, datatype=d, count=1) for n, o, d in
                  (("x", 0, _FLOAT32), ("y", 4, _FLOAT32), ("z", 8, _FLOAT32), ("intensity", 12, _FLOAT32),
                   ("ring", 16, _UINT16), ("time", 18, _FLOAT32))]
        return self.T("sensor_msgs/msg/PointCloud2")(
            header=_header(self.types, stamp, self.ros.lidar_frame), height=1, width=len(points), fields=fields,
            is_bigendian=False, point_step=22, row_step=22 * len(points),
            data=np.frombuffer(points.tobytes(), dtype=np.uint8), is_dense=True)

    def pose(self, pose: RigPose):
        T = self.T
        x, y, z = (float(v) for v in pose.position_m)
        qx, qy, qz, qw = (float(v) for v in pose.orientation_xyzw)
        return T("geometry_msgs/msg/TransformStamped")(
            header=_header(self.types, pose.t_ns, self.ros.stage_frame), child_frame_id=self.ros.rig_frame,
            transform=T("geometry_msgs/msg/Transform")(translation=T("geometry_msgs/msg/Vector3")(x=x, y=y, z=z),
                                                       rotation=T("geometry_msgs/msg/Quaternion")(x=qx, y=qy, z=qz,
                                                                                                 w=qw)))

    def timecode(self, tc: Timecode, stamp_ns: int, origin: str):
        ref_ns = timecode_to_ns(tc)
        return self.T("sensor_msgs/msg/TimeReference")(header=_header(self.types, stamp_ns, ""),
                                                       time_ref=_time(self.types, ref_ns),
                                                       source=f"{origin} {tc} @{tc.rate.label}")

    def lens(self, lens: LensState, t_ns: int, zoom_raw: int, focus_raw: int):
        return self.T(LENS_MSGTYPE)(data=lens_to_json(lens, t_ns, zoom_raw, focus_raw))


def node_messages(types, rig: RigConfig) -> _Messages:
    """The node's message conversions for ``rig``, as rosbags messages of ``types`` (a recorder's typestore)."""
    return _Messages(types, rig)


class _Clock:
    """The recorders' master clock: the replay's time."""

    def __init__(self, t_ns: int) -> None:
        self.t_ns = int(t_ns)

    def __call__(self) -> int:
        return self.t_ns


def record_replay(
    rig: RigConfig,
    stage,
    takes_dir: Path,
    variants: Sequence[Variant],
    seconds: float,
    *,
    seed: int = 2,
    start_s: float = 0.0,
) -> Replayed:
    """Replay ``rig`` on ``stage`` over plan time ``[start_s, start_s + seconds)`` and record it as
    one take per variant in ``takes_dir`` (module docstring). Raises if a recorder dropped anything."""
    start_ns = EPOCH_NS + int(start_s * NS_PER_S)
    end_ns = start_ns + int(seconds * NS_PER_S)
    run = build_run(rig, stage, start_ns, end_ns, seed=seed, packet_stamps=True, lidar_slices=True)
    clock = _Clock(start_ns)
    config = RecorderConfig(takes_dir=Path(takes_dir), min_free_bytes=0, reserve_bytes=0, fsync_interval_s=60.0,
                            queue_max_messages=1_000_000, queue_max_bytes=4 << 30)
    recorders = [(v, TakeRecorder(config, rig, clock_ns=clock)) for v in variants]
    types = recorders[0][1].types
    msgs = _Messages(types, rig)
    ros = msgs.ros
    topics = {"image": ros.image_topic, "camera_info": ros.camera_info_topic, "lidar": ros.lidar_topic,
              "pose": ros.pose_topic, "lens": lens_topic_beside(ros.pose_topic), "timecode": ros.timecode_topic,
              "frame_timecode": ros.frame_timecode_topic, "tf": ros.tf_topic, "tf_static": ros.tf_static_topic}
    camera, lidar = rig.camera.name, rig.lidars[0].name
    out = Replayed(rig, {}, [], [], topics, seed)
    pending_sweep: List[Tuple[PointCloud, np.ndarray]] = []

    def write(topic_key: str, msgtype: str, msg, log_ns: int) -> None:
        topic = topics[topic_key]
        for variant, recorder in recorders:
            if topic_key not in variant.omit:
                recorder.write_message(topic, msgtype, msg, int(log_ns))

    def master(sensor: str, sensor_ns, fallback):
        value = sync.to_master_ns(sensor, sensor_ns)
        return fallback if value is None else value

    def on_fused(frame: FusedFrame) -> None:
        out.fused.append(frame)
        if len(out.fused) == 1 or frame.frame_index % _CAMERA_INFO_EVERY == 0:
            msg = msgs.camera_info(frame.K, frame.distortion, frame.rgb.shape[1], frame.rgb.shape[0], frame.t_ns)
            write("camera_info", "sensor_msgs/msg/CameraInfo", msg, clock.t_ns)

    def on_label(check) -> None:
        if check.label is not None:
            write("frame_timecode", "sensor_msgs/msg/TimeReference",
                  msgs.timecode(check.label, check.t_ns, check.outcome.value), clock.t_ns)

    def flush_sweep(log_ns: int) -> None:
        if not pending_sweep:
            return
        clouds = [c for c, _ in pending_sweep]
        point_t = np.concatenate([t for _, t in pending_sweep])
        msg = msgs.cloud(np.concatenate([c.xyz_m for c in clouds]), np.concatenate([c.intensity for c in clouds]),
                         np.concatenate([c.ring for c in clouds]), point_t)
        write("lidar", "sensor_msgs/msg/PointCloud2", msg, log_ns)
        pending_sweep.clear()

    def after_feed(event, accepted: bool) -> None:
        clock.t_ns = int(event.host_ns)
        if event.kind == "frame":
            frame: ImageFrame = event.item
            stamp = int(master(camera, frame.exposure_mid.sensor_ns, frame.exposure_mid.host_ns))
            rgb = painted_rgb(frame.frame_index, rig.camera.height_px, rig.camera.width_px, seed)
            out.camera_indices.append(frame.frame_index)
            write("image", "sensor_msgs/msg/Image", msgs.image(rgb, stamp), event.host_ns)
        elif event.kind == "telemetry":
            sample = event.item
            t_ns = int(master(event.sensor, sample.stamp.sensor_ns, sample.stamp.host_ns))
            pose = RigPose(t_ns, np.asarray(sample.position_m, dtype=float), matrix_to_quat(
                rotation_from_pan_tilt_roll(sample.pan_deg, sample.tilt_deg, sample.roll_deg)))
            write("pose", "geometry_msgs/msg/TransformStamped", msgs.pose(pose), event.host_ns)
            out.telemetry.append((pose, None if sample.lens is None else float(sample.lens.focal_length_mm)))
            if sample.lens is not None:
                write("lens", LENS_MSGTYPE, msgs.lens(sample.lens, t_ns, sample.zoom_raw, sample.focus_raw),
                      event.host_ns)
            write("tf", TF_MSGTYPE, tf_message(types, [(pose.matrix(), t_ns, ros.stage_frame, ros.rig_frame)]),
                  event.host_ns)
        elif event.kind == "cloud" and event.sensor == lidar and len(event.item):
            point_t = sync.to_master_ns(lidar, event.item.t_ns)
            if point_t is None:
                return  # the node publishes no points before the LiDAR's clock has a fit
            pending_sweep.append((event.item, np.asarray(point_t, dtype=np.int64)))
            if int(point_t[-1]) - int(pending_sweep[0][1][0]) >= _SWEEP_NS:
                flush_sweep(event.host_ns)
        elif event.kind == "timecode":
            sample = event.item
            write("timecode", "sensor_msgs/msg/TimeReference", msgs.timecode(sample.timecode, sample.stamp.host_ns,
                                                                             ros.timecode_source), event.host_ns)

    sync = Synchronizer(rig, on_fused, clock_ns=lambda: clock.t_ns, config=rig.sync, on_label=on_label)
    first_ns = int(run.events[0].host_ns) if run.events else start_ns
    clock.t_ns = first_ns
    for variant, recorder in recorders:
        recorder.start(variant.scene, variant.shot, variant.take, tc_in=None)
    mounts = [(T_RIG_CAMERA_OPTICAL, first_ns, ros.rig_frame, ros.camera_frame),
              (rig.lidars[0].mount.matrix(), first_ns, ros.rig_frame, ros.lidar_frame)]
    write("tf_static", TF_MSGTYPE, tf_message(types, mounts), first_ns)
    replay(sync, run.events, after_feed, until_ns=end_ns + NS_PER_S)
    flush_sweep(clock.t_ns)
    for variant, recorder in recorders:
        info = recorder.stop(tc_out=None)
        dropped = {k: v for k, v in info.dropped.items() if v}
        if dropped or info.status != "complete":
            raise RuntimeError(f"take {info.name} ({variant}) did not record cleanly: {info.status}, dropped {dropped}")
        out.takes[variant] = Path(info.path)
        recorder.close()
    return out
