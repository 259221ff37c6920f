"""The streaming LTC decoder and the timecode driver: exact read-back of the sim and of libltc's
audio in chunks of any size, tolerance to gain, offset, inversion and noise, bad frames counted."""

from __future__ import annotations

from typing import List, Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.models import ClockConfig, TimecodeConfig
from sensors.timecode import LtcSim, add_frames, encode_ltc_bits, ltc_audio_for_frames, parse_timecode, timecode_to_ns
from sensors.timecode.driver import LtcDecoder, TimecodeDriver
from sensors.vocabulary import FrameRate, Timecode
from tests.sensors.timecode import _libltc

CASES = [
    (FrameRate.FPS_24, "23:59:58:12"),  # midnight
    (FrameRate.FPS_25, "23:59:59:05"),  # midnight
    (FrameRate.FPS_29_97_DF, "00:00:58;25"),  # 00:00:59;29 -> 00:01:00;02
    (FrameRate.FPS_29_97_DF, "23:59:59;10"),  # midnight, drop-frame
]
AUDIO = {  # 61 frames each; the decoder can close 60 of them
    (rate, start): ltc_audio_for_frames(parse_timecode(start, rate), 61, 48000, user_bits=0x0BADCAFE) for rate, start in CASES
}


def feed_in_chunks(decoder: LtcDecoder, audio: np.ndarray, sizes: Sequence[int]) -> list:
    out, at, i = [], 0, 0
    while at < audio.size:
        n = sizes[i % len(sizes)]
        out += decoder.feed(audio[at : at + n], at)
        at, i = at + n, i + 1
    return out


def check_exact(frames: list, start: Timecode, count: int = 60, user_bits: int = 0x0BADCAFE, slack: float = 1.0) -> None:
    assert [str(f[0]) for f in frames] == [str(add_frames(start, k)) for k in range(count)]
    num, den, _ = start.rate.value
    for k, (_, user, sample) in enumerate(frames):
        assert user == user_bits
        assert abs(sample - k * 48000 * den / num) <= slack, (k, sample)


@pytest.mark.parametrize("rate,start", CASES, ids=lambda v: getattr(v, "label", v))
def test_reads_the_sim_exactly(rate: FrameRate, start: str) -> None:
    decoder = LtcDecoder(rate, 48000)
    frames = feed_in_chunks(decoder, AUDIO[(rate, start)], [4096])
    check_exact(frames, parse_timecode(start, rate))
    if rate.drop_frame and start.startswith("00:00:58"):
        labels = [str(f[0]) for f in frames]
        assert labels[labels.index("00:00:59;29") + 1] == "00:01:00;02"
    assert decoder.bad_frames == 0 and decoder.counters["bit_errors"] == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CASES), st.lists(st.integers(1, 4096), min_size=1, max_size=40))
def test_any_chunking_reads_the_same(case: tuple, sizes: List[int]) -> None:
    rate, start = case
    frames = feed_in_chunks(LtcDecoder(rate, 48000), AUDIO[case], sizes)
    check_exact(frames, parse_timecode(start, rate))


