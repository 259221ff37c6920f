"""`make demo` on ports of its own, and Debian's chromium driven by Playwright, for the preview's
browser tests and its benchmark.

:class:`RunningDemo` runs ``onset node run --engines --preview`` on the sim-stage profile moved
onto free loopback ports (every UDP input, the fused-frame stream, both engines' endpoints, the
control API and the preview), takes into a folder of the caller's, and reads the page's address
(token included) from what the node prints. :func:`launch_chromium` starts Debian's chromium
headless with the flags this machine's closed network needs; no browser is downloaded.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, List, Optional

import yaml

from sensors.ports import free_loopback_port
from tests.e2e.support import ProcessOutput, sim_profile_on_free_ports

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "RunningDemo", "chromium_path", "launch_chromium"]

ROOT = Path(__file__).resolve().parents[2]
#: Where Debian's chromium package puts the browser.
CHROMIUM = "/usr/bin/chromium"
#: Headless, no sandbox (root), and none of the background connections a closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def chromium_path() -> Optional[str]:
    """Debian's chromium, or another on the PATH; None when there is none."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch_chromium(playwright: Any):
    """A headless chromium browser (Playwright's ``Browser``) on Debian's executable."""
    path = chromium_path()
    if path is None:
        raise RuntimeError("no chromium: `make setup` installs Debian's chromium package")
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)


def _tcp() -> str:
    return f"tcp://127.0.0.1:{free_loopback_port(socket.SOCK_STREAM)}"


class RunningDemo(ProcessOutput):
    """``onset node run --engines --preview`` in a subprocess group of its own (module docstring)."""

    def __init__(self, tmp_path: Path, duration_s: float = 300.0, ros: bool = False,
                 token: str = "demo-token-0123456789", control_token: str = "control-token-0123456789") -> None:
        self.tmp_path = Path(tmp_path)
        self.takes_dir = self.tmp_path / "takes"
        self.token = token
        self.preview_port = free_loopback_port(socket.SOCK_STREAM)
        self.stream = _tcp()
        profile = self.tmp_path / "sim.yaml"
        style = {"results_endpoint": _tcp(), "styled_endpoint": _tcp(), "control_endpoint": _tcp()}
        sim_profile_on_free_ports(profile, engines={"captioner": {"results_endpoint": _tcp()}, "style": style},
                                  preview={"port": self.preview_port})
        self.foxglove_url = f"ws://127.0.0.1:{yaml.safe_load(profile.read_text())['foxglove']['port']}"
        domain = str(215 + os.getpid() % 9)  # DDS ports clear of Linux's ephemeral range
        self.env = dict(os.environ, PYTHONUNBUFFERED="1", ROS_DOMAIN_ID=domain, ROS_LOCALHOST_ONLY="1",
                        ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST", ONSET_PREVIEW_TOKEN=token)
        args = [sys.executable, "-m", "edge.cli.main", "node", "run", "--profile", str(profile),
                "--duration", str(duration_s), "--takes-dir", str(self.takes_dir), "--stream", self.stream,
                "--control-port", "0", "--control-token", control_token, "--engines", "--preview",
                "--interval", "5"]
        if not ros:
            args.append("--no-ros")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        cwd=ROOT, env=self.env, start_new_session=True)
        self._follow()

    def page_url(self, timeout_s: float = 90.0) -> str:
        """The live page's address as the node printed it (``http://127.0.0.1:PORT/#token=...``),
        once the preview server answers there (the node prints it as it starts the server, which
        takes a few seconds more to listen)."""
        import urllib.error
        import urllib.request

        url = self.wait_for(r"live preview: open (http://\S+)", timeout_s).group(1)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2.0) as answer:
                    if answer.status == 200:
                        return url
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"the preview never answered on {self.base_url}:\n{self.output[-4000:]}")
            time.sleep(0.2)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.preview_port}"

    def preview_pids(self) -> List[int]:
        """Process ids of the preview server (the node's supervised ``onset preview`` child)."""
        import psutil

        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        return [p.pid for p in children if " preview " in f" {' '.join(p.cmdline())} "]

    def stop(self, timeout_s: float = 60.0) -> None:
        """SIGINT, as Ctrl-C; the whole group is killed if the node has not stopped in ``timeout_s``."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        finally:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # anything of the group left behind
            except ProcessLookupError:
                pass
            self._reader.join(timeout=5)
