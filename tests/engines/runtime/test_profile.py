"""Latency profile: warm-up untimed, p50/p99/mean in ms from the timed runs."""

import pytest

from engines.runtime import OnnxRuntimeBackend, latency_profile
from engines.runtime.profile import summarize_latencies
from tests.engines.runtime.nets import make_inputs


class _Clock:
    """A pinned clock: each run takes the next duration from a script."""

    def __init__(self, durations_ns):
        self.now = 0
        self.durations = list(durations_ns)
        self.reads = 0

    def __call__(self):
        self.reads += 1
        return self.now


class _Session:
    def __init__(self, clock):
        self.clock = clock
        self.calls = 0

    def run(self, inputs):
        self.calls += 1
        if self.calls > 3:  # the three warm-up runs take no scripted time
            self.clock.now += self.clock.durations.pop(0)
        return {}


def test_percentiles_and_mean_come_from_the_timed_runs_only():
    durations = [1_000_000 * (i + 1) for i in range(100)]  # 1..100 ms
    clock = _Clock(durations)
    session = _Session(clock)
    profile = latency_profile(session, {}, runs=100, warmup=3, clock_ns=clock)
    assert session.calls == 103 and clock.reads == 200
    assert profile.runs == 100 and profile.warmup == 3
    assert profile.p50_ms == pytest.approx(50.5)
    assert profile.p99_ms == pytest.approx(99.01)
    assert profile.mean_ms == pytest.approx(50.5)
    assert (profile.min_ms, profile.max_ms) == (1.0, 100.0)


def test_a_summary_needs_durations_and_the_profile_needs_runs():
    with pytest.raises(ValueError, match="no durations"):
        summarize_latencies([])
    with pytest.raises(ValueError, match="must not be negative"):
        summarize_latencies([5, -1])
    with pytest.raises(ValueError, match="runs must be a positive integer"):
        latency_profile(_Session(_Clock([])), {}, runs=0)
    with pytest.raises(ValueError, match="warmup must be a non-negative integer"):
        latency_profile(_Session(_Clock([])), {}, runs=1, warmup=-1)


def test_a_real_session_profiles_in_order(tiny_model):
    with OnnxRuntimeBackend().load(tiny_model) as session:
        profile = latency_profile(session, make_inputs(), runs=30, warmup=3)
    assert 0.0 < profile.min_ms <= profile.p50_ms <= profile.p99_ms <= profile.max_ms
    assert profile.min_ms <= profile.mean_ms <= profile.max_ms
