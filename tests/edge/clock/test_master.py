"""Steps of the master clock: the watch on wall against monotonic time (pinned clocks), and
re-basing a model on a known step instead of each model taking it for a sensor step."""

from __future__ import annotations

import dataclasses

from typing import List

import numpy as np
import pytest

from edge.clock import ClockModel, MasterClockStep, MasterClockWatch

from .stage import Link, run_model, simulate

MS = 1_000_000


class PinnedClocks:
    """Wall and monotonic clocks the test sets; each monotonic read may advance by ``read_ns``."""

    def __init__(self, wall_minus_mono_ns: int = 1_767_225_600 * 10**9) -> None:
        self.mono_ns = 5 * 10**9
        self.offset_ns = wall_minus_mono_ns
        self.read_ns = 0

    def monotonic(self) -> int:
        value = self.mono_ns
        self.mono_ns += self.read_ns
        return value

    def wall(self) -> int:
        return self.mono_ns + self.offset_ns

    def watch(self, **kwargs) -> MasterClockWatch:
        return MasterClockWatch(wall_ns=self.wall, monotonic_ns=self.monotonic, **kwargs)


def test_a_steady_clock_reports_nothing():
    clocks = PinnedClocks()
    watch = clocks.watch()
    for _ in range(100):
        clocks.mono_ns += 10 * MS
        assert watch.check() is None
    assert watch.steps == 0 and watch.offset_ns == clocks.offset_ns


@pytest.mark.parametrize("step_ns", [50 * MS, -2 * MS, 3_600 * 10**9], ids=["+50ms", "-2ms", "+1h"])
def test_a_step_is_reported_with_its_size_and_when(step_ns):
    clocks = PinnedClocks()
    watch = clocks.watch()
    clocks.mono_ns += 1_000 * MS
    assert watch.check() is None
    before = clocks.mono_ns
    clocks.mono_ns += 20 * MS
    clocks.offset_ns += step_ns  # NTP stepped the wall clock
    step = watch.check()
    assert isinstance(step, MasterClockStep)
    assert step.step_ns == step_ns
    assert step.after_monotonic_ns == before and step.seen_monotonic_ns == clocks.mono_ns
    assert step.seen_wall_ns == clocks.wall()
    assert watch.check() is None  # reported once
    assert watch.steps == 1


def test_slewing_is_not_a_step_but_a_step_beyond_it_is():
    clocks = PinnedClocks()
    watch = clocks.watch(tolerance_ns=100_000, max_slew_ppm=500.0)
    for _ in range(50):  # 450 ppm slew, checked every second: 450 us a check, under 100 us + 500 us
        clocks.mono_ns += 1_000 * MS
        clocks.offset_ns += 450_000
        assert watch.check() is None
    clocks.mono_ns += 1_000 * MS
    clocks.offset_ns += 700_000  # more than tolerance + slew allow
    assert watch.check().step_ns == 700_000


def test_a_preempted_read_widens_the_tolerance_instead_of_reporting():
    clocks = PinnedClocks()
    watch = clocks.watch(tolerance_ns=100_000, max_slew_ppm=0.0)
    clocks.read_ns = 3 * MS  # descheduled between the reads: the bracket is 3 ms wide
    clocks.mono_ns += 10 * MS
    assert watch.check() is None  # the mid-point moved 1.5 ms against wall: within the bracket
    clocks.read_ns = 0
    clocks.mono_ns += 10 * MS
    clocks.offset_ns += 20 * MS
    assert watch.check() is not None


def test_watch_parameters_are_checked():
    with pytest.raises(ValueError):
        MasterClockWatch(tolerance_ns=-1)


# -- re-basing models --------------------------------------------------------------------------


def _host_stepped(link: Link, k: int, step_ns: int) -> Link:
    """The same link with the host (master) clock stepped by ``step_ns`` from sample ``k`` on: host
    stamps and the true master times read on that clock both move."""
    host, master = link.host_ns.copy(), link.master_ns.copy()
    host[k:] += step_ns
    master[k:] += step_ns
    return dataclasses.replace(link, master_ns=master, host_ns=host)


