"""Checks of a recorded planned take: its ``take.json`` against what the take was started with.

A take shot for a plan is complete, carries the plan object it was started with (``plan``), its
timecode in and out bracket the plan times of the repeat of the shot it recorded (within a frame:
plan time is the timecode minus the profile's start timecode) and its bag holds camera frames.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from config.models import RigConfig
from edge.plans.errors import TakeCheckError
from edge.plans.sim import StagedTake

__all__ = ["check_take", "plan_seconds"]


def plan_seconds(text: Optional[str], rig: RigConfig) -> Optional[float]:
    """Plan time (s) of a timecode label (``HH:MM:SS:FF``) on ``rig``'s stage; None for no label."""
    from sensors.timecode.errors import TimecodeError
    from sensors.timecode.smpte import parse_timecode, timecode_to_seconds

    if not text:
        return None
    try:
        rate = rig.timecode.frame_rate
        tc = timecode_to_seconds(parse_timecode(str(text), rate))
        return float(tc - timecode_to_seconds(parse_timecode(rig.timecode.start, rate)))
    except (TimecodeError, ValueError):
        return None


def check_take(folder: Path, staged: StagedTake, plan: Dict[str, Any], repeat: int = 0) -> Tuple[int, str]:
    """``(camera frames, summary)`` of a planned take recorded on repeat ``repeat`` of its shot, or
    :class:`TakeCheckError` saying what is wrong with its ``take.json``: not complete, another
    plan, a timecode that misses the shot, no camera frames."""
    from edge.recorder.errors import TakeFileError
    from edge.recorder.take import read_take_json

    try:
        doc = read_take_json(folder)
    except TakeFileError as err:
        raise TakeCheckError(str(err)) from err
    rig = staged.rig
    if doc.get("status") != "complete":
        raise TakeCheckError(f"{folder}: take.json says {doc.get('status')!r}, not complete: {doc.get('errors')}")
    if doc.get("plan") != json.loads(json.dumps(plan)):
        raise TakeCheckError(f"{folder}: take.json's plan is not the plan the take was started with")
    tc_in, tc_out = doc["timecode"]["in"], doc["timecode"]["out"]
    t_in, t_out = plan_seconds(tc_in, rig), plan_seconds(tc_out, rig)
    frame_s = 1.0 / float(rig.camera.frame_rate.fps)
    start_s, end_s = staged.window(repeat)
    if t_in is None or t_out is None or t_in > start_s + frame_s or t_out < end_s - frame_s:
        raise TakeCheckError(f"{folder}: the take's timecode {tc_in} - {tc_out} does not cover the shot "
                             f"(plan time {start_s:.2f}-{end_s:.2f} s)")
    frames = sum(int(t["message_count"]) for t in doc.get("topics", []) if t.get("name") == rig.camera.topic)
    if frames == 0:
        raise TakeCheckError(f"{folder}: the bag holds no camera frames ({rig.camera.topic})")
    return frames, f"{frames} frames, TC {tc_in} - {tc_out}"
