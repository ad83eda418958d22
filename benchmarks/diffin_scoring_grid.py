"""How the scoring net's step size and checkpoint count change Diff-In's mislabel detection.

For every seed, 20% of the training labels are flipped; for every plain-SGD
step size and checkpoint count, a :class:`skprune.DiffInScorer` is fitted with
the validation target on a clean held-out set (``clean``: training-file images
outside the subset, Fashion-MNIST only) and on the default split of the noisy
data (``split``). Printed per setting: ROC-AUC of the "most harmful" ranking
(low influence) for the flipped labels, and the share of flipped labels among
the 5% most harmful, for Diff-In (``influence``) and TracIn (``first_order``,
the same checkpoints). Means over seeds are printed last.

    python benchmarks/diffin_scoring_grid.py --dataset fashion --seeds 3 \\
        --lrs 0.1 0.05 0.02 0.01 --checkpoints 5 10
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _common import fashion_clean_target, plain_sgd_net
from sklearn.metrics import roc_auc_score

from skprune import DiffInScorer
from skprune.datasets import add_label_noise, load_digits, load_fashion_mnist


def _data(dataset, n_train, n_clean):
    if dataset == "digits":
        X, _, y, _ = load_digits()
        return X, y, None
    split = load_fashion_mnist(n_train=n_train, n_test=10, random_state=0)
    return split.X_train, split.y_train, fashion_clean_target(split.X_train, n_clean)


def _lr(text):
    return None if text == "default" else float(text)


def _name(lr):
    return "default" if lr is None else f"{lr:g}"


def _diagnose(scorer, flipped, n_top):
    """The second-order term on its own; the range of the target gradient over checkpoints."""
    _, first, second = scorer.components_.T
    norms = [float(np.linalg.norm(d["target"])) for d in scorer.directions_]
    print(
        f"    second order alone: ROC-AUC {roc_auc_score(flipped, -second):.3f}, flipped among "
        f"its top 5% {flipped[np.argsort(second)[:n_top]].mean():.2f}, std {second.std():.3g} "
        f"(first order {first.std():.3g}), correlation with the first order "
        f"{np.corrcoef(first, second)[0, 1]:+.2f}; |G_V| over checkpoints "
        f"{min(norms):.3g} to {max(norms):.3g}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["fashion", "digits"], default="fashion")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--lrs",
        type=_lr,
        nargs="+",
        default=[0.1, 0.05, 0.02, 0.01],
        help="step sizes of an explicit plain-SGD net; 'default' = DiffInScorer's own net",
    )
    parser.add_argument("--checkpoints", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--noise", type=float, default=0.2)
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--n-clean", type=int, default=1000)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    X, y, clean = _data(args.dataset, args.n_train, args.n_clean)
    targets = [("split", None)] if clean is None else [("clean", clean), ("split", None)]
    n_top = int(round(0.05 * y.size))
    print(f"{args.dataset}: {y.size} training samples, {args.noise:.0%} flipped labels")
    print("seed lr m target: estimate ROC-AUC, flipped among the 5% most harmful; accuracy")
    results = {}
    for seed in range(args.seeds):
        y_noisy, flipped = add_label_noise(y, args.noise, random_state=seed)
        for lr in args.lrs:
            for m in args.checkpoints:
                for target, validation_data in targets:
                    net = None
                    if lr is not None:
                        net = plain_sgd_net(X, 10, lr=lr, max_epochs=args.epochs)
                    scorer = DiffInScorer(
                        estimator=net,
                        max_epochs=args.epochs,
                        n_checkpoints=m,
                        validation_data=validation_data,
                        random_state=seed,
                    ).fit(X, y_noisy)
                    accuracy = float(np.mean(scorer.net_.predict(X) == y))
                    cells = []
                    for name, column in [("diffin", 0), ("tracin", 1)]:
                        influence = scorer.components_[:, column]
                        top = np.argsort(influence)[:n_top]
                        row = (roc_auc_score(flipped, -influence), flipped[top].mean(), accuracy)
                        results.setdefault((lr, m, target, name), []).append(row)
                        cells.append(f"{name} {row[0]:.3f} {row[1]:.2f}")
                    print(
                        f"{seed} {_name(lr)} {m} {target}: {', '.join(cells)}; lr x steps "
                        f"{scorer.checkpoints_[0]['learning_rate'] * scorer.total_steps_:.1f}, "
                        f"clean accuracy {accuracy:.3f}",
                        flush=True,
                    )
                    _diagnose(scorer, flipped, n_top)
    print("mean over seeds: ROC-AUC, flipped among the top 5%, clean accuracy of the scoring net")
    for (lr, m, target, name), rows in results.items():
        auc, purity, accuracy = np.mean(rows, axis=0)
        print(
            f"  lr {_name(lr):<7} m {m:<3} {target:<6} {name:<7} {auc:.3f} {purity:.2f} "
            f"{accuracy:.3f}"
        )


if __name__ == "__main__":
    main()
