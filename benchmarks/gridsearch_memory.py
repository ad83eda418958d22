"""Cost of tuning the pruning ratio: GridSearchCV over 4 ratios × 3 folds, with and without memory.

Synthetic data (``make_classification``, 32 features), ``CoresetSelector`` with
SIMScorer (defaults, CPU) and the SIMS rule, and an estimator fitted on each coreset
(``--estimator logreg``: logistic regression; ``mlp``: the default skorch MLP).
After an untimed warm-up fit, configurations are timed once each, in this order,
every one with a fresh cache folder:

* ``selector``: one ``CoresetSelector.fit`` on all the data at one ratio (1 scoring
  of N samples + 1 estimator fit);
* ``grid 1 ratio, memory``: ``GridSearchCV`` over that one ratio, 3 folds, refit
  (3 scorings of 2N/3 samples + 1 of N for the refit, 4 estimator fits);
* ``grid 4 ratios, memory``: the same over 4 ratios; the cache scores each fold once,
  so only the estimator fits (13) and the selections grow;
* ``grid 4 ratios, no memory``: every grid point scores its fold again (13 scorings).

Fair comparison: the 4-ratio grid against the 1-ratio grid (same cross-validation,
the cost of the grid itself). The plain selector fit is reported too, but a 3-fold
search with refit scores about 3 N samples against its N, whatever the cache does.

Each run is split into the fits of the estimator on the coresets (timed by a thin
wrapper) and the rest: scoring, selection and cache reads. The cache can only remove
the second part's growth; the first grows with the number of grid points whatever
the pruning library does.

    OMP_NUM_THREADS=1 python benchmarks/gridsearch_memory.py --n-samples 20000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch
from _common import RESULTS, synthetic_classification, timed, write_results
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skprune import CoresetSelector, SIMScorer
from skprune.nets import make_default_net

RATIOS = [0.3, 0.5, 0.7, 0.9]
ESTIMATOR_FIT_SECONDS = []


class TimedFit(ClassifierMixin, BaseEstimator):
    """The estimator fitted on each coreset, with its fit time added to ESTIMATOR_FIT_SECONDS."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        start = time.perf_counter()
        self.estimator_ = clone(self.estimator).fit(X, y)
        ESTIMATOR_FIT_SECONDS.append(time.perf_counter() - start)
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X):
        return self.estimator_.predict(X)


def make_selector(estimator, memory, ratio):
    return CoresetSelector(
        SIMScorer(device="cpu"),
        pruning_ratio=ratio,
        estimator=TimedFit(estimator),
        memory=memory,
        random_state=0,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=20000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--estimator", choices=["logreg", "mlp"], default="logreg")
    parser.add_argument("--ratios", type=float, nargs="+", default=RATIOS)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--output", default=None, help="path without suffix")
    args = parser.parse_args(argv)
    output = Path(args.output or RESULTS / f"gridsearch_memory_{args.estimator}")

    torch.set_num_threads(1)
    X, y = synthetic_classification(args.n_samples, args.features, args.classes)
    if args.estimator == "logreg":
        estimator = LogisticRegression(max_iter=200)
    else:
        estimator = make_default_net(X, args.classes, device="cpu")
    ratio = args.ratios[len(args.ratios) // 2]
    cv = StratifiedKFold(args.folds, shuffle=True, random_state=0)

    def grid(ratios, memory):
        search = GridSearchCV(
            make_selector(estimator, memory, ratio), {"pruning_ratio": ratios}, cv=cv
        )
        return search.fit(X, y)

    runs = [
        ("selector", lambda memory: make_selector(estimator, memory, ratio).fit(X, y)),
        ("grid 1 ratio, memory", lambda memory: grid([ratio], memory)),
        (f"grid {len(args.ratios)} ratios, memory", lambda memory: grid(args.ratios, memory)),
        (f"grid {len(args.ratios)} ratios, no memory", lambda memory: grid(args.ratios, None)),
    ]
    lines = [
        f"# gridsearch_memory: N={args.n_samples} features={args.features} "
        f"classes={args.classes} estimator={args.estimator} ratios={args.ratios} "
        f"folds={args.folds} single ratio={ratio} cpus={os.cpu_count()} "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
    ]
    print(lines[0], flush=True)
    # Untimed warm-up: the first fit of a process pays one-off start-up costs.
    make_selector(estimator, None, ratio).fit(X[:500], y[:500])
    seconds, fit_seconds = {}, {}
    for name, run in runs:
        ESTIMATOR_FIT_SECONDS.clear()
        with tempfile.TemporaryDirectory() as cache:
            seconds[name], _ = timed(lambda run=run, cache=cache: run(cache))
        fit_seconds[name] = sum(ESTIMATOR_FIT_SECONDS)
        line = (
            f"{name:28s} {seconds[name]:8.2f} s  = {fit_seconds[name]:6.2f} s in "
            f"{len(ESTIMATOR_FIT_SECONDS):2d} estimator fits + "
            f"{seconds[name] - fit_seconds[name]:6.2f} s scoring, selection and cache"
        )
        lines.append(line)
        print(line, flush=True)
    names = [name for name, _ in runs]
    base_grid, base_fit = seconds[names[1]], seconds[names[0]]

    def pruning(name):
        return seconds[name] - fit_seconds[name]

    for name in names[2:]:
        line = (
            f"{name}: {seconds[name] / base_grid:.2f}x the 1-ratio grid "
            f"(scoring, selection and cache alone: {pruning(name) / pruning(names[1]):.2f}x), "
            f"{seconds[name] / base_fit:.2f}x the single selector fit"
        )
        lines.append(line)
        print(line)
    rows = [
        {
            "configuration": name,
            "seconds": seconds[name],
            "estimator_fit_seconds": fit_seconds[name],
            "ratio_to_grid_1_ratio": seconds[name] / base_grid,
            "ratio_to_selector_fit": seconds[name] / base_fit,
        }
        for name in names
    ]
    write_results(rows, lines, output)


if __name__ == "__main__":
    main()
