"""LTC from WAV files: every PCM width and float, first channel of several, batch and real time;
files that are not WAV audio are a clear error naming the file."""

from __future__ import annotations

import struct
import wave
from pathlib import Path
from typing import List

import numpy as np
import pytest

from config.models import TimecodeConfig, TimecodeInputConfig
from sensors.timecode import TimecodeDriver, add_frames, TimecodeInputError, WavFormatError, ltc_audio_for_frames, parse_timecode
from sensors.timecode.wav import read_wav
from sensors.vocabulary import NS_PER_S, FrameRate, TimecodeSample
from tests.polling import wait_for

T0_NS = 1_750_000_000_000_000_000


def ltc_float(rate: FrameRate, start: str, frames: int, sample_rate_hz: int = 48000) -> np.ndarray:
    """The sim's LTC as floats in [-0.75, 0.75]."""
    audio = ltc_audio_for_frames(parse_timecode(start, rate), frames, sample_rate_hz)
    return (audio.astype(np.float64) - 128.0) / 128.0


def write_pcm(path: Path, x: np.ndarray, width: int, rate: int, channels: int = 1) -> None:
    """A WAV file written by Python's own ``wave`` module (the referee for the reader)."""
    if width == 1:
        pcm = np.clip(np.rint(x * 127 + 128), 0, 255).astype(np.uint8)
    else:
        full = float(1 << (8 * width - 1))
        ints = np.clip(np.rint(x * (full - 1)), -full, full - 1).astype(np.int64)
        pcm = ((ints[:, None] >> (8 * np.arange(width))) & 0xFF).astype(np.uint8)
    frames = np.repeat(pcm.reshape(x.size, -1), channels, axis=0).reshape(x.size, -1)
    if channels > 1:  # the other channels carry programme audio, not LTC
        frames = frames.reshape(x.size, channels, -1)
        frames[:, 1:, :] = np.random.default_rng(0).integers(0, 256, frames[:, 1:, :].shape, dtype=np.uint8)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())


def write_float(path: Path, x: np.ndarray, rate: int, extensible: bool = False) -> None:
    """32-bit IEEE float WAV, optionally as WAVE_FORMAT_EXTENSIBLE (written by hand)."""
    data = x.astype("<f4").tobytes()
    if extensible:
        guid = struct.pack("<H", 3) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, 1, rate, rate * 4, 4, 32, 22, 32, 4) + guid
    else:
        fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"LIST" + struct.pack("<I", 5) + b"junk!\x00"
    body += b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def decode_file(path: Path, rate: str, realtime: bool = False) -> List[TimecodeSample]:
    config = TimecodeConfig(rate=rate, input=TimecodeInputConfig(kind="wav", path=str(path), realtime=realtime))
    got: List[TimecodeSample] = []
    driver = TimecodeDriver(config, on_sample=got.append, clock_ns=lambda: T0_NS)
    with driver:
        assert driver.input.done.wait(30.0) and driver.input.error is None
    return got


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_pcm_of_any_width_is_read_frame_exact(tmp_path: Path, width: int) -> None:
    rate = FrameRate.FPS_29_97_DF
    path = tmp_path / f"ltc{width}.wav"
    write_pcm(path, ltc_float(rate, "00:00:59;10", 40), width, 48000, channels=2 if width == 3 else 1)
    got = decode_file(path, "29.97DF")
    start = parse_timecode("00:00:59;10", rate)
    assert [s.timecode for s in got] == [add_frames(start, k) for k in range(39)]
    assert "00:01:00;02" in {str(s.timecode) for s in got}
    for k, sample in enumerate(got):
        # Host time: the file plays from the driver's start, sample i at T0 + i / 48 kHz.
        frame_start_ns = k * NS_PER_S * 1001 // 30000
        assert abs(sample.stamp.host_ns - (T0_NS + frame_start_ns)) <= 21_000


@pytest.mark.parametrize("extensible", [False, True])
def test_float_wav_and_its_own_sample_rate(tmp_path: Path, extensible: bool) -> None:
    path = tmp_path / "ltc_f32.wav"
    x = ltc_float(FrameRate.FPS_25, "23:59:59:00", 30, sample_rate_hz=44100)
    write_float(path, x, 44100, extensible=extensible)
    back, info = read_wav(str(path))
    assert info.sample_rate_hz == 44100 and info.is_float and np.allclose(back, x, atol=1e-7)
    got = decode_file(path, "25")
    assert [str(s.timecode) for s in got][24:26] == ["23:59:59:24", "00:00:00:00"] and len(got) == 29


def test_realtime_playback_keeps_file_time(tmp_path: Path) -> None:
    path = tmp_path / "ltc.wav"
    write_pcm(path, ltc_float(FrameRate.FPS_30, "12:00:00:00", 12), 2, 48000)
    config = TimecodeConfig(rate="30", input=TimecodeInputConfig(kind="wav", path=str(path)))
    got: List[TimecodeSample] = []
    with TimecodeDriver(config, on_sample=got.append) as driver:
        assert wait_for(driver.input.done.is_set, timeout_s=10.0)
        first_ns = driver.input.samples_sent and got[0].stamp.host_ns
    assert [str(s.timecode) for s in got] == [f"12:00:00:{k:02d}" for k in range(11)]
    steps = np.diff([s.stamp.host_ns for s in got])
    assert np.all(np.abs(steps - NS_PER_S / 30) <= 21_000)  # stamped by file time, not by when it was read
    assert first_ns == got[0].stamp.host_ns


def test_files_that_are_not_wav_audio_are_named(tmp_path: Path) -> None:
    cases = {
        "text.wav": b"hello, this is not a RIFF file at all",
        "adpcm.wav": b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + struct.pack("<HHIIHH", 2, 1, 8000, 4000, 1, 4),
        "nodata.wav": b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16),
        "cut.wav": b"RIFF\x24\x00\x00\x00WAVEfm",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        config = TimecodeConfig(input=TimecodeInputConfig(kind="wav", path=str(tmp_path / name)))
        with pytest.raises(TimecodeInputError, match=name):
            TimecodeDriver(config).start()
    with pytest.raises(WavFormatError, match="cannot read"):
        read_wav(str(tmp_path / "missing.wav"))


def test_a_truncated_data_chunk_is_read_to_its_last_whole_frame(tmp_path: Path) -> None:
    path = tmp_path / "t.wav"
    write_pcm(path, ltc_float(FrameRate.FPS_24, "01:00:00:00", 10), 2, 48000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20001])  # mid-sample
    samples, info = read_wav(str(path))
    assert samples.size == info.frames == (len(data) - 44 - 20001) // 2
    assert [str(s.timecode) for s in decode_file(path, "24")] == [f"01:00:00:{k:02d}" for k in range(4)]
