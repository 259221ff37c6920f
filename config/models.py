"""Typed rig configuration: every sensor, its address, rate, clock, lens and mounting.

Profiles are YAML files validated into :class:`RigConfig`; see ``config/profiles/``.
Units are in the field names. Addresses default to loopback: nothing listens beyond what the
profile names.
"""

from __future__ import annotations

import enum
from typing import List, Literal, Optional, Tuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from config.engines import EnginesConfig
from config.foxglove import FoxgloveConfig
from config.preview import PreviewConfig
from config.studio import StudioConfig
from config.recorder import RecorderConfig
from config.ros import RosConfig
from config.sync import SyncConfig
from config.rates import as_frame_rate, parse_rate

__all__ = [
    "ClockConfig",
    "MountConfig",
    "LidarModel",
    "LidarConfig",
    "LensCalibrationConfig",
    "TelemetryConfig",
    "CameraSource",
    "IntrinsicsConfig",
    "CameraConfig",
    "TimecodeInputConfig",
    "TimecodeConfig",
    "ShotKeyframe",
    "StageConfig",
    "RigConfig",
]


class _Model(BaseModel):
    """Base: unknown keys are errors (a typo in a profile must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ClockConfig(_Model):
    """A sensor's own clock relative to the master clock (simulated sensors use all three)."""

    offset_ns: int = Field(0, description="sensor clock minus master clock at start, ns")
    drift_ppm: float = Field(0.0, ge=-1000.0, le=1000.0, description="rate error, parts per million")
    jitter_ns: int = Field(0, ge=0, description="standard deviation of stamp jitter, ns")


class MountConfig(_Model):
    """A rigid transform ``T_parent_child``: translation in metres, rotation as roll/pitch/yaw degrees
    (extrinsic x-y-z, REP-103)."""

    xyz_m: Tuple[float, float, float] = (0.0, 0.0, 0.0)
    rpy_deg: Tuple[float, float, float] = (0.0, 0.0, 0.0)

    def matrix(self) -> np.ndarray:
        """4x4 homogeneous transform."""
        roll, pitch, yaw = np.radians(self.rpy_deg)
        cr, sr, cp, sp, cy, sy = np.cos(roll), np.sin(roll), np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw)
        Rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
        Ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
        Rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
        T = np.eye(4)
        T[:3, :3] = Rz @ Ry @ Rx
        T[:3, 3] = self.xyz_m
        return T


class LidarModel(str, enum.Enum):
    VLP16 = "VLP-16"
    VLP32C = "VLP-32C"


class LidarConfig(_Model):
    """A Velodyne LiDAR sending UDP data packets."""

    name: str = "lidar"
    model: LidarModel = LidarModel.VLP16
    host: str = Field("127.0.0.1", description="address the driver binds (and the sim sends to)")
    port: int = Field(2368, ge=0, le=65535, description="UDP data port (0: any free port, for tests)")
    rotation_hz: float = Field(10.0, ge=5.0, le=20.0, description="spin rate, Hz (300-1200 RPM)")
    max_range_m: float = Field(100.0, gt=0.0)
    slice_ms: float = Field(
        5.0, ge=0.0, le=1000.0, description="the driver also hands on the points of every slice_ms of packets "
        "(rounded to whole packets: 5 ms = 4 VLP-16 or 8 VLP-32C packets; 0: every packet; a slice never spans "
        "two sweeps, so a sweep's duration or more gives whole sweeps), besides whole sweeps",
    )
    clock: ClockConfig = ClockConfig()
    mount: MountConfig = Field(
        default_factory=lambda: MountConfig(xyz_m=(0.0, 0.0, 0.12)),
        description="T_rig_lidar: where the LiDAR sits on the camera body",
    )
    source: Literal["driver", "ros"] = Field(
        "driver", description="driver: Onset decodes the UDP packets; ros: a vendor driver already publishes "
        "PointCloud2 (velodyne_pointcloud, ouster-ros) on ros.inputs.lidar_points and the node subscribes to it",
    )
    topic: str = "/onset/lidar/points"
    frame_id: str = "lidar"


class LensCalibrationConfig(_Model):
    """Maps lens encoder counts to physical values, piecewise linear through the given points."""

    zoom_raw: List[int] = [0, 65535]
    focal_length_mm: List[float] = [18.0, 80.0]
    focus_raw: List[int] = [0, 65535]
    focus_distance_m: List[float] = [0.5, 50.0]
    t_stop: Optional[float] = Field(
        None, ge=0.7, le=32.0,
        description="the T-stop the crew set, for a lens whose iris no encoder reports (FreeD carries none); "
                    "every lens state carries it (the preview's depth of field needs it); None: not known")

    @model_validator(mode="after")
    def _tables_match(self) -> "LensCalibrationConfig":
        for raw, phys, name in (
            (self.zoom_raw, self.focal_length_mm, "zoom"),
            (self.focus_raw, self.focus_distance_m, "focus"),
        ):
            if len(raw) != len(phys) or len(raw) < 2:
                raise ValueError(f"{name} table needs two or more points and equal lengths, got {len(raw)} and {len(phys)}")
            if any(b <= a for a, b in zip(raw, raw[1:])):
                raise ValueError(f"{name}_raw must increase strictly, got {raw}")
        return self


