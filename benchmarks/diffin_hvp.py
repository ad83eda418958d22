"""Diff-In's Hessian-vector products: exact (forward-over-reverse) against finite differences.

Three parts, on DiffInScorer's default net (MLP, 256 ReLU units, plain SGD lr 0.1,
10 epochs, 10 checkpoints) and scikit-learn's digits (skprune.datasets.load_digits):

- ``accuracy``: on the checkpoints of one fit, the two pieces of the second-order
  bracket, ``⟨u, G_z⟩`` with ``u = H_B·G_V`` and ``⟨G_V, H_z·G_B⟩``, and the whole
  accumulated second-order term, each computed in float32 by the library
  (``hvp="exact"`` and ``hvp="finite_difference"`` at several ε) and compared with a
  float64 reference (``jvp`` of ``grad`` on a float64 copy of the net). Printed:
  Pearson correlation with the reference, relative error, the ratio of the sums, and
  how many samples carry 90% of the squared deviation.
- ``cost``: wall time of the influence pass (target directions + per-sample terms of
  every sample at every checkpoint, one thread) of TracIn, Diff-In with finite
  differences and Diff-In with exact products, on the same checkpoints; median of
  ``--repeats``, on the training set and on ``--cost-tiles`` copies of it (larger N,
  same work per sample). The self-influence target is timed on a smaller sample.
- ``mislabel``: ROC-AUC of ``scores_`` (the difficulty) for finding flipped labels
  (``--noise`` symmetric noise), with the noisy validation split and with a clean
  target set (digits' test split), for TracIn and both Hessian-vector products,
  over ``--seeds`` seeds; and the size of the second-order term next to the first
  (``‖second_order‖ / ‖first_order‖`` of the components, median over seeds).

Run: ``python benchmarks/diffin_hvp.py --parts accuracy cost mislabel``
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
from scipy.stats import pearsonr
from sklearn.metrics import roc_auc_score
from torch.func import functional_call, grad, jvp, vmap
from torch.nn import functional as F

from skprune import DiffInScorer, influence
from skprune.datasets import add_label_noise, load_digits

EPSILONS = (1e-1, 1e-2, 1e-3, 1e-4)


def _digits():
    split = load_digits()
    return (
        split.X_train.astype(np.float32),
        split.y_train,
        split.X_test.astype(np.float32),
        split.y_test,
    )


def _fitted(X, y, seed, **params):
    return DiffInScorer(random_state=seed, device="cpu", **params).fit(X, y)


def _models(scorer):
    """One FunctionalModel per checkpoint (public attributes of the fitted scorer)."""
    for checkpoint in scorer.checkpoints_:
        state = {k: torch.from_numpy(v) for k, v in checkpoint["state_dict"].items()}
        yield influence.FunctionalModel(
            copy.deepcopy(scorer.net_.module_), state, scorer.net_.criterion_
        )


def _pieces_float64(model, X, y, X_target, y_target, X_hessian, y_hessian):
    """Exact ⟨H_B·G_V, G_z⟩ and ⟨G_V, H_z·G_B⟩ in float64 (jvp of grad on a float64 copy)."""
    module = copy.deepcopy(model.module).double()
    theta = model.theta.double()
    names, sizes, shapes = model.names, model.sizes, model.shapes
    fixed = {k: v.double() if v.is_floating_point() else v for k, v in model.fixed.items()}

    def losses(flat, X_, y_):
        pieces = torch.split(flat, sizes)
        params = {n: p.view(s) for n, p, s in zip(names, pieces, shapes, strict=True)}
        return F.cross_entropy(
            functional_call(module, {**fixed, **params}, (X_,)), y_, reduction="none"
        )

    X, X_target, X_hessian = (torch.as_tensor(a).double() for a in (X, X_target, X_hessian))
    y, y_target, y_hessian = (torch.as_tensor(a) for a in (y, y_target, y_hessian))
    g_target = grad(lambda f: losses(f, X_target, y_target).mean())(theta)

    def batch_gradient(f):
        return grad(lambda g: losses(g, X_hessian, y_hessian).mean())(f)

    g_batch = batch_gradient(theta)
    u = jvp(batch_gradient, (theta,), (g_target,))[1]

    def single(f, x, t):
        return losses(f, x[None], t[None]).sum()

    def one(x, t):
        return jvp(lambda f: grad(single)(f, x, t), (theta,), (g_batch,))

    G, HG = vmap(one)(X, y)
    return (G @ u).numpy(), (HG @ g_target).numpy()


def _pieces_library(model, X, y, X_target, y_target, X_hessian, y_hessian, hvp, epsilon):
    """The library's float32 pieces: ⟨u, G_z⟩ from its u, the rest of its second-order term."""
    directions = influence.checkpoint_directions(
        model,
        X_target=X_target,
        y_target=y_target,
        X_hessian=X_hessian,
        y_hessian=y_hessian,
        epsilon=epsilon,
        hvp=hvp,
    )
    _, second = influence.directional_terms(model, X, y, directions, epsilon=epsilon, hvp=hvp)
    with torch.no_grad():
        along_u = model.directional_derivatives(
            model.theta, torch.as_tensor(X), torch.as_tensor(y), directions["hvp"][None]
        )[:, 0].numpy()
    return along_u.astype(np.float64), second - along_u


