"""LTC as RTP audio: the simulated generator's RTP sender into the driver's own RTP input on
loopback, decoded frame-exact; lost, reordered, late and duplicate packets counted; hostile
datagrams dropped by reason, never raised."""

from __future__ import annotations

import time
from typing import List

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.models import ClockConfig, TimecodeConfig, TimecodeInputConfig
from sensors.timecode import LtcRtpSender, LtcSim, TimecodeDriver, add_frames
from sensors.timecode.rtp import build_rtp, float_to_pcm_be, parse_rtp, pcm_be_to_float
from sensors.timecode.smpte import timecode_to_frames
from sensors.vocabulary import NS_PER_S, TimecodeSample
from tests.polling import wait_for

EPOCH_NS = 1_800_000_000_000_000_000


def rtp_config(rate: str, start: str, encoding: str = "L16", drift_ppm: float = 0.0) -> TimecodeConfig:
    return TimecodeConfig(
        rate=rate,
        start=start,
        clock=ClockConfig(drift_ppm=drift_ppm),
        input=TimecodeInputConfig(kind="rtp", host="127.0.0.1", port=0, encoding=encoding),
    )


def frame_of(sim: LtcSim, host_ns: int) -> int:
    """The LTC frame whose start lies nearest ``host_ns`` (frames are 33 ms or more apart)."""
    seconds = (host_ns - sim.sample_master_ns(0)) / NS_PER_S
    return int(round(seconds * float(sim.ltc_rate.fps)))


@pytest.mark.parametrize(
    "rate,start,encoding",
    [("29.97DF", "00:00:59;00", "L16"), ("25", "23:59:59:00", "L24"), ("59.94DF", "00:09:59;00", "L16")],
)
def test_loopback_rtp_is_decoded_frame_exact(rate: str, start: str, encoding: str) -> None:
    config = rtp_config(rate, start, encoding, drift_ppm=30.0)
    got: List[TimecodeSample] = []
    driver = TimecodeDriver(config, on_sample=got.append).start()
    try:
        sim = LtcSim(config, time.time_ns() + 300_000_000, seed=4)
        with LtcRtpSender(sim, "127.0.0.1", driver.input.port, encoding=encoding) as sender:
            assert wait_for(lambda: len(got) >= 45, timeout_s=20.0), (len(got), driver.stats.snapshot())
        assert sender.error is None and sender.send_errors == 0 and sender.first_sample % 48 == 0
    finally:
        driver.close()
    # Frame-exact: consecutive LTC frames of the generator, each with its own label.
    k0 = next(k for k in range(4000) if sim.timecode_of_frame(k) == got[0].timecode)
    assert [s.timecode for s in got] == [sim.timecode_of_frame(k0 + j) for j in range(len(got))]
    for j, sample in enumerate(got):
        # Host time from arrivals: never before the frame's edge (less the generator's drift over
        # the run). How much later depends on this shared machine's scheduling (sender and
        # receiver share one process here), so no upper bound here; the arrival clock itself is
        # tested deterministically below.
        truth_ns = sim.sample_master_ns(int(sim.frame_start_sample(k0 + j)))
        assert sample.stamp.host_ns - truth_ns >= -1_000_000
    labels = {str(s.timecode) for s in got}
    if rate == "29.97DF":
        assert "00:01:00;02" in labels and "00:01:00;00" not in labels
    if rate == "25":
        assert "23:59:59:24" in labels and "00:00:00:00" in labels
    if rate == "59.94DF":  # minute 10 keeps its first labels; LTC frames label even frames only
        assert "00:10:00;00" in labels and all(s.timecode.frames % 2 == 0 for s in got)
    assert driver.stats.dropped == 0, driver.stats.snapshot().drop_reasons


def packets(sim: LtcSim, count: int, per_packet: int = 48, first_seq: int = 65500, first_ts: int = 2**32 - 4800) -> List[bytes]:
    """``count`` RTP L16 packets of ``sim``'s audio; sequence and timestamp wrap on the way."""
    out = []
    for i in range(count):
        audio = (sim.samples(i * per_packet, per_packet).astype(np.float64) - 128.0) / 128.0
        out.append(build_rtp(first_seq + i, first_ts + i * per_packet, 0x1234, 96, float_to_pcm_be(audio, "L16")))
    return out


