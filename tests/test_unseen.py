"""UnseenScorer (cross-fitted scores) and CoresetSelector's incremental multi-step selection."""

import pickle

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.datasets import make_classification
from skorch.callbacks import Callback

from skprune import (
    CoresetSelector,
    DiffInScorer,
    SIMScorer,
    TrainingDynamicsScorer,
    UnseenScorer,
)
from skprune.nets import infer
from skprune.sampling import SIMSRule, coreset_size, sims_density
from skprune.scorers.dynamics import (
    _TRAJECTORY_METRICS,
    _replayed_logits,
    snapshot_difficulty,
    trajectory_difficulty,
)


class TrainingRows(Callback):
    """Remembers the input rows of every training batch (which samples a net learned from)."""

    def initialize(self):
        self.rows_ = []
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            self.rows_.append(batch[0].detach().cpu().numpy().copy())


def _trained_on(net, X):
    """Indices of the rows of ``X`` that ``net`` saw in training (rows of X are distinct)."""
    position = {row.tobytes(): i for i, row in enumerate(X)}
    rows = np.concatenate(dict(net.callbacks_)["rows"].rows_)
    return np.unique([position[row.tobytes()] for row in rows])


def _per_model(scorer, X, y):
    """Difficulty of every sample under each of the K nets alone, shape (K, n_samples)."""
    metric = scorer.metric
    per_model = []
    for net in scorer.nets_:
        if metric in _TRAJECTORY_METRICS:
            per_model.append(trajectory_difficulty(metric, _replayed_logits(net, X), y))
        else:
            out = infer(net, X, embedding=metric == "grand")
            per_model.append(snapshot_difficulty(metric, out.proba, y, out.embedding))
    return np.stack(per_model)


def _unseen(metric="el2n", **params):
    return UnseenScorer(metric, **{"max_epochs": 2, "random_state": 0, **params})


# --- UnseenScorer --------------------------------------------------------------


@pytest.mark.parametrize(
    "metric, n_repeats",
    [("el2n", 1), ("grand", 1), ("margin", 1), ("aum", 1), ("el2n", 2), ("aum", 2)],
)
def test_no_sample_is_scored_by_a_model_that_trained_on_it(metric, n_repeats, small_data, tiny_net):
    X, y = small_data
    net = tiny_net(8, 4, max_epochs=2, callbacks=[("rows", TrainingRows())])
    scorer = UnseenScorer(
        metric, n_subsets=3, n_repeats=n_repeats, estimator=net, random_state=0
    ).fit(X, y)
    assert len(scorer.nets_) == 3 * n_repeats
    assert scorer.subsets_.shape == (n_repeats, X.shape[0])
    # unseen[j, i]: model j (partition j // 3, subset j % 3) did not train on sample i.
    unseen = np.empty((len(scorer.nets_), X.shape[0]), dtype=bool)
    for j, fitted in enumerate(scorer.nets_):
        partition, k = divmod(j, 3)
        trained_on = np.flatnonzero(scorer.subsets_[partition] == k)
        np.testing.assert_array_equal(_trained_on(fitted, X), trained_on)
        unseen[j] = scorer.subsets_[partition] != k
    assert np.all(unseen.sum(axis=0) == 2 * n_repeats)
    per_model = _per_model(scorer, X, y)
    expected = (per_model * unseen).sum(axis=0) / (2 * n_repeats)
    np.testing.assert_allclose(scorer.scores_, expected, rtol=1e-5, atol=1e-6)
    # The check can tell: averaging in the models that saw the sample gives other scores.
    assert not np.allclose(scorer.scores_, per_model.mean(axis=0), rtol=1e-3)
    np.testing.assert_array_equal(scorer.components_[:, 0], scorer.scores_)
    assert list(scorer.get_feature_names_out()) == [f"unseen_{metric}"]


def test_repeated_partitions_differ_and_extend_the_single_one(small_data):
    X, y = small_data
    single = _unseen(n_subsets=3, max_epochs=1).fit(X, y)
    repeated = _unseen(n_subsets=3, n_repeats=3, max_epochs=1).fit(X, y)
    # The first partition and its nets are those of n_repeats=1.
    np.testing.assert_array_equal(repeated.subsets_[0], single.subsets_[0])
    first = repeated.nets_[0].module_.state_dict()
    for name, value in single.nets_[0].module_.state_dict().items():
        np.testing.assert_array_equal(first[name].numpy(), value.numpy())
    for a, b in [(0, 1), (0, 2), (1, 2)]:
        assert not np.array_equal(repeated.subsets_[a], repeated.subsets_[b])
    assert not np.allclose(repeated.scores_, single.scores_)


