"""A recording process for the crash test: ``python -m tests.edge.recorder.crash_child TAKES_DIR MODE``.

It records a complete take 7/1/1, then take 7/1/2 until it is killed. Message ``i`` of take 2 is
``make_message(types, MSGTYPES[i % 8], i)`` at log time ``BASE_NS + i ms``, so the test knows every
message it wrote. MODE ``exact``: write until three chunks are on disk and a few messages more, let
the writer drain, print ``ready FLUSHED WRITTEN`` and wait (the flush interval is long, so the chunk
still filling stays in memory). MODE ``continuous``: write without pause, printing
``flushed FLUSHED written WRITTEN`` as chunks land.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from config import load_profile
from edge.recorder import RecorderConfig, TakeRecorder
from edge.recorder.typestore import RECORDED_MSGTYPES

from .messages import BASE_NS, TOPICS, make_message

MSGTYPES = RECORDED_MSGTYPES
TAKE1_MESSAGES = 40


def message(recorder: TakeRecorder, i: int):
    msgtype = MSGTYPES[i % len(MSGTYPES)]
    return TOPICS[msgtype], msgtype, recorder.types.serialize(make_message(recorder.types, msgtype, i), msgtype)


def main(takes_dir: str, mode: str) -> None:
    config = RecorderConfig(takes_dir=Path(takes_dir), chunk_size_bytes=4096, min_free_bytes=0,
                            fsync_interval_s=0.0, flush_interval_s=60.0 if mode == "exact" else 0.2)
    recorder = TakeRecorder(config, load_profile())
    recorder.start("7", "1", 1)
    for i in range(TAKE1_MESSAGES):
        topic, msgtype, data = message(recorder, i)
        recorder.write(topic, msgtype, data, BASE_NS + i * 1_000_000)
    first = recorder.stop()
    print("take1", first.name, first.message_count, flush=True)
    second = recorder.start("7", "1", 2)
    print("take2", second.name, flush=True)
    i = 0
    last_flushed = -1
    while True:
        topic, msgtype, data = message(recorder, i)
        assert recorder.write(topic, msgtype, data, BASE_NS + i * 1_000_000)
        i += 1
        take = recorder.status().take
        if mode == "exact" and take.chunks >= 3 and take.message_count > take.flushed_messages + 2:
            while recorder.status().take.message_count < i:  # every accepted message is in the bag writer
                time.sleep(0.001)
            take = recorder.status().take
            if take.flushed_messages < take.message_count:  # else a chunk just closed: write on
                print("ready", take.flushed_messages, take.message_count, flush=True)
                time.sleep(600)
        if mode == "continuous" and take.flushed_messages != last_flushed:
            last_flushed = take.flushed_messages
            print("flushed", take.flushed_messages, "written", i, flush=True)
        if mode == "continuous":
            time.sleep(0.0005)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
