"""Velodyne VLP-16 / VLP-32C driver: UDP data packets in, one point cloud per rotation out.

Every datagram is validated (:func:`sensors.lidar.velodyne.parse_packet_header`); a bad one is
counted as a drop under its reason and never raised. Good packets go to velodyne-decoder's
``StreamDecoder``, which interpolates each firing's azimuth, applies the laser table and cuts
sweeps at :data:`CUT_AZIMUTH_DEG`.

Time: a packet's timestamp counts microseconds past the top of the hour on the sensor's clock.
The driver hands the decoder host stamps measured from a top of the hour of the host clock, so
the decoder resolves each packet's hour against host time (the nearest one, which handles the
wrap at the top of the hour) and per-point times come back as exact offsets from that hour.
This assumes the sensor's clock is within half an hour of the host's, as a PTP- or GPS-synced
Velodyne (or the simulator) is.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

import numpy as np

from config.models import LidarConfig, LidarModel
from sensors.lidar.errors import DecoderFailure, LidarPacketError, ModelMismatchError
from sensors.lidar.velodyne import (
    MIN_RANGE_M,
    last_firing_offset_ns,
    laser_table,
    parse_packet_header,
    resolve_hour_ns,
)
from sensors.stats import SensorStats
from sensors.udp import UdpReceiver
from sensors.vocabulary import PointCloud, Stamp

__all__ = ["VelodyneDriver", "CUT_AZIMUTH_DEG"]

#: Sweeps start with the first packet at or past this azimuth: behind the sensor (its +x faces
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
    """Decodes a Velodyne's UDP data packets into :class:`PointCloud` sweeps.

    ``on_cloud`` is called (on the receiving thread) with each full rotation: ``xyz_m`` float32
    in the ``lidar`` frame, ``intensity`` (calibrated reflectivity 0..255), ``ring`` (0 = lowest
    laser), ``t_ns`` per point on the sensor's clock, ``stamp`` = (first point's sensor time,
    host time the sweep's last packet arrived). The first, partial sweep after start is not
    emitted. ``on_stamp(sensor_ns, host_ns)``, if given, hears every valid packet's stamp pair:
    the sensor time of the packet's last firing (when it can leave the sensor) and its arrival,
    ~750 pairs a second for a clock model to learn from. ``clock_ns`` is the host's master clock.
    """

    def __init__(
        self,
        config: LidarConfig,
        on_cloud: Optional[Callable[[PointCloud], None]] = None,
        clock_ns: Callable[[], int] = time.time_ns,
        on_stamp: Optional[Callable[[int, int], None]] = None,
    ) -> None:
        self.config = config
        self._on_stamp = on_stamp
        self._last_stamp: Optional[tuple] = None
        self.stats = SensorStats(config.name, clock_ns=clock_ns)
        self.sweeps = 0
        self.partial_sweeps = 0
        self.last_drop: Optional[LidarPacketError] = None
        self._on_cloud = on_cloud
        self._clock_ns = clock_ns
        self._model = LidarModel(config.model)
        self._table = laser_table(self._model)
        self._last_firing_ns = last_firing_offset_ns(self._model)
        self._lock = threading.Lock()
        self._receiver: Optional[UdpReceiver] = None
        self._bound_port: Optional[int] = None
        self._latest: Optional[PointCloud] = None
        self._vd = _import_decoder()
        self._decoder = self._new_decoder()
        self._hour_base_ns: Optional[int] = None
        self._prev_host_ns: Optional[int] = None
        self._first_sweep_pending = True

    def _new_decoder(self):
        vd = self._vd
        resolution = self._table.distance_resolution_m
        decoder_config = vd.Config(
            model=vd.Model.VLP16 if self._model is LidarModel.VLP16 else vd.Model.VLP32C,
            # A count's margin either side so a return at exactly the limits is kept.
            min_range=MIN_RANGE_M - resolution,
            max_range=float(self.config.max_range_m) + resolution,
            cut_angle=CUT_AZIMUTH_DEG,
            timestamp_first_packet=True,
        )
        return vd.StreamDecoder(decoder_config)

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

    # -- decoding --------------------------------------------------------------------------

    def decode_datagram(self, payload: bytes, host_ns: int) -> Optional[PointCloud]:
        """Take one datagram received at host time ``host_ns``; return a sweep if it completed one.

        Bad datagrams are counted in ``stats`` under their reason and return None.
        """
        with self._lock:
            self.stats.record_received()
            try:
                cloud = self._decode_locked(payload, int(host_ns))
            except LidarPacketError as err:
                self.stats.record_drop(err.reason)
                self.last_drop = err
                return None
            if cloud is not None:
                self._latest = cloud
            stamp, self._last_stamp = self._last_stamp, None
        if stamp is not None and self._on_stamp is not None:
            self._on_stamp(*stamp)
        if cloud is not None and self._on_cloud is not None:
            self._on_cloud(cloud)
        return cloud

    def _decode_locked(self, payload: bytes, host_ns: int) -> Optional[PointCloud]:
        header = parse_packet_header(payload)
        if header.model is not self._model:
            raise ModelMismatchError(header.model.value, self._model.value)
        if self._hour_base_ns is None:
            self._hour_base_ns = host_ns - host_ns % _NS_PER_HOUR
        host_s = (host_ns - self._hour_base_ns) / 1e9
        try:
            result = self._decoder.decode(host_s, payload, False)
        except Exception as err:  # noqa: BLE001 - a decoder refusal is a counted drop, never a crash
            raise DecoderFailure(f"velodyne-decoder refused the packet: {type(err).__name__}: {err}") from err
        sensor_ns = resolve_hour_ns(header.timestamp_us, host_ns)
        self.stats.record_sample(sensor_ns, host_ns)
        self._last_stamp = (sensor_ns + self._last_firing_ns, host_ns)
        prev_host_ns, self._prev_host_ns = self._prev_host_ns, host_ns
        if result is None:
            return None
        if self._first_sweep_pending:
            # The decoder's first sweep begins wherever the driver started listening.
            self._first_sweep_pending = False
            self.partial_sweeps += 1
            return None
        stamps, points = result
        self.sweeps += 1
        return self._cloud(stamps.device, points, sensor_ns, host_ns, prev_host_ns)

    def _cloud(
        self, device_s: float, points: np.ndarray, packet_sensor_ns: int, host_ns: int, prev_host_ns: Optional[int]
    ) -> PointCloud:
        # device_s: the sweep's first packet, seconds from the driver's hour base, whole us.
        first_packet_ns = self._hour_base_ns + int(round(device_s * 1e6)) * 1000
        pts = np.asarray(points, dtype=np.float32).reshape(-1, 8)  # x y z intensity time column ring return
        t_ns = first_packet_ns + np.rint(pts[:, 4].astype(np.float64) * 1e9).astype(np.int64)
        sensor_ns = int(t_ns.min()) if t_ns.size else first_packet_ns
        # The decoder closes a sweep either with the packet that crosses the cut azimuth or with
        # the first packet after it; the sweep's last packet is whichever its points reach into.
        ends_here = t_ns.size == 0 or int(t_ns.max()) >= packet_sensor_ns - 1000 or prev_host_ns is None
        return PointCloud(
            xyz_m=np.ascontiguousarray(pts[:, 0:3], dtype=np.float32),
            intensity=np.ascontiguousarray(pts[:, 3], dtype=np.float32),
            ring=pts[:, 6].astype(np.uint16),
            t_ns=t_ns,
            stamp=Stamp(sensor_ns=sensor_ns, host_ns=int(host_ns if ends_here else prev_host_ns)),
            frame_id=self.config.frame_id,
        )