def arrival(i: int) -> int:
    """Packet ``i`` arrives 1 ms after its first sample plus a varying (seeded) delay."""
    return EPOCH_NS + (i + 1) * 1_000_000 + int(np.random.default_rng(i).integers(50_000, 400_000))


def test_lost_reordered_late_and_duplicate_packets_are_counted() -> None:
    config = rtp_config("25", "10:00:00:00")
    sim = LtcSim(config, EPOCH_NS, seed=1)
    stream = packets(sim, 3000)
    got: List[TimecodeSample] = []
    driver = TimecodeDriver(config, on_sample=got.append, clock_ns=lambda: EPOCH_NS).start()
    try:
        order = [i for i in range(3000) if not 1000 <= i < 1040]  # 40 ms lost
        order[1900], order[1901] = order[1901], order[1900]  # two swapped: put back in order
        late = order.index(2500)
        order.insert(late + 8, order.pop(late))  # 8 packets late: its hole was released as lost
        order.insert(order.index(2700) + 1, 2700)  # a repeat
        for i in order:
            driver.input.on_datagram(stream[i], arrival(i))
    finally:
        driver.close()
    stats = driver.stats
    assert stats.drops("rtp_lost") == 41 and stats.drops("rtp_late") == 1 and stats.drops("rtp_duplicate") == 1
    assert driver.input is None
    # Every frame still carries the generator's label; the holes show as missing LTC frames.
    ks = [round((s.stamp.host_ns - EPOCH_NS) * 25 / NS_PER_S) for s in got]
    for k, sample in zip(ks, got):
        assert sample.timecode == sim.timecode_of_frame(k)
    missing = [b - a - 1 for a, b in zip(ks, ks[1:]) if b - a > 1]
    assert len(missing) == 2 and stats.drops("gap") == sum(missing)
    flagged = [s for s in got if s.flags]
    assert [f.flags for f in flagged] == [("gap",), ("gap",)] and stats.drops("jump") == 0
    assert ks[0] == 0 and ks[-1] >= 73 and missing[0] >= 2, (ks[0], ks[-1], missing)


def test_host_stamps_come_from_the_least_delayed_arrivals() -> None:
    config = rtp_config("24", "01:00:00:00")
    sim = LtcSim(config, EPOCH_NS, seed=1)
    got: List[TimecodeSample] = []
    driver = TimecodeDriver(config, on_sample=got.append, clock_ns=lambda: EPOCH_NS).start()
    try:
        for i, packet in enumerate(packets(sim, 2000)):
            driver.input.on_datagram(packet, arrival(i))
    finally:
        driver.close()
    assert len(got) >= 45
    for sample in got[5:]:
        k = round((sample.stamp.host_ns - EPOCH_NS) * 24 / NS_PER_S)
        truth = EPOCH_NS + k * NS_PER_S // 24
        assert 50_000 <= sample.stamp.host_ns - truth <= 60_000  # the smallest of the delays, not their mean


def test_wrong_payload_type_and_truncated_payloads_are_dropped() -> None:
    config = rtp_config("25", "00:00:00:00")
    driver = TimecodeDriver(config, clock_ns=lambda: 0).start()
    try:
        rx = driver.input
        rx.on_datagram(build_rtp(1, 0, 1, 97, b"\x00\x01" * 48), 1)
        rx.on_datagram(build_rtp(2, 48, 1, 96, b"\x00" * 95), 2)
        rx.on_datagram(b"\x40" + b"\x00" * 20, 3)
        rx.on_datagram(b"\x80\x60", 4)
        rx.on_datagram(build_rtp(3, 96, 1, 96, b"\x00\x01" * 48), 5)
        rx.on_datagram(build_rtp(4, 144, 2, 96, b"\x00\x01" * 48), 6)  # a second sender
    finally:
        driver.close()
    reasons = dict(driver.stats.snapshot().drop_reasons)
    assert reasons == {"rtp_payload_type": 1, "rtp_payload": 1, "rtp_version": 1, "rtp_short": 1, "rtp_ssrc": 1}
    assert driver.stats.received == 6


