"""Helpers of the telemetry tests: a known rig motion, configs, loopback ports, polling."""

from __future__ import annotations


import numpy as np
from hypothesis import settings

from config.models import ClockConfig, LensCalibrationConfig, TelemetryConfig
from sensors.vocabulary import LensState, RigPose, matrix_to_quat, rotation_from_pan_tilt_roll
from tests.polling import wait_for  # noqa: F401 - re-exported for the telemetry tests
from sensors.ports import free_loopback_port

EPOCH_NS = 1_700_000_000_000_000_000


def dolly_pose_at(epoch_ns: int):
    """A rig on a dolly at 1 m/s along stage x, panning 30 deg/s, zooming and racking focus."""

    def pose_at(master_ns: int):
        t_s = (master_ns - epoch_ns) / 1e9
        position_m = np.array([-4.0 + 1.0 * t_s, -3.0 + 0.1 * t_s, 1.5])
        pan_deg = -170.0 + 30.0 * t_s  # crosses +-180 after 11.7 s
        R = rotation_from_pan_tilt_roll(pan_deg, -5.0 + 0.5 * t_s, 1.0)
        pose = RigPose(t_ns=int(master_ns), position_m=position_m, orientation_xyzw=matrix_to_quat(R))
        lens = LensState(focal_length_mm=24.0 + 2.0 * t_s, focus_distance_m=2.0 + 0.25 * t_s)
        return pose, lens

    return pose_at


def property_settings(**changes) -> settings:
    """Hypothesis settings for this family: derandomized, so every run tries the same inputs."""
    return settings(derandomize=True, deadline=None, **changes)


def sim_stage_config(**changes) -> TelemetryConfig:
    """The default profile's FreeD feed (100 Hz, 50 ppm drift, 0.2 ms jitter, a packet counter in
    the spare bytes), with changes."""
    base = dict(
        name="freed",
        host="127.0.0.1",
        port=40000,
        rate_hz=100.0,
        camera_id=1,
        spare_is_counter=True,
        clock=ClockConfig(offset_ns=800_000, drift_ppm=50.0, jitter_ns=200_000),
        lens=LensCalibrationConfig(),
    )
    base.update(changes)
    return TelemetryConfig(**base)


def free_udp_port() -> int:
    """A loopback UDP port nothing holds, outside the ephemeral range senders draw from."""
    return free_loopback_port()


def angle_diff_deg(a: float, b: float) -> float:
    """Smallest absolute difference of two angles in degrees."""
    return abs((a - b + 180.0) % 360.0 - 180.0)
