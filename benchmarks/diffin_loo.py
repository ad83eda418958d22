"""Validate Diff-In and TracIn estimates against brute-force leave-one-out retraining.

Protocol (deterministic, small enough for exact retraining of every sample):

- digits, ``--n-train`` training samples and a separate target (validation) set
  of ``--n-target`` samples;
- an MLP trained by full-batch gradient descent (plain SGD, no shuffling, fixed
  initialization) in float64, ``--steps`` steps of learning rate ``--lr``;
- leave-one-out: the same training without sample i, for every i (all models
  run side by side with ``torch.func.vmap``, the removed sample masked out);
  the LOO effect is ``L_V(θ_-i) − L_V(θ)``, the rise of the target loss when i
  is removed;
- estimates from ``--checkpoints`` evenly spaced checkpoints of the full
  training, computed by the library's own formulas
  (:func:`skprune.influence.checkpoint_terms` in float32,
  :func:`skprune.influence.accumulate_influence`): TracIn (first order),
  Diff-In's second-order term alone (as in the reference code), and both.
  ``--hvp`` lists the Hessian-vector products to compare (default: exact, the
  library's default, then the reference code's finite difference); rows of
  every method after the first carry its tag, e.g. ``full[fd]``.

Printed: Pearson (and Spearman) correlation of each estimate with the LOO
effect on the 30 samples with the largest |LOO effect| (the paper's protocol
compares the most influential points), on the 30 with the largest |estimate|,
and on all samples; one line per seed, then medians. For reference the exact
linear response of the whole trajectory (one Hessian-vector product per
training step, float64) is printed as ``linear_response``: the best any
estimate that is linear in the removed sample's gradients can hope for.

``--target-points P`` also validates Koh & Liang's protocol: for each of the
first P target samples alone as V, the same correlations with the rise of that
sample's loss (the leave-one-out models are reused; the estimates and the
linear response are recomputed per point). Medians over all points are printed
with the number of points where Diff-In beats TracIn on the top 30.

``--diagnostics`` adds two rows that locate the checkpoint estimates' error:
``exact_target@ckpt`` carries the target gradient back exactly (every step's
Hessian) but takes the sample gradients only at the checkpoints, as every
checkpoint method must; ``adjoint@ckpt`` also freezes the Hessian at the
checkpoints (one HVP per training step, each with its interval's checkpoint).
Neither is shipped; they bound what m checkpoints can reach.

Run: ``python benchmarks/diffin_loo.py --seeds 3`` (add ``--target-points 20``)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.stats import pearsonr, spearmanr
from sklearn.datasets import load_digits
from torch import nn
from torch.func import functional_call, grad, jvp, vmap
from torch.nn import functional as F

from skprune import influence
from skprune.nets import MLP

ESTIMATES = {
    "tracin": lambda fo, so: fo,
    "second_order": lambda fo, so: so,
    "full": lambda fo, so: fo + so,
}
HVP_TAGS = {"exact": "exact", "finite_difference": "fd"}


def _data(n_train, n_target, seed):
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float64)
    order = np.random.default_rng(seed).permutation(len(y))
    train, target = order[:n_train], order[n_train : n_train + n_target]
    return X[train], y[train], X[target], y[target]


def _train_many(module, init, X, y, weights, *, steps, lr, checkpoints=()):
    """Full-batch GD of len(weights) models side by side; weights masks samples per model."""
    X = torch.as_tensor(X)
    y = torch.as_tensor(y)
    params = {k: v.expand(len(weights), *v.shape).clone() for k, v in init.items()}

    def loss(p, w):
        losses = F.cross_entropy(functional_call(module, p, (X,)), y, reduction="none")
        return (w * losses).sum() / w.sum()

    step_grad = vmap(grad(loss), in_dims=(0, 0))
    saved = []
    for step in range(steps):
        if step in checkpoints:
            saved.append({k: v[0].clone() for k, v in params.items()})
        grads = step_grad(params, weights)
        params = {k: v - lr * grads[k] for k, v in params.items()}
    return params, saved


def _target_losses(module, params, X, y):
    """Per-target-sample losses of every model, shape (n_models, n_target)."""
    X = torch.as_tensor(X)
    y = torch.as_tensor(y)

    def losses(p):
        return F.cross_entropy(functional_call(module, p, (X,)), y, reduction="none")

    return vmap(losses)(params)


def _accuracy(module, params, X, y):
    with torch.no_grad():
        logits = functional_call(module, params, (torch.as_tensor(X),))
    return float(np.mean(logits.argmax(dim=1).numpy() == y))


def _linear_response(
    module,
    trajectory,
    final,
    X,
    y,
    X_target,
    y_target,
    lr,
    *,
    sample_steps=None,
    hessian_steps=None,
):
    """Exact first-order (in 1/N) effect of removing each sample, float64, all T steps.

    The target gradient at the end is carried back through every step,
    ``λ_t = (I − η·H_t)·λ_{t+1}`` (exact Hessian-vector products), and each
    step contributes ``η/(N−1)·⟨λ_{t+1}, G_z − Ḡ⟩``: the linear response of
    the trajectory to dropping z. It needs one Hessian-vector product per
    training step, so it is a ceiling for checkpoint estimates, not a method
    we ship.

    Two diagnostics locate where checkpoint estimates lose accuracy:
    ``sample_steps`` (the checkpoint steps) takes the sample gradients only
    there, each standing for its interval (``T/m`` steps), as every
    checkpoint method does; ``hessian_steps`` (step t → the step whose
    Hessian carries λ back through step t) freezes the Hessian at the
    checkpoints.
    """
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    X_target, y_target = torch.as_tensor(X_target), torch.as_tensor(y_target)
    names = list(final)

    def per_sample(p):
        return F.cross_entropy(functional_call(module, p, (X,)), y, reduction="none")

    def train_loss(p):
        return per_sample(p).mean()

    def target_loss(p):
        return F.cross_entropy(functional_call(module, p, (X_target,)), y_target)

    n, steps = len(y), len(trajectory)
    weight = 1.0 if sample_steps is None else steps / len(sample_steps)
    adjoint = grad(target_loss)(final)
    effect = np.zeros(n)
    for step in reversed(range(steps)):
        if sample_steps is None or step in sample_steps:
            dots = jvp(per_sample, (trajectory[step],), (adjoint,))[1].numpy()
            effect += weight * lr / (n - 1) * (dots - dots.mean())
        params = trajectory[step if hessian_steps is None else hessian_steps[step]]
        hvp = jvp(grad(train_loss), (params,), (adjoint,))[1]
        adjoint = {k: adjoint[k] - lr * hvp[k] for k in names}
    return effect


def run_seed(seed, args):
    X, y, X_target, y_target = _data(args.n_train, args.n_target, seed)
    n = len(y)
    torch.manual_seed(seed)
    module = MLP(X.shape[1], 10, hidden_units=tuple(args.hidden)).double()
    init = {k: v.detach().clone() for k, v in module.named_parameters()}
    m = args.checkpoints
    checkpoint_steps = [int((k + 0.5) * args.steps / m) for k in range(m)]

    started = time.perf_counter()
    # Model 0 is the full training; models 1..n each leave one sample out.
    losses = []
    for start in range(0, n, args.chunk):
        rows = np.arange(start, min(start + args.chunk, n))
        weights = torch.ones(len(rows) + 1, n, dtype=torch.float64)
        weights[np.arange(1, len(rows) + 1), rows] = 0.0
        params, saved = _train_many(
            module,
            init,
            X,
            y,
            weights,
            steps=args.steps,
            lr=args.lr,
            checkpoints=range(args.steps) if start == 0 else (),
        )
        if start == 0:
            trajectory = saved
            final = {k: v[0] for k, v in params.items()}
        losses.append(_target_losses(module, params, X_target, y_target).numpy())
    full_losses = losses[0][0]
    loo_losses = np.concatenate([chunk[1:] for chunk in losses])
    accuracy = (_accuracy(module, final, X, y), _accuracy(module, final, X_target, y_target))
    loo_seconds = time.perf_counter() - started

    def estimate(X_v, y_v):
        return _estimates(module, trajectory, final, checkpoint_steps, X, y, X_v, y_v, args)

    started = time.perf_counter()
    loo_effect = loo_losses.mean(axis=1) - full_losses.mean()
    target_estimates = estimate(X_target, y_target)
    rows = _correlations(target_estimates, loo_effect)
    estimate_seconds = time.perf_counter() - started
    ratios = {k[len("_ratio") :]: v for k, v in target_estimates.items() if k.startswith("_ratio")}

    # Koh & Liang's protocol: the influence on the loss of one test point.
    point_rows = []
    for point in range(args.target_points):
        point_effect = loo_losses[:, point] - full_losses[point]
        point_estimates = estimate(X_target[point : point + 1], y_target[point : point + 1])
        point_rows.append(_correlations(point_estimates, point_effect))
    return rows, point_rows, loo_seconds, estimate_seconds, accuracy, ratios


def _estimates(module, trajectory, final, checkpoint_steps, X, y, X_target, y_target, args):
    """TracIn, second order, full (Diff-In) and the exact linear response for one target set."""
    n, m = len(y), len(checkpoint_steps)
    float_module = MLP(X.shape[1], 10, hidden_units=tuple(args.hidden))
    estimates = {}
    for position, hvp in enumerate(args.hvp):
        first, second = [], []
        for state in [trajectory[step] for step in checkpoint_steps]:
            model = influence.FunctionalModel(
                float_module, {k: v.float() for k, v in state.items()}, nn.CrossEntropyLoss
            )
            f, s = influence.checkpoint_terms(
                model,
                X.astype(np.float32),
                y,
                X_target=X_target.astype(np.float32),
                y_target=y_target,
                X_hessian=X.astype(np.float32),
                y_hessian=y,
                epsilon=args.epsilon,
                hvp=hvp,
            )
            first.append(f)
            second.append(s)
        first_order, second_order = influence.accumulate_influence(
            first,
            second,
            steps=checkpoint_steps,
            learning_rates=[args.lr] * m,
            n_train=n,
            total_steps=args.steps,
        )
        for name, combine in ESTIMATES.items():
            if name == "tracin" and position:
                continue  # the first-order term does not depend on the Hessian products
            tag = f"[{HVP_TAGS[hvp]}]" if position else ""
            estimates[name + tag] = combine(first_order, second_order)
        # How large the second-order term is next to the first (its share of "full").
        tag = f"[{HVP_TAGS[hvp]}]" if position else ""
        estimates["_ratio" + tag] = np.linalg.norm(second_order) / np.linalg.norm(first_order)
    response = (module, trajectory, final, X, y, X_target, y_target, args.lr)
    estimates["linear_response"] = _linear_response(*response)
    if args.diagnostics:
        # Each step's Hessian is its interval's checkpoint's (interval k = [kT/m, (k+1)T/m)).
        owner = [checkpoint_steps[min(step * m // args.steps, m - 1)] for step in range(args.steps)]
        sampled = set(checkpoint_steps)
        estimates["exact_target@ckpt"] = _linear_response(*response, sample_steps=sampled)
        estimates["adjoint@ckpt"] = _linear_response(
            *response, sample_steps=sampled, hessian_steps=owner
        )
    return estimates


def _correlations(estimates, loo_effect):
    top_loo = np.argsort(-np.abs(loo_effect))[:30]
    rows = {}
    for name, estimate in estimates.items():
        if name.startswith("_ratio"):
            continue
        top_own = np.argsort(-np.abs(estimate))[:30]
        rows[name] = {
            "pearson_top30_loo": pearsonr(estimate[top_loo], loo_effect[top_loo])[0],
            "pearson_top30_own": pearsonr(estimate[top_own], loo_effect[top_own])[0],
            "pearson_all": pearsonr(estimate, loo_effect)[0],
            "spearman_all": spearmanr(estimate, loo_effect)[0],
            "scale": float(np.polyfit(estimate, loo_effect, 1)[0]),
        }
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=400)
    parser.add_argument("--n-target", type=int, default=300)
    parser.add_argument("--hidden", type=int, nargs="+", default=[32])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--checkpoints", type=int, default=10)
    parser.add_argument(
        "--epsilon", type=float, default=1e-3, help="step of the finite-difference products"
    )
    parser.add_argument(
        "--hvp",
        nargs="+",
        choices=sorted(HVP_TAGS),
        default=["exact", "finite_difference"],
        help="Hessian-vector products to compare; the first gets the plain row names",
    )
    parser.add_argument("--chunk", type=int, default=100, help="LOO models trained at once")
    parser.add_argument(
        "--target-points",
        type=int,
        default=0,
        help="also validate the influence on single target points (Koh & Liang's protocol)",
    )
    parser.add_argument(
        "--diagnostics",
        action="store_true",
        help="also the exact propagated target gradient with sample gradients only at the "
        "checkpoints, and the same carried back with the checkpoints' Hessians only",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(
        f"digits, {args.n_train} train / {args.n_target} target samples, MLP {args.hidden}, "
        f"full-batch GD lr={args.lr} for {args.steps} steps, {args.checkpoints} checkpoints, "
        f"hvp={'/'.join(args.hvp)}, epsilon={args.epsilon} (finite differences)"
    )
    header = f"{'seed':>4} {'estimate':<26} {'top30(LOO)':>10} {'top30(own)':>10} {'all':>7} "
    header += f"{'spearman':>8} {'LOO/est':>8}"
    print(header)
    results, point_results, all_ratios = [], [], []
    for seed in range(args.seeds):
        rows, point_rows, loo_seconds, estimate_seconds, accuracy, ratios = run_seed(seed, args)
        results.append(rows)
        all_ratios.append(ratios)
        point_results.extend(point_rows)
        for name, row in rows.items():
            _print_row(seed, name, row)
        if point_rows:
            for name in point_rows[0]:
                _print_row(seed, f"{name} (points)", _median_rows(point_rows, name))
        print(
            f"     LOO retraining {loo_seconds:.1f} s, estimates on the target set "
            f"{estimate_seconds:.1f} s; trained model accuracy: train {accuracy[0]:.3f}, "
            f"target {accuracy[1]:.3f}"
        )
        print(f"     {_ratio_line(ratios)}")
    print("median over seeds (target set)")
    for name in results[0]:
        _print_row("", name, _median_rows(results, name))
    medians = {tag: float(np.median([r[tag] for r in all_ratios])) for tag in all_ratios[0]}
    print(f"     {_ratio_line(medians)}")
    if point_results:
        print(f"median over {len(point_results)} single target points ({args.seeds} seeds)")
        for name in point_results[0]:
            _print_row("", name, _median_rows(point_results, name))
        for name in (name for name in point_results[0] if name.startswith("full")):
            wins = sum(
                rows[name]["pearson_top30_loo"] > rows["tracin"]["pearson_top30_loo"]
                for rows in point_results
            )
            print(
                f"     Diff-In ({name}) above TracIn on the top 30 (LOO) for {wins} of "
                f"{len(point_results)}"
            )


def _ratio_line(ratios):
    """‖second order‖ / ‖first order‖ on the target set, per Hessian-vector product."""
    parts = [f"{tag or 'plain rows'}: {value:.3f}" for tag, value in ratios.items()]
    return "second-order / first-order term (norms, target set): " + ", ".join(parts)


def _median_rows(results, name):
    return {key: np.median([rows[name][key] for rows in results]) for key in results[0][name]}


def _print_row(seed, name, row):
    print(
        f"{seed:>4} {name:<26} {row['pearson_top30_loo']:>10.3f} "
        f"{row['pearson_top30_own']:>10.3f} {row['pearson_all']:>7.3f} "
        f"{row['spearman_all']:>8.3f} {row['scale']:>8.3f}"
    )


if __name__ == "__main__":
    main()
