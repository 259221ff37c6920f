"""How fast is the captioner on each runtime, and what does its worker cost at 24 fps?

Three tables, every figure from this run:

1. **Clip model per backend**: the whole clip model (``clip.onnx``, one clip of 8 frames) on every
   backend this machine has (``engines.runtime.list_backends``), the same random inputs for all,
   ``--runs`` runs after a warm-up: p50, p99 and mean latency (ms), clips/s, and the ratio of each
   against **torch eager** (the torch module called directly, the baseline) on the same inputs.
2. **Staged, per clip frame**: what the live worker runs when a frame joins the clip (encoder +
   pair + head, :class:`engines.captioner.live.StagedCaptioner`) on ONNX Runtime, against the
   whole clip model on ONNX Runtime (the ratio), plus the input planes (``frame_planes``) and the
   auto-labeler on a real fused frame.
3. **The worker at 24 fps**: a worker process (``python -m engines.worker.child captioner``)
   reads fused frames published at 24 fps for ``--seconds`` from a replayed take of the simulated
   stage (a dolly-in on the default profile); its CPU share (of one core), the frames it processed,
   skipped and lost, and the result latency p50/p99 (frame sent -> result published).
4. **Beside the node and the stage**: ``onset node run`` on the default profile without engines
   (the baseline) and with ``--engines`` (the captioner and the style worker), ``--stage-seconds`` each after a warm-up: the fused-frame
   rate and in-sync share the node reports, each process's CPU share, and the worker's own counts
   (``benchmarks/_on_stage.py``). ``--no-stage`` leaves this table out.

The model is ``--model DIR`` (an export directory), else the one shipped with Onset, else an
untrained export of the default size (latency does not depend on the weights; the table says which).

Run: ``.venv/bin/python -m benchmarks captioner [--runs N] [--seconds S] [--stage-seconds S] [--model DIR]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _model_dir(given: Optional[str], scratch: Path) -> tuple:
    """The export to time: ``given``; else the shipped model exported again with its state dicts
    (the shipped copy carries only the ONNX, the torch backend and the eager baseline need them);
    else an untrained default-size model."""
    import torch

    from engines.captioner.export import export_captioner
    from engines.captioner.model.checkpoint import save_checkpoint
    from engines.captioner.model.network import CaptionerNet, network_config

    if given:
        return Path(given), "given"
    shipped = Path(__file__).resolve().parents[1] / "engines" / "captioner" / "models" / "captioner.onsetcap"
    if shipped.is_file():
        export_captioner(shipped, scratch / "export")
        return scratch / "export", f"shipped ({shipped.name}, exported again)"
    torch.manual_seed(0)
    net = CaptionerNet(network_config("default")).eval()
    save_checkpoint(scratch / "untrained.onsetcap", net)
    export_captioner(scratch / "untrained.onsetcap", scratch / "export")
    return scratch / "export", "untrained, default size"


def _torch_eager(folder: Path, inputs: Dict[str, np.ndarray], runs: int, warmup: int) -> Optional[dict]:
    try:
        import torch
    except ImportError:
        return None
    from engines.captioner.export import ClipModel
    from engines.runtime import read_model

    info = read_model(folder / "clip.onnx").info
    module = ClipModel(**info.config)
    module.load_state_dict(torch.load(folder / "clip.pt", weights_only=True))
    module.eval()
    torch.set_num_threads(1)
    x = torch.from_numpy(inputs["frames"])
    times = []
    with torch.inference_mode():
        for i in range(warmup + runs):
            t0 = time.perf_counter()
            module(x)
            if i >= warmup:
                times.append((time.perf_counter() - t0) * 1e3)
    return _stats(times)


def _stats(times_ms: List[float]) -> dict:
    a = np.asarray(times_ms)
    return {"p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)), "mean": float(a.mean()),
            "n": len(a)}


def clip_table(folder: Path, runs: int, warmup: int) -> List[tuple]:
    from engines.runtime import create_backend, latency_profile, list_backends

    import engines.captioner.export  # noqa: F401  (the torch backend's factories)

    rng = np.random.default_rng(0)
    inputs = {"frames": rng.random((1, 8, 5, 72, 128), dtype=np.float32)}
    rows = []
    eager = _torch_eager(folder, inputs, runs, warmup)
    if eager is not None:
        rows.append(("torch eager (baseline)", eager, "ok"))
    for status in list_backends():
        if not status.available:
            rows.append((status.name, None, f"not available: {status.reason}"))
            continue
        options = {"intra_op_num_threads": 1} if status.name.startswith("onnxruntime") else {}
        try:
            session = create_backend(status.name, **options).load(folder / "clip.onnx")
        except Exception as err:
            rows.append((status.name, None, f"failed to load: {err}"))
            continue
        p = latency_profile(session, inputs, runs=runs, warmup=warmup)
        rows.append((status.name, {"p50": p.p50_ms, "p99": p.p99_ms, "mean": p.mean_ms, "n": runs}, "ok"))
        session.close()
    return rows


def staged_table(folder: Path, runs: int) -> List[tuple]:
    from engines.captioner.inputs import frame_planes
    from engines.captioner.labeler import AutoLabeler
    from engines.captioner.live import open_captioner
    from engines.runtime import create_backend, latency_profile

    frames = _replayed_frames()
    staged = open_captioner(folder, backend="onnxruntime-cpu", threads=1)
    planes = [frame_planes(f.rgb, f.depth_m) for f in frames[:16]]
    for p in planes[:8]:
        staged.push(p)
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        staged.push(planes[i % len(planes)])
        times.append((time.perf_counter() - t0) * 1e3)
    clip = create_backend("onnxruntime-cpu", intra_op_num_threads=1).load(folder / "clip.onnx")
    whole = latency_profile(clip, {"frames": np.stack(planes[:8])[None]}, runs=runs, warmup=10)
    plane_times, label_times = [], []
    labeler = AutoLabeler()
    for f in frames:
        t0 = time.perf_counter()
        frame_planes(f.rgb, f.depth_m)
        t1 = time.perf_counter()
        labeler.label(f)
        t2 = time.perf_counter()
        plane_times.append((t1 - t0) * 1e3)
        label_times.append((t2 - t1) * 1e3)
    return [("staged clip frame (onnxruntime)", _stats(times)),
            ("whole clip model (onnxruntime)", {"p50": whole.p50_ms, "p99": whole.p99_ms, "mean": whole.mean_ms,
                                                "n": runs}),
            ("input planes (frame_planes)", _stats(plane_times)),
            ("auto-labeler (AutoLabeler.label)", _stats(label_times))]


_FRAMES: list = []


def _replayed_frames() -> list:
    """Fused frames of a 4 s dolly-in on the default profile, replayed offline through the real
    drivers and synchronizer (the test harness), made once per run."""
    if _FRAMES:
        return _FRAMES
    from config import load_profile
    from config.sync import SyncConfig
    from sensors.sim.shots import movement_plan
    from sensors.sim.stage import Stage
    from tests.harness.replay import EPOCH_NS
    from tests.harness.window import replay_window, shot_run

    base = load_profile("sim-stage")
    rig = base.model_copy(update={"stage": base.stage.model_copy(
        update={"shot": movement_plan("dolly_in", base.stage), "loop": False})})
    run = shot_run(rig, Stage(rig.stage, EPOCH_NS), 4.0, 1.0)
    _FRAMES.extend(f for _, f, _ in replay_window(run, SyncConfig.model_validate(rig.sync.model_dump())).fused)
    return _FRAMES


def worker_row(folder: Path, seconds: float) -> dict:
    import dataclasses

    import psutil

    from edge.stream import FusedFramePublisher
    from engines.worker.results import ResultSubscriber

    frames = _replayed_frames()
    publisher = FusedFramePublisher("tcp://127.0.0.1:0")
    results_endpoint = f"tcp://127.0.0.1:{_free_port()}"
    argv = [sys.executable, "-m", "engines.worker.child", "captioner", "--model", str(folder), "--stream",
            publisher.endpoint, "--results", results_endpoint, "--no-ros", "--backend", "onnxruntime-cpu"]
    worker = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    results = ResultSubscriber(results_endpoint)
    try:
        period = 1.0 / 24.0
        proc = psutil.Process(worker.pid)
        # Warm-up: until the worker answers (imports, model load), at most 30 s.
        start, i, got = time.monotonic(), 0, None
        while got is None and time.monotonic() - start < 30:
            publisher.publish(dataclasses.replace(frames[i % len(frames)], frame_index=i))
            i += 1
            got = results.recv(timeout_ms=period * 1e3)
        if got is None:
            return {"error": "the worker sent no result within 30 s"}
        cpu0 = sum(proc.cpu_times()[:2])
        t0 = time.monotonic()
        first_processed = got["worker"]["processed"]
        latencies, last = [], got
        next_t = t0
        first_sent = i
        while time.monotonic() - t0 < seconds:
            f = frames[i % len(frames)]
            publisher.publish(dataclasses.replace(f, frame_index=i, t_ns=int(f.t_ns + (i // len(frames)) * 4e9)))
            i += 1
            next_t += period
            while True:
                wait = next_t - time.monotonic()
                message = results.recv(timeout_ms=max(0.0, wait) * 1e3) if wait > 0 else None
                if message is None:
                    break
                latencies.append(message["latency_ms"])
                last = message
        wall = time.monotonic() - t0
        cpu = sum(proc.cpu_times()[:2]) - cpu0
        sent = i - first_sent
        w = last["worker"]
        return {"cpu_share": cpu / wall, "sent": sent, "processed": w["processed"] - first_processed,
                "skipped": w["skipped"] - got["worker"]["skipped"], "lost": w["lost"] - got["worker"]["lost"], "latency": _stats(latencies) if latencies else None}
    finally:
        worker.terminate()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
        results.close()
        publisher.close()


def _free_port() -> int:
    import socket

    from sensors.ports import free_loopback_port

    return free_loopback_port(socket.SOCK_STREAM)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks captioner", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--model", default=None, help="captioner export directory (default: the shipped model)")
    parser.add_argument("--stage-seconds", type=float, default=40.0,
                        help="seconds of each run beside the node and the stage (table 4)")
    parser.add_argument("--no-stage", action="store_true", help="leave out table 4")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder, which = _model_dir(args.model, Path(scratch))
        print(f"captioner model: {folder} ({which})")
        rows = clip_table(folder, args.runs, warmup=20)
        base = next((r[1] for r in rows if r[0].startswith("torch eager") and r[1]), None)
        print(f"\n1. clip model, one clip (1, 8, 5, 72, 128), {args.runs} runs each, one thread")
        print(f"{'backend':<26}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'clips/s':>9}{'p50 vs eager':>14}")
        for name, s, note in rows:
            if s is None:
                print(f"{name:<26}  {note}")
                continue
            ratio = f"{s['p50'] / base['p50']:.2f}x" if base else "-"
            print(f"{name:<26}{s['p50']:>9.2f}{s['p99']:>9.2f}{s['mean']:>9.2f}{1000 / s['mean']:>9.0f}{ratio:>14}")
        staged = staged_table(folder, args.runs)
        whole = staged[1][1]
        print(f"\n2. per clip frame on the live path ({args.runs} runs; planes and labels over "
              f"{len(_replayed_frames())} replayed frames)")
        print(f"{'step':<36}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'p50 vs whole clip':>19}")
        for name, s in staged:
            print(f"{name:<36}{s['p50']:>9.2f}{s['p99']:>9.2f}{s['mean']:>9.2f}{s['p50'] / whole['p50']:>18.2f}x")
        row = worker_row(folder, args.seconds)
        print(f"\n3. the captioner worker process at 24 fps for {args.seconds:.0f} s (onnxruntime-cpu, one thread)")
        if "error" in row:
            print(f"  {row['error']}")
            return 1
        lat = row["latency"]
        print(f"  CPU {row['cpu_share']:.2f} of a core; frames sent {row['sent']}, processed {row['processed']}, "
              f"skipped {row['skipped']}, lost {row['lost']}")
        if lat:
            print(f"  result latency (frame sent -> result out) p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms "
                  f"over {lat['n']} results")
    if not args.no_stage:
        return _stage_table(args.stage_seconds)
    return 0


def _stage_table(seconds: float) -> int:
    from benchmarks._on_stage import on_stage_runs

    runs = on_stage_runs(seconds)
    print(f"\n4. beside the node and the simulated stage (onset node run, default profile, {seconds:.0f} s each "
          f"after 15 s warm-up)")
    print(f"{'run':<28}{'fused fps':>10}{'in sync':>9}{'node':>7}{'stage':>7}{'capt.':>7}{'style':>7}{'all':>7}"
          f"{'fps vs baseline':>17}")
    base = runs["node and stage"]
    for name, row in runs.items():
        if "error" in row:
            print(f"{name:<28}  {row['error']}")
            return 1
        cpu = row["cpu"]
        ratio = row["fused_fps"] / base["fused_fps"] if "fused_fps" in base else float("nan")
        print(f"{name:<28}{row['fused_fps']:>10.1f}{100 * row['in_sync']:>8.1f}%{cpu.get('node', 0):>7.2f}"
              f"{cpu.get('stage', 0):>7.2f}{cpu.get('captioner', 0):>7.2f}{cpu.get('style', 0):>7.2f}"
              f"{sum(cpu.values()):>7.2f}{ratio:>16.2f}x")
    worker = runs["with both engine workers"].get("worker")
    if worker is None:
        print("  the worker sent no result")
        return 1
    lat = runs["with both engine workers"]["latency_ms"]
    print(f"  worker (its own counts over the run): processed {worker['processed']}, skipped {worker['skipped']}, "
          f"lost {worker['lost']}; the node fused {runs['with both engine workers']['frames']} frames between "
          f"its status lines; result latency p50 "
          f"{lat[len(lat) // 2]:.1f} ms, p99 {lat[min(len(lat) - 1, int(0.99 * len(lat)))]:.1f} ms over {len(lat)}")
    print("  CPU shares are of one core (2 cores = 2.00); 'stage' is the simulated stage's processes; 'capt.' and "
          "'style' the engine workers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
