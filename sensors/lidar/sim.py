"""A simulated Velodyne VLP-16 / VLP-32C on the camera rig, ray-casting the simulated stage.

The head spins at ``rotation_hz`` on the sensor's own :class:`~sensors.sim.clock.DriftingClock`
and fires exactly the pattern of :func:`sensors.lidar.velodyne.firing_schedule`. Each firing is
cast from where the LiDAR was at that firing's master time (``T_stage_lidar(t) =
T_stage_rig(t) @ T_rig_lidar``): the rig's pose is sampled at every packet's first firing and
interpolated linearly to each firing inside it (over 1.3 ms of a smooth shot the interpolation
is off by well under a micrometre), so a moving rig distorts a sweep as it does a real one.
Packets carry the sensor-clock time of their first firing, rounded to the microsecond.

A packet leaves when its last laser has fired, plus a delivery latency drawn from the clock's
``jitter_ns`` (half-normal, a pure function of the seed and the packet index), so the same
packets come out whatever windows they are asked for in.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from typing import List, Optional, Tuple

import numpy as np

from config.models import LidarConfig, LidarModel
from sensors.lidar.types import LidarGroundTruth
from sensors.lidar.velodyne import (
    BLOCKS_PER_PACKET,
    MIN_RANGE_M,
    RECORDS_PER_BLOCK,
    block_azimuths_deg,
    encode_packets,
    firing_schedule,
    laser_rays,
    last_firing_offset_ns,
    laser_table,
    packet_period_ns,
    timestamp_us_of,
)
from sensors.sim.clock import DriftingClock
from sensors.udp import sender_socket

__all__ = ["VelodyneSim", "VelodyneSender", "CHUNK_PACKETS"]

#: Packets cast per ``stage.cast_rays`` call (64 VLP-16 packets = 24576 rays).
CHUNK_PACKETS = 64
_MAX_LATENCY_SIGMAS = 5.0
_RECORDS = BLOCKS_PER_PACKET * RECORDS_PER_BLOCK

_U64 = np.uint64


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """A 64-bit mixing function: independent-looking bits for each input (wrapping arithmetic)."""
    z = x + _U64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


def _hash_uniform(seed: int, index: np.ndarray, stream: int) -> np.ndarray:
    """Uniform numbers in (0, 1], a pure function of (seed, index, stream)."""
    mask = 0xFFFFFFFFFFFFFFFF
    key = _splitmix64(np.array([seed & mask], dtype=_U64) ^ _U64(stream * 0x632BE59BD9B4E019 & mask))
    z = _splitmix64(np.asarray(index, dtype=np.int64).astype(_U64) ^ key)
    return ((z >> _U64(11)).astype(np.float64) + 1.0) * 2.0**-53


class VelodyneSim:
    """A spinning Velodyne on the camera rig of ``stage``, switched on at master time ``epoch_ns``.

    ``stage`` needs ``rig_matrices(t_ns) -> (N,4,4)`` (T_stage_rig) and ``cast_rays(origins_m,
    directions, t_ns) -> RayHits``. Everything here is a pure function of (config, stage, epoch,
    seed): :meth:`packets_between` and :meth:`ground_truth_between` may be asked in any order.
    """

    def __init__(self, config: LidarConfig, stage, epoch_ns: int, seed: int = 0) -> None:
        self.config = config
        self.stage = stage
        self.model = LidarModel(config.model)
        self.table = laser_table(self.model)
        self.rotation_hz = float(config.rotation_hz)
        self.epoch_ns = int(epoch_ns)
        self.seed = int(seed)
        self.clock = DriftingClock(config.clock, self.epoch_ns, seed=self.seed)
        self.T_rig_lidar = config.mount.matrix()
        self.period_ns = packet_period_ns(self.model)
        self._last_offset_ns = last_firing_offset_ns(self.model)
        self._jitter_ns = float(config.clock.jitter_ns)
        #: Sensor-clock time of packet 0's first firing (the moment the sensor starts).
        self.sensor_start_ns = int(self.clock.sensor_ns_exact(self.epoch_ns))
        #: Head azimuth (deg) at packet 0's first firing.
        self.head_start_deg = float(np.random.default_rng([self.seed, 0x11DA2]).uniform(0.0, 360.0))
        self._albedo_by_id: Optional[np.ndarray] = None

    # -- schedule --------------------------------------------------------------------------

    def packet_sensor_ns(self, packet_index) -> np.ndarray:
        """Sensor-clock time (ns) of each packet's first firing."""
        return self.sensor_start_ns + np.asarray(packet_index, dtype=np.int64) * self.period_ns

    def send_master_ns(self, packet_index) -> np.ndarray:
        """Master time each packet leaves: its last firing plus its delivery latency."""
        p = np.asarray(packet_index, dtype=np.int64)
        last = self.clock.master_ns(self.packet_sensor_ns(p) + self._last_offset_ns)
        if self._jitter_ns <= 0.0:
            return np.asarray(last, dtype=np.int64)
        u1, u2 = _hash_uniform(self.seed, p, 1), _hash_uniform(self.seed, p, 2)
        normal = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
        latency = np.minimum(np.abs(normal), _MAX_LATENCY_SIGMAS) * self._jitter_ns
        return np.asarray(last, dtype=np.int64) + np.rint(latency).astype(np.int64)

    def packet_indices_between(self, master_start_ns: int, master_end_ns: int) -> np.ndarray:
        """Indices of the packets sent in ``[master_start_ns, master_end_ns)`` (send order)."""
        if master_end_ns <= master_start_ns:
            return np.zeros(0, dtype=np.int64)
        slack = int(_MAX_LATENCY_SIGMAS * self._jitter_ns) + 1
        s0 = int(self.clock.sensor_ns_exact(int(master_start_ns) - slack)) - self.sensor_start_ns - self._last_offset_ns
        s1 = int(self.clock.sensor_ns_exact(int(master_end_ns))) - self.sensor_start_ns - self._last_offset_ns
        lo = max(0, s0 // self.period_ns - 1)
        hi = max(0, s1 // self.period_ns + 2)
        p = np.arange(lo, hi, dtype=np.int64)
        send = self.send_master_ns(p)
        keep = (send >= master_start_ns) & (send < master_end_ns)
        p, send = p[keep], send[keep]
        return p[np.argsort(send, kind="stable")]

    # -- simulation ------------------------------------------------------------------------

    def packets_between(self, master_start_ns: int, master_end_ns: int) -> List[Tuple[int, bytes]]:
        """``(master send time ns, 1206-byte payload)`` of every packet sent in the window."""
        packets, _ = self.simulate_between(master_start_ns, master_end_ns, truth=False)
        return packets

    def ground_truth_between(self, master_start_ns: int, master_end_ns: int) -> LidarGroundTruth:
        """Ground truth of every channel record of the packets sent in the window."""
        _, truth = self.simulate_between(master_start_ns, master_end_ns, truth=True)
        assert truth is not None
        return truth

    def simulate_between(
        self, master_start_ns: int, master_end_ns: int, truth: bool = True
    ) -> Tuple[List[Tuple[int, bytes]], Optional[LidarGroundTruth]]:
        """Both at once: the packets sent in the window and (when ``truth``) their ground truth."""
        indices = self.packet_indices_between(master_start_ns, master_end_ns)
        packets: List[Tuple[int, bytes]] = []
        parts: List[LidarGroundTruth] = []
        for i in range(0, indices.size, CHUNK_PACKETS):
            chunk = indices[i:i + CHUNK_PACKETS]
            payloads, part = self._simulate(chunk)
            packets.extend(zip((int(t) for t in self.send_master_ns(chunk)), payloads))
            if truth:
                parts.append(part)
        if not truth:
            return packets, None
        return packets, _concat_truth(parts) if parts else _empty_truth()

    def _simulate(self, p: np.ndarray) -> Tuple[list, LidarGroundTruth]:
        count = p.size
        t_offset, azimuth, laser = firing_schedule(self.model, self.rotation_hz, p)
        azimuth = np.mod(azimuth + self.head_start_deg, 360.0).reshape(count, _RECORDS)
        laser = laser.reshape(count, _RECORDS)
        first_sensor = self.packet_sensor_ns(p)
        t_sensor = first_sensor[:, None] + t_offset.reshape(count, _RECORDS)
        t_master = np.asarray(self.clock.master_ns(t_sensor), dtype=np.int64).reshape(count, _RECORDS)

        # Rig pose at each packet's first firing and at the next packet's, interpolated per firing.
        knot0 = np.asarray(self.clock.master_ns(first_sensor), dtype=np.int64).reshape(count)
        knot1 = np.asarray(self.clock.master_ns(first_sensor + self.period_ns), dtype=np.int64).reshape(count)
        T = np.asarray(self.stage.rig_matrices(np.concatenate([knot0, knot1]))) @ self.T_rig_lidar
        T0, T1 = T[:count], T[count:]
        frac = ((t_master - knot0[:, None]) / (knot1 - knot0)[:, None])[..., None]

        origin_l, direction_l = laser_rays(self.model, laser, azimuth)
        origin_l = origin_l.reshape(count, _RECORDS, 3)
        direction_l = direction_l.reshape(count, _RECORDS, 3)

        def to_stage(x: np.ndarray, moved: bool) -> np.ndarray:
            a = np.matmul(x, T0[:, :3, :3].transpose(0, 2, 1))
            b = np.matmul(x, T1[:, :3, :3].transpose(0, 2, 1))
            if moved:
                a += T0[:, None, :3, 3]
                b += T1[:, None, :3, 3]
            b -= a
            b *= frac
            return a + b

        origin_s = to_stage(origin_l, True)
        direction_s = to_stage(direction_l, False)
        direction_s /= np.linalg.norm(direction_s, axis=-1, keepdims=True)

        hits = self.stage.cast_rays(origin_s.reshape(-1, 3), direction_s.reshape(-1, 3), t_master.reshape(-1))
        range_m = np.asarray(hits.distance_m, dtype=np.float64).reshape(count, _RECORDS)
        object_id = np.asarray(hits.object_id).reshape(count, _RECORDS)
        normal = np.asarray(hits.normal_stage, dtype=np.float64).reshape(count, _RECORDS, 3)

        resolution = self.table.distance_resolution_m
        with np.errstate(invalid="ignore"):
            sent_m = np.rint(range_m / resolution) * resolution
            returned = np.isfinite(range_m) & (sent_m >= MIN_RANGE_M) & (sent_m <= self.config.max_range_m)
        reflectivity = np.where(returned, self._reflectivity(object_id, normal, direction_s), 0)

        payloads = encode_packets(
            self.model,
            np.mod(block_azimuths_deg(self.model, self.rotation_hz, p) + self.head_start_deg, 360.0),
            np.where(returned, range_m, np.nan).reshape(count, BLOCKS_PER_PACKET, RECORDS_PER_BLOCK),
            reflectivity.reshape(count, BLOCKS_PER_PACKET, RECORDS_PER_BLOCK),
            timestamp_us_of(first_sensor),
        )
        hit = np.isfinite(range_m)[..., None]
        reach = np.where(hit, range_m[..., None], np.nan)
        truth = LidarGroundTruth(
            packet_index=np.repeat(p, _RECORDS),
            laser=laser.reshape(-1),
            ring=self.table.ring[laser].reshape(-1),
            t_master_ns=t_master.reshape(-1),
            t_sensor_ns=t_sensor.reshape(-1),
            azimuth_deg=azimuth.reshape(-1),
            range_m=range_m.reshape(-1),
            returned=returned.reshape(-1),
            point_stage_m=(origin_s + reach * direction_s).reshape(-1, 3),
            point_lidar_m=(origin_l + reach * direction_l).reshape(-1, 3),
            object_id=object_id.reshape(-1),
        )
        return payloads, truth

    def _albedo(self, object_id: np.ndarray) -> np.ndarray:
        """Each hit object's mean albedo from ``stage.objects``; a made-up one per id it lacks."""
        if self._albedo_by_id is None:
            objects = list(getattr(self.stage, "objects", None) or [])
            table = np.full(max((int(o.object_id) for o in objects), default=-1) + 1, np.nan)
            for o in objects:
                table[int(o.object_id)] = float(np.mean(o.albedo_rgb))
            self._albedo_by_id = table
        albedo = 0.15 + 0.7 * _hash_uniform(self.seed, object_id, 3)
        inside = (object_id >= 0) & (object_id < self._albedo_by_id.size)
        known = self._albedo_by_id[object_id[inside]]
        albedo[inside] = np.where(np.isnan(known), albedo[inside], known)
        return albedo

    def _reflectivity(self, object_id: np.ndarray, normal: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """Calibrated reflectivity 1..100 of diffuse surfaces: albedo times cos(incidence), in percent."""
        albedo = self._albedo(object_id)
        cos_incidence = np.abs(np.einsum("...i,...i->...", normal, direction))
        return np.clip(np.rint(100.0 * albedo * cos_incidence), 1, 100).astype(np.uint8)


def _concat_truth(parts: List[LidarGroundTruth]) -> LidarGroundTruth:
    if len(parts) == 1:
        return parts[0]
    fields = LidarGroundTruth.__dataclass_fields__
    return LidarGroundTruth(**{name: np.concatenate([getattr(t, name) for t in parts]) for name in fields})


def _empty_truth() -> LidarGroundTruth:
    i64 = np.zeros(0, dtype=np.int64)
    f64 = np.zeros(0, dtype=np.float64)
    return LidarGroundTruth(i64, i64, i64, i64, i64, f64, f64, np.zeros(0, dtype=bool),
                            np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0, dtype=np.int32))


class VelodyneSender:
    """Sends a :class:`VelodyneSim`'s packets over UDP at their master times (``time.time_ns()``).

    Send times come from the sim's schedule, not from sleeping a period after each packet, so
    there is no cumulative drift. A producer thread ray-casts packets up to ``lookahead_ns``
    ahead in chunks (25 ms: a VLP-16 then costs 0.21 of a core here, 0.34 in 10 ms chunks, the
    per-call overhead of the cast dominating), so the sending thread only sleeps and sends and
    each packet leaves on time, as a real sensor's do. A real sensor never sends late, so neither does this one: on
    a machine too slow for real time, a packet that would leave more than ``max_lag_ns`` after its
    time is given up (``skipped``; the driver sees a gap in the firings), and a producer that
    fell that far behind skips to the present instead of ray-casting the past. A late packet
    would look to the node like a sensor clock stepping back and forth (a 2-core box fell 0.3 s
    behind for seconds with a 0.5 s allowance). ``sent`` counts packets sent; ``send_errors``
    failed ``sendto`` calls.
    """

    def __init__(
        self,
        sim: VelodyneSim,
        host: str,
        port: int,
        lookahead_ns: int = 75_000_000,
        chunk_ns: int = 25_000_000,
        max_lag_ns: int = 25_000_000,
    ) -> None:
        self.sim, self.host, self.port = sim, host, int(port)
        self.lookahead_ns, self.chunk_ns, self.max_lag_ns = int(lookahead_ns), int(chunk_ns), int(max_lag_ns)
        self.sent = 0
        self.skipped = 0
        self.send_errors = 0
        self._stop = threading.Event()
        self._queue: "queue.Queue[List[Tuple[int, bytes]]]" = queue.Queue(maxsize=max(1, self.lookahead_ns // self.chunk_ns))
        self._threads: List[threading.Thread] = []
        self._sock: Optional[socket.socket] = None

    def start(self) -> "VelodyneSender":
        if not self._threads:
            self._sock = sender_socket(self.host)
            name = self.sim.config.name
            self._threads = [
                threading.Thread(target=self._produce, name=f"sim-{name}-cast", daemon=True),
                threading.Thread(target=self._send, name=f"sim-{name}-send", daemon=True),
            ]
            for thread in self._threads:
                thread.start()
        return self

    def _produce(self) -> None:
        # The first packets go out a chunk after start, so the first cast (the slowest) is not late.
        cursor = max(time.time_ns() + self.chunk_ns, self.sim.epoch_ns)
        while not self._stop.is_set():
            now = time.time_ns()
            if now - cursor > self.max_lag_ns:
                self.skipped += int(self.sim.packet_indices_between(cursor, now).size)
                cursor = now
            chunk = self.sim.packets_between(cursor, cursor + self.chunk_ns)
            cursor += self.chunk_ns
            while not self._stop.is_set():
                try:
                    self._queue.put(chunk, timeout=0.1)
                    break
                except queue.Full:
                    continue

    def _send(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                chunk = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            for send_ns, payload in chunk:
                delay_ns = send_ns - time.time_ns()
                if delay_ns < -self.max_lag_ns:
                    self.skipped += 1
                    continue
                if delay_ns > 0 and self._stop.wait(delay_ns / 1e9):
                    return
                try:
                    self._sock.sendto(payload, (self.host, self.port))
                    self.sent += 1
                except OSError:
                    self.send_errors += 1

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2.0)
        if self._sock is not None:
            self._sock.close()

    def __enter__(self) -> "VelodyneSender":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
