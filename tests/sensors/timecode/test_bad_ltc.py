"""LTC a real stage gets wrong: played backwards, noisy, at the wrong rate, jumping, with a frame
missing, with a bad polarity bit. Each is counted by reason and flagged, never emitted as a wrong
forward label, and the decoder recovers."""

from __future__ import annotations

from typing import List

import numpy as np

from config.models import TimecodeConfig
from sensors.timecode import TimecodeDriver, add_frames, encode_ltc_bits, ltc_audio_for_frames, parse_timecode
from sensors.timecode.smpte import timecode_to_frames
from sensors.vocabulary import FrameRate, Timecode, TimecodeSample
from tests.sensors.timecode import _libltc
from tests.sensors.timecode.test_driver import square_wave

RATE = FrameRate.FPS_25


def driver_for(rate: str = "25", **kw: object) -> TimecodeDriver:
    return TimecodeDriver(TimecodeConfig(rate=rate, **kw), clock_ns=lambda: 0)


def feed(driver: TimecodeDriver, audio: np.ndarray, chunk: int = 1111) -> List[TimecodeSample]:
    out: List[TimecodeSample] = []
    for at in range(0, audio.size, chunk):
        out += driver.feed_audio(audio[at : at + chunk], at * 20_833)
    return out


def ltc(start: str, frames: int, rate: FrameRate = RATE) -> np.ndarray:
    return ltc_audio_for_frames(parse_timecode(start, rate), frames, 48000)


def test_reversed_ltc_is_counted_and_never_read_forwards() -> None:
    forward = ltc("01:00:00:00", 40)
    driver = driver_for()
    assert feed(driver, forward[::-1].copy()) == []
    assert driver.stats.drops("reversed") >= 38
    assert driver.stats.drops("bad_sync") == 0 and driver.decoder.counters["frames"] == 0
    # libltc, the referee, reads the same audio as frames played in reverse.
    if _libltc.LIB is not None:
        assert len(_libltc.libltc_decode(forward[::-1].copy(), RATE, 48000)) >= 38
    # Played forwards again, it reads again.
    again = [str(s.timecode) for s in feed(driver, ltc("02:00:00:00", 10))]
    assert again == [f"02:00:00:{k:02d}" for k in range(9 - len(again), 9)] and len(again) >= 8


def test_noise_burst_is_counted_and_the_frames_after_it_are_flagged_as_a_gap() -> None:
    audio = ltc("03:00:00:00", 50).astype(np.float64)
    per_frame = 48000 // 25
    rng = np.random.default_rng(4)
    audio[20 * per_frame : 23 * per_frame] = 128 + rng.normal(0, 60, 3 * per_frame)
    driver = driver_for()
    got = feed(driver, np.clip(audio, 0, 255).astype(np.uint8))
    start = timecode_to_frames(parse_timecode("03:00:00:00", RATE))
    labels = [timecode_to_frames(s.timecode) - start for s in got]
    assert labels[:19] == list(range(19)) and labels[-5:] == list(range(44, 49))
    after = next(i for i, k in enumerate(labels) if k > 19)
    assert got[after].flags == ("gap",) and all(not s.flags for s in got[:after] + got[after + 1 :])
    missing = labels[after] - labels[after - 1] - 1
    assert missing >= 3 and driver.stats.drops("gap") == missing
    assert driver.stats.drops("noise") >= 1 and driver.stats.drops("jump") == 0


def test_a_missing_frame_is_a_gap_not_a_jump() -> None:
    start = parse_timecode("04:00:00:00", RATE)
    a = ltc_audio_for_frames(start, 10, 48000)
    silence = np.full(48000 // 25, 128, dtype=np.uint8)  # the generator skipped frame 10
    b = ltc_audio_for_frames(add_frames(start, 11), 10, 48000)
    driver = driver_for()
    got = feed(driver, np.concatenate((a, silence, b)))
    frames = [s.timecode.frames for s in got]
    assert frames[:9] == list(range(9)) and frames[9:] == list(range(11, 20))
    assert got[9].flags == ("gap",) and driver.stats.drops("gap") == 2  # frame 9 cut short, 10 absent
    assert driver.stats.drops("jump") == 0


def test_a_jump_is_flagged_and_followed() -> None:
    driver = driver_for()
    got = feed(driver, np.concatenate((ltc("05:00:00:00", 10), ltc("05:30:00:00", 10))))
    labels = [str(s.timecode) for s in got]
    assert labels[9:11] == ["05:00:00:09", "05:30:00:00"]
    assert [s.flags for s in got[9:12]] == [(), ("jump",), ()]
    assert driver.stats.drops("jump") == 1 and driver.stats.drops("gap") == 0


def test_wrong_rate_by_bit_period_and_by_label() -> None:
    # 25 fps LTC into a 24 fps project: bits 4 % too short; into 30 fps: 20 % too long.
    for project in ("24", "30"):
        driver = driver_for(project)
        assert feed(driver, ltc("06:00:00:00", 30)) == []
        assert driver.stats.drops("wrong_rate") >= 28, project
    # 29.97 NDF into a drop-frame project: the flag says it is another rate.
    driver = driver_for("29.97DF")
    assert feed(driver, ltc("06:00:00:00", 20, FrameRate.FPS_29_97_NDF)) == []
    assert driver.stats.drops("wrong_rate") >= 18
    # A frame number 25 fps never reaches, at 25 fps bit periods.
    bits = [encode_ltc_bits(Timecode(6, 0, 0, f, FrameRate.FPS_30)) for f in (23, 24, 25, 26, 27, 28)]
    bits += [encode_ltc_bits(Timecode(6, 0, 1, f, RATE)) for f in range(4)]
    driver = driver_for()
    got = feed(driver, square_wave(np.concatenate(bits)), chunk=500)
    assert [str(s.timecode) for s in got] == ["06:00:00:23", "06:00:00:24", "06:00:01:00", "06:00:01:01", "06:00:01:02"]
    # The next good label follows five frame periods later but only one label on: a jump.
    assert driver.stats.drops("wrong_rate") == 4 and got[2].flags == ("jump",)


def test_polarity_bit_is_checked_unless_the_profile_says_not() -> None:
    frames = [encode_ltc_bits(add_frames(parse_timecode("07:00:00:00", RATE), k)).copy() for k in range(8)]
    frames[3][59] ^= 1  # the 25 fps polarity bit: the count of ones goes odd
    audio = square_wave(np.concatenate(frames))
    checked = driver_for()
    assert [s.timecode.frames for s in feed(checked, audio)] == [0, 1, 2, 4, 5, 6]
    assert checked.stats.drops("parity") == 1
    lenient = driver_for(parity_check=False)
    assert [s.timecode.frames for s in feed(lenient, audio)] == [0, 1, 2, 3, 4, 5, 6]
    assert lenient.stats.drops("parity") == 0


def test_a_glitch_inside_one_frame_costs_that_frame_only() -> None:
    audio = ltc("08:00:00:00", 12).astype(np.int16)
    at = 5 * (48000 // 25) + 700  # inside frame 5's bits
    audio[at : at + 4] = 255 + 128 - audio[at : at + 4]  # a 4-sample spike of the other polarity
    driver = driver_for()
    got = feed(driver, np.clip(audio, 0, 255).astype(np.uint8))
    assert [s.timecode.frames for s in got] == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10]
    assert driver.stats.drops("noise") == 1 and driver.stats.drops("bad_sync") == 0
    assert got[5].flags == ("gap",) and driver.stats.drops("gap") == 1
