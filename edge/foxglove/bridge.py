"""The node's Foxglove server: the live stage (camera, LiDAR, rig transforms, timecode, captions) in 3D.

:class:`FoxgloveBridge` runs the ``foxglove-sdk`` WebSocket server (the Foxglove WebSocket protocol)
on loopback in its own ``foxglove.Context``, with the channels of :mod:`edge.foxglove.channels`.
The node hands it what it already has, from its own threads:

- :meth:`FoxgloveBridge.publish_frame` with each fused frame (the synchronizer's worker thread):
  the camera image as JPEG, its calibration, the rig's transforms at the frame's exposure and the
  frame's timecode;
- :meth:`FoxgloveBridge.publish_cloud` with each LiDAR sweep (the LiDAR receiver's thread);
- the captioner's (and the style worker's) results come by themselves, each from its result
  stream on a relay thread (:mod:`edge.foxglove.relay`).

Neither call waits: with no client subscribed to what it feeds, it returns after one cheap SDK
query per channel (``has_sinks``); with one, it leaves a reference in a keep-newest slot
(:mod:`edge.foxglove.handoff`) and the bridge's encoder thread (``foxglove-encoder``) converts
and logs it (:mod:`edge.foxglove.messages`; JPEG is the costly part, and OpenCV releases the GIL
while it encodes). A frame or sweep replaced before the encoder took it is counted as skipped.
The SDK queues at most ``client_backlog_messages`` per client and drops a slow client's oldest.

``foxglove`` is imported by :meth:`FoxgloveBridge.start` only. Start-up is all or nothing: if a
part fails, what was started is stopped and the error names the part. docs/foxglove.md says how
to connect; docs/architecture.md where the bridge sits among the node's threads.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from config.foxglove import FoxgloveConfig, is_loopback_host
from edge.foxglove import messages as fx
from edge.foxglove.channels import TOPICS, BridgeChannels, open_channels
from edge.foxglove.errors import FoxgloveError, FoxgloveStartError, FoxgloveUnavailableError
from edge.foxglove.frames import RigFrames, rig_frames
from edge.foxglove.handoff import NewestSlots
from edge.foxglove.relay import ResultRelay
from sensors.vocabulary import FusedFrame, PointCloud

__all__ = ["FoxgloveBridge", "BridgeCounters"]

_log = logging.getLogger(__name__)
_SLOTS = ("frame", "cloud")
_IDLE_WAIT_S = 0.5


@dataclass
class BridgeCounters:
    """What the bridge did: frames and sweeps ``offered`` while watched, ``sent`` to Foxglove,
    ``skipped`` (by slot: frame, cloud) when a newer one replaced them unsent, ``errors`` that failed
    to convert (``last_error`` the newest); results ``relayed`` and relay ``relay_errors`` by engine."""

    frames_offered: int = 0
    frames_sent: int = 0
    clouds_offered: int = 0
    clouds_sent: int = 0
    errors: int = 0
    last_error: Optional[str] = None
    skipped: Dict[str, int] = field(default_factory=dict)
    relayed: Dict[str, int] = field(default_factory=dict)
    relay_errors: Dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Cloud:
    cloud: PointCloud
    stamp_ns: int


class FoxgloveBridge:
    """The Foxglove server of ``rig`` (a :class:`config.models.RigConfig`) with ``config``'s settings.

    With ``config.enabled`` false, :meth:`start` serves nothing and the publishing calls return at once.
    """

    def __init__(self, config: FoxgloveConfig, rig: Any) -> None:
        self.config = config
        self.frames: RigFrames = rig_frames(rig)
        self._name = f"onset {rig.name}"
        captioner, style = rig.engines.captioner, rig.engines.style
        self._endpoints = {
            "captions": (config.captions_endpoint or captioner.results_endpoint) if config.captions else None,
            "style": (config.style_endpoint or style.results_endpoint) if config.style_results else None,
        }
        self._lock = threading.Lock()
        self._counters = BridgeCounters()
        self._sweeps_seen = 0
        self._slots = NewestSlots(_SLOTS)
        self._context: Any = None
        self._server: Any = None
        self._channels: Optional[BridgeChannels] = None
        self._relays: List[ResultRelay] = []
        self._encoder: Optional[threading.Thread] = None

    # -- life cycle ------------------------------------------------------------------------------

    def start(self) -> "FoxgloveBridge":
        """Bind the server, open the channels, start the encoder and the relays (all or nothing)."""
        if not self.config.enabled or self._server is not None:
            return self
        host, port = self.config.host, int(self.config.port)
        if not is_loopback_host(host) and not self.config.allow_remote:
            raise FoxgloveStartError(f"the Foxglove server binds loopback addresses only, not {host!r} "
                                     "(allow_remote lifts this)")
        try:
            import foxglove
        except ImportError as err:
            raise FoxgloveUnavailableError(getattr(err, "name", None) or "foxglove") from err
        part = "JPEG encoder"
        self._slots = NewestSlots(_SLOTS)  # a fresh pair: a bridge closed after a failed start can start again
        try:
            # One tiny JPEG: a broken OpenCV is said at start, not on the first frame a client asks for.
            fx.jpeg_bytes(np.zeros((8, 8, 3), np.uint8), self.config.jpeg_quality)
            part = "channels"
            # The bridge holds the context: once the SDK's context object is dropped, its channels
            # are no longer advertised to clients that connect afterwards.
            context = self._context = foxglove.Context()
            self._channels = open_channels(context, self._endpoints["captions"] is not None,
                                           self._endpoints["style"] is not None)
            part = f"server on {host}:{port}"
            self._server = foxglove.start_server(
                name=self._name, host=host, port=port, context=context,
                message_backlog_size=int(self.config.client_backlog_messages))
            for name in ("captions", "style"):
                endpoint = self._endpoints[name]
                if endpoint is not None:
                    part = f"{name} relay from {endpoint}"
                    self._relays.append(ResultRelay(name, endpoint, getattr(self._channels, name)).start())
            part = "encoder thread"
            self._encoder = threading.Thread(target=self._encode_loop, args=(self._slots,), name="foxglove-encoder",
                                             daemon=True)
            self._encoder.start()
        except Exception as err:
            self.close()
            raise FoxgloveStartError(f"the Foxglove bridge could not start its {part}: {err}") from err
        _log.info("Foxglove server on %s", self.url)
        return self

    @property
    def serving(self) -> bool:
        """True between a successful :meth:`start` and :meth:`close`."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The port the server listens on (the configured one, or the one chosen for port 0)."""
        if self._server is None:
            raise FoxgloveError("the Foxglove server is not running")
        return int(self._server.port)

    @property
    def url(self) -> str:
        """``ws://HOST:PORT``, what Foxglove's Open connection asks for."""
        host = self.config.host
        return f"ws://{f'[{host}]' if ':' in host else host}:{self.port}"

    def close(self) -> None:
        """Stop the relays, the encoder and the server, and unadvertise the channels; idempotent."""
        self._slots.close()
        for relay in self._relays:
            relay.close()
        self._relays = []
        if self._encoder is not None:
            self._encoder.join(timeout=5.0)
            self._encoder = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._channels is not None:
            self._channels.close()
            self._channels = None
        self._context = None

    def __enter__(self) -> "FoxgloveBridge":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- what the node calls -----------------------------------------------------------------------

    def watched(self) -> Dict[str, bool]:
        """Topic -> whether some client subscribes to it now."""
        channels = self._channels
        if channels is None:
            return {}
        return {TOPICS[role]: bool(channel.has_sinks()) for role, channel in channels.by_role().items()}

    def publish_frame(self, frame: FusedFrame) -> bool:
        """Offer a fused frame (image, calibration, transforms, timecode); True if it was taken for
        sending. Never blocks; thread-safe. The frame's arrays are read later, on the encoder thread:
        the caller must not write into them (fused frames are never written after fusion)."""
        channels = self._channels
        if channels is None or self._slots.closed or not channels.frame_watched():
            return False
        with self._lock:
            self._counters.frames_offered += 1
        self._slots.put("frame", frame)
        return True

    def publish_cloud(self, cloud: PointCloud, stamp_ns: Optional[int] = None) -> bool:
        """Offer one LiDAR sweep (its points in the LiDAR's frame); ``stamp_ns`` is its master time,
        as the node stamps the sweep on ROS 2 (default: the host time its last packet came in).
        Only one sweep in ``cloud_every_n_sweeps`` is taken. Never blocks; thread-safe."""
        channels = self._channels
        if channels is None or self._slots.closed:
            return False
        with self._lock:
            self._sweeps_seen += 1
            if (self._sweeps_seen - 1) % self.config.cloud_every_n_sweeps:
                return False
        if not channels.cloud.has_sinks():
            return False
        stamp = cloud.stamp.host_ns if stamp_ns is None else int(stamp_ns)
        with self._lock:
            self._counters.clouds_offered += 1
        self._slots.put("cloud", _Cloud(cloud, stamp))
        return True

    def counters(self) -> BridgeCounters:
        """A snapshot of what the bridge did (:class:`BridgeCounters`)."""
        relays = list(self._relays)
        with self._lock:
            return dataclasses.replace(
                self._counters, skipped=dict(self._slots.skipped),
                relayed={relay.name: relay.relayed for relay in relays},
                relay_errors={relay.name: relay.errors for relay in relays})

    # -- the encoder thread ----------------------------------------------------------------------

    def _encode_loop(self, slots: NewestSlots) -> None:
        while True:
            items = slots.take(_IDLE_WAIT_S)
            if slots.closed:
                return
            channels = self._channels
            if channels is None:
                return
            if "frame" in items:
                self._send_frame(channels, items["frame"])
            if "cloud" in items:
                self._send_cloud(channels, items["cloud"])

    def _log_part(self, channel: Any, build: Callable[[], Any], log_time: int) -> bool:
        """Build one message and log it on ``channel``; a failure is counted (and logged once), never raised."""
        try:
            channel.log(build(), log_time=log_time)
        except Exception as err:  # noqa: BLE001 - one bad frame must not end the encoder
            with self._lock:
                self._counters.errors += 1
                first = self._counters.errors == 1
                self._counters.last_error = f"{type(err).__name__}: {err}"
            (_log.warning if first else _log.debug)("Foxglove: %s", err)
            return False
        return True

    def _send_frame(self, channels: BridgeChannels, frame: FusedFrame) -> None:
        """Each watched part on its own: a frame whose calibration cannot go out still shows its image."""
        t_ns, frames, quality = int(frame.t_ns), self.frames, self.config.jpeg_quality
        height, width = int(frame.rgb.shape[0]), int(frame.rgb.shape[1])
        parts = (
            (channels.transforms, lambda: fx.frame_transforms(fx.rig_transforms(frames, frame.pose), t_ns)),
            (channels.calibration,
             lambda: fx.camera_calibration(frame.K, frame.distortion, width, height, t_ns, frames.camera)),
            (channels.timecode, lambda: fx.timecode_document(frame)),
            (channels.image, lambda: fx.compressed_image(fx.jpeg_bytes(frame.rgb, quality), t_ns, frames.camera)),
        )
        sent = False
        for channel, build in parts:
            if channel.has_sinks():
                sent |= self._log_part(channel, build, t_ns)
        if sent:
            with self._lock:
                self._counters.frames_sent += 1

    def _send_cloud(self, channels: BridgeChannels, item: _Cloud) -> None:
        def build() -> Any:
            return fx.point_cloud(fx.cloud_bytes(item.cloud), item.stamp_ns, self.frames.lidar)

        if self._log_part(channels.cloud, build, item.stamp_ns):
            with self._lock:
                self._counters.clouds_sent += 1
