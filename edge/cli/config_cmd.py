"""``onset config``: list, show and check rig profiles."""

from __future__ import annotations

import argparse

import yaml

from config import list_profiles, load_profile, resolve_profile

__all__ = ["register"]


def _ls(args: argparse.Namespace) -> int:
    for name in list_profiles():
        rig = load_profile(name)
        kind = "simulated stage" if rig.simulated else "real rig"
        print(f"{name:24s} {kind}: {len(rig.lidars)} LiDAR, {len(rig.telemetry)} telemetry, camera {rig.camera.source.value}")
    return 0


def _show(args: argparse.Namespace) -> int:
    rig = load_profile(args.profile)
    print(f"# {resolve_profile(args.profile)}")
    print(yaml.safe_dump(rig.model_dump(mode="json"), sort_keys=False), end="")
    return 0


def _check(args: argparse.Namespace) -> int:
    rig = load_profile(args.profile)
    print(f"{resolve_profile(args.profile)}: valid rig profile {rig.name!r}")
    return 0


def register(groups: argparse._SubParsersAction) -> None:
    from edge.cli.args import add_profile_argument

    group = groups.add_parser(
        "config",
        help="list, show and check rig profiles",
        description="Rig profiles are YAML files validated against Onset's typed rig model.",
        epilog="examples:\n  onset config ls\n  onset config show --profile sim-stage\n  onset config check --profile my-rig.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = group.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    ls = sub.add_parser("ls", help="list the shipped profiles", description="List the profiles shipped with Onset.")
    ls.set_defaults(run=_ls)
    for name, func, text in (
        ("show", _show, "print a profile with every default filled in"),
        ("check", _check, "validate a profile; errors name the file, the key and what was expected"),
    ):
        p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".",
                           epilog=f"example:\n  onset config {name} --profile my-rig.yaml",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        add_profile_argument(p)
        p.set_defaults(run=func)
