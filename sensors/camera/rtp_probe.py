"""Pad probes on ``rtpvrawdepay`` that give each frame out of it the RTP timestamp it was sent with.

GStreamer's depayloader drops the RTP timestamp (without a jitter buffer, the buffers it pushes
carry their arrival time). Everything between ``udpsrc`` and the ``appsink`` runs on one
streaming thread, so two probes tell which packet made which frame:

- on the depayloader's **sink** pad, every packet goes through an
  :class:`~sensors.camera.rtp.RtpFrameTracker` first: bytes that are not RTP, the wrong payload
  type, duplicates and late packets are dropped there (counted); the tracker says which frames
  this packet closes (the previous frame when its marker was lost, this frame on its marker);
- on its **src** pad, each frame the depayloader pushes while handling that packet takes the
  next closed frame, in order. A whole frame is tagged (its buffer ``offset`` becomes a serial
  number the driver looks up in :meth:`RtpFrameProbe.take`) with its RTP timestamp and the host
  time it was complete; a frame that lost a packet, was malformed or has another size is dropped
  there and counted (``incomplete``, ``malformed``, ``size``); a closed frame the depayloader
  never pushed was counted when it closed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, List, Optional

from sensors.camera.rtp import RtpFrameReport, RtpFrameTracker
from sensors.stats import SensorStats

__all__ = ["RtpFrameProbe", "RtpFrameStamp"]

_KEPT = 64  # tagged frames not yet pulled (the appsink holds two; the rest were dropped there)


@dataclass(frozen=True)
class RtpFrameStamp:
    """A frame as it left the depayloader: its 32-bit RTP timestamp and the host time (ns) then."""

    timestamp: int
    host_ns: int
    packets: int


class RtpFrameProbe:
    """Tracks one RTP video stream on a depayloader's pads; counts into ``stats``."""

    def __init__(self, tracker: RtpFrameTracker, stats: SensorStats, clock_ns: Callable[[], int]) -> None:
        self.tracker = tracker
        self.stats = stats
        self._clock_ns = clock_ns
        self._pending: List[RtpFrameReport] = []
        self._tagged: "OrderedDict[int, RtpFrameStamp]" = OrderedDict()
        self._serial = 0
        self._lock = threading.Lock()
        self._lost_seen = 0
        self._drops_seen: dict = {}
        self._gst = None

    def attach(self, gst, depay) -> None:
        """Install the probes on ``depay`` (an ``rtpvrawdepay``); ``gst`` is the GStreamer namespace."""
        self._gst = gst
        Gst = gst.Gst
        depay.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self._on_packet)
        depay.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self._on_frame)

    def take(self, buffer) -> Optional[RtpFrameStamp]:
        """The stamp of a frame buffer that came out of the depayloader (None: not one of ours)."""
        with self._lock:
            return self._tagged.pop(int(buffer.offset), None)

    # -- streaming thread ---------------------------------------------------------------------
    def _count(self) -> None:
        """Hand the tracker's new packet drops and losses to the stats."""
        tracker = self.tracker
        if tracker.lost_packets != self._lost_seen:
            self.stats.record_drop("rtp_lost_packets", tracker.lost_packets - self._lost_seen)
            self._lost_seen = tracker.lost_packets
        for reason, count in tracker.drops.items():
            seen = self._drops_seen.get(reason, 0)
            if count != seen:
                self.stats.record_drop(reason, count - seen)
                self._drops_seen[reason] = count

    def _on_packet(self, pad, info):
        Gst = self._gst.Gst
        buffer = info.get_buffer()
        self._pending.clear()  # closed frames the depayloader did not push: counted when they closed
        try:
            data = buffer.extract_dup(0, buffer.get_size())
            keep, closed = self.tracker.packet(data)
        except Exception:  # noqa: BLE001 - bytes from the network never stop the stream
            self.stats.record_drop("rtp_unreadable")
            return Gst.PadProbeReturn.DROP
        for report in closed:
            if report.problem is not None:
                self.stats.record_drop(report.problem)
        self._pending.extend(closed)
        self._count()
        return Gst.PadProbeReturn.OK if keep else Gst.PadProbeReturn.DROP

    def _on_frame(self, pad, info):
        Gst = self._gst.Gst
        if not self._pending:
            self.stats.record_drop("unattributed")
            return Gst.PadProbeReturn.DROP
        report = self._pending.pop(0)
        if report.problem is not None:
            return Gst.PadProbeReturn.DROP
        buffer = info.get_buffer()
        self._serial += 1
        buffer.offset = self._serial
        with self._lock:
            self._tagged[self._serial] = RtpFrameStamp(report.timestamp, int(self._clock_ns()), report.packets)
            while len(self._tagged) > _KEPT:
                self._tagged.popitem(last=False)
        return Gst.PadProbeReturn.OK
