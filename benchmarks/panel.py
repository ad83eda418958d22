"""Development panel of issue 23: does the default selector do no harm?

A user who writes ``CoresetSelector(pruning_ratio=α).fit_resample(X, y)``
trusts the default. This panel runs that exact call on datasets of different
kinds, each clean, with 20% symmetric and with 30% asymmetric label noise
(``skprune.datasets.add_label_noise``; asymmetric sends every class to the
next one), at several pruning ratios and seeds, beside

* ``random``: ``CoresetSelector(strategy="random")``;
* ``baseline``: the strongest other baseline of the library on the project's
  benchmarks, CCS on EL2N (``TrainingDynamicsScorer("el2n", n_models=2)``,
  ``strategy="ccs"`` with its default parameters);
* ``full``: training on all the (possibly noisy) training data;
* ``unseen``: UNSEEN margin, K = 3 subsets, ``strategy="hard"``, 3-step
  incremental selection (``min_per_class=4``), the library's best UNSEEN
  recipe (``hard/unseen-3step`` of ``skprune bench``);
* ``diffin``: Diff-In with ``DiffInScorer`` defaults and ``strategy="ccs"``,
  the library's Diff-In coreset recipe (``ccs/diffin``, used by the demo).

Every coreset of a dataset trains the same downstream learner, the default
net for its data kind (``skprune.nets.make_default_net`` through
``skprune.benchmark.train_and_evaluate``), for as many SGD steps as the full
data gets in ``--epochs`` epochs (``equal_step_epochs``). Within a
(dataset, corruption, seed) every method shares the noisy labels and the
downstream net's seed, so gaps are paired; each scorer is fitted once and
reused across ratios through ``memory=joblib.Memory(...)``, which changes no
result. The test sets are clean.

It prints, per cell (dataset, corruption, α), the mean ± std over seeds of
every method, the gap of the default to random and to the full data (paired,
in accuracy points), the default's hard cut (``CoresetSelector.label_noise_``)
beside the true noise rate, and the scoring cost of the default as a multiple
of one full training; then one summary line: the worst clean gap and the
mean noisy gap of the default to random.

    python benchmarks/panel.py --n-jobs 2 --out benchmarks/results/panel.csv
    python benchmarks/panel.py --quick          # a smoke run of a few seconds

Only public skprune API is used, so the script runs unchanged across
refactors of the library.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _common import timed

DATASETS_DEFAULT = (
    "digits",
    "fashion",
    "fashion_img",
    "fashion_lt",
    "mnist1d",
    "synth2_hard",
    "synth4_easy",
    "synth10_hard",
)
CORRUPTIONS = {
    # name: (noise rate, kind of add_label_noise)
    "clean": (0.0, None),
    "sym20": (0.2, "symmetric"),
    "asym30": (0.3, "asymmetric"),
}
CORE_METHODS = ("default", "random", "baseline", "full")
EXTRA_METHODS = ("unseen", "diffin")
METHOD_GROUPS = {"core": CORE_METHODS, "extra": EXTRA_METHODS, "all": CORE_METHODS + EXTRA_METHODS}


# --- data -------------------------------------------------------------------------------


@dataclass
class Data:
    name: str
    description: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray

    @property
    def kind(self):
        return "CNN" if self.X_train.ndim > 2 else "MLP"

    @property
    def n_classes(self):
        return int(max(self.y_train.max(), self.y_test.max()) + 1)


def _split(X, y, n_train, n_test, seed=0):
    from sklearn.model_selection import train_test_split

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=n_train, test_size=n_test, stratify=y, random_state=seed
    )
    return X_train.astype(np.float32), X_test.astype(np.float32), y_train, y_test


def _synthetic(n_classes, n_features, n_informative, clusters, class_sep):
    def build():
        from sklearn.datasets import make_classification

        X, y = make_classification(
            n_samples=3000,
            n_features=n_features,
            n_informative=n_informative,
            n_redundant=0,
            n_classes=n_classes,
            n_clusters_per_class=clusters,
            class_sep=class_sep,
            flip_y=0.0,
            random_state=0,
        )
        return _split(X, y, 2000, 1000)

    return build


def _digits():
    from skprune.datasets import load_digits

    return tuple(load_digits())


def _fashion(images):
    def build():
        from skprune.datasets import load_fashion_mnist

        return tuple(
            load_fashion_mnist(n_train=1500 if images else 2000, n_test=1000, images=images)
        )

    return build


def _fashion_long_tailed():
    from skprune.datasets import load_fashion_mnist, make_imbalanced

    X_train, X_test, y_train, y_test = load_fashion_mnist(n_train=5000, n_test=1000)
    # 500 down to 50 samples a class (exponential profile, ratio 10); the test set stays balanced.
    X_train, y_train, _ = make_imbalanced(X_train, y_train, imbalance_ratio=10, random_state=0)
    return X_train, X_test, y_train, y_test


def _mnist1d():
    from skprune.datasets import load_mnist1d

    return tuple(load_mnist1d(n_samples=4000, test_size=1000))


# name: (description, builder); sizes keep the whole panel within about 45 minutes on 2 cores.
DATASETS = {
    "digits": ("sklearn digits 8x8, flat", _digits),
    "fashion": ("Fashion-MNIST, flat", _fashion(images=False)),
    "fashion_img": ("Fashion-MNIST, 28x28 images", _fashion(images=True)),
    "fashion_lt": ("Fashion-MNIST, flat, long-tailed 500..50 a class", _fashion_long_tailed),
    "mnist1d": ("MNIST-1D, 40-point signals", _mnist1d),
    "synth2_hard": (
        "make_classification 2 classes, 20 features (4 informative), 4 clusters a class, sep 0.5",
        _synthetic(2, 20, 4, 4, 0.5),
    ),
    "synth4_easy": (
        "make_classification 4 classes, 20 features (10 informative), sep 2.0",
        _synthetic(4, 20, 10, 1, 2.0),
    ),
    "synth10_hard": (
        "make_classification 10 classes, 32 features (16 informative), 2 clusters a class, sep 1.0",
        _synthetic(10, 32, 16, 2, 1.0),
    ),
}


def load(name, *, n_train=None, n_test=None):
    """The named dataset, optionally cut to a stratified ``n_train`` / ``n_test`` (``--quick``)."""
    description, build = DATASETS[name]
    X_train, X_test, y_train, y_test = build()
    if n_train is not None and n_train < y_train.size:
        X_train, _, y_train, _ = _split(X_train, y_train, n_train, None)
    if n_test is not None and n_test < y_test.size:
        X_test, _, y_test, _ = _split(X_test, y_test, n_test, None)
    return Data(name, description, X_train, X_test, np.asarray(y_train), np.asarray(y_test))


# --- methods ----------------------------------------------------------------------------


def make_selector(method, ratio, seed, memory):
    """The ``CoresetSelector`` of a method; ``"default"`` is exactly the user's default call."""
    from skprune import CoresetSelector, DiffInScorer, TrainingDynamicsScorer, UnseenScorer

    common = {"pruning_ratio": ratio, "random_state": seed, "memory": memory}
    if method == "default":
        return CoresetSelector(**common)
    if method == "random":
        # Fits the default scorer too, which the cache shares with the default's rows.
        return CoresetSelector(strategy="random", **common)
    if method == "baseline":
        return CoresetSelector(TrainingDynamicsScorer("el2n", n_models=2), strategy="ccs", **common)
    if method == "unseen":
        return CoresetSelector(
            UnseenScorer("margin", n_subsets=3),
            strategy="hard",
            n_steps=3,
            min_per_class=4,
            **common,
        )
    if method == "diffin":
        return CoresetSelector(DiffInScorer(), strategy="ccs", **common)
    raise ValueError(f"unknown method {method!r}")


