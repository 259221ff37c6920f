"""The auto-labeler: every fused frame's labels from what the rig measured.

:class:`AutoLabeler` is fed fused frames in order (:class:`sensors.vocabulary.FusedFrame`: lens
state, rig pose, LiDAR depth, intrinsics) and gives each its :class:`FrameLabels`:

* **focal length** and its 35 mm equivalent from the frame's lens state (:mod:`.lens`);
* **movement** over the newest :data:`~.movement.DEFAULT_WINDOW_S` of the frames' poses and focal
  lengths (:mod:`.movement`);
* **subject** and its **distance** from the frame's depth (:mod:`.subject`);
* **shot size** from where the frame's lower edge cuts that subject (:mod:`.shot_size`), its
  height the subject's highest return when the head is in frame; when the frame's top may cut
  the head, the highest return is only a floor for it, and the size is taken at
  :data:`STANDING_HEIGHT_M` or that floor, whichever is higher (``height_assumed`` says so).

A frame without a pose has no movement, subject or shot size (they are marked missing, with the
reason); without a lens, no focal length; without LiDAR returns, no subject. Nothing is invented:
a missing label is ``None`` or ``missing`` with its reason in ``missing``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Deque, Dict, Optional, Tuple

import numpy as np

from engines.captioner.lens import SUPER35_WIDTH_MM, FocalLabel, focal_label
from engines.captioner.movement import DEFAULT_WINDOW_S, MovementLabel, classify_movement
from engines.captioner.shot_size import FrameCut, ShotSize, frame_cut, shot_size_of
from engines.captioner.subject import Subject, find_subject
from sensors.vocabulary import T_RIG_CAMERA_OPTICAL, FusedFrame, RigPose, Timecode

__all__ = ["STANDING_HEIGHT_M", "FrameLabels", "AutoLabeler"]

#: The height a standing adult is taken to have when the frame's top hides the head's top.
STANDING_HEIGHT_M = 1.75


@dataclass(frozen=True)
class FrameLabels:
    """One fused frame's labels (module docstring). ``subject_distance_m`` is the subject's
    optical-axis distance (None: no subject); ``cut`` where the lower edge falls on it;
    ``missing``: label name -> why it is missing."""

    frame_index: int
    t_ns: int
    timecode: Optional[Timecode]
    focal: FocalLabel
    movement: MovementLabel
    subject: Optional[Subject]
    shot_size: ShotSize
    cut: Optional[FrameCut]
    height_assumed: bool
    missing: Tuple[Tuple[str, str], ...]

    @property
    def subject_distance_m(self) -> Optional[float]:
        return None if self.subject is None else self.subject.distance_m


class AutoLabeler:
    """Labels fused frames in order; keeps the newest poses for the movement window.

    ``sensor_width_mm``: the camera's sensor width (the profile's ``camera.intrinsics``);
    ``window_s``: the movement window.
    """

    def __init__(self, sensor_width_mm: float = SUPER35_WIDTH_MM, window_s: float = DEFAULT_WINDOW_S) -> None:
        self.sensor_width_mm = float(sensor_width_mm)
        self.window_s = float(window_s)
        self._poses: Deque[Tuple[RigPose, Optional[float]]] = deque()

    def observe(self, pose: RigPose, focal_length_mm: Optional[float] = None) -> None:
        """A telemetry sample between frames joins the movement window: the rig reports at 100 Hz
        where a dataset keeps 12 frames a second, and the movement is the telemetry's. Samples
        must come in time order; one not newer than the window's newest is ignored."""
        if self._poses and int(pose.t_ns) <= int(self._poses[-1][0].t_ns):
            return
        self._poses.append((pose, focal_length_mm))

    def label(self, frame: FusedFrame) -> FrameLabels:
        missing: Dict[str, str] = {}
        focal = focal_label(frame.lens, self.sensor_width_mm)
        if focal.missing:
            missing["focal_length"] = str(focal.missing_reason)
        movement = self._movement(frame, focal)
        if movement.missing:
            missing["movement"] = str(movement.missing_reason)
        subject, size, cut, assumed = None, ShotSize.NONE, None, False
        if frame.pose is None:
            missing["subject"] = missing["shot_size"] = "no rig pose for this frame"
        elif not np.isfinite(frame.depth_m).any():
            missing["subject"] = missing["shot_size"] = "no LiDAR return in this frame"
        else:
            T = frame.pose.matrix() @ T_RIG_CAMERA_OPTICAL
            subject = find_subject(frame.depth_m, frame.K, T)
            if subject is not None:
                size, cut, assumed = self._shot_size(frame, T, subject)
        return FrameLabels(frame.frame_index, frame.t_ns, frame.timecode, focal, movement, subject, size, cut,
                           assumed, tuple(sorted(missing.items())))

    def _movement(self, frame: FusedFrame, focal: FocalLabel) -> MovementLabel:
        if frame.pose is not None and not (self._poses and int(frame.pose.t_ns) <= int(self._poses[-1][0].t_ns)):
            self._poses.append((frame.pose, focal.focal_length_mm))
        horizon = int(frame.t_ns) - int(round(2 * self.window_s * 1e9))
        while self._poses and int(self._poses[0][0].t_ns) < horizon:
            self._poses.popleft()
        poses = [p for p, _ in self._poses]
        focals = [f for _, f in self._poses]
        lens_known = any(f is not None for f in focals)
        return classify_movement(poses, focals if lens_known else None, window_s=self.window_s,
                                 end_ns=int(frame.t_ns))

    @staticmethod
    def _shot_size(frame: FusedFrame, T_stage_optical: np.ndarray, subject: Subject):
        size_px = (frame.depth_m.shape[1], frame.depth_m.shape[0])
        height = subject.top_z_m
        assumed = False
        probe = frame_cut(frame.K, T_stage_optical, size_px, subject.position_xy_m, max(height, 1e-3))
        # The top may be cut when the head is at the image's top, or its highest return lies
        # within a beam's gap below the frame's upper edge at the subject.
        if not subject.top_in_frame or probe.upper_z_m - height < 0.1:
            height, assumed = max(height, STANDING_HEIGHT_M), True
            probe = frame_cut(frame.K, T_stage_optical, size_px, subject.position_xy_m, height)
        return shot_size_of(probe), probe, assumed