class TelemetryConfig(_Model):
    """A FreeD D1 tracking feed over UDP (crane, dolly, remote head, tracking system)."""

    name: str = "freed"
    host: str = "127.0.0.1"
    port: int = Field(40000, ge=0, le=65535, description="UDP port (0: any free port, for tests)")
    rate_hz: float = Field(100.0, ge=1.0, le=1000.0)
    camera_id: int = Field(1, ge=0, le=255)
    spare_is_counter: bool = Field(
        False, description="the D1 spare bytes carry a 16-bit packet counter (Onset's sim does and says so in its "
        "profile; real devices don't: their samples are placed on the device's rate_hz schedule by arrival)"
    )
    clock: ClockConfig = ClockConfig()
    lens: LensCalibrationConfig = LensCalibrationConfig()
    topic: str = "/onset/rig/pose"


class CameraSource(str, enum.Enum):
    """Where video comes from: one GStreamer source element per kind."""

    APPSRC = "appsrc"  # frames pushed by code in the same process (tests, offline tools)
    RTP = "rtp"  # uncompressed RTP video (RFC 4175, SMPTE ST 2110-20) on UDP host:port
    VIDEOTESTSRC = "videotestsrc"
    V4L2 = "v4l2src"
    DECKLINK = "decklinkvideosrc"
    RTSP = "rtspsrc"
    FILE = "filesrc"


class IntrinsicsConfig(_Model):
    """Sensor geometry and Brown-Conrady distortion (k1, k2, p1, p2, k3) as OpenCV defines it.

    Focal length in pixels follows from the lens: ``fx = focal_length_mm / pixel_pitch_mm``.
    """

    sensor_width_mm: float = Field(24.89, gt=0.0, description="active sensor width (Super 35: 24.89 mm)")
    principal_point_px: Optional[Tuple[float, float]] = Field(None, description="cx, cy; default: image centre")
    distortion: Tuple[float, float, float, float, float] = (-0.05, 0.01, 0.0, 0.0, 0.0)
    vignetting: float = Field(0.3, ge=0.0, le=1.0, description="light lost at the corners, 0..1")


class CameraConfig(_Model):
    """The cinema camera's video feed."""

    name: str = "camera"
    source: CameraSource = CameraSource.APPSRC
    width_px: int = Field(640, ge=16, le=8192)
    height_px: int = Field(360, ge=16, le=8192)
    fps: str = Field("24", description="frame rate label, e.g. 24, 23.976, 25, 29.97DF")
    device: Optional[str] = Field(None, description="v4l2 device path, DeckLink device number, RTSP URL or file path")
    host: str = Field("127.0.0.1", description="rtp: address the driver's UDP socket binds (and the sim sends to)")
    port: int = Field(5004, ge=0, le=65535, description="rtp: UDP port of the RTP video (0: any free port, for tests)")
    shutter_angle_deg: float = Field(
        180.0, gt=0.0, le=360.0, description="exposure per frame as a shutter angle (180: half the frame period)"
    )
    intrinsics: IntrinsicsConfig = IntrinsicsConfig()
    clock: ClockConfig = ClockConfig()
    ltc: bool = Field(True, description="the camera is jam-synced to the production's LTC (the video path never waits for it)")
    topic: str = "/onset/camera/image_raw"
    frame_id: str = "camera_optical"

    @field_validator("fps")
    @classmethod
    def _known_rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @property
    def frame_rate(self):
        """The camera's rate as the vocabulary's :class:`~sensors.vocabulary.FrameRate`."""
        return as_frame_rate(self.fps)


