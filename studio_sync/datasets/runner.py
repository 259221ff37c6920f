"""Where the work of each take runs: in this process, or as Ray tasks on a cluster.

The work of one take (:func:`run_take`) is a function of that take alone: fetch it from the
store into the cache, verified against its ASC MHL (:mod:`.fetch`), then fuse its frames again,
label them, encode their PNGs and cut its shots (:func:`engines.captioner.dataset.build.encode_take`).
What comes back (:class:`TakeResult`) is everything the shards need; the driver writes it.

A runner takes the jobs in the order the dataset is written and gives their results back in
that same order, whatever order they finish in, so the writer (always in this process,
sequential) sees the same sequence from every runner and writes the same bytes:

* :class:`LocalRunner` (``local``): one take after the other, here; PNGs spooled to disk beside
  the output, as ``onset dataset build`` spools them;
* :class:`RayRunner` (``ray``): one Ray task per take (one CPU each), at most ``max_in_flight``
  submitted ahead of the one being written, so finished takes waiting in Ray's object store stay
  bounded. ``ray.init(address=...)`` joins a running cluster (``auto``, ``HOST:PORT`` or
  ``ray://HOST:10001``); without an address a local instance starts with ``num_cpus`` CPUs, no
  dashboard, usage statistics off, and is shut down again by :meth:`RayRunner.close`. Each task
  builds its S3 client from the studio settings and the reader identity's keys, which travel with
  the task; its cache is the ``cache`` path on the node that runs it. Every node must run the
  same Onset (and the same Pillow and zlib: they make the PNG bytes).

:data:`RUNNERS` names them; Ray is imported only by :class:`RayRunner`, and its absence is
:class:`~.errors.RayNotInstalledError`.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Deque, Dict, FrozenSet, Iterable, Iterator, Mapping, Optional, Tuple, Type

from config.studio import StudioConfig
from engines.captioner.dataset.build import BuildOptions, EncodedTake, encode_take
from engines.captioner.dataset.records import FrameRecord
from studio_sync.datasets.errors import RayNotInstalledError, RayUnreachableError, StudioDatasetError
from studio_sync.datasets.fetch import FetchedTake, TakeLocation, fetch_take

__all__ = ["TakeJob", "TakeResult", "Runner", "LocalRunner", "RayRunner", "RUNNERS", "run_take", "import_ray",
           "probe_address"]

#: How long a cluster's address is given to accept a connection before the build gives up, s.
PROBE_TIMEOUT_S = 5.0
#: ``progress(stage, take, count)``: ``fetched`` (files downloaded), ``frames`` (frames labelled).
RunProgress = Callable[[str, str, int], None]


@dataclass(frozen=True)
class TakeJob:
    """One take to fetch and encode: where it is, and which frames keep their pictures
    (``frames``: frame indexes; None: every frame). ``options`` gives the rate and PNG level."""

    location: TakeLocation
    options: BuildOptions
    frames: Optional[FrozenSet[int]] = None


class _Keep:
    """``keep(record)`` of :func:`encode_take`: the record's frame is one of ``frames``."""

    def __init__(self, frames: FrozenSet[int]) -> None:
        self.frames = frozenset(frames)

    def __call__(self, record: FrameRecord) -> bool:
        return record.frame_index in self.frames


@dataclass
class TakeResult:
    """A job done: the verified copy it was read from and the encoded take (:meth:`close` it)."""

    job: TakeJob
    fetched: FetchedTake
    encoded: EncodedTake

    def close(self) -> None:
        self.encoded.close()


def run_take(job: TakeJob, client: Any, cache: Path, spool_dir: Optional[Path] = None,
             progress: Optional[RunProgress] = None) -> TakeResult:
    """Fetch the take of ``job`` into ``cache`` (verified) and encode it (module docstring)."""
    name = job.location.name
    fetched = fetch_take(client, job.location, cache)
    if progress is not None:
        progress("fetched", name, len(fetched.downloaded))
    keep = None if job.frames is None else _Keep(job.frames)
    frame_done = None if progress is None else (lambda n: progress("frames", name, n))
    encoded = encode_take(fetched.folder, job.options, spool_dir=spool_dir, keep=keep, progress=frame_done)
    return TakeResult(job, fetched, encoded)


