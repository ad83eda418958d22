"""Pieces shared by the scripts in benchmarks/: synthetic data and result files."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from skprune.benchmark import write_csv

RESULTS = Path(__file__).resolve().parent / "results"


def timed(function):
    """``(seconds, result)`` of one call of ``function()``."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def synthetic_classification(n_samples, n_features=32, n_classes=10, seed=0):
    """The scaling benchmarks' problem: ``make_classification``, float32 X, 5% label noise."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=min(n_features, 16),
        n_classes=n_classes,
        n_clusters_per_class=1,
        flip_y=0.05,
        random_state=seed,
    )
    return X.astype(np.float32), y


def write_results(rows, lines, output):
    """Write ``rows`` to ``output.csv`` and the printed ``lines`` to ``output.log``."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_csv(rows, output.with_suffix(".csv"))
    output.with_suffix(".log").write_text("\n".join(lines) + "\n")
    print(f"wrote {output.with_suffix('.csv')} and {output.with_suffix('.log')}")


def make_cosine_net(X, n_classes, *, max_epochs, device):
    """The default target net with its learning rate annealed to 0 over training (cosine).

    With a constant rate the test accuracy at the last epoch of a noisy-label
    training swings by about a point between seeds, more than removing 5% of
    the data changes; annealing settles it (seed-to-seed spread about 0.15
    points on 20%-noisy Fashion-MNIST), so small effects become measurable.
    """
    from skorch.callbacks import LRScheduler
    from torch.optim.lr_scheduler import CosineAnnealingLR

    from skprune.nets import make_default_net

    net = make_default_net(X, n_classes, max_epochs=max_epochs, device=device)
    return net.set_params(
        callbacks=[("lr_schedule", LRScheduler(CosineAnnealingLR, T_max=max_epochs))]
    )


def add_eval_schedule_argument(parser, trained):
    """Add ``--eval-schedule {constant,cosine}``, the learning rate of the nets ``trained``."""
    parser.add_argument(
        "--eval-schedule",
        choices=["constant", "cosine"],
        default="constant",
        help=f"learning rate of {trained} (cosine: annealed to 0, make_cosine_net)",
    )


def evaluation_net(args):
    """The ``make_net`` for the nets trained for evaluation: None (the default net) or cosine."""
    return make_cosine_net if args.eval_schedule == "cosine" else None


def plain_sgd_net(X, n_classes, *, lr, max_epochs, device="cpu"):
    """The default net for ``X``'s shape with plain SGD (no momentum) at step size ``lr``.

    Diff-In's derivation assumes plain SGD; this is ``DiffInScorer``'s default
    scoring net with another step size, passed as its ``estimator``.
    """
    from skprune.nets import make_default_net

    net = make_default_net(X, n_classes, max_epochs=max_epochs, lr=lr, device=device)
    return net.set_params(optimizer__momentum=0.0)


def fashion_clean_target(X_train, n_clean):
    """``n_clean`` Fashion-MNIST training-file images outside ``X_train``, with their labels.

    ``X_train`` is the stratified subset ``load_fashion_mnist(n_train=len(X_train),
    random_state=0)``; the larger subset of the same seed supplies images the
    training set does not contain: a clean target set for label-noise runs.
    """
    from skprune.datasets import load_fashion_mnist

    extra = load_fashion_mnist(n_train=len(X_train) + n_clean, n_test=10, random_state=0)
    inside = {row.tobytes() for row in X_train}
    outside = np.array([row.tobytes() not in inside for row in extra.X_train])
    return extra.X_train[outside][:n_clean], extra.y_train[outside][:n_clean]
