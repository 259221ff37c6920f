"""The simulated stage's devices as child processes: each sends its sensors' wire format by itself.

:class:`EmitterProcess` spawns one child (``spawn``: safe beside GStreamer's and DDS's threads)
that rebuilds the :class:`~sensors.sim.stage.Stage` from the same profile, seed and epoch, so it
plays the same ground truth, starts the senders a ``build`` function returns, reports start-up
to the parent, keeps their ``sent`` counters in shared memory and stops when told (or when its
parent dies). Two builds ship: :func:`udp_senders` (LiDAR and FreeD packets, the LTC as RTP
audio where the profile's timecode input is RTP) and :func:`camera_senders` (the cinema camera
rendering the stage and sending RFC 4175 RTP video to the camera driver's host and port).
"""

from __future__ import annotations

import multiprocessing
from typing import Any, Callable, Dict, List, Mapping, Tuple

from config.models import CameraSource, RigConfig
from sensors.errors import SensorOpenError

__all__ = ["EmitterProcess", "udp_senders", "camera_senders", "camera_sim", "ltc_sim", "TIMECODE"]

_CHILD_START_TIMEOUT_S = 60.0
#: The name under which the LTC sender reports (ports may override its port under this name).
TIMECODE = "timecode"

Senders = List[Tuple[str, Callable[[], Any]]]


#: How much lower than the node the stage's processes run (``nice`` increment).
STAGE_NICENESS = 10
#: Packet time of the simulated stage's RTP LTC audio, ms.
SIM_LTC_PACKET_MS = 4


def ltc_sim(rig: RigConfig, epoch_ns: int):
    """The stage's timecode generator (the same in every process), or None when the rig has no LTC."""
    if not rig.camera.ltc:
        return None
    from sensors.timecode.sim import LtcSim

    return LtcSim(rig.timecode, epoch_ns, seed=rig.stage.seed + 307)


def camera_sim(rig: RigConfig, stage: Any, epoch_ns: int):
    """The stage's cinema camera, jam-synced to :func:`ltc_sim` (the same in every process)."""
    from sensors.camera.sim import CameraSim

    return CameraSim(rig.camera, stage, ltc_sim(rig, epoch_ns), epoch_ns, seed=rig.stage.seed + 401)


def udp_senders(rig: RigConfig, stage: Any, epoch_ns: int, ports: Mapping[str, int]) -> Senders:
    """(name, start) for every LiDAR and FreeD sender of ``rig`` and its RTP LTC; seeded from the stage seed."""
    from sensors.lidar.sim import VelodyneSender, VelodyneSim
    from sensors.telemetry.sim import FreedSender, FreedSim

    seed = rig.stage.seed
    out: Senders = []
    for i, cfg in enumerate(rig.lidars):
        port = ports.get(cfg.name, cfg.port)
        out.append((cfg.name, lambda c=cfg, p=port, s=seed + 101 * (i + 1): VelodyneSender(
            VelodyneSim(c, stage, epoch_ns, seed=s), c.host, p).start()))
    for i, cfg in enumerate(rig.telemetry):
        port = ports.get(cfg.name, cfg.port)
        out.append((cfg.name, lambda c=cfg, p=port, s=seed + 211 * (i + 1): FreedSender(
            FreedSim(c, stage.rig_state, epoch_ns, seed=s), c.host, p).start()))
    tc_input = getattr(rig.timecode, "input", None)
    if rig.camera.ltc and tc_input is not None and getattr(tc_input, "kind", None) == "rtp":
        from sensors.timecode.sim import LtcRtpSender

        port = ports.get(TIMECODE, tc_input.port)
        # 4 ms packets, one of AES67's packet times (1 ms is the one every device must take; the
        # decoder takes any): a quarter of the packets to send and to receive on a 2-core box.
        samples = int(rig.timecode.sample_rate_hz) * SIM_LTC_PACKET_MS // 1000
        out.append((TIMECODE, lambda: LtcRtpSender(ltc_sim(rig, epoch_ns), tc_input.host, port,
                                                   packet_samples=samples, encoding=tc_input.encoding,
                                                   payload_type=tc_input.payload_type).start()))
    return out


def camera_senders(rig: RigConfig, stage: Any, epoch_ns: int, ports: Mapping[str, int]) -> Senders:
    """The camera's RTP video sender (none unless the profile's camera source is ``rtp``)."""
    from sensors.camera.sim import RtpVideoSender

    camera = rig.camera
    if camera.source is not CameraSource.RTP:
        return []
    port = ports.get(camera.name, camera.port)
    return [(camera.name, lambda: RtpVideoSender(camera_sim(rig, stage, epoch_ns), camera.host, port).start())]


def names_of(rig: RigConfig, build: Callable[..., Senders]) -> List[str]:
    """The sender names ``build`` makes for ``rig`` (without starting anything)."""
    return [name for name, _ in build(rig, None, 0, {})]


