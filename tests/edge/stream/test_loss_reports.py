"""Consumers report what they lost; the publisher keeps it per consumer, forgets the dead ones,
and counts hostile reports instead of crashing on them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zmq
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.stream import (
    ConsumerTable,
    FusedFramePublisher,
    FusedFrameSubscriber,
    LossReport,
    WireMeta,
    decode_report,
    describe_consumers,
    encode_frame,
    encode_report,
)
from edge.stream.consumers import MAX_CONSUMERS
from edge.stream.errors import WireError, WireFormatError, WireVersionError
from edge.stream.wire import decode_frame
from tests.edge.stream.frames import make_frame

REPO = Path(__file__).resolve().parents[3]
DEADLINE_S = 10.0
END = -2  # frame_index of the frames that close a burst
# A full-size frame (1.6 MB): a burst of them overflows the socket buffers, not only ZeroMQ's queues.
BIG = make_frame(0)


def _join(pub: FusedFramePublisher, *subs: FusedFrameSubscriber) -> None:
    """Publish warm-up frames until every subscriber has one (PUB drops until a subscriber joined)."""
    waiting = set(range(len(subs)))
    deadline = time.monotonic() + DEADLINE_S
    while waiting:
        assert time.monotonic() < deadline, "subscribers did not join"
        pub.publish(make_frame(-1, 4, 4))
        for index in list(waiting):
            if subs[index].recv(timeout_ms=10) is not None:
                waiting.discard(index)


def _drain(sub: FusedFrameSubscriber) -> None:
    while sub.recv(timeout_ms=200) is not None:
        pass


def _close_burst(pub: FusedFramePublisher, sub: FusedFrameSubscriber) -> None:
    """Publish END frames until ``sub`` gets one: its gap count then covers the whole burst."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        pub.publish(make_frame(END, 4, 4))
        got = sub.recv(timeout_ms=50)
        while got is not None and got.frame_index != END:
            got = sub.recv(timeout_ms=50)
        if got is not None:
            return
    pytest.fail("no END frame reached the subscriber")


def _heard(pub: FusedFramePublisher, name: str, sub: FusedFrameSubscriber):
    """The publisher's entry for ``name`` once it carries ``sub``'s final totals (bounded wait)."""
    want = sub.report(pub.stream_id)
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        entry = pub.consumers().get(name)
        if entry is not None and entry.last_seq == want.last_seq:
            return entry
        time.sleep(0.02)
    pytest.fail(f"publisher never heard {name!r}'s final report; it has {pub.consumers()}")


def test_slow_consumer_loss_reaches_the_publisher_exactly() -> None:
    with FusedFramePublisher(send_hwm=2) as pub:
        sub = FusedFrameSubscriber(pub.endpoint, rcv_hwm=2, consumer="slow", report_interval_s=0.1)
        try:
            _join(pub, sub)
            for _ in range(300):  # the subscriber reads none of these while they are sent
                pub.publish(BIG)
            _drain(sub)
            _close_burst(pub, sub)
            totals = sub.report(pub.stream_id)
        finally:
            sub.close()  # sends the final report
        entry = _heard(pub, "slow", sub)
    assert sub.lost > 100  # the burst overflowed both queues: most of it was lost, and counted
    assert entry.lost == sub.lost == totals.lost
    assert entry.received == sub.received == totals.received
    assert entry.lost_fraction == pytest.approx(sub.lost / (sub.lost + sub.received))
    assert pub.reports_rejected == 0


def test_two_consumers_are_reported_separately() -> None:
    with FusedFramePublisher(send_hwm=2) as pub:
        fast = FusedFrameSubscriber(pub.endpoint, rcv_hwm=2, consumer="fast", report_interval_s=0.1)
        slow = FusedFrameSubscriber(pub.endpoint, rcv_hwm=2, consumer="slow", report_interval_s=0.1)
        try:
            _join(pub, fast, slow)
            for _ in range(200):
                pub.publish(BIG)
                fast.recv(timeout_ms=DEADLINE_S * 1000)  # keeps up; slow reads nothing meanwhile
            _drain(slow)
            _close_burst(pub, slow)
            _close_burst(pub, fast)
        finally:
            fast.close()
            slow.close()
        heard = {name: _heard(pub, name, sub) for name, sub in (("fast", fast), ("slow", slow))}
    assert set(pub.consumers()) >= {"fast", "slow"}
    assert heard["slow"].lost == slow.lost > 100
    assert heard["fast"].lost == fast.lost < slow.lost
    assert heard["fast"].received == fast.received > heard["slow"].received == slow.received


def test_a_consumer_that_dies_expires() -> None:
    with FusedFramePublisher(send_hwm=2, consumer_expiry_s=1.0) as pub:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.edge.stream.consumer", pub.endpoint, "--name", "doomed", "--forever"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30.0
            while "doomed" not in pub.consumers():
                assert time.monotonic() < deadline and proc.poll() is None, "consumer never reported"
                pub.publish(make_frame(0, 4, 4))
                time.sleep(0.02)
        finally:
            proc.kill()  # no goodbye: only its silence tells
            proc.wait(timeout=10)
        deadline = time.monotonic() + DEADLINE_S
        while "doomed" in pub.consumers():
            assert time.monotonic() < deadline, "a dead consumer never expired"
            pub.publish(make_frame(0, 4, 4))
            time.sleep(0.05)
        assert pub.consumers_expired == 1


def _valid(stream_id: str, consumer: str = "good") -> bytes:
    return encode_report(LossReport(consumer, stream_id, received=10, lost=3, last_seq=12))


