"""Per-sensor buffers: time order, refusals with reasons, bounded by age and by size."""

from __future__ import annotations

import numpy as np
import pytest

from edge.sync import Admit, PointBuffer, SeriesBuffer


def test_series_keeps_time_order_and_says_why_it_refuses():
    buf = SeriesBuffer(width=2, horizon_ns=1_000, capacity=8)
    assert buf.newest_ns is None and len(buf) == 0
    assert buf.add(100, [1.0, 2.0]) is Admit.OK
    assert buf.add(100, [9.0, 9.0]) is Admit.DUPLICATE
    assert buf.add(50, [9.0, 9.0]) is Admit.BACKWARDS
    assert buf.add(200, [3.0, 4.0]) is Admit.OK
    assert buf.add(-5_000, [0.0, 0.0]) is Admit.STALE
    t, v = buf.window(0, 10_000)
    assert t.tolist() == [100, 200] and v.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_series_windows_bracket_their_edges_and_are_copies():
    buf = SeriesBuffer(width=1, horizon_ns=10**9)
    for t in range(0, 100, 10):
        buf.add(t, [float(t)])
    t, v = buf.window(25, 45)
    assert t.tolist() == [20, 30, 40, 50]  # one sample either side of [25, 45]
    v[:] = -1.0
    assert buf.window(25, 45)[1][:, 0].tolist() == [20.0, 30.0, 40.0, 50.0]
    assert buf.window(1_000, 2_000)[0].tolist() == [90]  # past the end: the newest, to hold
    assert buf.first_at_or_after(41) == 50 and buf.first_at_or_after(91) is None


def test_series_is_bounded_by_age_and_by_count():
    aged = SeriesBuffer(width=1, horizon_ns=100, capacity=1000)
    for t in range(0, 10_000, 10):
        aged.add(t, [0.0])
    assert aged.oldest_ns == 9_890 and aged.newest_ns == 9_990 and len(aged) == 11
    counted = SeriesBuffer(width=1, horizon_ns=10**12, capacity=16)
    statuses = [counted.add(t, [float(t)]) for t in range(100)]
    assert statuses[:16] == [Admit.OK] * 16 and set(statuses[16:]) == {Admit.OVERFLOW}
    assert len(counted) == 16 and counted.window(0, 10**6)[0].tolist() == list(range(84, 100))


def test_points_accept_out_of_order_sweeps_within_the_horizon():
    buf = PointBuffer(horizon_ns=1_000)
    xyz = np.zeros((3, 3), dtype=np.float32)
    assert buf.add(xyz, np.array([100, 110, 120])) is Admit.OK
    assert buf.add(xyz + 1, np.array([200, 210, 220])) is Admit.OK
    assert buf.add(xyz + 2, np.array([150, 160, 170])) is Admit.OK  # overtaken on the network
    assert buf.add(xyz, np.array([-2_000, -1_990, -1_980])) is Admit.STALE
    assert buf.newest_ns == 220 and len(buf) == 9 and buf.chunks == 3
    pts, t = buf.window(115, 205)
    assert sorted(t.tolist()) == [120, 150, 160, 170, 200]
    assert pts.dtype == np.float32 and pts.shape == (5, 3)


def test_points_are_bounded_by_age_and_by_count():
    buf = PointBuffer(horizon_ns=100, max_points=1_000)
    one = np.zeros((4, 3), dtype=np.float32)
    for k in range(10):
        status = buf.add(one, np.arange(4) + 40 * k)
    assert buf.oldest_ns >= buf.newest_ns - 100 - 3
    crowded = PointBuffer(horizon_ns=10**9, max_points=10)
    statuses = [crowded.add(one, np.arange(4) + 10 * k) for k in range(5)]
    assert statuses[-1] is Admit.OVERFLOW and len(crowded) <= 10 and status is Admit.OK
    empty = crowded.window(10**6, 10**7)
    assert empty[0].shape == (0, 3) and empty[1].dtype == np.int64


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        SeriesBuffer(width=0, horizon_ns=10)
    with pytest.raises(ValueError):
        PointBuffer(horizon_ns=0)
