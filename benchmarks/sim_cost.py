"""SIMScorer wall time against one full training of the target net, and its mislabel AUC.

Fashion-MNIST 10k training subset with 20% symmetric label noise, default MLP, one
torch thread. The full training is the default net for 10 epochs (median of 3 fits);
SIM is timed with its defaults, with ``n_jobs=2`` and with 1 epoch per scoring net.

    OMP_NUM_THREADS=1 python benchmarks/sim_cost.py
"""

from __future__ import annotations

import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from skprune import SIMScorer
from skprune.datasets import add_label_noise, load_fashion_mnist
from skprune.nets import make_default_net


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main():
    torch.set_num_threads(1)
    data = load_fashion_mnist(n_train=10000, n_test=10, random_state=0)
    X = data.X_train
    y, flipped = add_label_noise(data.y_train, 0.2, random_state=0)
    full = np.median(
        [
            timed(lambda: make_default_net(X, 10, max_epochs=10, device="cpu").fit(X, y))[0]
            for _ in range(3)
        ]
    )
    print(f"full 10-epoch training: {full:.2f} s")
    for params in [{}, {"n_jobs": 2}, {"max_epochs": 1}, {"max_epochs": 1, "n_jobs": 2}]:
        scorer = SIMScorer(random_state=0, **params)
        seconds, _ = timed(lambda scorer=scorer: scorer.fit(X, y))
        auc = roc_auc_score(flipped, scorer.scores_)
        print(f"SIMScorer({params}): {seconds:.2f} s = {seconds / full:.2f}x full; AUC {auc:.4f}")


if __name__ == "__main__":
    main()
