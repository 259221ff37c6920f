"""A real PostgreSQL server for tests: Debian's ``postgresql`` binaries, a data folder in tmp, loopback only.

:func:`running_postgres` runs ``initdb`` into a fresh folder under the system's temporary folder
and starts ``postgres`` on a free port of 127.0.0.1 (no Unix socket, no other address), trust
authentication for its one superuser, durability off (``fsync``, ``synchronous_commit``,
``full_page_writes``: a test server's data dies with it). The server runs in a process group of
its own (``start_new_session``: its group id is its pid) and is always stopped at the end, on
failure too: SIGINT (PostgreSQL's fast shutdown) to the whole group, then SIGKILL to that group
and to the group of every backend still there (PostgreSQL starts each backend in a session of
its own); then the folder is removed.

PostgreSQL refuses to run as root. When the tests run as root, ``initdb`` and ``postgres`` run as
an unprivileged system user (``postgres`` if it exists, else ``nobody``), the folder handed to it.
:func:`postgres_unavailable` says why a server cannot be run here (no binaries, no such user), for
a test to skip with.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

__all__ = ["RunningPostgres", "running_postgres", "postgres_unavailable", "find_postgres_bin"]

_USERS = ("postgres", "nobody")
_SUPERUSER = "onset"
_START_TIMEOUT_S = 60.0
_STOP_GRACE_S = 15.0


def find_postgres_bin() -> Optional[Path]:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` and ``postgres``, or None."""
    found: List[Tuple[int, Path]] = []
    for folder in glob.glob("/usr/lib/postgresql/*/bin"):
        path = Path(folder)
        version = path.parent.name
        if version.isdigit() and (path / "initdb").is_file() and (path / "postgres").is_file():
            found.append((int(version), path))
    return max(found)[1] if found else None


def _server_user() -> Optional[pwd.struct_passwd]:
    """The user the server runs as: this one, or an unprivileged one when running as root."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    for name in _USERS:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return entry
    return None


def postgres_unavailable() -> Optional[str]:
    """Why a PostgreSQL server cannot be run for a test here, or None."""
    if find_postgres_bin() is None:
        return "Debian's postgresql package is not installed (/usr/lib/postgresql/<version>/bin/initdb)"
    if _server_user() is None:
        return f"running as root and none of the unprivileged users {', '.join(_USERS)} exists to run PostgreSQL"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg 3 is not installed (pip install 'psycopg[binary]')"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningPostgres:
    """A started server: its superuser's URL (database ``postgres``), port, folder and process."""

    port: int
    folder: Path
    process: subprocess.Popen
    _databases: int = field(default=0)

    @property
    def url(self) -> str:
        return self.url_of("postgres")

    def url_of(self, database: str) -> str:
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self, stem: str = "catalogue") -> str:
        """A new, empty database; its URL."""
        import psycopg

        self._databases += 1
        name = f"{stem}_{self._databases}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_of(name)

    def log(self) -> str:
        try:
            return (self.folder / "postgres.log").read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return ""


def _as(user: pwd.struct_passwd) -> dict:
    if os.geteuid() != 0:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _env(folder: Path) -> dict:
    return {"PATH": "/usr/bin:/bin", "LANG": "C", "LC_ALL": "C", "HOME": str(folder), "TZ": "UTC"}


def _tree(pid: int) -> List[int]:
    """``pid``'s descendants: the server's backends, each of which PostgreSQL puts in a session of its own."""
    try:
        import psutil

        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except Exception:  # noqa: BLE001 - psutil missing, or the server already gone
        return []


def _stop(process: subprocess.Popen) -> None:
    """Fast shutdown of the server's process group, then SIGKILL to the group and to every backend
    that lingers (PostgreSQL gives each backend a process group of its own)."""
    backends = _tree(process.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=_STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    for pid in backends + _tree(process.pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_STOP_GRACE_S)


@contextlib.contextmanager
def running_postgres() -> Iterator[RunningPostgres]:
    """A PostgreSQL server on a free loopback port (module docstring); stopped and removed at the end."""
    reason = postgres_unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    bin_dir, user = find_postgres_bin(), _server_user()
    assert bin_dir is not None and user is not None
    folder = Path(tempfile.mkdtemp(prefix="onset-pg-"))
    process: Optional[subprocess.Popen] = None
    try:
        if os.geteuid() == 0:
            os.chown(folder, user.pw_uid, user.pw_gid)
        data = folder / "data"
        initdb = subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", _SUPERUSER, "--auth=trust", "--encoding=UTF8",
             "--locale=C", "--no-sync"],
            cwd=str(folder), env=_env(folder), capture_output=True, text=True, timeout=120, **_as(user))
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed ({initdb.returncode}): {initdb.stderr or initdb.stdout}")
        port = _free_port()
        log = open(folder / "postgres.log", "ab")
        try:
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
                 "-c", "unix_socket_directories=", "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "shared_buffers=16MB", "-c", "max_connections=20"],
                cwd=str(folder), env=_env(folder), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True, **_as(user))
        finally:
            log.close()
        server = RunningPostgres(port, folder, process)
        _wait_ready(server)
        yield server
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(server: RunningPostgres) -> None:
    """Until a real connection succeeds (the port opens before the server takes queries)."""
    import psycopg

    deadline = time.monotonic() + _START_TIMEOUT_S
    last: Optional[BaseException] = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"postgres exited with {server.process.returncode}: {server.log()}")
        try:
            with psycopg.connect(server.url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as err:
            last = err
            time.sleep(0.05)
    raise RuntimeError(f"postgres did not accept a connection within {_START_TIMEOUT_S:.0f} s ({last}): "
                       f"{server.log()}")
