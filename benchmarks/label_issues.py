"""Precision and recall of the label issues skprune flags, beside cleanlab's, on the same outputs.

On digits (sklearn's 1347 training images, flat) and a stratified Fashion-MNIST
training subset (flat, ``--n-train``), labels are flipped with 20% symmetric
and 30% asymmetric noise (:func:`skprune.datasets.add_label_noise`; asymmetric
sends every class to the next one) for ``--seeds`` seeds. Two sets of
predicted probabilities are scored:

* ``in``: the mean softmax of the nets of a default :class:`skprune.SIMScorer`
  fitted on the noisy data (each net's public ``predict_proba``), the outputs
  behind the scorer's ``label_issues_`` (the script checks that the two
  agree);
* ``out``: out-of-sample probabilities, ``sklearn.model_selection.cross_val_predict``
  (``--folds`` stratified folds) of skprune's default net
  (:func:`skprune.nets.make_default_net`, 10 epochs).

On each, three flag sets are compared with the true flips:

* ``skprune``: :func:`skprune.metrics.confident_label_issues` (= ``label_issues_``
  for ``in``);
* ``old``: the rule before commit 1c3f013, the same without the
  ``argmax(proba) != y`` term (reimplemented here);
* ``cleanlab``: ``cleanlab.filter.find_label_issues`` with its defaults
  (``filter_by="prune_by_noise_rate"``).

It prints per-seed rows, then the mean (± standard deviation over seeds) of
precision, recall, the number of flags, the Jaccard agreement of each rule
with cleanlab's flags, and the estimated noise rate (the flagged fraction;
``label_noise_`` for ``in``) against the true flipped fraction.

    OMP_NUM_THREADS=1 python benchmarks/label_issues.py
"""

from __future__ import annotations

import argparse
import subprocess
import time

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from skprune import SIMScorer
from skprune.datasets import add_label_noise, load_digits, load_fashion_mnist
from skprune.metrics import confident_label_issues
from skprune.nets import make_default_net, seeded

NOISE = (("symmetric", 0.2), ("asymmetric", 0.3))
RULES = ("skprune", "old", "cleanlab")


def old_confident_label_issues(proba, y):
    """The rule before 1c3f013: off-diagonal of the confident joint, argmax not checked."""
    n_samples, n_classes = proba.shape
    counts = np.bincount(y, minlength=n_classes)
    thresholds = np.bincount(y, weights=proba[np.arange(n_samples), y], minlength=n_classes)
    confident = proba >= thresholds / counts
    likeliest = np.where(confident, proba, -np.inf).argmax(axis=1)
    return confident.any(axis=1) & (likeliest != y)


def jaccard(a, b):
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0


def precision_recall(flags, flipped):
    precision = flipped[flags].mean() if flags.any() else np.nan
    return float(precision), float(flags[flipped].mean())


def load(name, n_train):
    if name == "digits":
        data = load_digits()
    else:
        data = load_fashion_mnist(n_train=n_train, n_test=10, random_state=0)
    return data.X_train, data.y_train


def in_sample_proba(X, y, seed, device):
    sim = SIMScorer(device=device, random_state=seed).fit(X, y)
    proba = np.mean([net.predict_proba(X) for net in sim.nets_], axis=0)
    mismatch = int(np.count_nonzero(confident_label_issues(proba, y) != sim.label_issues_))
    return proba, sim.label_noise_, mismatch


def out_of_sample_proba(X, y, seed, folds, device):
    net = make_default_net(X, int(y.max()) + 1, device=device)
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    with seeded(seed):
        return cross_val_predict(net, X, y, cv=cv, method="predict_proba")


def evaluate(proba, y, flipped):
    from cleanlab.filter import find_label_issues

    flags = {
        "skprune": confident_label_issues(proba, y),
        "old": old_confident_label_issues(proba, y),
        "cleanlab": find_label_issues(y, proba, n_jobs=1),
    }
    row = {}
    for rule, mask in flags.items():
        row[f"{rule}_precision"], row[f"{rule}_recall"] = precision_recall(mask, flipped)
        row[f"{rule}_flags"] = int(mask.sum())
        row[f"{rule}_rate"] = float(mask.mean())
        row[f"{rule}_jaccard"] = jaccard(mask, flags["cleanlab"])
    # Of the flags skprune raises and cleanlab does not, how many are true flips.
    only = flags["skprune"] & ~flags["cleanlab"]
    row["skprune_only"] = int(only.sum())
    row["skprune_only_flipped"] = int((only & flipped).sum())
    row["accuracy_given"] = float(np.mean(proba.argmax(axis=1) == y))
    return row


