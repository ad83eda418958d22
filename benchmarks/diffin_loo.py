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
  (:func:`skprune.influence.checkpoint_terms`, float32 finite differences,
  :func:`skprune.influence.accumulate_influence`): TracIn (first order),
  Diff-In's second-order term alone (as in the reference code), and both.

Printed: Pearson (and Spearman) correlation of each estimate with the LOO
effect on the 30 samples with the largest |LOO effect| (the paper's protocol
compares the most influential points), on the 30 with the largest |estimate|,
and on all samples; one line per seed, then medians. For reference the exact
linear response of the whole trajectory (one Hessian-vector product per
training step, float64) is printed as ``linear_response``: the best any
estimate that is linear in the removed sample's gradients can hope for.

Run: ``python benchmarks/diffin_loo.py --seeds 3``
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


def _target_loss(module, params, X, y):
    X = torch.as_tensor(X)
    y = torch.as_tensor(y)

    def loss(p):
        return F.cross_entropy(functional_call(module, p, (X,)), y)

    return vmap(loss)(params)


def _accuracy(module, params, X, y):
    with torch.no_grad():
        logits = functional_call(module, params, (torch.as_tensor(X),))
    return float(np.mean(logits.argmax(dim=1).numpy() == y))


def _linear_response(module, trajectory, final, X, y, X_target, y_target, lr):
    """Exact first-order (in 1/N) effect of removing each sample, float64, all T steps.

    The target gradient at the end is carried back through every step,
    ``λ_t = (I − η·H_t)·λ_{t+1}`` (exact Hessian-vector products), and each
    step contributes ``η/(N−1)·⟨λ_{t+1}, G_z − Ḡ⟩``: the linear response of
    the trajectory to dropping z. It needs one Hessian-vector product per
    training step, so it is a ceiling for checkpoint estimates, not a method
    we ship.
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

    n = len(y)
    adjoint = grad(target_loss)(final)
    effect = np.zeros(n)
    for params in reversed(trajectory):
        dots = jvp(per_sample, (params,), (adjoint,))[1].numpy()
        effect += lr / (n - 1) * (dots - dots.mean())
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
        losses.append(_target_loss(module, params, X_target, y_target).numpy())
    full_loss = losses[0][0]
    accuracy = (_accuracy(module, final, X, y), _accuracy(module, final, X_target, y_target))
    loo_effect = np.concatenate([chunk[1:] for chunk in losses]) - full_loss
    loo_seconds = time.perf_counter() - started

    started = time.perf_counter()
    first, second = [], []
    float_module = MLP(X.shape[1], 10, hidden_units=tuple(args.hidden))
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
    estimate_seconds = time.perf_counter() - started

    started = time.perf_counter()
    linear_response = _linear_response(module, trajectory, final, X, y, X_target, y_target, args.lr)
    adjoint_seconds = time.perf_counter() - started

    top_loo = np.argsort(-np.abs(loo_effect))[:30]
    rows = {}
    estimates = {name: combine(first_order, second_order) for name, combine in ESTIMATES.items()}
    estimates["linear_response"] = linear_response
    for name, estimate in estimates.items():
        top_own = np.argsort(-np.abs(estimate))[:30]
        rows[name] = {
            "pearson_top30_loo": pearsonr(estimate[top_loo], loo_effect[top_loo])[0],
            "pearson_top30_own": pearsonr(estimate[top_own], loo_effect[top_own])[0],
            "pearson_all": pearsonr(estimate, loo_effect)[0],
            "spearman_all": spearmanr(estimate, loo_effect)[0],
            "scale": float(np.polyfit(estimate, loo_effect, 1)[0]),
        }
    return rows, loo_seconds, estimate_seconds, adjoint_seconds, accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=400)
    parser.add_argument("--n-target", type=int, default=300)
    parser.add_argument("--hidden", type=int, nargs="+", default=[32])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--checkpoints", type=int, default=10)
    parser.add_argument("--epsilon", type=float, default=1e-3)
    parser.add_argument("--chunk", type=int, default=100, help="LOO models trained at once")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(
        f"digits, {args.n_train} train / {args.n_target} target samples, MLP {args.hidden}, "
        f"full-batch GD lr={args.lr} for {args.steps} steps, {args.checkpoints} checkpoints, "
        f"epsilon={args.epsilon}"
    )
    header = f"{'seed':>4} {'estimate':<20} {'top30(LOO)':>10} {'top30(own)':>10} {'all':>7} "
    header += f"{'spearman':>8} {'LOO/est':>8}"
    print(header)
    results = []
    for seed in range(args.seeds):
        rows, loo_seconds, estimate_seconds, adjoint_seconds, accuracy = run_seed(seed, args)
        results.append(rows)
        for name, row in rows.items():
            print(
                f"{seed:>4} {name:<20} {row['pearson_top30_loo']:>10.3f} "
                f"{row['pearson_top30_own']:>10.3f} {row['pearson_all']:>7.3f} "
                f"{row['spearman_all']:>8.3f} {row['scale']:>8.3f}"
            )
        print(
            f"     LOO retraining {loo_seconds:.1f} s, estimates (all variants) "
            f"{estimate_seconds:.2f} s, exact linear response {adjoint_seconds:.1f} s; "
            f"trained model accuracy: train {accuracy[0]:.3f}, target {accuracy[1]:.3f}"
        )
    print("median over seeds")
    for name in results[0]:
        medians = {
            key: np.median([rows[name][key] for rows in results]) for key in results[0][name]
        }
        print(
            f"{'':>4} {name:<20} {medians['pearson_top30_loo']:>10.3f} "
            f"{medians['pearson_top30_own']:>10.3f} {medians['pearson_all']:>7.3f} "
            f"{medians['spearman_all']:>8.3f} {medians['scale']:>8.3f}"
        )


if __name__ == "__main__":
    main()