class TimecodeInputConfig(_Model):
    """Where Onset's LTC decoder reads the LTC audio from (one input per rig).

    ``rtp``: RTP audio (L16 or L24, AES67 / SMPTE ST 2110-30) on UDP ``host:port``, sampled at the
    timecode's ``sample_rate_hz`` (the RTP clock rate); ``pulse`` / ``alsa``: a sound device
    through GStreamer ``pulsesrc`` / ``alsasrc`` (``device``, default: the system default);
    ``wav``: a WAV file at ``path`` (PCM of any width or 32/64-bit float, first channel), played
    in real time or read as a batch; ``none``: nothing feeds the decoder except ``feed_audio``.
    """

    kind: Literal["none", "rtp", "pulse", "alsa", "wav"] = Field("none", description="LTC source")
    host: str = Field("127.0.0.1", description="rtp: address the UDP socket binds")
    port: int = Field(5006, ge=0, le=65535, description="rtp: UDP port (0: any free port, for tests)")
    encoding: Literal["L16", "L24"] = Field("L16", description="rtp: 16- or 24-bit big-endian PCM payload")
    payload_type: int = Field(96, ge=0, le=127, description="rtp: RTP payload type to accept")
    channels: int = Field(1, ge=1, le=64, description="rtp / wav / device: channels; LTC is read from the first")
    reorder_packets: int = Field(4, ge=0, le=64, description="rtp: packets held to put late ones back in order")
    device: Optional[str] = Field(None, description="pulse / alsa: device name (pulse: e.g. ltc_bus.monitor)")
    path: Optional[str] = Field(None, description="wav: path of the WAV file")
    realtime: bool = Field(True, description="wav: play at the file's sample rate (false: read it as fast as possible)")

    @model_validator(mode="after")
    def _has_what_it_needs(self) -> "TimecodeInputConfig":
        if self.kind == "wav" and not self.path:
            raise ValueError("timecode input kind wav needs a path")
        return self


class TimecodeConfig(_Model):
    """The production's timecode: project rate and the LTC audio carrying it.

    Above 30 fps (48, 50, 59.94, 60) LTC runs at half the rate and each LTC frame labels a pair
    of frames, so ``start`` must be a pair's first frame (an even frame number).
    """

    rate: str = Field("24", description="project rate: 23.976, 24, 25, 29.97DF, 29.97, 30, 48, 50, 59.94(DF), 60")
    start: str = Field("01:00:00:00", description="timecode at the start of the sim run")
    sample_rate_hz: int = Field(48000, ge=8000, le=192000, description="LTC audio sample rate")
    clock: ClockConfig = ClockConfig()
    topic: str = "/onset/timecode"
    input: TimecodeInputConfig = Field(default_factory=TimecodeInputConfig, description="where the LTC comes from")
    parity_check: bool = Field(
        True, description="drop LTC frames whose polarity-correction bit is wrong (false for generators that leave it clear)"
    )

    @field_validator("rate")
    @classmethod
    def _known_rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @model_validator(mode="after")
    def _start_is_a_label(self) -> "TimecodeConfig":
        from config.rates import nominal_fps  # config's own rate table: no sensors import

        frames = self.start.strip()[-2:]
        if nominal_fps(self.rate) > 30 and frames.isdigit() and int(frames) % 2:
            raise ValueError(
                f"start {self.start!r}: at {parse_rate(self.rate)} fps LTC labels frame pairs, so the start must be a "
                f"pair's first (even) frame"
            )
        return self

    @property
    def frame_rate(self):
        """The project rate as the vocabulary's :class:`~sensors.vocabulary.FrameRate`."""
        return as_frame_rate(self.rate)


class ShotKeyframe(_Model):
    """One keyframe of the shot plan: where the rig is and what the lens does at ``t_s``."""

    t_s: float = Field(ge=0.0)
    dolly_m: float = Field(0.0, description="position along the dolly track")
    crane_lift_deg: float = Field(0.0, ge=-60.0, le=60.0, description="crane arm elevation")
    pan_deg: float = 0.0
    tilt_deg: float = Field(0.0, ge=-90.0, le=90.0)
    roll_deg: float = Field(0.0, ge=-45.0, le=45.0)
    focal_length_mm: float = Field(35.0, gt=1.0, le=1000.0)
    focus_distance_m: float = Field(3.0, gt=0.1)
    t_stop: float = Field(2.8, ge=0.7, le=32.0)


class StageConfig(_Model):
    """The simulated stage: its set, its actors, its rig and the shot it plays."""

    seed: int = 7
    width_m: float = Field(12.0, gt=2.0)
    depth_m: float = Field(16.0, gt=2.0)
    height_m: float = Field(5.0, gt=2.0)
    dressing_count: int = Field(8, ge=0, le=200, description="random set-dressing pieces")
    actor_count: int = Field(2, ge=0, le=20)
    track_origin_m: Tuple[float, float, float] = (-4.0, -3.0, 0.0)
    track_heading_deg: float = 0.0
    track_length_m: float = Field(8.0, gt=0.0)
    crane_pivot_height_m: float = Field(1.2, ge=0.0)
    crane_arm_m: float = Field(1.5, ge=0.0)
    loop: bool = Field(True, description="replay the shot plan when it ends")
    shot: List[ShotKeyframe] = Field(default_factory=lambda: [ShotKeyframe(t_s=0.0)])

    @field_validator("shot")
    @classmethod
    def _ordered(cls, keys: List[ShotKeyframe]) -> List[ShotKeyframe]:
        if not keys:
            raise ValueError("a shot plan needs at least one keyframe")
        times = [k.t_s for k in keys]
        if any(b <= a for a, b in zip(times, times[1:])):
            raise ValueError(f"keyframe times must increase strictly, got {times}")
        return keys