@pytest.mark.parametrize("n_subsets", [2, 3, 5])
def test_subsets_partition_the_data_and_are_stratified(n_subsets, small_data):
    X, y = small_data
    y = y.copy()
    y[:7] = 4  # a small, odd-sized class
    scorer = _unseen(n_subsets=n_subsets, max_epochs=1).fit(X, y)
    assert scorer.subsets_.shape == (1, X.shape[0])
    subsets = scorer.subsets_[0]
    assert set(np.unique(subsets)) == set(range(n_subsets))
    for label in np.unique(y):
        per_subset = np.bincount(subsets[y == label], minlength=n_subsets)
        assert per_subset.max() - per_subset.min() <= 1, (label, per_subset)


def test_same_seed_same_scores_also_with_n_jobs(small_data, monkeypatch):
    X, y = small_data
    serial = _unseen("aum", n_jobs=1).fit(X, y)
    returned, run_tasks = [], UnseenScorer._parallel

    def parallel_spy(self, function, tasks):
        nets = run_tasks(self, function, tasks)
        # As the workers sent them back, before the parent reads them.
        returned.extend(dict(net.callbacks_)["skprune_recorder"].X for net in nets)
        return nets

    monkeypatch.setattr(UnseenScorer, "_parallel", parallel_spy)
    parallel = _unseen("aum", n_jobs=2).fit(X, y)
    monkeypatch.undo()
    again = _unseen("aum", n_jobs=1).fit(X, y)
    np.testing.assert_array_equal(serial.subsets_, parallel.subsets_)
    np.testing.assert_array_equal(serial.scores_, parallel.scores_)
    np.testing.assert_array_equal(serial.scores_, again.scores_)
    # The workers dropped the recorders' held-out rows before sending the nets back.
    assert len(returned) == len(parallel.nets_) and all(X is None for X in returned)
    other = _unseen("aum", n_jobs=1, random_state=1).fit(X, y)
    assert not np.array_equal(serial.subsets_, other.subsets_)
    assert not np.allclose(serial.scores_, other.scores_)


def test_a_class_smaller_than_n_subsets_is_named(small_data):
    X, y = small_data
    labels = np.array(["a", "b", "c", "d"], dtype=object)[y]
    labels[:2] = "rare"
    with pytest.raises(ValueError, match=r"\['rare'\].*lower n_subsets or add samples"):
        _unseen(n_subsets=3).fit(X, labels)
    assert _unseen(n_subsets=2, max_epochs=1).fit(X, labels).scores_.shape == (X.shape[0],)


@pytest.mark.parametrize("params", [{"n_subsets": 1}, {"metric": "elephant"}])
def test_bad_parameters_are_named(params, small_data):
    X, y = small_data
    with pytest.raises(ValueError, match=next(iter(params))):
        _unseen().set_params(**params).fit(X, y)


@pytest.mark.parametrize("metric", ["el2n", "aum"])
def test_mislabeled_are_hardest_and_easy_are_easiest(metric, known_difficulty_data, tiny_net):
    X, y, groups = known_difficulty_data
    scorer = UnseenScorer(
        metric, n_subsets=2, estimator=tiny_net(2, 3, max_epochs=20), random_state=0
    ).fit(X, y)
    easy, hard, wrong = (scorer.scores_[groups[k]].mean() for k in ("easy", "hard", "mislabeled"))
    assert easy < hard < wrong, (metric, easy, hard, wrong)


@pytest.mark.parametrize("metric", ["el2n", "forgetting"])
def test_transform_averages_all_models_and_differs_from_fit_transform(metric, small_data):
    X, y = small_data
    scorer = _unseen(metric)
    cross_fitted = scorer.fit_transform(X, y)
    np.testing.assert_array_equal(cross_fitted[:, 0], scorer.scores_)
    proba = np.mean([infer(net, X).proba for net in scorer.nets_], axis=0)
    predicted = proba.argmax(axis=1)
    np.testing.assert_allclose(
        scorer.transform(X)[:, 0], _per_model(scorer, X, predicted).mean(axis=0), atol=1e-6
    )
    all_models = _per_model(scorer, X, y).mean(axis=0)
    np.testing.assert_allclose(scorer.score_samples(X, y), all_models, atol=1e-6)
    assert not np.allclose(all_models, cross_fitted[:, 0], atol=1e-3)


