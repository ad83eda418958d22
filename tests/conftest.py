"""Shared fixtures: tiny nets and small data with known easy, hard and mislabeled points."""

import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier

from skprune.nets import MLP


def pytest_configure(config):
    # The suite runs many tiny fits: one intra-op thread avoids oversubscribing
    # the cores when other processes (joblib workers, CI neighbours) share them.
    torch.set_num_threads(1)


def _tiny_net(n_features, n_classes, *, max_epochs=15, **params):
    settings = dict(
        module__n_features=n_features,
        module__n_classes=n_classes,
        module__hidden_units=(32,),
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.SGD,
        optimizer__momentum=0.9,
        lr=0.05,
        batch_size=32,
        max_epochs=max_epochs,
        iterator_train__shuffle=True,
        device="cpu",
        verbose=0,
    )
    settings.update(params)
    return NeuralNetClassifier(MLP, **settings)


@pytest.fixture(scope="session")
def tiny_net():
    """Factory of small, fast skorch MLPs with logits + cross-entropy."""
    return _tiny_net


@pytest.fixture(scope="session")
def known_difficulty_data():
    """3 well-separated 2-D classes with known easy, hard and mislabeled samples.

    Returns X, y and a dict of index arrays: "easy" (tight around the class
    centres), "hard" (on the boundaries between two classes, label of either),
    "mislabeled" (at a class centre, labelled as another class).
    """
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 4.0], [-3.5, -2.0], [3.5, -2.0]])
    X, y, kind = [], [], []
    for c, centre in enumerate(centres):
        X.append(centre + 0.4 * rng.standard_normal((100, 2)))
        y += [c] * 100
        kind += ["easy"] * 100
    for a, b in [(0, 1), (1, 2), (0, 2)]:
        t = rng.uniform(0.45, 0.55, size=(20, 1))
        X.append(centres[a] * (1 - t) + centres[b] * t + 0.2 * rng.standard_normal((20, 2)))
        y += list(rng.choice([a, b], size=20))
        kind += ["hard"] * 20
    for c, centre in enumerate(centres):
        X.append(centre + 0.4 * rng.standard_normal((8, 2)))
        y += [(c + 1 + i % 2) % 3 for i in range(8)]
        kind += ["mislabeled"] * 8
    X = np.vstack(X).astype(np.float32)
    y, kind = np.array(y), np.array(kind)
    groups = {name: np.flatnonzero(kind == name) for name in ("easy", "hard", "mislabeled")}
    return X, y, groups


@pytest.fixture(scope="session")
def small_data():
    """A quick 4-class tabular problem (200 × 8)."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=200,
        n_features=8,
        n_informative=5,
        n_classes=4,
        n_clusters_per_class=1,
        random_state=0,
    )
    return X.astype(np.float32), y


class _HeadRegisteredFirst(torch.nn.Module):
    """Registers its output layer before the hidden one, so registration order
    and the order ``forward`` applies the layers in differ."""

    def __init__(self, n_features=2, n_hidden=16, n_classes=3):
        super().__init__()
        self.out = torch.nn.Linear(n_hidden, n_classes)
        self.hidden = torch.nn.Linear(n_features, n_hidden)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


@pytest.fixture(scope="session")
def head_registered_first():
    """A module class whose output nn.Linear is registered first but applied last."""
    return _HeadRegisteredFirst
