"""Camera movement over a window of synthetic rig poses, built as a tracker would report them."""

import math
from typing import Callable, Optional

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.captioner.lens import ZOOM_THRESHOLD_PCT_PER_S, ZoomDirection
from engines.captioner.movement import (
    DEFAULT_WINDOW_S,
    HANDHELD_ROTATION_RMS_DEG,
    HANDHELD_TRANSLATION_RMS_MM,
    NOMINAL_SUBJECT_DISTANCE_M,
    STATIC_ROTATION_DEG_PER_S,
    STATIC_TRANSLATION_M_PER_S,
    UNIT_DEG_PER_S,
    UNIT_M_PER_S,
    UNIT_PCT_PER_S,
    MovementClass,
    classify_movement,
    translation_equivalent_deg_per_s,
)
from sensors.vocabulary import NS_PER_MS, NS_PER_S, RigPose, matrix_to_quat, rotation_from_pan_tilt_roll

C = MovementClass
T0_NS = 7 * NS_PER_S
Angle = Callable[[float], float]


def _const(value: float) -> Angle:
    return lambda t: value


def _line(start: float, rate: float) -> Angle:
    return lambda t: start + rate * t


_ZERO = _const(0.0)


def _poses(
    *,
    pan: Angle = _ZERO,
    tilt: Angle = _ZERO,
    roll: Angle = _ZERO,
    velocity_m_per_s=(0.0, 0.0, 0.0),
    start_m=(1.0, -2.0, 1.5),
    duration_s: float = DEFAULT_WINDOW_S,
    rate_hz: float = 100.0,
    angle_noise: Optional[Angle] = None,
    position_noise: Optional[Callable[[float], np.ndarray]] = None,
) -> list[RigPose]:
    """Poses at ``rate_hz`` over ``duration_s``: angles (deg) as functions of time (s), position
    moving at a constant stage velocity (m/s), plus optional jitter (deg, m) per sample."""
    count = int(round(duration_s * rate_hz)) + 1
    poses = []
    for i in range(count):
        t = i / rate_hz
        extra = 0.0 if angle_noise is None else angle_noise(t)
        R = rotation_from_pan_tilt_roll(pan(t) + extra, tilt(t) - extra, roll(t) + 0.5 * extra)
        position = np.asarray(start_m, dtype=float) + t * np.asarray(velocity_m_per_s, dtype=float)
        if position_noise is not None:
            position = position + position_noise(t)
        t_ns = T0_NS + int(round(t * NS_PER_S))
        poses.append(RigPose(t_ns=t_ns, position_m=position, orientation_xyzw=matrix_to_quat(R)))
    return poses


def _levelled(heading_deg: float, forward: float = 0.0, left: float = 0.0, up: float = 0.0) -> tuple:
    """Stage velocity (m/s) of a move along a heading's forward, left and up axes."""
    h = math.radians(heading_deg)
    return (forward * math.cos(h) - left * math.sin(h), forward * math.sin(h) + left * math.cos(h), up)


def _shake(amplitude: float, seed: int) -> Callable[[float], float]:
    """Operator-like shake: three sines between 3 and 9 Hz with seeded phases, plus noise."""
    rng = np.random.default_rng(seed)
    phases = rng.uniform(0, 2 * math.pi, 3)
    noise = {}

    def shake(t: float) -> float:
        key = round(t * 1000)
        if key not in noise:
            noise[key] = rng.normal(0.0, 0.2 * amplitude)
        waves = sum(math.sin(2 * math.pi * f * t + p) for f, p in zip((3.1, 5.3, 8.7), phases))
        return amplitude * waves / 2 + noise[key]

    return shake


@pytest.mark.parametrize("member", list(MovementClass))
def test_classes_are_string_enums_of_their_names(member):
    assert member.value == member.name.lower()
    assert MovementClass(member.value) is member


