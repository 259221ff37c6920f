"""Looks: the style worker's list and switches (its control socket), and the ``.cube`` of a look.

:class:`LookLink` asks the style worker's control endpoint (ZeroMQ REQ/REP JSON,
:func:`engines.style.worker.request_look`) for its looks once a second, so the page offers what
the running worker can switch to, and sends switches there: the worker styles the next frame it
takes with the new look (within two frames). A worker that does not answer leaves the ``looks``
source ``waiting``/``late``/``gone``; a switch then fails with :class:`LookUnavailable`.

:class:`LutExport` bakes a look's colour part as a ``.cube`` (the function ``onset style
export-lut`` uses, :func:`engines.style.colour.write_look_lut`) and keeps the newest few bytes
in memory: a 33-point LUT takes a fraction of a second to bake.
"""

from __future__ import annotations

import re
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from edge.preview.errors import PreviewError
from edge.preview.sources import SourceState
from edge.preview.threads import SourceThread

__all__ = ["LookUnavailable", "UnknownLook", "LookLink", "LutExport", "LOOK_NAME"]

#: What a look's name may be (a shipped one, a looks_dir one, ``off``).
LOOK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_POLL_TIMEOUT_MS = 500
_SWITCH_TIMEOUT_MS = 500
_LUTS_KEPT = 16


class LookUnavailable(PreviewError):
    """No style worker answers on its control endpoint."""


class UnknownLook(PreviewError):
    """A look the worker (or the preview) does not offer; the message lists the ones it does."""


class LookLink(SourceThread):
    """The style worker's control endpoint (module docstring)."""

    #: A poll waiting on its answer is left behind (a daemon that only reads).
    close_wait_s = 0.5

    def __init__(self, endpoint: str, state: SourceState, interval_s: float = 1.0) -> None:
        super().__init__("preview-looks")
        self.endpoint = endpoint
        self.state = state
        self._interval_s = float(interval_s)
        self._lock = threading.Lock()
        self._looks: List[str] = []
        self._current: Optional[str] = None
        self.switches = 0

    @property
    def looks(self) -> List[str]:
        """The looks the worker offers (empty until it has answered)."""
        with self._lock:
            return list(self._looks)

    @property
    def current(self) -> Optional[str]:
        with self._lock:
            return self._current

    def _ask(self, request: Dict[str, Any], timeout_ms: int) -> Dict[str, Any]:
        import zmq

        from engines.style.worker import request_look

        try:
            answer = request_look(self.endpoint, request, timeout_ms=timeout_ms)
        except zmq.ZMQError as err:
            raise LookUnavailable(f"cannot reach the style worker's control endpoint {self.endpoint}: {err}") from None
        except TimeoutError:
            raise LookUnavailable(f"no style worker answers at {self.endpoint} (start it with "
                                  "`onset node run --engines` or `onset engines serve style`)") from None
        except ValueError as err:  # an answer that is not JSON
            raise LookUnavailable(f"the style worker at {self.endpoint} answered something unreadable: {err}") from None
        if not isinstance(answer, dict):
            raise LookUnavailable(f"the style worker at {self.endpoint} answered {answer!r:.60}, not an object")
        return answer

    def poll(self) -> None:
        """Ask for the worker's looks once; the source says how it went."""
        try:
            answer = self._ask({"looks": True}, _POLL_TIMEOUT_MS)
        except LookUnavailable as err:
            self.state.problem(str(err))
            return
        looks = answer.get("looks")
        if not answer.get("ok") or not isinstance(looks, list):
            self.state.problem(f"the style worker did not list its looks: {answer.get('error')!r:.80}")
            return
        with self._lock:
            self._looks = [str(name) for name in looks]
            self._current = None if answer.get("look") is None else str(answer.get("look"))
        self.state.heard()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self._interval_s)

    def switch(self, name: str) -> str:
        """Make ``name`` the worker's look from its next frame; the look it answers with.
        :class:`UnknownLook` (naming the offered looks) or :class:`LookUnavailable`."""
        answer = self._ask({"look": name}, _SWITCH_TIMEOUT_MS)
        if not answer.get("ok"):
            raise UnknownLook(str(answer.get("error") or f"the style worker refused look {name!r}"))
        look = str(answer.get("look", name))
        with self._lock:
            self._current = look
        self.switches += 1
        return look


def _offered_looks(looks_dir: Optional[Path]) -> Dict[str, Any]:
    """name -> look file path (None for ``off``) of every look this machine has (as the worker offers them)."""
    from engines.style.model.look import LOOK_SUFFIX, load_look
    from engines.style.model.shipped import OFF, SHIPPED_LOOKS_DIR, shipped_look_names

    offered: Dict[str, Any] = {name: SHIPPED_LOOKS_DIR / f"{name}{LOOK_SUFFIX}" for name in shipped_look_names()}
    if looks_dir is not None and Path(looks_dir).is_dir():
        for path in sorted(Path(looks_dir).glob(f"*{LOOK_SUFFIX}")):
            try:
                offered[load_look(path).name] = path
            except Exception:  # noqa: BLE001 - a broken file is not offered; the worker says why
                continue
    offered[OFF] = None
    return offered


class LutExport:
    """``.cube`` bytes of the looks this machine has (module docstring); ``looks_dir`` as the worker's."""

    def __init__(self, looks_dir: Optional[Path] = None) -> None:
        self._looks_dir = looks_dir
        self._lock = threading.Lock()
        self._kept: "OrderedDict[Tuple[str, int, str], bytes]" = OrderedDict()
        self.baked = 0

    def names(self) -> List[str]:
        return list(_offered_looks(self._looks_dir))

    def cube(self, name: str, size: int, encoding: str) -> bytes:
        """The ``.cube`` of look ``name`` at ``size`` points for ``encoding`` input. UnknownLook
        names the looks; a bad size or encoding is the colour package's own error (a ValueError)."""
        from engines.style.colour import ENCODINGS, LUT_SIZES, write_look_lut
        from engines.style.model.look import colour_only, identity_look, load_look

        if size not in LUT_SIZES:
            raise ValueError(f"size must be one of {', '.join(map(str, LUT_SIZES))}, got {size}")
        if encoding not in ENCODINGS:
            raise ValueError(f"input must be one of {', '.join(ENCODINGS)}, got {encoding!r:.40}")
        offered = _offered_looks(self._looks_dir)
        if not LOOK_NAME.match(name) or name not in offered:
            raise UnknownLook(f"no look named {name!r:.70}; the looks are {', '.join(offered)}")
        key = (name, int(size), encoding)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
            path = offered[name]
            look = identity_look(name) if path is None else load_look(path)
            with tempfile.TemporaryDirectory(prefix="onset-preview-lut-") as folder:
                out = write_look_lut(lambda rgb: colour_only(rgb, look), Path(folder) / f"{name}.cube",
                                     int(size), encoding, look.name)
                data = out.read_bytes()
            self._kept[key] = data
            self.baked += 1
            while len(self._kept) > _LUTS_KEPT:
                self._kept.popitem(last=False)
            return data