def run_unit(data, corruption, seed, ratios, methods, epochs):
    """Every method and ratio on one (dataset, corruption, seed); returns the CSV rows."""
    import joblib
    import torch

    from skprune.benchmark import equal_step_epochs, train_and_evaluate
    from skprune.datasets import add_label_noise

    # Two workers share two cores: one thread each, and comparable timings.
    torch.set_num_threads(1)
    rate, kind = CORRUPTIONS[corruption]
    y_train = data.y_train
    flipped = np.zeros(y_train.size, dtype=bool)
    if rate > 0:
        y_train, flipped = add_label_noise(y_train, rate, kind=kind, random_state=seed)
    n_train = y_train.size

    def evaluate(X, y, n_epochs):
        return train_and_evaluate(
            X, y, data.X_test, data.y_test, n_classes=data.n_classes, epochs=n_epochs, seed=seed
        )

    base = {
        "dataset": data.name,
        "net": data.kind,
        "n_train": n_train,
        "n_test": data.y_test.size,
        "n_classes": data.n_classes,
        "corruption": corruption,
        "noise_rate": rate,
        "true_noise": float(flipped.mean()),
        "seed": seed,
    }
    # A first training in a process pays one-off costs (lazy initialization) that would
    # inflate the full-training time the scoring cost is divided by.
    evaluate(data.X_train[:64], y_train[:64], 1)
    full_s, full_accuracy = timed(lambda: evaluate(data.X_train, y_train, epochs))
    rows = []
    if "full" in methods:
        rows.append(
            {
                **base,
                "method": "full",
                "ratio": 0.0,
                "n_kept": n_train,
                "epochs": epochs,
                "accuracy": full_accuracy,
                "label_noise": None,
                "uniform": None,
                "select_s": 0.0,
                "score_s": 0.0,
                "train_s": full_s,
                "full_s": full_s,
            }
        )
    with tempfile.TemporaryDirectory() as cache:
        memory = joblib.Memory(cache, verbose=0)
        for method in methods:
            if method == "full":
                continue
            score_s = None
            for ratio in ratios:
                selector = make_selector(method, ratio, seed, memory)
                select_s, (X_core, y_core) = timed(
                    lambda selector=selector: selector.fit_resample(data.X_train, y_train)
                )
                # The first ratio fits the scorer; the others read it from the cache.
                score_s = select_s if score_s is None else score_s
                n_epochs = equal_step_epochs(epochs, n_train, y_core.size)
                train_s, accuracy = timed(lambda X=X_core, y=y_core, e=n_epochs: evaluate(X, y, e))
                noise = getattr(selector, "label_noise_", None)
                uniform = getattr(selector, "uniform_", None)
                rows.append(
                    {
                        **base,
                        "method": method,
                        "ratio": ratio,
                        "n_kept": int(y_core.size),
                        "epochs": n_epochs,
                        "accuracy": accuracy,
                        "label_noise": None if noise is None else float(noise),
                        "uniform": None if uniform is None else float(uniform),
                        "select_s": select_s,
                        "score_s": score_s,
                        "train_s": train_s,
                        "full_s": full_s,
                    }
                )
    return rows