def _feed_with_watch(model: ClockModel, link: Link, k: int, step_ns: int) -> List[int]:
    """Feed the link as a node would: check the watch (pinned clocks that step before sample k)
    before each sample and re-base the model on a reported step. Returns the mapping errors."""
    clocks = PinnedClocks()
    watch = clocks.watch()
    errors = []
    for i in range(link.master_ns.size):
        clocks.mono_ns += 1 * MS
        if i == k:
            clocks.offset_ns += step_ns
        step = watch.check()
        if step is not None:
            model.shift_master(step.step_ns)
        model.observe(int(link.sensor_ns[i]), int(link.host_ns[i]))
        errors.append(model.to_master_ns(int(link.exact_sensor_ns[i])) - int(link.master_ns[i]))
        assert i < 500 or model.converged, f"unsynced at sample {i}"
    return errors


@pytest.mark.parametrize("step_ns", [40 * MS, -150_000], ids=["+40ms", "-150us-inside-the-gate"])
def test_a_host_clock_step_rebases_the_model_instead_of_looking_like_a_sensor_step(step_ns):
    k = 4 * 754
    link = _host_stepped(
        simulate(drift_ppm=-35.0, jitter_ns=20_000, rate_hz=754.0, duration_s=7.0, stall_fraction=0.03), k, step_ns
    )
    # Not told: the model takes the host's step for its sensor's (each model on the node would).
    alone = ClockModel("lidar", latency_ns=int(link.delay_mean_ns))
    run_model(alone, link)
    assert alone.steps == 1
    # Told by the watch: no step, no loss of sync, the mapping on the new master time at once.
    model = ClockModel("lidar", latency_ns=int(link.delay_mean_ns))
    errors = np.array(_feed_with_watch(model, link, k, step_ns))
    assert model.steps == 0 and model.master_shifts == 1
    assert np.abs(errors[k:]).max() < 50_000
    assert np.percentile(np.abs(errors[k:]), 99) <= np.percentile(np.abs(errors[k - 2000 : k]), 99) + 10_000


def test_shift_master_keeps_the_line_and_moves_the_mapping():
    link = simulate(drift_ppm=50.0, jitter_ns=200_000, rate_hz=100.0, duration_s=10.0, seed=8)
    model = ClockModel("freed", latency_ns=int(link.delay_mean_ns))
    run_model(model, link)
    before = model.snapshot()
    model.shift_master(-7 * MS)
    after = model.snapshot()
    stamp = int(link.sensor_ns[-1])
    assert model.to_master_ns(stamp) == before.mapping.to_master_ns(stamp) - 7 * MS
    assert after.drift_ppm == before.drift_ppm and after.residual_jitter_ns == before.residual_jitter_ns
    assert after.converged and after.steps == 0 and after.offset_ns == before.offset_ns - 7 * MS


def test_shift_master_before_any_sample_or_by_nothing_does_nothing():
    model = ClockModel("x")
    model.shift_master(5 * MS)
    assert model.mapping is None and model.master_shifts == 0
    model.observe(1_000, 2_000)
    mapping = model.mapping
    model.shift_master(0)
    assert model.mapping == mapping and model.master_shifts == 0
    with pytest.raises(TypeError):
        model.shift_master(1.5)


@pytest.mark.parametrize("late", [40, 754], ids=["53ms-late", "1s-late"])
@pytest.mark.parametrize("step_ns", [40 * MS, -150_000], ids=["+40ms", "-150us"])
def test_a_step_learnt_late_is_not_counted_twice(step_ns, late):
    # The node's watch runs once a second: up to a second of samples on the new master time may
    # reach the model first, which by then may have taken the step for its sensor's (100 ms).
    k = 4 * 754
    link = _host_stepped(
        simulate(drift_ppm=-35.0, jitter_ns=20_000, rate_hz=754.0, duration_s=8.0, stall_fraction=0.03), k, step_ns
    )
    model = ClockModel("lidar", latency_ns=int(link.delay_mean_ns))
    errors = []
    for i in range(link.master_ns.size):
        if i == k + late:
            model.shift_master(step_ns)
        model.observe(int(link.sensor_ns[i]), int(link.host_ns[i]))
        errors.append(model.to_master_ns(int(link.exact_sensor_ns[i])) - int(link.master_ns[i]))
    errors = np.abs(np.array(errors))
    assert model.steps == 0 and model.master_shifts == 1
    assert model.converged
    assert errors[k + late :].max() < 50_000  # right from the notice on: no second step to detect
    assert np.percentile(errors[k + late :], 99) <= np.percentile(errors[k - 2000 : k], 99) + 10_000

