"""The look as ONNX: every backend against the torch reference, the torch reference against
``style_frame``, the card, and the refusals.

Tolerances: backends against the torch reference at the runtime's fp32 tolerance (atol 1e-4,
rtol 1e-3, ``engines.runtime.TOLERANCES``); the torch reference against numpy ``style_frame``
given the same grain field within :data:`NUMPY_ATOL` (1e-5 of code value) at every pixel: float32
against float64 leaves 5e-7, and a halation kernel cut at 4 sigma (instead of the FFT's own
blur) leaves 8.5e-5, which a tolerance of 1e-4 would let through. Each
test look is made here by hand, with every part strong enough that leaving it out, or getting it
wrong, moves some pixel by far more than the tolerance (checked first, in each test).
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

pytest.importorskip("torch", reason="torch is not installed (the Python 3.10 venv has none); the style export needs it")
import torch  # noqa: E402

from engines.runtime import (  # noqa: E402
    TOLERANCES, InputSpecError, ModelMismatchError, check_parity, create_backend, list_backends,
)
from engines.runtime.parity import REFERENCE_BACKEND  # noqa: E402
from engines.style.export import (  # noqa: E402
    CARD_FILE, LOOK_FILE, MODEL_FILE, StyleExportError, export_look, frame_feeds, read_card, style_input_specs,
    styled_frame,
)
from engines.style.model.colour import ColourTransform  # noqa: E402
from engines.style.model.look import Look, style_frame  # noqa: E402
from engines.style.model.shipped import resolve_look, shipped_look_names  # noqa: E402
from engines.style.model.texture import Grain, Halation, Vignette, gaussian_blur, grain_noise  # noqa: E402
from engines.style.torch_look import LookNet, blur_matrix  # noqa: E402
from tests.engines.style.model.synth import scene  # noqa: E402

torch.set_num_threads(1)

NUMPY_ATOL = 1e-5
H, W = 72, 128

_X = np.linspace(0.0, 1.0, 33)
_V = np.linspace(-0.5, 1.5, 33)
#: Input curves unlike each other and unlike the identity; output curves with lift and gain.
IN_CURVES = np.stack([_X ** 0.7, _X ** 1.0 * (1 - 0.2 * _X * (1 - _X)), _X ** 1.4])
OUT_CURVES = np.stack([0.02 + 0.95 * np.clip(_V, 0, 1) ** 0.9, 0.01 + 0.97 * np.clip(_V, 0, 1),
                       0.05 + 0.9 * np.clip(_V, 0, 1) ** 1.1]) + 0.05 * (_V[None, :] - 0.5)
#: A crosstalk far from symmetric, so a transposed matrix shows.
MATRIX = np.array([[0.85, 0.13, 0.02], [0.03, 0.87, 0.10], [0.01, 0.22, 0.77]])


def _grain(levels):
    levels = np.asarray(levels, np.float64)
    shape = 0.01 + 0.08 * levels * (1 - levels)
    rms = np.stack([shape, 1.2 * shape, 1.5 * shape + 0.005])
    corr = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.5], [0.3, 0.5, 1.0]])
    freq = np.linspace(0.0, 0.71, 34)
    return Grain(levels, rms, corr, freq, np.exp(-8.0 * freq), 640)


EVEN_LEVELS = (np.arange(16) + 0.5) / 16  # as estimate_grain makes them
UNEVEN_LEVELS = np.array([0.0, 0.05, 0.12, 0.3, 0.5, 0.62, 0.8, 0.93, 1.0])


def _looks():
    colour = ColourTransform(IN_CURVES, MATRIX, OUT_CURVES)
    halation = Halation(threshold=0.3, sigma_frac=0.03, gain_rgb=(0.45, 0.15, 0.02))
    return {
        "full": Look("full", colour, Vignette(-0.5, -0.3), halation, _grain(EVEN_LEVELS)),
        "uneven-grain": Look("uneven-grain", colour, Vignette(-0.2, 0.0), halation, _grain(UNEVEN_LEVELS)),
        "colour-only": Look("colour-only", colour),
    }


LOOKS = _looks()


def _frame(seed=1):
    """A smooth bright frame (red well over the halation threshold) with black, white and the input
    curves' knots (spaced in sqrt) written into its first rows."""
    rgb = scene(H, W, seed, exposure=3.0).copy()
    rgb[0, :3] = 0.0
    rgb[0, 3:6] = 1.0
    knots = (np.arange(33) / 32.0) ** 2
    rgb[1, :33] = knots[:, None]
    return rgb


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Each test look exported for H x W."""
    out = {}
    for name, look in LOOKS.items():
        folder = tmp_path_factory.mktemp(name)
        out[name] = (folder, export_look(look, folder, H, W))
    return out


def _inputs(name, seed=1):
    look = LOOKS[name]
    rgb = _frame(seed)
    noise = None if look.grain is None else grain_noise(H, W, look.grain, seed=seed)
    return rgb, noise, frame_feeds(rgb, noise)


# -- parity ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(LOOKS))
def test_every_available_backend_matches_the_torch_reference(exports, name):
    folder, _ = exports[name]
    _, _, feeds = _inputs(name)
    report = check_parity(folder / MODEL_FILE, feeds)
    print(report.describe())
    assert report.ok, report.describe()
    statuses = {s.name: s for s in list_backends()}
    assert {r.backend for r in report.results} | set(dict(report.skipped)) == set(statuses) - {REFERENCE_BACKEND}
    assert "onnxruntime-cpu" in {r.backend for r in report.results}
    for result in report.results:
        assert all(o.tolerance == TOLERANCES[result.precision] for o in result.outputs)


@pytest.mark.parametrize("name", sorted(LOOKS))
@pytest.mark.parametrize("backend", ["torch-cpu", "onnxruntime-cpu"])
def test_the_model_computes_what_style_frame_does(exports, name, backend):
    look = LOOKS[name]
    rgb, noise, feeds = _inputs(name)
    expected = style_frame(rgb, look, noise=noise)
    # Each part of the look moves the frame by far more than the tolerance, so none can be lost unseen.
    if look.grain is not None:
        assert np.abs(style_frame(rgb, look, noise=np.zeros_like(noise)) - expected).max() > 1000 * NUMPY_ATOL
    if look.halation.sigma_frac > 0:
        bare = Look(look.name, look.colour, look.vignette, grain=look.grain)
        assert np.abs(style_frame(rgb, bare, noise=noise) - expected).max() > 1000 * NUMPY_ATOL
    folder, _ = exports[name]
    with create_backend(backend).load(folder / MODEL_FILE) as session:
        got = styled_frame(session.run(feeds))
    worst = float(np.abs(got - expected).max())
    print(f"{name} on {backend}: max |model - style_frame| = {worst:.2e}")
    assert got.shape == (H, W, 3) and got.dtype == np.float32
    assert worst <= NUMPY_ATOL


@pytest.mark.parametrize("name", shipped_look_names())
def test_each_shipped_look_exports_to_what_style_frame_computes(tmp_path, name):
    look = resolve_look(name)
    rgb = _frame(seed=2)
    noise = None if look.grain is None else grain_noise(H, W, look.grain, seed=2)
    export_look(look, tmp_path, H, W)
    with create_backend("onnxruntime-cpu").load(tmp_path / MODEL_FILE) as session:
        got = styled_frame(session.run(frame_feeds(rgb, noise)))
    worst = float(np.abs(got - style_frame(rgb, look, noise=noise)).max())
    print(f"shipped {name} on onnxruntime-cpu: max |model - style_frame| = {worst:.2e}")
    assert worst <= NUMPY_ATOL


def test_the_parts_a_look_has_are_the_parts_the_module_has():
    full = LookNet.from_look(LOOKS["full"], H, W)
    bare = LookNet.from_look(LOOKS["colour-only"], H, W)
    assert full.vignette and full.halation and full.grain_levels == 16 and full.grain_even
    assert not LookNet.from_look(LOOKS["uneven-grain"], H, W).grain_even
    assert not bare.vignette and not bare.halation and bare.grain_levels == 0
    assert "halation_columns" in full.state_dict() and "halation_columns" not in bare.state_dict()
    assert "vignette_gain" in full.state_dict() and "vignette_gain" not in bare.state_dict()


@pytest.mark.parametrize("sigma_px", [0.32, 1.6, 3.84, 40.0])
def test_the_blur_matrices_are_the_fft_blur_itself(sigma_px):
    # sub-pixel (push1 at 128 px wide), small, the test looks' 3.8 px, and wider than the frame
    plane = np.random.default_rng(0).random((24, 40)) * (np.random.default_rng(1).random((24, 40)) > 0.7)
    rows, columns = blur_matrix(sigma_px, 24), blur_matrix(sigma_px, 40)
    assert np.abs(rows - rows.T).max() < 1e-15 and np.abs(columns - columns.T).max() < 1e-15
    assert np.abs(np.maximum(rows @ plane @ columns, 0.0) - gaussian_blur(plane, sigma_px)).max() < 1e-12


def test_a_wide_blur_matrix_is_the_sampled_gaussian_zero_outside_the_frame():
    sigma = 3.84
    band = blur_matrix(sigma, 64)
    taps = np.arange(64)
    gauss = np.exp(-0.5 * (taps / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    assert np.abs(band[0] - gauss).max() < 1e-9  # row 0: no light from above the frame
    assert np.abs(band[32] - gauss[np.abs(taps - 32)]).max() < 1e-9


# -- the export and its card ----------------------------------------------------------------------------

def test_the_export_is_a_checked_static_onnx_with_a_card(exports):
    folder, card = exports["full"]
    model = onnx.load(str(folder / MODEL_FILE))
    onnx.checker.check_model(model, full_check=True)
    assert min(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
    assert [i.name for i in model.graph.input] == ["frame", "grain"]
    assert [o.name for o in model.graph.output] == ["styled"]
    for value in [*model.graph.input, *model.graph.output]:
        assert [d.dim_value for d in value.type.tensor_type.shape.dim] == [1, 3, H, W]
    assert json.loads((folder / CARD_FILE).read_text()) == card == read_card(folder)
    assert card["look"] == "full" and card["frame"] == {"height": H, "width": W}
    assert card["look_sha256"] == hashlib.sha256((folder / LOOK_FILE).read_bytes()).hexdigest()
    assert [i["name"] for i in card["inputs"]] == ["frame", "grain"] and card["outputs"][0]["name"] == "styled"
    assert card["texture"]["grain"] and card["texture"]["halation"]["sigma_frac"] == 0.03


def test_a_look_without_grain_takes_the_frame_alone(exports):
    folder, card = exports["colour-only"]
    assert [i["name"] for i in card["inputs"]] == ["frame"]
    assert card["texture"] == {"vignette": False, "halation": None, "grain": False}


def test_a_look_file_is_exported_with_its_own_bytes(tmp_path):
    path = tmp_path / "mine.look.json"  # laid out unlike save_look's output: its bytes are its own
    path.write_text(json.dumps(LOOKS["colour-only"].to_dict(), indent=3, sort_keys=True))
    card = export_look(path, tmp_path / "out", 8, 16)
    assert card["look_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (tmp_path / "out" / LOOK_FILE).read_bytes() == path.read_bytes()


@pytest.mark.parametrize("size", [(0, 16), (8, -1), (8.0, 16), (True, 16)])
def test_a_frame_size_that_is_not_whole_positive_pixels_is_refused(tmp_path, size):
    with pytest.raises(StyleExportError, match="frame size"):
        export_look(LOOKS["colour-only"], tmp_path, *size)


_TORCH_FREE = """
import sys
sys.modules["torch"] = None  # as if torch were not installed
from pathlib import Path
import numpy as np
from engines.runtime import create_backend
from engines.style.export import MODEL_FILE, frame_feeds, read_card, style_input_specs, styled_frame
folder, scratch = Path(sys.argv[1]), Path(sys.argv[2])
card = read_card(folder)
specs = style_input_specs(card["frame"]["height"], card["frame"]["width"], grain=card["texture"]["grain"])
with create_backend("onnxruntime-cpu").load(folder / MODEL_FILE, expected_inputs=specs) as session:
    out = session.run(frame_feeds(np.load(scratch / "rgb.npy"), np.load(scratch / "noise.npy")))
