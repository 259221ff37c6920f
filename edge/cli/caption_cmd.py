"""``onset caption TAKE [--model FILE]``: a recorded take's shot-level captions, as JSON and CSV.

The take's frames are fused again at the captioner's clip rate
(``engines.captioner.dataset.iter_take_frames``), run through the model frame by frame
(``engines.captioner.model.runner``) and aggregated into shots (``engines.captioner.model.shots``:
shot size, movement, focal length, subject distance, outliers, a confidence and a sentence).
``captions.json`` (the shots and every frame's outputs) and ``captions.csv`` (one row per shot)
go into ``--out`` (default: the take's folder), each written whole or not at all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

__all__ = ["register", "caption_frames", "write_captions", "CAPTIONS_JSON", "CAPTIONS_CSV"]

EXIT_FAILURE = 1
CAPTIONS_JSON = "captions.json"
CAPTIONS_CSV = "captions.csv"


def _take_frames(take_dir: Path) -> Iterable[object]:
    """The take's frames at the clip rate, in order."""
    from engines.captioner.inputs import CLIP_RATE_HZ
    from engines.captioner.model.errors import ModelError

    try:
        from engines.captioner.dataset import iter_take_frames
    except ImportError as err:
        raise ModelError(f"the take reader (engines.captioner.dataset.iter_take_frames) cannot be imported: "
                         f"{err}") from err
    return iter_take_frames(take_dir, fps=CLIP_RATE_HZ)


def caption_frames(model, frames: Iterable[object], depth: bool = True,
                   min_frames: Optional[int] = None) -> Tuple[list, list]:
    """``(frame predictions, shots)`` of a take's frames (``engines.captioner.model.runner.predict_frames``;
    ``min_frames`` defaults to ``engines.captioner.model.shots.MIN_SHOT_FRAMES``)."""
    from engines.captioner.model.runner import predict_frames
    from engines.captioner.model.shots import MIN_SHOT_FRAMES, aggregate_shots

    predictions = predict_frames(model, frames, depth=depth)
    return predictions, aggregate_shots(predictions, min_frames=MIN_SHOT_FRAMES if min_frames is None else min_frames)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def write_captions(out_dir: Path, document: dict, csv_text: str) -> List[Path]:
    """Write ``captions.json`` and ``captions.csv`` into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / CAPTIONS_JSON, out_dir / CAPTIONS_CSV]
    _write_atomic(paths[0], json.dumps(document, indent=1, allow_nan=False) + "\n")
    _write_atomic(paths[1], csv_text)
    return paths


def _run(args: argparse.Namespace) -> int:
    from edge.cli.engines_cmd import engine_errors, quiet_threads

    quiet_threads()
    try:
        return _caption(args)
    except engine_errors() as err:
        print(f"onset caption: {err}", file=sys.stderr)
        return EXIT_FAILURE


def _caption(args: argparse.Namespace) -> int:
    import torch

    from engines.captioner.inputs import CLIP_RATE_HZ
    from engines.captioner.model.checkpoint import load_checkpoint
    from engines.captioner.model.errors import ModelError
    from engines.captioner.model.shots import shots_csv, shots_document

    take_dir = Path(args.take).expanduser()
    if not take_dir.is_dir():
        raise ModelError(f"{take_dir} is not a take folder")
    if args.min_shot_s <= 0:
        raise ModelError(f"--min-shot-s must be positive; got {args.min_shot_s}")
    torch.set_num_threads(args.threads)
    from engines.captioner.shipped import SHIPPED_CHECKPOINT

    model_path = Path(args.model).expanduser() if args.model else SHIPPED_CHECKPOINT
    checkpoint = load_checkpoint(model_path)
    model = checkpoint.build_model()
    min_frames = max(1, int(round(args.min_shot_s * CLIP_RATE_HZ)))
    predictions, shots = caption_frames(model, _take_frames(take_dir), depth=not args.no_depth, min_frames=min_frames)
    if not predictions:
        raise ModelError(f"{take_dir} gave no frames to caption")
    document = shots_document(
        shots, predictions, take={"path": str(take_dir.resolve()), "name": take_dir.name, "depth": not args.no_depth},
        model={"path": str(model_path.resolve()), "weights_sha256": checkpoint.weights_sha256,
               "size": checkpoint.network.name},
        min_frames=min_frames)
    paths = write_captions(Path(args.out).expanduser() if args.out else take_dir, document, shots_csv(shots))
    for shot in shots:
        tc = f"{shot.tc_in or '-'} - {shot.tc_out or '-'}"
        print(f"shot {shot.index}  frames {shot.first_frame}-{shot.last_frame}  TC {tc}  {shot.sentence}  "
              f"(confidence {100 * shot.confidence:.0f} %, {len(shot.outliers)} outlier frames)")
        for conflict in shot.conflicts:
            print(f"  conflict: {conflict}")
    print(f"{len(shots)} shots over {len(predictions)} frames -> {', '.join(str(p) for p in paths)}")
    return 0


def register(groups: argparse._SubParsersAction) -> None:
    parser = groups.add_parser(
        "caption", help="a recorded take's shot-level captions (JSON and CSV)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run the captioner over a recorded take and write its shot-level captions: shot size, movement,\n"
                    "focal length, subject distance, outlier frames, a confidence and a sentence per shot, as\n"
                    f"{CAPTIONS_JSON} and {CAPTIONS_CSV} (docs/captioner-model.md).",
        epilog="examples:\n  onset caption takes/12_3_004_20261105T142233Z\n"
               "  onset caption TAKE --model m.onsetcap --out /tmp/captions --no-depth")
    parser.add_argument("take", metavar="TAKE", help="the take's folder")
    parser.add_argument("--model", default=None, metavar="FILE",
                        help="a model file from `onset engines train captioner` (default: the shipped model, "
                             "engines/captioner/models/captioner.onsetcap)")
    parser.add_argument("--out", default=None, metavar="DIR", help="where to write the captions (default: the take folder)")
    parser.add_argument("--no-depth", action="store_true", help="zero the depth planes (as on a rig without LiDAR)")
    parser.add_argument("--min-shot-s", type=float, default=1.0, metavar="S",
                        help="the shortest change that starts a new shot, seconds (default: 1.0)")
    parser.add_argument("--threads", type=int, default=2, metavar="N", help="torch CPU threads (default: 2)")
    parser.set_defaults(run=_run)
