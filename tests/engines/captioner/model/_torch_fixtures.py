"""The model tests' torch fixtures (imported by conftest.py where torch is installed)."""

import pytest
import torch

from engines.captioner.model.train import TrainConfig, train_captioner
from tests.engines.captioner.model.synthetic import SyntheticClips

torch.set_num_threads(1)

#: The tiny model's training in these tests: enough passes to be well above chance, few enough to be quick.
TINY_TRAINING = TrainConfig(size="tiny", epochs=6, batch_size=8, learning_rate=5e-3, threads=1, patience=6,
                            progress=False, seed=4,
                            look_augment=0.0)  # the synthetic task codes distance as brightness, which a look changes


@pytest.fixture(scope="session")
def synthetic_train() -> SyntheticClips:
    return SyntheticClips(192, seed=11, cache=True)


@pytest.fixture(scope="session")
def synthetic_val() -> SyntheticClips:
    return SyntheticClips(64, seed=12, cache=True)


@pytest.fixture(scope="session")
def trained(synthetic_train, synthetic_val):
    """The tiny model trained on the synthetic clips (a TrainResult)."""
    return train_captioner(synthetic_train, synthetic_val, TINY_TRAINING)