# --- reporting --------------------------------------------------------------------------


def _values(rows, **where):
    return np.array(
        [r["accuracy"] for r in rows if all(r[k] == v for k, v in where.items())], dtype=float
    )


def _paired(rows, method, other, **where):
    """Per-seed differences ``method - other`` (points) over the seeds both have."""
    a = {r["seed"]: r["accuracy"] for r in rows if r["method"] == method and _match(r, where)}
    b = {r["seed"]: r["accuracy"] for r in rows if r["method"] == other and _match(r, where)}
    return np.array([100.0 * (a[s] - b[s]) for s in sorted(a.keys() & b.keys())])


def _match(row, where):
    return all(row[k] == v for k, v in where.items())


def _mean_std(values, scale=1.0, digits=4):
    if values.size == 0:
        return "-"
    std = values.std(ddof=1) if values.size > 1 else 0.0
    return f"{scale * values.mean():.{digits}f}±{scale * std:.{digits}f}"


def _gap(values):
    if values.size == 0:
        return "-"
    std = values.std(ddof=1) if values.size > 1 else 0.0
    return f"{values.mean():+.2f}±{std:.2f}"


def report(rows, data_info, args, methods, extra_seeds):
    """The printed tables and the summary line, as a list of lines."""
    lines = [
        "Do-no-harm panel (issue 23): CoresetSelector(pruning_ratio=α, random_state=seed) against "
        "random, the best other baseline and the full data.",
        f"skprune from {args.skprune_file}",
        f"Downstream learner: the default net of each dataset's kind (make_default_net via "
        f"train_and_evaluate), {args.epochs} epochs on all the data; every coreset trains "
        f"ceil({args.epochs}·n/kept) epochs = equal SGD steps. Test sets are clean.",
        "Methods: default = CoresetSelector(); random = strategy 'random'; baseline = CCS on "
        "EL2N (TrainingDynamicsScorer('el2n', n_models=2), strategy 'ccs'); full = all data"
        + (
            "; unseen = UnseenScorer('margin', n_subsets=3), 'hard', n_steps=3, min_per_class=4"
            if "unseen" in methods
            else ""
        )
        + ("; diffin = DiffInScorer(), 'ccs'" if "diffin" in methods else ""),
        f"Seeds {list(args.seed_list)}"
        + (
            f" (unseen/diffin on seeds {list(extra_seeds)})"
            if set(methods) & set(EXTRA_METHODS) and list(extra_seeds) != list(args.seed_list)
            else ""
        )
        + f"; ratios {list(args.ratios)}; corruptions {list(args.noise)} "
        "(sym20 = 20% symmetric, asym30 = 30% of every class to the next class).",
        "Cells: test accuracy mean±std over seeds; d-r, d-full = default minus random / full, "
        "paired over seeds, in points (mean±std); cut = default's label_noise_ (mean), true = "
        "fraction of flipped labels; unif = default's uniform_ (mean; 1 = random selection).",
        "",
    ]
    shown = [
        m for m in ("default", "random", "baseline", "full", "unseen", "diffin") if m in methods
    ]
    clean_gaps, noisy_gaps = [], []
    for name in args.datasets:
        info = data_info[name]
        lines.append(
            f"== {name}: {info['description']}; {info['n_train']} train / {info['n_test']} test, "
            f"{info['n_classes']} classes, {info['kind']}"
        )
        header = f"{'corruption':<10} {'α':>4} " + " ".join(f"{m:>15}" for m in shown)
        header += f" {'d-r':>12} {'d-full':>12} {'cut':>6} {'true':>6} {'unif':>5}"
        lines.append(header)
        for corruption in args.noise:
            for ratio in args.ratios:
                cell = {"dataset": name, "corruption": corruption}
                parts = [f"{corruption:<10} {ratio:>4}"]
                for method in shown:
                    where = {**cell, "method": method}
                    if method != "full":
                        where["ratio"] = ratio
                    parts.append(f"{_mean_std(_values(rows, **where)):>15}")
                vs_random = _paired(
                    [r for r in rows if r["ratio"] == ratio], "default", "random", **cell
                )
                vs_full = _paired(
                    [r for r in rows if r["ratio"] in (ratio, 0.0)], "default", "full", **cell
                )
                noise = [
                    r["label_noise"]
                    for r in rows
                    if _match(r, {**cell, "method": "default", "ratio": ratio})
                    and r["label_noise"] is not None
                ]
                true = [r["true_noise"] for r in rows if _match(r, {**cell, "method": "default"})]
                uniform = [
                    r["uniform"]
                    for r in rows
                    if _match(r, {**cell, "method": "default", "ratio": ratio})
                    and r.get("uniform") is not None
                ]
                parts.append(f"{_gap(vs_random):>12} {_gap(vs_full):>12}")
                parts.append(f"{np.mean(noise):>6.3f}" if noise else f"{'-':>6}")
                parts.append(f"{np.mean(true):>6.3f}" if true else f"{'-':>6}")
                parts.append(f"{np.mean(uniform):>5.2f}" if uniform else f"{'-':>5}")
                lines.append(" ".join(parts))
                if vs_random.size:
                    label = f"{name}/{corruption}/α={ratio}"
                    (clean_gaps if corruption == "clean" else noisy_gaps).append(
                        (vs_random.mean(), label)
                    )
        lines.append(_cost_line(rows, name, args.noise))
        lines.append("")
    lines.extend(_summary(clean_gaps, noisy_gaps))
    return lines


