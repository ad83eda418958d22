"""Diff-In benchmark: coresets, data cleaning and cost, with TracIn on the same checkpoints.

Parts (``--parts``):

- ``coreset``: test accuracy of coresets kept by Diff-In and TracIn influence
  (``hard`` rule: keep the most helpful, drop the harmful tail first) beside
  random selection and the full data, on clean labels; equal SGD steps for
  every coreset (the shared harness, :mod:`skprune.benchmark`).
- ``cleaning``: 20% symmetric label noise; remove 5% of the training set —
  the most harmful by Diff-In / TracIn (validation target), the most
  self-influential by TracIn (``target="self"``; Diff-In's self-influence
  costs ``hessian_batch_size`` sample gradients per sample, too slow here), or
  at random — and train on the rest. An oracle that removes flipped labels
  only bounds what any cleaning score can gain (``--clean-fraction`` sets the
  share removed, ``--cleaning-methods`` picks rows).
- ``detection``: how well each ranking finds the flipped labels (ROC-AUC).
- ``cost``: wall time of the influence computation of Diff-In vs TracIn on the
  same checkpoints; per-sample throughput of ``jvp`` directional derivatives
  and of ``vmap`` per-sample gradients; growth of peak memory from N to 4N.

    python benchmarks/diffin_dev.py --parts coreset cleaning cost --seeds 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

from skprune import DiffInScorer
from skprune.benchmark import Method, format_by_ratio, run_benchmark, summarize, write_csv
from skprune.datasets import load_fashion_mnist


def _diffin(variant, target="validation", validation_data=None):
    def factory(*, epochs, random_state, device):
        return DiffInScorer(
            variant=variant,
            target=target,
            validation_data=validation_data,
            max_epochs=epochs,
            device=device,
            random_state=random_state,
        )

    where = "a clean held-out set" if validation_data is not None else "a split of the data"
    factory.__doc__ = f"DiffInScorer(variant={variant!r}, target={target!r}) on {where}."
    return factory


SCORERS = {
    "diffin": _diffin("full"),
    "tracin": _diffin("tracin"),
    "tracin-self": _diffin("tracin", "self"),
}


def coreset(data, args):
    methods = [
        Method("random", None, "random"),
        Method("hard/diffin", "diffin", "hard"),
        Method("hard/tracin", "tracin", "hard"),
        Method("ccs/diffin", "diffin", "ccs"),
        Method("sims/diffin", "diffin", "sims"),
        Method("moderate/diffin", "diffin", "moderate"),
    ]
    rows = run_benchmark(
        *data,
        methods,
        args.ratios,
        list(range(args.seeds)),
        epochs=args.epochs,
        scorers=SCORERS,
        progress=True,
    )
    write_csv(rows, "benchmarks/results/diffin_coreset.csv")
    print(format_by_ratio(summarize(rows)))


def _clean_target(data, args):
    """A clean target set: training-file images outside the training subset."""
    extra = load_fashion_mnist(n_train=args.n_train + args.n_clean_val, n_test=10, random_state=0)
    train_rows = {row.tobytes() for row in data[0]}
    outside = np.array([row.tobytes() not in train_rows for row in extra.X_train])
    clean = (extra.X_train[outside][: args.n_clean_val], extra.y_train[outside][: args.n_clean_val])
    print(f"clean target set: {clean[1].size} training-file images outside the subset")
    return clean


class _FlippedLabelOracle:
    """Knows which training labels were flipped: the bound on what any cleaning score can do.

    ``scores_`` is −1 for a flipped label and 0 otherwise (plus a tiny seeded
    jitter that orders each group at random), so the ``hard`` rule drops
    flipped labels first.
    """

    def __init__(self, y_clean, random_state):
        self.y_clean = y_clean
        self.random_state = random_state

    def fit(self, X, y):
        jitter = np.random.default_rng(self.random_state).uniform(0, 1e-3, size=len(y))
        self.scores_ = -(np.asarray(y) != self.y_clean).astype(float) + jitter
        return self


def cleaning(data, args):
    clean = _clean_target(data, args)
    y_clean = data[1]
    scorers = {
        **SCORERS,
        "diffin-clean": _diffin("full", validation_data=clean),
        "tracin-clean": _diffin("tracin", validation_data=clean),
        "oracle": lambda *, epochs, random_state, device: _FlippedLabelOracle(
            y_clean, random_state
        ),
    }
    methods = [
        Method("random", None, "random"),
        Method("drop-flipped/oracle", "oracle", "hard"),
        Method("drop-harmful/diffin", "diffin", "hard"),
        Method("drop-harmful/diffin-clean", "diffin-clean", "hard"),
        Method("drop-harmful/tracin-clean", "tracin-clean", "hard"),
        # Self-influence is a difficulty: the easy rule drops the highest.
        Method("drop-self-influential/tracin", "tracin-self", "easy"),
    ]
    if args.cleaning_methods:
        methods = [m for m in methods if m.name in args.cleaning_methods]
    rows = run_benchmark(
        *data,
        methods,
        [args.clean_fraction],
        list(range(args.seeds)),
        epochs=args.epochs,
        label_noise=args.noise,
        scorers=scorers,
        equal_steps=False,
        progress=True,
    )
    write_csv(rows, args.cleaning_csv)
    print(format_by_ratio(summarize(rows), exclude=()))


def detection(data, args):
    """ROC-AUC and precision among the top 5% for finding the flipped labels."""
    from sklearn.metrics import roc_auc_score

    from skprune.datasets import add_label_noise

    X, y, _, _ = data
    print(f"{args.noise:.0%} symmetric noise; seed 0")
    clean = _clean_target(data, args)
    for name, params in [
        ("Diff-In, noisy split", {}),
        ("TracIn, noisy split", {"variant": "tracin"}),
        ("Diff-In, clean target set", {"validation_data": clean}),
        ("TracIn, clean target set", {"variant": "tracin", "validation_data": clean}),
        ("TracIn, self-influence", {"variant": "tracin", "target": "self"}),
    ]:
        y_noisy, flipped = add_label_noise(y, args.noise, random_state=0)
        start = time.perf_counter()
        scorer = DiffInScorer(max_epochs=args.epochs, random_state=0, **params).fit(X, y_noisy)
        seconds = time.perf_counter() - start
        # Harmful = low validation influence; suspicious = high self-influence.
        suspicion = scorer.scores_ if params.get("target") == "self" else -scorer.scores_
        top = np.argsort(-suspicion)[: int(round(args.clean_fraction * y.size))]
        print(
            f"{name:<28} ROC-AUC {roc_auc_score(flipped, suspicion):.4f}  flipped among the top "
            f"{args.clean_fraction:.0%}: {flipped[top].mean():.2f}  ({seconds:.0f} s)"
        )


def _time(function, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def cost(data, args):

    X, y, _, _ = data
    scorer = DiffInScorer(max_epochs=args.epochs, random_state=0)
    start = time.perf_counter()
    scorer.fit(X, y)
    print(
        f"DiffInScorer fit (N={y.size}, {args.epochs} epochs): {time.perf_counter() - start:.1f} s"
    )
    y_codes = np.searchsorted(scorer.classes_, y)
    validation = scorer.validation_indices_
    models = [scorer._checkpoint_model(c) for c in scorer.checkpoints_]
    hessian = scorer._hessian_rows(X, y_codes)
    seconds = {}
    for variant in ("tracin", "full"):
        scorer.variant = variant

        def run():
            for model in models:
                scorer._checkpoint_fit(
                    model, X, y_codes, X[validation], y_codes[validation], hessian
                )

        seconds[variant] = _time(run)
    print(
        f"influence on the same {len(models)} checkpoints, median of 3: TracIn "
        f"{seconds['tracin']:.2f} s, Diff-In {seconds['full']:.2f} s, ratio "
        f"{seconds['full'] / seconds['tracin']:.2f}x"
    )
    model = models[-1]
    X_chunk = torch.as_tensor(X[:256])
    y_chunk = torch.as_tensor(y_codes[:256])
    direction = torch.randn(1, model.theta.numel())
    n = 4096
    for mode in ("jvp", "per_sample"):

        def run(mode=mode):
            for _ in range(n // 256):
                model.directional_derivatives(model.theta, X_chunk, y_chunk, direction, mode)

        rate = n / _time(run)
        label = "jvp directional derivatives" if mode == "jvp" else "vmap per-sample gradients"
        print(f"{label}: {rate:,.0f} samples/s ({model.theta.numel():,} parameters, 1 thread)")

    peaks = {}
    with tempfile.TemporaryDirectory() as folder:
        np.save(f"{folder}/X.npy", np.resize(X, (4 * args.memory_n, *X.shape[1:])))
        np.save(f"{folder}/y.npy", np.resize(y, 4 * args.memory_n))
        for n_samples in (args.memory_n, 4 * args.memory_n):
            out = subprocess.run(
                [sys.executable, __file__, "--memory-probe", str(n_samples), "--probe-dir", folder],
                capture_output=True,
                text=True,
                check=True,
            )
            peaks[n_samples] = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"N={n_samples}: peak RSS {peaks[n_samples]['peak_mb']:.0f} MB, of which fitting "
                f"added {peaks[n_samples]['fit_mb']:.0f} MB "
                f"(data {peaks[n_samples]['data_mb']:.0f} MB)"
            )


def _peak_rss_mb():
    # VmHWM belongs to the process image; getrusage's ru_maxrss would also count the
    # parent's peak, which Linux carries across fork + exec.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def memory_probe(n_samples, folder):
    """Peak RSS of one DiffInScorer fit on the first n_samples rows, in a fresh process."""
    torch.set_num_threads(1)
    X = np.load(f"{folder}/X.npy")[:n_samples].copy()
    y = np.load(f"{folder}/y.npy")[:n_samples].copy()
    before = _peak_rss_mb()
    DiffInScorer(max_epochs=2, random_state=0).fit(X, y)
    peak = _peak_rss_mb()
    print(json.dumps({"peak_mb": peak, "fit_mb": peak - before, "data_mb": X.nbytes / 2**20}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["coreset", "cleaning", "cost"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--n-test", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.3, 0.5, 0.7, 0.9])
    parser.add_argument("--noise", type=float, default=0.2)
    parser.add_argument("--clean-fraction", type=float, default=0.05)
    parser.add_argument(
        "--cleaning-methods",
        nargs="+",
        default=None,
        help="run only these cleaning rows (e.g. random drop-flipped/oracle)",
    )
    parser.add_argument("--cleaning-csv", default="benchmarks/results/diffin_cleaning.csv")
    parser.add_argument("--memory-n", type=int, default=5000)
    parser.add_argument("--n-clean-val", type=int, default=1000)
    parser.add_argument("--memory-probe", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--probe-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        return memory_probe(args.memory_probe, args.probe_dir)
    torch.set_num_threads(1)
    split = load_fashion_mnist(n_train=args.n_train, n_test=args.n_test, random_state=0)
    data = (split.X_train, split.y_train, split.X_test, split.y_test)
    print(
        f"Fashion-MNIST {args.n_train} train / {args.n_test} test, default MLP, "
        f"{args.epochs} epochs, seeds {args.seeds}"
    )
    for part in args.parts:
        print(f"\n== {part}")
        {"coreset": coreset, "cleaning": cleaning, "detection": detection, "cost": cost}[part](
            data, args
        )


if __name__ == "__main__":
    main()
