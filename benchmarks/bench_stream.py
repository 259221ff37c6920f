"""How fast does the fused-frame stream move 640x360 RGB + depth frames, against copying them?

Each method publishes ``--frames`` fused frames (640x360 RGB uint8 + float32 depth, 1.61 MB of
arrays a frame, eight distinct frames in turn) through a ZeroMQ PUB socket to a SUB socket in the
same process (each side with its own I/O thread; ``inproc`` shares one context, as it must), with
at most ``--window`` frames in flight, and receives each one back as a ``FusedFrame``:

* **onset**: :class:`~edge.stream.FusedFramePublisher` / :class:`~edge.stream.FusedFrameSubscriber`:
  the arrays sent and received without a copy;
* **copy=True** (baseline): the same wire format, the same bytes, sent and received with ``copy=True``;
* **pickle** (baseline): ``pickle.dumps(frame)`` as one part, ``pickle.loads`` on receipt.

Reported per transport (tcp loopback, ipc, inproc): frames/s and MB/s through the pair, the
publishing call's time per frame (median and p99), CPU time per frame of the whole process (I/O
threads included), and the ratios of onset against each baseline measured in the same run. Every
figure is the median of ``--repeats`` runs; a lost or mismatched frame fails the benchmark.

Run: ``.venv/bin/python -m benchmarks stream [--frames N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import zmq

from edge.stream import FusedFramePublisher, FusedFrameSubscriber, WireMeta, decode_frame, encode_frame
from sensors.vocabulary import FrameRate, FusedFrame, LensState, RigPose, SensorSync, SyncStatus, Timecode

HWM = 8
METHODS = ("onset", "copy=True", "pickle")
TRANSPORTS = ("tcp", "ipc", "inproc")

Send = Callable[[FusedFrame], None]
Recv = Callable[[int], Optional[FusedFrame]]  # (timeout_ms) -> frame, None when none came


def _frame(index: int, width_px: int, height_px: int, rng: np.random.Generator) -> FusedFrame:
    rgb = rng.integers(0, 256, (height_px, width_px, 3), dtype=np.uint8)
    depth = np.full((height_px, width_px), np.nan, dtype=np.float32)
    depth[::4, ::4] = rng.uniform(0.5, 40.0, depth[::4, ::4].shape)
    return FusedFrame(
        frame_index=index, t_ns=1_800_000_000_000_000_000 + index * 41_708_333,
        timecode=Timecode(1, 0, 0, index % 24, FrameRate.FPS_23_976), rgb=rgb, depth_m=depth,
        pose=RigPose(0, np.array([1.0, 0.5, 1.6]), np.array([0.0, 0.0, 0.0, 1.0])),
        lens=LensState(35.0, 3.0, 2.8), K=np.array([[600.0, 0, 320], [0, 600.0, 180], [0, 0, 1]]),
        distortion=(-0.1, 0.02, 0.0, 0.0, 0.0), sync=(SensorSync("lidar0", SyncStatus.OK, 10.0, 0.2),),
        points_used=20000,
    )


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Pair:
    """One method's sender and receiver over one endpoint, with what they need closed afterwards."""

    def __init__(self, method: str, transport: str, tmpdir: str, serial: int) -> None:
        self.closers: List[Callable[[], None]] = []
        shared = zmq.Context() if transport == "inproc" else None
        if shared is not None:
            self.closers.append(shared.term)
        endpoint = {"tcp": "tcp://127.0.0.1:0", "ipc": f"ipc://{tmpdir}/bench{serial}.sock",
                    "inproc": f"inproc://bench-stream-{serial}"}[transport]
        if method == "onset":
            pub = FusedFramePublisher(endpoint, send_hwm=HWM, context=shared)
            sub = FusedFrameSubscriber(pub.endpoint, rcv_hwm=HWM, context=shared)
            self.closers[:0] = [sub.close, pub.close]

            def send(frame: FusedFrame) -> None:
                if not pub.publish(frame):
                    raise RuntimeError("publisher dropped a frame")

            self.send: Send = send
            self.recv: Recv = lambda timeout_ms: sub.recv(timeout_ms=timeout_ms)
            return
        pub_ctx = shared or zmq.Context()
        sub_ctx = shared or zmq.Context()
        pub_sock, sub_sock = pub_ctx.socket(zmq.PUB), sub_ctx.socket(zmq.SUB)
        for sock, opt in ((pub_sock, zmq.SNDHWM), (sub_sock, zmq.RCVHWM)):
            sock.setsockopt(opt, HWM)
            sock.setsockopt(zmq.LINGER, 0)
        sub_sock.setsockopt(zmq.SUBSCRIBE, b"")
        pub_sock.bind(endpoint)
        sub_sock.connect(pub_sock.getsockopt(zmq.LAST_ENDPOINT).decode())
        closers = [sub_sock.close, pub_sock.close]
        if shared is None:
            closers += [sub_ctx.term, pub_ctx.term]
        self.closers[:0] = closers
        seq = iter(range(1 << 62))

        def send_parts(parts: list) -> None:
            pub_sock.getsockopt(zmq.EVENTS)  # as the publisher does: take the readers' acks before sending
            pub_sock.send_multipart(parts, copy=True)

        if method == "copy=True":
            self.send = lambda f: send_parts(encode_frame(f, WireMeta("copy", next(seq), 0)))
            self.recv = lambda t: decode_frame(sub_sock.recv_multipart(copy=True))[0] if sub_sock.poll(t) else None
        else:
            self.send = lambda f: send_parts([pickle.dumps(f, protocol=pickle.HIGHEST_PROTOCOL)])
            self.recv = lambda t: pickle.loads(sub_sock.recv(copy=True)) if sub_sock.poll(t) else None

    def join(self, warm_up: FusedFrame) -> None:
        """Send until the subscriber has joined, then drain the warm-up frames still in flight."""
        deadline = time.monotonic() + 10.0
        while True:
            if time.monotonic() > deadline:
                raise RuntimeError("subscriber did not join")
            self.send(warm_up)
            if self.recv(20) is not None:
                break
        while self.recv(50) is not None:
            pass

    def close(self) -> None:
        for close in self.closers:
            close()


