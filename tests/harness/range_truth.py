"""The stage's true distance under a camera pixel, to score a rangefinder (the preview's distance
readout) with: what the camera sees at an instant, and a pixel well inside a subject.

:func:`true_view` casts the simulated camera's own pixel rays (:func:`sensors.sim.pixel_grid.pixel_grid_for`:
the unit ray through every *distorted* pixel centre, as the camera renders them) from the true
camera pose with the true lens, at one master time, into the stage. Each pixel gets its
optical-axis depth, the ``z`` of ``camera_optical`` (range along the ray times the ray's ``z``
component), which is what the fused depth map holds (``edge/fusion/depth.py``), and the object it
sees. Depth counts from the camera's projection centre: the sim's camera is a pinhole at the rig's
origin. A real lens's focus scale counts from the sensor plane, some centimetres behind its
entrance pupil; the sim has no such offset.

:func:`subject_pixel` picks the pixel deepest inside one object's silhouette (the image border
counts as its edge), so that a readout window around it lies on the object. To tell the page's
errors from those of the depth map it is sent, :func:`returns_error_m` gives the map's own error on
an object (each return on its silhouette against the true depth there), and
:func:`axial_speed_m_s` how fast the object moves along the optical axis: a return is the object
where it stood when the LiDAR swept it, up to a sweep (100 ms at 10 Hz) before the exposure, so a
walking subject's returns are off by about its speed times their age. Scoring only: none of this
reaches the code under test.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional

import cv2
import numpy as np

from config.models import CameraConfig
from sensors.sim.pixel_grid import pixel_grid_for

__all__ = ["SubjectPixel", "TrueView", "axial_speed_m_s", "returns_error_m", "subject_pixel", "true_view"]

#: A return this far (m) from the true depth of the silhouette it lands on is not of that object:
#: the background seen where a walking subject has since stepped in, or a return off its edge.
ON_OBJECT_M = 0.5


class TrueView(NamedTuple):
    """What the camera sees at ``t_ns`` (master ns): ``depth_m`` (H, W) float64, optical-axis depth
    (m) from the projection centre, inf where the ray meets nothing; ``object_id`` (H, W) int32,
    the stage object each pixel sees (-1: none)."""

    t_ns: int
    depth_m: np.ndarray
    object_id: np.ndarray

    def depth_at(self, col: int, row: int) -> float:
        """The optical-axis depth (m) at pixel ``(col, row)``."""
        return float(self.depth_m[int(row), int(col)])


class SubjectPixel(NamedTuple):
    """A pixel on a subject: ``col``, ``row`` and how far inside its silhouette it lies (px)."""

    col: int
    row: int
    inside_px: float


def true_view(stage, camera: CameraConfig, t_ns: int) -> TrueView:
    """Every pixel of ``camera`` cast at master time ``t_ns`` on ``stage`` (a
    :class:`sensors.sim.stage.Stage`), from its true pose (``T_stage_optical``) with its true lens
    (the focal length sets the rays)."""
    t_ns = int(t_ns)
    grid = pixel_grid_for(camera, stage.lens(t_ns).focal_length_mm)
    T = stage.T_stage_optical(t_ns)
    dirs = grid.dirs_optical.astype(np.float64)
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    hits = stage.cast_rays(np.repeat(T[None, :3, 3], len(dirs), axis=0), dirs @ T[:3, :3].T, t_ns)
    shape = (grid.height_px, grid.width_px)
    seen = hits.object_id >= 0
    depth = np.where(seen, hits.distance_m * dirs[:, 2], np.inf).reshape(shape)
    return TrueView(t_ns, depth, hits.object_id.reshape(shape).astype(np.int32))


def subject_pixel(view: TrueView, object_id: int, min_inside_px: float = 1.0) -> Optional[SubjectPixel]:
    """The pixel of ``view`` deepest inside object ``object_id``'s silhouette (Euclidean distance,
    px, to the nearest pixel off it, the image border counting as off it); None when none lies
    ``min_inside_px`` or more inside."""
    on = (view.object_id == int(object_id)).astype(np.uint8)
    padded = cv2.copyMakeBorder(on, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    inside = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    row, col = np.unravel_index(int(np.argmax(inside)), inside.shape)
    depth_px = float(inside[row, col])
    if depth_px < min_inside_px:
        return None
    return SubjectPixel(int(col), int(row), depth_px)


def returns_error_m(view: TrueView, depth_m: np.ndarray, object_id: int,
                    on_object_m: float = ON_OBJECT_M) -> np.ndarray:
    """The depth map's error (m, map less truth) at each of its returns on object ``object_id``'s
    silhouette in ``view``: ``depth_m`` (H, W) optical-axis depth, NaN where no return landed, of
    the same camera and size. Returns more than ``on_object_m`` off are left out (:data:`ON_OBJECT_M`)."""
    on = (view.object_id == int(object_id)) & np.isfinite(depth_m)
    error = depth_m[on].astype(np.float64) - view.depth_m[on]
    return error[np.abs(error) <= on_object_m]


def axial_speed_m_s(stage, camera: CameraConfig, object_id: int, t_ns: int, half_span_ns: int = 50_000_000) -> float:
    """How fast object ``object_id`` moves along the camera's optical axis at master time ``t_ns``
    (m/s, positive away from the camera): the change of its silhouette's median depth between
    ``t_ns - half_span_ns`` and ``t_ns + half_span_ns``, seen from the moving camera; NaN when it
    is out of the picture at either end."""
    medians = []
    for t in (int(t_ns) - int(half_span_ns), int(t_ns) + int(half_span_ns)):
        view = true_view(stage, camera, t)
        on = view.object_id == int(object_id)
        medians.append(float(np.median(view.depth_m[on])) if on.any() else math.nan)
    return (medians[1] - medians[0]) / (2 * half_span_ns / 1e9)
