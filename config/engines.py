"""Settings of the engine workers (``engines:`` in a profile): which run, on what model and runtime.

Each engine is a worker process on the fused-frame stream (``onset engines serve``, started by
``onset node run`` when ``start_with_node`` is set). Its results go out on a ZeroMQ stream of its
own (``results_endpoint``, loopback) and on ROS 2 (``/onset/<engine>/results``, when ``ros``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CaptionerEngineConfig", "EnginesConfig"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CaptionerEngineConfig(_Model):
    """The captioner worker: the auto-labeler on every frame it takes, and the model on clips."""

    enabled: bool = Field(True, description="run the captioner worker")
    model: Optional[Path] = Field(
        None, description="captioner model (.onnx with its card); None: the model shipped with Onset")
    backend: str = Field("auto", description="runtime: auto (the best this machine has), onnxruntime, torch, tensorrt")
    threads: int = Field(1, ge=1, le=64, description="intra-op threads of the runtime")
    results_endpoint: str = Field("tcp://127.0.0.1:5560", description="zmq endpoint the results are published on")
    ros: bool = Field(True, description="also publish results on ROS 2 (/onset/captioner/results)")


class EnginesConfig(_Model):
    """Every engine worker of the rig."""

    start_with_node: bool = Field(
        False, description="`onset node run` starts the enabled workers and stops them (`--engines` does too)")
    captioner: CaptionerEngineConfig = Field(default_factory=CaptionerEngineConfig)
    placement: Literal["process"] = Field("process", description="each engine runs in a process of its own")
