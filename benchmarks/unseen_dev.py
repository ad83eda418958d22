"""Development benchmark for UNSEEN: score stability, coreset accuracy and cost.

Three parts, each on a stratified Fashion-MNIST subset (official test set for accuracy):

1. ``stability``: rank stability between two seeds (Spearman = Pearson of ranks) and the
   spread of the score distribution, for UNSEEN (:class:`~skprune.UnseenScorer`, K subsets)
   versus the same metric from a model trained on all data ("fitting",
   :class:`~skprune.TrainingDynamicsScorer`), in two regimes: the default MLP with its
   default epochs on clean labels, and a memorizing regime (MLP 512-512 trained with Adam
   for many epochs on labels with 20% noise). Saves the score histograms (Fig. 1a).
2. ``coresets``: test accuracy of the default MLP trained on coresets (equal SGD steps as
   the full data) selected at random, as the hardest by fitting scores, as the hardest
   by UNSEEN scores, and by multi-step UNSEEN (``CoresetSelector(n_steps=3)``).
3. ``cost`` (measured inside ``coresets``): wall time of one single-step UnseenScorer fit
   over one full training of the same scoring net on all the data.

    python benchmarks/unseen_dev.py --n-train 10000 --seeds 3 \
        --out-dir benchmarks/results --fig docs/images/unseen_histograms.png

A control for the averaging UNSEEN does (K - 1 models per sample) adds fitting scores
averaged over several independently seeded models::

    python benchmarks/unseen_dev.py --parts stability --fit-ensembles 2 4 --tag _ensembles \
        --out-dir benchmarks/results

Spread is measured on scores mapped to [0, 1] by the metric's range (margin: 1 + m, so 0
is a fully confident sample and 1 a tie between the top two classes; entropy: H / ln C):
std and interquartile range of those, and the share of samples "crowded" below 0.01 (the
model is almost certain of them, so the ranking among them is arbitrary).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

import numpy as np
import torch
from scipy.stats import spearmanr
from skorch import NeuralNetClassifier
from torch import nn

from skprune import CoresetSelector, TrainingDynamicsScorer, UnseenScorer
from skprune.benchmark import (
    equal_step_epochs,
    format_by_ratio,
    summarize,
    train_and_evaluate,
    write_csv,
)
from skprune.datasets import add_label_noise, load_fashion_mnist
from skprune.nets import MLP, SmallCNN, infer
from skprune.sampling import select
from skprune.scorers.dynamics import snapshot_difficulty


class AugmentedMLP(MLP):
    """MLP on 28x28 images that augments its input in training mode.

    ``augment="shift"`` shifts each image by up to 2 pixels and flips it
    horizontally with probability 1/2 (a CIFAR-style augmentation);
    ``augment="noise"`` adds Gaussian pixel noise (std 0.2, pixels in [0, 1]).
    Scores are computed in eval mode, on the images as they are.
    """

    def __init__(self, *args, augment="shift", **kwargs):
        super().__init__(*args, **kwargs)
        self.augment = augment

    def forward(self, X):
        if self.training:
            X = _augment(X) if self.augment == "shift" else X + 0.2 * torch.randn_like(X)
        return super().forward(X)


class AugmentedCNN(SmallCNN):
    """:class:`~skprune.nets.SmallCNN` on flat 28x28 images, augmented like
    :class:`AugmentedMLP` in training mode."""

    def forward(self, X):
        if self.training:
            X = _augment(X)
        return super().forward(X.view(-1, 28, 28))


class CNN(SmallCNN):
    """:class:`~skprune.nets.SmallCNN` on flat 28x28 images."""

    def forward(self, X):
        return super().forward(X.view(-1, 28, 28))


def _augment(X, side=28, pad=2):
    images = nn.functional.pad(X.view(-1, side, side), (pad, pad, pad, pad))
    n = images.shape[0]
    offset_rows = torch.randint(0, 2 * pad + 1, (n, 1), device=X.device)
    offset_cols = torch.randint(0, 2 * pad + 1, (n, 1), device=X.device)
    span = torch.arange(side, device=X.device)
    rows = (offset_rows + span)[:, :, None]
    cols = (offset_cols + span)[:, None, :]
    flip = torch.rand(n, device=X.device) < 0.5
    cols = torch.where(flip[:, None, None], cols.flip(-1), cols)
    crops = images[torch.arange(n, device=X.device)[:, None, None], rows, cols]
    return crops.reshape(n, side * side)


def wide_net(n_features, n_classes, epochs, augment=None, cnn=False):
    """The memorizing net: MLP 512-512 or SmallCNN, Adam, no regularization
    (optionally augmented)."""
    if cnn:
        module = {"module": AugmentedCNN if augment else CNN, "module__in_channels": 1}
    else:
        module = {
            "module": AugmentedMLP if augment else MLP,
            "module__n_features": n_features,
            "module__hidden_units": (512, 512),
        }
        if augment:
            module["module__augment"] = augment
    return NeuralNetClassifier(
        **module,
        module__n_classes=n_classes,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=epochs,
        batch_size=128,
        iterator_train__shuffle=True,
        train_split=None,
        device="cpu",
        verbose=0,
    )


def normalized(metric, scores, n_classes):
    """Scores mapped to [0, 1] by the metric's range (see the module docstring)."""
    if metric == "margin":
        return 1.0 + scores
    if metric == "entropy":
        return scores / np.log(n_classes)
    raise ValueError(metric)


