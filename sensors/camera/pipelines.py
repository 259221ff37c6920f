"""GStreamer pipeline descriptions for every camera source, as pure functions of the config.

Every pipeline is ``<source head> ! <common tail>``; the tail converts to packed RGB at the
configured size, stamps each frame with ``timecodestamper`` reading LTC audio on its
``ltc_sink`` request pad, and ends in an ``appsink`` the driver pulls from::

    videoconvert ! videoscale ! video/x-raw,format=RGB,width=W,height=H,pixel-aspect-ratio=1/1
      ! timecodestamper name=onset_tc source=ltc set=always post-messages=true drop-frame=...
                        ltc-timeout=<1.5 frames>
      ! appsink name=onset_sink sync=false max-buffers=2 drop=true

Source heads (``camera.source``):

- ``appsrc``: the simulated stage pushes RGB frames with PTS on the camera's clock
  (``is-live`` unless the driver runs a non-live batch, see below).
- ``videotestsrc``: a live test pattern at the configured size and rate.
- ``v4l2src device=…`` (default ``/dev/video0``), ``rtspsrc location=…`` and
  ``filesrc location=…``: decoded by ``decodebin`` and held at the project rate by ``videorate``
  (timecodestamper refuses a variable frame rate).
- ``decklinkvideosrc device-number=…``: a Blackmagic capture card in auto mode.

LTC audio (U8 mono at ``timecode.sample_rate_hz``) enters ``onset_tc.ltc_sink``:

- from an ``appsrc`` (``onset_ltc_src``, always live so the stamper never blocks the pusher) for
  ``appsrc``, ``videotestsrc`` and ``filesrc``: the simulated LTC generator, or a recorded LTC track;
- from ``decklinkaudiosrc`` for DeckLink: the card's embedded audio, LTC on channel 1;
- from ``autoaudiosrc`` (the machine's default audio input, where the LTC feed is plugged)
  for ``v4l2src`` and ``rtspsrc``; any other input with ``ltc_audio="alsasrc device=hw:1"``.

GStreamer 1.22's ``timecodestamper`` stamps a *live* video stream after waiting on the clock
for ``ltc-extra-latency`` (150 ms) so the LTC of each frame has arrived; a *non-live* video
stream waits until the LTC stream has ended (EOS), so non-live video (files, the batch mode of
the simulated camera) needs its LTC pushed in full through the appsrc first.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import List, Optional, Tuple

import numpy as np

from config.models import CameraConfig, CameraSource, TimecodeConfig
from sensors.camera.errors import CameraConfigError
from sensors.camera.types import LtcInput, PipelineSpec

__all__ = [
    "VIDEO_APPSRC",
    "LTC_APPSRC",
    "SOURCE",
    "STAMPER",
    "SINK",
    "DEFAULT_V4L2_DEVICE",
    "DEFAULT_LTC_DEVICE",
    "LTC_TIMEOUT_FRAMES",
    "build_pipeline",
    "default_ltc_input",
    "rgb_stride_bytes",
    "pack_rgb",
    "unpack_rgb",
]

#: Element names the driver and the simulator look up in every pipeline.
VIDEO_APPSRC = "onset_video_src"
LTC_APPSRC = "onset_ltc_src"
SOURCE = "onset_source"
STAMPER = "onset_tc"
SINK = "onset_sink"

DEFAULT_V4L2_DEVICE = "/dev/video0"
#: The LTC input for cameras whose video carries no audio of ours: the default audio input.
DEFAULT_LTC_DEVICE = "autoaudiosrc"

#: ``ltc-timeout`` in frame durations. Without a fresh LTC frame the stamper counts on from its
#: last read, one per video frame it sees, which is wrong across frames lost upstream of it (a
#: skipped render, a leaky queue, a capture drop). At 1.5 frames it may count on for the one next
#: consecutive frame only; anything later or past a gap gets no label (``timecode=None``).
LTC_TIMEOUT_FRAMES = Fraction(3, 2)
_APPSINK_MAX_BUFFERS = 2  # live: keep the newest frames, older ones are dropped (and counted)
#: Video the appsrc may hold while the live stamper waits its ``ltc-extra-latency`` (150 ms) for LTC.
_APPSRC_QUEUE_S = Fraction(1, 2)
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


def default_ltc_input(camera: CameraConfig) -> LtcInput:
    """Where a camera's LTC comes from when nothing else is said (see the module docstring)."""
    if not camera.ltc:
        return LtcInput.NONE
    if camera.source in (CameraSource.APPSRC, CameraSource.VIDEOTESTSRC, CameraSource.FILE):
        return LtcInput.APPSRC
    return LtcInput.DEVICE


