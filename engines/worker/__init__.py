"""Engine workers: an engine as a process on the fused-frame stream.

``loop.serve`` (take the newest frame, run the engine, publish), ``results`` (the versioned JSON
envelope and its ZeroMQ stream), ``ros_out`` (the same on ROS 2), ``supervisor`` (restart a worker
that dies). The engines themselves (the captioner, the style engine) know nothing of processes.
"""

from engines.worker.loop import Engine, FrameRejected, WorkerCounters, serve
from engines.worker.results import (
    RESULT_VERSION, ResultError, ResultPublisher, ResultSubscriber, ResultVersionError, decode_result, encode_result,
    envelope,
)
from engines.worker.supervisor import Supervisor, WorkerFailed

__all__ = [
    "Engine", "FrameRejected", "WorkerCounters", "serve", "RESULT_VERSION", "ResultError", "ResultVersionError",
    "ResultPublisher", "ResultSubscriber", "decode_result", "encode_result", "envelope", "Supervisor", "WorkerFailed",
]
