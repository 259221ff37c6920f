"""Typed settings for Onset: pydantic models of a rig and the YAML profiles that fill them."""

from config.errors import ConfigError, ProfileNotFoundError, ProfileSyntaxError, ProfileValueError
from config.loader import DEFAULT_PROFILE, PROFILE_DIR, list_profiles, load_profile, load_rig, resolve_profile
from config.models import (
    CameraConfig,
    CameraSource,
    ClockConfig,
    IntrinsicsConfig,
    LensCalibrationConfig,
    LidarConfig,
    LidarModel,
    MountConfig,
    RigConfig,
    ShotKeyframe,
    StageConfig,
    TelemetryConfig,
    TimecodeConfig,
)

__all__ = [
    "ConfigError",
    "ProfileNotFoundError",
    "ProfileSyntaxError",
    "ProfileValueError",
    "DEFAULT_PROFILE",
    "PROFILE_DIR",
    "list_profiles",
    "load_profile",
    "load_rig",
    "resolve_profile",
    "CameraConfig",
    "CameraSource",
    "ClockConfig",
    "IntrinsicsConfig",
    "LensCalibrationConfig",
    "LidarConfig",
    "LidarModel",
    "MountConfig",
    "RigConfig",
    "ShotKeyframe",
    "StageConfig",
    "TelemetryConfig",
    "TimecodeConfig",
]
