"""Clock steps of any size above the jitter: found within the stated bound, 'converged' false until
the model is right again, and no false alarms on long clean runs (issue 6, point 8).

Steps are sized in multiples of the outlier gate, ``4 x`` the jitter spread; the spread used to
size them (and to compute the bound the model's docstring states) is the robust spread of the
simulated noise, the scenario's own property. The model is given none of it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge.clock import ClockModel, detection_bound_samples, robust_sigma
from edge.clock.change import BLOCK_DRIFT, BLOCK_MIN_SAMPLES, BLOCK_NS, BLOCK_THRESHOLD

from .stage import Link, Run, run_model, simulate

GATE_SIGMAS = 4.0
CONVERGED_NS = 125_000

# sensor: (rate Hz, stamp jitter ns, drift ppm, seconds, step at s): the sim stage's clocks
SENSORS = {
    "lidar-754Hz": (754.0, 20_000, -35.0, 7.0, 4.0),
    "freed-100Hz": (100.0, 200_000, 50.0, 12.0, 8.0),
    "camera-24fps": (24.0, 100_000, 20.0, 24.0, 16.0),
    "ltc-24fps": (24.0, 0, 10.0, 24.0, 16.0),
}
MULTIPLES = [0.5, 1.0, 2.0, 5.0, 10.0]


def _noise_sigma(link: Link) -> float:
    noise = (link.host_ns - link.sensor_ns) - (link.master_ns - link.exact_sensor_ns) - int(link.delay_mean_ns)
    return robust_sigma(noise[~link.stalled])


def bound_samples(delta: float, rate_hz: float) -> int:
    """The model docstring's bound, in samples from the step on, for a step of ``delta`` spreads:
    in samples for a slow sensor, in blocks (plus the one the step fell in and the one that tells)
    for a sensor with ``BLOCK_MIN_SAMPLES`` samples a block."""
    rejects = max(8, math.ceil(rate_hz * 0.1) + 2)
    per_block = rate_hz * BLOCK_NS / 1e9
    if per_block >= BLOCK_MIN_SAMPLES:
        def cusum(shift: float) -> int:
            blocks = detection_bound_samples(shift, drift=BLOCK_DRIFT, threshold=BLOCK_THRESHOLD) + 2
            return math.ceil(blocks * per_block)
    else:
        cusum = detection_bound_samples
    if delta <= GATE_SIGMAS - 1:
        return cusum(delta)
    if delta >= GATE_SIGMAS + 2:
        return rejects
    return max(2 * cusum(GATE_SIGMAS - 1), rejects)


def _first(mask: np.ndarray) -> int:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else mask.size


def _run(link: Link) -> Run:
    return run_model(ClockModel("sensor", latency_ns=int(link.delay_mean_ns)), link)


@pytest.mark.parametrize("sign", [1, -1], ids=["up", "down"])
@pytest.mark.parametrize("multiple", MULTIPLES, ids=[f"{m}x-gate" for m in MULTIPLES])
@pytest.mark.parametrize("sensor", list(SENSORS))
def test_a_step_is_found_within_the_bound_and_unsyncs_until_reconverged(sensor, multiple, sign):
    rate_hz, jitter_ns, drift_ppm, duration_s, at_s = SENSORS[sensor]
    kwargs = dict(drift_ppm=drift_ppm, jitter_ns=jitter_ns, rate_hz=rate_hz, duration_s=duration_s, stall_fraction=0.03)
    sigma = _noise_sigma(simulate(**kwargs))
    step_ns = int(round(sign * multiple * GATE_SIGMAS * sigma))
    link = simulate(steps=[(at_s, step_ns)], **kwargs)
    run = _run(link)
    k = int(at_s * rate_hz)
    assert run.converged[k - 1] and run.steps[k - 1] == 0  # synced on the old line when it steps
    assert run.steps[-1] == 1
    taken = _first(run.steps[k:] >= 1)  # index after the step of the sample that took it
    stalled = int(link.stalled[k : k + taken + 1].sum())  # each one more sample, as the docstring says
    assert taken + 1 <= bound_samples(multiple * GATE_SIGMAS, rate_hz) + stalled
    # 'converged' drops no later than the step is taken (a run of rejects drops it at the 8th) and
    # once the step is taken it is true only with the model, on the new line, right again (the rejects
    # that agreed on the new offset may be enough at once).
    dropped = _first(~run.converged[k:])
    assert dropped <= taken
    again = k + taken + _first(run.converged[k + taken :])
    assert again < link.master_ns.size
    assert np.abs(run.error_ns[again:]).max() < CONVERGED_NS
    assert run.converged[again:].all()
    claimed_wrong = run.converged[k:again] & (np.abs(run.error_ns[k:again]) >= CONVERGED_NS)
    if rate_hz * BLOCK_NS / 1e9 < BLOCK_MIN_SAMPLES:
        # Weighed sample by sample: once dropped, it stays false, so it claimed a wrong mapping at
        # most until it dropped.
        assert run.converged[k + dropped : k + taken + 1].sum() == 0
        assert claimed_wrong.sum() <= dropped
    else:
        # Weighed by blocks, a step about the gate's size lets part of its samples in; they end the
        # runs of rejects that drop 'converged', so it may come back until the test decides (the
        # price of not unsyncing on every burst of late packets): never past the step taken.
        assert claimed_wrong.sum() <= taken


def test_the_reported_defect_six_ms_step_in_two_ms_jitter():
    # Before: 5.4 ms off after 1 s with 'converged' true throughout (the step is 0.75x the gate).
    kwargs = dict(drift_ppm=50.0, jitter_ns=2_000_000, rate_hz=100.0, duration_s=50.0, stall_fraction=0.03, seed=2)
    link = simulate(steps=[(30.0, 6_000_000)], **kwargs)
    run = _run(link)
    k = 3000
    assert run.converged[k - 1]
    taken = _first(run.steps[k:] >= 1)
    assert run.steps[-1] == 1 and taken + 1 <= detection_bound_samples(6.0 / 2.0)  # 10 samples, 0.1 s
    assert not run.converged[k + taken : k + taken + 100].any()  # 2 ms jitter: a few hundred to re-learn
    again = run.first_converged(k + taken)
    assert again - k < 600
    assert run.p99_abs_error_ns(again) < 500_000
    assert np.abs(run.error_ns[k + 100 :]).max() < 2_000_000  # never near the 6 ms again


def test_a_step_of_the_drift_prior_keeps_the_drift():
    link = simulate(drift_ppm=-35.0, jitter_ns=20_000, rate_hz=754.0, duration_s=8.0, stall_fraction=0.03,
                    steps=[(4.0, 150_000)])  # ~0.6x the gate
    model = ClockModel("lidar", latency_ns=int(link.delay_mean_ns))
    run_model(model, link)
    assert model.steps == 1
    assert abs(model.drift_ppm + 35.0) <= 4 * model.snapshot().drift_error_ppm + 0.05


# -- no false alarms ---------------------------------------------------------------------------

BACKLOGS = [(t, d) for t, d in zip(range(5, 60, 7), [0.05, 0.3, 1.0, 0.1] * 3)]

CLEAN = {
    # name: simulate() arguments; each a long run with drift, jitter and outliers
    "lidar-754Hz-60s": dict(rate_hz=754.0, jitter_ns=20_000, drift_ppm=-35.0, duration_s=60.0, stall_fraction=0.03),
    "lidar-2ms-backlogs": dict(
        rate_hz=754.0, jitter_ns=2_000_000, drift_ppm=50.0, duration_s=60.0, stall_fraction=0.03, stalls=BACKLOGS
    ),
    "freed-2ms-10min": dict(rate_hz=100.0, jitter_ns=2_000_000, drift_ppm=50.0, duration_s=600.0, stall_fraction=0.03),
    "freed-1000ppm": dict(rate_hz=100.0, jitter_ns=500_000, drift_ppm=1000.0, duration_s=300.0, stall_fraction=0.03),
    "camera-24fps-30min": dict(rate_hz=24.0, jitter_ns=100_000, drift_ppm=20.0, duration_s=1800.0, stall_fraction=0.03),
    # A loaded host: 8 bursts a second, each holding up every sample for up to 50 ms by up to
    # 0.3 ms (inside the gate), at the node's 5 ms LiDAR slices and at the VLP-16's packet rate.
    # Weighed sample by sample, the runs of late samples walked the CUSUM to 7-227 false steps in 30 s.
    "slices-200Hz-load-bursts": dict(
        rate_hz=200.0, jitter_ns=20_000, drift_ppm=-35.0, duration_s=30.0, stall_fraction=0.03,
        bursts=(8.0, 0.05, 300_000),
    ),
    "lidar-754Hz-load-bursts": dict(
        rate_hz=754.0, jitter_ns=20_000, drift_ppm=-35.0, duration_s=30.0, stall_fraction=0.03,
        bursts=(8.0, 0.05, 300_000),
    ),
    "exponential-delays": dict(
        rate_hz=754.0, jitter_ns=0, drift_ppm=50.0, duration_s=60.0, delay_shape=1.0, delay_scale_ns=2_000_000,
        stall_fraction=0.03,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CLEAN))
def test_long_clean_runs_raise_no_false_alarm(name):
    kwargs = CLEAN[name]
    for seed in (0, 1):
        link = simulate(seed=seed, **kwargs)
        run = _run(link)
        assert run.steps[-1] == 0, f"seed {seed}: false step at sample {_first(run.steps >= 1)}"
        start = run.first_converged()
        held = np.zeros_like(link.stalled)
        for at_s, held_s in kwargs.get("stalls", ()):  # a backlog's run of rejects may unsync, nothing else
            held |= (link.master_ns >= link.master_ns[0] + at_s * 1e9) & (
                link.master_ns < link.master_ns[0] + (at_s + held_s + 0.05) * 1e9
            )
        assert run.converged[start:][~held[start:]].all()


@pytest.mark.parametrize("rate_hz", [200.0, 754.0])
def test_a_burst_of_late_packets_beyond_the_gate_is_late_not_a_reason_to_unsync(rate_hz):
    # Two bursts a second, each holding every packet up by up to 8 ms (far beyond the gate) for up
    # to 40 ms: the frames they touch are flagged late by the synchronizer; the clock is as good as
    # before. Before late rejects had to span half the step test's 100 ms, every such burst
    # unsynced the model from its 8th packet on (3.4 % of this 754 Hz run, 0.15 % at 200 Hz).
    link = simulate(rate_hz=rate_hz, jitter_ns=20_000, drift_ppm=-35.0, duration_s=30.0, stall_fraction=0.03,
                    bursts=(2.0, 0.04, 8_000_000), seed=4)
    run = _run(link)
    start = run.first_converged()
    assert run.steps[-1] == run.steps[start]  # none once converged (seed 4 at 200 Hz takes one at 0.26 s)
    assert link.burst.mean() > 0.03  # the bursts are there
    assert (~run.converged[start:]).mean() < 0.005
