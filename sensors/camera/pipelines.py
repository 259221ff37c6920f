"""GStreamer pipeline descriptions for every camera source, as pure functions of the config.

Every pipeline is ``<source head> ! <common tail>``; the tail converts to packed RGB at the
configured size and ends in an ``appsink`` the driver pulls from::

    videoconvert ! videoscale ! video/x-raw,format=RGB,width=W,height=H,pixel-aspect-ratio=1/1
      ! appsink name=onset_sink sync=false max-buffers=2 drop=true

No element waits for timecode: a frame leaves the pipeline as soon as it is converted. Its
timecode label is computed downstream from the timecode clock model at the exposure instant
(``edge/sync``); only a DeckLink card's own RP188 timecode is read off the buffers.

Source heads (``camera.source``):

- ``rtp``: uncompressed RTP video (RFC 4175, the payload of SMPTE ST 2110-20) on UDP
  ``camera.host:camera.port``: ``udpsrc`` with the stream's caps (as an SDP would give them:
  RGB 8-bit, the configured size, 90 kHz) into ``rtpvrawdepay``. The stream's size is the
  profile's: frames of another size are dropped and counted (``size``), never scaled.
- ``appsrc``: code in the same process pushes RGB frames with PTS (tests, offline tools;
  ``is-live`` unless the driver runs a non-live batch).
- ``videotestsrc``: a live test pattern at the configured size and rate.
- ``v4l2src device=…`` (default ``/dev/video0``), ``rtspsrc location=…`` and
  ``filesrc location=…``: decoded by ``decodebin``, held at the project rate by ``videorate``
  and scaled to the configured size by the tail's ``videoscale``.
- ``decklinkvideosrc device-number=…``: a Blackmagic capture card in auto mode; the card
  attaches the SDI's RP188 timecode to each buffer (``GstVideoTimeCodeMeta``).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import List, Optional, Tuple

import numpy as np

from config.models import CameraConfig, CameraSource
from sensors.camera.errors import CameraConfigError
from sensors.camera.types import PipelineSpec

__all__ = [
    "VIDEO_APPSRC",
    "SOURCE",
    "DEPAY",
    "SINK",
    "DEFAULT_V4L2_DEVICE",
    "RTP_PAYLOAD_TYPE",
    "RTP_MTU_BYTES",
    "RTP_RECEIVE_BUFFER_BYTES",
    "build_pipeline",
    "rtp_video_caps",
    "rgb_stride_bytes",
    "pack_rgb",
    "unpack_rgb",
]

#: Element names the driver and the simulator look up in every pipeline.
VIDEO_APPSRC = "onset_video_src"
SOURCE = "onset_source"
DEPAY = "onset_depay"
SINK = "onset_sink"

DEFAULT_V4L2_DEVICE = "/dev/video0"
#: RTP video: dynamic payload type 96, an 8 MiB socket buffer (about 5 frames of 640x360 RGB) so
#: a busy reader loses no datagram. The simulated camera sends 60000-byte packets (loopback takes
#: them whole): the driver reads each packet's RTP header in a Python pad probe, and at 12 packets
#: a frame instead of 78 (8900-byte jumbo frames) the probe's wait for the interpreter no longer
#: delays frames. A real ST 2110-20 camera sends 1500- or 9000-byte packets: thousands a frame at
#: 1080p, which wants the timestamp read in C (an RTP header extension or rtpjitterbuffer), untested.
RTP_PAYLOAD_TYPE = 96
RTP_MTU_BYTES = 60000
RTP_RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024
_APPSINK_MAX_BUFFERS = 2  # live: keep the newest frames, older ones are dropped (and counted)
_APPSRC_QUEUE_S = Fraction(1, 4)  # video an in-process appsrc may hold before it drops the oldest
_FACTORY = re.compile(r"^\s*([A-Za-z][\w-]*)")
_QUOTED = re.compile(r'"(?:\\.|[^"\\])*"')


def rgb_stride_bytes(width_px: int) -> int:
    """Bytes per row of a packed RGB frame in GStreamer's default layout (rows padded to 4 bytes)."""
    return (3 * int(width_px) + 3) & ~3


