"""Open every driver a rig profile names, all or nothing.

A :class:`SensorRig` starts the drivers in a fixed order; if one fails, those already open are
closed again (in reverse order) and the error names the sensor that failed. Driver modules are
imported here, lazily, so importing :mod:`sensors` stays light.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, List, Optional

from config.models import CameraSource, RigConfig
from sensors.errors import SensorError, SensorOpenError
from sensors.stats import SensorStats

__all__ = ["DriverHandle", "SensorRig"]


def _named(name: str, callback: Optional[Callable]) -> Optional[Callable]:
    """``callback(name, sample)`` as a driver's one-argument callback; None stays None."""
    if callback is None:
        return None
    return lambda sample: callback(name, sample)


def _named_stamp(name: str, callback: Optional[Callable]) -> Optional[Callable]:
    """``callback(name, sensor_ns, host_ns)`` as a driver's stamp callback; None stays None."""
    if callback is None:
        return None
    return lambda sensor_ns, host_ns: callback(name, sensor_ns, host_ns)


@dataclass
class DriverHandle:
    """One open driver: its sensor name, its family, the driver object and its stats."""

    name: str
    family: str  # "lidar" | "telemetry" | "camera" | "timecode"
    driver: Any
    expected_rate_hz: float  # packets per second for LiDAR and FreeD, frames for camera and timecode

    @property
    def stats(self) -> SensorStats:
        return self.driver.stats


class SensorRig:
    """The drivers of one rig. ``start()`` opens all or none; ``close()`` closes all.

    ``include_camera``: open the camera pipeline too. An ``appsrc`` camera is fed only by code
    in this same process, so probing another process's stage leaves it out (an ``rtp`` camera,
    the simulated stage's, comes over the wire like any other sensor).
    Callbacks receive every decoded sample with the name of the sensor it came from:
    ``on_cloud(name, PointCloud)`` (whole LiDAR sweeps), ``on_lidar_slice(name, PointCloud)`` (the
    same points a few ms at a time, ``LidarConfig.slice_ms``), ``on_telemetry(name, TelemetrySample)``,
    ``on_frame(name, ImageFrame)``, and every LiDAR packet's clock pair ``on_lidar_stamp(name, sensor_ns, host_ns)``.
    """

    def __init__(
        self,
        rig: RigConfig,
        include_camera: bool = True,
        on_cloud: Optional[Callable] = None,
        on_telemetry: Optional[Callable] = None,
        on_frame: Optional[Callable] = None,
        clock_ns: Callable[[], int] = time.time_ns,
        on_lidar_stamp: Optional[Callable] = None,
        on_lidar_slice: Optional[Callable] = None,
        on_timecode: Optional[Callable] = None,
    ) -> None:
        self.rig = rig
        self._include_camera = include_camera
        self._on_cloud, self._on_telemetry, self._on_frame = on_cloud, on_telemetry, on_frame
        self._on_lidar_stamp = on_lidar_stamp
        self._on_lidar_slice = on_lidar_slice
        self._on_timecode = on_timecode  # on_timecode(name, TimecodeSample) per decoded LTC frame
        self._clock_ns = clock_ns
        self.handles: List[DriverHandle] = []

    def _factories(self) -> List[tuple]:
        from sensors.lidar.driver import VelodyneDriver
        from sensors.telemetry.driver import FreedDriver
        from sensors.timecode.driver import TimecodeDriver

        from sensors.lidar.velodyne import packet_period_ns

        out: List[tuple] = []
        for cfg in (c for c in self.rig.lidars if c.source == "driver"):
            # Velodyne packets leave at a fixed rate whatever the spin rate: count packets.
            out.append((cfg.name, "lidar", 1e9 / packet_period_ns(cfg.model.value),
                        lambda c=cfg: VelodyneDriver(c, on_cloud=_named(c.name, self._on_cloud), clock_ns=self._clock_ns,
                                                        on_stamp=_named_stamp(c.name, self._on_lidar_stamp),
                                                        on_slice=_named(c.name, self._on_lidar_slice))))
        for cfg in self.rig.telemetry:
            out.append((cfg.name, "telemetry", cfg.rate_hz,
                        lambda c=cfg: FreedDriver(c, on_sample=_named(c.name, self._on_telemetry), clock_ns=self._clock_ns,
                                                      spare_is_counter=c.spare_is_counter)))
        if self._include_camera:
            from sensors.camera.driver import CameraDriver

            cam = self.rig.camera
            out.append((cam.name, "camera", float(cam.frame_rate.fps),
                        lambda: CameraDriver(cam, on_frame=_named(cam.name, self._on_frame), clock_ns=self._clock_ns)))
        tc = self.rig.timecode
        # The timecode driver reads timecode.input; with input none it is still opened where the
        # in-process simulated stage feeds it LTC through feed_audio (a camera that records LTC).
        if tc.input.kind != "none" or (self._include_camera and getattr(self.rig.camera, "ltc", False)):
            from sensors.timecode.ltc import ltc_rate

            # Decoded LTC frames per second: half the project rate above 30 fps (frame pairs).
            out.append(("timecode", "timecode", float(ltc_rate(tc.frame_rate).fps),
                        lambda: TimecodeDriver(tc, clock_ns=self._clock_ns,
                                               on_sample=_named("timecode", self._on_timecode))))
        return out

    def start(self) -> "SensorRig":
        for name, family, rate_hz, make in self._factories():
            try:
                driver = make()
                start = getattr(driver, "start", None)
                if start is not None:
                    start()
            except SensorError as err:
                self.close()
                raise SensorOpenError(f"could not open {family} sensor {name!r}: {err}") from err
            except Exception as err:
                self.close()
                raise SensorOpenError(f"could not open {family} sensor {name!r}: {type(err).__name__}: {err}") from err
            self.handles.append(DriverHandle(name, family, driver, rate_hz))
        return self

    def get(self, name: str) -> DriverHandle:
        for handle in self.handles:
            if handle.name == name:
                return handle
        raise KeyError(f"no open sensor named {name!r}; open: {[h.name for h in self.handles]}")

    def close(self) -> None:
        while self.handles:
            handle = self.handles.pop()
            close = getattr(handle.driver, "close", None)
            if close is not None:
                close()

    def __enter__(self) -> "SensorRig":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def camera_is_in_process(rig: RigConfig) -> bool:
        """True when only code in this same process can feed the camera (an ``appsrc`` source)."""
        return rig.camera.source is CameraSource.APPSRC
