"""``python -m benchmarks [NAME] [ARGS]``: run one benchmark, or all of them with their defaults."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path

# DDS stays on this machine, on a domain of its own, whoever runs the benchmarks.
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_LOCALHOST_ONLY", "1")
os.environ.setdefault("ROS_DOMAIN_ID", "43")


def _names() -> list:
    here = Path(__file__).resolve().parent
    return sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def main(argv: list) -> int:
    names = _names()
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip() + "\n\nbenchmarks: " + ", ".join(names))
        return 0
    if argv:
        if argv[0] not in names:
            print(f"no benchmark {argv[0]!r}; there are: {', '.join(names)}", file=sys.stderr)
            return 2
        return importlib.import_module(f"benchmarks.bench_{argv[0]}").main(argv[1:])
    status = 0
    for name in names:
        status |= importlib.import_module(f"benchmarks.bench_{name}").main([])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
