"""WAV files of LTC audio: a RIFF/WAVE reader for PCM of any width and IEEE float, first channel.

Formats read: ``WAVE_FORMAT_PCM`` (1) at 8 bits (unsigned) or 16 / 24 / 32 bits (signed,
little-endian), ``WAVE_FORMAT_IEEE_FLOAT`` (3) at 32 / 64 bits, and ``WAVE_FORMAT_EXTENSIBLE``
(0xFFFE) wrapping either. Samples come back as float64 of the first channel, full scale 1.0.
Anything else (compressed formats, a truncated header, no ``data`` chunk) raises
:class:`~sensors.timecode.errors.WavFormatError` naming the file and what was found; a ``data``
chunk cut short by a truncated file is read up to its last whole sample frame.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO, Tuple

import numpy as np

from sensors.timecode.errors import WavFormatError

__all__ = ["WavInfo", "read_wav_info", "read_wav"]

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


@dataclass(frozen=True)
class WavInfo:
    """What a WAV file holds: sample rate (Hz), channels, bits per sample, float or integer,
    where its sample frames start (bytes) and how many there are."""

    sample_rate_hz: int
    channels: int
    bits: int
    is_float: bool
    data_offset: int
    frames: int

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.bits // 8


def _chunks(f: BinaryIO, path: str) -> Tuple[bytes, int, int]:
    """Find the fmt chunk's bytes and the data chunk's (offset, length) in a RIFF/WAVE file."""
    head = f.read(12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        raise WavFormatError(path, f"not a RIFF/WAVE file (starts with {head[:12]!r})")
    fmt = None
    while True:
        header = f.read(8)
        if len(header) < 8:
            raise WavFormatError(path, "no data chunk" if fmt is not None else "no fmt chunk")
        cid, size = header[:4], struct.unpack("<I", header[4:])[0]
        if cid == b"fmt ":
            fmt = f.read(size)
            if len(fmt) < 16:
                raise WavFormatError(path, f"fmt chunk of {len(fmt)} bytes, needs 16")
            if size % 2:
                f.read(1)
        elif cid == b"data":
            if fmt is None:
                raise WavFormatError(path, "data chunk before the fmt chunk")
            return fmt, f.tell(), size
        else:
            f.seek(size + (size % 2), 1)


def read_wav_info(path: str) -> WavInfo:
    """Parse a WAV file's header (see the module docstring); WavFormatError if unreadable."""
    try:
        with open(path, "rb") as f:
            fmt, offset, size = _chunks(f, str(path))
            f.seek(0, 2)
            available = f.tell() - offset
    except OSError as err:
        raise WavFormatError(str(path), f"cannot read: {err.strerror or err}") from err
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == _EXTENSIBLE:
        if len(fmt) < 26:
            raise WavFormatError(str(path), "WAVE_FORMAT_EXTENSIBLE without its sub-format")
        tag = struct.unpack("<H", fmt[24:26])[0]
    if tag not in (_PCM, _FLOAT):
        raise WavFormatError(str(path), f"format tag {tag:#06x} is not PCM (1) or IEEE float (3)")
    if channels < 1 or rate < 1:
        raise WavFormatError(str(path), f"{channels} channels at {rate} Hz")
    allowed = (32, 64) if tag == _FLOAT else (8, 16, 24, 32)
    if bits not in allowed:
        kind = "float" if tag == _FLOAT else "PCM"
        raise WavFormatError(str(path), f"{bits}-bit {kind} is not supported (expected {allowed})")
    frame_bytes = channels * bits // 8
    frames = min(size, max(0, available)) // frame_bytes
    return WavInfo(int(rate), int(channels), int(bits), tag == _FLOAT, int(offset), int(frames))


def read_wav(path: str, first_frame: int = 0, n_frames: int = -1) -> Tuple[np.ndarray, WavInfo]:
    """Samples ``first_frame ..`` (``n_frames``, -1: to the end) of the first channel as float64."""
    info = read_wav_info(path)
    first = max(0, min(int(first_frame), info.frames))
    count = info.frames - first if n_frames < 0 else max(0, min(int(n_frames), info.frames - first))
    with open(path, "rb") as f:
        f.seek(info.data_offset + first * info.frame_bytes)
        raw = f.read(count * info.frame_bytes)
    count = len(raw) // info.frame_bytes
    width = info.bits // 8
    frames = np.frombuffer(raw[: count * info.frame_bytes], dtype=np.uint8).reshape(count, info.frame_bytes)
    first_channel = np.ascontiguousarray(frames[:, :width])
    if info.is_float:
        values = first_channel.view("<f4" if width == 4 else "<f8").reshape(-1).astype(np.float64)
        return values, info
    if width == 1:
        return (first_channel.reshape(-1).astype(np.float64) - 128.0) / 128.0, info
    if width == 3:
        b = first_channel.astype(np.int32)
        value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        return value.astype(np.float64) / float(1 << 23), info
    dtype = "<i2" if width == 2 else "<i4"
    return first_channel.view(dtype).reshape(-1).astype(np.float64) / float(1 << (info.bits - 1)), info
