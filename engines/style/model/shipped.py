"""The looks that ship with Onset (``engines/style/looks/NAME.look.json``, rebuilt by
``make style-looks``), and finding a look by the name the command line uses or by its file."""

from __future__ import annotations

from pathlib import Path
from typing import List, Union

from engines.style.model.errors import UnknownLookError
from engines.style.model.look import LOOK_SUFFIX, Look, identity_look, load_look

__all__ = ["SHIPPED_LOOKS_DIR", "OFF", "shipped_look_names", "resolve_look"]

SHIPPED_LOOKS_DIR = Path(__file__).resolve().parents[1] / "looks"
#: The name that turns the look off (the frame as the camera made it).
OFF = "off"


def shipped_look_names() -> List[str]:
    """The shipped looks' names, sorted."""
    return sorted(p.name[: -len(LOOK_SUFFIX)] for p in SHIPPED_LOOKS_DIR.glob(f"*{LOOK_SUFFIX}"))


def resolve_look(name_or_path: Union[str, Path]) -> Look:
    """A shipped look by name, ``off``, or a look file's path; an unknown name lists the valid ones."""
    text = str(name_or_path)
    if text == OFF:
        return identity_look(OFF)
    shipped = SHIPPED_LOOKS_DIR / f"{text}{LOOK_SUFFIX}"
    if shipped.is_file():
        return load_look(shipped)
    path = Path(text).expanduser()
    if path.suffix == ".json" or path.exists():
        return load_look(path)
    raise UnknownLookError(f"no look named {text!r}; the looks are {', '.join([*shipped_look_names(), OFF])}, "
                           f"or give a {LOOK_SUFFIX} file")