def _child(build: Callable[..., Senders], rig_json: str, epoch_ns: int, ports: Dict[str, int], conn: Any,
           stop: Any, counters: Dict[str, Any]) -> None:
    """Body of an emitter process: start every sender, report, keep the counters, stop on ``stop``."""
    import os
    import signal
    import sys

    from sensors.sim.stage import Stage

    # Ctrl-C and a group-wide SIGTERM (``timeout make demo``) reach the whole process group: the
    # parent decides when this child stops (it closes the stop pipe, or dies and orphans it).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # On a real stage the sensors are devices of their own; on one small box the simulated ones
    # must not take the edge node's share of the cores: they yield to it when both want a core.
    try:
        os.nice(STAGE_NICENESS)
    except OSError:
        pass  # not allowed here: the stage runs at the node's priority
    parent_pid = os.getppid()
    # Senders sleep until each packet's time while the ray caster computes ahead: a short GIL
    # switch interval (default 5 ms) lets them wake on time.
    sys.setswitchinterval(0.0002)
    rig = RigConfig.model_validate_json(rig_json)
    running: List[Tuple[str, Any]] = []
    try:
        # One ray-casting thread: the box's two cores are shared with the node and the other device.
        stage = Stage.from_rig(rig, epoch_ns, nthreads=1)
        for name, start in build(rig, stage, epoch_ns, ports):
            running.append((name, start()))
    except Exception as err:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("error", f"{type(err).__name__}: {err}"))
        for _, sender in reversed(running):
            sender.close()
        return
    conn.send(("ok", ""))
    try:
        while not stop.poll(0.2) and os.getppid() == parent_pid:  # a closed pipe or an orphan stops it
            for name, sender in running:
                counters[name].value = int(sender.sent)
                error = getattr(sender, "error", None)
                if error is not None and not conn.closed:
                    conn.send(("stopped", name, f"{type(error).__name__}: {error}"))
                    conn.close()
    finally:
        for _, sender in reversed(running):
            sender.close()


class EmitterProcess:
    """Senders that ``build`` makes for ``rig``, running in a spawned child process (module docstring)."""

    def __init__(self, what: str, build: Callable[..., Senders], rig: RigConfig, epoch_ns: int,
                 ports: Mapping[str, int]) -> None:
        self.what = what
        self._ctx = multiprocessing.get_context("spawn")
        self.names = names_of(rig, build)
        self._counters = {name: self._ctx.Value("q", 0) for name in self.names}
        # A pipe, not a multiprocessing.Event: setting an Event whose other side was killed while
        # waiting on it blocks the parent for ever; closing a pipe never does.
        self._stop_r, self._stop_w = self._ctx.Pipe(duplex=False)
        self._closing = False
        self._parent_conn, child_conn = self._ctx.Pipe(duplex=False)
        self.error = None
        self._process = self._ctx.Process(
            target=_child,
            args=(build, rig.model_dump_json(), int(epoch_ns), dict(ports), child_conn, self._stop_r, self._counters),
            name=f"onset-sim-{what.replace(' ', '-')}",
            daemon=True,
        )

    @property
    def pid(self) -> int:
        return int(self._process.pid or 0)

    def start(self) -> "EmitterProcess":
        """Spawn the child and wait until its senders run; SensorOpenError says why they do not."""
        return self.launch().wait_started()

    def launch(self) -> "EmitterProcess":
        """Spawn the child without waiting for it (several children then build their stages at once)."""
        self._process.start()
        return self

    def wait_started(self) -> "EmitterProcess":
        """Wait for a launched child to report its senders running (or why they are not)."""
        if not self._parent_conn.poll(_CHILD_START_TIMEOUT_S):
            self.close()
            raise SensorOpenError(f"the {self.what} did not start within {_CHILD_START_TIMEOUT_S:.0f} s")
        status, message = self._parent_conn.recv()
        if status != "ok":
            self.close()
            raise SensorOpenError(f"the {self.what} failed to start: {message}")
        return self

    def sent(self) -> Dict[str, int]:
        return {name: int(value.value) for name, value in self._counters.items()}

    def errors(self) -> Dict[str, str]:
        """Senders that stopped on an error in the child, and why (read from the child's reports)."""
        try:
            while self._parent_conn.poll():
                report = self._parent_conn.recv()
                if report[0] == "stopped":
                    self.error = f"{report[1]}: {report[2]}"
        except (EOFError, OSError):
            pass
        if self.error is None and self._process.exitcode not in (None, 0) and not self._closing:
            self.error = f"the {self.what} exited with code {self._process.exitcode}"
        return {} if self.error is None else {self.what: self.error}

    def close(self) -> None:
        self._closing = True
        try:
            self._stop_w.send("stop")
        except OSError:
            pass  # the child is gone already
        self._stop_w.close()
        if self._process.pid is not None:
            self._process.join(timeout=5.0)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(timeout=2.0)
