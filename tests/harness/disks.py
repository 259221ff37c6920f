"""Small real disks for tests: a tmpfs of a given size, where the test may mount one (root)."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["mount_tmpfs", "unmount"]


def mount_tmpfs(path: Path, size: str) -> bool:
    """Make ``path`` and mount a tmpfs of ``size`` (``3m``) on it; whether that worked."""
    path.mkdir(parents=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                              capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def unmount(path: Path) -> None:
    """Lazily unmount ``path`` (whatever still has files open there lets go later)."""
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=10)
