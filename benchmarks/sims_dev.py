"""Development benchmark for SIM / SIMS: test accuracy of coresets vs. the baselines.

Scores each training set once per seed, selects coresets with every method at every
pruning ratio, trains the default MLP on each coreset for a fixed number of epochs
and reports test accuracy (mean ± std over seeds), with random selection and the
full data measured in the same run. With label noise it also reports how well each
difficulty ranking finds the flipped labels (ROC-AUC), beside cleanlab when installed.

    python benchmarks/sims_dev.py --dataset fashion --n-train 10000 --seeds 3 \
        --noise 0.0 0.2 --out benchmarks/results/sims_fashion.csv

``--eval validation`` evaluates on a split of the training file that the training
subset does not contain (used to pick the SIMS defaults); ``--eval test`` on the
official test set (the figures reported in docs/). ``--density`` adds SIMS variants,
either positional ``name:mean_start,mean_end,concentration[,gamma]`` or by keyword
``name:mean_start=0.6,cut_end=0.2,...`` (any :func:`skprune.sampling.sims_density`
parameter); a variant runs on every score whose ``sims_<score>`` method is selected,
and like those cuts the estimated label noise unless it sets ``label_noise=none``.
``clusters=emb<K>`` (or ``pca<K>``) balances the draw over K k-means clusters per
class of the scoring nets' unit embeddings (or of the inputs' first 50 principal
components), see :func:`skprune.sampling.select_sims`.
``sims_simel2n`` samples by the average of SIM's and EL2N's quantiles (EL2N of the
same scoring nets). With label noise, ``oracle`` draws at random among the samples
not flipped and ``oracle_sims`` runs SIMS on SIM among them (the ceilings of label
cleaning, and of SIMS with a perfect detector).
``--weighted`` trains the SIMS coresets with their importance weights ``1 / (n π)``
(normalized to mean 1) and reports them as extra ``+w`` methods. ``--eval-schedule
cosine`` anneals the target nets' learning rate to 0 (a much smaller seed-to-seed
spread than the default constant rate). ``--images`` keeps Fashion-MNIST as 28×28
images, so every net is the default CNN; ``--sim-width`` scores with the default
net at another width (SIM's own default is 0.5).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _common import add_eval_schedule_argument, evaluation_net
from sklearn.metrics import roc_auc_score

from skprune import SIMScorer, TrainingDynamicsScorer
from skprune.benchmark import (
    equal_step_epochs,
    format_by_ratio,
    summarize,
    train_and_evaluate,
    write_csv,
)
from skprune.datasets import add_label_noise, load_digits, load_fashion_mnist
from skprune.metrics import combine_difficulties, el2n
from skprune.nets import MLP, infer, make_default_net, seeded
from skprune.sampling import select


def load(args):
    if args.dataset == "digits":
        return load_digits(test_size=0.3, random_state=0)
    if args.eval == "validation":
        # Tune on a part of the training file that the training subset never contains.
        full = load_fashion_mnist(
            n_train=args.n_train + args.n_test, n_test=10, images=args.images, random_state=0
        )
        rng = np.random.default_rng(0)
        order = rng.permutation(full.y_train.size)
        train, val = order[: args.n_train], order[args.n_train :]
        return (full.X_train[train], full.X_train[val], full.y_train[train], full.y_train[val])
    return load_fashion_mnist(
        n_train=args.n_train, n_test=args.n_test, images=args.images, random_state=0
    )


def train_and_test(X, y, X_test, y_test, n_classes, args, seed, n_full=None):
    epochs = args.epochs
    if args.schedule == "equal-steps" and n_full:
        # As many SGD steps as on all the data, so a small coreset is not just undertrained.
        epochs = equal_step_epochs(args.epochs, n_full, len(y))
    make_net = evaluation_net(args)
    return train_and_evaluate(
        X,
        y,
        X_test,
        y_test,
        n_classes=n_classes,
        epochs=epochs,
        seed=seed,
        device="cpu",
        make_net=make_net,
    )


class _WeightColumnMLP(MLP):
    """The default MLP on all columns but the last, which carries the sample weight."""

    def forward(self, X):
        return super().forward(X[:, :-1])


def _weighted_classifier(net):
    """``net`` (an unfitted default net) with a loss weighted by the input's last column."""
    from skorch import NeuralNetClassifier

    class WeightedClassifier(NeuralNetClassifier):
        def get_loss(self, y_pred, y_true, X=None, training=False):
            losses = super().get_loss(y_pred, y_true, X=X, training=training)
            weights = X[:, -1].to(losses.device) if training else 1.0
            return (losses * weights).mean()

    params = net.get_params(deep=False)
    params.update(module=_WeightColumnMLP, criterion__reduction="none")
    return WeightedClassifier(**params)