@pytest.mark.parametrize("heading_deg", [0.0, 30.0, -120.0, 179.0])
@pytest.mark.parametrize("speed_m_per_s", [0.2, 0.5, 1.5])
@pytest.mark.parametrize(("sign", "expected"), [(1.0, C.DOLLY_IN), (-1.0, C.DOLLY_OUT)])
def test_dolly_along_the_lens_whatever_the_heading(heading_deg, speed_m_per_s, sign, expected):
    poses = _poses(pan=_const(heading_deg), velocity_m_per_s=_levelled(heading_deg, forward=sign * speed_m_per_s))
    label = classify_movement(poses)
    assert label.movement is expected and label.secondary == ()
    assert label.speed == pytest.approx(speed_m_per_s, rel=0.02) and label.speed_unit == UNIT_M_PER_S
    assert label.rates.forward_m_per_s == pytest.approx(sign * speed_m_per_s, rel=0.02)
    assert abs(label.rates.left_m_per_s) < 1e-9 and abs(label.rates.up_m_per_s) < 1e-9


def test_dolly_in_facing_30_deg_off_stage_x_is_not_a_truck():
    # Moving along the lens at 30 deg: half the speed is along stage y, none of it is lateral.
    poses = _poses(pan=_const(30.0), velocity_m_per_s=(0.5 * math.cos(math.radians(30)), 0.25, 0.0))
    label = classify_movement(poses)
    assert label.movement is C.DOLLY_IN and label.speed == pytest.approx(0.5, rel=0.02)
    assert label.secondary == ()


@given(heading_deg=st.floats(-180.0, 180.0), speed_m_per_s=st.floats(0.1, 2.0), tilt_deg=st.floats(-40.0, 40.0))
@settings(max_examples=30)
def test_dolly_in_any_heading_and_tilt(heading_deg, speed_m_per_s, tilt_deg):
    poses = _poses(pan=_const(heading_deg), tilt=_const(tilt_deg),
                   velocity_m_per_s=_levelled(heading_deg, forward=speed_m_per_s))
    label = classify_movement(poses)
    assert label.movement is C.DOLLY_IN and label.speed == pytest.approx(speed_m_per_s, rel=0.02)


@pytest.mark.parametrize("pan_deg", [0.0, 30.0, 90.0, -135.0, 180.0])
@pytest.mark.parametrize(("left_m_per_s", "expected"),
                         [(0.4, C.TRUCK_LEFT), (-0.4, C.TRUCK_RIGHT), (1.2, C.TRUCK_LEFT)])
def test_truck_whatever_the_pan(pan_deg, left_m_per_s, expected):
    label = classify_movement(_poses(pan=_const(pan_deg), velocity_m_per_s=_levelled(pan_deg, left=left_m_per_s)))
    assert label.movement is expected and label.secondary == ()
    assert label.speed == pytest.approx(abs(left_m_per_s), rel=0.02) and label.speed_unit == UNIT_M_PER_S
    assert label.rates.left_m_per_s == pytest.approx(left_m_per_s, rel=0.02)


@pytest.mark.parametrize("tilt_deg", [0.0, -25.0, 30.0])
@pytest.mark.parametrize(("up_m_per_s", "expected"),
                         [(0.3, C.PEDESTAL_UP), (-0.3, C.PEDESTAL_DOWN), (0.8, C.PEDESTAL_UP)])
def test_pedestal_is_vertical_even_with_the_lens_tilted(tilt_deg, up_m_per_s, expected):
    label = classify_movement(_poses(pan=_const(40.0), tilt=_const(tilt_deg), velocity_m_per_s=(0.0, 0.0, up_m_per_s)))
    assert label.movement is expected and label.secondary == ()
    assert label.speed == pytest.approx(abs(up_m_per_s), rel=0.02)


@pytest.mark.parametrize("tilt_deg", [0.0, 15.0, -30.0])
@pytest.mark.parametrize(("rate_deg_per_s", "expected"), [(5.0, C.PAN_LEFT), (20.0, C.PAN_LEFT), (-60.0, C.PAN_RIGHT)])
def test_pan(tilt_deg, rate_deg_per_s, expected):
    label = classify_movement(_poses(pan=_line(-70.0, rate_deg_per_s), tilt=_const(tilt_deg)))
    assert label.movement is expected and label.secondary == ()
    assert label.speed == pytest.approx(abs(rate_deg_per_s), rel=0.02) and label.speed_unit == UNIT_DEG_PER_S
    assert label.rates.pan_deg_per_s == pytest.approx(rate_deg_per_s, rel=0.02)


