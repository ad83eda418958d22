"""SIMScorer wall time against one full training of the target net, and its mislabel AUC.

Fashion-MNIST 10k training subset with 20% symmetric label noise (3 noise seeds),
default MLP, one torch thread. The full training is the default net for 10 epochs
(median of 3 fits). SIM is timed with its defaults (2 nets × 2 epochs, margin
separability), with ``n_jobs=2``, with the ratio separability, with 3 nets × 1 epoch
and with 3 nets × 3 epochs (the defaults until round 7). Each configuration
reports the median over the noise seeds of its time ratio, the ROC-AUC of its
difficulty for the flipped labels and the AUC of EL2N computed from the same
scoring nets (the issue asks SIM to be no worse than that).

    OMP_NUM_THREADS=1 python benchmarks/sim_cost.py
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

CONFIGURATIONS = [
    {},
    {"n_jobs": 2},
    {"separability": "ratio"},
    {"n_models": 3, "max_epochs": 1},
    {"n_models": 3, "max_epochs": 3},
    {"n_models": 3, "max_epochs": 3, "separability": "ratio"},
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="label-noise seeds")
    parser.add_argument("--output", default=str(RESULTS / "sim_cost.log"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    data = load_fashion_mnist(n_train=10000, n_test=10, random_state=0)
    X = data.X_train
    lines = []

    def say(line):
        lines.append(line)
        print(line, flush=True)

    say(f"# sim_cost: Fashion-MNIST {X.shape[0]} train, 20% noise, seeds={args.seeds}")

    def full_training():
        return make_default_net(X, 10, max_epochs=10, device="cpu").fit(X, data.y_train)

    full = np.median([timed(full_training)[0] for _ in range(3)])
    say(f"full 10-epoch training: {full:.2f} s (median of 3)")
    for params in CONFIGURATIONS:
        per_seed = []
        for seed in range(args.seeds):
            y, flipped = add_label_noise(data.y_train, 0.2, random_state=seed)
            scorer = SIMScorer(random_state=seed, **params)
            seconds, _ = timed(lambda scorer=scorer, y=y: scorer.fit(X, y))
            proba = np.stack([infer(net, X).proba for net in scorer.nets_])
            per_seed.append(
                (
                    seconds,
                    roc_auc_score(flipped, scorer.scores_),
                    roc_auc_score(flipped, el2n(proba, y)),
                )
            )
        seconds, auc_sim, auc_el2n = np.median(per_seed, axis=0)
        say(
            f"SIMScorer({params}): {seconds:.2f} s = {seconds / full:.2f}x full; "
            f"AUC SIM {auc_sim:.4f}, EL2N of the same nets {auc_el2n:.4f}"
        )
    with open(args.output, "w") as out:
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
