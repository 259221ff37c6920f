"""``onset engines``: train and evaluate the engines' models.

``onset engines train captioner`` trains the captioner on a built dataset (``onset dataset
build``): the train split to learn, the validation split to pick the best pass and fit the
calibration, and, where the dataset has one, the test split scored for the model card. It writes
the model file and its card beside it (``FILE`` with the suffix ``.card.md``).
``onset engines evaluate captioner`` scores a model on one split: per head a table, the confusion
matrix and the accuracy targets, met or MISSED (docs/captioner-model.md).

Each verb has a sub-command per engine, so the style engine and a ``serve`` verb fit beside them.
torch and the dataset reader are imported only when a command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Tuple

__all__ = ["register", "engine_errors", "quiet_threads", "EXIT_FAILURE", "TARGETS_MISSED"]

EXIT_FAILURE = 1
#: Exit status of ``evaluate --strict`` when the model misses a target.
TARGETS_MISSED = 3


def engine_errors() -> Tuple[type, ...]:
    """Errors that end a command with one line instead of a traceback."""
    from engines.captioner.inputs import InputError
    from engines.captioner.model.errors import ModelError

    errors: list = [ModelError, InputError]
    try:
        from engines.captioner.dataset.errors import DatasetError
    except ImportError:
        pass
    else:
        errors.append(DatasetError)
    return tuple(errors)


def _open_split(root: Path, split: str, depth: bool = True):
    """The ``split`` of the built dataset at ``root`` as a torch Dataset of clips."""
    from engines.captioner.model.errors import TrainingError

    try:
        from engines.captioner.dataset import ClipDataset
    except ImportError as err:
        raise TrainingError(f"the captioner dataset reader (engines.captioner.dataset.ClipDataset) cannot be "
                            f"imported: {err}") from err
    return ClipDataset(root, split, depth=depth, cache=True)


def _has_split(root: Path, split: str) -> bool:
    try:
        from engines.captioner.dataset import read_index
    except ImportError:
        return False
    try:
        return bool(((read_index(root).get("splits") or {}).get(split) or {}).get("samples"))
    except engine_errors():
        return False


def quiet_threads() -> None:
    """Let torch's idle OpenMP threads sleep instead of spinning (unless the environment says
    otherwise); call before torch is imported. On 2 cores shared with other processes, spinning
    threads made a training pass with 2 threads ten times slower than with 1; sleeping ones were
    about as fast as 1 thread there."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _card_path(model_path: Path) -> Path:
    return model_path.with_suffix(".card.md")


def _train_captioner(args: argparse.Namespace) -> int:
    quiet_threads()
    try:
        return _train(args)
    except engine_errors() as err:
        print(f"onset engines train captioner: {err}", file=sys.stderr)
        return EXIT_FAILURE


def _train(args: argparse.Namespace) -> int:
    from engines.captioner.model.calibrate import calibrate_model
    from engines.captioner.model.card import build_card, card_markdown, split_summary
    from engines.captioner.model.checkpoint import save_checkpoint
    from engines.captioner.model.evaluate import evaluate_model, format_evaluation
    from engines.captioner.model.train import TrainConfig, label_stats, train_captioner

    data, out = Path(args.data).expanduser(), Path(args.out).expanduser()
    config = TrainConfig(size=args.size, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                         threads=args.threads, learning_rate=args.learning_rate, patience=args.patience,
                         clips_per_epoch=args.clips_per_epoch, max_minutes=args.max_minutes,
                         look_augment=args.look_augment, progress=not args.no_progress)
    train, val = _open_split(data, "train"), _open_split(data, "val")
    test = _open_split(data, "test") if _has_split(data, "test") else None
    print(f"training the {config.size} captioner on {len(train)} clips ({len(val)} to validate) from {data}, "
          f"{config.threads} thread{'s' if config.threads != 1 else ''}, up to {config.epochs} passes", file=sys.stderr)
    result = train_captioner(train, val, config)
    calibration = calibrate_model(result.model, val, batch_size=config.batch_size)
    evaluations = {"val": evaluate_model(result.model, val, "val", batch_size=config.batch_size)}
    if test is not None and len(test):
        evaluations["test"] = evaluate_model(result.model, test, "test", batch_size=config.batch_size)
    splits = {"train": split_summary("train", train, result.train_stats),
              "val": split_summary("val", val, label_stats(val))}
    if test is not None:
        splits["test"] = split_summary("test", test, label_stats(test))
    card = build_card(result, calibration, splits, evaluations, data_root=str(data))
    digest = save_checkpoint(out, result.model, card)
    card_file = _card_path(out)
    card_file.write_text(card_markdown(card, digest), encoding="utf-8")
    print(f"{len(result.history)} passes in {result.seconds / 60.0:.1f} min ({result.stopped}); best pass "
          f"{result.best_epoch}")
    for head in ("shot_size", "movement"):
        c = getattr(calibration, head)
        ece = "-" if c.ece_before is None else f"{100 * c.ece_before:.2f} % -> {100 * c.ece_after:.2f} %"
        print(f"calibration {head}: temperature {c.temperature:.3f}, ECE (val) {ece}")
    for head in ("focal_mm", "distance_m"):
        c = getattr(calibration, head)
        cov = "-" if c.coverage_1sigma_before is None else (
            f"{100 * c.coverage_1sigma_before:.1f} % -> {100 * c.coverage_1sigma_after:.1f} %")
        print(f"calibration {head}: sigma x {c.sigma_scale:.3f}, within 1 sigma (val) {cov}")
    for evaluation in evaluations.values():
        print()
        print(format_evaluation(evaluation))
    print(f"\nmodel {out} (weights SHA-256 {digest})\ncard  {card_file}")
    return 0