def test_pickle_round_trip(small_data):
    X, y = small_data
    scorer = _unseen("aum").fit(X, y)
    loaded = pickle.loads(pickle.dumps(scorer))
    np.testing.assert_array_equal(loaded.scores_, scorer.scores_)
    np.testing.assert_allclose(loaded.transform(X[:20]), scorer.transform(X[:20]))


# --- incremental multi-step selection -------------------------------------------


def _tiny_scorer(metric="el2n", **params):
    return TrainingDynamicsScorer(metric, max_epochs=1, **params)


@pytest.mark.parametrize("strategy", ["sims", "hard", "random"])
@pytest.mark.parametrize("ratio", [0.3, 0.7, 0.9])
@pytest.mark.parametrize("n_steps", [2, 3])
def test_incremental_selection_keeps_the_budget(n_steps, ratio, strategy, small_data):
    X, y = small_data
    selector = CoresetSelector(
        _tiny_scorer(), pruning_ratio=ratio, strategy=strategy, n_steps=n_steps, random_state=0
    ).fit(X, y)
    n_keep = coreset_size(X.shape[0], ratio)
    indices = selector.sample_indices_
    assert indices.size == n_keep and np.all(np.diff(indices) > 0)
    sizes = selector.step_sizes_
    assert sizes.shape == (n_steps,) and sizes.sum() == n_keep and np.ptp(sizes) <= 1
    # Every kept sample was added at exactly one step, and each step added its share.
    np.testing.assert_array_equal(
        np.bincount(selector.sample_steps_, minlength=n_steps + 1)[1:], sizes
    )
    first_step = indices[selector.sample_steps_ == 1]
    assert set(y[first_step]) == set(y)  # the per-class floor holds at step 1
    np.testing.assert_array_equal(selector.sample_weight_, np.ones(n_keep))
    assert selector.inclusion_probabilities_ is None
    assert selector.scores_.shape == (X.shape[0],)


def test_incremental_sims_steps_take_the_clusters_of_their_samples(small_data):
    # Per-sample labels in strategy_params must follow the samples left at each step.
    X, y = small_data
    clusters = np.arange(y.size) % 3
    selector = CoresetSelector(
        _tiny_scorer(),
        pruning_ratio=0.7,
        strategy="sims",
        n_steps=3,
        strategy_params={"clusters": clusters},
        random_state=0,
    ).fit(X, y)
    assert selector.sample_indices_.size == coreset_size(y.size, 0.7)
    np.testing.assert_array_equal(np.bincount(selector.sample_steps_)[1:], selector.step_sizes_)


def test_clusters_of_another_length_are_refused_before_scoring(small_data, monkeypatch):
    X, y = small_data
    scorer = _tiny_scorer()
    monkeypatch.setattr(type(scorer), "_fit", lambda *args: pytest.fail("scored first"))
    selector = CoresetSelector(scorer, strategy="sims", strategy_params={"clusters": y[:150]})
    with pytest.raises(ValueError, match="clusters has 150 labels for 200 samples; it needs"):
        selector.fit(X, y)


@pytest.mark.parametrize("params", [{}, {"mean": 0.8, "concentration": 6.0}])
def test_every_sims_step_uses_the_density_of_the_overall_ratio(params):
    # A step keeps n_keep samples and passes the overall ratio: the density does not move.
    scores = np.random.default_rng(0).random(60)
    y = np.repeat([0, 1], 30)
    rule = SIMSRule(**params)
    step = rule.select(scores, y, 0.5, n_keep=10, random_state=0)
    assert step.indices.size == 10
    u = np.linspace(0.05, 0.95, 7)
    np.testing.assert_allclose(
        rule.density(u, 0.5),
        sims_density(
            u, 0.5, mean_start=rule.mean, mean_end=rule.mean, concentration=rule.concentration
        ),
    )


