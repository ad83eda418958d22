"""CoresetSelector as a sampler, a meta-estimator and a grid-search target."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skprune import CoresetSelector, TrainingDynamicsScorer
from skprune.metrics import combine_difficulties
from skprune.sampling import STRATEGIES


def _scorer(metric="el2n", **params):
    return TrainingDynamicsScorer(metric, max_epochs=2, **params)


class CountingScorer(TrainingDynamicsScorer):
    """Counts real fits (class-level, so clones share the count)."""

    fits = []

    def _fit(self, X, y):
        CountingScorer.fits.append(X.shape[0])
        super()._fit(X, y)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.9])
def test_fit_resample_keeps_the_budget(strategy, ratio, small_data):
    X, y = small_data
    selector = CoresetSelector(_scorer(), pruning_ratio=ratio, strategy=strategy, random_state=0)
    X_core, y_core = selector.fit_resample(X, y)
    expected = round((1 - ratio) * X.shape[0])
    assert X_core.shape == (expected, X.shape[1]) and y_core.shape == (expected,)
    np.testing.assert_array_equal(X_core, X[selector.sample_indices_])
    np.testing.assert_array_equal(y_core, y[selector.sample_indices_])
    assert selector.sample_weight_.shape == (expected,)
    assert set(np.unique(y_core)) == set(np.unique(y))
    assert sum(selector.sampling_strategy_.values()) == expected


def test_hard_and_easy_split_by_score(small_data):
    X, y = small_data
    hard = CoresetSelector(_scorer(), strategy="hard", class_balance="global", random_state=0)
    hard.fit(X, y)
    easy = CoresetSelector(_scorer(), strategy="easy", class_balance="global", random_state=0)
    easy.fit(X, y)
    np.testing.assert_array_equal(hard.scores_, easy.scores_)
    assert hard.scores_[hard.sample_indices_].min() >= np.median(hard.scores_) - 1e-12
    assert easy.scores_[easy.sample_indices_].max() <= np.median(easy.scores_) + 1e-12


def test_same_random_state_same_coreset_also_with_n_jobs(small_data):
    X, y = small_data
    params = dict(pruning_ratio=0.6, strategy="ccs", random_state=7)
    scorer = TrainingDynamicsScorer("aum", n_models=2, max_epochs=2)
    serial = CoresetSelector(scorer, n_jobs=1, **params).fit(X, y)
    parallel = CoresetSelector(scorer, n_jobs=2, **params).fit(X, y)
    again = CoresetSelector(scorer, n_jobs=1, **params).fit(X, y)
    np.testing.assert_array_equal(serial.sample_indices_, parallel.sample_indices_)
    np.testing.assert_array_equal(serial.sample_indices_, again.sample_indices_)
    other = CoresetSelector(scorer, n_jobs=1, **{**params, "random_state": 8}).fit(X, y)
    assert not np.array_equal(serial.sample_indices_, other.sample_indices_)
    assert scorer.random_state is None and not hasattr(scorer, "scores_")  # not mutated


def test_grid_search_with_memory_scores_each_fold_once(small_data, tmp_path):
    X, y = small_data
    CountingScorer.fits.clear()
    selector = CoresetSelector(
        CountingScorer(max_epochs=2),
        estimator=LogisticRegression(max_iter=200),
        memory=str(tmp_path),
        random_state=0,
    )
    grid = {"pruning_ratio": [0.3, 0.5, 0.7, 0.9]}
    search = GridSearchCV(selector, grid, cv=3, refit=False).fit(X, y)
    assert len(CountingScorer.fits) == 3
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))

    CountingScorer.fits.clear()
    GridSearchCV(selector.set_params(memory=None), grid, cv=3, refit=False).fit(X, y)
    assert len(CountingScorer.fits) == 12


def test_meta_estimator_in_plain_sklearn_pipeline(small_data):
    X, y = small_data
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "prune",
                CoresetSelector(
                    _scorer(), pruning_ratio=0.5, estimator=LogisticRegression(), random_state=0
                ),
            ),
        ]
    )
    pipe.fit(X, y)
    fitted = pipe.named_steps["prune"]
    assert fitted.estimator_.n_features_in_ == X.shape[1]
    assert 0.5 <= pipe.score(X, y) <= 1.0
    assert pipe.predict_proba(X).shape == (X.shape[0], 4)
    assert pipe.predict(X).shape == (X.shape[0],)


def test_imblearn_pipeline_prunes_training_folds_only(small_data):
    from imblearn.pipeline import Pipeline as ImbPipeline

    X, y = small_data
    pipe = ImbPipeline(
        [
            ("prune", CoresetSelector(_scorer(), pruning_ratio=0.5, random_state=0)),
            ("clf", LogisticRegression()),
        ]
    )
    search = GridSearchCV(pipe, {"prune__pruning_ratio": [0.3, 0.8]}, cv=2).fit(X, y)
    best = search.best_estimator_
    assert best.named_steps["clf"].n_features_in_ == X.shape[1]
    # predict goes through all the samples: the sampler is skipped at predict time
    assert best.predict(X).shape == (X.shape[0],)


def test_predict_exists_only_with_an_estimator(small_data):
    assert not hasattr(CoresetSelector(), "predict")
    assert hasattr(CoresetSelector(estimator=LogisticRegression()), "predict_proba")


def test_combined_scorers_use_rank_mean_with_weights(small_data):
    X, y = small_data
    scorers = [("el2n", _scorer("el2n")), ("margin", _scorer("margin"))]
    selector = CoresetSelector(scorers, scorer_weights=[3, 1], random_state=0).fit(X, y)
    parts = [fitted.scores_ for _, fitted in selector.scorers_]
    np.testing.assert_allclose(selector.scores_, combine_difficulties(parts, weights=[3, 1]))
    assert [name for name, _ in selector.scorers_] == ["el2n", "margin"]


def test_dataframe_and_string_labels_keep_their_types(small_data):
    X, y = small_data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    labels = pd.Series(np.array(["a", "b", "c", "d"])[y], name="label")
    selector = CoresetSelector(_scorer(), pruning_ratio=0.5, random_state=0)
    X_core, y_core = selector.fit_resample(frame, labels)
    assert isinstance(X_core, pd.DataFrame) and list(X_core.columns) == list(frame.columns)
    assert isinstance(y_core, pd.Series) and y_core.name == "label"
    assert list(selector.classes_) == ["a", "b", "c", "d"]
    assert list(selector.get_feature_names_out()) == list(frame.columns)


def test_float32_and_images_pass_through():
    rng = np.random.default_rng(0)
    X = rng.random((60, 8, 8), dtype=np.float32)
    y = np.repeat([0, 1, 2], 20).astype(np.int32)
    X_core, y_core = CoresetSelector(_scorer(), pruning_ratio=0.5, random_state=0).fit_resample(
        X, y
    )
    assert X_core.shape == (30, 8, 8) and X_core.dtype == np.float32 and y_core.dtype == np.int32


def test_get_support(small_data):
    X, y = small_data
    selector = CoresetSelector(_scorer(), pruning_ratio=0.75, random_state=0).fit(X, y)
    mask = selector.get_support()
    assert mask.shape == (X.shape[0],) and mask.sum() == 50
    np.testing.assert_array_equal(np.flatnonzero(mask), selector.get_support(indices=True))


def test_random_strategy_weights_are_inverse_inclusion_probabilities(small_data):
    X, y = small_data
    selector = CoresetSelector(
        _scorer(), pruning_ratio=0.5, strategy="random", class_balance=0.5, random_state=0
    ).fit(X, y)
    pi = selector.inclusion_probabilities_[selector.sample_indices_]
    np.testing.assert_allclose(selector.sample_weight_ * pi, (selector.sample_weight_ * pi)[0])
    assert selector.sample_weight_.mean() == pytest.approx(1.0)


def test_pickle_round_trip(small_data):
    X, y = small_data
    selector = CoresetSelector(
        _scorer(), pruning_ratio=0.5, estimator=LogisticRegression(), random_state=0
    ).fit(X, y)
    loaded = pickle.loads(pickle.dumps(selector))
    np.testing.assert_array_equal(loaded.sample_indices_, selector.sample_indices_)
    np.testing.assert_array_equal(loaded.predict(X), selector.predict(X))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"pruning_ratio": 1.0}, "pruning_ratio"),
        ({"pruning_ratio": -0.1}, "pruning_ratio"),
        ({"strategy": "hardest"}, "strategy"),
        ({"class_balance": "balanced"}, "class_balance"),
        ({"pruning_ratio": 0.99}, "keeps 2 of 200 samples, fewer than"),
        ({"scorer": [("a", _scorer()), ("a", _scorer())]}, "unique"),
        ({"scorer": [_scorer()]}, r"\(name, scorer\) pairs"),
    ],
)
def test_bad_parameters_are_named(params, match, small_data):
    X, y = small_data
    selector = CoresetSelector(_scorer(), random_state=0).set_params(**params)
    with pytest.raises(ValueError, match=match):
        selector.fit(X, y)


class FailingScorer(TrainingDynamicsScorer):
    """Raises on fit: a test passing with it proves no scorer was trained."""

    def _fit(self, X, y):
        raise AssertionError("the scorer was trained before the settings were checked")


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"pruning_ratio": 0.999},
            r"keeps 1 of 200 samples.*4 classes; use pruning_ratio <= 0\.98 ",
        ),
        (
            {"strategy_params": {"foo": 1}},
            r"strategy_params key 'foo' is not a parameter of SIMSRule",
        ),
        ({"strategy_params": {"label_noise": 1.5}}, "label_noise must be in"),
        ({"strategy_params": {"concentration": -1}}, "concentration must be a positive"),
        ({"strategy": "ccs", "strategy_params": {"hard_fraction": 2}}, "hard_fraction"),
    ],
)
def test_bad_budget_and_strategy_params_fail_before_any_training(params, match, small_data):
    X, y = small_data
    selector = CoresetSelector(FailingScorer(), strategy="sims").set_params(**params)
    with pytest.raises(ValueError, match=match):
        selector.fit_resample(X, y)


def test_scorer_weights_of_the_wrong_length_fail_before_any_training(small_data):
    X, y = small_data
    selector = CoresetSelector([("a", FailingScorer()), ("b", FailingScorer())], scorer_weights=[1])
    with pytest.raises(ValueError, match="weights must be 2 non-negative numbers"):
        selector.fit_resample(X, y)


def test_an_estimator_that_sets_no_scores_is_named(small_data):
    X, y = small_data
    with pytest.raises(TypeError, match=r"scorer 'LogisticRegression' .* must set scores_"):
        CoresetSelector(LogisticRegression()).fit_resample(X, y)


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.full((10, 2), np.nan), np.arange(10) % 2, "NaN"),
        (np.zeros((10, 2)), np.arange(8) % 2, "different lengths"),
        (np.zeros((10, 2)), np.zeros(10), "at least 2 classes, got 1 class"),
        (np.zeros((10, 2)), np.linspace(0, 1, 10), "Unknown label type"),
    ],
)
def test_bad_data_is_named(X, y, match):
    with pytest.raises(ValueError, match=match):
        CoresetSelector(_scorer()).fit_resample(X, y)


def test_class_difficulty_is_off_by_default_and_moves_class_counts(small_data):
    X, y = small_data
    params = dict(pruning_ratio=0.6, strategy="hard", class_balance="proportional")
    base = CoresetSelector(_scorer(), random_state=0, **params).fit(X, y)
    tilted = CoresetSelector(_scorer(), random_state=0, class_difficulty=1.0, **params).fit(X, y)
    assert base.class_difficulty == 0.0
    np.testing.assert_array_equal(base.scores_, tilted.scores_)
    assert base.sampling_strategy_ != tilted.sampling_strategy_
    hardest = max(base.classes_, key=lambda c: base.scores_[y == c].mean())
    assert tilted.sampling_strategy_[hardest] > base.sampling_strategy_[hardest]


def test_sims_cuts_the_label_noise_the_scorer_estimates(small_data):
    from skprune import SIMScorer

    X, y = small_data
    rng = np.random.default_rng(0)
    flipped = rng.random(y.size) < 0.25
    # Symmetric noise: the estimate misses noise the nets learn (a class sent to one other).
    y_noisy = np.where(flipped, (y + rng.integers(1, 4, y.size)) % 4, y)
    scorer = SIMScorer(n_models=2, max_epochs=3)
    auto = CoresetSelector(scorer, pruning_ratio=0.5, random_state=0).fit(X, y_noisy)
    estimate = auto.scorers_[0][1].label_noise_
    assert auto.label_noise_ == estimate and 0.1 < estimate < 0.5
    fixed = CoresetSelector(
        scorer, pruning_ratio=0.5, random_state=0, strategy_params={"label_noise": estimate}
    ).fit(X, y_noisy)
    np.testing.assert_array_equal(auto.sample_indices_, fixed.sample_indices_)
    off = CoresetSelector(
        scorer, pruning_ratio=0.5, random_state=0, strategy_params={"label_noise": None}
    ).fit(X, y_noisy)
    assert off.label_noise_ is None
    # the cut keeps fewer flipped labels than no cut, and never more than the data hold
    assert flipped[auto.sample_indices_].mean() < flipped[off.sample_indices_].mean()


def test_label_noise_is_none_without_an_estimate_and_for_other_strategies(small_data):
    from skprune import UnseenScorer

    X, y = small_data
    unseen = UnseenScorer(n_subsets=2, max_epochs=2, random_state=0)
    # No scorer estimates the noise: SIMS keeps its default cut, as with label_noise=None.
    auto = CoresetSelector(unseen, pruning_ratio=0.5, random_state=0).fit(X, y)
    assert auto.label_noise_ is None
    off = CoresetSelector(
        unseen, pruning_ratio=0.5, random_state=0, strategy_params={"label_noise": None}
    ).fit(X, y)
    np.testing.assert_array_equal(auto.sample_indices_, off.sample_indices_)
    scorer = TrainingDynamicsScorer(max_epochs=2)
    sims = CoresetSelector(scorer, pruning_ratio=0.5, random_state=0).fit(X, y)
    assert sims.label_noise_ == sims.scorers_[0][1].label_noise_
    ccs = CoresetSelector(scorer, pruning_ratio=0.5, strategy="ccs", random_state=0).fit(X, y)
    assert ccs.label_noise_ is None
    misnamed = CoresetSelector(scorer, strategy_params={"label_noise": "estimate"})
    with pytest.raises(ValueError, match='label_noise must be "auto", a number or None'):
        misnamed.fit(X, y)


def test_a_dataset_is_refused_with_the_way_to_select_from_one(small_data):
    import torch

    X, y = small_data
    dataset = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    with pytest.raises(TypeError, match=r"array or DataFrame.*skprune\.sampling\.select"):
        CoresetSelector(_scorer(), random_state=0).fit(dataset, y)


def test_listed_scorers_and_their_parameters_are_named_parameters(small_data):
    X, y = small_data
    selector = CoresetSelector(
        [("el2n", _scorer("el2n")), ("margin", _scorer("margin"))], random_state=0
    )
    selector.set_params(el2n__max_epochs=3, margin__n_models=2)
    assert selector.scorer[0][1].max_epochs == 3 and selector.scorer[1][1].n_models == 2
    params = selector.get_params()
    assert params["el2n"] is selector.scorer[0][1] and params["margin__n_models"] == 2
    assert clone(selector).get_params()["el2n__max_epochs"] == 3

    replacement = _scorer("entropy")
    selector.set_params(margin=replacement)
    assert [name for name, _ in selector.scorer] == ["el2n", "margin"]
    assert selector.scorer[1][1] is replacement

    selector.set_params(estimator=LogisticRegression(max_iter=300))
    search = GridSearchCV(selector, {"el2n__max_epochs": [1, 2]}, cv=2).fit(X, y)
    assert search.best_estimator_.scorer[0][1].max_epochs == search.best_params_["el2n__max_epochs"]


@pytest.mark.parametrize("name", ["strategy", "a__b"])
def test_listed_scorer_names_must_not_shadow_parameters(name, small_data):
    X, y = small_data
    selector = CoresetSelector([(name, _scorer()), ("other", _scorer())])
    with pytest.raises(ValueError, match="must not contain '__' nor be CoresetSelector"):
        selector.fit(X, y)