def fitting_scores(X, y, metrics, estimator, epochs, seed, n_models=1):
    """Fitting scores of every metric from one TrainingDynamicsScorer fit (one model).

    The first metric comes from the scorer; the others are read from the same fitted
    net (the library would retrain one net per metric).
    """
    start = time.perf_counter()
    scorer = TrainingDynamicsScorer(
        metrics[0],
        estimator=estimator,
        n_models=n_models,
        max_epochs=epochs,
        device="cpu",
        random_state=seed,
    ).fit(X, y)
    elapsed = time.perf_counter() - start
    proba = np.stack([infer(net, X).proba for net in scorer.nets_])
    out = {metrics[0]: scorer.scores_}
    for m in metrics[1:]:
        out[m] = snapshot_difficulty(m, proba, y)
    train_acc = float((proba.mean(axis=0).argmax(axis=1) == y).mean())
    return out, elapsed, train_acc


def unseen_scores(X, y, metrics, k, estimator, epochs, seed, n_repeats=1):
    """Cross-fitted scores of every metric from one UnseenScorer fit.

    The other metrics are recomputed from ``nets_`` / ``subsets_`` exactly as the scorer
    does (mean over the R · (K - 1) models that did not train on a sample).
    """
    start = time.perf_counter()
    scorer = UnseenScorer(
        metrics[0],
        n_subsets=k,
        n_repeats=n_repeats,
        estimator=estimator,
        max_epochs=epochs,
        device="cpu",
        random_state=seed,
    ).fit(X, y)
    elapsed = time.perf_counter() - start
    out = {metrics[0]: scorer.scores_}
    totals = {m: np.zeros(y.size) for m in metrics[1:]}
    sub_accs = []
    for j, net in enumerate(scorer.nets_):
        trained = scorer.subsets_[j // k] == j % k
        proba = infer(net, X).proba  # one pass per net: held-out scores and subset accuracy
        for m in metrics[1:]:
            totals[m][~trained] += snapshot_difficulty(m, proba[~trained], y[~trained])
        sub_accs.append((proba[trained].argmax(1) == y[trained]).mean())
    for m in metrics[1:]:
        out[m] = totals[m] / (n_repeats * (k - 1))
    return out, elapsed, float(np.mean(sub_accs))


def spread(metric, scores, n_classes):
    s = normalized(metric, scores, n_classes)
    q1, q3 = np.percentile(s, [25, 75])
    return float(np.std(s)), float(q3 - q1), float((s < 0.01).mean())


# --- part 1: stability and spread ------------------------------------------------


def stability(args, out):
    regimes = [] if args.skip_default else [("default", args.n_train, 0.0, None, args.score_epochs)]
    if not args.skip_memorize:
        regimes.append(
            ("memorize", args.memorize_n_train, args.noise, "wide", args.memorize_epochs)
        )
    rows, hist = [], {}
    for regime, n_train, noise, kind, epochs in regimes:
        data = load_fashion_mnist(n_train=n_train, n_test=10, random_state=0)
        X, y = data.X_train, data.y_train
        n_classes = int(y.max()) + 1
        if noise > 0:
            y, _ = add_label_noise(y, noise, random_state=0)
        augment = kind == "wide" and args.augment
        estimator = None
        net_name = "default MLP 256 SGD"
        if kind == "wide":
            estimator = wide_net(X.shape[1], n_classes, epochs, augment, args.cnn)
            net_name = "SmallCNN Adam" if args.cnn else "MLP 512-512 Adam"
        out.write(
            f"\n# stability regime={regime}: {y.size} train, label noise={noise}, "
            f"net={net_name}{f' + {augment} augmentation' if augment else ''}, epochs={epochs}, "
            f"rank seeds={list(range(args.rank_seeds))}\n"
        )
        out.flush()
        per_seed = {}
        for seed in range(args.rank_seeds):
            scores, t, acc = fitting_scores(X, y, args.metrics, estimator, epochs, seed)
            per_seed[("fitting", seed)] = scores
            out.write(
                f"  seed={seed} fitting: {t:.1f}s, training accuracy (on the labels "
                f"used, noisy ones included) {acc:.4f}\n"
            )
            rows.append(dict(regime=regime, seed=seed, scorer="fitting", train_acc=acc, time=t))
            for k in args.ks:
                for repeats in args.unseen_repeats:
                    name = f"unseen K={k}" + (f" x{repeats} partitions" if repeats > 1 else "")
                    scores, t, acc = unseen_scores(
                        X, y, args.metrics, k, estimator, epochs, seed, repeats
                    )
                    per_seed[(name, seed)] = scores
                    out.write(
                        f"  seed={seed} {name}: {t:.1f}s, subset models' training "
                        f"accuracy {acc:.4f}\n"
                    )
                    rows.append(dict(regime=regime, seed=seed, scorer=name, train_acc=acc, time=t))
                    out.flush()
            for n in args.fit_ensembles:
                scores, t, acc = fitting_scores(X, y, args.metrics, estimator, epochs, seed, n)
                per_seed[(f"fitting x{n} models", seed)] = scores
                out.write(f"  seed={seed} fitting x{n} models: {t:.1f}s, train acc {acc:.4f}\n")
                rows.append(
                    dict(regime=regime, seed=seed, scorer=f"fitting x{n}", train_acc=acc, time=t)
                )
                out.flush()
        names = list(dict.fromkeys(name for name, _ in per_seed))
        out.write(
            f"\n## regime={regime}: rank stability (Spearman between seeds 0 and 1) and spread "
            "of seed-0 scores in [0, 1]\n\n"
            "| scores | metric | Spearman | std | IQR | share < 0.01 |\n|---|---|---|---|---|---|\n"
        )
        for name in names:
            for m in args.metrics:
                a, b = per_seed[(name, 0)][m], per_seed[(name, 1)][m]
                rho = float(spearmanr(a, b).statistic)
                sd, iqr, crowded = spread(m, a, n_classes)
                out.write(f"| {name} | {m} | {rho:.3f} | {sd:.3f} | {iqr:.3f} | {crowded:.3f} |\n")
                rows.append(
                    dict(
                        regime=regime,
                        seed="0-1",
                        scorer=name,
                        metric=m,
                        spearman=rho,
                        std=sd,
                        iqr=iqr,
                        crowded=crowded,
                    )
                )
                hist[(regime, name, m)] = normalized(m, a, n_classes)
        out.flush()
    if args.out_dir:
        write_csv(rows, os.path.join(args.out_dir, f"unseen_fashion_stability{args.tag}.csv"))
    if args.fig:
        plot_histograms(hist, args)


def plot_histograms(hist, args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    regimes = list(dict.fromkeys(r for r, _, _ in hist))
    k = max(args.ks)
    fig, axes = plt.subplots(
        len(regimes), len(args.metrics), figsize=(4.5 * len(args.metrics), 3.2 * len(regimes))
    )
    axes = np.atleast_2d(axes)
    bins = np.linspace(0, 1, 51)
    labels = {"margin": "1 + margin (1 = tie)", "entropy": "entropy / ln C"}
    for i, regime in enumerate(regimes):
        for j, m in enumerate(args.metrics):
            ax = axes[i, j]
            for name, color in (("fitting", "tab:red"), (f"unseen K={k}", "tab:blue")):
                ax.hist(hist[(regime, name, m)], bins=bins, alpha=0.55, color=color, label=name)
            ax.set_yscale("log")
            ax.set_title(f"{regime}: {m}")
            ax.set_xlabel(labels[m])
            ax.set_ylabel("samples")
            ax.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(args.fig) or ".", exist_ok=True)
    fig.savefig(args.fig, dpi=110)
    print(f"\nsaved {args.fig}")


# --- part 2 and 3: coresets and cost ---------------------------------------------


def train_and_test(X, y, X_test, y_test, n_classes, epochs, seed, n_full=None):
    if n_full:
        # As many SGD steps as on all the data, so a small coreset is not just undertrained.
        epochs = equal_step_epochs(epochs, n_full, len(y))
    return train_and_evaluate(
        X, y, X_test, y_test, n_classes=n_classes, epochs=epochs, seed=seed, device="cpu"
    )


def coresets(args, out):
    data = load_fashion_mnist(n_train=args.n_train, n_test=args.n_test, random_state=0)
    X, X_test, y, y_test = data.X_train, data.X_test, data.y_train, data.y_test
    n_classes = int(y.max()) + 1
    out.write(
        f"\n# coresets: {y.size} train / {y.size and y_test.size} test, clean labels, "
        f"epochs={args.epochs} (equal-steps), scoring epochs={args.score_epochs}, "
        f"seeds={args.seeds}\n"
    )
    out.flush()
    rows, costs = [], []
    for seed in range(args.seeds):
        start = time.perf_counter()
        full_acc = train_and_test(X, y, X_test, y_test, n_classes, args.score_epochs, seed)
        full_time = time.perf_counter() - start
        rows.append(dict(seed=seed, method="full", ratio=0.0, n_kept=y.size, accuracy=full_acc))
        scores = {}
        fit, fit_time, _ = fitting_scores(X, y, args.metrics, None, args.score_epochs, seed)
        for m in args.metrics:
            scores[f"fitting_{m}"] = fit[m]
        cost = dict(seed=seed, full_time=full_time, fitting_time=fit_time)
        for k in args.ks:
            for repeats in args.unseen_repeats:
                uns, t, _ = unseen_scores(
                    X, y, args.metrics, k, None, args.score_epochs, seed, repeats
                )
                tag = f"{k}x{repeats}" if repeats > 1 else f"{k}"
                cost[f"unseen_K{tag}_time"] = t
                for m in args.metrics:
                    scores[f"unseen{tag}_{m}"] = uns[m]
        costs.append(cost)
        out.write(
            f"seed={seed} full={full_acc:.4f} (training {full_time:.1f}s); "
            + ", ".join(f"{key}={v:.1f}s" for key, v in cost.items() if key.endswith("_time"))
            + "\n"
        )
        out.flush()
        methods = {"random": ("random", None)}
        for name, s in scores.items():
            methods[f"hard_{name}"] = ("hard", s)
        for ratio in args.ratios:
            for name, (strategy, difficulty) in methods.items():
                picked = select(strategy, difficulty, y, ratio, random_state=seed).indices
                acc = train_and_test(
                    X[picked], y[picked], X_test, y_test, n_classes, args.epochs, seed, y.size
                )
                rows.append(
                    dict(seed=seed, method=name, ratio=ratio, n_kept=picked.size, accuracy=acc)
                )
                out.write(f"  {name:24s} ratio={ratio} acc={acc:.4f}\n")
                out.flush()
            if ratio not in args.multi_ratios:
                continue
            for m in args.metrics:
                name = f"unseen{args.multi_k}_{m}_steps{args.n_steps}"
                start = time.perf_counter()
                selector = CoresetSelector(
                    UnseenScorer(
                        m, n_subsets=args.multi_k, max_epochs=args.score_epochs, device="cpu"
                    ),
                    pruning_ratio=ratio,
                    strategy="hard",
                    n_steps=args.n_steps,
                    min_per_class=args.multi_min_per_class,
                    random_state=seed,
                ).fit(X, y)
                t = time.perf_counter() - start
                picked = selector.sample_indices_
                acc = train_and_test(
                    X[picked], y[picked], X_test, y_test, n_classes, args.epochs, seed, y.size
                )
                rows.append(
                    dict(seed=seed, method=name, ratio=ratio, n_kept=picked.size, accuracy=acc)
                )
                out.write(f"  {name:24s} ratio={ratio} acc={acc:.4f} (selection {t:.1f}s)\n")
                out.flush()
    if args.out_dir:
        write_csv(rows, os.path.join(args.out_dir, "unseen_fashion_coresets.csv"))
        write_csv(costs, os.path.join(args.out_dir, "unseen_fashion_cost.csv"))
    report(rows, costs, args, out)


def report(rows, costs, args, out):
    summary = summarize(rows)
    full = next(s for s in summary if s["method"] == "full")
    out.write(
        f"\n## coresets: mean ± std test accuracy over {args.seeds} seeds, (points vs "
        f"random) (full data {full['accuracy_mean']:.4f} ± {full['accuracy_std']:.4f})\n\n"
    )
    out.write(format_by_ratio(summary) + "\n")
    out.write(
        "\n## cost: scoring time / one full training of the scoring net "
        f"(median over {len(costs)} seeds)\n\n"
    )
    full = np.array([c["full_time"] for c in costs])
    out.write(f"one full training: median {np.median(full):.2f}s\n")
    for key in costs[0]:
        if key.endswith("_time") and key != "full_time":
            ratio = np.median([c[key] / c["full_time"] for c in costs])
            out.write(
                f"{key[:-5]}: median {np.median([c[key] for c in costs]):.2f}s, ratio {ratio:.3f}\n"
            )
    out.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", choices=["stability", "coresets"],
                        default=["stability", "coresets"])  # fmt: skip
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--n-test", type=int, default=5000)
    parser.add_argument("--metrics", nargs="+", default=["margin", "entropy"])
    parser.add_argument("--ks", type=int, nargs="+", default=[3, 5], help="UNSEEN subsets K")
    parser.add_argument(
        "--fit-ensembles",
        type=int,
        nargs="*",
        default=[],
        help="control: fitting scores averaged over this many models (UNSEEN averages K - 1)",
    )
    parser.add_argument(
        "--unseen-repeats",
        type=int,
        nargs="+",
        default=[1],
        help="UnseenScorer n_repeats values (independent partitions averaged)",
    )
    parser.add_argument("--rank-seeds", type=int, default=2)
    parser.add_argument("--score-epochs", type=int, default=10, help="scoring net epochs")
    parser.add_argument("--skip-memorize", action="store_true")
    parser.add_argument("--skip-default", action="store_true", help="memorizing regime only")
    parser.add_argument("--cnn", action="store_true", help="memorizing net: SmallCNN")
    parser.add_argument(
        "--augment",
        choices=["shift", "noise"],
        default=None,
        help="memorizing net trains on shifted (up to 2 px) and flipped images, or with "
        "Gaussian pixel noise",
    )
    parser.add_argument("--memorize-n-train", type=int, default=5000)
    parser.add_argument("--memorize-epochs", type=int, default=100)
    parser.add_argument("--noise", type=float, default=0.2, help="label noise, memorizing")
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.3, 0.5, 0.7, 0.9])
    parser.add_argument(
        "--multi-ratios", type=float, nargs="*", default=[0.7, 0.9], help="none: no multi-step"
    )
    parser.add_argument("--multi-k", type=int, default=3)
    parser.add_argument("--n-steps", type=int, default=3)
    parser.add_argument("--multi-min-per-class", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10, help="target training epochs")
    parser.add_argument("--out-dir", default=None)
    parser.add_argument("--fig", default=None)
    parser.add_argument("--tag", default="", help="suffix of the stability CSV name")
    args = parser.parse_args(argv)
    out = sys.stdout
    out.write("$ python " + " ".join(shlex.quote(a) for a in sys.argv) + "\n")
    out.write(f"torch threads={torch.get_num_threads()}\n")
    out.flush()
    if "stability" in args.parts:
        stability(args, out)
    if "coresets" in args.parts:
        coresets(args, out)


if __name__ == "__main__":
    main()
