"""What made a dataset: the software (``onset-edge`` and its version, the git commit where the code
is a checkout), the command that ran, and per take the digest of the ``take.json`` it was built from.

The git commit is read, never changed: ``git rev-parse HEAD`` and ``git status --porcelain``
(whether files differ from that commit) in the folder the package was loaded from, only when that
folder is a checkout; anywhere else (an installed wheel) both are None.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

__all__ = ["SOFTWARE", "software_provenance", "git_commit", "command_line"]

SOFTWARE = "onset-edge"
_GIT_TIMEOUT_S = 5.0


def _package_root() -> Path:
    return Path(__file__).resolve().parents[3]


@lru_cache(maxsize=1)
def git_commit() -> Tuple[Optional[str], Optional[bool]]:
    """``(commit, dirty)`` of the checkout the code runs from, or ``(None, None)``."""
    root = _package_root()
    if not (root / ".git").exists():
        return None, None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=_GIT_TIMEOUT_S, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=_GIT_TIMEOUT_S, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return (head or None), bool(status.strip())


def software_provenance() -> Dict[str, Any]:
    """``{"software", "version", "git_commit", "git_dirty", "python"}`` of this build."""
    try:
        package_version: Optional[str] = version(SOFTWARE)
    except PackageNotFoundError:
        package_version = None
    commit, dirty = git_commit()
    return {"software": SOFTWARE, "version": package_version, "git_commit": commit, "git_dirty": dirty,
            "python": ".".join(str(v) for v in sys.version_info[:3])}


def command_line(argv: Optional[Sequence[str]] = None) -> str:
    """The command as a shell would take it back (default: this process's ``sys.argv``)."""
    args = list(sys.argv if argv is None else argv)
    if args:
        args[0] = Path(args[0]).name
    return " ".join(shlex.quote(str(a)) for a in args)