def _agreement(estimate, exact):
    deviation = (estimate - exact) ** 2
    order = np.sort(deviation)[::-1]
    carrying = int(np.searchsorted(np.cumsum(order), 0.9 * order.sum()) + 1)
    return {
        "pearson": pearsonr(estimate, exact)[0],
        "relative_error": np.linalg.norm(estimate - exact) / np.linalg.norm(exact),
        "sum_ratio": estimate.sum() / exact.sum(),
        "carry90": carrying,
    }


def accuracy(args):
    X, y, _, _ = _digits()
    X, y = X[: args.n_samples], y[: args.n_samples]
    print(
        f"== accuracy: digits, {y.size} samples, default net, {args.checkpoints} checkpoints; "
        "float32 library estimates against a float64 exact reference"
    )
    for seed in range(args.seeds):
        scorer = _fitted(X, y, seed, n_checkpoints=args.checkpoints)
        codes = np.searchsorted(scorer.classes_, y)
        X_t, y_t = X[scorer.validation_indices_], codes[scorer.validation_indices_]
        X_h, y_h = X[scorer.hessian_indices_], codes[scorer.hessian_indices_]
        weights = np.array(
            [
                -c["step"] * c["learning_rate"] ** 2 / (scorer.n_train_ * len(scorer.checkpoints_))
                for c in scorer.checkpoints_
            ]
        )
        methods = [("exact", 1e-3)] + [("finite_difference", e) for e in EPSILONS]
        sums = {key: [np.zeros(y.size), np.zeros(y.size)] for key in ["float64", *methods]}
        for weight, model in zip(weights, _models(scorer), strict=True):
            data = (model, X, codes, X_t, y_t, X_h, y_h)
            for k, piece in enumerate(_pieces_float64(*data)):
                sums["float64"][k] += weight * piece
            for method in methods:
                for k, piece in enumerate(_pieces_library(*data, *method)):
                    sums[method][k] += weight * piece
        exact_b, exact_z = sums["float64"]
        print(f"seed {seed}: {'method':<23} {'piece':<10} pearson  rel.err  sum/exact  carry90%")
        for method in methods:
            piece_b, piece_z = sums[method]
            label = "exact" if method[0] == "exact" else f"finite diff. eps={method[1]:g}"
            for name, estimate, exact in (
                ("H_B·G_z", piece_b, exact_b),
                ("H_z·G_B", piece_z, exact_z),
                ("total", piece_b + piece_z, exact_b + exact_z),
            ):
                row = _agreement(estimate, exact)
                print(
                    f"        {label:<23} {name:<10} {row['pearson']:7.4f} "
                    f"{row['relative_error']:8.2e} {row['sum_ratio']:9.3f} "
                    f"{row['carry90']:5d} of {y.size}"
                )


def _median_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), float(np.min(times)), float(np.max(times))


