"""Coresets pinned before the selection rules became objects (issue: behaviour preserved).

``tests/data/pinned_selections.json`` holds the indices (and inclusion probabilities) that
the code before the refactor returned for every default and documented recipe on small,
fixed inputs. Any change to a pinned case must be a deliberate, documented behaviour
change, recorded by regenerating the file with ``python tests/test_pinned.py``.
"""

import json
import pathlib
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator

from skprune import CoresetSelector
from skprune.sampling import RULES, make_rule

GOLDEN = pathlib.Path(__file__).parent / "data" / "pinned_selections.json"


def _inputs():
    rng = np.random.default_rng(7)
    y = np.repeat([0, 1, 2], [70, 45, 25])
    rng.shuffle(y)
    scores = rng.random(y.size) + 0.3 * y  # class 2 the hardest on average, no ties
    tied = np.round(scores, 1)  # 17 distinct values: many ties
    clusters = rng.integers(0, 4, y.size)
    return scores, tied, y, clusters


# (case name, strategy, rule parameters, selection keywords, pruning ratio)
RULE_CASES = [
    ("random", "random", {}, {}, 0.7),
    ("random-global", "random", {}, {"class_balance": "global"}, 0.5),
    ("easy", "easy", {}, {}, 0.6),
    ("hard", "hard", {}, {"class_balance": "proportional"}, 0.6),
    ("hard-ties", "hard", {}, {"scores": "tied"}, 0.5),
    ("moderate", "moderate", {}, {}, 0.5),
    ("ccs", "ccs", {}, {}, 0.7),
    ("ccs-strata", "ccs", {"n_strata": 5}, {"class_balance": 0.3}, 0.8),
    ("sims", "sims", {}, {}, 0.5),
    ("sims-0.9", "sims", {}, {"min_per_class": 4}, 0.9),
    ("sims-0.3-global", "sims", {}, {"class_balance": "global"}, 0.3),
    ("sims-noise", "sims", {"label_noise": 0.1}, {}, 0.7),
    ("sims-noise-ties", "sims", {"label_noise": 0.2}, {"scores": "tied"}, 0.5),
    ("sims-clusters", "sims", {"clusters": "clusters"}, {}, 0.7),
    ("sims-strata", "sims", {"strata": 10}, {}, 0.7),
    ("sims-concentration", "sims", {"concentration": 6.0}, {}, 0.5),
]


def _rule_selection(strategy, params, keywords, ratio):
    scores, tied, y, clusters = _inputs()
    keywords = dict(keywords)
    chosen = tied if keywords.pop("scores", None) == "tied" else scores
    params = {k: (clusters if v == "clusters" else v) for k, v in params.items()}
    return RULES[strategy](**params).select(chosen, y, ratio, random_state=3, **keywords)


class _FixedScorer(BaseEstimator):
    """A scorer whose difficulties are a fixed function of X (no training)."""

    def __init__(self, label_noise=None, random_state=None):
        self.label_noise = label_noise
        self.random_state = random_state

    def fit(self, X, y):
        self.scores_ = self.score_samples(X, y)
        if self.label_noise is not None:
            self.label_noise_ = self.label_noise
        return self

    def score_samples(self, X, y):
        # Depends on the seed, as a refitted scorer's would.
        seed = 0 if self.random_state is None else self.random_state % 97
        return np.sin(X[:, 0] * (3.0 + seed / 50.0)) + 0.1 * np.asarray(y)


# (case name, selector keywords, pruning ratio)
SELECTOR_CASES = [
    ("selector-default-noise", {"scorer": {"label_noise": 0.15}}, 0.5),
    ("selector-no-estimate", {"scorer": {}}, 0.7),
    ("selector-noise-off", {"scorer": {"label_noise": 0.15}, "label_noise": None}, 0.5),
    ("selector-noise-set", {"scorer": {}, "label_noise": 0.05}, 0.5),
    ("selector-hard", {"scorer": {}, "strategy": "hard"}, 0.6),
    ("selector-ccs", {"scorer": {}, "strategy": "ccs"}, 0.6),
    ("selector-3step-hard", {"scorer": {}, "strategy": "hard", "n_steps": 3}, 0.7),
    ("selector-3step-sims", {"scorer": {"label_noise": 0.1}, "n_steps": 3}, 0.7),
    ("selector-proportional", {"scorer": {}, "class_balance": "proportional"}, 0.8),
]


def _selector_selection(keywords, ratio):
    _, _, y, _ = _inputs()
    X = np.linspace(-2, 2, y.size)[:, None] * np.array([[1.0, -1.0]])
    keywords = dict(keywords)
    scorer = _FixedScorer(**keywords.pop("scorer"))
    strategy = keywords.pop("strategy", "sims")
    if "label_noise" in keywords:  # a rule object of the named rule with its label_noise set
        strategy = make_rule(strategy, label_noise=keywords.pop("label_noise"))
    selector = CoresetSelector(
        scorer, pruning_ratio=ratio, strategy=strategy, random_state=5, **keywords
    )
    selector.fit(X, y)
    return selector


def _record():
    record = {}
    for name, strategy, params, keywords, ratio in RULE_CASES:
        selection = _rule_selection(strategy, params, keywords, ratio)
        record[name] = {
            "indices": selection.indices.tolist(),
            "probabilities": None
            if selection.probabilities is None
            else selection.probabilities.tolist(),
        }
    for name, keywords, ratio in SELECTOR_CASES:
        selector = _selector_selection(keywords, ratio)
        record[name] = {
            "indices": selector.sample_indices_.tolist(),
            "weights": selector.sample_weight_.tolist(),
            "label_noise": selector.label_noise_,
        }
    return record


@pytest.fixture(scope="module")
def golden():
    return json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("name, strategy, params, keywords, ratio", RULE_CASES)
def test_rule_selection_is_pinned(golden, name, strategy, params, keywords, ratio):
    selection = _rule_selection(strategy, params, keywords, ratio)
    assert_array_equal(selection.indices, golden[name]["indices"])
    if golden[name]["probabilities"] is None:
        assert selection.probabilities is None
    else:
        assert_allclose(selection.probabilities, golden[name]["probabilities"], atol=1e-12)


@pytest.mark.parametrize("name, keywords, ratio", SELECTOR_CASES)
def test_selector_selection_is_pinned(golden, name, keywords, ratio):
    selector = _selector_selection(keywords, ratio)
    assert_array_equal(selector.sample_indices_, golden[name]["indices"])
    assert_allclose(selector.sample_weight_, golden[name]["weights"], atol=1e-12)
    assert selector.label_noise_ == golden[name]["label_noise"]


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(_record()) + "\n")
    print(f"wrote {GOLDEN}", file=sys.stderr)
