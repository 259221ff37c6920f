"""The CUSUM step test and the rank scores it runs on: exact cases, the stated bound, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.clock.change import (
    BLOCK_DRIFT,
    BLOCK_THRESHOLD,
    MIN_TABLE_SAMPLES,
    BlockMinima,
    CusumState,
    cusum_update,
    detection_bound_samples,
    normal_score,
    score_table,
    split_at_shift,
)


def _feed(zs, state=None, **kwargs):
    """Feed scores until the first alarm: (samples fed, alarm, final state)."""
    state = state or CusumState()
    for i, z in enumerate(zs, start=1):
        state, alarm = cusum_update(state, z, **kwargs)
        if alarm:
            return i, alarm, state
    return len(zs), 0, state


# -- the sums ---------------------------------------------------------------------------------


def test_constant_shift_alarms_when_the_sum_passes_the_threshold():
    # z = 3, k = 1: the upper sum grows by 2 a sample and passes 10 at the sixth.
    n, alarm, state = _feed([3.0] * 20)
    assert (n, alarm) == (6, 1)
    assert state.upper == pytest.approx(12.0) and state.lower == 0.0 and state.upper_run == 6
    n, alarm, _ = _feed([-3.0] * 20)
    assert (n, alarm) == (6, -1)


def test_no_alarm_without_a_shift():
    n, alarm, state = _feed([0.0, 0.9, -0.9, 1.0, -1.0] * 200)
    assert alarm == 0 and state.upper == 0.0 and state.lower == 0.0


def test_one_wild_residual_is_clipped():
    n, alarm, state = _feed([1e9])
    assert alarm == 0 and state.upper == pytest.approx(3.0)  # clip 4 minus drift 1
    _, alarm, _ = _feed([1e9, 1e9, 1e9])
    assert alarm == 0
    _, alarm, _ = _feed([1e9] * 4)
    assert alarm == 1  # four clipped residuals in a row do pass 10


def test_an_unweighed_sample_keeps_the_sums_but_counts_in_the_run():
    state, _ = cusum_update(CusumState(), 2.5)
    after, alarm = cusum_update(state, None)
    assert alarm == 0 and after.upper == state.upper and after.upper_run == state.upper_run + 1
    assert after.lower_run == 0  # that side is at zero: its run does not count


def test_run_counts_the_samples_since_the_sum_left_zero():
    _, _, state = _feed([0.0] * 5 + [2.5] * 3)
    assert state.upper_run == 3


def test_non_finite_scores_are_refused():
    with pytest.raises(ValueError, match="finite"):
        cusum_update(CusumState(), float("nan"))


# -- the bound --------------------------------------------------------------------------------


def test_bound_values_stated_in_the_docstrings():
    assert [detection_bound_samples(d) for d in (2.0, 3.0, 4.0, 8.0)] == [26, 10, 7, 7]
    assert detection_bound_samples(-2.0) == 26
    with pytest.raises(ValueError):
        detection_bound_samples(1.0)  # no faster than the drift k: no bound


@given(st.floats(1.2, 3.5), st.floats(0.01, 1.0))
def test_bound_shrinks_as_the_shift_grows(shift, more):
    assert detection_bound_samples(shift + more) <= detection_bound_samples(shift)


@pytest.mark.parametrize("shift", [1.5, 2.0, 3.0])
def test_gaussian_shifts_are_found_within_the_bound(shift):
    # 99.9 % by construction: in 2000 seeded runs at most a handful may take longer.
    rng = np.random.default_rng(17)
    bound = detection_bound_samples(shift)
    late = 0
    for _ in range(2000):
        n, alarm, _ = _feed((shift + rng.standard_normal(bound)).tolist())
        late += alarm != 1 or n > bound
    assert late <= 6


@pytest.mark.slow
def test_gaussian_noise_gives_no_alarm_in_a_million_samples():
    rng = np.random.default_rng(5)
    state = CusumState()
    for z in rng.standard_normal(1_000_000).tolist():
        state, alarm = cusum_update(state, z)
        assert not alarm


# -- rank scores ------------------------------------------------------------------------------


def test_scores_of_gaussian_residuals_are_residuals_over_sigma():
    r = np.random.default_rng(3).normal(0.0, 2e6, 20000)
    table = score_table(r)
    for value in (-5e6, -2e6, 0.0, 1e6, 4e6, 8e6):
        assert normal_score(value, table) == pytest.approx(value / 2e6, abs=0.06)


def test_skewed_residuals_get_standard_normal_scores():
    # An exponential delay tail about its mean: on r / sigma the upper tail would be far too heavy.
    rng = np.random.default_rng(4)
    residuals = rng.exponential(2e6, 20000) - 2e6
    table = score_table(residuals)
    fresh = rng.exponential(2e6, 20000) - 2e6
    z = np.array([normal_score(v, table) for v in fresh.tolist()])
    inside = np.abs(z) <= 2.5
    assert abs(np.mean(z[inside])) < 0.05 and abs(np.std(z[inside]) - 0.93) < 0.05  # N(0,1) cut at 2.5
    assert np.mean(z > 2.0) == pytest.approx(0.0228, abs=0.005)
    sigma_ratio = (fresh / (1.4826 * np.median(np.abs(residuals - np.median(residuals)))))
    assert np.mean(sigma_ratio > 2.0) > 2.5 * 0.0228  # what ranking corrects


def test_no_table_from_too_few_or_identical_residuals():
    assert score_table(np.arange(MIN_TABLE_SAMPLES - 1, dtype=float)) is None
    assert score_table(np.zeros(1000)) is None
    assert score_table(np.arange(MIN_TABLE_SAMPLES, dtype=float)) is not None


@settings(max_examples=50)
@given(
    st.lists(st.floats(-1e7, 1e7), min_size=MIN_TABLE_SAMPLES, max_size=400),
    st.floats(-1e8, 1e8),
    st.floats(0.0, 1e7),
)
def test_scores_never_fall_as_residuals_rise(values, r, more):
    table = score_table(values)
    if table is None:
        return
    low, high = normal_score(r, table), normal_score(r + more, table)
    assert np.isfinite(low) and np.isfinite(high)
    assert high >= low - 1e-9


# -- blocks for fast sensors ------------------------------------------------------------------

MS = 1_000_000


def test_a_block_scores_its_minimum_against_the_median_of_the_blocks_before():
    blocks = BlockMinima(block_ns=10 * MS, reference_blocks=4, min_reference=2)
    scores = []
    # blocks 0..3: minima 5, 7, 6, then the block with -20 in it; sigma 2
    for t_ms, r in [(0, 9), (3, 5), (10, 7), (19, 8), (20, 6), (30, 50), (31, -20), (40, 0)]:
        scores.append(blocks.add(t_ms * MS, r, 2.0))
    # no score inside a block; none for blocks 0 and 1 (fewer than 2 known before them)
    assert scores[:5] == [None] * 5
    assert scores[5] == pytest.approx(0.0)  # block 2 closed: 6 against the median of 5 and 7
    assert scores[6] is None  # still inside block 3
    assert scores[7] == pytest.approx((-20 - 6) / 2.0)  # block 3 closed: median of 5, 7, 6 is 6


def test_a_late_sample_joins_the_open_block_and_clear_forgets():
    blocks = BlockMinima(block_ns=10 * MS, reference_blocks=8, min_reference=1)
    assert blocks.add(0, 4.0, 1.0) is None
    assert blocks.add(10 * MS, 3.0, 1.0) is None  # block 0 closed, nothing to score it against yet
    assert blocks.add(5 * MS, -1.0, 1.0) is None  # from block 0, arriving late: joins block 1
    assert blocks.add(20 * MS, 9.0, 1.0) == pytest.approx(-1.0 - 4.0)
    blocks.clear()
    assert blocks.add(30 * MS, 0.0, 1.0) is None and blocks.add(40 * MS, 0.0, 1.0) is None


def test_a_burst_inside_a_block_raises_no_alarm_a_step_of_every_sample_does():
    rng = np.random.default_rng(3)
    blocks = BlockMinima(block_ns=50 * MS)
    state, alarms = CusumState(), []
    for k in range(4000):  # 200 samples a second for 20 s: 10 a block
        r = rng.normal(0.0, 1.0)
        if k % 10 < 7 and 1000 <= k < 2000:
            r += 30.0  # 7 of every block's 10 samples held up, far beyond the spread, for 5 s
        if k >= 3000:
            r += 2.0  # a step of two spreads
        z = blocks.add(k * 5 * MS, r, 1.0)
        state, alarm = cusum_update(state, z, drift=BLOCK_DRIFT, threshold=BLOCK_THRESHOLD)
        if alarm:
            alarms.append((k, alarm))
            state = CusumState()
    assert alarms and alarms[0][0] >= 3000 and alarms[0][1] == 1
    assert alarms[0][0] - 3000 <= 10 * (detection_bound_samples(2.0, drift=BLOCK_DRIFT, threshold=BLOCK_THRESHOLD) + 2)


def test_blocks_are_checked():
    with pytest.raises(ValueError):
        BlockMinima(block_ns=0)
    with pytest.raises(ValueError):
        BlockMinima(reference_blocks=4, min_reference=5)


@pytest.mark.parametrize("at", [0, 7, 40, 100])
def test_the_split_is_where_the_residuals_leave_zero(at):
    rng = np.random.default_rng(at)
    r = rng.normal(0.0, 0.3, 200)
    r[at:] += 3.0
    assert abs(split_at_shift(r) - at) <= 1


def test_the_split_of_too_short_a_run_is_its_start():
    assert split_at_shift([]) == 0 and split_at_shift([5.0]) == 0
