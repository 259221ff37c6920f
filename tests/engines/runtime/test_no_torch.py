"""The ONNX Runtime path needs no torch: importing the package and running a model import none of it."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

_RUN = """
import json, sys
{prelude}
import numpy as np
import engines.runtime as rt
rng = np.random.default_rng(1)
with rt.choose("onnxruntime-cpu").load(sys.argv[1]) as session:
    feeds = {{s.name: rng.random(s.shape).astype(s.dtype) for s in session.input_specs}}
    out = session.run(feeds)
status = {{s.name: [s.available, s.reason] for s in rt.list_backends()}} if {list_all} else {{}}
print(json.dumps({{"outputs": sorted(out), "torch": "torch" in sys.modules and sys.modules["torch"] is not None,
                   "status": status}}))
"""


def _run(model: Path, prelude: str = "", list_all: bool = False) -> dict:
    code = textwrap.dedent(_RUN.format(prelude=prelude, list_all=list_all))
    done = subprocess.run([sys.executable, "-c", code, str(model)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_running_on_onnxruntime_imports_no_torch(tiny_model):
    result = _run(tiny_model)
    assert result["outputs"] == ["distance_m", "logits"]
    assert result["torch"] is False


def test_without_torch_the_torch_backends_say_so_and_onnxruntime_still_runs(tiny_model):
    result = _run(tiny_model, prelude="sys.modules['torch'] = None  # as if torch were not installed", list_all=True)
    assert result["outputs"] == ["distance_m", "logits"]
    status = result["status"]
    assert status["torch-cpu"] == [False, "torch is not installed (install torch; the Makefile installs the CPU wheel)"]
    assert status["torch-cuda"][0] is False and status["tensorrt"][0] is False
    assert status["onnxruntime-cpu"][0] is True
