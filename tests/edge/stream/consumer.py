"""A fused-frame consumer process for the stream tests: ``python -m tests.edge.stream.consumer ENDPOINT``.

Prints one JSON line ``{"event": "first"}`` when its first frame arrives, then, once no frame has
come for ``--idle-ms``, one JSON line with its counters and the ``frame_index`` of every frame it
got. ``--work-ms`` makes it a slow consumer: that much time spent on every frame, as a heavy engine
would spend it. ``--name`` is the consumer name its loss reports carry; ``--forever`` keeps it
receiving (never printing "done") until it is killed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from edge.stream import FusedFrameSubscriber


def main(argv: list) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("--work-ms", type=float, default=0.0)
    parser.add_argument("--idle-ms", type=float, default=1000.0)
    parser.add_argument("--join-ms", type=float, default=20000.0)
    parser.add_argument("--name", default=None)
    parser.add_argument("--forever", action="store_true")
    args = parser.parse_args(argv)
    indices, corrupt = [], 0
    with FusedFrameSubscriber(args.endpoint, rcv_hwm=2, consumer=args.name, report_interval_s=0.2) as sub:
        frame = sub.recv(timeout_ms=args.join_ms)
        if frame is not None:
            print(json.dumps({"event": "first"}), flush=True)
        while args.forever:
            sub.recv(timeout_ms=100)
        while frame is not None:
            if frame.frame_index >= 0:
                indices.append(frame.frame_index)
                corrupt += int(frame.rgb[0, 0, 0]) != frame.frame_index % 256
            if args.work_ms:
                time.sleep(args.work_ms / 1000.0)  # the consumer's work, not synchronisation
            frame = sub.recv(timeout_ms=args.idle_ms)
        print(json.dumps({"event": "done", "received": sub.received, "lost": sub.lost, "rejected": sub.rejected,
                          "indices": indices, "corrupt": corrupt}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
