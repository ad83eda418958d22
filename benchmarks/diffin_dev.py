"""Diff-In benchmark: coresets, data cleaning and cost, with TracIn on the same checkpoints.

Parts (``--parts``):

- ``coreset``: test accuracy of coresets kept by Diff-In and TracIn influence
  (``easy`` rule on the difficulty, the negated influence: keep the most
  helpful, drop the harmful tail first) beside
  random selection and the full data, on clean labels; equal SGD steps for
  every coreset (the shared harness, :mod:`skprune.benchmark`).
- ``cleaning``: 20% symmetric label noise; remove 5% of the training set —
  the most harmful by Diff-In / TracIn (validation target), the most
  self-influential by TracIn (``target="self"``; Diff-In's self-influence
  costs ``hessian_batch_size`` sample gradients per sample, too slow here), or
  at random — and train on the rest. An oracle that removes flipped labels
  only bounds what any cleaning score can gain (``--clean-fraction`` sets the
  share removed, ``--cleaning-methods`` picks rows). ``--eval-schedule cosine``
  trains the nets on the cleaned data with a cosine-annealed learning rate,
  which makes the seed-to-seed spread small enough to see a 5% removal.
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
from _common import (
    add_eval_schedule_argument,
    evaluation_net,
    fashion_clean_target,
    plain_sgd_net,
)

from skprune import DiffInScorer
from skprune.benchmark import Method, format_by_ratio, run_benchmark, summarize, write_csv
from skprune.datasets import load_fashion_mnist

# Only the shape matters to the net builder: flattened 28 x 28 images.
_FASHION_INPUT = np.empty((1, 784), dtype=np.float32)


def _diffin(args, variant, target="validation", validation_data=None):
    """A scorer factory for :func:`run_benchmark`, with the run's scoring settings."""

    def factory(*, epochs, random_state, device):
        estimator = None
        if args.scoring_lr is not None:
            estimator = plain_sgd_net(
                _FASHION_INPUT, 10, lr=args.scoring_lr, max_epochs=epochs, device=device
            )
        return DiffInScorer(
            estimator=estimator,
            variant=variant,
            target=target,
            validation_data=validation_data,
            n_checkpoints=args.checkpoints,
            max_epochs=epochs,
            device=device,
            random_state=random_state,
        )

    where = "a clean held-out set" if validation_data is not None else "a split of the data"
    factory.__doc__ = f"DiffInScorer(variant={variant!r}, target={target!r}) on {where}."
    return factory


def _scorers(args):
    return {
        "diffin": _diffin(args, "full"),
        "tracin": _diffin(args, "tracin"),
        "tracin-self": _diffin(args, "tracin", "self"),
    }


def coreset(data, args):
    methods = [
        Method("random", None, "random"),
        # The difficulty is the negated influence: "easy" keeps the most helpful.
        Method("easy/diffin", "diffin", "easy"),
        Method("easy/tracin", "tracin", "easy"),
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
        scorers=_scorers(args),
        progress=True,
    )
    write_csv(rows, "benchmarks/results/diffin_coreset.csv")
    print(format_by_ratio(summarize(rows)))


def _clean_target(data, args):
    """A clean target set: training-file images outside the training subset."""
    clean = fashion_clean_target(data[0], args.n_clean_val)
    print(f"clean target set: {clean[1].size} training-file images outside the subset")
    return clean


class _FlippedLabelOracle:
    """Knows which training labels were flipped: the bound on what any cleaning score can do.

    ``scores_`` is a difficulty like every scorer's: 1 for a flipped label and
    0 otherwise (plus a tiny seeded jitter that orders each group at random),
    so the ``easy`` rule drops flipped labels first.
    """

    def __init__(self, y_clean, random_state):
        self.y_clean = y_clean
        self.random_state = random_state

    def fit(self, X, y):
        jitter = np.random.default_rng(self.random_state).uniform(0, 1e-3, size=len(y))
        self.scores_ = (np.asarray(y) != self.y_clean).astype(float) + jitter
        return self


def cleaning(data, args):
    clean = _clean_target(data, args)
    y_clean = data[1]
    scorers = {
        **_scorers(args),
        "diffin-clean": _diffin(args, "full", validation_data=clean),
        "tracin-clean": _diffin(args, "tracin", validation_data=clean),
        "oracle": lambda *, epochs, random_state, device: _FlippedLabelOracle(
            y_clean, random_state
        ),
    }
    methods = [
        Method("random", None, "random"),
        # Every score is a difficulty (harmful or self-influential = high): the easy
        # rule drops the highest.
        Method("drop-flipped/oracle", "oracle", "easy"),
        Method("drop-harmful/diffin", "diffin", "easy"),
        Method("drop-harmful/diffin-clean", "diffin-clean", "easy"),
        Method("drop-harmful/tracin-clean", "tracin-clean", "easy"),
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
        make_net=evaluation_net(args),
        progress=True,
    )
    write_csv(rows, args.cleaning_csv)
    print(format_by_ratio(summarize(rows), exclude=()))
    print(paired_differences(rows))


