"""The token bucket against a fake clock, and the part plan of a file."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio_sync.upload import TokenBucket, normalize_etag, part_plan

MIB = 1 << 20


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@given(st.lists(st.integers(1, 3 * MIB), min_size=1, max_size=30), st.floats(0.5, 50.0))
def test_the_bucket_never_lets_more_through_than_burst_plus_rate_times_time(takes, rate_mib_s):
    clock = _Clock()
    bucket = TokenBucket(rate_mib_s * MIB, clock=clock, sleep=clock.sleep)
    drawn = 0
    for n in takes:
        bucket.take(n)
        drawn += n
        assert drawn <= bucket.burst + bucket.rate * clock.now + 1e-6 * bucket.rate
    # ... and it does not hold back much more than needed (one burst's worth of slack).
    assert clock.now <= max(0.0, (drawn - bucket.burst) / bucket.rate) + bucket.burst / bucket.rate + 1e-6


def test_a_cap_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0)


@given(st.integers(0, 200 * MIB), st.integers(5, 64))
def test_parts_cover_the_file_once_in_order(size, part_mib):
    plan = part_plan(size, part_mib * MIB)
    assert [n for n, _, _ in plan] == list(range(1, len(plan) + 1))
    assert sum(s for _, _, s in plan) == size
    offsets = [o for _, o, _ in plan]
    assert offsets == sorted(offsets) and all(o + s == nxt for (_, o, s), nxt in zip(plan, offsets[1:] + [size]))
    assert all(s == part_mib * MIB for _, _, s in plan[:-1])


def test_a_file_too_large_for_10000_parts_gets_larger_parts():
    plan = part_plan(100_000 * 5 * MIB, 5 * MIB)
    assert len(plan) <= 10000 and plan[0][2] % MIB == 0 and plan[0][2] >= 50 * MIB


def test_etags_are_compared_without_quotes_or_case():
    assert normalize_etag('"85BB12C6A02B9395CA6A7D232D832814"') == "85bb12c6a02b9395ca6a7d232d832814"
    assert normalize_etag(None) == ""
