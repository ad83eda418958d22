"""How well SIMScorer's nets estimate the fraction of flipped labels (``label_noise_``).

SIMS cuts the hardest ``label_noise_`` of the samples by default, so a biased
estimate moves the cut. Fashion-MNIST 10k training subset (the validation
protocol's subset of ``sims_dev.py``), symmetric label noise at several rates,
SIMScorer with its defaults (or scoring nets of another width). For each fit
it prints the true flipped fraction beside three estimates from the same
averaged softmax outputs:

* ``reported``: ``label_noise_``, the noisy-channel estimate of
  :func:`skprune.metrics.estimate_label_noise` (what SIMS cuts);
* ``calibrated``: 1 - trace of the confident joint after cleanlab's row
  calibration (rows rescaled to the given class counts);
* ``argmax``: the fraction whose predicted class is not the given label;
* ``confident``: the uncalibrated confident-joint count of
  :func:`skprune.metrics.confident_label_issues` (``label_issues_.mean()``,
  the estimate SIMS cut before issue 23);

and the precision and recall of the flagged samples for the flipped ones.

    OMP_NUM_THREADS=1 python benchmarks/noise_estimate.py
    OMP_NUM_THREADS=1 python benchmarks/noise_estimate.py --images
"""

from __future__ import annotations

import argparse

import numpy as np

from skprune import SIMScorer
from skprune.datasets import add_label_noise, load_fashion_mnist
from skprune.nets import infer, make_default_net


def calibrated_noise(proba, y):
    """1 - trace / n of the row-calibrated confident joint (cleanlab's calibration)."""
    n, n_classes = proba.shape
    counts = np.bincount(y, minlength=n_classes)
    thresholds = np.bincount(y, weights=proba[np.arange(n), y], minlength=n_classes) / counts
    confident = proba >= thresholds
    likeliest = np.where(confident, proba, -np.inf).argmax(axis=1)
    counted = confident.any(axis=1)
    joint = np.zeros((n_classes, n_classes))
    np.add.at(joint, (y[counted], likeliest[counted]), 1.0)
    joint *= (counts / np.maximum(joint.sum(axis=1), 1.0))[:, None]
    return 1.0 - np.trace(joint) / n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", action="store_true", help="28x28 images: default CNNs")
    parser.add_argument("--width", type=float, default=None, help="scoring nets' width (0.5)")
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.4])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--n-train", type=int, default=10000)
    args = parser.parse_args(argv)

    full = load_fashion_mnist(
        n_train=args.n_train + 5000, n_test=10, images=args.images, random_state=0
    )
    # sims_dev.py --eval validation's training subset.
    subset = np.random.default_rng(0).permutation(full.y_train.size)[: args.n_train]
    X, y_true = full.X_train[subset], full.y_train[subset]
    params = {}
    if args.width is not None:
        params["estimator"] = make_default_net(X, 10, max_epochs=2, device="cpu", width=args.width)
    print(
        f"# Fashion-MNIST {X.shape[0]} samples, {'CNN' if args.images else 'MLP'} scoring nets "
        f"of width {args.width or 0.5}, {args.seeds} seeds"
    )
    print("noise  seed  reported  calibrated  argmax  confident  precision  recall")
    table = {}
    for noise in args.noise:
        for seed in range(args.seeds):
            y, flipped = (y_true, np.zeros(y_true.size, bool))
            if noise > 0:
                y, flipped = add_label_noise(y_true, noise, random_state=seed)
            sim = SIMScorer(random_state=seed, **params).fit(X, y)
            proba = np.mean([infer(net, X).proba for net in sim.nets_], axis=0)
            flagged = sim.label_issues_  # confident learning on this mean output
            row = (
                sim.label_noise_,
                calibrated_noise(proba, y),
                float(np.mean(proba.argmax(axis=1) != y)),
                float(flagged.mean()),
            )
            table.setdefault(noise, []).append(row)
            precision = flipped[flagged].mean() if flagged.any() else float("nan")
            recall = flagged[flipped].mean() if flipped.any() else float("nan")
            print(
                f"{noise:5.2f}  {seed:4d}  {row[0]:8.3f}  {row[1]:10.3f}  {row[2]:6.3f}  "
                f"{row[3]:9.3f}  {precision:9.2f}  {recall:6.2f}",
                flush=True,
            )
    print("\nmedian estimate minus the true rate (reported / calibrated / argmax / confident):")
    for noise, rows in table.items():
        bias = np.median(np.array(rows), axis=0) - noise
        print(f"  noise {noise:.2f}: " + " / ".join(f"{b:+.3f}" for b in bias))


if __name__ == "__main__":
    main()
