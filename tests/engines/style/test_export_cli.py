"""`onset engines export style`: a look as one ONNX model for a frame size, refusals in one line."""

from __future__ import annotations

import json

import pytest

from edge.cli.main import main
from engines.style.model.colour import identity_colour
from engines.style.model.look import Look, save_look
from engines.style.model.texture import Vignette

pytest.importorskip("torch", reason="the export traces a torch module (not in the Python 3.10 venv)")


def test_a_look_is_exported_for_the_size_asked(tmp_path, capsys):
    look_file = save_look(Look("test-look", identity_colour(), Vignette(-0.3, 0.0)), tmp_path / "t.look.json")
    out = tmp_path / "export"
    assert main(["engines", "export", "style", "--look", str(look_file), "--size", "320x180", "--out", str(out)]) == 0
    card = json.loads((out / "card.json").read_text())
    assert card["look"] == "test-look" and (out / "look.onnx").is_file()
    assert "320x180" in capsys.readouterr().out
    assert main(["engines", "export", "style", "--look", str(look_file), "--size", "big", "--out", str(out)]) == 2
    assert "--size must be WxH" in capsys.readouterr().err
    assert main(["engines", "export", "style", "--look", "sepia", "--out", str(out)]) == 1
    assert "no look named 'sepia'" in capsys.readouterr().err
