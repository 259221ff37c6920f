"""A simulated FreeD tracking system: true rig pose and lens in, D1 packets on its own clock out.

The tracking system runs on a :class:`DriftingClock` switched on at master time ``epoch_ns``.
Packet k samples the rig at the master time when that clock reads ``epoch + offset + k / rate_hz``
(a tracker samples on its own oscillator's ticks, so the packet rate drifts by the clock's
``drift_ppm``) and carries the true pose and lens of that instant (from ``pose_at``), encoded as
D1, with a 16-bit counter in the spare bytes that starts at a seeded value and wraps. The clock's
jitter is the delivery: each packet leaves a non-negative, half-normal delay after its sample
(clipped under 0.9 of a packet period, so a sender never reorders its own packets).

:class:`FreedSim` is pure: the same seed gives the same packets, whatever windows they are
asked for in. :class:`FreedSender` plays it over UDP in real time (``time.time_ns()`` is master).
"""

from __future__ import annotations

import math
import socket
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from config.models import TelemetryConfig
from sensors.sim.clock import DriftingClock
from sensors.telemetry.freed import COUNTER_MODULUS, encode_d1, telemetry_from_pose
from sensors.telemetry.types import FreedSimPacket
from sensors.udp import SenderThread, sender_socket
from sensors.vocabulary import NS_PER_MS, NS_PER_S, LensState, RigPose

__all__ = ["FreedSim", "FreedSender"]

_JITTER_BLOCK = 4096  # packets per block of pre-drawn jitter


class FreedSim:
    """A FreeD D1 tracking system on its own drifting clock (see the module docstring).

    ``pose_at(master_ns)`` returns the rig's true ``(RigPose, LensState)`` at a master time.
    """

    def __init__(
        self,
        config: TelemetryConfig,
        pose_at: Callable[[int], Tuple[RigPose, LensState]],
        epoch_ns: int,
        seed: int = 0,
    ) -> None:
        self.config = config
        self.pose_at = pose_at
        self.epoch_ns = int(epoch_ns)
        self.seed = int(seed)
        self.clock = DriftingClock(config.clock, self.epoch_ns, seed)
        self.period_ns = NS_PER_S / config.rate_hz
        self.counter_start = int(np.random.default_rng([self.seed, 0xF4EED]).integers(0, COUNTER_MODULUS))
        self._jitter_blocks: Dict[int, np.ndarray] = {}

    def counter_of(self, index: int) -> int:
        """The spare-byte counter of packet ``index``."""
        return (self.counter_start + int(index)) % COUNTER_MODULUS

    def _jitter_ns(self, index: np.ndarray) -> np.ndarray:
        """Send-time jitter of each packet index, drawn per block so any window repeats exactly."""
        if self.clock.jitter_ns == 0:
            return np.zeros(index.shape, dtype=np.int64)
        limit = 0.9 * self.period_ns
        out = np.empty(index.shape, dtype=np.int64)
        blocks = index // _JITTER_BLOCK
        for block in np.unique(blocks):
            noise = self._jitter_blocks.get(int(block))
            if noise is None:
                rng = np.random.default_rng([self.seed, 0x7E1E, int(block)])
                noise = np.rint(np.clip(np.abs(rng.normal(0.0, self.clock.jitter_ns, _JITTER_BLOCK)), 0, limit))
                if len(self._jitter_blocks) > 8:
                    self._jitter_blocks.clear()
                self._jitter_blocks[int(block)] = noise = noise.astype(np.int64)
            mask = blocks == block
            out[mask] = noise[index[mask] % _JITTER_BLOCK]
        return out

    def sample_times_ns(self, index: np.ndarray) -> np.ndarray:
        """Master times (int64 ns) at which packets ``index`` sample the rig (the tracker's clock ticks)."""
        index = np.asarray(index, dtype=np.int64)
        sensor_ns = self.epoch_ns + self.clock.offset_ns + np.rint(index * self.period_ns).astype(np.int64)
        return np.asarray(self.clock.master_ns(sensor_ns), dtype=np.int64)

    def send_times_ns(self, index: np.ndarray) -> np.ndarray:
        """Master times (int64 ns) at which packets ``index`` leave: their sample plus the delivery jitter."""
        index = np.asarray(index, dtype=np.int64)
        send_ns = self.sample_times_ns(index) + self._jitter_ns(index)
        return np.maximum(send_ns, self.epoch_ns)  # nothing leaves before the system is switched on

    def _index_at(self, master_ns: int) -> float:
        """Fractional packet index the noiseless clock reads at ``master_ns``."""
        sensor_ns = self.clock.sensor_ns_exact(int(master_ns))
        return (sensor_ns - self.epoch_ns - self.clock.offset_ns) / self.period_ns

    def frames_between(self, master_start_ns: int, master_end_ns: int) -> List[FreedSimPacket]:
        """Every packet sent in ``[master_start_ns, master_end_ns)``, with its ground truth."""
        if master_end_ns <= master_start_ns:
            return []
        # One packet of margin each side covers the delivery jitter (under one period).
        first = max(0, math.floor(self._index_at(master_start_ns)) - 1)
        last = math.ceil(self._index_at(master_end_ns)) + 1
        if last < first:
            return []
        index = np.arange(first, last + 1, dtype=np.int64)
        sample_ns = self.sample_times_ns(index)
        send_ns = np.maximum(sample_ns + self._jitter_ns(index), self.epoch_ns)
        keep = (send_ns >= master_start_ns) & (send_ns < master_end_ns)
        frames = []
        for k, t_ns, sampled_ns in zip(index[keep].tolist(), send_ns[keep].tolist(), sample_ns[keep].tolist()):
            pose, lens = self.pose_at(sampled_ns)
            counter = self.counter_of(k)
            fields = telemetry_from_pose(pose, lens, self.config.lens, camera_id=self.config.camera_id, spare=counter)
            frames.append(FreedSimPacket(k, t_ns, counter, pose, lens, encode_d1(fields)))
        return frames

    def packets_between(self, master_start_ns: int, master_end_ns: int) -> List[Tuple[int, bytes]]:
        """(master send time ns, D1 payload) of every packet sent in ``[start, end)``."""
        return [(f.master_ns, f.payload) for f in self.frames_between(master_start_ns, master_end_ns)]