def run_once(method: str, transport: str, frames: List[FusedFrame], count: int, window: int,
             tmpdir: str, serial: int) -> Dict[str, float]:
    pair = _Pair(method, transport, tmpdir, serial)
    try:
        pair.join(replace(frames[0], frame_index=-1))
        publish_s: List[float] = []
        sent = received = 0
        cpu0, wall0 = _cpu_s(), time.perf_counter()
        while received < count:
            while sent < count and sent - received < window:
                frame = replace(frames[sent % len(frames)], frame_index=sent)
                t0 = time.perf_counter()
                pair.send(frame)
                publish_s.append(time.perf_counter() - t0)
                sent += 1
            got = pair.recv(5000)
            if got is None or got.frame_index != received:
                raise RuntimeError(f"{method}/{transport}: expected frame {received}, got "
                                   f"{None if got is None else got.frame_index}")
            received += 1
        wall = time.perf_counter() - wall0
        cpu = _cpu_s() - cpu0
    finally:
        pair.close()
    frame_mb = (frames[0].rgb.nbytes + frames[0].depth_m.nbytes) / 1e6
    publish_us = np.array(publish_s) * 1e6
    return {"fps": count / wall, "mbps": count * frame_mb / wall, "pub_med_us": float(np.median(publish_us)),
            "pub_p99_us": float(np.percentile(publish_us, 99)), "cpu_ms": cpu / count * 1000.0}


def measure(transports: Tuple[str, ...], count: int, window: int, repeats: int,
            width_px: int, height_px: int) -> Dict[Tuple[str, str], Dict[str, float]]:
    rng = np.random.default_rng(7)
    frames = [_frame(i, width_px, height_px, rng) for i in range(8)]
    results: Dict[Tuple[str, str], List[Dict[str, float]]] = {}
    serial = 0
    with tempfile.TemporaryDirectory(prefix="onset-bench-stream-") as tmpdir:
        for _ in range(repeats):  # interleaved, so a busy moment on the machine hits every method alike
            for transport in transports:
                for method in METHODS:
                    serial += 1
                    results.setdefault((transport, method), []).append(
                        run_once(method, transport, frames, count, window, tmpdir, serial))
    return {key: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for key, runs in results.items()}


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks stream", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300, help="frames per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per method and transport (median reported)")
    parser.add_argument("--window", type=int, default=2, help="frames in flight")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--transports", default=",".join(TRANSPORTS), help="comma-separated: tcp,ipc,inproc")
    args = parser.parse_args(argv)
    transports = tuple(t for t in args.transports.split(",") if t)
    frame_mb = args.width * args.height * (3 + 4) / 1e6
    print(f"# Fused-frame stream: {args.width}x{args.height} RGB + depth ({frame_mb:.2f} MB a frame), "
          f"{args.frames} frames x {args.repeats} runs, window {args.window}, {os.cpu_count()} cores\n")
    results = measure(transports, args.frames, args.window, args.repeats, args.width, args.height)
    print("| transport | method | frames/s | MB/s | publish us (median) | publish us (p99) | CPU ms/frame |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for transport in transports:
        for method in METHODS:
            r = results[(transport, method)]
            print(f"| {transport} | {method} | {r['fps']:.0f} | {r['mbps']:.0f} | {r['pub_med_us']:.0f} | "
                  f"{r['pub_p99_us']:.0f} | {r['cpu_ms']:.2f} |")
    print("\nRatios, onset against each baseline in the same run (>1: onset better):\n")
    print("| transport | baseline | throughput x | publish time x | CPU per frame x |")
    print("|---|---|---:|---:|---:|")
    for transport in transports:
        onset = results[(transport, "onset")]
        for method in METHODS[1:]:
            base = results[(transport, method)]
            print(f"| {transport} | {method} | {onset['fps'] / base['fps']:.2f} | "
                  f"{base['pub_med_us'] / onset['pub_med_us']:.2f} | {base['cpu_ms'] / onset['cpu_ms']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