def pack_rgb(rgb: np.ndarray) -> bytes:
    """(H, W, 3) uint8 RGB into the bytes of one GStreamer RGB frame (rows padded to 4 bytes)."""
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got shape {arr.shape} dtype {arr.dtype}")
    height, width = arr.shape[:2]
    stride = rgb_stride_bytes(width)
    if stride == 3 * width:
        return np.ascontiguousarray(arr).tobytes()
    padded = np.zeros((height, stride), dtype=np.uint8)
    padded[:, : 3 * width] = arr.reshape(height, 3 * width)
    return padded.tobytes()


def unpack_rgb(data: bytes, width_px: int, height_px: int, stride_bytes: Optional[int] = None) -> np.ndarray:
    """A copy of one GStreamer RGB frame as (H, W, 3) uint8; ValueError when ``data`` is too short."""
    stride = rgb_stride_bytes(width_px) if stride_bytes is None else int(stride_bytes)
    needed = stride * (height_px - 1) + 3 * width_px
    if len(data) < needed:
        raise ValueError(f"RGB frame {width_px}x{height_px} (stride {stride}) needs {needed} bytes, got {len(data)}")
    rows = np.frombuffer(data, dtype=np.uint8, count=needed)
    if stride == 3 * width_px:
        return rows.reshape(height_px, width_px, 3).copy()
    view = np.lib.stride_tricks.as_strided(rows, shape=(height_px, 3 * width_px), strides=(stride, 1))
    return view.reshape(height_px, width_px, 3).copy()


def _fraction(fps: Fraction) -> str:
    return f"{fps.numerator}/{fps.denominator}"


