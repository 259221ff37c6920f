"""Run the whole simulated stage in real time: every sensor sim, on its own clock, on the wire.

:class:`SimulatedStage` builds the :class:`~sensors.sim.stage.Stage` of a rig profile and starts
one emitter per sensor: Velodyne packets and FreeD packets over UDP to the profile's ports, and
the camera's frames with the LTC it records into the camera driver's ``appsrc``. Start-up is all
or nothing: if one emitter fails, those already started are stopped and the error names it.
"""

from __future__ import annotations

import multiprocessing
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

from config.models import RigConfig
from sensors.errors import SensorError, SensorOpenError

__all__ = ["SimulatedStage", "LtcTap", "START_DELAY_NS"]

_CHILD_START_TIMEOUT_S = 60.0
#: How far ahead of now a live run puts the stage's epoch: the drivers are listening and the
#: UDP emitter process has built its own stage by then, so no sensor's first packets are lost.
START_DELAY_NS = 2_000_000_000


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
    ``udp_in_subprocess``: run the LiDAR and FreeD emitters in a process of their own, as real
    sensors are separate devices: their packets then leave on time whatever this process (the
    drivers, the camera's renderer) is doing. The child builds the same stage from the same
    profile, seed and epoch, so it plays the same ground truth.
    """

    def __init__(
        self,
        rig: RigConfig,
        epoch_ns: int,
        camera_driver: Any = None,
        timecode_driver: Any = None,
        ports: Optional[Mapping[str, int]] = None,
        udp_in_subprocess: bool = False,
    ) -> None:
        from sensors.sim.stage import Stage

        self.rig = rig
        self.epoch_ns = int(epoch_ns)
        self.stage = Stage.from_rig(rig, self.epoch_ns)
        self._camera_driver = camera_driver
        self._timecode_driver = timecode_driver
        self._ports = dict(ports or {})
        self._udp_in_subprocess = udp_in_subprocess
        self._running: List[Tuple[str, Any]] = []

    def _emitters(self) -> List[Tuple[str, Callable[[], Any]]]:
        out: List[Tuple[str, Callable[[], Any]]] = []
        if self._udp_in_subprocess and (self.rig.lidars or self.rig.telemetry):
            out.append(("udp sensors", lambda: _UdpEmitterProcess(self.rig, self.epoch_ns, self._ports).start()))
        else:
            out.extend(_udp_emitters(self.rig, self.stage, self.epoch_ns, self._ports))
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
            if isinstance(emitter, _UdpEmitterProcess):
                out.update(emitter.sent())
            else:
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


def _udp_emitters(rig: RigConfig, stage: Any, epoch_ns: int, ports: Mapping[str, int]) -> List[Tuple[str, Callable[[], Any]]]:
    """(name, start) for every LiDAR and FreeD sender of ``rig``; each seeded from the stage seed."""
    from sensors.lidar.sim import VelodyneSender, VelodyneSim
    from sensors.telemetry.sim import FreedSender, FreedSim

    seed = rig.stage.seed
    out: List[Tuple[str, Callable[[], Any]]] = []
    for i, cfg in enumerate(rig.lidars):
        port = ports.get(cfg.name, cfg.port)
        out.append((cfg.name, lambda c=cfg, p=port, s=seed + 101 * (i + 1): VelodyneSender(
            VelodyneSim(c, stage, epoch_ns, seed=s), c.host, p).start()))
    for i, cfg in enumerate(rig.telemetry):
        port = ports.get(cfg.name, cfg.port)
        out.append((cfg.name, lambda c=cfg, p=port, s=seed + 211 * (i + 1): FreedSender(
            FreedSim(c, stage.rig_state, epoch_ns, seed=s), c.host, p).start()))
    return out


def _udp_child(rig_json: str, epoch_ns: int, ports: Dict[str, int], conn: Any, stop: Any, counters: Dict[str, Any]) -> None:
    """Body of the emitter process: start every UDP sender, report, keep the counters, stop on ``stop``."""
    import os
    import signal
    import sys

    from sensors.sim.stage import Stage

    # Ctrl-C reaches the whole process group: the parent decides when this child stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent_pid = os.getppid()

    # Senders sleep until each packet's time while the ray caster computes ahead: a short GIL
    # switch interval (default 5 ms) lets them wake on time.
    sys.setswitchinterval(0.0002)
    rig = RigConfig.model_validate_json(rig_json)
    running: List[Tuple[str, Any]] = []
    try:
        stage = Stage.from_rig(rig, epoch_ns)
        for name, start in _udp_emitters(rig, stage, epoch_ns, ports):
            running.append((name, start()))
    except Exception as err:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("error", f"{type(err).__name__}: {err}"))
        for _, sender in reversed(running):
            sender.close()
        return
    conn.send(("ok", ""))
    try:
        while not stop.wait(0.2) and os.getppid() == parent_pid:  # an orphan stops too
            for name, sender in running:
                counters[name].value = sender.sent
    finally:
        for _, sender in reversed(running):
            sender.close()


class _UdpEmitterProcess:
    """The UDP emitters running in a child process (spawned: safe beside GStreamer's threads)."""

    def __init__(self, rig: RigConfig, epoch_ns: int, ports: Mapping[str, int]) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        names = [c.name for c in [*rig.lidars, *rig.telemetry]]
        self._counters = {name: self._ctx.Value("q", 0) for name in names}
        self._stop = self._ctx.Event()
        self._parent_conn, child_conn = self._ctx.Pipe(duplex=False)
        self._process = self._ctx.Process(
            target=_udp_child,
            args=(rig.model_dump_json(), int(epoch_ns), dict(ports), child_conn, self._stop, self._counters),
            name="onset-sim-udp",
            daemon=True,
        )

    def start(self) -> "_UdpEmitterProcess":
        self._process.start()
        if not self._parent_conn.poll(_CHILD_START_TIMEOUT_S):
            self.close()
            raise SensorOpenError(f"the UDP sensor emitters did not start within {_CHILD_START_TIMEOUT_S:.0f} s")
        status, message = self._parent_conn.recv()
        if status != "ok":
            self.close()
            raise SensorOpenError(f"the UDP sensor emitters failed to start: {message}")
        return self

    def sent(self) -> Dict[str, int]:
        return {name: int(value.value) for name, value in self._counters.items()}

    def close(self) -> None:
        self._stop.set()
        self._process.join(timeout=5.0)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=2.0)
