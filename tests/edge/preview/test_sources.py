"""A source is waiting, live, late, then gone, by the age of its newest message, with its reason."""

from __future__ import annotations

from edge.preview.sources import GONE_AFTER_S, LATE_AFTER_S, SourceState, SourceStatus


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_source_ages_from_waiting_to_gone_and_says_why():
    clock = Clock()
    source = SourceState("fused", "tcp://127.0.0.1:5557", "start the node: onset node run", monotonic_s=clock)
    assert source.view() == {"status": "waiting", "reason": "nothing from tcp://127.0.0.1:5557 yet: start the node: "
                             "onset node run", "age_s": None, "where": "tcp://127.0.0.1:5557", "messages": 0}
    source.problem("no Onset node is listening at http://127.0.0.1:8765")
    assert source.view()["reason"] == "no Onset node is listening at http://127.0.0.1:8765"
    source.heard()
    assert source.status is SourceStatus.LIVE and source.view()["reason"] is None and source.view()["messages"] == 1
    clock.now += LATE_AFTER_S - 0.01
    assert source.status is SourceStatus.LIVE
    clock.now += 0.02
    view = source.view()
    assert view["status"] == "late" and view["reason"] == "nothing from tcp://127.0.0.1:5557 for 2.0 s: start the " \
                                                          "node: onset node run"
    source.problem("rejected a message: bad magic")
    assert source.view()["reason"].endswith(": rejected a message: bad magic")
    clock.now += GONE_AFTER_S - LATE_AFTER_S
    assert source.status is SourceStatus.GONE and source.view()["age_s"] == 5.01
    source.heard()
    assert source.status is SourceStatus.LIVE and source.age_s() == 0.0