def _quote(value: str, field: str) -> str:
    """A property value quoted for ``gst_parse_launch`` (backslash-escaped double quotes)."""
    if any(ord(ch) < 32 for ch in value):
        raise CameraConfigError(f"{field} must not contain control characters or newlines, got {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _factories(description: str) -> List[str]:
    """Element factory names of a ``gst-launch`` chain (caps filters and pad references skipped)."""
    names = []
    for segment in _QUOTED.sub('""', description).split("!"):
        match = _FACTORY.match(segment)
        first = segment.split()[0] if segment.split() else ""
        if not match or "/" in first or "." in first:
            continue
        names.append(match.group(1))
    return names


def rtp_video_caps(camera: CameraConfig) -> str:
    """The RTP caps of the camera's RFC 4175 stream (what its SDP says): RGB 8-bit, W x H, 90 kHz."""
    return (
        f"application/x-rtp,media=video,clock-rate=90000,encoding-name=RAW,sampling=RGB,"
        f"depth=(string)8,width=(string){camera.width_px},height=(string){camera.height_px},"
        f"colorimetry=(string)SMPTE240M,payload={RTP_PAYLOAD_TYPE}"
    )


def _video_head(camera: CameraConfig, live: bool) -> Tuple[str, bool, bool]:
    """(description, video is live, buffer offset is the frame number) of the source head."""
    fps = _fraction(camera.frame_rate.fps)
    w, h = camera.width_px, camera.height_px
    source = camera.source
    if source == CameraSource.RTP:
        host = _quote(camera.host, "camera.host")
        desc = (
            f"udpsrc name={SOURCE} address={host} port={int(camera.port)} buffer-size={RTP_RECEIVE_BUFFER_BYTES} "
            f'caps="{rtp_video_caps(camera)}" ! rtpvrawdepay name={DEPAY}'
        )
        return desc, True, False
    if source == CameraSource.APPSRC:
        queue_frames = -(-_APPSRC_QUEUE_S.numerator * camera.frame_rate.fps.numerator
                         // (_APPSRC_QUEUE_S.denominator * camera.frame_rate.fps.denominator))
        queue_bytes = max(queue_frames, 4) * rgb_stride_bytes(w) * h
        # Live: a late pipeline drops the oldest queued frames (counted as index gaps).
        # Batch (not live): pushing blocks, so every frame gets through.
        flow = "block=false leaky-type=downstream" if live else "block=true"
        caps = (
            f"video/x-raw,format=RGB,width={w},height={h},framerate={fps},"
            f"pixel-aspect-ratio=1/1,interlace-mode=progressive"
        )
        desc = (
            f"appsrc name={VIDEO_APPSRC} is-live={str(live).lower()} format=time do-timestamp=false "
            f"max-bytes={queue_bytes} {flow} caps={caps}"
        )
        return desc, live, True
    if source == CameraSource.VIDEOTESTSRC:
        desc = (
            f"videotestsrc name={SOURCE} is-live={str(live).lower()} pattern=smpte "
            f"! video/x-raw,width={w},height={h},framerate={fps}"
        )
        return desc, live, True
    rate_lock = f"videorate skip-to-first=true ! video/x-raw,framerate={fps}"
    if source == CameraSource.V4L2:
        device = _quote(camera.device or DEFAULT_V4L2_DEVICE, "camera.device")
        return f"v4l2src name={SOURCE} device={device} ! decodebin ! {rate_lock}", True, False
    if source == CameraSource.DECKLINK:
        return f"decklinkvideosrc name={SOURCE} device-number={_decklink_number(camera)}", True, False
    if source == CameraSource.RTSP:
        url = _required_device(camera, "the RTSP URL (rtsp://host:port/path)")
        if not re.match(r"^rtsps?://", url):
            raise CameraConfigError(f"camera.device for rtspsrc must be an rtsp:// URL, got {url!r}")
        return f"rtspsrc name={SOURCE} location={_quote(url, 'camera.device')} ! decodebin ! {rate_lock}", True, False
    if source == CameraSource.FILE:
        path = _required_device(camera, "the video file's path")
        return f"filesrc name={SOURCE} location={_quote(path, 'camera.device')} ! decodebin ! {rate_lock}", False, False
    raise CameraConfigError(f"camera.source {source!r} has no pipeline")  # pragma: no cover - enum is closed


def _required_device(camera: CameraConfig, what: str) -> str:
    if not camera.device:
        raise CameraConfigError(f"camera {camera.name!r} with source {camera.source.value} needs camera.device: {what}")
    return camera.device


def _decklink_number(camera: CameraConfig) -> int:
    text = camera.device or "0"
    try:
        number = int(text)
    except ValueError:
        raise CameraConfigError(
            f"camera.device for decklinkvideosrc must be the card's device number (0, 1, ...), got {text!r}"
        ) from None
    if number < 0:
        raise CameraConfigError(f"camera.device for decklinkvideosrc must be >= 0, got {number}")
    return number


def build_pipeline(camera: CameraConfig, *, live: bool = True) -> PipelineSpec:
    """The pipeline for ``camera`` (see the module docstring).

    ``live`` applies to the ``appsrc`` and ``videotestsrc`` sources (the others are live by
    nature, files are not); ``live=False`` is the batch mode in which code pushes frames as fast
    as the pipeline takes them, none dropped.
    """
    head, video_live, index_from_offset = _video_head(camera, live)
    w, h = camera.width_px, camera.height_px
    tail = [f"videoconvert ! videoscale ! video/x-raw,format=RGB,width={w},height={h},pixel-aspect-ratio=1/1"]
    drop = "true" if video_live else "false"  # a batch must not lose frames: back-pressure instead
    max_buffers = _APPSINK_MAX_BUFFERS if video_live else 4
    tail.append(f"appsink name={SINK} emit-signals=false sync=false max-buffers={max_buffers} drop={drop}")
    description = " ! ".join([head, *tail])
    elements = tuple(dict.fromkeys(_factories(description)))
    return PipelineSpec(
        description=description,
        elements=elements,
        source=camera.source,
        video_live=video_live,
        index_from_offset=index_from_offset,
        width_px=w,
        height_px=h,
        rtp=camera.source == CameraSource.RTP,
        timecode_meta=camera.source == CameraSource.DECKLINK,
    )
