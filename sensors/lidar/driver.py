"""Velodyne VLP-16 / VLP-32C driver: UDP data packets in, slices of a few ms and whole sweeps out.

Every datagram is validated (:func:`sensors.lidar.velodyne.parse_packet_header`); a bad one is
counted as a drop under its reason and never raised. A good packet is decoded at once by
velodyne-decoder's ``ScanDecoder`` (laser table, azimuth interpolation inside the packet, range
limits), so each packet costs one call into C++ and no per-point Python. The returns of every
``slice`` packets (``LidarConfig.slice_ms``, see :func:`sensors.lidar.slices.packets_per_slice`)
go out as a slice; a sweep is the concatenation of the slices of one revolution, cut where
velodyne-decoder's stream decoder cuts (after the packet that carries the head past
:data:`CUT_AZIMUTH_DEG`), so the slices hold exactly the points of the sweeps, with the same
per-point times (:mod:`sensors.lidar.slices`).

Time: a packet's timestamp counts microseconds past the top of the hour on the sensor's clock.
It is resolved against the host clock (the nearest hour, which handles the wrap at the top of
the hour) into ns on the sensor's clock, and each point's time is that plus its firing offset.
This assumes the sensor's clock is within half an hour of the host's, as a PTP- or GPS-synced
Velodyne (or the simulator) is.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, List, Optional, Tuple

import numpy as np

from config.models import LidarConfig, LidarModel
from sensors.lidar.errors import DecoderFailure, LidarPacketError, ModelMismatchError
from sensors.lidar.slices import (
    MAX_SWEEP_NS,
    closes_sweep,
    cloud_from_packets,
    join_clouds,
    packets_per_slice,
    sweep_coverage_cdeg,
)
from sensors.lidar.velodyne import (
    MIN_RANGE_M,
    last_firing_offset_ns,
    laser_table,
    packet_period_ns,
    parse_packet_header,
    resolve_hour_ns,
)
from sensors.stats import SensorStats
from sensors.udp import UdpReceiver
from sensors.vocabulary import PointCloud

__all__ = ["VelodyneDriver", "CUT_AZIMUTH_DEG"]

#: Sweeps start with the first packet past this azimuth: behind the sensor (its +x faces
#: along the camera), so what the camera sees is never split between two sweeps.
CUT_AZIMUTH_DEG = 180.0

_NS_PER_HOUR = 3_600_000_000_000


def _import_decoder():
    try:
        import velodyne_decoder
    except ImportError as err:  # pragma: no cover - installed with the project
        raise ImportError(
            "the LiDAR driver needs velodyne-decoder: pip install 'velodyne-decoder>=3,<4'"
        ) from err
    return velodyne_decoder


class VelodyneDriver:
    """Decodes a Velodyne's UDP data packets into :class:`PointCloud` slices and sweeps.

    Every cloud has ``xyz_m`` float32 in the ``lidar`` frame, ``intensity`` (calibrated
    reflectivity 0..255), ``ring`` (0 = lowest laser), ``t_ns`` per point on the sensor's clock
    (exact to the ns) and ``stamp`` = (first point's sensor time, host time its last packet
    arrived). Callbacks run on the receiving thread (the caller's, for :meth:`decode_datagram`),
    in this order for each packet:

    * ``on_stamp(sensor_ns, host_ns)`` hears every valid packet's stamp pair: the sensor time of
      the packet's last firing (when it can leave the sensor) and its arrival, ~750 pairs a
      second for a clock model to learn from;
    * ``on_slice(PointCloud)`` gets the returns of every ``packets_per_slice`` packets (5 ms by
      default), or fewer when a sweep ends first; a slice without returns is not handed on;
      slices start with the first packet decoded;
    * ``on_cloud(PointCloud)`` gets each full rotation; the first, partial sweep after start is
      not emitted (its slices are).

    Counters: ``packets_decoded`` and ``points_decoded`` (every decoded packet and return: the
    points of all slices, the one still filling included), ``points_in_sweeps`` (those handed on in
    sweeps: all but the first partial sweep's and the sweep still filling), ``slices`` handed on,
    ``sweeps`` and ``partial_sweeps``. ``clock_ns`` is the host's master clock.
    """

    def __init__(
        self,
        config: LidarConfig,
        on_cloud: Optional[Callable[[PointCloud], None]] = None,
        clock_ns: Callable[[], int] = time.time_ns,
        on_stamp: Optional[Callable[[int, int], None]] = None,
        on_slice: Optional[Callable[[PointCloud], None]] = None,
    ) -> None:
        self.config = config
        self._on_stamp = on_stamp
        self._on_slice = on_slice
        self._on_cloud = on_cloud
        self.stats = SensorStats(config.name, clock_ns=clock_ns)
        self.sweeps = 0
        self.partial_sweeps = 0
        self.slices = 0
        self.last_drop: Optional[LidarPacketError] = None
        self._clock_ns = clock_ns
        self._model = LidarModel(config.model)
        self._table = laser_table(self._model)
        self._last_firing_ns = last_firing_offset_ns(self._model)
        self.packets_per_slice = packets_per_slice(self._model, config.slice_ms)
        self._lock = threading.Lock()
        self._receiver: Optional[UdpReceiver] = None
        self._bound_port: Optional[int] = None
        self._latest: Optional[PointCloud] = None
        self._vd = _import_decoder()
        self._decoder = self._new_decoder()
        self._hour_base_ns: Optional[int] = None
        self._packets = 0
        self._points = 0
        self._sweep_points = 0
        # The slice being filled: each packet's returns and first-firing time, the last arrival.
        self._slice_points: List[np.ndarray] = []
        self._slice_packet_ns: List[int] = []
        self._slice_host_ns = 0
        # The sweep being filled: its slices so far, its first packet, the head's coverage.
        self._sweep_parts: List[PointCloud] = []
        self._sweep_first_ns: Optional[int] = None
        self._sweep_host_ns = 0
        self._sweep_packets = 0
        self._max_sweep_packets = MAX_SWEEP_NS // packet_period_ns(self._model) + 1
        self._coverage_cdeg = 0
        self._first_sweep_pending = True

    def _new_decoder(self):
        vd = self._vd
        resolution = self._table.distance_resolution_m
        decoder_config = vd.Config(
            model=vd.Model.VLP16 if self._model is LidarModel.VLP16 else vd.Model.VLP32C,
            # A count's margin either side so a return at exactly the limits is kept.
            min_range=MIN_RANGE_M - resolution,
            max_range=float(self.config.max_range_m) + resolution,
            timestamp_first_packet=True,
        )
        return vd.ScanDecoder(decoder_config)

    # -- I/O edge --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The UDP port bound (last bound, once closed); the configured one before ``start()``.

        A config with port 0 lets the system pick a free port: this says which."""
        return self._bound_port if self._bound_port is not None else int(self.config.port)

    def start(self) -> "VelodyneDriver":
        """Bind ``config.host:config.port`` and decode on a thread; a held port raises PortInUseError."""
        if self._receiver is None:
            self._receiver = UdpReceiver(
                self.config.host, self.config.port, self.decode_datagram, who=self.config.name, clock_ns=self._clock_ns
            )
            self._bound_port = self._receiver.port
            self._receiver.start()
        return self

    def close(self) -> None:
        receiver, self._receiver = self._receiver, None
        if receiver is not None:
            receiver.close()

    def __enter__(self) -> "VelodyneDriver":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def latest(self) -> Optional[PointCloud]:
        """The newest complete sweep, or None before the first one."""
        with self._lock:
            return self._latest

    @property
    def packets_decoded(self) -> int:
        """Valid packets decoded since start (each one's returns are in exactly one slice)."""
        with self._lock:
            return self._packets

    @property
    def points_decoded(self) -> int:
        """Returns decoded since start: the points of every slice, the pending one included."""
        with self._lock:
            return self._points

    @property
    def points_in_sweeps(self) -> int:
        """Returns handed on in sweeps (``on_cloud``) since start."""
        with self._lock:
            return self._sweep_points

    # -- decoding --------------------------------------------------------------------------

    def decode_datagram(self, payload: bytes, host_ns: int) -> Optional[PointCloud]:
        """Take one datagram received at host time ``host_ns``; return a sweep if it completed one.

        Slices it completes go to ``on_slice``. Bad datagrams are counted in ``stats`` under
        their reason and return None.
        """
        slices: List[PointCloud] = []
        with self._lock:
            self.stats.record_received()
            try:
                stamp, cloud = self._decode_locked(payload, int(host_ns), slices)
            except LidarPacketError as err:
                self.stats.record_drop(err.reason)
                self.last_drop = err
                return None
            if cloud is not None:
                self._latest = cloud
        if self._on_stamp is not None:
            self._on_stamp(*stamp)
        if self._on_slice is not None:
            for piece in slices:
                self._on_slice(piece)
        if cloud is not None and self._on_cloud is not None:
            self._on_cloud(cloud)
        return cloud

    def _decode_locked(
        self, payload: bytes, host_ns: int, slices: List[PointCloud]
    ) -> Tuple[Tuple[int, int], Optional[PointCloud]]:
        header = parse_packet_header(payload)
        if header.model is not self._model:
            raise ModelMismatchError(header.model.value, self._model.value)
        if self._hour_base_ns is None:
            self._hour_base_ns = host_ns - host_ns % _NS_PER_HOUR
        host_s = (host_ns - self._hour_base_ns) / 1e9
        vd = self._vd
        try:
            _, points = self._decoder.decode(vd.PacketVector([vd.VelodynePacket(host_s, payload)]), False)
            points = np.asarray(points, dtype=np.float32).reshape(-1, 8)
        except Exception as err:  # noqa: BLE001 - a decoder refusal is a counted drop, never a crash
            raise DecoderFailure(f"velodyne-decoder refused the packet: {type(err).__name__}: {err}") from err
        packet_ns = resolve_hour_ns(header.timestamp_us, host_ns)
        self.stats.record_sample(packet_ns, host_ns)
        self._packets += 1
        self._points += int(points.shape[0])

        sweep: Optional[PointCloud] = None
        if self._sweep_first_ns is not None and (
            abs(packet_ns - self._sweep_first_ns) > MAX_SWEEP_NS or self._sweep_packets >= self._max_sweep_packets
        ):
            # A gap in the stream or a clock jump, or a head that does not turn (a stuck or
            # hostile sender): the sweep so far ends before this packet, so none grows unbounded.
            self._end_slice(slices)
            sweep = self._end_sweep()
        if self._sweep_first_ns is None:
            self._sweep_first_ns = packet_ns
        self._sweep_packets += 1
        self._slice_points.append(points)
        self._slice_packet_ns.append(packet_ns)
        self._slice_host_ns = self._sweep_host_ns = host_ns
        coverage = sweep_coverage_cdeg(float(header.block_azimuths_deg[-1]), CUT_AZIMUTH_DEG)
        ends_sweep = closes_sweep(self._coverage_cdeg, coverage)
        self._coverage_cdeg = coverage
        if ends_sweep or len(self._slice_points) >= self.packets_per_slice:
            self._end_slice(slices)
        if ends_sweep:  # never right after a gap: the new sweep's coverage starts from 0
            sweep = self._end_sweep()
        return (packet_ns + self._last_firing_ns, host_ns), sweep

    def _end_slice(self, slices: List[PointCloud]) -> None:
        if not self._slice_points:
            return
        piece = cloud_from_packets(self._slice_points, self._slice_packet_ns, self._slice_host_ns, self.config.frame_id)
        self._slice_points, self._slice_packet_ns = [], []
        self._sweep_parts.append(piece)
        if len(piece):
            self.slices += 1
            slices.append(piece)

    def _end_sweep(self) -> Optional[PointCloud]:
        parts, first_ns = self._sweep_parts, self._sweep_first_ns
        self._sweep_parts, self._sweep_first_ns, self._coverage_cdeg, self._sweep_packets = [], None, 0, 0
        if not parts or first_ns is None:
            return None
        if self._first_sweep_pending:
            # The first sweep begins wherever the driver started listening.
            self._first_sweep_pending = False
            self.partial_sweeps += 1
            return None
        self.sweeps += 1
        sweep = join_clouds(parts, first_ns, self._sweep_host_ns, self.config.frame_id)
        self._sweep_points += len(sweep)
        return sweep
