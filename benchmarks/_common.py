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