@pytest.mark.parametrize(("start_deg", "rate_deg_per_s"), [(175.0, 20.0), (-175.0, -20.0)])
def test_pan_across_the_back_of_the_stage_is_unwrapped(start_deg, rate_deg_per_s):
    label = classify_movement(_poses(pan=_line(start_deg, rate_deg_per_s)))
    assert label.movement is (C.PAN_LEFT if rate_deg_per_s > 0 else C.PAN_RIGHT)
    assert label.speed == pytest.approx(20.0, rel=0.02)
    assert label.jitter.rotation_rms_deg < 1e-6


@pytest.mark.parametrize(("rate_deg_per_s", "expected"), [(4.0, C.TILT_UP), (25.0, C.TILT_UP), (-10.0, C.TILT_DOWN)])
def test_tilt(rate_deg_per_s, expected):
    label = classify_movement(_poses(pan=_const(-30.0), tilt=_line(-5.0, rate_deg_per_s)))
    assert label.movement is expected and label.secondary == ()
    assert label.speed == pytest.approx(abs(rate_deg_per_s), rel=0.02)


@pytest.mark.parametrize(("start_deg", "rate_deg_per_s"), [(0.0, 8.0), (-3.0, -15.0), (177.0, 10.0), (-178.0, -8.0)])
def test_roll_either_way_and_across_180(start_deg, rate_deg_per_s):
    label = classify_movement(_poses(pan=_const(60.0), roll=_line(start_deg, rate_deg_per_s)))
    assert label.movement is C.ROLL and label.secondary == ()
    assert label.speed == pytest.approx(abs(rate_deg_per_s), rel=0.02)
    assert label.rates.roll_deg_per_s == pytest.approx(rate_deg_per_s, rel=0.02)


@pytest.mark.parametrize(("start_mm", "rate_mm_per_s", "expected"),
                         [(35.0, 7.0, C.ZOOM_IN), (100.0, -30.0, C.ZOOM_OUT), (24.0, 2.0, C.ZOOM_IN)])
def test_zoom_from_a_focal_ramp(start_mm, rate_mm_per_s, expected):
    poses = _poses(pan=_const(10.0))
    focal = [start_mm + rate_mm_per_s * (p.t_ns - T0_NS) / NS_PER_S for p in poses]
    label = classify_movement(poses, focal)
    expected_pct = 100.0 * rate_mm_per_s / (start_mm + rate_mm_per_s * DEFAULT_WINDOW_S / 2)
    assert label.movement is expected and label.speed_unit == UNIT_PCT_PER_S
    assert label.speed == pytest.approx(abs(expected_pct), rel=0.02)
    assert label.rates.zoom_pct_per_s == pytest.approx(expected_pct, rel=0.02)
    assert label.rates.zoom_mm_per_s == pytest.approx(rate_mm_per_s, rel=0.02)
    assert label.zoom.direction is (ZoomDirection.IN if rate_mm_per_s > 0 else ZoomDirection.OUT)


@pytest.mark.parametrize("rate_hz", [24.0, 100.0])
def test_static_with_encoder_noise(rate_hz):
    rng = np.random.default_rng(3)
    poses = _poses(pan=_const(45.0), tilt=_const(-10.0), rate_hz=rate_hz,
                   angle_noise=lambda t: rng.normal(0.0, 0.01), position_noise=lambda t: rng.normal(0.0, 0.0005, 3))
    focal = list(50.0 + rng.normal(0.0, 0.05, len(poses)))
    label = classify_movement(poses, focal)
    assert label.movement is C.STATIC and label.secondary == () and label.speed is None
    assert label.zoom.direction is ZoomDirection.STATIC
    assert label.jitter.rotation_rms_deg < HANDHELD_ROTATION_RMS_DEG / 3
    assert label.jitter.translation_rms_mm < HANDHELD_TRANSLATION_RMS_MM / 3


