"""CCS's hard cut on tied forgetting scores: samples cut, flipped labels kept, test accuracy.

Forgetting counts tie heavily (never-learned samples all share the maximum), so a
cut by a quantile threshold can remove none of the fraction asked. Scores digits
with 20% symmetric label noise (one forgetting net per seed), selects a 50% coreset
with ``ccs`` at several ``hard_fraction`` values and trains the default MLP on it
for as many SGD steps as on all the data.

Run it against another checkout to compare (e.g. the code before the fix)::

    PYTHONPATH=/path/to/old/checkout python benchmarks/ccs_ties.py
    python benchmarks/ccs_ties.py --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse

import numpy as np

import skprune
from skprune import TrainingDynamicsScorer
from skprune.benchmark import equal_step_epochs, train_and_evaluate
from skprune.datasets import add_label_noise, load_digits
from skprune.sampling import select


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.15])
    parser.add_argument("--ratio", type=float, default=0.5)
    parser.add_argument("--noise", type=float, default=0.2)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    X, X_test, y_clean, y_test = load_digits()
    print(f"skprune from {skprune.__file__}")
    print(
        f"digits, {args.noise:.0%} symmetric noise, ccs/forgetting at α = {args.ratio}, "
        f"default MLP trained for equal SGD steps ({args.epochs} epochs on all data)"
    )
    rows = {fraction: [] for fraction in args.fractions}
    for seed in args.seeds:
        y, flipped = add_label_noise(y_clean, args.noise, random_state=seed)
        scores = (
            TrainingDynamicsScorer("forgetting", max_epochs=args.epochs, random_state=seed)
            .fit(X, y)
            .scores_
        )
        tied = np.count_nonzero(scores == scores.max())
        for fraction in args.fractions:
            selection = select(
                "ccs", scores, y, args.ratio, random_state=seed, hard_fraction=fraction
            )
            kept = selection.indices
            # Never-learned samples (tied at the top forgetting count) left in the coreset.
            n_top = int(np.count_nonzero(scores[kept] == scores.max()))
            epochs = equal_step_epochs(args.epochs, y.size, kept.size)
            accuracy = train_and_evaluate(
                X[kept], y[kept], X_test, y_test, n_classes=10, epochs=epochs, seed=seed
            )
            rows[fraction].append((n_top, int(flipped[kept].sum()), accuracy, tied))
    print("| hard_fraction | top-score samples kept | flipped labels kept | test accuracy |")
    print("|---:|---:|---:|:---|")
    for fraction, values in rows.items():
        values = np.array(values, dtype=float)
        top, flips, accuracy = values[:, 0], values[:, 1], values[:, 2]
        print(
            f"| {fraction:.2f} | {top.mean():.0f} | {flips.mean():.1f} ± {flips.std():.1f} "
            f"| {accuracy.mean():.4f} ± {accuracy.std():.4f} |"
        )
    tied = np.mean([value[3] for value in rows[args.fractions[0]]])
    print(f"tied at the maximum forgetting score: {tied:.0f} samples (mean over seeds)")


if __name__ == "__main__":
    main()
