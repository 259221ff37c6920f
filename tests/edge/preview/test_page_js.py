"""The page's own JavaScript tests (tests/edge/preview/js/*.test.mjs), run with Node's test runner.

The page's pure modules (edge/preview/static: the frame message, the clock sync, depth of field,
the monitor tools, captions, health, the socket's reconnection) are tested in JavaScript, where
they run; this runs those tests with ``node --test`` and fails with Node's own report when one
fails. Without ``node`` on the PATH the tests are skipped, saying so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

JS_TESTS = Path(__file__).resolve().parent / "js"
#: The fewest JavaScript tests a run must report: fewer means files were not found or not loaded.
MIN_TESTS = 60
#: Node releases that load the page's ES modules (plain .js files, no package.json) by themselves.
_DETECTS_MODULES = (22, 7)
_FLAG_FROM = (20, 10)


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the page's JavaScript tests need Node 20 or newer (apt-get install nodejs)")
    return node


def _version(node: str) -> tuple:
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    match = re.match(r"v(\d+)\.(\d+)", out)
    assert match, f"cannot read the version of {node}: {out!r}"
    return int(match.group(1)), int(match.group(2))


def _summary(output: str, key: str) -> int:
    match = re.search(rf"^# {key} (\d+)$", output, re.MULTILINE)
    return int(match.group(1)) if match else -1


def test_page_javascript():
    node = _node()
    version = _version(node)
    assert version >= _FLAG_FROM, f"node {version[0]}.{version[1]} is too old for the page's tests; Node 20.10+ is needed"
    files = sorted(JS_TESTS.glob("*.test.mjs"))
    assert files, f"no JavaScript tests in {JS_TESTS}"
    # The page's modules are .js files beside no package.json; Node before 22.7 reads them as ES
    # modules only when asked to detect the module syntax.
    flags = [] if version >= _DETECTS_MODULES else ["--experimental-detect-module"]
    result = subprocess.run(
        [node, *flags, "--test", "--test-reporter=tap", *[str(f) for f in files]],
        capture_output=True, text=True, timeout=240, cwd=JS_TESTS,
    )
    output = result.stdout + result.stderr
    tests, passed, failed = (_summary(output, k) for k in ("tests", "pass", "fail"))
    failures = "\n".join(line for line in output.splitlines() if line.lstrip().startswith("not ok"))
    assert result.returncode == 0 and failed == 0, f"JavaScript tests failed:\n{failures}\n\n{output[-6000:]}"
    assert tests >= MIN_TESTS and passed == tests, f"node ran {tests} tests, {passed} passed:\n{output[-3000:]}"