@pytest.mark.parametrize(
    ("kind", "rate", "expected"),
    [
        ("dolly", 0.055, C.DOLLY_IN), ("dolly", 0.045, C.STATIC),
        ("truck", 0.055, C.TRUCK_RIGHT), ("truck", 0.045, C.STATIC),
        ("pedestal", 0.055, C.PEDESTAL_DOWN), ("pedestal", 0.045, C.STATIC),
        ("pan", 1.65, C.PAN_LEFT), ("pan", 1.35, C.STATIC),
        ("tilt", 1.65, C.TILT_DOWN), ("tilt", 1.35, C.STATIC),
        ("roll", 1.65, C.ROLL), ("roll", 1.35, C.STATIC),
        ("zoom", 1.1, C.ZOOM_OUT), ("zoom", 0.9, C.STATIC),
    ],
)
def test_thresholds_just_above_and_below(kind, rate, expected):
    # The documented thresholds, 10 % either side: 0.05 m/s, 1.5 deg/s, 1 %/s.
    assert (STATIC_TRANSLATION_M_PER_S, STATIC_ROTATION_DEG_PER_S, ZOOM_THRESHOLD_PCT_PER_S) == (0.05, 1.5, 1.0)
    heading = 30.0
    poses = {
        "dolly": lambda: _poses(pan=_const(heading), velocity_m_per_s=_levelled(heading, forward=rate)),
        "truck": lambda: _poses(pan=_const(heading), velocity_m_per_s=_levelled(heading, left=-rate)),
        "pedestal": lambda: _poses(pan=_const(heading), velocity_m_per_s=(0.0, 0.0, -rate)),
        "pan": lambda: _poses(pan=_line(heading, rate)),
        "tilt": lambda: _poses(pan=_const(heading), tilt=_line(0.0, -rate)),
        "roll": lambda: _poses(pan=_const(heading), roll=_line(0.0, rate)),
        "zoom": lambda: _poses(pan=_const(heading)),
    }[kind]()
    focal = None
    if kind == "zoom":
        rate_mm_per_s = -rate / 100.0 * 50.0
        focal = [50.0 + rate_mm_per_s * ((p.t_ns - T0_NS) / NS_PER_S - DEFAULT_WINDOW_S / 2) for p in poses]
    label = classify_movement(poses, focal)
    assert label.movement is expected
    assert label.secondary == ()


def test_dolly_dominates_a_slow_pan():
    poses = _poses(pan=_line(0.0, 3.0), velocity_m_per_s=_levelled(0.75, forward=0.5))
    label = classify_movement(poses)
    assert label.movement is C.DOLLY_IN and label.speed == pytest.approx(0.5, rel=0.02)
    assert [m.kind for m in label.secondary] == [C.PAN_LEFT]
    assert label.secondary[0].speed == pytest.approx(3.0, rel=0.02) and label.secondary[0].unit == UNIT_DEG_PER_S


def test_fast_pan_dominates_a_dolly_and_a_zoom():
    poses = _poses(pan=_line(-5.0, -20.0), velocity_m_per_s=_levelled(-10.0, forward=-0.3))
    focal = [40.0 + 2.0 * (p.t_ns - T0_NS) / NS_PER_S for p in poses]
    label = classify_movement(poses, focal)
    assert label.movement is C.PAN_RIGHT and label.speed == pytest.approx(20.0, rel=0.02)
    assert [m.kind for m in label.secondary] == [C.DOLLY_OUT, C.ZOOM_IN]
    assert label.secondary[0].speed == pytest.approx(0.3, rel=0.02) and label.secondary[0].unit == UNIT_M_PER_S


@pytest.mark.parametrize(("pan_deg_per_s", "expected"), [(5.4, C.TRUCK_LEFT), (6.1, C.PAN_RIGHT)])
def test_truck_and_pan_compare_at_the_nominal_subject_distance(pan_deg_per_s, expected):
    # 0.3 m/s at 3 m moves the subject at 5.73 deg/s: a 5.4 deg/s pan is the lesser move, 6.1 the greater.
    assert translation_equivalent_deg_per_s(0.3) == pytest.approx(math.degrees(0.3 / NOMINAL_SUBJECT_DISTANCE_M))
    poses = _poses(pan=_line(20.0 + pan_deg_per_s * DEFAULT_WINDOW_S / 2, -pan_deg_per_s),
                   velocity_m_per_s=_levelled(20.0, left=0.3))
    label = classify_movement(poses)
    assert label.movement is expected
    assert {m.kind for m in label.secondary} == {C.TRUCK_LEFT, C.PAN_RIGHT} - {expected}