def summary(rows):
    mean = {key: np.nanmean([r[key] for r in rows]) for key in rows[0]}
    std = {key: np.nanstd([r[key] for r in rows]) for key in rows[0]}
    return mean, std


def _code_version():
    """HEAD and the uncommitted files of skprune/, so the log says what it measured."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "skprune"], capture_output=True, text=True
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    changed = [line[3:] for line in dirty if line.strip()]
    return head + (f" + uncommitted {', '.join(changed)}" if changed else "")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "fashion"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--n-train", type=int, default=10000, help="Fashion-MNIST subset size")
    parser.add_argument("--folds", type=int, default=5, help="folds of the out-of-sample pass")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    import cleanlab

    print(f"# code: {_code_version()}")
    print(
        f"# label issues vs the true flips; SIMScorer defaults (in-sample), {args.folds}-fold "
        f"cross_val_predict of make_default_net (out-of-sample); cleanlab {cleanlab.__version__} "
        f"find_label_issues defaults; {args.seeds} seeds"
    )
    print(
        "dataset  noise      seed  probs  true   acc    | skprune P/R  flags  J    | "
        "old P/R      flags  J    | cleanlab P/R flags | sk-only(flipped)  label_noise_"
    )
    results, mismatches = {}, 0
    for dataset in args.datasets:
        X, y_true = load(dataset, args.n_train)
        for kind, rate in NOISE:
            for seed in range(args.seeds):
                y, flipped = add_label_noise(y_true, rate, kind=kind, random_state=seed)
                start = time.perf_counter()
                proba_in, label_noise, mismatch = in_sample_proba(X, y, seed, args.device)
                mismatches += mismatch
                if mismatch:
                    print(f"  !! label_issues_ differs from the rule on its nets' mean: {mismatch}")
                proba_out = out_of_sample_proba(X, y, seed, args.folds, args.device)
                for probs, proba in (("in", proba_in), ("out", proba_out)):
                    row = evaluate(proba, y, flipped)
                    row["true_rate"] = float(flipped.mean())
                    results.setdefault((dataset, f"{kind[:4]} {rate:.1f}", probs), []).append(row)
                    noise_text = f"{label_noise:.3f}" if probs == "in" else ""
                    print(
                        f"{dataset:8s} {kind[:4]} {rate:.1f}   {seed:4d}  {probs:5s}  "
                        f"{row['true_rate']:.3f}  {row['accuracy_given']:.3f}  | "
                        + " | ".join(
                            f"{row[f'{r}_precision']:.3f}/{row[f'{r}_recall']:.3f} "
                            f"{row[f'{r}_flags']:5d}"
                            + ("" if r == "cleanlab" else f"  {row[f'{r}_jaccard']:.2f}")
                            for r in RULES
                        )
                        + f" | {row['skprune_only']:5d} ({row['skprune_only_flipped']:4d})"
                        + f"      {noise_text}",
                        flush=True,
                    )
                print(f"  ({time.perf_counter() - start:.1f} s)", flush=True)

    print("\n## mean ± sd over seeds (P = precision, R = recall against the true flips; ")
    print("## J = Jaccard with cleanlab's flags; rate = flagged fraction, the noise estimate)")
    header = (
        "| dataset | noise | probs | true rate | skprune P | skprune R | old P | old R | "
        "cleanlab P | cleanlab R | J skprune | J old | rate skprune | rate old | rate cleanlab | "
        "skprune-only flags (flipped) |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for (dataset, noise, probs), rows in results.items():
        mean, std = summary(rows)

        def cell(key, mean=mean, std=std):
            return f"{mean[key]:.3f} ± {std[key]:.3f}"

        print(
            f"| {dataset} | {noise} | {probs} | {mean['true_rate']:.3f} | "
            + " | ".join(
                cell(key)
                for key in (
                    "skprune_precision",
                    "skprune_recall",
                    "old_precision",
                    "old_recall",
                    "cleanlab_precision",
                    "cleanlab_recall",
                    "skprune_jaccard",
                    "old_jaccard",
                    "skprune_rate",
                    "old_rate",
                    "cleanlab_rate",
                )
            )
            + f" | {mean['skprune_only']:.1f} ({mean['skprune_only_flipped']:.1f}) |"
        )
    print(
        f"\nlabel_issues_ differed from the rule on its nets' mean softmax in "
        f"{mismatches} samples over all in-sample fits"
    )


if __name__ == "__main__":
    main()