def _cost_line(rows, name, corruptions):
    """Scoring seconds of each scored method over one full training, per corruption."""
    parts = []
    for corruption in corruptions:
        ratios = {}
        for method in ("default", "baseline", "unseen", "diffin"):
            first = {}
            for r in rows:
                if _match(r, {"dataset": name, "corruption": corruption, "method": method}):
                    first.setdefault(r["seed"], r["score_s"] / r["full_s"])
            if first:
                ratios[method] = float(np.mean(list(first.values())))
        full = [
            r["full_s"]
            for r in rows
            if _match(r, {"dataset": name, "corruption": corruption, "method": "default"})
        ]
        what = ", ".join(f"{m} {v:.2f}x" for m, v in ratios.items())
        parts.append(
            f"{corruption}: {what}" + (f" (full training {np.mean(full):.2f} s)" if full else "")
        )
    return "scoring / one full training: " + "; ".join(parts)


def _summary(clean_gaps, noisy_gaps):
    lines = []
    if clean_gaps:
        below = [label for gap, label in clean_gaps if gap < -0.5]
        lines.append(
            f"clean cells below -0.5 points: {len(below)} of {len(clean_gaps)}"
            + (f" ({', '.join(below)})" if below else "")
        )
    if noisy_gaps:
        lines.append(
            f"noisy cells: {len(noisy_gaps)}, gap range "
            f"{min(g for g, _ in noisy_gaps):+.2f} .. {max(g for g, _ in noisy_gaps):+.2f} points"
        )
    worst = min(clean_gaps) if clean_gaps else (math.nan, "no clean cell")
    noisy = float(np.mean([g for g, _ in noisy_gaps])) if noisy_gaps else math.nan
    lines.append(
        f"worst clean gap (default − random): {worst[0]:+.2f} points at {worst[1]}; "
        f"mean noisy gap: {noisy:+.2f} points"
    )
    return lines