def paired_differences(rows, baseline="random"):
    """Per-seed differences to ``baseline`` (same seed, same ratio): mean ± standard error.

    Every method meets the same seeds (label noise, scorers, target net), so
    the paired differences cancel the seed-to-seed spread that the summary's
    standard deviations include.
    """
    accuracy = {(r["method"], float(r["ratio"]), r["seed"]): r["accuracy"] for r in rows}
    lines = [f"paired differences to {baseline} (points; mean ± standard error, seeds ahead)"]
    for method, ratio in dict.fromkeys((m, ratio) for m, ratio, _ in accuracy):
        if method in (baseline, "full"):
            continue
        diffs = 100 * np.array(
            [
                value - accuracy[(baseline, ratio, seed)]
                for (m, r, seed), value in accuracy.items()
                if (m, r) == (method, ratio) and (baseline, ratio, seed) in accuracy
            ]
        )
        error = diffs.std(ddof=1) / np.sqrt(diffs.size) if diffs.size > 1 else float("nan")
        lines.append(
            f"  {method:<30} α = {ratio:g}: {diffs.mean():+.2f} ± {error:.2f}  "
            f"({int((diffs > 0).sum())} of {diffs.size})"
        )
    return "\n".join(lines)


def detection(data, args):
    """ROC-AUC and precision among the top 5% for finding the flipped labels, mean over seeds."""
    from sklearn.metrics import roc_auc_score

    from skprune.datasets import add_label_noise

    X, y, _, _ = data
    print(f"{args.noise:.0%} symmetric noise; mean over seeds 0..{args.seeds - 1}")
    clean = _clean_target(data, args)
    rankings = [
        ("Diff-In, noisy split", _diffin(args, "full")),
        ("TracIn, noisy split", _diffin(args, "tracin")),
        ("Diff-In, clean target set", _diffin(args, "full", validation_data=clean)),
        ("TracIn, clean target set", _diffin(args, "tracin", validation_data=clean)),
        ("TracIn, self-influence", _diffin(args, "tracin", "self")),
    ]
    n_top = int(round(args.clean_fraction * y.size))
    for name, factory in rankings:
        aucs, purities, seconds = [], [], []
        for seed in range(args.seeds):
            y_noisy, flipped = add_label_noise(y, args.noise, random_state=seed)
            start = time.perf_counter()
            scorer = factory(epochs=args.epochs, random_state=seed, device="cpu").fit(X, y_noisy)
            seconds.append(time.perf_counter() - start)
            # The difficulty: harm to the target set, or self-influence.
            suspicion = scorer.scores_
            aucs.append(roc_auc_score(flipped, suspicion))
            purities.append(flipped[np.argsort(-suspicion)[:n_top]].mean())
        print(
            f"{name:<28} ROC-AUC {np.mean(aucs):.4f} ± {np.std(aucs):.4f}  flipped among the "
            f"top {args.clean_fraction:.0%}: {np.mean(purities):.2f} ± {np.std(purities):.2f}  "
            f"({np.mean(seconds):.0f} s per fit)"
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
    X_target, y_target = X[validation], y_codes[validation]
    hessian = scorer._hessian_rows(X, y_codes)
    seconds = {}
    for variant in ("tracin", "full"):
        scorer.variant = variant

        def run():
            for checkpoint in scorer.checkpoints_:
                directions = scorer._checkpoint_directions(checkpoint, X_target, y_target, hessian)
                scorer._sample_terms(checkpoint, X, y_codes, hessian, directions)

        seconds[variant] = _time(run)
    print(
        f"influence on the same {len(scorer.checkpoints_)} checkpoints, median of 3: TracIn "
        f"{seconds['tracin']:.2f} s, Diff-In {seconds['full']:.2f} s, ratio "
        f"{seconds['full'] / seconds['tracin']:.2f}x"
    )
    model = scorer._checkpoint_model(scorer.checkpoints_[-1])
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
    add_eval_schedule_argument(parser, "the nets trained on the cleaned data")
    parser.add_argument(
        "--checkpoints", type=int, default=10, help="n_checkpoints of every DiffInScorer"
    )
    parser.add_argument(
        "--scoring-lr",
        type=float,
        default=None,
        help="step size of the scoring nets' plain SGD (default: DiffInScorer's, 0.1)",
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
        f"{args.epochs} epochs, seeds {args.seeds}, evaluation lr {args.eval_schedule}"
    )
    for part in args.parts:
        print(f"\n== {part}")
        {"coreset": coreset, "cleaning": cleaning, "detection": detection, "cost": cost}[part](
            data, args
        )


if __name__ == "__main__":
    main()
