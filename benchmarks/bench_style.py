"""How fast is a look on each runtime, beside the numpy live path and the LUT a LUT box would run?

One table per frame size (``--sizes``, default 640x360 and 1920x1080), one block of rows per look,
every figure from this run, one thread everywhere (``torch.set_num_threads(1)``, ONNX Runtime
``intra_op_num_threads=1``, OpenColorIO on the calling thread): an engine worker shares two cores
with the node. Per frame: p50, p99 and mean latency (ms), frames/s, and the p50's ratio to
**torch eager** (the :class:`engines.style.torch_look.LookNet` called directly, the baseline) on
the same inputs:

* **torch eager**: the whole look (vignette, halation, colour, grain) on ``frame`` and ``grain``
  (1, 3, H, W) float32;
* **each backend** this machine has (``engines.runtime.list_backends``) on the look's ONNX export
  (``engines.style.export.export_look``), the same inputs, through ``session.run`` (input checks
  included, ``latency_profile``);
* **numpy LiveLook**: :class:`engines.style.live.LiveLook`, the table-lookup live path, on the
  same frame as (H, W, 3) uint8, grain from its bank of fields;
* **OpenColorIO LUT**: what a LUT box does: the look's colour part alone (``colour_only``, no
  texture) baked into a 33-point ``.cube`` (``write_look_lut``) and applied by OpenColorIO's CPU
  processor (``FileTransform``, tetrahedral) with ``applyRGB`` on a packed float32 (H, W, 3) image
  (refilled from the frame before each run, outside the timing).

The frame is a smooth colour field with three lamps over the halation threshold, so every path
does its halation. Looks: ``--looks`` (shipped names, ``.look.json`` paths or ``fitted-35mm``),
else the shipped looks (engines/style/looks/), one for each set of parts (vignette, halation,
grain, curve sizes: looks with the same parts run the same graph on other numbers and take the
same time), else one built here and named ``fitted-35mm``: the colour part
fitted (``fit_colour``, 600 steps) to the film pipeline's ``colour(x, "35mm")`` on 4000 random
colours, a vignette fitted to the Super 35 gate's (0.35 stops at the corner), the VISION3
halation spec as a look's halation, and the grain estimated (``estimate_grain``) from three
640x360 frames developed by the film pipeline. Latency does not depend on how well it fits.

Run: ``.venv/bin/python -m benchmarks style [--runs N] [--sizes 640x360,1920x1080] [--looks A,B]``.
With the defaults it takes about 1.5 minutes on two cores for each set of parts timed (two for
the shipped looks: without halation and with it), most of it at 1920x1080.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

DEFAULT_SIZES = ((360, 640), (1080, 1920))
FITTED = "fitted-35mm"
LUT_SIZE = 33


# -- the looks ----------------------------------------------------------------------------------------

def _smooth_frame(height: int, width: int, seed: int) -> np.ndarray:
    """(H, W, 3) uint8: slow colour waves and three lamps of code value 1 in red (module docstring)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    y, x = y / height, x / width
    channels = []
    for _ in range(3):
        fx, fy, phase = rng.uniform(-2.0, 2.0), rng.uniform(-2.0, 2.0), rng.uniform(0.0, 2 * math.pi)
        channels.append(0.1 + 0.55 * (0.5 + 0.5 * np.sin(2 * math.pi * (fx * x + fy * y) + phase)))
    rgb = np.stack(channels, axis=-1)
    for cx, cy in rng.uniform(0.15, 0.85, (3, 2)):
        lamp = np.hypot((x - cx) * width, (y - cy) * height) < 0.02 * width
        rgb[lamp] = (1.0, 0.92, 0.75)
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)


