"""Load YAML profiles into :class:`config.models.RigConfig`, with errors a crew can act on."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import ValidationError

from config.errors import ProfileNotFoundError, ProfileSyntaxError, ProfileValueError
from config.models import RigConfig

__all__ = ["PROFILE_DIR", "DEFAULT_PROFILE", "list_profiles", "resolve_profile", "load_profile", "load_rig"]

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
DEFAULT_PROFILE = "sim-stage"


def list_profiles() -> list[str]:
    """Names of the profiles shipped with Onset."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def resolve_profile(name_or_path: Union[str, Path]) -> Path:
    """A shipped profile's name (``sim-stage``) or a path to a YAML file."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise ProfileNotFoundError(f"profile file {candidate} does not exist")
        return candidate
    shipped = PROFILE_DIR / f"{name_or_path}.yaml"
    if shipped.is_file():
        return shipped
    raise ProfileNotFoundError(
        f"no profile named {str(name_or_path)!r}; shipped profiles: {', '.join(list_profiles())} "
        "(or give a path to a .yaml file)"
    )


def _key_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_rig(data: Any, source: str = "<memory>") -> RigConfig:
    """Validate an already-parsed mapping; ``source`` names it in errors."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProfileSyntaxError(f"{source}: the top level must be a mapping of rig settings, got {type(data).__name__}")
    try:
        return RigConfig.model_validate(data)
    except ValidationError as err:
        problems = [(_key_path(e["loc"]), e["msg"], e.get("input")) for e in err.errors()]
        raise ProfileValueError(source, problems) from err


def load_profile(name_or_path: Union[str, Path] = DEFAULT_PROFILE) -> RigConfig:
    """Read and validate a profile. Errors name the file, the key and what was expected."""
    path = resolve_profile(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ProfileSyntaxError(f"{path}:{where}: not valid YAML: {problem}") from err
    except UnicodeDecodeError as err:
        raise ProfileSyntaxError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from err
    return load_rig(data, str(path))
