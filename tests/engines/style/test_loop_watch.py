"""The live closed loop: raw and styled readings of the same clip frames, tallied for the look in use."""

from __future__ import annotations

from types import SimpleNamespace

from engines.style.loop_watch import StyledWatch


class _Queue:
    def __init__(self):
        self.items, self.closed = [], False

    def recv(self, timeout_ms=None):
        return self.items.pop(0) if self.items else None

    def close(self):
        self.closed = True


def _doc(shot="MS", movement="static", focal=50.0, distance=3.0):
    return {"shot_size": {"class": shot}, "movement": {"class": movement}, "focal_35mm": {"value": focal},
            "subject_distance": {"value": distance}}


def test_readings_of_the_same_frames_are_compared_for_the_look_that_styled_them():
    styled, looks = _Queue(), _Queue()
    shots = {}
    watch = StyledWatch(styled, looks, read=lambda frame: _doc(shot=shots[frame.frame_index]))
    for i in range(10):
        watch.raw(i, _doc())
    looks.items = [{"frame_index": i, "result": {"look": "push2"}} for i in range(10)]
    shots.update({i: ("MCU" if i == 3 else "MS") for i in range(10)})
    styled.items = [SimpleNamespace(frame_index=i) for i in (2, 3, 4, 11)]  # 11: never a raw clip frame
    watch.poll()
    s = watch.summary()
    assert s["look"] == "push2" and s["frames"] == 3 and abs(s["shot_size_changed"] - 1 / 3) < 1e-9
    # the look changes: a new tally
    looks.items = [{"frame_index": 5, "result": {"look": "off"}}]
    styled.items = [SimpleNamespace(frame_index=5)]
    watch.poll()
    assert watch.summary()["look"] == "off" and watch.summary()["frames"] == 1
    # a styled frame whose look is not known yet is not counted
    watch.raw(20, _doc())
    shots[20] = "MS"
    styled.items = [SimpleNamespace(frame_index=20)]
    watch.poll()
    assert watch.summary()["frames"] == 1
    watch.close()
    assert styled.closed and looks.closed