@settings(max_examples=200)
@given(st.binary(max_size=1500))
def test_any_datagram_is_parsed_or_dropped(payload: bytes) -> None:
    config = rtp_config("30", "00:00:00:00")
    driver = TimecodeDriver(config, clock_ns=lambda: 0)
    from sensors.timecode.inputs import RtpLtcInput

    rx = RtpLtcInput(config, driver._feed, driver.stats)
    for host_ns in (1, 2):
        rx.on_datagram(payload, host_ns)
        rx.on_datagram(b"\x80\x60" + payload, host_ns)  # an RTP-looking header with anything after
    assert driver.stats.received == 4


@pytest.mark.parametrize("encoding", ["L16", "L24"])
def test_pcm_payloads_round_trip(encoding: str) -> None:
    x = np.random.default_rng(3).uniform(-1, 1, 480)
    back = pcm_be_to_float(parse_rtp(build_rtp(9, 7, 5, 96, float_to_pcm_be(x, encoding))).payload, encoding)
    step = 2.0 ** (-15 if encoding == "L16" else -23)
    assert np.max(np.abs(back - x)) <= step
    # First channel of a stereo payload: the second channel is ignored.
    stereo = np.frombuffer(float_to_pcm_be(np.repeat(x, 2) * np.tile([1, -1], x.size), encoding), dtype=np.uint8)
    assert np.allclose(pcm_be_to_float(stereo.tobytes(), encoding, channels=2), x, atol=step)


def test_sender_skips_what_was_due_before_it_started() -> None:
    config = rtp_config("25", "00:00:00:00")
    sim = LtcSim(config, time.time_ns() - 3 * NS_PER_S, seed=0)  # the generator has run for 3 s
    sender = LtcRtpSender(sim, "127.0.0.1", 9)  # the discard port: nothing listens
    assert 3 * 48000 <= sender._first_packet(time.time_ns()) < 3 * 48000 + 48 * 200
    assert add_frames(sim.start, 75) == sim.timecode_of_frame(75)


def test_sender_puts_the_sample_index_on_the_wire_on_time() -> None:
    import socket

    config = rtp_config("25", "00:00:00:00")
    sim = LtcSim(config, time.time_ns() - 2 * NS_PER_S, seed=0)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(5.0)
        with LtcRtpSender(sim, "127.0.0.1", rx.getsockname()[1]) as sender:
            got = []
            for _ in range(20):
                got.append((parse_rtp(rx.recv(2048)), time.time_ns()))
        assert sender.first_sample is not None and sender.first_sample % 48 == 0
    for j, (packet, arrived_ns) in enumerate(got):
        index = sender.first_sample + 48 * j
        assert packet.timestamp == index % 2**32 and packet.payload_type == 96 and packet.ssrc == sender.ssrc
        assert packet.sequence == (sender.ssrc + j) & 0xFFFF
        expected = (sim.samples(index, 48).astype(np.float64) - 128.0) / 128.0
        assert np.allclose(pcm_be_to_float(packet.payload, "L16"), expected, atol=2.0**-15)
        assert arrived_ns >= sim.sample_master_ns(index + 48)  # never before its last sample was taken


