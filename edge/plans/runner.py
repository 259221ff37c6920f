"""Running a capture plan on the simulated stage: one edge node per take, each take recorded by it.

The stage plays the shot its profile holds, from the moment the node starts it; so each take runs
a node of its own, ``onset node run`` in a child process, on a temporary profile derived from the
chosen one (:func:`edge.plans.sim.stage_take`: the take's stage seed, its shot keyframes, loop
off, a longer lens where it needs one). The take is recorded exactly as a crew records one, through
the node's control API, and nothing of one take (clock models, DDS, GStreamer, the stage's
processes) carries into the next; a node that fails costs only its take. The price is the node's
start-up for every take (about 4 s here).

For each take :class:`PlanRunner`:

1. writes the profile to a temporary folder and starts the node there (its output into a log
   beside it, in a session of its own, so a Ctrl-C at the terminal reaches the runner, which then
   stops the node in order), on a free loopback port for its fused-frame stream and one for its
   control API, with a random control token;
2. reads the fused-frame stream until :data:`SYNC_FRAMES` frames in a row have every sensor's
   clock in sync (each sensor ``ok`` or ``late``: a late LiDAR slice on a busy box is not a clock
   out of sync) and carry a timecode. Plan time (the stage's clock) is the timecode minus the
   profile's start timecode; a frame's label is the timecode frame at its exposure's start (its
   ``t_ns``, the mid-time, minus half the shutter), so each such frame gives the master time of
   plan time 0, and their median is taken. The stream is then closed: it costs the node's box
   nothing while the take rolls;
3. starts the take :data:`PREROLL_S` before the first key of the first repeat of the shot
   still ahead (the stage repeats it, :mod:`edge.plans.sim`; slate: scene ``<plan>-s<seed>``,
   shot the take's index, take 1 or the next free one), with the plan object for ``take.json``
   (naming the repeat), and stops it :data:`POSTROLL_S` after the last key, once the node has
   fused a frame that late (a busy node trails the wall clock; at most :data:`CATCH_UP_S`). A node not in sync
   within :data:`MAX_REPEATS` repeats, or that stops sending frames, is stopped and the take
   tried again with a fresh one, up to ``retries`` times; then it fails;
4. stops the node (SIGINT; its process group is killed after :data:`NODE_STOP_S`) and checks the
   take's ``take.json`` (:func:`edge.plans.check.check_take`): complete, the plan as sent,
   timecode in and out around the shot, camera frames in the bag.

:meth:`PlanRunner.stop` (the CLI calls it on Ctrl-C) ends the series: a rolling take is stopped
through the control API and kept (outcome ``interrupted``), the node is stopped, and the finished
takes stay as they are. The profile's UDP inputs keep their ports, so two plans cannot run at once
on one box, nor beside ``make demo``.
"""

from __future__ import annotations

import math
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import yaml

from config.models import RigConfig
from edge.plans.check import check_take
from edge.plans.errors import PlanRunError, PlanTakeError, TakeCheckError
from edge.plans.sim import DEFAULT_LEAD_S, StagedTake, stage_take
from edge.plans.types import PlannedTake
from sensors.ports import free_loopback_port

__all__ = [
    "PREROLL_S",
    "POSTROLL_S",
    "CATCH_UP_S",
    "SYNC_FRAMES",
    "MAX_REPEATS",
    "NODE_STOP_S",
    "TakeOutcome",
    "PlanRunner",
    "plan_slate",
    "next_take_number",
]

#: The take starts this long before the shot's first key, s (the epoch is known to a frame or so).
PREROLL_S = 0.5
#: ... and stops this long after its last key, s.
POSTROLL_S = 0.5
#: Frames in a row with every sensor in sync that make the node "in sync".
SYNC_FRAMES = 12
#: Repeats of the shot a node may take to get in sync (after the first); later, the take is retried.
MAX_REPEATS = 4
#: Seconds a node may take to stop before its process group is killed.
NODE_STOP_S = 15.0
#: Seconds a node may take from its start to its first fused frame.
FIRST_FRAME_S = 90.0
#: Seconds the take may run past its post-roll on the wall clock while the node's frames catch up.
CATCH_UP_S = 10.0
_LOG_TAIL_LINES = 12
_START_MARGIN_S = 0.5
_NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class TakeOutcome:
    """How one planned take went: ``status`` ``complete``, ``failed`` or ``interrupted``;
    ``folder`` the take's folder (None when no take was started); ``message`` what was recorded
    or what went wrong; ``frames`` the camera frames in the bag; ``wall_s`` the take's wall time
    from the node's start to its stop, s."""

    staged: Optional[StagedTake]
    take: PlannedTake
    status: str
    folder: Optional[Path]
    message: str
    frames: int
    wall_s: float