class Runner:
    """Runs jobs and gives their results in the jobs' order; a context manager (:meth:`close`)."""

    name = ""

    def results(self, jobs: Iterable[TakeJob]) -> Iterator[TakeResult]:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the runner holds."""

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalRunner(Runner):
    """Every job here, in order (module docstring); ``spool_dir``: where PNGs wait to be written."""

    name = "local"

    def __init__(self, client: Any, cache: Path, spool_dir: Optional[Path] = None,
                 progress: Optional[RunProgress] = None) -> None:
        self.client, self.cache, self.spool_dir, self.progress = client, Path(cache), spool_dir, progress

    def results(self, jobs: Iterable[TakeJob]) -> Iterator[TakeResult]:
        for job in jobs:
            yield run_take(job, self.client, self.cache, self.spool_dir, self.progress)


def import_ray() -> Any:
    """The ``ray`` module, or :class:`~.errors.RayNotInstalledError` saying how to install it."""
    try:
        import ray
    except ImportError as err:
        raise RayNotInstalledError("building on Ray needs Ray, which is not installed here: "
                                   "pip install 'onset-edge[ray]' (or pip install 'ray>=2.9'); "
                                   "without --ray the build runs in this process") from err
    return ray


def _remote_take(job: TakeJob, config: StudioConfig, credentials: Any, cache: str) -> TakeResult:
    """The body of one Ray task: a reader client of its own, the cache of its node, PNGs in memory."""
    from studio_sync.storage import s3_client

    client = s3_client(config, "reader", credentials=credentials)
    return run_take(job, client, Path(cache).expanduser())


def _host_port(address: str) -> Optional[Tuple[str, int]]:
    """``(host, port)`` of ``HOST:PORT`` or ``ray://HOST:PORT``; None for ``auto`` and the like."""
    text = address[len("ray://"):] if address.startswith("ray://") else address
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def probe_address(address: str, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Refuse at once (:class:`~.errors.RayUnreachableError`) a cluster address nothing listens
    on: ``ray.init`` would otherwise retry for minutes."""
    target = _host_port(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=timeout_s):
            pass
    except OSError as err:
        raise RayUnreachableError(f"no Ray cluster answers at {address}: {err.strerror or err}; start one "
                                  "(ray start --head) or give its address (HOST:6379, ray://HOST:10001, "
                                  "auto)") from err


def _cause(err: BaseException) -> BaseException:
    cause = getattr(err, "cause", None)
    return cause if isinstance(cause, BaseException) else err


class RayRunner(Runner):
    """One Ray task per take (module docstring). ``init`` adds keyword arguments to the local
    instance's ``ray.init`` (e.g. ``object_store_memory``, ``_temp_dir``)."""

    name = "ray"

    def __init__(self, config: StudioConfig, credentials: Any, cache: Path, *, address: Optional[str] = None,
                 num_cpus: Optional[int] = None, max_in_flight: Optional[int] = None,
                 init: Optional[Mapping[str, Any]] = None, progress: Optional[RunProgress] = None) -> None:
        ray = import_ray()
        self._ray, self.config, self.credentials, self.cache = ray, config, credentials, str(cache)
        self.progress, self.address = progress, address
        self._started = False
        if not ray.is_initialized():
            self._init(address, num_cpus, dict(init or {}))
            self._started = True
        cpus = int(ray.cluster_resources().get("CPU", 1) or 1)
        self.max_in_flight = int(max_in_flight) if max_in_flight else max(2, 2 * cpus)
        self._task = ray.remote(num_cpus=1)(_remote_take)

    def _init(self, address: Optional[str], num_cpus: Optional[int], extra: Dict[str, Any]) -> None:
        ray = self._ray
        try:
            if address:
                probe_address(address)
                ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
            else:
                # A local instance is this build's own: no dashboard, no usage report leaving the studio.
                os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
                ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level=logging.WARNING,
                         log_to_driver=False, **extra)
        except (ConnectionError, TimeoutError, RuntimeError, ValueError) as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            if address:
                raise RayUnreachableError(f"no Ray cluster answers at {address}: {reason}; start one "
                                          "(ray start --head) or give its address (HOST:6379, ray://HOST:10001, "
                                          "auto)") from err
            raise RayUnreachableError(f"the local Ray instance did not start: {reason}") from err

    def results(self, jobs: Iterable[TakeJob]) -> Iterator[TakeResult]:
        ray = self._ray
        queued = iter(jobs)
        pending: Deque[Tuple[TakeJob, Any]] = deque()

        def submit() -> None:
            job = next(queued, None)
            if job is not None:
                pending.append((job, self._task.remote(job, self.config, self.credentials, self.cache)))

        try:
            for _ in range(self.max_in_flight):
                submit()
            while pending:
                job, ref = pending.popleft()
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayTaskError as err:
                    cause = _cause(err)
                    if isinstance(cause, Exception) and not isinstance(cause, ray.exceptions.RayError):
                        raise cause from None
                    raise StudioDatasetError(f"take {job.location.name}: its Ray task failed: {err}") from None
                except ray.exceptions.RayError as err:
                    raise StudioDatasetError(f"take {job.location.name}: its Ray task was lost: {err}") from None
                submit()
                if self.progress is not None:
                    self.progress("fetched", job.location.name, len(result.fetched.downloaded))
                    self.progress("frames", job.location.name, len(result.encoded.records))
                yield result
        finally:
            for _, ref in pending:
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - a task that already finished cannot be cancelled
                    pass

    def close(self) -> None:
        """Shut the local instance down, or leave the cluster joined (which stays up)."""
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
        self._started = False


#: The runners by engine name.
RUNNERS: Mapping[str, Type[Runner]] = {"local": LocalRunner, "ray": RayRunner}