class RowScorer(BaseEstimator):
    """Difficulty = first feature; records what each fit and each scoring call received."""

    calls = []  # class-level, so that clones share it

    def fit(self, X, y):
        RowScorer.calls.append(("fit", np.asarray(X).copy()))
        self.scores_ = np.asarray(X)[:, 0].astype(float)
        return self

    def score_samples(self, X, y=None):
        RowScorer.calls.append(("score", np.asarray(X).copy()))
        return np.asarray(X)[:, 0].astype(float)


def test_each_step_refits_on_the_coreset_and_scores_the_rest(small_data):
    X, y = small_data
    RowScorer.calls.clear()
    selector = CoresetSelector(
        RowScorer(), pruning_ratio=0.7, strategy="hard", class_balance="global", n_steps=3
    ).fit(X, y)
    kinds = [kind for kind, _ in RowScorer.calls]
    assert kinds == ["fit", "fit", "score", "fit", "score"]
    steps, indices = selector.sample_steps_, selector.sample_indices_
    np.testing.assert_array_equal(RowScorer.calls[0][1], X)
    for step, fit_call in ((2, 1), (3, 3)):
        coreset = indices[steps < step]
        np.testing.assert_array_equal(RowScorer.calls[fit_call][1], X[coreset])
        rest = np.setdiff1d(np.arange(X.shape[0]), coreset)
        np.testing.assert_array_equal(RowScorer.calls[fit_call + 1][1], X[rest])
    # With the "hard" rule on a fixed score the steps take successive slices of the ranking.
    ranking = np.argsort(-X[:, 0])
    for step, start in zip((1, 2, 3), (0, 20, 40), strict=True):
        np.testing.assert_array_equal(
            np.sort(indices[steps == step]), np.sort(ranking[start : start + 20])
        )


def test_incremental_selection_is_reproducible(small_data):
    X, y = small_data
    params = dict(pruning_ratio=0.6, strategy="sims", n_steps=3)
    first = CoresetSelector(_tiny_scorer(), random_state=3, **params).fit(X, y)
    again = CoresetSelector(_tiny_scorer(), random_state=3, **params).fit(X, y)
    other = CoresetSelector(_tiny_scorer(), random_state=4, **params).fit(X, y)
    np.testing.assert_array_equal(first.sample_indices_, again.sample_indices_)
    np.testing.assert_array_equal(first.sample_steps_, again.sample_steps_)
    assert not np.array_equal(first.sample_indices_, other.sample_indices_)


def test_one_step_is_the_plain_selection(small_data):
    X, y = small_data
    plain = CoresetSelector(_tiny_scorer(), pruning_ratio=0.5, random_state=0).fit(X, y)
    one = CoresetSelector(_tiny_scorer(), pruning_ratio=0.5, n_steps=1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(plain.sample_indices_, one.sample_indices_)
    np.testing.assert_array_equal(plain.sample_weight_, one.sample_weight_)
    np.testing.assert_array_equal(one.step_sizes_, [plain.sample_indices_.size])


@pytest.mark.parametrize(
    "scorer",
    [
        SIMScorer(n_models=2, max_epochs=1),
        _tiny_scorer("aum"),
        UnseenScorer("margin", n_subsets=2, max_epochs=1),
    ],
    ids=["sim", "dynamics", "unseen"],
)
def test_incremental_selection_with_each_scorer(scorer, small_data):
    X, y = small_data
    labels = np.array(["a", "b", "c", "d"])[y]
    selector = CoresetSelector(
        scorer, pruning_ratio=0.5, n_steps=2, min_per_class=2, random_state=0
    ).fit(X, labels)
    assert selector.sample_indices_.size == 100
    np.testing.assert_array_equal(selector.step_sizes_, [50, 50])
    assert set(selector.sampling_strategy_) == {"a", "b", "c", "d"}


class NoScoreSamples(BaseEstimator):
    def fit(self, X, y):
        self.scores_ = np.zeros(len(y))
        return self


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        (
            {"scorer": [("a", _tiny_scorer()), ("b", _tiny_scorer("aum"))]},
            ValueError,
            "single scorer",
        ),
        ({"scorer": NoScoreSamples()}, TypeError, "score_samples"),
        ({"n_steps": 0}, ValueError, "n_steps"),
        ({"pruning_ratio": 0.99, "n_steps": 3}, ValueError, "n_steps <= 2"),
        ({"pruning_ratio": 0.9, "n_steps": 10}, ValueError, "first of n_steps=10 steps keeps 2"),
        (
            # 20 kept in 5 steps: step 1 keeps 4, a K=2 scorer needs two of each of 4 classes.
            {"scorer": UnseenScorer(n_subsets=2, max_epochs=1), "pruning_ratio": 0.9, "n_steps": 5},
            ValueError,
            "first of n_steps=5 steps keeps 4 samples, fewer than the 2 samples UnseenScorer "
            "needs to be refitted for each of the 4 classes",
        ),
    ],
)
def test_incremental_errors_are_named(params, error, match, small_data):
    X, y = small_data
    selector = CoresetSelector(_tiny_scorer(), n_steps=2, random_state=0).set_params(**params)
    with pytest.raises(error, match=match):
        selector.fit(X, y)


