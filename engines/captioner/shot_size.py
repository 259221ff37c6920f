"""Shot size: where the frame's lower edge cuts the subject's body, as camera departments name it.

A shot size is read off one number, the *cut*: how far down a standing subject's body the frame's
lower edge falls, from the top of the head, as a fraction of the subject's height (0 at the top
of the head, 1 at the floor). The lower edge is the ray through the bottom centre of the image;
where it meets the vertical plane through the subject's axis, facing the camera, is the cut
height. The bounds follow the body's landmarks (on a 1.75 m adult: chin 1.52 m, top of the chest
1.31 m, elbows and lower chest 1.12 m, hips 0.79 m, just below the knees 0.39 m):

===========  =====================  ===========================================================
size         cut (from the top)     the frame's lower edge falls
===========  =====================  ===========================================================
``ECU``      under 0.13             above the chin: part of the face fills the frame
``CU``       0.13 to 0.25           between the chin and the top of the chest (head, shoulders)
``MCU``      0.25 to 0.36           across the chest, above the elbows
``MS``       0.36 to 0.55           between the lower chest and the hips (the waist)
``MLS``      0.55 to 0.78           between the hips and just below the knees ("cowboy")
``FS``       0.78 and more          below the knees: the whole figure, filling at least
                                    :data:`WIDE_BELOW_FRAME_FRACTION` of the frame's height
``WS``       0.78 and more          the whole figure, smaller than that (wide and extreme wide)
===========  =====================  ===========================================================

The same function scores the simulated stage's truth (an actor's true position and height) and
the labeler's estimate (the subject as the LiDAR measures it), so both use one definition.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Tuple

import numpy as np

__all__ = [
    "ShotSize",
    "CUT_BOUNDS",
    "WIDE_BELOW_FRAME_FRACTION",
    "FrameCut",
    "frame_cut",
    "shot_size_of",
]


class ShotSize(str, enum.Enum):
    """The shot sizes, tightest first; ``NONE`` when no human subject is in frame."""

    ECU = "ECU"
    CU = "CU"
    MCU = "MCU"
    MS = "MS"
    MLS = "MLS"
    FS = "FS"
    WS = "WS"
    NONE = "none"

    @property
    def rank(self) -> int:
        """Position from tightest (0) to widest (6); -1 for ``NONE``."""
        return -1 if self is ShotSize.NONE else list(ShotSize).index(self)


#: Upper bounds of the cut (fraction of the subject's height from the top of the head) for each
#: size from ECU to MLS; a cut at or past the last one shows the whole figure (FS or WS).
CUT_BOUNDS: Tuple[Tuple[ShotSize, float], ...] = (
    (ShotSize.ECU, 0.13),
    (ShotSize.CU, 0.25),
    (ShotSize.MCU, 0.36),
    (ShotSize.MS, 0.55),
    (ShotSize.MLS, 0.78),
)
#: A whole figure smaller than this share of the frame's height (at the subject) is a wide shot.
WIDE_BELOW_FRAME_FRACTION = 0.4


@dataclass(frozen=True)
class FrameCut:
    """Where the frame's edges meet the subject's plane: ``cut`` (fraction of the subject's height
    from the top of the head at which the lower edge falls; may be < 0 above the head or > 1 below
    the floor), ``lower_z_m`` and ``upper_z_m`` (heights of the lower and upper edge there, stage
    metres) and ``figure_fraction`` (the subject's height over the frame's height there)."""

    cut: float
    lower_z_m: float
    upper_z_m: float
    figure_fraction: float


def _edge_height(K_inv: np.ndarray, R: np.ndarray, origin: np.ndarray, u: float, v: float,
                 point: np.ndarray, normal: np.ndarray) -> float:
    """Height (stage z) where the ray through pixel (u, v) meets the plane (point, normal)."""
    ray = R @ (K_inv @ np.array([u, v, 1.0]))
    denom = float(ray @ normal)
    if abs(denom) < 1e-9:
        return float("nan")
    s = float((point - origin) @ normal) / denom
    if s <= 0.0:
        return float("nan")  # the plane lies behind the camera
    return float(origin[2] + s * ray[2])


def frame_cut(K: np.ndarray, T_stage_optical: np.ndarray, image_size_px: Tuple[int, int],
              subject_xy_m: Tuple[float, float], subject_height_m: float,
              floor_z_m: float = 0.0) -> FrameCut:
    """Where the frame of a camera (intrinsics ``K`` (3,3), pose ``T_stage_optical`` (4,4): z along
    the lens axis, y down) cuts a standing subject whose axis stands at ``subject_xy_m`` on a floor
    at ``floor_z_m`` and whose head's top is ``subject_height_m`` above it.

    The subject's plane is vertical, through its axis, facing the camera horizontally; the lower
    and upper edges are the rays through the bottom and top centre of the image (``image_size_px``
    is width, height). Distortion is not applied: the edges' centres hardly move with it.
    """
    width, height = int(image_size_px[0]), int(image_size_px[1])
    if subject_height_m <= 0.0:
        raise ValueError(f"subject_height_m must be positive, got {subject_height_m}")
    T = np.asarray(T_stage_optical, dtype=float)
    R, origin = T[:3, :3], T[:3, 3]
    point = np.array([subject_xy_m[0], subject_xy_m[1], floor_z_m], dtype=float)
    towards = point[:2] - origin[:2]
    distance = float(np.hypot(*towards))
    if distance < 1e-6:
        raise ValueError("the subject stands where the camera is")
    normal = np.array([towards[0] / distance, towards[1] / distance, 0.0])
    K_inv = np.linalg.inv(np.asarray(K, dtype=float))
    cx = (width - 1) / 2.0
    lower = _edge_height(K_inv, R, origin, cx, height - 0.5, point, normal)
    upper = _edge_height(K_inv, R, origin, cx, -0.5, point, normal)
    top = floor_z_m + subject_height_m
    cut = (top - lower) / subject_height_m
    span = upper - lower
    figure = subject_height_m / span if span > 0.0 else float("nan")
    return FrameCut(cut=float(cut), lower_z_m=lower, upper_z_m=upper, figure_fraction=float(figure))


def shot_size_of(cut: FrameCut) -> ShotSize:
    """The shot size of a frame cut (module docstring); ``NONE`` when the cut is undefined (the
    subject's plane behind the camera or edge-on)."""
    if not np.isfinite(cut.cut):
        return ShotSize.NONE
    for size, bound in CUT_BOUNDS:
        if cut.cut < bound:
            return size
    if np.isfinite(cut.figure_fraction) and cut.figure_fraction >= WIDE_BELOW_FRAME_FRACTION:
        return ShotSize.FS
    return ShotSize.WS
