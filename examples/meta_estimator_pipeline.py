"""Use ``CoresetSelector`` as the final estimator of a plain scikit-learn pipeline.

Without imbalanced-learn, give the selector an ``estimator``: ``fit`` scores
the training data, selects the coreset and fits a clone of the estimator on
it; ``predict`` and ``score`` delegate to that clone (like
:class:`sklearn.feature_selection.SelectFromModel`). So the selector can be
the last step of :class:`sklearn.pipeline.Pipeline`, here after a
``StandardScaler``.

The difficulty scores come from small networks (EL2N over two MLPs); the
estimator trained on the coreset can be anything with ``fit``: a logistic
regression or a skorch net. Each is compared with the same model trained on
all the data. On a data set this small, one run does not separate a scored
coreset from a random one of the same size reliably; the point here is the
API (``skprune demo`` averages over seeds).

Runs in a few seconds on a CPU.
"""

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skprune import CoresetSelector, TrainingDynamicsScorer
from skprune.datasets import load_digits
from skprune.nets import make_default_net

X_train, X_test, y_train, y_test = load_digits()
n_classes = np.unique(y_train).size

estimators = {
    "logistic regression": LogisticRegression(max_iter=1000),
    "skorch MLP": make_default_net(X_train, n_classes, max_epochs=20, device="cpu"),
}
for name, estimator in estimators.items():
    full = Pipeline([("scale", StandardScaler()), ("model", clone(estimator))])
    full.fit(X_train, y_train)
    print(f"{name}: all {y_train.size} samples -> test accuracy {full.score(X_test, y_test):.3f}")

    for strategy in ("random", "ccs"):
        selector = CoresetSelector(
            TrainingDynamicsScorer("el2n", n_models=2, max_epochs=5, device="cpu"),
            pruning_ratio=0.8,
            strategy=strategy,
            estimator=estimator,
            random_state=0,
        )
        pipe = Pipeline([("scale", StandardScaler()), ("prune", selector)])
        pipe.fit(X_train, y_train)
        fitted = pipe.named_steps["prune"]
        print(
            f"  {strategy:>6} coreset of {fitted.sample_indices_.size} -> test accuracy "
            f"{pipe.score(X_test, y_test):.3f} (estimator_ is a fitted "
            f"{type(fitted.estimator_).__name__})"
        )

print("\npredictions of the last pipeline:", pipe.predict(X_test[:8]), "true:", y_test[:8])
