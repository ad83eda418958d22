"""SIMScorer wall time against one full training of the target net, and its mislabel AUC.

Fashion-MNIST 10k training subset with 20% symmetric label noise (3 noise seeds),
default MLP, one torch thread. Every SIM fit is timed right after one full
training (the default net for 10 epochs) and divided by it. SIM is timed with
its defaults (2 half-width nets × 2 epochs, margin separability), with
``n_jobs=2``, with full-width nets, with the ratio separability, with 3 nets ×
1 epoch and with 3 nets × 3 epochs (the defaults until round 7). Each
configuration reports the median over the noise seeds of its time ratio (and
their range), the ROC-AUC of its difficulty for the flipped labels and the AUC
of EL2N computed from the same scoring nets (the
issue asks SIM to be no worse than that).

``--images`` runs the same comparison on ``28×28`` images, where the default
nets are :class:`~skprune.nets.SmallCNN` s; only the defaults (half-width
nets) and full-width nets are timed there.

    OMP_NUM_THREADS=1 python benchmarks/sim_cost.py
    OMP_NUM_THREADS=1 python benchmarks/sim_cost.py --images
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _common import RESULTS, timed
from sklearn.metrics import roc_auc_score

from skprune import SIMScorer
from skprune.datasets import add_label_noise, load_fashion_mnist
from skprune.metrics import el2n
from skprune.nets import infer, make_default_net

# "width" builds the 2-epoch default net at that width as the scoring estimator (SIM's
# default is 0.5).
CONFIGURATIONS = [
    {},
    {"n_jobs": 2},
    {"width": 1.0},
    {"separability": "ratio"},
    {"n_models": 3, "max_epochs": 1},
    {"n_models": 3, "max_epochs": 3},
    {"n_models": 3, "max_epochs": 3, "separability": "ratio"},
]
CNN_CONFIGURATIONS = [{}, {"width": 1.0}]


def _scorer_params(params, X):
    params = dict(params)
    if "width" in params:
        width = params.pop("width")
        params["estimator"] = make_default_net(X, 10, max_epochs=2, device="cpu", width=width)
    return params


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="label-noise seeds")
    parser.add_argument(
        "--images", action="store_true", help="28x28 images and the default CNN instead of the MLP"
    )
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    output = args.output or RESULTS / ("sim_cost_cnn.log" if args.images else "sim_cost.log")
    configurations = CNN_CONFIGURATIONS if args.images else CONFIGURATIONS
    torch.set_num_threads(1)
    data = load_fashion_mnist(n_train=10000, n_test=10, images=args.images, random_state=0)
    X = data.X_train
    lines = []

    def say(line):
        lines.append(line)
        print(line, flush=True)

    net_name = make_default_net(X, 10).module.__name__
    say(f"# sim_cost: Fashion-MNIST {X.shape[0]} train, {net_name}, 20% noise, seeds={args.seeds}")

    def full_training():
        return make_default_net(X, 10, max_epochs=10, device="cpu").fit(X, data.y_train)

    full_training()  # warm-up: the first fit of a process pays one-off costs
    # Every SIM fit is timed right after a full training, so that a slow spell
    # of the machine shows on both sides of its ratio.
    rows = {i: [] for i in range(len(configurations))}
    fulls = []
    for seed in range(args.seeds):
        y, flipped = add_label_noise(data.y_train, 0.2, random_state=seed)
        for i, params in enumerate(configurations):
            full, _ = timed(full_training)
            fulls.append(full)
            scorer = SIMScorer(random_state=seed, **_scorer_params(params, X))
            seconds, _ = timed(lambda scorer=scorer, y=y: scorer.fit(X, y))
            proba = np.stack([infer(net, X).proba for net in scorer.nets_])
            rows[i].append(
                (
                    seconds,
                    seconds / full,
                    roc_auc_score(flipped, scorer.scores_),
                    roc_auc_score(flipped, el2n(proba, y)),
                )
            )
    say(f"full 10-epoch training: {np.median(fulls):.2f} s (median over seeds)")
    for i, params in enumerate(configurations):
        seconds, ratio, auc_sim, auc_el2n = np.median(rows[i], axis=0)
        low, high = np.min(np.array(rows[i])[:, 1]), np.max(np.array(rows[i])[:, 1])
        say(
            f"SIMScorer({params}): {seconds:.2f} s = {ratio:.2f}x full "
            f"(seeds {low:.2f}-{high:.2f}); "
            f"AUC SIM {auc_sim:.4f}, EL2N of the same nets {auc_el2n:.4f}"
        )
    with open(output, "w") as out:
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