def test_hostile_reports_are_counted_not_crashed_on() -> None:
    good = None
    with zmq.Context() as context, FusedFramePublisher(send_hwm=2, context=context) as pub:
        push = context.socket(zmq.PUSH)
        push.setsockopt(zmq.LINGER, 0)
        push.connect(pub.report_endpoint)
        try:
            garbage = [
                [b"\xff\xfe not json"],
                [b"[1, 2, 3]"],
                [json.dumps({"magic": "ONSETFF", "version": 1}).encode()],
                [_valid(pub.stream_id).replace(b'"version":1', b'"version":2')],
                [_valid(pub.stream_id).replace(b'"lost":3', b'"lost":-3')],
                [_valid(pub.stream_id).replace(b'"received":10', b'"received":"10"')],
                [_valid(pub.stream_id), b"a second part"],
                [b"[" * 3000],
                [_valid("another-stream")],  # readable, but about a stream this publisher is not
            ]
            for parts in garbage:
                push.send_multipart(parts)
            push.send(b"x" * (128 * 1024))  # over the socket's message limit: ZeroMQ drops the peer
            deadline = time.monotonic() + DEADLINE_S
            while pub.reports_rejected < len(garbage):
                assert time.monotonic() < deadline, (pub.reports_rejected, pub.last_report_error)
                pub.consumers()
                time.sleep(0.01)
            # The publisher still works, and a well-formed report from a new connection is taken.
            push.close()
            push = context.socket(zmq.PUSH)
            push.setsockopt(zmq.LINGER, 0)
            push.connect(pub.report_endpoint)
            push.send(_valid(pub.stream_id))
            while "good" not in pub.consumers():
                assert time.monotonic() < deadline
                time.sleep(0.01)
            good = pub.consumers()["good"]
            assert pub.publish(make_frame(1, 4, 4))
        finally:
            push.close()
    assert pub.reports_rejected == len(garbage)
    assert (good.received, good.lost, good.last_seq) == (10, 3, 12)


def test_table_is_bounded_and_expires_on_its_clock() -> None:
    table = ConsumerTable("s1", expire_after_s=2.0)
    for index in range(MAX_CONSUMERS + 5):
        table.update(LossReport(f"c{index}", "s1", 1, 0, 0), now_s=0.0)
    assert len(table.snapshot(0.0)) == MAX_CONSUMERS and table.rejected == 5
    table.update(LossReport("c0", "s1", 5, 1, 5), now_s=1.5)  # c0 keeps reporting, the others go quiet
    snap = table.snapshot(now_s=3.0)
    assert list(snap) == ["c0"] and snap["c0"].lost == 1 and snap["c0"].reports == 2
    assert snap["c0"].quiet_s == pytest.approx(1.5) and table.expired == MAX_CONSUMERS - 1
    assert not table.update(LossReport("c0", "s2", 5, 1, 5), now_s=3.0) and table.rejected == 6


def test_status_text_names_each_consumer_and_its_loss() -> None:
    table = ConsumerTable("s1")
    table.update(LossReport("preview", "s1", 1235, 0, 1234), now_s=0.0)
    table.update(LossReport("captioner", "s1", 1201, 17, 1217), now_s=0.0)
    assert describe_consumers(table.snapshot(0.0)) == "captioner lost 17/1218 (1.4 %), preview lost 0/1235 (0.0 %)"
    assert describe_consumers({}) == "no consumer reporting"


def test_subscriber_reports_only_to_loopback_endpoints() -> None:
    """A header naming a remote report endpoint never makes a consumer connect out."""
    with zmq.Context() as context:
        pub = context.socket(zmq.PUB)
        pub.setsockopt(zmq.LINGER, 0)
        pub.bind("inproc://onset-test-remote-report")
        sub = FusedFrameSubscriber("inproc://onset-test-remote-report", context=context, report_interval_s=0.01)
        try:
            deadline = time.monotonic() + DEADLINE_S
            seq = 0
            while sub.received < 20:
                assert time.monotonic() < deadline
                meta = WireMeta("remote", seq, 0, report="tcp://192.0.2.1:5555")
                pub.send_multipart(encode_frame(make_frame(seq, 4, 4), meta))
                seq += 1
                sub.recv(timeout_ms=20)
            assert sub.report_peers == () and sub.reports_sent == 0 and sub.reports_skipped > 0
        finally:
            sub.close()
            pub.close()


def test_a_minor_0_header_reads_as_a_publisher_without_reports() -> None:
    parts = [bytes(memoryview(p)) for p in encode_frame(make_frame(0, 4, 4), WireMeta("s", 0, 0, report="tcp://127.0.0.1:9"))]
    header = json.loads(parts[0])
    assert header["minor"] == 1 and header["report"] == "tcp://127.0.0.1:9"
    del header["report"]
    header["minor"] = 0
    _, meta = decode_frame([json.dumps(header).encode()] + parts[1:])
    assert meta.report is None and meta.minor == 0
    header["report"] = 5
    with pytest.raises(WireFormatError):
        decode_frame([json.dumps(header).encode()] + parts[1:])


def test_report_roundtrip_and_version_rule() -> None:
    report = LossReport("captioner", "5f0c", received=1201, lost=17, last_seq=1217, rejected=2)
    assert decode_report([encode_report(report)]) == report
    body = json.loads(encode_report(report))
    body.update(minor=4, window_s=1.0)  # a later minor adds keys: still read
    assert decode_report([json.dumps(body).encode()]).lost == 17
    with pytest.raises(WireVersionError):
        decode_report([json.dumps({**body, "version": 2}).encode()])
    with pytest.raises(ValueError):
        encode_report(LossReport("x" * 200, "s", 1, 0, 0))


@settings(max_examples=300)
@given(parts=st.lists(st.binary(max_size=200), min_size=0, max_size=3))
def test_random_report_bytes_raise_only_wire_errors(parts: list) -> None:
    with pytest.raises(WireError):
        decode_report(parts)
