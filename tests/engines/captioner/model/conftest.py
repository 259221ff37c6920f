"""Shared fixtures: one thread for torch, a synthetic train/val pair and one tiny model trained on it."""

import importlib.util


if importlib.util.find_spec("torch") is None:
    # The Python 3.10 venv has no torch (README, "What is untested here"): there only the shot
    # aggregation, which needs none, is collected; pytest reports the rest as not collected.
    collect_ignore = ["synthetic.py", "test_calibrate.py", "test_checkpoint.py", "test_cli.py", "test_evaluate.py",
                      "test_flow.py", "test_network.py", "test_runner.py", "test_train.py"]
else:
    from tests.engines.captioner.model._torch_fixtures import *  # noqa: F401,F403  (fixtures)