def plan_slate(take: PlannedTake, seed: int) -> Tuple[str, str]:
    """``(scene, shot)`` of a planned take: ``focal-sweep-s7``, the take's index."""
    return f"{take.plan}-s{int(seed)}", str(int(take.index))


def next_take_number(takes_dir: Path, scene: str, shot: str) -> int:
    """1, or one more than the highest take of ``scene``/``shot`` already in ``takes_dir``."""
    from edge.recorder.take import parse_take_name

    highest = 0
    if Path(takes_dir).is_dir():
        for entry in Path(takes_dir).iterdir():
            slate = parse_take_name(entry.name)  # a "-N" after the start time (same second) still parses
            if slate is not None and slate.scene == scene and slate.shot == shot:
                highest = max(highest, slate.take)
    return highest + 1


def _free_tcp_port() -> int:
    return free_loopback_port(socket.SOCK_STREAM)


class _Failed(Exception):
    """One take failed; the message says why."""


class _NotInSync(_Failed):
    """The node was not in sync in time, or sent no frames (worth another try on a busy box)."""


class _Interrupted(Exception):
    """The runner was asked to stop."""


class PlanRunner:
    """Records planned takes on the simulated stage of ``rig`` (module docstring).

    ``takes_dir``: where the takes go; ``seed``: the stage seed (None: the profile's); ``lead_s``:
    the plan time (s) before which no shot begins; ``retries``: fresh nodes a take gets when one
    was not in sync in time; ``on_line``: where notes between takes go (a retry); ``python``: the
    interpreter that runs the node; ``env``: its environment (default: this process's:
    ``ROS_DOMAIN_ID`` and the DDS settings carry over).
    """

    def __init__(self, rig: RigConfig, takes_dir: Path, *, seed: Optional[int] = None,
                 lead_s: float = DEFAULT_LEAD_S, retries: int = 1, on_line: Callable[[str], None] = print,
                 python: str = sys.executable, env: Optional[Dict[str, str]] = None) -> None:
        if not rig.simulated:
            raise PlanRunError(f"the profile {rig.name!r} is a real rig (simulated: false): `onset plan run` "
                               "needs the simulated stage; on a real stage the crew shoots the plan (onset plan show)")
        self.rig = rig
        self.takes_dir = Path(takes_dir).expanduser()
        self.seed = rig.stage.seed if seed is None else int(seed)
        self.lead_s = float(lead_s)
        self.retries = max(0, int(retries))
        self._on_line = on_line
        self._python = python
        self._env = dict(os.environ if env is None else env, PYTHONUNBUFFERED="1")
        self._stop = threading.Event()
        self._node: Optional["_Node"] = None

    # -- control ---------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the series to end: a rolling take is stopped and kept, no further take starts."""
        self._stop.set()

    def abort(self) -> None:
        """Stop at once: kill the running take's node and its stage (its take is left to recover)."""
        self._stop.set()
        node = self._node
        if node is not None:
            node.kill()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _sleep_until_ns(self, t_ns: int) -> None:
        """Sleep until master time ``t_ns``; :class:`_Interrupted` if asked to stop meanwhile."""
        while True:
            left_s = (t_ns - time.time_ns()) / _NS_PER_S
            if left_s <= 0:
                return
            if self._stop.wait(min(left_s, 0.2)):
                raise _Interrupted()

    # -- a series --------------------------------------------------------------------------------
    def run(self, takes: Sequence[PlannedTake],
            on_outcome: Optional[Callable[[int, TakeOutcome], None]] = None) -> List[TakeOutcome]:
        """Record ``takes`` in order; ``on_outcome(position, outcome)`` after each. Stops early
        (after the interrupted take) once :meth:`stop` was called."""
        outcomes = []
        for position, take in enumerate(takes):
            if self.stopping:
                break
            outcome = self.run_take(take)
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(position, outcome)
            if outcome.status == "interrupted":
                break
        return outcomes

    def run_take(self, take: PlannedTake) -> TakeOutcome:
        """Record one planned take through a node of its own (the module docstring's steps)."""
        started = time.monotonic()
        try:
            staged = stage_take(take, self.rig, self.seed, lead_s=self.lead_s)
        except PlanTakeError as err:
            return TakeOutcome(None, take, "failed", None, str(err), 0, 0.0)
        for attempt in range(self.retries + 1):
            with tempfile.TemporaryDirectory(prefix="onset-plan-") as tmp:
                node = self._node = _Node(self, staged, Path(tmp))
                status, folder, message, frames = "failed", None, "", 0
                try:
                    node.launch()
                    epoch_ns = node.wait_in_sync()
                    folder, frames, message = node.record(epoch_ns)
                    status = "complete"
                except _Interrupted:
                    status, folder, message = "interrupted", node.folder, "stopped by request" + (
                        f"; the take so far is kept in {node.folder}" if node.folder else "")
                except _NotInSync as err:
                    message = str(err)
                    if attempt < self.retries and not self.stopping:
                        self._on_line(f"  {take.plan} {take.index}: {message.splitlines()[0]}; trying a fresh node")
                        continue
                except _Failed as err:
                    folder, message = node.folder, str(err)
                finally:
                    node.close()
                    self._node = None
            break
        return TakeOutcome(staged, take, status, folder, message, frames, time.monotonic() - started)


