"""Can the take recorder keep up with the stage, and what does the bag cost over writing the bytes?

One realistic mix, serialized to CDR once, beforehand: 640x360 RGB images at 24 fps with their
CameraInfo, a VLP-16-sized PointCloud2 (~29 k points, x/y/z/intensity/ring/time) at 10 Hz, rig
transforms at 100 Hz (TransformStamped and /tf), timecode at 24 Hz, diagnostics at 1 Hz.

1. **Baseline**: the same bytes, in the same order, written sequentially to one file and fsynced.
2. **Recorder**: ``TakeRecorder.write`` for every message as fast as the writer thread takes them
   (the producer waits while the queue is over half full, so nothing is dropped), then ``stop``
   (bag closed, fsynced, metadata written); once per MCAP compression.

Reported: MB/s and messages/s, the ratio to the baseline, the headroom over real time (recorder
MB/s over the mix's own rate) and the CPU the recorder spent per second of stage.

Run: ``make bench`` or ``.venv/bin/python -m benchmarks recorder [--seconds S] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import List, Tuple

import numpy as np

from edge.recorder import BagCompression, RecorderConfig, TakeRecorder
from edge.recorder.typestore import MessageTypes

EPOCH_NS = 1_800_000_000 * 1_000_000_000
WIDTH_PX, HEIGHT_PX, FPS = 640, 360, 24
LIDAR_POINTS, LIDAR_HZ, POSE_HZ = 28_800, 10, 100

Message = Tuple[int, str, str, bytes]  # (log time ns, topic, msgtype, CDR)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def build_mix(seconds: float, seed: int = 1) -> List[Message]:
    """The stage's messages for ``seconds``, CDR-serialized, in log-time order."""
    types = MessageTypes()
    T = types.store.types
    rng = np.random.default_rng(seed)

    def header(t_ns: int, frame: str):
        return T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=t_ns // 10**9, nanosec=t_ns % 10**9),
                                        frame_id=frame)

    # Footage-like frames (smooth gradients plus sensor noise), a few distinct ones reused.
    yy, xx = np.mgrid[0:HEIGHT_PX, 0:WIDTH_PX]
    frames = []
    for k in range(4):
        base = np.stack([(xx + 40 * k) % 256, (yy * 2 + 30 * k) % 256, (xx + yy) % 256], axis=-1)
        frames.append(np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8).ravel())
    PF = T["sensor_msgs/msg/PointField"]
    fields = [PF(name=n, offset=o, datatype=d, count=1) for n, o, d in
              (("x", 0, 7), ("y", 4, 7), ("z", 8, 7), ("intensity", 12, 7), ("ring", 16, 4), ("time", 18, 7))]
    clouds = [rng.integers(0, 256, LIDAR_POINTS * 22, dtype=np.uint8) for _ in range(3)]

    out: List[Message] = []
    span_ns = int(seconds * 1e9)
    for i in range(int(seconds * FPS)):
        t = EPOCH_NS + i * span_ns // int(seconds * FPS)
        image = T["sensor_msgs/msg/Image"](header=header(t, "camera_optical"), height=HEIGHT_PX, width=WIDTH_PX,
                                           encoding="rgb8", is_bigendian=0, step=WIDTH_PX * 3, data=frames[i % 4])
        info = T["sensor_msgs/msg/CameraInfo"](
            header=header(t, "camera_optical"), height=HEIGHT_PX, width=WIDTH_PX, distortion_model="plumb_bob",
            d=np.array([-0.05, 0.01, 0.0, 0.0, 0.0]), k=np.array([600.0, 0, 320, 0, 600, 180, 0, 0, 1]),
            r=np.eye(3).ravel(), p=np.array([600.0, 0, 320, 0, 0, 600, 180, 0, 0, 0, 1, 0]), binning_x=0,
            binning_y=0, roi=T["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0, width=0,
                                                                   do_rectify=False))
        tc = T["sensor_msgs/msg/TimeReference"](header=header(t, "camera_optical"),
                                                time_ref=T["builtin_interfaces/msg/Time"](sec=3600 + i // FPS,
                                                                                          nanosec=0),
                                                source="ltc")
        out += [(t, "/onset/camera/image_raw", "sensor_msgs/msg/Image",
                 types.serialize(image, "sensor_msgs/msg/Image")),
                (t, "/onset/camera/camera_info", "sensor_msgs/msg/CameraInfo",
                 types.serialize(info, "sensor_msgs/msg/CameraInfo")),
                (t, "/onset/timecode", "sensor_msgs/msg/TimeReference",
                 types.serialize(tc, "sensor_msgs/msg/TimeReference"))]
    for i in range(int(seconds * LIDAR_HZ)):
        t = EPOCH_NS + i * 10**9 // LIDAR_HZ + 3_000_000
        cloud = T["sensor_msgs/msg/PointCloud2"](header=header(t, "lidar"), height=1, width=LIDAR_POINTS, fields=fields,
                                                 is_bigendian=False, point_step=22, row_step=22 * LIDAR_POINTS,
                                                 data=clouds[i % 3], is_dense=True)
        out.append((t, "/onset/lidar/points", "sensor_msgs/msg/PointCloud2",
                    types.serialize(cloud, "sensor_msgs/msg/PointCloud2")))
    for i in range(int(seconds * POSE_HZ)):
        t = EPOCH_NS + i * 10**9 // POSE_HZ + 1_000_000
        tf = T["geometry_msgs/msg/TransformStamped"](
            header=header(t, "stage"), child_frame_id="rig",
            transform=T["geometry_msgs/msg/Transform"](
                translation=T["geometry_msgs/msg/Vector3"](x=i * 0.01, y=0.0, z=1.5),
                rotation=T["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0)))
        out += [(t, "/onset/rig/pose", "geometry_msgs/msg/TransformStamped",
                 types.serialize(tf, "geometry_msgs/msg/TransformStamped")),
                (t, "/tf", "tf2_msgs/msg/TFMessage",
                 types.serialize(T["tf2_msgs/msg/TFMessage"](transforms=[tf]), "tf2_msgs/msg/TFMessage"))]
    for i in range(int(seconds)):
        t = EPOCH_NS + i * 10**9 + 5_000_000
        diag = T["diagnostic_msgs/msg/DiagnosticArray"](header=header(t, ""), status=[
            T["diagnostic_msgs/msg/DiagnosticStatus"](level=0, name=f"onset: {n}", message="ok", hardware_id=n,
                                                      values=[])
            for n in ("lidar", "camera", "telemetry", "timecode")])
        out.append((t, "/diagnostics", "diagnostic_msgs/msg/DiagnosticArray",
                    types.serialize(diag, "diagnostic_msgs/msg/DiagnosticArray")))
    out.sort(key=lambda m: m[0])
    return out


def plain_write(mix: List[Message], path: Path) -> float:
    """Seconds to write the messages' bytes sequentially to one file and fsync it."""
    t0 = time.perf_counter()
    with open(path, "wb") as f:
        for _, _, _, data in mix:
            f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return time.perf_counter() - t0


def record(mix: List[Message], takes_dir: Path, compression: BagCompression) -> Tuple[float, float, int, int]:
    """(wall s, CPU s, dropped, bag bytes) of recording the mix as one take, start to stop."""
    config = RecorderConfig(takes_dir=takes_dir, compression=compression, min_free_bytes=0)
    recorder = TakeRecorder(config)
    half_queue = config.queue_max_bytes // 2
    cpu0, t0 = _cpu_s(), time.perf_counter()
    recorder.start("1", "1", 1)
    for n, (t_ns, topic, msgtype, data) in enumerate(mix):
        if n % 32 == 0:
            while recorder.status().queued_bytes > half_queue:  # pace to the writer: measure it, drop nothing
                time.sleep(0.001)
        recorder.write(topic, msgtype, data, t_ns)
    info = recorder.stop()
    wall, cpu = time.perf_counter() - t0, _cpu_s() - cpu0
    return wall, cpu, sum(info.dropped.values()), info.size_bytes


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks recorder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of stage output to record")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temporary folder)")
    parser.add_argument("--compression", choices=["all"] + [c.value for c in BagCompression], default="all")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="onset-bench-", dir=args.dir))
    try:
        mix = build_mix(args.seconds)
        total = sum(len(m[3]) for m in mix)
        rate_mb_s = total / 1e6 / args.seconds
        print(f"# Take recorder throughput, {os.cpu_count()} cores, writing to {root}\n")
        print(f"Mix: {args.seconds:g} s of stage = {len(mix)} messages, {total / 1e6:.1f} MB "
              f"({rate_mb_s:.1f} MB/s, {len(mix) / args.seconds:.0f} msgs/s in real time): "
              f"{WIDTH_PX}x{HEIGHT_PX} RGB at {FPS} fps + CameraInfo + TimeReference, PointCloud2 "
              f"{LIDAR_POINTS} points at {LIDAR_HZ} Hz, TransformStamped + /tf at {POSE_HZ} Hz, diagnostics 1 Hz.\n")
        plain_s = plain_write(mix, root / "plain.bin")
        (root / "plain.bin").unlink()
        plain_mb_s = total / 1e6 / plain_s
        print("| writer | MB/s | msgs/s | ratio to plain write | x real time | CPU s per stage s | dropped | file MB |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        print(f"| plain sequential write + fsync (baseline) | {plain_mb_s:.0f} | {len(mix) / plain_s:.0f} | 1.00 | "
              f"{plain_mb_s / rate_mb_s:.1f} | - | - | {total / 1e6:.1f} |")
        modes = list(BagCompression) if args.compression == "all" else [BagCompression(args.compression)]
        for compression in modes:
            takes = root / compression.value
            wall, cpu, dropped, size = record(mix, takes, compression)
            shutil.rmtree(takes, ignore_errors=True)
            mb_s = total / 1e6 / wall
            print(f"| TakeRecorder, MCAP chunks {compression.value} | {mb_s:.0f} | {len(mix) / wall:.0f} | "
                  f"{mb_s / plain_mb_s:.2f} | {mb_s / rate_mb_s:.1f} | {cpu / args.seconds:.2f} | {dropped} | "
                  f"{size / 1e6:.1f} |")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
