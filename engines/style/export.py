"""A look as ONNX for one frame size: the whole look (texture and colour), run on any runtime.

``export_look(look, out_dir, height, width)`` writes into ``out_dir``:

* ``look.onnx``: :class:`engines.style.torch_look.LookNet` exported by
  :func:`engines.runtime.export_onnx` (static shapes, opset 17 unless asked, ``onnx.checker`` with
  full shape inference, the weights hash in its metadata), model name ``style-look``. Inputs:
  ``frame`` (1, 3, H, W) float32 Rec.709 code values in [0, 1] and, when the look has grain,
  ``grain`` (1, 3, H, W) float32 unit noise (``grain_noise``'s field, channels first); output
  ``styled`` (1, 3, H, W) float32 in [0, 1];
* ``look.pt``: its state dict, for the torch backend (its factory is registered when
  ``engines.style.torch_look`` is imported, as ``export_look`` does);
* ``look.json``: the look itself (the given file's bytes, or what ``save_look`` writes);
* ``card.json``: the look's name, the SHA-256 of ``look.json``, the frame size, the model's
  inputs and outputs, its weights hash, opset, and which texture parts it holds.

A model is for the frame size it was exported for. A session refuses a frame of another size,
naming both shapes (``frame: expected float32 (1, 3, 360, 640), got float32 (1, 3, 1080, 1920)``,
:class:`engines.runtime.InputSpecError`); pass :func:`style_input_specs` as ``expected_inputs``
to ``backend.load`` to refuse the file at load instead (:class:`engines.runtime.ModelMismatchError`).
Importing this module imports no torch (only ``export_look`` does): a worker on ONNX Runtime uses
:func:`style_input_specs`, :func:`read_card`, :func:`frame_feeds` and :func:`styled_frame` without
it. docs/style-runtimes.md has the parity figures and the benchmark.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import numpy as np

from engines.runtime import DEFAULT_OPSET, TensorSpec, export_onnx
from engines.style.model.errors import StyleModelError
from engines.style.model.look import Look, load_look, save_look

__all__ = ["MODEL_NAME", "FRAME_INPUT", "GRAIN_INPUT", "OUTPUT", "MODEL_FILE", "LOOK_FILE", "CARD_FILE",
           "CARD_FORMAT", "StyleExportError", "style_input_specs", "export_look", "read_card", "frame_feeds",
           "styled_frame"]

#: The model name the export records and the torch backend's factory is registered under.
MODEL_NAME = "style-look"
FRAME_INPUT = "frame"
GRAIN_INPUT = "grain"
OUTPUT = "styled"
MODEL_FILE = "look.onnx"
LOOK_FILE = "look.json"
CARD_FILE = "card.json"
CARD_FORMAT = "onset-style-export/1"


class StyleExportError(StyleModelError, ValueError):
    """A look cannot be exported as asked (frame size, look), or an export folder is not one."""


def _frame_size(height: Any, width: Any) -> Tuple[int, int]:
    if isinstance(height, bool) or isinstance(width, bool) or not (
            isinstance(height, (int, np.integer)) and isinstance(width, (int, np.integer))):
        raise StyleExportError(f"the frame size must be whole pixels; got height {height!r}, width {width!r}")
    if height < 1 or width < 1:
        raise StyleExportError(f"the frame size must be positive; got {width}x{height} (width x height)")
    return int(height), int(width)


def style_input_specs(height: int, width: int, grain: bool = True) -> Tuple[TensorSpec, ...]:
    """The inputs of a look exported for ``height`` x ``width`` frames (``grain``: the look has grain)."""
    height, width = _frame_size(height, width)
    shape = (1, 3, height, width)
    specs = [TensorSpec(FRAME_INPUT, shape, "float32")]
    if grain:
        specs.append(TensorSpec(GRAIN_INPUT, shape, "float32"))
    return tuple(specs)


def _look_and_bytes(look: Union[Look, str, Path], out: Path) -> Tuple[Look, bytes]:
    """The look, and its file's bytes written to ``out / LOOK_FILE``."""
    target = out / LOOK_FILE
    if isinstance(look, Look):
        save_look(look, target)
        return look, target.read_bytes()
    if isinstance(look, (str, Path)):
        loaded = load_look(look)  # refuses what is not a look file
        if Path(look).resolve() != target.resolve():
            shutil.copyfile(look, target)
        return loaded, target.read_bytes()
    raise StyleExportError(f"look must be a Look or a look file's path, got {type(look).__name__}")