class UntrainableUnseenScorer(UnseenScorer):
    def _fit(self, X, y):
        raise AssertionError("a net was trained before the settings were checked")


def test_incremental_class_floor_is_checked_before_training(small_data):
    X, y = small_data
    selector = CoresetSelector(
        UntrainableUnseenScorer(n_subsets=2, max_epochs=1), pruning_ratio=0.9, n_steps=5
    )
    with pytest.raises(ValueError, match="first of n_steps=5 steps keeps 4 samples"):
        selector.fit(X, y)


def test_first_step_keeps_what_the_step_scorers_need(small_data):
    # The default min_per_class=1 is raised to UNSEEN's n_subsets at step 1, so
    # every later step can refit it on the coreset so far.
    X, y = small_data
    selector = CoresetSelector(
        UnseenScorer("margin", n_subsets=3, max_epochs=1),
        pruning_ratio=0.8,
        strategy="hard",
        n_steps=3,
        random_state=0,
    ).fit(X, y)
    first_step = selector.sample_indices_[selector.sample_steps_ == 1]
    assert first_step.size == 14
    assert np.bincount(y[first_step], minlength=4).min() >= 3
    assert selector.sample_indices_.size == 40


class BatchCountingScorer:
    """Mixin recording, per fit, the training-set size and each net's SGD steps."""

    fits = []  # class-level, so that clones share it

    def _fit(self, X, y):
        super()._fit(X, y)
        nets = getattr(self, "nets_", None) or [self.net_]
        steps = [sum(len(epoch["batches"]) for epoch in net.history) for net in nets]
        per_epoch = [len(net.history[0]["batches"]) for net in nets]
        BatchCountingScorer.fits.append((len(X), steps, per_epoch))


class CountingDynamics(BatchCountingScorer, TrainingDynamicsScorer):
    pass


class CountingUnseen(BatchCountingScorer, UnseenScorer):
    pass


class CountingDiffIn(BatchCountingScorer, DiffInScorer):
    pass


@pytest.mark.parametrize(
    "make_scorer",
    [
        lambda net: CountingDynamics("margin", max_epochs=2),
        lambda net: CountingUnseen("margin", max_epochs=2),
        # Diff-In's default net drops each epoch's last, partial batch.
        lambda net: CountingDiffIn(max_epochs=2, n_checkpoints=2),
        # skorch's own batch settings: one batch of all the data, the
        # iterator's batch size over the net's, and a dropped last batch.
        lambda net: CountingDynamics("margin", estimator=net(batch_size=-1)),
        lambda net: CountingDynamics(
            "margin", estimator=net(batch_size=-1, iterator_train__batch_size=16)
        ),
        lambda net: CountingDynamics(
            "margin", estimator=net(batch_size=16, iterator_train__drop_last=True)
        ),
    ],
    ids=["dynamics", "unseen", "diffin", "one-batch", "iterator-batch-size", "drop-last"],
)
def test_step_scorers_train_for_as_many_steps_as_on_all_data(make_scorer, tiny_net):
    # 600 samples in batches of 128: the nets of the full-data fit take 5 steps
    # an epoch (UNSEEN's, on 200 samples each, 2); coresets below a batch take one.
    X, y = make_classification(600, 8, n_informative=5, n_classes=4, random_state=0)
    X = X.astype("float32")
    BatchCountingScorer.fits.clear()
    CoresetSelector(
        make_scorer(lambda **params: tiny_net(8, 4, max_epochs=2, **params)),
        pruning_ratio=0.7,
        strategy="hard",
        n_steps=3,
        min_per_class=3,
        random_state=0,
    ).fit(X, y)
    (n_all, full_steps, _), *steps = BatchCountingScorer.fits
    assert n_all == 600
    assert [n for n, _, _ in steps] == [60, 120]
    for _, net_steps, per_epoch in steps:
        # Never fewer steps than on all the data, and less than one epoch more.
        assert min(net_steps) >= max(full_steps)
        assert max(net_steps) < max(full_steps) + max(per_epoch)