def _fitted_look():
    """The ``fitted-35mm`` look (module docstring)."""
    from engines.style.film import SUPER35, VISION3_HALATION, develop
    from engines.style.film import colour as film_colour
    from engines.style.film.encoding import GREY_LINEAR
    from engines.style.film.vignette import vignette_stops_at
    from engines.style.model.estimate import TexturePair, estimate_grain
    from engines.style.model.fit import fit_colour
    from engines.style.model.look import Look
    from engines.style.model.texture import Halation, Vignette

    control = np.random.default_rng(0).random((4000, 3))
    fit = fit_colour(control, film_colour(control, "35mm").astype(np.float64), steps=600)
    # ln v(rho) = a rho^2 + b rho^4, least squares on the gate's cos^4 law
    rho = np.linspace(0.0, 1.0, 101)
    log_gain = -vignette_stops_at(rho, SUPER35.vignette_corner_stops) * math.log(2.0)
    (a, b), *_ = np.linalg.lstsq(np.stack([rho ** 2, rho ** 4], axis=1), log_gain, rcond=None)
    vignette = Vignette(float(a), float(b))
    # the stock's threshold is relative exposure (1 = grey card); a look's is scene-linear red
    spec = VISION3_HALATION
    halation = Halation(spec.threshold * GREY_LINEAR, spec.sigma_mm / SUPER35.gate_width_mm, spec.gain_rgb)
    pairs = []
    for seed in range(3):
        frame = _smooth_frame(360, 640, 100 + seed).astype(np.float32) / 255.0
        pairs.append(TexturePair(frame, develop(frame, "35mm", seed=seed).image, np.ones((360, 640), bool)))
    grain = estimate_grain(pairs, fit.colour, vignette, halation)
    return Look(FITTED, fit.colour, vignette, halation, grain,
                card={"made by": "benchmarks/bench_style.py", "colour rms": fit.rms})


def _parts(look) -> tuple:
    """What a look's latency depends on: which texture parts it has and its curves' sizes, not
    their values."""
    from engines.style.torch_look import has_halation

    return (look.vignette.a != 0.0 or look.vignette.b != 0.0, has_halation(look), look.grain is not None,
            None if look.grain is None else len(look.grain.levels), look.colour.in_curves.shape[1],
            look.colour.out_curves.shape[1])


def choose_looks(names: Optional[Sequence[str]]) -> List[Tuple[object, str]]:
    """(look, where it came from) for ``names``; else the shipped looks, one for each set of
    parts (:func:`_parts`: looks with the same parts take the same time); else the fitted one."""
    from engines.style.model.shipped import resolve_look, shipped_look_names

    if names:
        return [(_fitted_look(), "built here (module docstring)") if n == FITTED else (resolve_look(n), "given")
                for n in names]
    groups: Dict[tuple, List[object]] = {}
    for name in shipped_look_names():
        look = resolve_look(name)
        groups.setdefault(_parts(look), []).append(look)
    if groups:
        return [(looks[0], "shipped" + (f", timed for {', '.join(x.name for x in looks)} (the same parts)"
                                        if len(looks) > 1 else "")) for looks in groups.values()]
    return [(_fitted_look(), "built here: no shipped looks (module docstring)")]


# -- timing ---------------------------------------------------------------------------------------------

