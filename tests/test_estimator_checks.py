"""scikit-learn's and imbalanced-learn's own checks over every public estimator."""

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from skprune import CoresetSelector, SIMScorer, TrainingDynamicsScorer


def _tiny_scorer(metric):
    return TrainingDynamicsScorer(metric, max_epochs=2, random_state=0)


ESTIMATORS = [
    _tiny_scorer("el2n"),
    _tiny_scorer("entropy"),
    _tiny_scorer("forgetting"),
    SIMScorer(n_models=2, max_epochs=2, random_state=0),
    CoresetSelector(SIMScorer(n_models=2, max_epochs=1), pruning_ratio=0.5, random_state=0),
    CoresetSelector(_tiny_scorer("el2n"), pruning_ratio=0.5, random_state=0),
    CoresetSelector(
        _tiny_scorer("margin"), pruning_ratio=0.3, estimator=LogisticRegression(), random_state=0
    ),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


imblearn_checks = pytest.importorskip("imblearn.utils.estimator_checks")


@imblearn_checks.parametrize_with_checks(
    [CoresetSelector(_tiny_scorer("el2n"), pruning_ratio=0.5, random_state=0)]
)
def test_imblearn_sampler_checks(estimator, check):
    check(estimator)