def test_a_restarted_sender_is_followed_not_dropped() -> None:
    config = rtp_config("25", "11:00:00:00")
    sim = LtcSim(config, EPOCH_NS, seed=1)
    first = packets(sim, 1000)  # 1 s
    # The generator restarts 2 s later with a new random timestamp, then a new SSRC after 1 s of quiet.
    again = LtcSim(rtp_config("25", "11:00:03:00"), EPOCH_NS, seed=1)
    second = [build_rtp(7 + i, 123_456_789 + 48 * i, 0x1234, 96, p[12:]) for i, p in enumerate(packets(again, 1000))]
    third = [build_rtp(i, 5 + 48 * i, 0x9999, 96, p[12:]) for i, p in enumerate(packets(sim, 1000))]
    got: List[TimecodeSample] = []
    driver = TimecodeDriver(config, on_sample=got.append, clock_ns=lambda: EPOCH_NS).start()
    try:
        for i, packet in enumerate(first):
            driver.input.on_datagram(packet, arrival(i))
        for i, packet in enumerate(second):
            driver.input.on_datagram(packet, arrival(3000 + i))
        driver.input.on_datagram(third[0], arrival(3100))  # another sender while this one is live
        for i, packet in enumerate(third):
            driver.input.on_datagram(packet, arrival(5000 + i))
        counters = driver.input.counters
    finally:
        driver.close()
    labels = [str(s.timecode) for s in got]
    assert labels[:3] == ["11:00:00:00", "11:00:00:01", "11:00:00:02"]
    assert "11:00:03:05" in labels and labels.count("11:00:00:05") == 2  # both streams read
    assert counters["restarts"] == 2 and driver.stats.drops("rtp_ssrc") == 1
    assert driver.stats.drops("rtp_late") == 0 and driver.stats.drops("rtp_lost") == 0
    # Each new stream's first label does not follow the last one: flagged, and read on from there.
    starts = [labels.index("11:00:03:00"), len(labels) - 1 - labels[::-1].index("11:00:00:00")]
    assert [i for i, s in enumerate(got) if s.flags] == starts and all(got[i].flags == ("jump",) for i in starts)
    # Host stamps restart with each stream's own arrivals (its first sample arrived 3 s and 5 s in).
    assert all(b.stamp.host_ns > a.stamp.host_ns for a, b in zip(got, got[1:]))
    for i, at_s in zip(starts, (3, 5)):
        assert 0 <= got[i].stamp.host_ns - (EPOCH_NS + at_s * NS_PER_S) < 1_000_000


def test_samples_land_on_their_rtp_timestamps() -> None:
    from sensors.stats import SensorStats
    from sensors.timecode.inputs import RtpLtcInput

    config = rtp_config("25", "00:00:00:00")
    sim = LtcSim(config, EPOCH_NS, seed=1)
    stream = packets(sim, 100)
    runs: List[tuple] = []
    rx = RtpLtcInput(config, lambda x, first, host: runs.append((first, x.copy())), SensorStats("t"))
    for i in [i for i in range(100) if i not in (13, 57, 58)]:
        rx.on_datagram(stream[i], arrival(i))
    rx.close()
    placed = np.full(4800, np.nan)
    for first, x in runs:
        assert np.all(np.isnan(placed[first : first + x.size]))  # nothing placed twice
        placed[first : first + x.size] = x
    expected = (sim.samples(0, 4800).astype(np.float64) - 128.0) / 128.0
    holes = np.isnan(placed)
    assert np.array_equal(np.flatnonzero(holes), np.r_[13 * 48 : 14 * 48, 57 * 48 : 59 * 48])
    assert np.allclose(placed[~holes], expected[~holes], atol=2.0**-15)


def test_a_long_gap_is_counted_exactly_on_a_sample_clock_off_by_800_ppm() -> None:
    # The sender's sample clock runs 800 ppm fast (48038.4 Hz for a nominal 48 kHz): an LTC frame
    # is 1921.5 samples, so 700 frames counted at the nominal 1920 would come out as 701.
    config = rtp_config("25", "13:00:00:00")
    fast = LtcSim(TimecodeConfig(rate="25", start="13:00:00:00", sample_rate_hz=48038), EPOCH_NS)
    got: List[TimecodeSample] = []
    driver = TimecodeDriver(config, on_sample=got.append, clock_ns=lambda: EPOCH_NS).start()
    try:
        for i in [*range(4000), *range(32000, 34000)]:  # 4 s, then 28 s lost, then 2 s
            audio = (fast.samples(48 * i, 48).astype(np.float64) - 128.0) / 128.0
            packet = build_rtp(i, 48 * i, 0x1234, 96, float_to_pcm_be(audio, "L16"))
            driver.input.on_datagram(packet, EPOCH_NS + (i + 1) * 1_000_000)
    finally:
        driver.close()
    after = next(j for j, s in enumerate(got) if s.flags)
    missing = timecode_to_frames(got[after].timecode) - timecode_to_frames(got[after - 1].timecode) - 1
    assert got[after].flags == ("gap",) and missing > 690 and driver.stats.drops("gap") == missing
    assert driver.stats.drops("jump") == 0