class _Node:
    """One take's node: its process, stream, control API and the take it records."""

    def __init__(self, runner: PlanRunner, staged: StagedTake, tmp: Path) -> None:
        self.runner, self.staged, self.tmp = runner, staged, tmp
        self.stream = f"tcp://127.0.0.1:{_free_tcp_port()}"
        self.control_url = f"http://127.0.0.1:{_free_tcp_port()}"
        self.token = secrets.token_urlsafe(18)
        self.log_path = tmp / "node.log"
        self.process: Optional[subprocess.Popen] = None
        self.folder: Optional[Path] = None
        self._rolling = False

    def _client(self):
        from edge.recorder.control import ControlClient

        return ControlClient(self.control_url, self.token, timeout_s=30.0)

    def log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join("    " + line for line in lines[-_LOG_TAIL_LINES:])

    def _fail(self, message: str, kind: type = _Failed) -> "_Failed":
        tail = self.log_tail()
        return kind(message + (f"\n  the node's last lines:\n{tail}" if tail else ""))

    def launch(self) -> None:
        profile = self.tmp / "profile.yaml"
        profile.write_text(yaml.safe_dump(self.staged.rig.model_dump(mode="json"), sort_keys=False))
        # Long enough for start-up and the last repeat it may record; the runner stops it before that.
        bound_s = FIRST_FRAME_S + self.staged.window(MAX_REPEATS + 1)[1] + 30.0
        args = [self.runner._python, "-m", "edge.cli.main", "node", "run", "--profile", str(profile),
                "--takes-dir", str(self.runner.takes_dir), "--stream", self.stream,
                "--control-port", self.control_url.rsplit(":", 1)[1], f"--control-token={self.token}",  # a token may start with "-"
                "--duration", f"{bound_s:.0f}", "--interval", "5"]
        with open(self.log_path, "wb") as log:
            try:
                self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                env=self.runner._env, start_new_session=True)
            except OSError as err:
                raise _Failed(f"cannot start the edge node ({args[0]}): {err}") from err

    def _exited(self) -> Optional[int]:
        return None if self.process is None else self.process.poll()

    def _plan_s(self, timecode) -> float:
        """Plan time (s) of a fused frame's timecode label."""
        from sensors.timecode.smpte import parse_timecode, timecode_to_seconds

        rig = self.staged.rig
        start_s = float(timecode_to_seconds(parse_timecode(rig.timecode.start, rig.timecode.frame_rate)))
        return float(timecode_to_seconds(timecode)) - start_s

    def wait_in_sync(self) -> int:
        """Master time (ns) of plan time 0, once :data:`SYNC_FRAMES` complete frames came in a row."""
        from edge.stream import FusedFrameSubscriber
        from sensors.vocabulary import SyncStatus

        in_sync = (SyncStatus.OK, SyncStatus.LATE)
        rig = self.staged.rig
        fps = float(rig.camera.frame_rate.fps)
        half_shutter_ns = rig.camera.shutter_angle_deg / 360.0 / fps / 2.0 * _NS_PER_S
        # Plan time by which the node must be in sync: the pre-roll of the last repeat it may take.
        latest_s = self.staged.window(MAX_REPEATS)[0] - PREROLL_S
        deadline = time.monotonic() + FIRST_FRAME_S
        epochs: List[float] = []
        with FusedFrameSubscriber(self.stream, rcv_hwm=4, consumer="onset-plan") as frames:
            while len(epochs) < SYNC_FRAMES:
                if self.runner.stopping:
                    raise _Interrupted()
                if self._exited() is not None:
                    raise self._fail(f"the edge node exited with status {self._exited()} before it was in sync")
                frame = frames.recv(timeout_ms=200)
                if frame is None:
                    if time.monotonic() > deadline:
                        raise self._fail(f"no fused frame from the edge node for {FIRST_FRAME_S:.0f} s", _NotInSync)
                    continue
                deadline = time.monotonic() + FIRST_FRAME_S
                if frame.timecode is None:
                    epochs.clear()
                    continue
                label_s = self._plan_s(frame.timecode)
                if label_s > latest_s:
                    raise self._fail(
                        f"the node was not in sync by plan time {latest_s:.1f} s, {MAX_REPEATS} repeats of the shot "
                        f"after its first at {self.staged.start_s:.1f} s", _NotInSync)
                if not all(entry.status in in_sync for entry in frame.sync):
                    epochs.clear()
                    continue
                epochs.append(frame.t_ns - half_shutter_ns - label_s * _NS_PER_S)
        return int(statistics.median(epochs))

    def record(self, epoch_ns: int) -> tuple:
        """Start the take at the pre-roll of the next repeat of the shot, stop it after the
        post-roll; ``(folder, frames, message)``."""
        from edge.recorder.errors import ControlError

        staged = self.staged
        scene, shot = plan_slate(staged.take, staged.seed)
        number = next_take_number(self.runner.takes_dir, scene, shot)
        # The first repeat whose pre-roll is still ahead (with a margin for the control API's answer).
        now_s = (time.time_ns() - epoch_ns) / _NS_PER_S
        repeat = max(0, math.ceil((now_s + PREROLL_S + _START_MARGIN_S - staged.start_s) / staged.period_s))
        start_s, end_s = staged.window(repeat)
        plan = staged.document(repeat)
        self.runner._sleep_until_ns(int(epoch_ns + (start_s - PREROLL_S) * _NS_PER_S))
        client = self._client()
        try:
            info = client.start(scene, shot, number, plan=plan)
        except ControlError as err:
            raise self._fail(f"the node refused to start {scene}/{shot}/{number}: {err}") from err
        self.folder, self._rolling = Path(info["path"]), True
        self.runner._sleep_until_ns(int(epoch_ns + (end_s + POSTROLL_S) * _NS_PER_S))
        self.wait_fused_past(end_s + POSTROLL_S)
        self._stop_take()
        try:
            frames, summary = check_take(self.folder, staged, plan, repeat)
        except TakeCheckError as err:
            raise _Failed(str(err)) from err
        return self.folder, frames, summary + (f", repeat {repeat} of the shot" if repeat else "")

    def wait_fused_past(self, plan_s: float) -> None:
        """Return once the node has fused a frame labelled at or after plan time ``plan_s``, or
        after :data:`CATCH_UP_S` (the take's check then says what it misses). On a busy box the
        node's frames can trail the wall clock; the take's TC out is its newest fused frame, and
        its bag holds what the node published, so a take stopped by the wall clock alone could
        end before the post-roll it was meant to keep."""
        from edge.stream import FusedFrameSubscriber

        deadline = time.monotonic() + CATCH_UP_S
        with FusedFrameSubscriber(self.stream, rcv_hwm=4, consumer="onset-plan") as frames:
            while time.monotonic() < deadline and not self.runner.stopping:
                frame = frames.recv(timeout_ms=200)
                if frame is not None and frame.timecode is not None and self._plan_s(frame.timecode) >= plan_s:
                    return

    def _stop_take(self) -> None:
        from edge.recorder.errors import ControlError

        if not self._rolling:
            return
        self._rolling = False
        try:
            info = self._client().stop()
        except ControlError as err:
            raise self._fail(f"the take in {self.folder} could not be stopped: {err}") from err
        if info.get("status") != "complete":
            raise self._fail(f"the take in {self.folder} ended {info.get('status')}: {info.get('error')}")

    def close(self) -> None:
        """Stop a rolling take (kept), then the node; kill its process group if it hangs."""
        try:
            self._stop_take()
        except _Failed:
            pass  # the node is gone; its take is recoverable (onset takes recover)
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=NODE_STOP_S)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """Kill the node's process group (the node and the stage's processes) and reap the node."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            pass