@pytest.mark.parametrize(("pan_deg_per_s", "expected"), [(5.4, C.ZOOM_IN), (6.1, C.PAN_LEFT)])
def test_zoom_and_pan_compare_as_the_equivalent_dolly(pan_deg_per_s, expected):
    # 10 %/s scales the picture as a dolly at 0.3 m/s toward a subject 3 m away: 5.73 deg/s.
    poses = _poses(pan=_line(0.0, pan_deg_per_s))
    focal = [50.0 + 5.0 * ((p.t_ns - T0_NS) / NS_PER_S - DEFAULT_WINDOW_S / 2) for p in poses]
    label = classify_movement(poses, focal)
    assert label.movement is expected
    assert {m.kind for m in label.secondary} == {C.ZOOM_IN, C.PAN_LEFT} - {expected}


def test_combined_move_reports_every_axis_rate():
    poses = _poses(pan=_line(90.0, 4.0), tilt=_line(-10.0, 2.0),
                   velocity_m_per_s=_levelled(91.0, forward=0.2, left=-0.1, up=0.15))
    rates = classify_movement(poses).rates
    assert rates.forward_m_per_s == pytest.approx(0.2, rel=0.02)
    assert rates.left_m_per_s == pytest.approx(-0.1, rel=0.02)
    assert rates.up_m_per_s == pytest.approx(0.15, rel=0.02)
    assert rates.pan_deg_per_s == pytest.approx(4.0, rel=0.02)
    assert rates.tilt_deg_per_s == pytest.approx(2.0, rel=0.02)
    assert abs(rates.roll_deg_per_s) < 0.01
    assert rates.zoom_pct_per_s is None


def test_handheld_shake_on_a_static_camera():
    label = classify_movement(_poses(pan=_const(15.0), angle_noise=_shake(0.3, seed=1)))
    assert label.movement is C.HANDHELD and label.speed is None
    assert label.jitter.rotation_rms_deg >= HANDHELD_ROTATION_RMS_DEG


def test_handheld_that_pans_is_handheld_with_the_pan_secondary():
    rng = np.random.default_rng(2)
    poses = _poses(pan=_line(0.0, 12.0), angle_noise=_shake(0.3, seed=2),
                   position_noise=lambda t: rng.normal(0.0, 0.002, 3))
    label = classify_movement(poses)
    assert label.movement is C.HANDHELD
    assert label.secondary and label.secondary[0].kind is C.PAN_LEFT
    assert label.secondary[0].speed == pytest.approx(12.0, rel=0.1)


def test_handheld_by_translation_jitter_alone():
    rng = np.random.default_rng(4)
    label = classify_movement(_poses(position_noise=lambda t: rng.normal(0.0, 0.004, 3)))
    assert label.movement is C.HANDHELD
    assert label.jitter.translation_rms_mm >= HANDHELD_TRANSLATION_RMS_MM
    assert label.jitter.rotation_rms_deg < 1e-6


@pytest.mark.parametrize(("amplitude_deg", "expected"), [(0.135, C.STATIC), (0.165, C.HANDHELD)])
def test_handheld_threshold_on_rotation_jitter(amplitude_deg, expected):
    # A 7 Hz wobble on pan, tilt and roll at once: RMS ~ 1.0 x amplitude after the fit (0.15 deg threshold).
    wobble = lambda t: amplitude_deg * math.sin(2 * math.pi * 7.0 * t)  # noqa: E731
    label = classify_movement(_poses(angle_noise=wobble))
    assert label.movement is expected
    assert label.jitter.rotation_rms_deg == pytest.approx(amplitude_deg, rel=0.02)


@pytest.mark.parametrize(("amplitude_mm", "expected"), [(5.4, C.STATIC), (6.6, C.HANDHELD)])
def test_handheld_threshold_on_translation_jitter(amplitude_mm, expected):
    # A 7 Hz sway along stage x: the fit leaves ~0.67 x amplitude RMS (3.6 and 4.4 mm; threshold 4 mm).
    sway = lambda t: np.array([amplitude_mm / 1000.0 * math.sin(2 * math.pi * 7.0 * t), 0.0, 0.0])  # noqa: E731
    label = classify_movement(_poses(position_noise=sway))
    assert label.movement is expected
    assert label.jitter.translation_rms_mm == pytest.approx(0.67 * amplitude_mm, rel=0.03)