# --- command line -----------------------------------------------------------------------


def _methods(names):
    methods = []
    for name in names:
        for method in METHOD_GROUPS.get(name, (name,)):
            if method not in methods:
                methods.append(method)
    return methods


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=None)
    parser.add_argument("--noise", nargs="+", choices=list(CORRUPTIONS), default=None)
    parser.add_argument("--ratios", nargs="+", type=float, default=None)
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds (0, 1, ...)")
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=[*METHOD_GROUPS, *CORE_METHODS, *EXTRA_METHODS],
        default=None,
        help="methods or groups: core = default random baseline full; extra = unseen diffin; all",
    )
    parser.add_argument(
        "--extra-seeds",
        type=int,
        default=None,
        help="run unseen and diffin on the first N seeds only (default 2; --quick: all)",
    )
    parser.add_argument("--epochs", type=int, default=None, help="epochs on all the data (10)")
    parser.add_argument("--n-jobs", type=int, default=1, help="(dataset, corruption, seed) units")
    parser.add_argument("--out", default=None, help="CSV of per-seed rows; the printout to .txt")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    args = parser.parse_args(argv)

    if args.quick:
        defaults = {
            "datasets": ["digits", "synth4_easy"],
            "noise": ["clean", "sym20"],
            "ratios": [0.5],
            "seeds": 1,
            "methods": ["all"],
            "epochs": 2,
        }
        size = {"n_train": 300, "n_test": 200}
    else:
        defaults = {
            "datasets": list(DATASETS_DEFAULT),
            "noise": list(CORRUPTIONS),
            "ratios": [0.3, 0.5, 0.7, 0.9],
            "seeds": 5,
            "methods": ["all"],
            "epochs": 10,
            # UNSEEN's step nets and Diff-In's influence pass double a unit's time: two
            # seeds keep the whole panel within about 45 minutes on 2 cores.
            "extra_seeds": 2,
        }
        size = {}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    methods = _methods(args.methods)
    args.seed_list = list(range(args.seeds))
    extra_seeds = args.seed_list[: args.extra_seeds] if args.extra_seeds else args.seed_list

    import skprune

    args.skprune_file = skprune.__file__
    print(f"skprune imported from {skprune.__file__}", file=sys.stderr)
    datas = {name: load(name, **size) for name in args.datasets}
    data_info = {
        name: {
            "description": d.description,
            "n_train": d.y_train.size,
            "n_test": d.y_test.size,
            "n_classes": d.n_classes,
            "kind": d.kind,
        }
        for name, d in datas.items()
    }
    units = []
    for name in args.datasets:
        for corruption in args.noise:
            for seed in args.seed_list:
                unit_methods = [m for m in methods if m not in EXTRA_METHODS or seed in extra_seeds]
                units.append((name, corruption, seed, unit_methods))
    # The image datasets first, so the two workers finish together.
    units.sort(key=lambda u: (datas[u[0]].kind != "CNN", -len(u[3])))

    start = time.perf_counter()
    rows = []
    if args.n_jobs == 1:
        results = (run_unit(datas[n], c, s, args.ratios, m, args.epochs) for n, c, s, m in units)
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
            delayed(run_unit)(datas[n], c, s, args.ratios, m, args.epochs) for n, c, s, m in units
        )
    for done, unit_rows in enumerate(results, 1):
        rows.extend(unit_rows)
        first = unit_rows[0]
        print(
            f"[{done}/{len(units)}] {first['dataset']} {first['corruption']} seed {first['seed']} "
            f"({time.perf_counter() - start:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    rows.sort(
        key=lambda r: (
            args.datasets.index(r["dataset"]),
            args.noise.index(r["corruption"]),
            r["seed"],
            r["method"],
            r["ratio"],
        )
    )
    lines = report(rows, data_info, args, methods, extra_seeds)
    lines.append(f"wall time {time.perf_counter() - start:.0f} s, n_jobs {args.n_jobs}")
    print("\n".join(lines))
    if args.out:
        from skprune.benchmark import write_csv

        out = Path(args.out)
        write_csv(rows, out)
        out.with_suffix(".txt").write_text("\n".join(lines) + "\n")
        print(f"wrote {out} and {out.with_suffix('.txt')}", file=sys.stderr)


if __name__ == "__main__":
    main()