np.save(scratch / "styled.npy", styled_frame(out))
"""


def test_a_worker_on_onnxruntime_needs_no_torch(exports, tmp_path):
    folder, _ = exports["full"]
    rgb, noise, _ = _inputs("full")
    np.save(tmp_path / "rgb.npy", rgb)
    np.save(tmp_path / "noise.npy", noise)
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", _TORCH_FREE, str(folder), str(tmp_path)], cwd=root,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    got = np.load(tmp_path / "styled.npy")
    assert np.abs(got - style_frame(rgb, LOOKS["full"], noise=noise)).max() <= NUMPY_ATOL


# -- refusals at run and at load ------------------------------------------------------------------------

def test_a_frame_of_another_size_is_refused_naming_both_sizes(exports):
    folder, _ = exports["full"]
    other = frame_feeds(np.zeros((H * 2, W * 2, 3), np.float32), np.zeros((H * 2, W * 2, 3), np.float32))
    for backend in ("torch-cpu", "onnxruntime-cpu"):
        with create_backend(backend).load(folder / MODEL_FILE) as session:
            with pytest.raises(InputSpecError) as err:
                session.run(other)
    message = str(err.value)
    assert f"frame: expected float32 (1, 3, {H}, {W}), got float32 (1, 3, {2 * H}, {2 * W})" in message
    assert f"grain: expected float32 (1, 3, {H}, {W}), got float32 (1, 3, {2 * H}, {2 * W})" in message


def test_a_model_for_another_size_is_refused_at_load(exports):
    folder, _ = exports["full"]
    with pytest.raises(ModelMismatchError) as err:
        create_backend("onnxruntime-cpu").load(folder / MODEL_FILE, expected_inputs=style_input_specs(1080, 1920))
    assert f"the engine feeds float32 (1, 3, 1080, 1920), the model was exported for float32 (1, 3, {H}, {W})" in \
        str(err.value)
    create_backend("onnxruntime-cpu").load(folder / MODEL_FILE, expected_inputs=style_input_specs(H, W)).close()


def test_a_look_with_grain_needs_its_grain_field(exports):
    folder, _ = exports["full"]
    rgb, _, _ = _inputs("full")
    with create_backend("onnxruntime-cpu").load(folder / MODEL_FILE) as session:
        with pytest.raises(InputSpecError, match=r"grain: missing; expected float32 \(1, 3, 72, 128\)"):
            session.run(frame_feeds(rgb))


def test_a_grain_field_unlike_the_frame_and_a_foreign_card_are_refused(tmp_path):
    with pytest.raises(StyleExportError, match=r"shaped like the frame \(8, 8, 3\); got \(8, 9, 3\)"):
        frame_feeds(np.zeros((8, 8, 3)), np.zeros((8, 9, 3)))
    with pytest.raises(StyleExportError, match="no card.json"):
        read_card(tmp_path)
    (tmp_path / CARD_FILE).write_text('{"format": "other/1"}')
    with pytest.raises(StyleExportError, match="not an onset-style-export/1 card"):
        read_card(tmp_path)
