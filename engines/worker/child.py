"""The body of an engine worker process: ``python -m engines.worker.child ENGINE --profile P``.

It reads the rig profile, connects to the node's fused-frame stream (``stream.endpoint``, a small
receive queue: a slow worker loses frames at the socket, and skips the rest in
:func:`engines.worker.loop.serve`), builds the engine and its outputs (the engine's result stream
and, where rclpy is installed and the profile asks for it, ROS 2), and serves until SIGTERM or
SIGINT. A model that cannot be loaded is not fatal for the captioner: it serves the sensor labels
and says in every result why the model is missing. Started and restarted by
:class:`engines.worker.supervisor.Supervisor` (``onset engines serve``, ``onset node run``).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, List, Optional, Tuple

import numpy as np

from engines.captioner.shipped import SHIPPED_EXPORT
from engines.worker.loop import WorkerCounters, serve
from engines.worker.supervisor import RESTARTS_ENV

__all__ = ["main", "build_engine", "ENGINES", "SHIPPED_CAPTIONER"]

_log = logging.getLogger("onset.worker")
#: The captioner model shipped with Onset (rebuilt by `make captioner-model`).
SHIPPED_CAPTIONER = SHIPPED_EXPORT


ENGINES = ("captioner", "style")


def _build_style(rig: Any, look: Optional[str]) -> Tuple[Any, Any]:
    """The style engine: every offered look prepared for the camera's size, its control endpoint up."""
    from edge.stream import FusedFramePublisher
    from engines.style.worker import LookControl, StyleEngine

    settings = rig.engines.style
    engine = StyleEngine(FusedFramePublisher(settings.styled_endpoint), look=look or settings.look,
                         preview_width=settings.preview_width, grain=settings.grain, looks_dir=settings.looks_dir)
    engine.prepare(rig.camera.height_px, rig.camera.width_px)
    control = LookControl(engine, settings.control_endpoint)
    closing = engine.close

    def close() -> None:
        control.close()
        closing()

    engine.close = close  # type: ignore[method-assign]
    _log.info("style: looks %s, now %s; styled frames -> %s; control %s", ", ".join(engine.looks), engine.current,
              settings.styled_endpoint, control.endpoint)
    return engine, settings


def _styled_watch(rig: Any, staged: Any) -> Any:
    """The closed loop: the style worker's frames read by a second clip on the same model."""
    if staged is None or not rig.engines.style.enabled:
        return None
    from edge.stream.subscriber import FusedFrameSubscriber
    from engines.captioner.inputs import frame_planes
    from engines.captioner.live import StagedCaptioner, model_document
    from engines.style.loop_watch import StyledWatch
    from engines.worker.results import ResultSubscriber

    second = StagedCaptioner(staged.sessions)  # shares the sessions: never closed on its own

    def read(frame: Any) -> Any:
        depth = frame.depth_m if frame.depth_m is not None and np.isfinite(frame.depth_m).any() else None
        return model_document(second.push(frame_planes(frame.rgb, depth)))

    style = rig.engines.style
    return StyledWatch(FusedFrameSubscriber(style.styled_endpoint, rcv_hwm=4, consumer="captioner-closed-loop"),
                       ResultSubscriber(style.results_endpoint), read)


def build_engine(name: str, rig: Any, model: Optional[str] = None, backend: Optional[str] = None) -> Tuple[Any, Any]:
    """``(engine, engine settings)`` for engine ``name`` of ``rig``'s profile (for the style engine,
    ``model`` is the look to start with)."""
    if name not in ENGINES:
        raise SystemExit(f"unknown engine {name!r}; engines: {', '.join(ENGINES)}")
    if name == "style":
        return _build_style(rig, model)
    from engines.captioner.live import CaptionerEngine, open_captioner

    settings = rig.engines.captioner
    folder = Path(model) if model else (settings.model if settings.model is not None else SHIPPED_CAPTIONER)
    runtime = backend or settings.backend
    try:
        staged = open_captioner(folder, backend=runtime, threads=settings.threads)
        missing = None
        _log.info("captioner model %s on %s", folder, runtime)
    except Exception as err:  # the labels are still worth serving; every result says why the model is not
        staged, missing = None, f"captioner model {folder} not loaded: {err}"
        _log.error("%s", missing)
    engine = CaptionerEngine(staged, rig.camera.intrinsics.sensor_width_mm,
                             model_missing=missing or "no captioner model loaded",
                             watch=_styled_watch(rig, staged) if settings.closed_loop else None)
    return engine, settings


def _outputs(name: str, rig: Any, settings: Any) -> List[Any]:
    from engines.worker.results import ResultPublisher

    outputs: List[Any] = [ResultPublisher(settings.results_endpoint)]
    if settings.ros:
        try:
            from engines.worker.ros_out import RosResultPublisher

            outputs.append(RosResultPublisher(name, rig.ros_config()))
        except Exception as err:  # rclpy missing (off the set, Python 3.10): the stream alone
            _log.warning("results not on ROS 2: %s", err)
    return outputs


def _stop_when_orphaned(stop: threading.Event, period_s: float = 0.5) -> None:
    """Stop once the process that started this worker is gone (its supervisor was killed):
    a worker never outlives its node."""
    parent = os.getppid()
    while not stop.wait(period_s):
        if os.getppid() != parent:
            _log.warning("the supervising process %d is gone; stopping", parent)
            stop.set()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engines.worker.child", description=__doc__.splitlines()[0])
    parser.add_argument("engine")
    parser.add_argument("--profile", default="sim-stage")
    parser.add_argument("--model", default=None)
    parser.add_argument("--backend", default=None)
    parser.add_argument("--stream", default=None, help="fused-frame stream to read (default: the profile's)")
    parser.add_argument("--results", default=None, help="endpoint to publish results on (default: the profile's)")
    parser.add_argument("--no-ros", action="store_true", help="results on the result stream only")
    parser.add_argument("--max-frames", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(levelname)s %(message)s")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    nice = int(os.environ.get("ONSET_WORKER_NICE", "0") or 0)
    if nice:
        os.nice(nice)

    from config import load_profile
    from edge.stream.subscriber import FusedFrameSubscriber

    rig = load_profile(args.profile)
    engine, settings = build_engine(args.engine, rig, args.model, args.backend)
    updates = {"ros": settings.ros and not args.no_ros}
    if args.results:
        updates["results_endpoint"] = args.results
    settings = settings.model_copy(update=updates)
    endpoint = args.stream or rig.stream.endpoint
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=_stop_when_orphaned, args=(stop,), name="parent-watch", daemon=True).start()
    outputs = _outputs(args.engine, rig, settings)
    subscriber = FusedFrameSubscriber(endpoint, rcv_hwm=2, consumer=f"{args.engine}-worker")
    counters = WorkerCounters(restarts=int(os.environ.get(RESTARTS_ENV, "0") or 0))
    _log.info("%s serving %s -> %s", args.engine, endpoint, settings.results_endpoint)
    try:
        serve(engine, subscriber, outputs, stop, counters=counters, max_frames=args.max_frames)
    finally:
        subscriber.close()
        for output in outputs:
            output.close()
        if hasattr(engine, "close"):
            engine.close()
        _log.info("%s stopped: %s", args.engine, counters.as_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