def _stats(times_ms: List[float]) -> Dict[str, float]:
    a = np.asarray(times_ms)
    return {"p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)), "mean": float(a.mean())}


def _time(fn: Callable[[int], object], runs: int, warmup: int, before: Optional[Callable[[], None]] = None) -> dict:
    times = []
    for i in range(warmup + runs):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn(i)
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    return _stats(times)


def look_rows(look, height: int, width: int, runs: int, warmup: int, scratch: Path) -> List[tuple]:
    """(path, stats or None, note) for one look at one size."""
    import torch

    from engines.runtime import create_backend, latency_profile, list_backends
    from engines.style.colour import write_look_lut
    from engines.style.export import MODEL_FILE, export_look, frame_feeds, style_input_specs
    from engines.style.live import LiveLook
    from engines.style.model.look import colour_only
    from engines.style.model.texture import grain_noise
    from engines.style.torch_look import LookNet

    torch.set_num_threads(1)
    folder = scratch / f"{look.name}-{width}x{height}"
    export_look(look, folder, height, width)
    frame_u8 = _smooth_frame(height, width, 7)
    noise = None if look.grain is None else grain_noise(height, width, look.grain, seed=7)
    feeds = frame_feeds(frame_u8, noise)
    rows = []

    net = LookNet.from_look(look, height, width)
    tensors = {k: torch.from_numpy(v) for k, v in feeds.items()}
    with torch.inference_mode():
        rows.append(("torch eager (baseline)", _time(lambda i: net(**tensors), runs, warmup), ""))
    specs = style_input_specs(height, width, grain=look.grain is not None)
    for status in list_backends():
        if not status.available:
            rows.append((status.name, None, f"not available: {status.reason}"))
            continue
        options = {"intra_op_num_threads": 1} if status.name.startswith("onnxruntime") else {}
        try:
            session = create_backend(status.name, **options).load(folder / MODEL_FILE, expected_inputs=specs)
        except Exception as err:  # a backend that cannot load is a row, not the end of the benchmark
            rows.append((status.name, None, f"failed to load: {err}"))
            continue
        with session:
            p = latency_profile(session, feeds, runs=runs, warmup=warmup)
        rows.append((status.name, {"p50": p.p50_ms, "p99": p.p99_ms, "mean": p.mean_ms}, ""))

    live = LiveLook(look, height, width)
    rows.append(("numpy LiveLook (uint8)", _time(lambda i: live.apply(frame_u8, frame_index=i), runs, warmup),
                 "tables; nearest entry of 4096"))
    rows.append(_ocio_row(look, frame_u8, scratch / f"{look.name}.cube", runs, warmup, write_look_lut, colour_only))
    return rows


def _ocio_row(look, frame_u8: np.ndarray, path: Path, runs: int, warmup: int, write_look_lut, colour_only) -> tuple:
    try:
        import PyOpenColorIO as ocio
    except ImportError:
        return ("OpenColorIO LUT 33^3", None, "not available: PyOpenColorIO is not installed (pip install opencolorio)")
    if not path.is_file():
        write_look_lut(lambda rgb: colour_only(rgb, look), path, LUT_SIZE, "rec709", look.name)
    ocio.ClearAllCaches()
    transform = ocio.FileTransform(str(path), interpolation=ocio.INTERP_TETRAHEDRAL)
    cpu = ocio.Config.CreateRaw().getProcessor(transform).getDefaultCPUProcessor()
    source = frame_u8.astype(np.float32) / np.float32(255.0)
    image = source.copy()
    stats = _time(lambda i: cpu.applyRGB(image), runs, warmup, before=lambda: np.copyto(image, source))
    return (f"OpenColorIO LUT {LUT_SIZE}^3", stats, "colour only, no texture")


# -- the command ------------------------------------------------------------------------------------------

def _sizes(text: str) -> List[Tuple[int, int]]:
    sizes = []
    for part in text.split(","):
        try:
            w, h = (int(v) for v in part.lower().split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"a size is WIDTHxHEIGHT, like 640x360; got {part!r}") from None
        if w < 1 or h < 1:
            raise argparse.ArgumentTypeError(f"a size must be positive; got {part!r}")
        sizes.append((h, w))
    return sizes


def print_table(size: Tuple[int, int], blocks: List[Tuple[object, str, List[tuple]]], runs: int) -> None:
    height, width = size
    print(f"\n{width}x{height}, {runs} runs each, one thread; ratio = p50 / torch eager p50 of the same look")
    print(f"{'look':<14}{'path':<26}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'frames/s':>10}{'vs eager':>10}  note")
    for look, _, rows in blocks:
        base = rows[0][1]
        for name, s, note in rows:
            if s is None:
                print(f"{look.name:<14}{name:<26}  {note}")
                continue
            ratio = f"{s['p50'] / base['p50']:.2f}x"
            print(f"{look.name:<14}{name:<26}{s['p50']:>9.2f}{s['p99']:>9.2f}{s['mean']:>9.2f}"
                  f"{1000 / s['mean']:>10.1f}{ratio:>10}  {note}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks style", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="timed runs per path and size (default 40)")
    parser.add_argument("--sizes", type=_sizes, default=list(DEFAULT_SIZES),
                        help="frame sizes WIDTHxHEIGHT, comma-separated (default 640x360,1920x1080)")
    parser.add_argument("--looks", type=lambda t: [n for n in t.split(",") if n], default=None,
                        help=f"looks by shipped name, .look.json path or {FITTED} (default: the shipped looks)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    from engines.style.model.errors import StyleModelError

    t0 = time.perf_counter()
    try:
        looks = choose_looks(args.looks)
    except StyleModelError as err:
        print(f"python -m benchmarks style: {err}", file=sys.stderr)
        return 2
    for look, where in looks:
        grain = "estimated" if look.name == FITTED else ("yes" if look.grain is not None else "none")
        print(f"look {look.name}: {where}; vignette a={look.vignette.a:.3f} b={look.vignette.b:.3f}, halation "
              f"sigma {look.halation.sigma_frac:.4f} of the width, gains "
              f"({', '.join(f'{g:.3f}' for g in look.halation.gain_rgb)}), grain {grain}")
    print(f"(looks ready in {time.perf_counter() - t0:.0f} s)")
    warmup = max(3, args.runs // 10)
    with tempfile.TemporaryDirectory() as scratch:
        for size in args.sizes:
            blocks = [(look, where, look_rows(look, *size, args.runs, warmup, Path(scratch))) for look, where in looks]
            print_table(size, blocks, args.runs)
    print(f"\n(whole benchmark {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
