"""The style model's tests: torch, where installed, on one thread (the fits are small; threads
would only contend on a shared machine). The modules that fit need torch and skip without it."""

import importlib.util

if importlib.util.find_spec("torch") is not None:
    import torch

    torch.set_num_threads(1)
