"""Class-difficulty-aware budget on / off (UNSEEN's "prioritize hard classes").

Fashion-MNIST subset, default MLP trained for as many SGD steps as on the full subset.
Scores: UNSEEN margin (K = 3) with the "hard" rule, and SIM with the "sims" rule; class
budget proportional to class size (``class_difficulty=0``) or tilted towards hard
classes (``class_difficulty=1``). Random selection measured in the same run.

    python benchmarks/class_budget.py --seeds 3 --ratios 0.5 0.7 0.9
"""

from __future__ import annotations

import argparse

import numpy as np

from skprune import SIMScorer, UnseenScorer
from skprune.datasets import load_fashion_mnist
from skprune.nets import make_default_net, seeded
from skprune.sampling import select


def accuracy(X, y, X_test, y_test, n_full, epochs, seed):
    net = make_default_net(X, 10, max_epochs=int(np.ceil(epochs * n_full / len(y))), device="cpu")
    with seeded(seed):
        net.fit(X, y)
    return float((net.predict(X_test) == y_test).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--n-test", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.5, 0.7, 0.9])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    X, X_test, y, y_test = load_fashion_mnist(n_train=args.n_train, n_test=args.n_test)
    results = {}
    for seed in range(args.seeds):
        scores = {
            "unseen_margin/hard": UnseenScorer("margin", random_state=seed).fit(X, y).scores_,
            "sim/sims": SIMScorer(random_state=seed).fit(X, y).scores_,
        }
        for ratio in args.ratios:
            runs = [("random", "random", None, 0.0)]
            for name, difficulty in scores.items():
                strategy = name.split("/")[1]
                runs += [(f"{name} λ={w:g}", strategy, difficulty, w) for w in (0.0, 1.0)]
            for label, strategy, difficulty, weight in runs:
                picked = select(
                    strategy,
                    difficulty,
                    y,
                    ratio,
                    class_balance="proportional",
                    class_difficulty=weight,
                    random_state=seed,
                ).indices
                acc = accuracy(X[picked], y[picked], X_test, y_test, y.size, args.epochs, seed)
                results.setdefault(label, {}).setdefault(ratio, []).append(acc)
                print(f"seed={seed} ratio={ratio} {label:28s} acc={acc:.4f}", flush=True)
    print(f"\n## mean ± std test accuracy over {args.seeds} seeds (difference to random)\n")
    print("| method | " + " | ".join(f"α={r}" for r in args.ratios) + " |")
    print("|---|" + "---|" * len(args.ratios))
    for label, by_ratio in results.items():
        cells = []
        for r in args.ratios:
            diff = np.mean(by_ratio[r]) - np.mean(results["random"][r])
            cells.append(f"{np.mean(by_ratio[r]):.4f} ± {np.std(by_ratio[r]):.4f} ({diff:+.4f})")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