def test_one_sample_at_a_time() -> None:
    case = CASES[2]
    audio = AUDIO[case][: 48000 // 2]
    frames = feed_in_chunks(LtcDecoder(case[0], 48000), audio, [1])
    check_exact(frames, parse_timecode(case[1], case[0]), count=len(frames))
    assert len(frames) == 14


@pytest.mark.parametrize("rate,start", CASES[:3], ids=lambda v: getattr(v, "label", v))
def test_inverted_scaled_offset_and_noisy(rate: FrameRate, start: str) -> None:
    clean = AUDIO[(rate, start)].astype(np.float64) - 128.0
    rng = np.random.default_rng(7)
    variants = {
        "inverted u8": (255 - AUDIO[(rate, start)]),
        "int16, gain 80, offset -3000": (clean * 80 - 3000).astype(np.int16),
        "float, tiny, offset": clean * 1e-4 + 0.3,
        "noise sigma 12 lsb": np.clip(clean + 128 + rng.normal(0, 12, clean.size), 0, 255).astype(np.uint8),
        "inverted float with noise": -clean / 96 + rng.normal(0, 0.1, clean.size),
    }
    for name, audio in variants.items():
        decoder = LtcDecoder(rate, 48000)
        frames = feed_in_chunks(decoder, audio, [777, 1500, 3])
        check_exact(frames, parse_timecode(start, rate), slack=1.5)
        assert decoder.bad_frames == 0, name


@pytest.mark.parametrize("rate", [FrameRate.FPS_24, FrameRate.FPS_25, FrameRate.FPS_29_97_DF, FrameRate.FPS_23_976], ids=lambda r: r.label)
def test_reads_libltc_audio(rate: FrameRate) -> None:
    start = parse_timecode("00:00:59;20" if rate.drop_frame else "23:59:59:10", rate)
    audio, _ = _libltc.libltc_encode(start, 40, 48000)
    frames = feed_in_chunks(LtcDecoder(rate, 48000), audio, [1000])
    # libltc's stream starts mid-level, so its first frame has no opening edge; the last is unclosed.
    assert [f[0] for f in frames] == [add_frames(start, k) for k in range(1, 39)]
    assert all(f[1] == 0 for f in frames)


# -- bad input ----------------------------------------------------------------------------------


def square_wave(bits: np.ndarray, half: int = 12) -> np.ndarray:
    """A plain biphase-mark square wave, written independently of the sim (25 fps at 48 kHz)."""
    out, level = [np.zeros(2 * half)], -1  # quiet line, then the first edge
    for bit in bits:
        level = -level
        out.append(np.full(half, level))
        if bit:
            level = -level
        out.append(np.full(half, level))
    return (128 + 90 * np.concatenate(out)).astype(np.uint8)


def test_bad_frames_are_counted() -> None:
    rate = FrameRate.FPS_25
    start = parse_timecode("01:00:00:00", rate)
    frames = [encode_ltc_bits(add_frames(start, k)).copy() for k in range(12)]
    frames[3][56:58] = [1, 1]  # hours tens 3: bad BCD
    frames[6][66] = 0  # broken sync word
    frames[6][67] = 0
    frames[9][48:52] = [0, 1, 0, 1]  # hours units 10: bad BCD
    frames[9][59] ^= 1  # three bits changed: keep the count of ones even
    audio = square_wave(np.concatenate(frames))
    decoder = LtcDecoder(rate, 48000)
    got = feed_in_chunks(decoder, audio, [500])
    assert [str(f[0]) for f in got] == [str(add_frames(start, k)) for k in (0, 1, 2, 4, 5, 7, 8, 10)]
    assert decoder.counters["bad_bcd"] == 2 and decoder.counters["bad_sync"] == 1
    assert decoder.bad_frames == 3


def test_gap_in_sample_index_resets_and_recovers() -> None:
    rate, start = CASES[0]
    audio = AUDIO[CASES[0]]
    decoder = LtcDecoder(rate, 48000)
    first = decoder.feed(audio[:30000], 0)
    second = decoder.feed(audio[40000:], 40000)  # 10000 samples missing
    assert decoder.counters["discontinuities"] == 1
    assert first and second
    for tc, _, sample in first + second:
        k = round(sample / 2000)
        assert tc == add_frames(parse_timecode(start, rate), k) and abs(sample - 2000 * k) <= 1


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=20000), st.sampled_from([FrameRate.FPS_24, FrameRate.FPS_25, FrameRate.FPS_29_97_DF]))
def test_random_bytes_never_raise(payload: bytes, rate: FrameRate) -> None:
    decoder = LtcDecoder(rate, 48000)
    out = decoder.feed(payload, 0) + decoder.feed(payload[::-1], len(payload))
    for tc, user, _ in out:  # whatever passed sync and BCD is a well-formed label
        assert isinstance(tc, Timecode) and 0 <= user < 2**32
    if len(payload) >= 8000 and not out:
        assert decoder.bad_frames + decoder.counters["bit_errors"] > 0 or len(set(payload)) <= 2


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=3000),
    st.integers(1, 700),
)
def test_random_floats_never_raise(values: list, chunk: int) -> None:
    decoder = LtcDecoder(FrameRate.FPS_30, 48000)
    audio = np.array(values, dtype=np.float32)
    feed_in_chunks(decoder, audio, [chunk])
    assert decoder.counters["bad_samples"] == int((~np.isfinite(audio)).sum())


