"""The supervisor restarts a worker that dies, gives up on one that cannot run, leaves nothing running."""

from __future__ import annotations

import sys
import time

import psutil

from engines.worker import Supervisor
from tests.polling import wait_for

# A worker that dies the first two times it starts (counting in a file), then runs until stopped.
FLAKY = """
import os, sys, time
path = sys.argv[1]
n = int(open(path).read()) if os.path.exists(path) else 0
open(path, "w").write(str(n + 1))
print("start", n, "restarts", os.environ.get("ONSET_WORKER_RESTARTS"), flush=True)
if n < 2:
    sys.exit(3)
time.sleep(60)
"""


def test_a_worker_that_dies_is_restarted_and_told_how_often(tmp_path):
    counter = tmp_path / "starts"
    sup = Supervisor([sys.executable, "-c", FLAKY, str(counter)], name="flaky", backoff_s=0.05).start()
    try:
        assert wait_for(lambda: counter.exists() and counter.read_text() == "3" and sup.pid is not None, timeout_s=20)
        assert sup.restarts == 2 and sup.running and sup.failure is None
        pid = sup.pid
    finally:
        sup.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not sup.running


def test_a_worker_that_cannot_run_makes_the_supervisor_give_up_with_its_last_words(tmp_path):
    argv = [sys.executable, "-c", "print('model file is corrupt: checksum mismatch'); raise SystemExit(2)"]
    sup = Supervisor(argv, name="bad", backoff_s=0.01, max_backoff_s=0.02, max_restarts=3).start()
    assert sup.wait(20)
    assert sup.failure is not None and "died 4 times" in sup.failure
    assert "checksum mismatch" in sup.failure


def test_stop_kills_a_worker_that_ignores_sigterm(tmp_path):
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    sup = Supervisor([sys.executable, "-c", stubborn], name="stubborn", stop_timeout_s=0.5).start()
    assert wait_for(lambda: sup.pid is not None, timeout_s=10)
    time.sleep(0.3)  # let it install the handler
    pid = sup.pid
    started = time.monotonic()
    sup.stop()
    assert time.monotonic() - started < 5
    try:
        assert psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        pass
