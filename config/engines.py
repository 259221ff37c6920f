"""Settings of the engine workers (``engines:`` in a profile): which run, on what model and runtime.

Each engine is a worker process on the fused-frame stream (``onset engines serve``, started by
``onset node run`` when ``start_with_node`` is set). Its results go out on a ZeroMQ stream of its
own (``results_endpoint``, loopback) and on ROS 2 (``/onset/<engine>/results``, when ``ros``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CaptionerEngineConfig", "StyleEngineConfig", "EnginesConfig"]


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
    closed_loop: bool = Field(True, description="also read the style worker's frames and report how often the "
                                                "look changed what the captioner read")


class StyleEngineConfig(_Model):
    """The style worker: the chosen look on every frame it takes, styled frames out on a stream."""

    enabled: bool = Field(True, description="run the style worker")
    look: str = Field("35mm", description="the look at start: a shipped look's name, off, or a .look.json path")
    looks_dir: Optional[Path] = Field(None, description="a folder of .look.json files offered beside the shipped ones")
    preview_width: int = Field(640, ge=64, le=4096, description="width of the styled frames (px); the height keeps "
                                                              "the camera's aspect")
    grain: bool = Field(True, description="grain on the styled frames (the texture part; never in a LUT)")
    results_endpoint: str = Field("tcp://127.0.0.1:5561", description="zmq endpoint of the per-frame results (JSON)")
    styled_endpoint: str = Field("tcp://127.0.0.1:5562", description="zmq endpoint the styled frames go out on "
                                                                  "(the fused-frame wire format)")
    control_endpoint: str = Field("tcp://127.0.0.1:5563", description="zmq REP endpoint to switch looks live")
    ros: bool = Field(True, description="also publish results on ROS 2 (/onset/style/results)")


class EnginesConfig(_Model):
    """Every engine worker of the rig."""

    start_with_node: bool = Field(
        False, description="`onset node run` starts the enabled workers and stops them (`--engines` does too)")
    captioner: CaptionerEngineConfig = Field(default_factory=CaptionerEngineConfig)
    style: StyleEngineConfig = Field(default_factory=StyleEngineConfig)
    placement: Literal["process"] = Field("process", description="each engine runs in a process of its own")