def test_noise_counts_missing_sync() -> None:
    rng = np.random.default_rng(1)
    decoder = LtcDecoder(FrameRate.FPS_25, 48000)
    noise = rng.integers(0, 256, 48000 * 2).astype(np.uint8)
    assert feed_in_chunks(decoder, noise, [4096]) == []
    assert decoder.bad_frames > 0 and decoder.counters["bit_errors"] > 0


def test_misuse_is_a_clear_error() -> None:
    decoder = LtcDecoder(FrameRate.FPS_25, 48000)
    with pytest.raises(ValueError, match="mono"):
        decoder.feed(np.zeros((100, 2)), 0)
    with pytest.raises(TypeError, match="numeric"):
        decoder.feed(np.array(["a", "b"]), 0)


# -- the driver ---------------------------------------------------------------------------------


def test_driver_stamps_frames_with_both_clocks() -> None:
    config = TimecodeConfig(rate="29.97DF", start="00:00:50;00", clock=ClockConfig(offset_ns=0, drift_ppm=40.0))
    epoch_ns = 1_800_000_000_000_000_000
    sim = LtcSim(config, epoch_ns, seed=1)
    driver = TimecodeDriver(config, clock_ns=lambda: epoch_ns)
    samples = []
    rng = np.random.default_rng(5)
    while sim.samples_read < 48000 * 20:
        first = sim.samples_read
        chunk = sim.read(int(rng.integers(200, 4000)))
        samples += driver.feed_audio(chunk, sim.sample_master_ns(first))
    assert len(samples) >= 595
    for sample in samples:
        truth, start_ns = sim.timecode_at(sample.stamp.host_ns + 30_000)  # inside the frame
        assert sample.timecode == truth
        assert abs(sample.stamp.host_ns - start_ns) <= 25_000  # one sample period at 48 kHz
        assert sample.stamp.sensor_ns == timecode_to_ns(sample.timecode)
    labels = [str(s.timecode) for s in samples]
    assert "00:01:00;02" in labels and "00:01:00;00" not in labels
    snap = driver.stats.snapshot()
    assert snap.name == "timecode" and snap.decoded == len(samples) and snap.dropped == 0
    assert snap.clock is not None and abs(snap.clock.drift_ppm - 40.0) < 3.0  # the generator's drift


def test_driver_counts_jumps_and_bad_audio() -> None:
    config = TimecodeConfig(rate="25", start="10:00:00:00")
    driver = TimecodeDriver(config, clock_ns=lambda: 0)
    a = ltc_audio_for_frames(parse_timecode("10:00:00:00", FrameRate.FPS_25), 20, 48000)
    b = ltc_audio_for_frames(parse_timecode("10:00:30:00", FrameRate.FPS_25), 20, 48000)
    out = driver.feed_audio(a, 0) + driver.feed_audio(b, 400_000_000)
    assert str(out[0].timecode) == "10:00:00:00" and str(out[-1].timecode) == "10:00:30:18"
    assert driver.stats.drops("jump") == 1 and out[20].flags == ("jump",)
    assert driver.stats.snapshot().decoded == len(out)
    noise = np.random.default_rng(0).integers(0, 256, 48000).astype(np.uint8)
    closing = driver.feed_audio(noise.tobytes(), 800_000_000)  # its first edge may close b's last frame
    assert [str(s.timecode) for s in closing] in ([], ["10:00:30:19"])
    assert driver.stats.drops("noise") > 0 and driver.stats.drops("bad_sync") == 0
    assert driver.stats.received == 3