class StreamConfig(_Model):
    """Where fused frames go out to engine workers and the preview (pyzmq PUB)."""

    endpoint: str = Field("tcp://127.0.0.1:5557", description="zmq endpoint to bind: loopback TCP or ipc://")
    send_hwm: int = Field(2, ge=1, le=1000, description="frames queued per consumer before it loses frames")


class ControlConfig(_Model):
    """The node's control API (take start/stop): loopback only, token required."""

    host: str = Field("127.0.0.1", description="address to bind; loopback unless the stage network needs otherwise")
    port: int = Field(8765, ge=0, le=65535)
    token_env: str = Field("ONSET_CONTROL_TOKEN", description="environment variable holding the bearer token")


class RigConfig(_Model):
    """A whole rig: the stage (when simulated), every sensor, and the production's timecode."""

    name: str = "rig"
    simulated: bool = Field(True, description="run the simulated stage that feeds the sensors")
    stage: StageConfig = StageConfig()
    camera: CameraConfig = CameraConfig()
    lidars: List[LidarConfig] = Field(default_factory=lambda: [LidarConfig()])
    telemetry: List[TelemetryConfig] = Field(default_factory=lambda: [TelemetryConfig()])
    timecode: TimecodeConfig = TimecodeConfig()
    sync: SyncConfig = Field(default_factory=SyncConfig, description="how the synchronizer waits for and fuses frames")
    ros: Optional[RosConfig] = Field(
        None, description="ROS 2 node, topics and frame ids (default: derived from the sensors' topics and frames)"
    )
    recorder: RecorderConfig = Field(default_factory=RecorderConfig, description="where and how takes are recorded")
    stream: "StreamConfig" = Field(default_factory=lambda: StreamConfig())
    control: "ControlConfig" = Field(default_factory=lambda: ControlConfig())
    engines: EnginesConfig = Field(default_factory=EnginesConfig, description="the engine workers on the fused frames")
    preview: PreviewConfig = Field(default_factory=PreviewConfig, description="the live preview server (onset preview)")
    foxglove: FoxgloveConfig = Field(default_factory=FoxgloveConfig,
                                     description="the node's Foxglove WebSocket server (docs/foxglove.md)")
    studio: StudioConfig = Field(default_factory=StudioConfig,
                                 description="studio sync: chain of custody, storage, upload, catalogue "
                                             "(docs/studio-sync.md)")

    def ros_config(self) -> RosConfig:
        """The ROS 2 settings: the profile's ``ros`` section, or defaults from the sensors' topics."""
        return self.ros if self.ros is not None else RosConfig.from_rig(self)

    @model_validator(mode="after")
    def _ports_unique(self) -> "RigConfig":
        seen: dict = {}
        for sensor in [*self.lidars, *self.telemetry]:
            if sensor.port == 0:
                continue
            key = (sensor.host, sensor.port)
            if key in seen:
                raise ValueError(f"{sensor.name} and {seen[key]} both use UDP {sensor.host}:{sensor.port}")
            seen[key] = sensor.name
        # Timecode: any project rate works (LTC at half rate above 30 fps labels frame pairs);
        # an RTP timecode input must not share a UDP port with a LiDAR or FreeD feed.
        tc_in = self.timecode.input
        if tc_in.kind == "rtp" and tc_in.port != 0 and (tc_in.host, tc_in.port) in seen:
            raise ValueError(
                f"timecode input and {seen[(tc_in.host, tc_in.port)]} both use UDP {tc_in.host}:{tc_in.port}"
            )
        names = [s.name for s in [self.camera, *self.lidars, *self.telemetry]]
        if len(set(names)) != len(names):
            raise ValueError(f"sensor names must be unique, got {names}")
        # The node's and the preview's TCP servers on this box.
        servers = [("control API", self.control.port), ("preview", self.preview.port)]
        if self.foxglove.enabled:
            servers.append(("Foxglove server", self.foxglove.port))
        taken: dict = {}
        for name, port in servers:
            if port == 0:
                continue
            if port in taken:
                raise ValueError(f"the {name} and the {taken[port]} both use TCP port {port}")
            taken[port] = name
        return self