class FreedSender(SenderThread):
    """Sends a :class:`FreedSim`'s packets over UDP to ``host:port`` at their master times.

    Each packet waits for its own absolute send time, so lateness never accumulates; a packet
    whose time has passed (the host was busy) goes out at once. Packets before :meth:`start`
    are skipped. ``sent`` counts datagrams sent, ``send_errors`` failed sends,
    ``max_lateness_ns`` the worst delay behind schedule.
    """

    def __init__(self, sim: FreedSim, host: str, port: int, chunk_ns: int = 50 * NS_PER_MS) -> None:
        self.sim, self.host, self.port = sim, host, int(port)
        self.sent = 0
        self.send_errors = 0
        self.max_lateness_ns = 0
        self._chunk_ns = int(chunk_ns)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._sock: Optional[socket.socket] = None

    def start(self) -> "FreedSender":
        if self._thread is None:
            self._sock = sender_socket(self.host)
            self._thread = threading.Thread(target=self._run, name=f"freed-sim-{self.sim.config.name}", daemon=True)
            self._thread.start()
        return self

    def _wait_until(self, master_ns: int) -> bool:
        """Sleep until ``master_ns``; False when asked to stop meanwhile."""
        wait_ns = master_ns - time.time_ns()
        if wait_ns > 0:
            return not self._stop.wait(wait_ns / NS_PER_S)
        return not self._stop.is_set()

    def _run(self) -> None:
        assert self._sock is not None
        cursor = time.time_ns()
        while not self._stop.is_set():
            window_end = cursor + self._chunk_ns
            for send_ns, payload in self.sim.packets_between(cursor, window_end):
                if not self._wait_until(send_ns):
                    return
                self.max_lateness_ns = max(self.max_lateness_ns, time.time_ns() - send_ns)
                try:
                    self._sock.sendto(payload, (self.host, self.port))
                    self.sent += 1
                except OSError:
                    self.send_errors += 1
            cursor = window_end
            # Compute the next window half a chunk ahead of its start, not arbitrarily far ahead.
            if not self._wait_until(cursor - self._chunk_ns // 2):
                return
