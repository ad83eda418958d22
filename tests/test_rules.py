"""Selection rules as objects: parameters, cloning, search, prefit, deprecations, invariants."""

import pathlib
import re

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from skprune import CoresetSelector
from skprune.sampling import (
    RULES,
    STRATEGIES,
    BaseRule,
    CCSRule,
    HardRule,
    PoolRule,
    SIMSRule,
    make_rule,
    select,
)

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "skprune"


class _LinearScorer(BaseEstimator):
    """Difficulty = the first feature (no training), so searches are fast."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y):
        self.scores_ = np.asarray(X, dtype=float)[:, 0]
        self.label_noise_ = 0.1
        return self


def _data(n=120):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 3))
    y = (X[:, 1] > 0).astype(int)
    return X, y


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_name_builds_its_rule_and_clones(name):
    rule = make_rule(name)
    assert isinstance(rule, RULES[name]) and rule.name == name
    twin = clone(rule)
    assert twin is not rule and twin.get_params() == rule.get_params()


def test_rule_parameters_are_set_and_validated():
    rule = CCSRule().set_params(hard_fraction=0.2)
    assert rule.get_params() == {"hard_fraction": 0.2, "n_strata": 50}
    with pytest.raises(ValueError, match="hard_fraction must be in"):
        CCSRule(hard_fraction=1.5).select(np.arange(10.0), [0, 1] * 5, 0.5)
    with pytest.raises(ValueError, match="cut must be in"):
        SIMSRule(cut=1.0).select(np.arange(10.0), [0, 1] * 5, 0.5)


def test_select_takes_a_rule_object_or_its_name():
    scores, y = np.random.default_rng(1).random(50), np.repeat([0, 1], 25)
    by_name = select("ccs", scores, y, 0.6, random_state=3, hard_fraction=0.1)
    by_rule = CCSRule(hard_fraction=0.1).select(scores, y, 0.6, random_state=3)
    assert_array_equal(by_name.indices, by_rule.indices)
    with pytest.raises(ValueError, match="unknown strategy"):
        select("nope", scores, y, 0.5)


def test_a_rule_of_ones_own_works_in_the_selector():
    class Lowest(PoolRule):
        """Keep the lowest scores (the easy rule, rewritten)."""

        name = "lowest"

        def _pick(self, pool, reference, k, rng, cut, cut_all):
            return np.argsort(pool, kind="stable")[:k], None

    X, y = _data()
    selector = CoresetSelector(_LinearScorer(), strategy=Lowest(), pruning_ratio=0.5)
    easy = CoresetSelector(_LinearScorer(), strategy="easy", pruning_ratio=0.5)
    assert_array_equal(selector.fit(X, y).sample_indices_, easy.fit(X, y).sample_indices_)
    assert isinstance(Lowest(), BaseRule)


def test_grid_search_over_a_rule_parameter_and_over_rule_objects():
    X, y = _data()
    selector = CoresetSelector(
        _LinearScorer(), strategy=SIMSRule(), estimator=LogisticRegression(), random_state=0
    )
    search = GridSearchCV(selector, {"strategy__concentration": [2.0, 6.0]}, cv=2).fit(X, y)
    assert search.best_params_["strategy__concentration"] in (2.0, 6.0)
    assert len(search.cv_results_["params"]) == 2
    search = GridSearchCV(
        selector, {"strategy": [HardRule(), CCSRule(hard_fraction=0.1), SIMSRule()]}, cv=2
    ).fit(X, y)
    assert [type(p["strategy"]) for p in search.cv_results_["params"]] == [
        HardRule,
        CCSRule,
        SIMSRule,
    ]


def test_the_users_rule_is_not_changed():
    X, y = _data()
    rule = SIMSRule()
    selector = CoresetSelector(_LinearScorer(), strategy=rule, random_state=0).fit(X, y)
    assert rule.label_noise == "auto"  # the estimate went to a clone
    assert selector.label_noise_ == 0.1


def test_prefit_uses_the_fitted_scorer_as_it_is():
    X, y = _data()
    fitted = _LinearScorer().fit(X, y)
    fitted.scores_ = -fitted.scores_  # not what a refit would give
    prefit = CoresetSelector(fitted, strategy="hard", pruning_ratio=0.5, prefit=True).fit(X, y)
    assert prefit.scorers_[0][1] is fitted
    assert_array_equal(prefit.scores_, fitted.scores_)
    refit = CoresetSelector(fitted, strategy="hard", pruning_ratio=0.5).fit(X, y)
    assert not np.array_equal(refit.sample_indices_, prefit.sample_indices_)
    with pytest.raises(TypeError, match="prefit=True, fit the scorer on the same data"):
        CoresetSelector(_LinearScorer(), prefit=True).fit(X, y)


def test_strategy_params_is_deprecated_and_mapped():
    X, y = _data()
    with pytest.warns(FutureWarning, match="strategy_params is deprecated"):
        old = CoresetSelector(
            _LinearScorer(), strategy_params={"label_noise": 0.2}, random_state=0
        ).fit(X, y)
    new = CoresetSelector(_LinearScorer(), strategy=SIMSRule(label_noise=0.2), random_state=0)
    assert_array_equal(old.sample_indices_, new.fit(X, y).sample_indices_)
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="gamma"):
        CoresetSelector(_LinearScorer(), strategy_params={"gamma": 2.0}).fit(X, y)


def _sources():
    return [(path, path.read_text()) for path in sorted(PACKAGE.rglob("*.py"))]


def test_no_private_name_is_imported_across_modules():
    # A module's private names stay in it; shared helpers live in skprune/utils or are public.
    # Implementation modules of one package (``from ._x import _y``) are that package's own.
    crossing = re.compile(r"^\s*from \.+(?!_)[\w.]* import .*\b_[a-z]\w*", re.MULTILINE)
    offenders = [
        f"{path.relative_to(PACKAGE)}: {match.group(0).strip()}"
        for path, text in _sources()
        for match in crossing.finditer(text)
    ]
    assert offenders == []


def test_no_comparison_with_a_rule_name_outside_sampling():
    names = "|".join(re.escape(name) for name in STRATEGIES)
    # Method labels (the benchmark's "random" row) are not rules: only strategies count.
    compared = re.compile(
        rf"""strategy\w*\s*(==|!=|in|not in)\s*[(\[]?["']({names})["']"""
        rf"""|["']({names})["']\s*(==|!=)\s*\w*strategy"""
    )
    offenders = [
        f"{path.relative_to(PACKAGE)}:{text[: match.start()].count(chr(10)) + 1}"
        for path, text in _sources()
        if "sampling" not in path.parts
        for match in compared.finditer(text)
    ]
    assert offenders == []
