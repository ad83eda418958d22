"""Extract a coreset with ``fit_resample`` and inspect what the selector kept.

``CoresetSelector.fit_resample`` follows imbalanced-learn's sampler contract:
it returns the kept rows of ``X`` and ``y``. The fitted selector also says
which rows it kept (``sample_indices_``), how many pruned samples each kept
one stands for (``sample_weight_``, the importance weights of the random
draw) and how hard every training sample is (``scores_``, higher = harder).

The selector runs with its defaults: SIM scores from two short-lived
networks and SIMS importance sampling. To show that the difficulty means
something, 5% of the digits labels are flipped first: the mislabeled samples
should score as hard, and few of them should make it into the coreset.

Runs in a few seconds on a CPU.
"""

import numpy as np

from skprune import CoresetSelector
from skprune.datasets import add_label_noise, load_digits

X, _, y_clean, _ = load_digits()
y, flipped = add_label_noise(y_clean, 0.05, random_state=0)

selector = CoresetSelector(pruning_ratio=0.7, random_state=0)
X_core, y_core = selector.fit_resample(X, y)

kept = selector.sample_indices_
print(f"kept {X_core.shape[0]} of {X.shape[0]} samples (pruning_ratio=0.7), X_core {X_core.shape}")
print(
    f"sample_indices_ starts {kept[:8]}; X_core == X[sample_indices_]:", (X_core == X[kept]).all()
)

weights = selector.sample_weight_
print(
    f"sample_weight_: mean {weights.mean():.2f}, min {weights.min():.2f}, "
    f"max {weights.max():.2f} (weighting the coreset's loss by them estimates the full-data loss)"
)

scores = selector.scores_
hardest = np.argsort(-scores)[: flipped.sum()]
print(
    f"scores_: mean difficulty {scores[flipped].mean():.2f} for the {flipped.sum()} mislabeled "
    f"samples, {scores[~flipped].mean():.2f} for the others; "
    f"{flipped[hardest].mean():.0%} of the {flipped.sum()} hardest are mislabeled"
)
print(f"mislabeled samples in the coreset: {flipped[kept].sum()} of {flipped.sum()}")

print("\nclass         " + " ".join(f"{c:>4d}" for c in selector.classes_))
print("all samples   " + " ".join(f"{n:>4d}" for n in np.bincount(y)))
print("coreset       " + " ".join(f"{n:>4d}" for n in selector.sampling_strategy_.values()))