def _influence_pass(scorer, X, codes, target, hvp, variant):
    """The scorer's influence work on its checkpoints, through the public functions."""
    X_h, y_h = X[scorer.hessian_indices_], codes[scorer.hessian_indices_]
    second_order = variant != "tracin"
    for model in _models(scorer):
        if target == "self":
            influence.self_checkpoint_terms(
                model, X, codes, X_hessian=X_h, y_hessian=y_h, second_order=second_order, hvp=hvp
            )
            continue
        X_t, y_t = X[scorer.validation_indices_], codes[scorer.validation_indices_]
        directions = influence.checkpoint_directions(
            model,
            X_target=X_t,
            y_target=y_t,
            X_hessian=X_h,
            y_hessian=y_h,
            second_order=second_order,
            hvp=hvp,
        )
        influence.directional_terms(model, X, codes, directions, second_order=second_order, hvp=hvp)


def cost(args):
    X, y, _, _ = _digits()
    # Tiled copies of the training set stand for larger data: the cost of the
    # per-sample passes does not depend on the values.
    cases = [
        ("validation", np.tile(X, (tiles, 1)), np.tile(y, tiles), {}) for tiles in args.cost_tiles
    ]
    cases.append(
        ("self", X[: args.self_samples], y[: args.self_samples], {"hessian_batch_size": 32})
    )
    print(f"== cost: one thread, median (min–max) of {args.repeats} passes, same checkpoints")
    for target, X_case, y_case, params in cases:
        scorer = _fitted(X_case, y_case, 0, target=target, n_checkpoints=args.checkpoints, **params)
        codes = np.searchsorted(scorer.classes_, y_case)
        timings = {}
        for label, hvp, variant in (
            ("TracIn", "exact", "tracin"),
            ("Diff-In, finite difference", "finite_difference", "full"),
            ("Diff-In, exact", "exact", "full"),
        ):
            work = (scorer, X_case, codes, target, hvp, variant)
            timings[label] = _median_time(lambda w=work: _influence_pass(*w), args.repeats)
        n_params = next(_models(scorer)).theta.numel()
        print(
            f"target={target}: {y_case.size} samples, {len(scorer.checkpoints_)} checkpoints, "
            f"{n_params:,} parameters, Hessian batch {scorer.hessian_indices_.size}"
        )
        tracin = timings["TracIn"][0]
        for label, (median, low, high) in timings.items():
            print(
                f"    {label:<28} {median:7.3f} s ({low:.3f}–{high:.3f})  "
                f"{median / tracin:5.2f}x TracIn"
            )


def mislabel(args):
    X, y, X_test, y_test = _digits()
    print(
        f"== mislabel: digits, {y.size} training samples, {args.noise:.0%} symmetric noise, "
        f"ROC-AUC of scores_ for the flipped labels, seeds 0..{args.seeds - 1} (mean ± std)"
    )
    settings = [
        ("TracIn", {"variant": "tracin"}),
        ("Diff-In, finite difference", {"hvp": "finite_difference"}),
        ("Diff-In, exact", {"hvp": "exact"}),
    ]
    for target_name, target in (("noisy split", None), ("clean target", (X_test, y_test))):
        for label, params in settings:
            aucs, ratios = [], []
            for seed in range(args.seeds):
                y_noisy, flipped = add_label_noise(y, args.noise, random_state=seed)
                scorer = _fitted(
                    X,
                    y_noisy,
                    seed,
                    validation_data=target,
                    n_checkpoints=args.checkpoints,
                    **params,
                )
                aucs.append(roc_auc_score(flipped, scorer.scores_))
                _, first, second = scorer.components_.T
                ratios.append(np.linalg.norm(second) / np.linalg.norm(first))
            share = ""
            if params.get("variant") != "tracin":
                share = f"  second/first order {np.median(ratios):.3f}"
            print(
                f"    {target_name:<13} {label:<28} {np.mean(aucs):.4f} ± {np.std(aucs):.4f}  "
                f"[{' '.join(f'{a:.3f}' for a in aucs)}]{share}"
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["accuracy", "cost", "mislabel"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--checkpoints", type=int, default=10)
    parser.add_argument("--n-samples", type=int, default=500, help="samples of the accuracy part")
    parser.add_argument("--self-samples", type=int, default=300, help="samples of the self cost")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--cost-tiles",
        type=int,
        nargs="+",
        default=[1, 8],
        help="the cost part times the training set repeated this many times",
    )
    parser.add_argument("--noise", type=float, default=0.2)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    for part in args.parts:
        {"accuracy": accuracy, "cost": cost, "mislabel": mislabel}[part](args)


if __name__ == "__main__":
    main()
