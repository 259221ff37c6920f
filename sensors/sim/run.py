"""Run the whole simulated stage in real time: every sensor a device of its own, on the wire.

:class:`SimulatedStage` starts the stage's devices as processes of their own, as a real stage's
sensors are separate devices (:mod:`sensors.sim.processes`): one sends the Velodyne and FreeD
UDP packets (and the LTC as RTP audio, where the profile's timecode input is RTP), one renders
the cinema camera's frames and sends them as RFC 4175 RTP video to the camera driver's host and
port. Each builds the same :class:`~sensors.sim.stage.Stage` from the same profile, seed and
epoch, so together they play one ground truth; everything reaches the edge node over the wire.
Start-up is all or nothing: if one process fails, those already started are stopped and the
error names it.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional

from config.models import RigConfig
from sensors.errors import SensorError, SensorOpenError
from sensors.sim.processes import EmitterProcess, camera_senders, ltc_sim, names_of, udp_senders

__all__ = ["SimulatedStage", "START_DELAY_NS", "stage_epoch_ns"]

#: How far ahead of now a live run puts the stage's epoch: the drivers are listening and the
#: emitter processes have built their own stages by then, so no sensor's first packets are lost.
START_DELAY_NS = 2_000_000_000


def stage_epoch_ns(rig: RigConfig, now_ns: int, delay_ns: int = START_DELAY_NS) -> int:
    """The epoch of a live run started at ``now_ns``: ``delay_ns`` later, moved by under a frame so
    that the camera's first frame falls on a whole frame of its clock (see
    :meth:`sensors.camera.sim.CameraSim.aligned_epoch_ns`)."""
    from sensors.camera.sim import CameraSim

    epoch = int(now_ns) + int(delay_ns)
    return CameraSim.aligned_epoch_ns(rig.camera, lambda e: ltc_sim(rig, e), epoch)


class SimulatedStage:
    """Every simulated sensor of ``rig``, playing from master time ``epoch_ns``.

    ``ports``: sensor name -> UDP port the sim sends to, overriding the profile (tests let the
    drivers bind port 0 and pass the ports they got); the camera under its name, the LTC under
    ``"timecode"``. :meth:`sent` counts what each device has put on the wire.
    """

    def __init__(self, rig: RigConfig, epoch_ns: int, ports: Optional[Mapping[str, int]] = None) -> None:
        self.rig = rig
        self.epoch_ns = int(epoch_ns)
        self._ports = dict(ports or {})
        self._running: List[EmitterProcess] = []

    def _processes(self) -> List[EmitterProcess]:
        out = []
        for what, build in (("UDP sensor emitters", udp_senders), ("camera", camera_senders)):
            if names_of(self.rig, build):
                out.append(EmitterProcess(what, build, self.rig, self.epoch_ns, self._ports))
        return out

    def start(self) -> "SimulatedStage":
        """Launch every device process at once, then wait for each; all or nothing."""
        for process in self._processes():
            self._running.append(process)
            try:
                process.launch()
            except OSError as err:
                self.close()
                raise SensorOpenError(f"simulated {process.what!r} failed to start: {err}") from err
        for process in list(self._running):
            try:
                process.wait_started()
            except (SensorError, OSError) as err:
                self.close()
                if isinstance(err, SensorOpenError):
                    raise
                raise SensorOpenError(f"simulated {process.what!r} failed to start: {err}") from err
        return self

    @property
    def pids(self) -> List[int]:
        """Process ids of the stage's device processes (for socket audits and signals)."""
        return [process.pid for process in self._running]

    def sent(self) -> Dict[str, int]:
        """Packets (LiDAR, FreeD, LTC) or frames (camera) each device has put on the wire so far."""
        out: Dict[str, int] = {}
        for process in self._running:
            out.update(process.sent())
        return out

    def errors(self) -> Dict[str, str]:
        """Devices that stopped on an error, and why."""
        out: Dict[str, str] = {}
        for process in self._running:
            out.update(process.errors())
        return out

    def close(self) -> None:
        while self._running:
            self._running.pop().close()

    def __enter__(self) -> "SimulatedStage":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
