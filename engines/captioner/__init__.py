"""Onset's captioner: labels fused frames from what a real rig measures, and a model that reads them.

The auto-labeler: ``lens`` (focal length, its 35 mm equivalent, zoom over a window), ``movement``
(camera movement class over a window of rig poses), ``subject`` (the framed person from the LiDAR
depth), ``shot_size`` (the shot size from where the frame's lower edge cuts the subject) and
``labeler`` (:class:`AutoLabeler`: all of them for each fused frame). Beside it: ``inputs`` (what
the model sees), ``dataset`` (takes to a labelled dataset, docs/dataset.md), ``model`` (the
network, training, calibration, evaluation, shot captions; docs/captioner-model.md), ``export``
(ONNX in live stages) and ``live`` (the engine a worker runs). Each module's docstring states its
maths, units and thresholds; docs/architecture.md, Engines, says where the captioner runs.
"""

from engines.captioner.lens import (
    FULL_FRAME_WIDTH_MM,
    MAX_SAMPLE_GAP_NS,
    MIN_WINDOW_SAMPLES,
    MIN_WINDOW_SPAN_NS,
    SUPER35_WIDTH_MM,
    ZOOM_THRESHOLD_PCT_PER_S,
    FocalLabel,
    ZoomDirection,
    ZoomLabel,
    crop_factor,
    equivalent_focal_length_mm,
    focal_label,
    horizontal_fov_deg,
    window_problem,
    zoom_over_window,
)
from engines.captioner.labeler import STANDING_HEIGHT_M, AutoLabeler, FrameLabels
from engines.captioner.subject import Subject, find_subject
from engines.captioner.shot_size import (
    CUT_BOUNDS,
    WIDE_BELOW_FRAME_FRACTION,
    FrameCut,
    ShotSize,
    frame_cut,
    shot_size_of,
)
from engines.captioner.movement import (
    DEFAULT_WINDOW_S,
    GIMBAL_LOCK_MARGIN_DEG,
    HANDHELD_ROTATION_RMS_DEG,
    HANDHELD_TRANSLATION_RMS_MM,
    NOMINAL_SUBJECT_DISTANCE_M,
    STATIC_ROTATION_DEG_PER_S,
    STATIC_TRANSLATION_M_PER_S,
    UNIT_DEG_PER_S,
    UNIT_M_PER_S,
    UNIT_PCT_PER_S,
    AxisRates,
    Jitter,
    Motion,
    MovementClass,
    MovementLabel,
    classify_movement,
    translation_equivalent_deg_per_s,
    zoom_equivalent_deg_per_s,
)

__all__ = [
    "STANDING_HEIGHT_M",
    "AutoLabeler",
    "FrameLabels",
    "Subject",
    "find_subject",
    "CUT_BOUNDS",
    "WIDE_BELOW_FRAME_FRACTION",
    "FrameCut",
    "ShotSize",
    "frame_cut",
    "shot_size_of",
    "FULL_FRAME_WIDTH_MM",
    "SUPER35_WIDTH_MM",
    "ZOOM_THRESHOLD_PCT_PER_S",
    "MIN_WINDOW_SAMPLES",
    "MAX_SAMPLE_GAP_NS",
    "MIN_WINDOW_SPAN_NS",
    "FocalLabel",
    "ZoomDirection",
    "ZoomLabel",
    "crop_factor",
    "equivalent_focal_length_mm",
    "horizontal_fov_deg",
    "focal_label",
    "window_problem",
    "zoom_over_window",
    "DEFAULT_WINDOW_S",
    "STATIC_TRANSLATION_M_PER_S",
    "STATIC_ROTATION_DEG_PER_S",
    "NOMINAL_SUBJECT_DISTANCE_M",
    "HANDHELD_ROTATION_RMS_DEG",
    "HANDHELD_TRANSLATION_RMS_MM",
    "GIMBAL_LOCK_MARGIN_DEG",
    "UNIT_M_PER_S",
    "UNIT_DEG_PER_S",
    "UNIT_PCT_PER_S",
    "MovementClass",
    "Motion",
    "AxisRates",
    "Jitter",
    "MovementLabel",
    "translation_equivalent_deg_per_s",
    "zoom_equivalent_deg_per_s",
    "classify_movement",
]
