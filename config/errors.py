"""Errors raised while loading configuration."""

from __future__ import annotations

__all__ = ["ConfigError", "ProfileNotFoundError", "ProfileSyntaxError", "ProfileValueError"]


class ConfigError(Exception):
    """Root of every configuration error."""


class ProfileNotFoundError(ConfigError):
    """A profile name or path that does not exist."""


class ProfileSyntaxError(ConfigError):
    """A file that is not valid YAML, or whose top level is not a mapping."""


class ProfileValueError(ConfigError):
    """A YAML file whose values do not fit the rig model: names the file, each key and what was expected."""

    def __init__(self, path: str, problems: list[tuple[str, str, object]]) -> None:
        self.path = path
        self.problems = problems
        lines = [f"{path}: {len(problems)} invalid value(s)"]
        for key, expected, got in problems:
            lines.append(f"  {key}: {expected} (got {got!r})")
        super().__init__("\n".join(lines))
