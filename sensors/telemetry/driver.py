"""FreeD D1 driver: UDP datagrams in, :class:`TelemetrySample` out, every bad packet counted.

One datagram is one D1 packet. Each datagram is counted received; one that is not a valid D1
packet is dropped with the reason its check gave (``"length"``, ``"type"``, ``"checksum"``); a
valid packet for another camera ID is dropped as ``"camera_id"`` (several heads may share a port).

Packet counter and sensor time. With ``spare_is_counter=True`` (Onset's simulated stage, or any
sender configured the same way) the spare bytes are a 16-bit packet counter. The driver unwraps
it into an ever-growing count and stamps each sample with the sender's clock:
``sensor_ns = (count - first count) x 1e9 / rate_hz``, nanoseconds since the first packet it
received. A forward jump of n counts ``n - 1`` packets as ``"lost"``; a repeated or older counter
(within ``reorder_window`` packets) is dropped as ``"reordered"`` so samples stay in time order.
A packet that arrives late is therefore counted twice: once lost when the gap appears, once
reordered when it arrives. A jump that the host clock says the sender cannot have made
(backwards beyond the window, or further forward than the elapsed time allows) is a sender
restart: the count continues from the host-time estimate and ``counter_resets`` goes up.

With ``spare_is_counter=False`` (the default: a real device, whose spare bytes are constant or
carry something else) nothing is inferred from them and ``counter`` is None. FreeD carries no
time of its own, so the sample is stamped by its host arrival placed on the device's nominal
``rate_hz`` schedule (:class:`sensors.telemetry.schedule.ArrivalSchedule`): ``sensor_ns`` is the
nearest tick of a schedule fitted to the arrivals times the period, in ns since the first packet,
so a clock model downstream fits the device's rate and removes the arrival jitter. Ticks that
no packet landed on are counted ``"lost"``. This assumes a device sending on a steady clock;
arrivals far off the schedule are taken at arrival (``sensor_ns`` = the arrival read on the
schedule, unrounded) and counted in ``off_schedule``, and a schedule that no longer fits the
arrivals is re-anchored (``schedule_relocks``). No packet is ever dropped as reordered.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

from config.models import TelemetryConfig
from sensors.stats import SensorStats
from sensors.telemetry.errors import FreedDecodeError
from sensors.telemetry.freed import (
    COUNTER_MODULUS,
    decode_d1,
    onset_angles_from_freed,
    position_m_from_freed,
    rig_pose,
)
from sensors.telemetry.lens import lens_from_raw
from sensors.telemetry.schedule import ArrivalSchedule
from sensors.udp import UdpReceiver
from sensors.vocabulary import NS_PER_S, RigPose, Stamp, TelemetrySample

__all__ = ["FreedDriver"]

_HALF_COUNTER = COUNTER_MODULUS // 2


class FreedDriver:
    """Receives FreeD D1 over UDP on ``config.host:config.port`` and decodes it.

    ``on_sample`` is called with every decoded sample on the receiving thread (or on the caller's
    thread for :meth:`decode_datagram`); an exception it raises is the caller's and propagates.
    The socket is bound by :meth:`start` (a held port raises ``PortInUseError`` naming it), so a
    driver used only through :meth:`decode_datagram` binds nothing. ``clock_ns`` is the master
    clock that stamps arrivals. ``spare_is_counter``: the spare bytes carry Onset's packet counter
    (see the module docstring; None: as ``config.spare_is_counter`` says). ``reorder_window``: how
    many packets late a packet may be and still count as reordered rather than a sender restart
    (default: one second of packets, at least 16).
    """

    def __init__(
        self,
        config: TelemetryConfig,
        on_sample: Optional[Callable[[TelemetrySample], None]] = None,
        clock_ns: Callable[[], int] = time.time_ns,
        spare_is_counter: Optional[bool] = None,
        reorder_window: Optional[int] = None,
    ) -> None:
        self.config = config
        self.spare_is_counter = bool(config.spare_is_counter if spare_is_counter is None else spare_is_counter)
        self._schedule = ArrivalSchedule(config.rate_hz)
        self.stats = SensorStats(config.name, clock_ns=clock_ns)
        self.counter_resets = 0
        self.last_error: Optional[FreedDecodeError] = None
        self._on_sample = on_sample
        self._clock_ns = clock_ns
        self._period_ns = NS_PER_S / config.rate_hz
        # Late packets beyond about a second are not reordering but a restarted sender.
        self._reorder_window = int(reorder_window if reorder_window is not None else max(16, round(config.rate_hz)))
        self._lock = threading.Lock()
        self._receiver: Optional[UdpReceiver] = None
        self._latest: Optional[TelemetrySample] = None
        self._first_count: Optional[int] = None
        self._last_count = 0
        self._last_counter = 0
        self._last_host_ns = 0

    # -- sockets ---------------------------------------------------------------------------
    def start(self) -> "FreedDriver":
        """Bind the configured address and start receiving; a second call does nothing."""
        if self._receiver is None:
            receiver = UdpReceiver(
                self.config.host, self.config.port, self.decode_datagram, who=self.config.name, clock_ns=self._clock_ns
            )
            self._receiver = receiver.start()
        return self

    def close(self) -> None:
        """Stop receiving and release the port; safe to call twice."""
        receiver, self._receiver = self._receiver, None
        if receiver is not None:
            receiver.close()

    def __enter__(self) -> "FreedDriver":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        """The UDP port actually bound once started; the configured port before :meth:`start`."""
        return self._receiver.port if self._receiver is not None else int(self.config.port)

    # -- decoding --------------------------------------------------------------------------
    def latest(self) -> Optional[TelemetrySample]:
        """The most recent decoded sample, or None before the first."""
        return self._latest

    def decode_datagram(self, payload: bytes, host_ns: int) -> Optional[TelemetrySample]:
        """Decode one datagram received at master time ``host_ns``; None when it was dropped.

        Never raises for any bytes: a bad datagram is counted in ``stats`` under its reason.
        """
        self.stats.record_received()
        try:
            packet = decode_d1(payload)
        except FreedDecodeError as err:
            self.last_error = err
            self.stats.record_drop(err.reason)
            return None
        if packet.camera_id != self.config.camera_id:
            self.stats.record_drop("camera_id")
            return None
        with self._lock:
            if self.spare_is_counter:
                count = self._sequence(packet.spare, host_ns)
                if count is None:
                    self.stats.record_drop("reordered")
                    return None
                counter: Optional[int] = packet.spare
                sensor_ns: Optional[int] = round((count - self._first_count) * self._period_ns)
            else:
                counter = None
                placed = self._schedule.place(int(host_ns))
                if placed.lost > 0:
                    self.stats.record_drop("lost", placed.lost)
                sensor_ns = placed.sensor_ns
            pan, tilt, roll = onset_angles_from_freed(packet.pan_deg, packet.tilt_deg, packet.roll_deg)
            sample = TelemetrySample(
                camera_id=packet.camera_id,
                pan_deg=pan,
                tilt_deg=tilt,
                roll_deg=roll,
                position_m=position_m_from_freed(packet),
                zoom_raw=packet.zoom_raw,
                focus_raw=packet.focus_raw,
                stamp=Stamp(sensor_ns=sensor_ns, host_ns=int(host_ns)),
                lens=lens_from_raw(packet.zoom_raw, packet.focus_raw, self.config.lens, t_stop=self.config.lens.t_stop),
                counter=counter,
            )
            self.stats.record_sample(sensor_ns, int(host_ns))
            self._latest = sample
        if self._on_sample is not None:
            self._on_sample(sample)
        return sample

    def _sequence(self, counter: int, host_ns: int) -> Optional[int]:
        """Unwrapped packet count of ``counter``; None for a duplicate or late packet."""
        if self._first_count is None:
            self._first_count = self._last_count = counter
            self._last_counter, self._last_host_ns = counter, host_ns
            return counter
        ahead = (counter - self._last_counter) % COUNTER_MODULUS
        elapsed_packets = max(0.0, (host_ns - self._last_host_ns) / self._period_ns)
        if ahead == 0:
            return None
        if ahead < _HALF_COUNTER and ahead <= 2.0 * elapsed_packets + self._reorder_window:
            if ahead > 1:
                self.stats.record_drop("lost", ahead - 1)
            count = self._last_count + ahead
        elif ahead >= _HALF_COUNTER and COUNTER_MODULUS - ahead <= self._reorder_window:
            return None
        else:
            self.counter_resets += 1
            count = self._last_count + max(1, round(elapsed_packets))
        self._last_count, self._last_counter, self._last_host_ns = count, counter, host_ns
        return count

    @property
    def off_schedule(self) -> int:
        """Samples of a counter-less device taken at arrival because they were far off its schedule."""
        return self._schedule.off_schedule

    @property
    def schedule_relocks(self) -> int:
        """Times the counter-less schedule was re-anchored (a host clock step, a restarted device)."""
        return self._schedule.relocks

    # -- poses -----------------------------------------------------------------------------
    @staticmethod
    def pose_of(sample: TelemetrySample) -> RigPose:
        """``T_stage_rig`` of a decoded sample, stamped with its host receive time."""
        return rig_pose(sample.stamp.host_ns, sample.position_m, sample.pan_deg, sample.tilt_deg, sample.roll_deg)
