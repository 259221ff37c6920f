"""A take's frames fused again from its bag and labelled, in order, at a chosen rate.

:class:`TakeFrames` (and :func:`iter_take_frames`) read a take (:mod:`.bag`) and, for each chosen
camera frame, give :func:`edge.fusion.fuse_frame` what the node's synchronizer would have given it
(``edge/sync/gather.py``), then label the fused frame with one
:class:`engines.captioner.labeler.AutoLabeler` fed every chosen frame in order (its movement
window needs the frames before). Nothing here fuses or labels by itself.

**Chosen frames and what fusion gets** are :mod:`.gather`'s: the frame nearest each point of a
``fps`` grid; poses, lens and LiDAR points in the take's synchronizer window around the frame's
exposure time t, the take's camera. The labeler sees the chosen frames and, between them, every
rig pose the take recorded (:meth:`AutoLabeler.observe`): the movement is the telemetry's, at its
own rate, whatever ``fps`` the dataset keeps.
``frame_index`` is the frame's place among all the take's camera frames (0-based), so it names the
same frame at any rate.

**The exposure time t** is the stamp of the frame's timecode verdict (the frame timecode topic):
the time the synchronizer gave the frame live, its camera schedule having taken the stamps' jitter
out; a frame without a verdict (before the timecode clock had synced) keeps its image's stamp, and
the verdict's label is the frame's timecode. LiDAR points are moved into the rig by the LiDAR's
mount (the take's calibration, else ``/tf_static``). A frame waits until the bag has given a point
at or past ``t + after`` (or its log time is :data:`LIDAR_WAIT_NS` past that, or the bag ends).

**Missing, never invented.** A take without a sensor has that sensor's labels marked missing
for every frame, with the take-level reason (:data:`TAKE_REASONS`) instead of the frame's:
without LiDAR, subject and shot size; without rig poses, movement, subject and shot size; without
the lens topic, the focal length. Without a lens and without a ``camera_info`` the projection's
focal length would be a guess, so subject and shot size are marked missing too.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Deque, Dict, Iterator, Mapping, Optional, Tuple, Union

import numpy as np

from edge.fusion.fuse import DEFAULT_FOCAL_LENGTH_MM, LidarPoints, fuse_frame
from engines.captioner.dataset.bag import (
    CameraImage,
    FrameLabel,
    LidarSweep,
    TakeTracks,
    iter_frames_and_sweeps,
    read_tracks,
)
from engines.captioner.dataset.errors import NoCameraFramesError
from engines.captioner.dataset.gather import FrameChooser, Optics, SweepBuffer, lens_at, nearest, pose_track_at
from engines.captioner.dataset.source import TakeSource, open_take
from engines.captioner.labeler import AutoLabeler, FrameLabels
from sensors.vocabulary import NS_PER_S, FusedFrame, ImageFrame, RigPose, Stamp, Timecode

__all__ = [
    "DEFAULT_FPS",
    "LIDAR_WAIT_NS",
    "TAKE_REASONS",
    "TakeFrame",
    "TakeFrames",
    "iter_take_frames",
]

DEFAULT_FPS = 12.0
#: A frame waits for LiDAR points past its window at most until the bag's log time is this much later.
LIDAR_WAIT_NS = NS_PER_S
#: Why a take's labels are missing when the take lacks a sensor (formatted with the topic names).
TAKE_REASONS: Mapping[str, str] = {
    "lidar": "the take has no LiDAR points (nothing on {lidar})",
    "pose": "the take has no rig pose (nothing on {pose}, and no {stage} -> {rig} on {tf})",
    "lens": "the take has no lens state (nothing on {lens}: recorded before the lens topic, or a rig without "
            "lens encoders)",
    "intrinsics": "no lens state and no camera_info for this frame: the focal length the LiDAR is projected "
                  "with is unknown",
    "mount": "the take does not say where the LiDAR sits on the rig (no calibration, no /tf_static {rig} -> {frame})",
}


@dataclass(frozen=True)
class TakeFrame:
    """One chosen frame of a take, fused again and labelled.

    ``frame_index``: its place among the take's camera frames; ``t_ns``: exposure mid-time
    (master ns); ``depth_m`` (H, W) float32 optical-axis depth, NaN where no return, None when
    the take has no LiDAR; ``missing``: the labeler's label names (``focal_length``,
    ``movement``, ``subject``, ``shot_size``) -> why each is missing.
    """

    frame_index: int
    t_ns: int
    timecode: Optional[Timecode]
    timecode_verdict: Optional[str]
    rgb: np.ndarray
    depth_m: Optional[np.ndarray]
    fused: FusedFrame
    labels: FrameLabels
    missing: Mapping[str, str]


class TakeFrames:
    """The chosen frames of one take, fused again and labelled (module docstring).

    Opening reads ``take.json`` and the bag's small topics (:func:`.bag.read_tracks`); iterating
    reads the frames and sweeps once. ``take_dir`` may also be an opened :class:`TakeSource`.
    """

    def __init__(self, take_dir: Union[Path, TakeSource], fps: float = DEFAULT_FPS) -> None:
        self.chooser_fps = float(fps)
        FrameChooser(fps)  # validates the rate before any reading
        self.source = take_dir if isinstance(take_dir, TakeSource) else open_take(Path(take_dir))
        self.tracks: TakeTracks = read_tracks(self.source)
        topics = self.source.topics
        self.image_count = int(self.tracks.topic_counts.get(topics.image, 0))
        if self.image_count == 0:
            raise NoCameraFramesError(f"take {self.source.name} has no camera frames on {topics.image}: "
                                      "nothing to label")
        self.has_lidar = self.tracks.topic_counts.get(topics.lidar, 0) > 0
        self.has_pose = self.tracks.poses is not None
        self.has_lens = self.tracks.lens is not None
        #: Frames left out because their stamp did not move forward (set once iterated).
        self.frames_stale = 0

    @property
    def expected_frames(self) -> int:
        """About how many frames iterating gives (the camera's frames at the chosen rate)."""
        camera = self.source.camera
        rate = float(camera.frame_rate.fps) if camera is not None else self.chooser_fps
        return int(math.ceil(self.image_count * min(1.0, self.chooser_fps / rate)))

    def _reason(self, key: str, **extra: str) -> str:
        t = self.source.topics
        return TAKE_REASONS[key].format(lidar=t.lidar, pose=t.pose, tf=t.tf, stage=t.stage_frame, rig=t.rig_frame,
                                        lens=t.lens, **extra)

    def _take_missing(self, labels: FrameLabels, intrinsics_known: bool, mount_known: bool) -> Dict[str, str]:
        missing = dict(labels.missing)
        if not self.has_lens:
            missing["focal_length"] = self._reason("lens")
        if not self.has_pose:
            missing["movement"] = missing["subject"] = missing["shot_size"] = self._reason("pose")
        elif not self.has_lidar:
            missing["subject"] = missing["shot_size"] = self._reason("lidar")
        elif not mount_known:
            missing["subject"] = missing["shot_size"] = self._reason("mount", frame=self.source.topics.lidar_frame)
        elif not intrinsics_known:
            missing["subject"] = missing["shot_size"] = self._reason("intrinsics")
        return missing

    def __iter__(self) -> Iterator[TakeFrame]:
        source, tracks = self.source, self.tracks
        before, after = source.lidar_window_ns
        camera = source.camera
        chooser = FrameChooser(self.chooser_fps, None if camera is None else NS_PER_S / float(camera.frame_rate.fps))
        sweeps = SweepBuffer()
        pending: Deque[Tuple[int, CameraImage]] = deque()
        labeler: Optional[AutoLabeler] = None
        optics: Optional[Optics] = None
        self._observed_ns: Optional[int] = None
        label_t = np.array([label.t_ns for label in tracks.labels], dtype=np.int64)
        mount = source.T_rig_lidar
        frame_index = -1

        def ready(t_ns: int, log_ns: Optional[int]) -> bool:
            if not self.has_lidar or log_ns is None:
                return True
            if sweeps.newest_ns is not None and sweeps.newest_ns >= t_ns + after:
                return True
            return log_ns >= t_ns + after + LIDAR_WAIT_NS

        newest_frame_ns: Optional[int] = None

        def flush(log_ns: Optional[int]) -> Iterator[TakeFrame]:
            while pending and ready(pending[0][1].t_ns, log_ns):
                index, image = pending.popleft()
                yield self._fuse(index, image, sweeps, mount, optics, labeler, label_t)
            # Frames to come are exposed after the newest one read: older points are no use to them.
            horizon = pending[0][1].t_ns if pending else newest_frame_ns
            if horizon is not None:
                sweeps.prune(horizon - before)

        for item in iter_frames_and_sweeps(source, tracks):
            if isinstance(item, LidarSweep):
                if mount is None:
                    mount = tracks.static_transforms.get((source.topics.rig_frame, item.frame_id))
                sweeps.add(item)
            else:
                frame_index += 1
                if not chooser.take(item.t_ns):
                    continue
                newest_frame_ns = item.t_ns
                if optics is None:
                    h, w = item.rgb.shape[:2]
                    optics = Optics(source, tracks.camera_infos, tracks.lens, (w, h))
                    labeler = AutoLabeler(optics.camera.intrinsics.sensor_width_mm)
                pending.append((frame_index, item))
            yield from flush(item.log_ns)
        yield from flush(None)
        self.frames_stale = chooser.stale

    def _fuse(self, frame_index: int, image: CameraImage, sweeps: SweepBuffer, mount: Optional[np.ndarray],
              optics: Optional[Optics], labeler: Optional[AutoLabeler], label_t: np.ndarray) -> TakeFrame:
        assert optics is not None and labeler is not None
        source, tracks = self.source, self.tracks
        label = self._label(image.t_ns, label_t)
        # The synchronizer's exposure time for the frame (its camera schedule takes the stamps'
        # jitter out) is the stamp of the frame's timecode verdict; the image's own stamp otherwise.
        t = int(image.t_ns) if label is None else int(label.t_ns)
        before, after = source.lidar_window_ns
        poses = pose_track_at(tracks.poses, t, source.lidar_window_ns, source.hold_ns)
        lens = lens_at(tracks.lens, t, source.lidar_window_ns, source.hold_ns)
        default_focal = optics.default_focal_mm(t)
        intrinsics_known = optics.known and (lens is not None or default_focal is not None)
        T_rig_lidar = mount if mount is not None else np.eye(4)
        points = sweeps.points(t - before, t + after, T_rig_lidar) if mount is not None else \
            LidarPoints(np.zeros((0, 3), np.float32), np.zeros(0, np.int64), T_rig_lidar)
        frame = ImageFrame(image.rgb, Stamp(sensor_ns=t, host_ns=image.log_ns), frame_index,
                           None if label is None else label.timecode)
        fused = fuse_frame(frame, t, frame.timecode, points, poses, lens, optics.camera, (before, after),
                           default_focal_length_mm=DEFAULT_FOCAL_LENGTH_MM if default_focal is None else default_focal)
        self._observe_telemetry(labeler, t)
        labels = labeler.label(fused)
        missing = self._take_missing(labels, intrinsics_known, mount is not None)
        return TakeFrame(
            frame_index=frame_index,
            t_ns=t,
            timecode=fused.timecode,
            timecode_verdict=None if label is None else label.verdict,
            rgb=image.rgb,
            depth_m=fused.depth_m if self.has_lidar else None,
            fused=fused,
            labels=labels,
            missing=missing,
        )


    def _observe_telemetry(self, labeler: AutoLabeler, t_ns: int) -> None:
        """Hand the labeler every rig pose (with its lens) recorded since the last chosen frame and
        before this one: the movement window then holds the telemetry at its own rate, not only
        the chosen frames (at 12 frames a second a 0.5 s window would hold six at best)."""
        poses = self.tracks.poses
        if poses is None:
            return
        start = self._observed_ns
        lo = 0 if start is None else int(np.searchsorted(poses.t_ns, start, side="right"))
        hi = int(np.searchsorted(poses.t_ns, t_ns, side="left"))
        lens = self.tracks.lens
        for j in range(max(lo, hi - 200), hi):  # at most 2 s of 100 Hz telemetry
            pose_t = int(poses.t_ns[j])
            focal = None
            if lens is not None and lens.t_ns.size:
                focal = float(np.interp(pose_t, lens.t_ns, lens.focal_length_mm))
            labeler.observe(RigPose(pose_t, poses.position_m[j], poses.quat_xyzw[j]), focal)
        self._observed_ns = int(t_ns)

    def _label(self, t_ns: int, label_t: np.ndarray) -> Optional[FrameLabel]:
        """The frame timecode verdict stamped nearest ``t_ns``, if within half a frame of it."""
        j = nearest(label_t, t_ns)
        if j is None:
            return None
        candidate = self.tracks.labels[j]
        half_frame = NS_PER_S / (2.0 * float(candidate.timecode.rate.fps))
        return candidate if abs(candidate.t_ns - int(t_ns)) <= half_frame else None


def iter_take_frames(take_dir: Union[Path, TakeSource], fps: float = DEFAULT_FPS) -> Iterator[TakeFrame]:
    """The take's chosen frames at ``fps``, fused again and labelled, in order (:class:`TakeFrames`).

    Raises :class:`~.errors.NotATakeError`, :class:`~.errors.BagReadError` or
    :class:`~.errors.NoCameraFramesError` before the first frame when the take cannot give any.
    """
    return iter(TakeFrames(take_dir, fps))