def export_look(look: Union[Look, str, Path], out_dir: Union[str, Path], height: int, width: int, *,
                opset: int = DEFAULT_OPSET) -> Dict[str, Any]:
    """Export ``look`` (a :class:`Look` or a look file) for ``height`` x ``width`` frames into
    ``out_dir`` (module docstring); returns the card, also written as ``card.json``."""
    import torch

    from engines.style.torch_look import LookNet

    height, width = _frame_size(height, width)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    look, look_bytes = _look_and_bytes(look, out)
    net = LookNet.from_look(look, height, width)
    shape = (1, 3, height, width)
    generator = torch.Generator().manual_seed(0)
    examples = {FRAME_INPUT: torch.rand(shape, generator=generator)}
    if look.grain is not None:
        examples[GRAIN_INPUT] = torch.randn(shape, generator=generator)
    info = export_onnx(net, examples, out / MODEL_FILE, model_name=MODEL_NAME, config=net.config, opset=opset)
    halation = look.halation.to_dict() if net.halation else None
    card = {
        "format": CARD_FORMAT,
        "look": look.name,
        "look_file": LOOK_FILE,
        "look_sha256": hashlib.sha256(look_bytes).hexdigest(),
        "frame": {"height": height, "width": width},
        "model_file": MODEL_FILE,
        "model_name": MODEL_NAME,
        "model_sha256": info.model_sha256,
        "opset": opset,
        "inputs": [s.to_json() for s in info.inputs],
        "outputs": [s.to_json() for s in info.outputs],
        "texture": {"vignette": net.vignette, "halation": halation, "grain": look.grain is not None},
    }
    (out / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return card


def read_card(out_dir: Union[str, Path]) -> Dict[str, Any]:
    """The card of the export in ``out_dir``; a missing, unreadable or foreign card is refused."""
    path = Path(out_dir) / CARD_FILE
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StyleExportError(f"no {CARD_FILE} in {out_dir}; export the look with engines.style.export") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise StyleExportError(f"{path} is not a readable card (JSON expected): {err}") from err
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise StyleExportError(f"{path} is not an {CARD_FORMAT} card (format {card.get('format')!r})"
                               if isinstance(card, dict) else f"{path} is not an {CARD_FORMAT} card")
    return card


def frame_feeds(rgb: np.ndarray, noise: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
    """The model's inputs for one (H, W, 3) frame (float in [0, 1], or uint8) and, for a look with
    grain, its (H, W, 3) unit noise field: channels first, batch of one, float32."""
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[2] != 3:
        raise StyleExportError(f"a frame must be (H, W, 3) RGB; got shape {a.shape}")
    frame = a.astype(np.float32) / np.float32(255.0) if a.dtype == np.uint8 else a.astype(np.float32)
    feeds = {FRAME_INPUT: np.ascontiguousarray(frame.transpose(2, 0, 1)[None])}
    if noise is not None:
        n = np.asarray(noise)
        if n.shape != a.shape:
            raise StyleExportError(f"the grain field must be shaped like the frame {a.shape}; got {n.shape}")
        feeds[GRAIN_INPUT] = np.ascontiguousarray(n.astype(np.float32).transpose(2, 0, 1)[None])
    return feeds


def styled_frame(outputs: Mapping[str, np.ndarray]) -> np.ndarray:
    """The (H, W, 3) float32 styled frame of a session's outputs."""
    return np.ascontiguousarray(np.asarray(outputs[OUTPUT])[0].transpose(1, 2, 0))