def _evaluate_captioner(args: argparse.Namespace) -> int:
    quiet_threads()
    import torch

    from engines.captioner.model.checkpoint import load_model
    from engines.captioner.model.evaluate import evaluate_model, evaluation_json, format_evaluation

    try:
        torch.set_num_threads(args.threads)
        model = load_model(args.model)
        dataset = _open_split(Path(args.data).expanduser(), args.split, depth=not args.no_depth)
        evaluation = evaluate_model(model, dataset, args.split, batch_size=args.batch_size, depth=not args.no_depth,
                                    progress=not args.no_progress)
    except engine_errors() as err:
        print(f"onset engines evaluate captioner: {err}", file=sys.stderr)
        return EXIT_FAILURE
    print(format_evaluation(evaluation))
    if args.json:
        text = evaluation_json(evaluation)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).expanduser().write_text(text + "\n", encoding="utf-8")
    if args.strict and not all(r.met for r in evaluation.targets):
        return TARGETS_MISSED
    return 0


def _add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=2, metavar="N", help="torch CPU threads (default: 2)")
    parser.add_argument("--batch-size", type=int, default=32, metavar="N", help="clips per batch (default: 32)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def register(groups: argparse._SubParsersAction) -> None:
    from edge.cli import style_engine_cmd

    fmt = argparse.RawDescriptionHelpFormatter
    group = groups.add_parser("engines", help="train, evaluate, export and serve the engines' models",
                              description="Train and evaluate the engines' models (docs/captioner-model.md, "
                                          "docs/style-model.md).")
    verbs = group.add_subparsers(dest="engines_verb", metavar="VERB")
    verbs.required = True

    train = verbs.add_parser("train", help="train an engine's model", description="Train an engine's model.")
    train_engines = train.add_subparsers(dest="engine", metavar="ENGINE")
    train_engines.required = True
    cap = train_engines.add_parser(
        "captioner", help="train the captioner on a built dataset", formatter_class=fmt,
        description="Train the captioner on DIR's train split, pick the best pass on its val split, calibrate the\n"
                    "confidences there, score val and test, and write FILE and its model card (FILE.card.md).\n"
                    "The default size, 6 passes, trains on a 2-core CPU in about 20-45 minutes on 10-20k clips\n"
                    "(docs/captioner-model.md); --max-minutes (50) bounds it.",
        epilog="examples:\n  onset engines train captioner --data datasets/stage --out models/captioner.onsetcap\n"
               "  onset engines train captioner --data ds --out small.onsetcap --size small --epochs 6")
    cap.add_argument("--data", required=True, metavar="DIR", help="a dataset built by `onset dataset build`")
    cap.add_argument("--out", required=True, metavar="FILE", help="the model file to write")
    cap.add_argument("--epochs", type=int, default=6, metavar="N", help="passes over the training split (default: 6)")
    cap.add_argument("--size", choices=("small", "default"), default="default", help="network size (default: default)")
    cap.add_argument("--seed", type=int, default=0, help="seed of the weights, clip order and augmentation (default: 0)")
    cap.add_argument("--learning-rate", type=float, default=2e-3, metavar="LR", help="peak learning rate (default: 2e-3)")
    cap.add_argument("--patience", type=int, default=3, metavar="N",
                     help="stop after N passes without a better validation score (default: 3)")
    cap.add_argument("--clips-per-epoch", type=int, default=None, metavar="N",
                     help="clips drawn per pass (default: the whole training split)")
    cap.add_argument("--max-minutes", type=float, default=50.0, metavar="MIN",
                     help="stop after the pass that crosses this much training time (default: 50)")
    cap.add_argument("--look-augment", type=float, default=0.5, metavar="P",
                     help="share of training clips styled by a jittered shipped film look, grain and all, so "
                          "that a look on set does not change what the model reads (the style closed loop); "
                          "0 turns it off (default: 0.5)")
    _add_threads(cap)
    cap.set_defaults(run=_train_captioner)
    style_engine_cmd.add_train_style(train_engines)

    evaluate = verbs.add_parser("evaluate", help="score an engine's model on a dataset split",
                                description="Score an engine's model on a dataset split.")
    evaluate_engines = evaluate.add_subparsers(dest="engine", metavar="ENGINE")
    evaluate_engines.required = True
    ev = evaluate_engines.add_parser(
        "captioner", help="the captioner's accuracy per head, confusion matrices, targets", formatter_class=fmt,
        description="Per head: accuracy (shot size also within one class), median and p90 relative error of the\n"
                    "regressions, ECE, the confusion matrix with class names; then each target, met or MISSED\n"
                    "with its margin.",
        epilog="examples:\n  onset engines evaluate captioner --model models/captioner.onsetcap --data datasets/stage\n"
               "  onset engines evaluate captioner --model m.onsetcap --data ds --split val --json val.json")
    ev.add_argument("--model", required=True, metavar="FILE", help="a model file from `onset engines train captioner`")
    ev.add_argument("--data", required=True, metavar="DIR", help="a dataset built by `onset dataset build`")
    ev.add_argument("--split", default="test", choices=("train", "val", "test"), help="the split (default: test)")
    ev.add_argument("--json", default=None, metavar="FILE", help="also write the figures as JSON ('-': stdout)")
    ev.add_argument("--no-depth", action="store_true", help="zero the depth planes (a rig without LiDAR)")
    ev.add_argument("--strict", action="store_true", help=f"exit {TARGETS_MISSED} when a target is missed")
    _add_threads(ev)
    ev.set_defaults(run=_evaluate_captioner)
    style_engine_cmd.add_evaluate_style(evaluate_engines)
    register_runtime_verbs(verbs)


def _export_captioner(args: argparse.Namespace) -> int:
    quiet_threads()
    from engines.captioner.export import export_captioner

    card = export_captioner(Path(args.model), Path(args.out))
    for name, entry in sorted(card["export"]["files"].items()):
        inputs = ", ".join(f"{n} {tuple(shape)}" for n, shape, _ in entry["inputs"])
        print(f"{Path(args.out) / entry['file']}: {name} ({inputs})")
    print(f"card {Path(args.out) / 'card.json'}")
    return 0


def _export_style(args: argparse.Namespace) -> int:
    from edge.cli.style_engine_cmd import style_errors
    from engines.style.export import export_look
    from engines.style.model.shipped import resolve_look

    try:
        width, _, height = args.size.lower().partition("x")
        size = (int(height), int(width))
    except ValueError:
        print(f"onset engines export style: --size must be WxH, e.g. 640x360; got {args.size!r}", file=sys.stderr)
        return 2
    from engines.runtime import EngineRuntimeError

    try:
        card = export_look(resolve_look(args.look), Path(args.out), *size)
    except (*style_errors(), EngineRuntimeError) as err:
        print(f"onset engines export style: {err}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"{card.get('look', args.look)} for {args.size} -> {Path(args.out)} (card.json)")
    return 0


def _backends(args: argparse.Namespace) -> int:
    from engines.runtime import list_backends

    print(f"{'backend':<18}{'available':<11}{'automatic':<11}why")
    for status in list_backends():
        print(f"{status.name:<18}{'yes' if status.available else 'no':<11}{'yes' if status.auto else 'by name':<11}"
              f"{status.reason or status.description}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    """The engine workers, each under a supervisor, until Ctrl-C (or --duration)."""
    import os
    import signal
    import sys
    import threading
    import time

    from engines.worker.supervisor import Supervisor

    from config import load_profile

    if args.engine is None:
        rig = load_profile(args.profile)
        names = [name for name in ("captioner", "style") if getattr(rig.engines, name).enabled]
    else:
        names = [args.engine]
    if args.model and len(names) > 1:
        print("onset engines serve: --model names one engine's model; name the engine too", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    supervisors = []
    for name in names:
        argv = [sys.executable, "-m", "engines.worker.child", name, "--profile", str(args.profile)]
        for flag, value in (("--model", args.model), ("--backend", args.backend), ("--stream", args.stream)):
            if value:
                argv += [flag, str(value)]
        if args.no_ros:
            argv.append("--no-ros")
        supervisors.append(Supervisor(argv, name=name, env=dict(os.environ)).start())
    print(f"{', '.join(names)} worker{'s' if len(names) > 1 else ''} started (restarted if one dies); "
          "Ctrl-C stops them", flush=True)
    deadline = None if args.duration is None else time.monotonic() + args.duration
    while not stop.wait(0.5):
        if not all(s.running for s in supervisors) or (deadline is not None and time.monotonic() >= deadline):
            break
    failures = []
    for supervisor in supervisors:
        supervisor.stop()
        if supervisor.failure:
            failures.append(supervisor.failure)
    for failure in failures:
        print(f"onset: {failure}", file=sys.stderr)
    return 1 if failures else 0


def register_runtime_verbs(verbs: argparse._SubParsersAction) -> None:
    """``onset engines export | serve | backends`` (the engines' runtime side)."""
    from edge.cli.args import add_profile_argument

    fmt = argparse.RawDescriptionHelpFormatter
    export = verbs.add_parser("export", help="export an engine's model to ONNX for the runtimes",
                              description="Export an engine's model to ONNX (static shapes, opset 17).")
    export_engines = export.add_subparsers(dest="engine", metavar="ENGINE")
    export_engines.required = True
    ex = export_engines.add_parser(
        "captioner", help="the clip model and its three live stages", formatter_class=fmt,
        description="Write clip.onnx (the whole model) and encoder/pairs/head.onnx (what the live worker runs\n"
                    "frame by frame), each with its weights' hash, and card.json (docs/runtimes.md).",
        epilog="examples:\n  onset engines export captioner --model captioner.onsetcap --out models/captioner")
    ex.add_argument("--model", required=True, metavar="FILE", help="a model file from `onset engines train captioner`")
    ex.add_argument("--out", required=True, metavar="DIR", help="the export directory")
    ex.set_defaults(run=_export_captioner)
    st = export_engines.add_parser(
        "style", help="a look as one ONNX model for a frame size", formatter_class=fmt,
        description="Write look.onnx (the whole look for frames of one size: vignette, halation, colour, grain\n"
                    "from a noise input), look.pt, the look file and card.json (docs/style-runtimes.md).",
        epilog="examples:\n  onset engines export style --look 35mm --size 640x360 --out exports/35mm-640x360")
    st.add_argument("--look", required=True, help="a shipped look's name or a .look.json file")
    st.add_argument("--size", default="640x360", metavar="WxH", help="the frame size (default: 640x360)")
    st.add_argument("--out", required=True, metavar="DIR", help="the export directory")
    st.set_defaults(run=_export_style)

    serve = verbs.add_parser(
        "serve", help="run an engine worker on the node's fused frames", formatter_class=fmt,
        description="Run an engine as a worker process on the fused-frame stream, restarted if it dies. Each result\n"
                    "(versioned JSON naming the frame's sequence, master time and timecode) goes out on the\n"
                    "engine's result stream (engines.<name>.results_endpoint) and on ROS 2 as std_msgs/String on\n"
                    "/onset/<name>/results. A slow worker skips frames and counts them; it never queues.",
        epilog="examples:\n  onset engines serve                              captioner and style, shipped models\n"
               "  onset engines serve captioner                    the captioner alone\n"
               "  onset engines serve style --model push1          the style engine, starting on push1\n"
               "  onset engines serve --model models/captioner --backend onnxruntime-cpu\n"
               "  onset node run --engines                         the node starts it itself (make demo)")
    serve.add_argument("engine", nargs="?", default=None, choices=("captioner", "style"),
                       help="one engine (default: every engine the profile enables); for style, --model is the "
                            "look to start with")
    add_profile_argument(serve)
    serve.add_argument("--model", default=None, metavar="DIR", help="an export directory (default: the profile's, "
                                                                    "else the model shipped with Onset)")
    serve.add_argument("--backend", default=None, help="runtime (default: the profile's, auto); see `onset engines backends`")
    serve.add_argument("--stream", default=None, metavar="ENDPOINT", help="fused-frame stream (default: the profile's)")
    serve.add_argument("--no-ros", action="store_true", help="results on the result stream only")
    serve.add_argument("-d", "--duration", type=float, default=None, metavar="S", help="stop after S seconds")
    serve.set_defaults(run=_serve)

    backends = verbs.add_parser("backends", help="the runtimes this machine can run, and why not",
                                description="List the engine runtimes, whether each can run here and why not.")
    backends.set_defaults(run=_backends)
