"""Keep-newest slots: a put never waits, the newest wins, what was replaced unsent is counted."""

from __future__ import annotations

import threading

import pytest

from edge.foxglove.handoff import NewestSlots


def test_the_newest_item_wins_and_the_replaced_one_is_counted():
    slots = NewestSlots(["frame", "cloud"])
    assert slots.put("frame", 1) is False
    assert slots.put("frame", 2) is True
    assert slots.put("cloud", "a") is False
    assert slots.take(0) == {"frame": 2, "cloud": "a"}
    assert slots.skipped == {"frame": 1, "cloud": 0}
    assert slots.take(0) == {}  # taking empties the slots


def test_take_waits_for_a_put_from_another_thread():
    slots = NewestSlots(["frame"])
    putter = threading.Timer(0.05, slots.put, args=("frame", "x"))
    putter.start()
    try:
        assert slots.take(5.0) == {"frame": "x"}
    finally:
        putter.join(5.0)


def test_close_wakes_a_waiting_consumer_and_refuses_later_puts():
    slots = NewestSlots(["frame"])
    got = []
    consumer = threading.Thread(target=lambda: got.append(slots.take(30.0)))
    consumer.start()
    slots.close()
    consumer.join(5.0)
    assert not consumer.is_alive() and got == [{}]
    assert slots.put("frame", 1) is False and slots.closed


def test_an_unknown_slot_is_an_error():
    with pytest.raises(KeyError, match="frame"):
        NewestSlots(["frame"]).put("depth", 1)