def _video_head(camera: CameraConfig, live: bool) -> Tuple[str, bool, bool]:
    """(description, video is live, buffer offset is the frame number) of the source head."""
    fps = _fraction(camera.frame_rate.fps)
    w, h = camera.width_px, camera.height_px
    source = camera.source
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


def _ltc_head(camera: CameraConfig, timecode: TimecodeConfig, ltc: LtcInput, ltc_audio: Optional[str]) -> str:
    """The chain that ends on ``onset_tc.ltc_sink``, U8 mono at the LTC sample rate."""
    rate = int(timecode.sample_rate_hz)
    u8_mono = f"audio/x-raw,format=U8,channels=1,rate={rate}"
    if ltc == LtcInput.APPSRC:
        return (
            f"appsrc name={LTC_APPSRC} is-live=true format=time do-timestamp=false max-bytes=0 "
            f"caps={u8_mono},layout=interleaved ! audioconvert ! {STAMPER}.ltc_sink"
        )
    if ltc_audio:
        head = ltc_audio
    elif camera.source == CameraSource.DECKLINK:
        # Embedded audio: LTC on channel 1; the other channels carry programme sound.
        head = (
            f"decklinkaudiosrc device-number={_decklink_number(camera)} channels=2 "
            f"! deinterleave name=onset_ltc_split onset_ltc_split.src_0"
        )
    else:
        head = DEFAULT_LTC_DEVICE
    return f"{head} ! queue ! audioconvert ! audioresample ! {u8_mono} ! {STAMPER}.ltc_sink"


def build_pipeline(
    camera: CameraConfig,
    timecode: TimecodeConfig,
    *,
    live: bool = True,
    ltc_audio: Optional[str] = None,
) -> PipelineSpec:
    """The pipeline for ``camera`` with LTC at ``timecode``'s rate (see the module docstring).

    ``live`` applies to the ``appsrc`` and ``videotestsrc`` sources (the others are live by
    nature, files are not); ``live=False`` is the batch mode in which the simulated camera pushes
    its LTC in full, then its frames as fast as the pipeline takes them. ``ltc_audio`` overrides
    the LTC input: ``"appsrc"``, or a ``gst-launch`` source chain such as ``"alsasrc device=hw:1"``.
    """
    if ltc_audio is not None and not ltc_audio.strip():
        raise CameraConfigError("ltc_audio must be 'appsrc' or a GStreamer source description, got an empty string")
    if not camera.ltc:
        ltc = LtcInput.NONE
    elif ltc_audio is not None and ltc_audio.strip() == "appsrc":
        ltc, ltc_audio = LtcInput.APPSRC, None
    elif ltc_audio is not None:
        ltc = LtcInput.DEVICE
    else:
        ltc = default_ltc_input(camera)
    if ltc != LtcInput.NONE and camera.frame_rate.fps != timecode.frame_rate.fps:
        raise CameraConfigError(
            f"camera {camera.name!r} runs at {camera.fps} fps but the timecode at {timecode.rate}: "
            f"timecodestamper labels one LTC frame per video frame, so the rates must match"
        )
    head, video_live, index_from_offset = _video_head(camera, live)
    w, h = camera.width_px, camera.height_px
    tail = [f"videoconvert ! videoscale ! video/x-raw,format=RGB,width={w},height={h},pixel-aspect-ratio=1/1"]
    if ltc != LtcInput.NONE:
        drop_frame = str(timecode.frame_rate.drop_frame).lower()
        timeout_ns = int(LTC_TIMEOUT_FRAMES * 1_000_000_000 / camera.frame_rate.fps)
        tail.append(
            f"timecodestamper name={STAMPER} source=ltc set=always post-messages=true drop-frame={drop_frame} "
            f"ltc-timeout={timeout_ns}"
        )
    drop = "true" if video_live else "false"  # a batch must not lose frames: back-pressure instead
    max_buffers = _APPSINK_MAX_BUFFERS if video_live else 4
    tail.append(f"appsink name={SINK} emit-signals=false sync=false max-buffers={max_buffers} drop={drop}")
    description = " ! ".join([head, *tail])
    if ltc != LtcInput.NONE:
        description += "  " + _ltc_head(camera, timecode, ltc, ltc_audio)
    elements = tuple(dict.fromkeys(_factories(description.replace("  ", " ! "))))
    return PipelineSpec(
        description=description,
        elements=elements,
        source=camera.source,
        video_live=video_live,
        ltc=ltc,
        index_from_offset=index_from_offset,
        width_px=w,
        height_px=h,
    )
