"""``onset``: the command line of the edge box.

Each command group lives in its own module and registers its sub-commands here (the arguments
they share come from :mod:`edge.cli.args`, so no command module imports this one); ``main`` turns
Onset's own errors into one clear line and an exit status instead of a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

# One BLAS thread: the node's arrays are small and its cores are shared with the other processes
# of the stage; a BLAS thread pool made clock fits ten times slower under load. Set before numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from config import ConfigError
from edge.cli.args import add_profile_argument
from sensors.errors import SensorError

__all__ = ["build_parser", "main", "add_profile_argument", "EXIT_USAGE", "EXIT_FAILURE"]

EXIT_FAILURE = 1
_GIL_SWITCH_INTERVAL_S = 0.0002
EXIT_USAGE = 2

_DESCRIPTION = """\
Onset: the on-set edge system. It reads the stage's LiDAR, cinema camera, crane/dolly telemetry
and timecode, puts them on one clock and fuses them into frames that know their depth, pose,
lens and timecode.

Every command takes a rig profile: a shipped name (see `onset config ls`) or a path to a YAML
file. The default profile, sim-stage, is a simulated stage on this machine's loopback.
"""

_EPILOG = """\
examples:
  onset node run                      the edge node on the simulated stage (what `make demo` runs)
  onset preview                       the live preview page (its address and token are printed)
  onset take start --scene 12 --shot 3 --take 4
  onset takes ls                      the recorded takes
  onset engines train captioner --data ds --out captioner.onsetcap
                                      train the captioner on a built dataset
  onset caption TAKE --model captioner.onsetcap
                                      a take's shot-level captions (JSON and CSV)
  onset dataset build takes/ --out ds the captioner's training dataset from takes
  onset plan run focal-sweep --seed 3 a capture plan, shot on the simulated stage
  onset sim run                       the simulated stage through Onset's drivers only
  onset sim run --duration 10         ... for ten seconds, then print a summary
  onset sensors probe --profile rig.yaml
                                      decode whatever a real rig sends to the configured ports
  onset config show                   print the resolved default profile
"""


def build_parser() -> argparse.ArgumentParser:
    from edge.cli import config_cmd, node_cmd, sensors_cmd, sim_cmd, take_cmd, takes_cmd
    from edge.cli import caption_cmd, dataset_cmd, engines_cmd, plan_cmd
    from edge.cli import preview_cmd, style_cmd, studio_cmd, sync_cmd

    parser = argparse.ArgumentParser(
        prog="onset",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    groups = parser.add_subparsers(dest="group", metavar="COMMAND")
    groups.required = True
    for module in (node_cmd, sim_cmd, sensors_cmd, take_cmd, takes_cmd, config_cmd):
        module.register(groups)
    dataset_cmd.register(groups)
    plan_cmd.register(groups)
    engines_cmd.register(groups)
    caption_cmd.register(groups)
    style_cmd.register(groups)
    preview_cmd.register(groups)
    sync_cmd.register(groups)
    studio_cmd.register(groups)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    # Drivers receive on their own threads while others render and decode: a short GIL switch
    # interval (default 5 ms) keeps packet receive stamps within a fraction of a millisecond.
    sys.setswitchinterval(_GIL_SWITCH_INTERVAL_S)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except ConfigError as err:
        print(f"onset: configuration error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except SensorError as err:
        print(f"onset: {err}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