def test_a_steadily_accelerating_pan_is_not_handheld():
    # From rest to 20 deg/s across the window: quadratic in time, so the fit leaves nothing.
    label = classify_movement(_poses(pan=lambda t: 20.0 * t * t))
    assert label.movement is C.PAN_LEFT
    assert label.speed == pytest.approx(10.0, rel=0.02)  # the window's mean rate
    assert label.jitter.rotation_rms_deg < 1e-6


def test_window_is_the_last_half_second_before_end_ns():
    still = _poses(duration_s=1.0)
    moving = _poses(duration_s=1.0, velocity_m_per_s=(0.0, 0.0, 0.5), start_m=still[-1].position_m)
    poses = still + [RigPose(p.t_ns + NS_PER_S + 10 * NS_PER_MS, p.position_m, p.orientation_xyzw) for p in moving]
    assert classify_movement(poses, end_ns=T0_NS + 900 * NS_PER_MS).movement is C.STATIC
    label = classify_movement(poses)
    assert label.movement is C.PEDESTAL_UP and label.samples == 51


def test_no_poses_is_missing():
    label = classify_movement([])
    assert label.missing and label.missing_reason == "no poses" and label.rates is None


def test_too_few_samples_is_missing():
    label = classify_movement(_poses(rate_hz=8.0))
    assert label.missing and "5 samples" in label.missing_reason and label.speed is None


def test_a_gap_in_the_window_is_missing():
    poses = _poses(velocity_m_per_s=(0.5, 0.0, 0.0))
    label = classify_movement(poses[:20] + poses[35:])
    assert label.missing and "gap of 160.0 ms" in label.missing_reason
    # A 90 ms gap (8 lost packets) still holds the move.
    assert classify_movement(poses[:20] + poses[28:]).movement is C.DOLLY_IN


def test_a_window_the_data_only_partly_covers_is_missing():
    label = classify_movement(_poses(duration_s=0.3, velocity_m_per_s=(0.5, 0.0, 0.0)))
    assert label.missing and "first 200.0 ms" in label.missing_reason


def test_an_end_after_the_last_pose_is_missing():
    poses = _poses()
    label = classify_movement(poses, end_ns=poses[-1].t_ns + 300 * NS_PER_MS)
    assert label.missing and "last" in label.missing_reason


def test_unordered_times_are_missing():
    poses = _poses()
    poses[10], poses[11] = poses[11], poses[10]
    label = classify_movement(poses)
    assert label.missing and "do not increase" in label.missing_reason


def test_a_non_finite_pose_is_missing():
    poses = _poses()
    poses[5] = RigPose(poses[5].t_ns, np.array([np.nan, 0.0, 0.0]), poses[5].orientation_xyzw)
    label = classify_movement(poses)
    assert label.missing and "pose 5 is not finite" in label.missing_reason


@pytest.mark.parametrize("tilt_deg", [-88.0, 87.0])
def test_a_lens_pointing_straight_up_or_down_is_missing(tilt_deg):
    label = classify_movement(_poses(tilt=_const(tilt_deg), velocity_m_per_s=(0.5, 0.0, 0.0)))
    assert label.missing and "undefined" in label.missing_reason


def test_missing_focal_lengths_leave_the_pose_classes_and_say_why():
    poses = _poses(pan=_line(0.0, 10.0))
    focal = [50.0] * len(poses)
    focal[7] = None
    label = classify_movement(poses, focal)
    assert label.movement is C.PAN_LEFT
    assert label.zoom.missing and "sample 7" in label.zoom.missing_reason
    assert label.rates.zoom_pct_per_s is None


def test_no_focal_lengths_means_no_zoom_label():
    label = classify_movement(_poses())
    assert label.movement is C.STATIC and label.zoom is None


def test_focal_lengths_must_be_one_per_pose():
    with pytest.raises(ValueError, match="one per pose"):
        classify_movement(_poses(), [50.0, 50.0])


def test_a_window_shorter_than_a_label_needs_is_an_error():
    with pytest.raises(ValueError, match="window_s"):
        classify_movement(_poses(), window_s=0.1)