def train_weighted(X, y, weights, X_test, y_test, n_classes, args, seed, n_full):
    """Like :func:`train_and_test` with a per-sample loss weight (same init, same batches)."""
    epochs = args.epochs
    if args.schedule == "equal-steps":
        epochs = equal_step_epochs(args.epochs, n_full, len(y))
    net = _weighted_classifier(make_default_net(X, n_classes, max_epochs=epochs, device="cpu"))
    column = np.asarray(weights, dtype=X.dtype)[:, None]
    with seeded(seed):
        net.fit(np.hstack([X, column]), y)
    ones = np.ones((len(X_test), 1), dtype=X_test.dtype)
    return float(np.mean(net.predict(np.hstack([X_test, ones])) == y_test))


def _number_or_text(value):
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return None if value == "none" else value


def parse_density(text):
    name, values = text.split(":")
    items = values.split(",")
    if all("=" in item for item in items):
        return name, {k: _number_or_text(v) for k, v in (item.split("=") for item in items)}
    keys = ["mean_start", "mean_end", "concentration", "gamma"]
    return name, dict(zip(keys, [float(v) for v in items], strict=False))


def cluster_labels(spec, X, y, sim, seed):
    """Per-class k-means labels for a ``clusters=`` variant: ``emb<K>`` clusters the
    scoring nets' unit embeddings (concatenated), ``pca<K>`` the inputs' first 50
    principal components."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    kind, k = spec[:3], spec[3:]
    if kind not in ("emb", "pca") or not k.isdigit() or int(k) < 1:
        raise ValueError(f"clusters must be emb<K> or pca<K> with K >= 1, got {spec!r}")
    k = int(k)
    if kind == "emb":
        parts = [infer(net, X, embedding=True).embedding for net in sim.nets_]
        features = np.hstack(
            [e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12) for e in parts]
        )
    else:
        flat = X.reshape(len(X), -1)
        features = PCA(min(50, *flat.shape), random_state=seed).fit_transform(flat)
    labels = np.zeros(y.size, dtype=int)
    for code in np.unique(y):
        members = np.flatnonzero(y == code)
        km = KMeans(min(k, members.size), n_init=3, random_state=seed)
        labels[members] = km.fit_predict(features[members]) + code * k
    return labels


def cleanlab_auc(X, y, flipped, seed, epochs):
    """AUC of cleanlab's label-quality ranking on out-of-sample probabilities (3-fold)."""
    try:
        from cleanlab.filter import find_label_issues
        from cleanlab.rank import get_label_quality_scores
    except ImportError:
        return None, None
    from sklearn.model_selection import StratifiedKFold

    proba = np.zeros((y.size, int(y.max()) + 1))
    for fold, (fit_idx, out_idx) in enumerate(
        StratifiedKFold(3, shuffle=True, random_state=seed).split(X, y)
    ):
        net = make_default_net(X, proba.shape[1], max_epochs=epochs, device="cpu")
        with seeded(seed + fold):
            net.fit(X[fit_idx], y[fit_idx])
        proba[out_idx] = infer(net, X[out_idx]).proba
    quality = get_label_quality_scores(y, proba)
    issues = find_label_issues(y, proba)
    recall = float(issues[flipped].mean())
    precision = float(flipped[issues].mean()) if issues.any() else 0.0
    return float(roc_auc_score(flipped, -quality)), (precision, recall)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["digits", "fashion"], default="fashion")
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--n-test", type=int, default=5000)
    parser.add_argument("--eval", choices=["test", "validation"], default="test")
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.3, 0.5, 0.7, 0.9])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.2])
    parser.add_argument("--epochs", type=int, default=12, help="target training epochs")
    parser.add_argument(
        "--schedule",
        choices=["equal-steps", "equal-epochs"],
        default="equal-steps",
        help="coresets train for as many SGD steps as the full data, or as many epochs",
    )
    add_eval_schedule_argument(parser, "the target nets; unweighted runs only")
    parser.add_argument(
        "--score-epochs", type=int, default=None, help="SIM/EL2N scoring epochs (SIM's default)"
    )
    parser.add_argument("--n-models", type=int, default=None, help="(SIM's default)")
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--density", action="append", default=[], type=parse_density)
    parser.add_argument("--sim-params", default="", help="e.g. certainty_weight=0.5,...")
    parser.add_argument(
        "--weighted",
        action="store_true",
        help="also train every SIMS coreset with its importance weights (methods ending '+w')",
    )
    parser.add_argument(
        "--images",
        action="store_true",
        help="Fashion-MNIST as 28x28 images: every net (scoring and target) is the default CNN",
    )
    parser.add_argument(
        "--sim-width",
        type=float,
        default=None,
        help="score with the default net at this width (SIM's default net is 0.5 wide)",
    )
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.weighted and args.eval_schedule == "cosine":
        parser.error("--weighted trains with a constant learning rate; drop --eval-schedule cosine")
    if args.images and (args.dataset != "fashion" or args.weighted):
        parser.error("--images needs --dataset fashion and no --weighted (an MLP-only path)")

    X_train, X_test, y_train, y_test = load(args)
    n_classes = int(y_train.max()) + 1
    sim_params = {
        k: (float(v) if v.replace(".", "", 1).isdigit() else v)
        for k, v in (item.split("=") for item in args.sim_params.split(",") if item)
    }
    if args.sim_width is not None:
        sim_params["estimator"] = make_default_net(
            X_train,
            n_classes,
            max_epochs=args.score_epochs or 2,
            device="cpu",
            width=args.sim_width,
        )
    rows, aucs = [], []
    print(
        f"# {args.dataset}{' images (CNN)' if args.images else ''}: "
        f"{y_train.size} train / {y_test.size} {args.eval}, "
        f"epochs={args.epochs} ({args.schedule}, lr {args.eval_schedule}), seeds={args.seeds}",
        flush=True,
    )
    for noise in args.noise:
        for seed in range(args.seeds):
            y_fit, flipped = (y_train, np.zeros(y_train.size, bool))
            if noise > 0:
                y_fit, flipped = add_label_noise(y_train, noise, random_state=seed)

            start = time.perf_counter()
            full_acc = train_and_test(X_train, y_fit, X_test, y_test, n_classes, args, seed)
            full_time = time.perf_counter() - start
            rows.append(
                dict(
                    noise=noise,
                    seed=seed,
                    method="full",
                    ratio=0.0,
                    n_kept=y_fit.size,
                    accuracy=full_acc,
                )
            )

            start = time.perf_counter()
            scoring = {
                k: v
                for k, v in (("n_models", args.n_models), ("max_epochs", args.score_epochs))
                if v is not None
            }
            sim = SIMScorer(random_state=seed, **scoring, **sim_params).fit(X_train, y_fit)
            sim_time = time.perf_counter() - start
            proba = np.stack([infer(net, X_train).proba for net in sim.nets_])
            scores = {"sim": sim.scores_, "el2n": el2n(proba, y_fit)}
            # SIM and EL2N of the same nets, quantiles averaged (what CoresetSelector does
            # with two scorers).
            scores["simel2n"] = combine_difficulties([scores["sim"], scores["el2n"]])
            # Raw separability (the margin d_N - d_P, or log d_N / d_P), averaged over
            # the nets: SIM's main signal before rank normalization, so it keeps its spread.
            separability = sim._separability_reference
            if sim.separability == "ratio":
                separability = np.log(np.maximum(separability, 1e-12))
            scores["sep"] = -separability.mean(axis=0)
            if noise > 0 or args.methods is None or any("simr" in m for m in args.methods):
                # SIM with the ratio form of separability, from the same seeds (same nets):
                # its coresets when asked for, its mislabel AUC always.
                scores["simr"] = (
                    SIMScorer(
                        random_state=seed, **scoring, **{**sim_params, "separability": "ratio"}
                    )
                    .fit(X_train, y_fit)
                    .scores_
                )
            start = time.perf_counter()
            scores["forgetting"] = (
                TrainingDynamicsScorer("forgetting", max_epochs=args.epochs, random_state=seed)
                .fit(X_train, y_fit)
                .scores_
            )
            forgetting_time = time.perf_counter() - start
            print(
                f"noise={noise} seed={seed} full={full_acc:.4f} ({full_time:.1f}s) "
                f"SIM scoring {sim_time:.1f}s = {sim_time / full_time:.2f}x full training; "
                f"forgetting {forgetting_time:.1f}s; label noise estimate {sim.label_noise_:.3f}",
                flush=True,
            )
            aucs.append(dict(noise=noise, seed=seed, sim_time=sim_time, full_time=full_time))
            if noise > 0:
                for name in ("sim", "simr", "el2n", "simel2n", "forgetting"):
                    if name in scores:
                        aucs[-1][f"auc_{name}"] = roc_auc_score(flipped, scores[name])
                for j, comp in enumerate(sim.get_feature_names_out()):
                    aucs[-1][f"auc_{comp}"] = roc_auc_score(flipped, -sim.components_[:, j])
                # As many epochs as SIM's nets.
                epochs = sim.nets_[0].max_epochs
                auc, pr = cleanlab_auc(X_train, y_fit, flipped, seed, epochs)
                if auc is not None:
                    aucs[-1]["auc_cleanlab"] = auc
                    aucs[-1]["cleanlab_precision"], aucs[-1]["cleanlab_recall"] = pr
                print(
                    "  AUC "
                    + ", ".join(
                        f"{k[4:]}={v:.3f}" for k, v in aucs[-1].items() if k.startswith("auc_")
                    ),
                    flush=True,
                )

            # SIMS cuts the label noise SIM's nets estimate, as CoresetSelector does by default.
            auto = {"label_noise": "auto"}
            methods = {
                "random": ("random", None, {}),
                # The ceiling of label cleaning: random among the samples not flipped.
                "oracle": ("random", None, {}),
                # The ceiling of SIMS with perfect detection: SIMS on SIM among the samples not
                # flipped, with the cut SIM's nets estimate on clean labels (about 0.06).
                "oracle_sims": ("sims", scores["sim"], {"label_noise": 0.06}),
                "el2n_hard": ("hard", scores["el2n"], {}),
                "el2n_easy": ("easy", scores["el2n"], {}),
                "forgetting_hard": ("hard", scores["forgetting"], {}),
                "ccs_el2n": ("ccs", scores["el2n"], {"hard_fraction": 0.1}),
                "ccs_sim": ("ccs", scores["sim"], {"hard_fraction": 0.1}),
                "ccs_sep": ("ccs", scores["sep"], {"hard_fraction": 0.1}),
                "sims_sim": ("sims", scores["sim"], auto),
                "sims_el2n": ("sims", scores["el2n"], auto),
                "sims_sep": ("sims", scores["sep"], auto),
                "sims_simel2n": ("sims", scores["simel2n"], auto),
            }
            if "simr" in scores:
                methods["ccs_simr"] = ("ccs", scores["simr"], {"hard_fraction": 0.1})
                methods["sims_simr"] = ("sims", scores["simr"], auto)
            for name, density in args.density:
                for score in ("sim", "simr", "el2n", "sep", "simel2n"):
                    if score not in scores:
                        continue
                    methods[f"sims_{score}[{name}]"] = ("sims", scores[score], {**auto, **density})
            if args.methods:
                # A density variant runs when it or its base method (e.g. sims_sim) is selected.
                methods = {
                    k: v
                    for k, v in methods.items()
                    if k in args.methods or k.split("[")[0] in args.methods
                }
            cluster_cache = {}
            for ratio in args.ratios:
                for name, (strategy, difficulty, params) in methods.items():
                    if params.get("label_noise") == "auto":
                        # The noise estimate of SIM's nets (confident learning on their outputs).
                        params = {**params, "label_noise": sim.label_noise_}
                    spec = params.get("clusters")
                    if isinstance(spec, str):  # clustered once per seed, when a variant runs
                        if spec not in cluster_cache:
                            cluster_cache[spec] = cluster_labels(spec, X_train, y_fit, sim, seed)
                        params = {**params, "clusters": cluster_cache[spec]}
                    if name in ("oracle", "oracle_sims"):
                        clean = np.flatnonzero(~flipped)
                        n_keep = round((1 - ratio) * y_fit.size)
                        if not flipped.any() or n_keep > clean.size:
                            continue
                        if name == "oracle":
                            picked = np.sort(
                                np.random.default_rng(seed).choice(clean, n_keep, replace=False)
                            )
                        else:
                            selection = select(
                                strategy,
                                difficulty[clean],
                                y_fit[clean],
                                1 - n_keep / clean.size,
                                random_state=seed,
                                **params,
                            )
                            picked = clean[selection.indices]
                    else:
                        selection = select(
                            strategy, difficulty, y_fit, ratio, random_state=seed, **params
                        )
                        picked = selection.indices
                    runs = [(name, None)]
                    if args.weighted and strategy == "sims":
                        # The pool the selection drew from (oracle_sims: the clean samples).
                        weights = 1.0 / selection.probabilities[selection.indices]
                        runs.append((f"{name}+w", weights / weights.mean()))
                    for run_name, weights in runs:
                        fit_args = (X_test, y_test, n_classes, args, seed)
                        if weights is None:
                            acc = train_and_test(
                                X_train[picked], y_fit[picked], *fit_args, n_full=y_fit.size
                            )
                        else:
                            acc = train_weighted(
                                X_train[picked], y_fit[picked], weights, *fit_args, y_fit.size
                            )
                        rows.append(
                            dict(
                                noise=noise,
                                seed=seed,
                                method=run_name,
                                ratio=ratio,
                                n_kept=picked.size,
                                accuracy=acc,
                            )
                        )
                        print(f"  {run_name:28s} ratio={ratio} acc={acc:.4f}", flush=True)

    if args.out:
        write_csv(rows, args.out)
    report(rows, aucs, args)


def report(rows, aucs, args):
    out = sys.stdout
    for noise in args.noise:
        summary = summarize([r for r in rows if r["noise"] == noise])
        full = next(s for s in summary if s["method"] == "full")
        out.write(
            f"\n## noise={noise}: mean ± std test accuracy over {args.seeds} seeds, "
            f"(points vs random) (full data {full['accuracy_mean']:.4f} ± "
            f"{full['accuracy_std']:.4f})\n\n"
        )
        out.write(format_by_ratio(summary) + "\n")
    if aucs:
        keys = sorted({k for a in aucs for k in a if k.startswith(("auc_", "cleanlab_"))})
        out.write("\n## label-noise detection (median over seeds)\n\n")
        for noise in args.noise:
            sub = [a for a in aucs if a["noise"] == noise]
            if noise > 0:
                out.write(
                    f"noise={noise}: "
                    + ", ".join(f"{k}={np.median([a[k] for a in sub]):.4f}" for k in keys)
                    + "\n"
                )
        ratio = np.median([a["sim_time"] / a["full_time"] for a in aucs])
        out.write(f"\nSIM scoring time / one full training (median): {ratio:.3f}\n")


if __name__ == "__main__":
    main()
