"""Run the whole simulated stage in real time: every sensor sim, on its own clock, on the wire.

:class:`SimulatedStage` builds the :class:`~sensors.sim.stage.Stage` of a rig profile and starts
one emitter per sensor: Velodyne packets and FreeD packets over UDP to the profile's ports, and
the camera's frames with the LTC it records into the camera driver's ``appsrc``. Start-up is all
or nothing: if one emitter fails, those already started are stopped and the error names it.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

from config.models import RigConfig
from sensors.errors import SensorError, SensorOpenError

__all__ = ["SimulatedStage", "LtcTap"]


class LtcTap:
    """An :class:`~sensors.timecode.sim.LtcSim` whose audio is also heard by a timecode driver.

    On a real stage the same LTC feed goes to the camera's audio input and to the edge box's
    timecode reader; here the camera sim reads the generator, and every chunk it reads is handed
    to ``listener(samples, master_ns_of_first_sample)`` as well.
    """

    def __init__(self, ltc: Any, listener: Callable[[np.ndarray, int], object]) -> None:
        self._ltc = ltc
        self._listener = listener

    def read(self, n_samples: int) -> np.ndarray:
        first = self._ltc.samples_read
        samples = self._ltc.read(n_samples)
        self._listener(samples, self._ltc.sample_master_ns(first))
        return samples

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ltc, name)


class SimulatedStage:
    """Every simulated sensor of ``rig``, playing from master time ``epoch_ns``.

    ``camera_driver``: the open :class:`~sensors.camera.driver.CameraDriver` whose appsrc the
    camera sim feeds (None: no camera). ``timecode_driver``: a
    :class:`~sensors.timecode.driver.TimecodeDriver` that hears the LTC too (None: nobody).
    ``ports``: sensor name -> UDP port, overriding the profile (tests let drivers bind port 0).
    """

    def __init__(
        self,
        rig: RigConfig,
        epoch_ns: int,
        camera_driver: Any = None,
        timecode_driver: Any = None,
        ports: Optional[Mapping[str, int]] = None,
    ) -> None:
        from sensors.sim.stage import Stage

        self.rig = rig
        self.epoch_ns = int(epoch_ns)
        self.stage = Stage.from_rig(rig, self.epoch_ns)
        self._camera_driver = camera_driver
        self._timecode_driver = timecode_driver
        self._ports = dict(ports or {})
        self._running: List[Tuple[str, Any]] = []

    def _emitters(self) -> List[Tuple[str, Callable[[], Any]]]:
        from sensors.lidar.sim import VelodyneSender, VelodyneSim
        from sensors.telemetry.sim import FreedSender, FreedSim

        seed = self.rig.stage.seed
        out: List[Tuple[str, Callable[[], Any]]] = []
        for i, cfg in enumerate(self.rig.lidars):
            port = self._ports.get(cfg.name, cfg.port)
            out.append((cfg.name, lambda c=cfg, p=port, s=seed + 101 * (i + 1): VelodyneSender(
                VelodyneSim(c, self.stage, self.epoch_ns, seed=s), c.host, p).start()))
        for i, cfg in enumerate(self.rig.telemetry):
            port = self._ports.get(cfg.name, cfg.port)
            out.append((cfg.name, lambda c=cfg, p=port, s=seed + 211 * (i + 1): FreedSender(
                FreedSim(c, self.stage.rig_state, self.epoch_ns, seed=s), c.host, p).start()))
        if self._camera_driver is not None:
            out.append((self.rig.camera.name, self._start_camera))
        return out

    def _start_camera(self) -> Any:
        from sensors.camera.sim import CameraSim
        from sensors.timecode.sim import LtcSim

        ltc = None
        if self.rig.camera.ltc:
            ltc = LtcSim(self.rig.timecode, self.epoch_ns, seed=self.rig.stage.seed + 307)
            if self._timecode_driver is not None:
                ltc = LtcTap(ltc, self._timecode_driver.feed_audio)
        sim = CameraSim(self.rig.camera, self.stage, ltc, self.epoch_ns, seed=self.rig.stage.seed + 401)
        return sim.start(self._camera_driver)

    def start(self) -> "SimulatedStage":
        for name, start in self._emitters():
            try:
                self._running.append((name, start()))
            except (SensorError, OSError) as err:
                self.close()
                raise SensorOpenError(f"simulated sensor {name!r} failed to start: {err}") from err
        return self

    def sent(self) -> Dict[str, int]:
        """Packets (LiDAR, FreeD) or frames (camera) each emitter has put on the wire so far."""
        out: Dict[str, int] = {}
        for name, emitter in self._running:
            out[name] = int(getattr(emitter, "sent", getattr(emitter, "frames_sent", 0)))
        return out

    def errors(self) -> Dict[str, str]:
        """Emitters that stopped on an error, and why."""
        out: Dict[str, str] = {}
        for name, emitter in self._running:
            err = getattr(emitter, "error", None)
            if err is not None:
                out[name] = f"{type(err).__name__}: {err}"
        return out

    def close(self) -> None:
        while self._running:
            _, emitter = self._running.pop()
            emitter.close()

    def __enter__(self) -> "SimulatedStage":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
