"""Project rates in config (:mod:`config.rates`) against the vocabulary's :class:`FrameRate`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.models import CameraConfig, TimecodeConfig
from config.rates import RATES, as_frame_rate, nominal_fps, parse_rate
from sensors.vocabulary import FrameRate

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def test_config_and_the_vocabulary_know_the_same_rates():
    assert sorted(RATES.values()) == sorted(rate.value for rate in FrameRate)
    for label, value in RATES.items():
        rate = as_frame_rate(label)
        assert rate.value == value and rate.label == label and FrameRate.parse(label) is rate
        assert nominal_fps(label) == rate.nominal_fps


@pytest.mark.parametrize("text, label", [
    ("29.97 df", "29.97DF"), ("29.97NDF", "29.97"), (" 59.94DF ", "59.94DF"), (24, "24"), ("24.0", "24"),
    (25.0, "25"), ("23.976", "23.976"), ("60", "60"),
])
def test_parse_rate_reads_what_profiles_write(text, label):
    assert parse_rate(text) == label
    assert as_frame_rate(text) is FrameRate.parse(text)


@given(st.one_of(st.text(max_size=8), st.integers(-5, 200), st.floats(allow_nan=True)))
def test_parse_rate_agrees_with_the_vocabulary_on_any_input(text):
    try:
        expected = FrameRate.parse(text)
    except ValueError:
        with pytest.raises(ValueError, match="unknown frame rate"):
            parse_rate(text)
    else:
        assert as_frame_rate(text) is expected


def test_models_validate_rates_through_config_rates():
    assert CameraConfig(fps="29.97DF").frame_rate is FrameRate.FPS_29_97_DF
    assert TimecodeConfig(rate="50", start="01:00:00:00").frame_rate is FrameRate.FPS_50
    for bad in ("31", "29.97DFX", ""):
        with pytest.raises(ValueError, match="unknown frame rate"):
            CameraConfig(fps=bad)
        with pytest.raises(ValueError, match="unknown frame rate"):
            TimecodeConfig(rate=bad)


def _module_level_imports(tree: ast.Module):
    """Imports a module runs when imported: top level and inside top-level if/try blocks, except
    ``if TYPE_CHECKING:``; function bodies (deferred imports) are not followed."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.If):
            if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                stack.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            stack.extend(node.body + node.orelse + node.finalbody + [n for h in node.handlers for n in h.body])


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_config_module_imports_sensors(path):
    imported = list(_module_level_imports(ast.parse(path.read_text(), str(path))))
    assert imported, "the walk found no import at all"
    assert not [name for name in imported if name == "sensors" or name.startswith("sensors.")]


def test_importing_config_loads_no_sensors_module():
    code = "import sys, config, config.models; print(sorted(m for m in sys.modules if m.split('.')[0] == 'sensors'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=CONFIG_DIR.parent, check=True)
    assert out.stdout.strip() == "[]"