def test_unequal_unseen_subsets_take_the_steps_of_the_largest(tiny_net):
    # 183 samples kept in 3 steps of 61: UNSEEN's K = 3 step nets train on 20 or
    # 21 of them, which batches of 20 cut into 1 or 2 batches an epoch.
    X, y = make_classification(600, 8, n_informative=5, n_classes=4, random_state=0)
    net = tiny_net(8, 4, max_epochs=2, batch_size=20)
    BatchCountingScorer.fits.clear()
    CoresetSelector(
        CountingUnseen("margin", estimator=net),
        pruning_ratio=0.695,
        strategy="hard",
        n_steps=3,
        min_per_class=3,
        random_state=0,
    ).fit(X.astype("float32"), y)
    (_, full_steps, _), *steps = BatchCountingScorer.fits
    assert [n for n, _, _ in steps] == [61, 122]
    for _, net_steps, _ in steps:
        assert min(net_steps) >= max(full_steps)
    # With the last, partial batch dropped, 20 samples in batches of 21 give no batch.
    net = tiny_net(8, 4, max_epochs=2, batch_size=21, iterator_train__drop_last=True)
    selector = CoresetSelector(
        CountingUnseen("margin", estimator=net), pruning_ratio=0.695, strategy="hard", n_steps=3
    )
    with pytest.raises(ValueError, match="a step of 61 samples gives .* no training batch"):
        selector.fit(X.astype("float32"), y)


def test_a_step_without_a_whole_batch_fails_before_training(tiny_net):
    net = tiny_net(8, 4, max_epochs=2, batch_size=100, iterator_train__drop_last=True)
    scorer = CountingDynamics("margin", estimator=net)
    X, y = make_classification(600, 8, n_informative=5, n_classes=4, random_state=0)
    BatchCountingScorer.fits.clear()
    selector = CoresetSelector(scorer, pruning_ratio=0.7, strategy="hard", n_steps=3)
    with pytest.raises(ValueError, match="a step of 60 samples gives .* no training batch"):
        selector.fit(X.astype("float32"), y)
    assert BatchCountingScorer.fits == []


def test_default_net_epochs_are_scaled_too():
    from skprune.selection import _with_fixed_iterations

    scaled = _with_fixed_iterations(UnseenScorer(n_subsets=2), n_fit=300, n_full=2000)
    # Each net trains on n / 2: 8 batches of 128 an epoch on all the data, 2 on
    # the coreset, so the default net's 10 epochs become 40.
    assert scaled.max_epochs == 40
    assert _with_fixed_iterations(RowScorer(), 50, 200).get_params() == {}


@pytest.mark.parametrize("metric", ["margin", "grand", "aum"])
def test_large_inputs_are_neither_copied_nor_stacked(metric, tmp_path):
    # Subsets are views of X (a memory map stays on disk), and scoring new data
    # streams GraNd's embeddings and the trajectory's epochs: the peak of
    # numpy's allocations stays far below the size of X.
    import tracemalloc

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 400), dtype=np.float32)
    y = (X[:, 0] > 0).astype(np.int64) + 2 * (X[:, 1] > 0)
    np.save(tmp_path / "X.npy", X)
    X = np.load(tmp_path / "X.npy", mmap_mode="r")
    scorer = UnseenScorer(metric, max_epochs=1, random_state=0)
    # The first training imports parts of torch lazily; keep that out of the peaks.
    clone(scorer).fit(X[:400], y[:400]).score_samples(X[:400], y[:400])
    tracemalloc.start()
    try:
        scorer.fit(X, y)
        fit_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        scorer.score_samples(X, y)
        score_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fit_peak < X.nbytes / 3
    assert score_peak < X.nbytes / 3
