"""DiffInScorer and the CheckpointRecorder behind it."""

import itertools
import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score
from skorch import NeuralNetClassifier

from skprune import CoresetSelector, DiffInScorer
from skprune.datasets import add_label_noise
from skprune.recording import CheckpointRecorder


def _diffin(**params):
    return DiffInScorer(**{"n_checkpoints": 3, "max_epochs": 3, "random_state": 0, **params})


# --- CheckpointRecorder --------------------------------------------------------------


@pytest.mark.parametrize("n_checkpoints, expected", [(1, [7]), (4, [1, 5, 9, 13]), (15, None)])
def test_checkpoints_sit_at_interval_midpoints(n_checkpoints, expected, small_data, tiny_net):
    X, y = small_data[0][:160], small_data[1][:160]
    recorder = CheckpointRecorder(n_checkpoints)
    # 160 samples / batch 32 = 5 steps per epoch, 3 epochs: T = 15.
    net = tiny_net(8, 4, max_epochs=3, callbacks=[("ck", recorder)], train_split=None)
    net.fit(X, y)
    assert recorder.total_steps_ == 15
    assert recorder.steps_ == (expected or list(range(15)))
    assert recorder.learning_rates_ == [0.05] * n_checkpoints
    assert recorder.momenta_ == [0.9] * n_checkpoints
    # The first checkpoint of a single-interval run is the state before step 7, not the end.
    assert not torch.equal(recorder.params_[-1]["head.weight"], net.module_.head.weight.cpu())


def test_too_many_checkpoints_is_named(small_data, tiny_net):
    X, y = small_data
    net = tiny_net(8, 4, max_epochs=1, batch_size=100, train_split=None)
    net.set_params(callbacks=[("ck", CheckpointRecorder(3))])
    with pytest.raises(ValueError, match=r"n_checkpoints must be between 1 and .*2 = 1 epochs"):
        net.fit(X, y)


def test_a_validation_split_is_refused_because_it_changes_the_step_count(small_data, tiny_net):
    X, y = small_data
    net = tiny_net(8, 4, max_epochs=2, callbacks=[("ck", CheckpointRecorder(3))])
    with pytest.raises(ValueError, match="needs a net with train_split=None"):
        net.fit(X, y)


def test_checkpoints_follow_a_learning_rate_schedule(small_data, tiny_net):
    from skorch.callbacks import LRScheduler

    X, y = small_data
    recorder = CheckpointRecorder(3)
    schedule = LRScheduler(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5)
    net = tiny_net(8, 4, max_epochs=3, batch_size=200, train_split=None)
    net.set_params(callbacks=[("lr", schedule), ("ck", recorder)]).fit(X, y)
    np.testing.assert_allclose(recorder.learning_rates_, [0.05, 0.025, 0.0125])


# --- DiffInScorer ----------------------------------------------------------------------


def test_components_and_attributes(small_data):
    X, y = small_data
    scorer = _diffin().fit(X, y)
    assert scorer.components_.shape == (200, 3)
    # The difficulty is the harm: the signed influence (helpful = positive), negated.
    np.testing.assert_array_equal(scorer.scores_, -scorer.components_[:, 0])
    np.testing.assert_allclose(
        scorer.components_[:, 0], scorer.components_[:, 1] + scorer.components_[:, 2]
    )
    assert len(scorer.checkpoints_) == len(scorer.directions_) == 3
    assert scorer.validation_indices_.size == 40
    assert scorer.n_train_ == 160
    # The default scoring net uses plain SGD, the optimizer the derivation assumes.
    assert scorer.net_.optimizer_.param_groups[0]["momentum"] == 0.0
    assert [c["learning_rate"] for c in scorer.checkpoints_] == [0.1] * 3
    assert scorer.get_feature_names_out().tolist() == ["influence", "first_order", "second_order"]


@pytest.mark.parametrize("variant", ["tracin", "second_order"])
def test_variants_pick_their_terms(variant, small_data):
    X, y = small_data
    full = _diffin().fit(X, y).components_
    components = _diffin(variant=variant).fit(X, y).components_
    column = 1 if variant == "tracin" else 2
    np.testing.assert_allclose(components[:, 0], full[:, column], rtol=1e-6, atol=1e-12)
    if variant == "tracin":
        assert not components[:, 2].any()


def _separable_classes():
    """3 well-separated classes, 400 samples, 8 features (float32)."""
    X, y = make_classification(
        400,
        8,
        n_informative=5,
        n_classes=3,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=0,
    )
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def noisy_data():
    """3 separable classes with 15% of the labels flipped at random."""
    X, y = _separable_classes()
    y_noisy, flipped = add_label_noise(y, 0.15, random_state=0)
    return X, y_noisy, flipped


def _plain_sgd_net(tiny_net, n_features, n_classes):
    return tiny_net(n_features, n_classes, optimizer__momentum=0.0, lr=0.2)


def test_mislabeled_have_negative_influence_and_the_highest_scores(noisy_data, tiny_net):
    X, y, flipped = noisy_data
    scorer = _diffin(estimator=_plain_sgd_net(tiny_net, 8, 3), max_epochs=20).fit(X, y)
    influence = scorer.components_[:, 0]
    # Flipped labels hurt the validation loss (negative influence) more than clean ones...
    assert np.mean(influence[flipped]) < 0 < np.mean(influence[~flipped])
    # ...so, as for every scorer, they are the hardest (one score convention).
    assert roc_auc_score(flipped, scorer.scores_) > 0.6


def test_cleaning_with_a_clean_validation_target_drops_mostly_mislabeled(noisy_data, tiny_net):
    X, y, flipped = noisy_data
    clean_X, clean_y = _separable_classes()
    net = _plain_sgd_net(tiny_net, 8, 3)
    scorer = _diffin(estimator=net, max_epochs=20, validation_data=(clean_X[300:], clean_y[300:]))
    # Like every other scorer's difficulty: the easy rule drops the top 10%, the harmful.
    selector = CoresetSelector(scorer, pruning_ratio=0.1, strategy="easy", random_state=0)
    selector.fit(X[:300], y[:300])
    dropped = np.setdiff1d(np.arange(300), selector.sample_indices_)
    assert flipped[:300][dropped].mean() > 0.8


def test_self_influence_ranks_mislabeled_highest(known_difficulty_data, tiny_net):
    X, y, groups = known_difficulty_data
    net = _plain_sgd_net(tiny_net, 2, 3)
    scorer = _diffin(estimator=net, target="self", max_epochs=15, hessian_batch_size=16)
    scores = scorer.fit(X, y).scores_
    assert scorer.validation_indices_.size == 0 and scorer.n_train_ == y.size
    np.testing.assert_array_equal(scores, scorer.components_[:, 0])  # self-influence as it is
    assert np.mean(scores[groups["mislabeled"]]) > np.mean(scores[groups["hard"]])
    assert np.mean(scores[groups["hard"]]) > np.mean(scores[groups["easy"]])


def test_score_samples_on_training_data_reproduces_the_scores(small_data):
    X, y = small_data
    scorer = _diffin().fit(X, y)
    np.testing.assert_allclose(scorer.score_samples(X, y), scorer.scores_, rtol=1e-5, atol=1e-9)
    new = scorer.transform(X[:7] + 0.1)
    assert new.shape == (7, 3) and np.isfinite(new).all()


def test_gradient_modes_agree(small_data):
    X, y = small_data
    by_jvp = _diffin().fit(X, y).scores_
    with pytest.warns(FutureWarning, match="gradient_mode is deprecated"):
        by_vmap = _diffin(gradient_mode="per_sample").fit(X, y).scores_
    np.testing.assert_allclose(by_jvp, by_vmap, rtol=1e-3, atol=1e-3 * np.abs(by_jvp).max())


def test_last_layer_restriction_changes_only_the_parameter_space(small_data):
    X, y = small_data
    full = _diffin().fit(X, y)
    last = _diffin(layers="last").fit(X, y)
    assert last.directions_[0]["target"].size == 256 * 4 + 4
    assert full.directions_[0]["target"].size > last.directions_[0]["target"].size
    # Same net and checkpoints, correlated but different estimates.
    np.testing.assert_array_equal(full.validation_indices_, last.validation_indices_)
    assert 0.3 < np.corrcoef(full.scores_, last.scores_)[0, 1] < 1.0


def test_same_seed_same_scores_also_with_n_jobs(small_data):
    X, y = small_data
    one = _diffin(n_jobs=1).fit(X, y).scores_
    two = _diffin(n_jobs=2).fit(X, y).scores_
    np.testing.assert_allclose(one, two, rtol=1e-6, atol=1e-12)
    other = _diffin(random_state=1).fit(X, y).scores_
    assert not np.allclose(one, other)


def test_chunk_bounds_cover_every_row_at_whole_batches():
    from skprune.scorers.diffin import _chunk_bounds

    for n_samples, n_chunks, batch_size in [(200, 3, 32), (200, 50, 32), (5, 4, 32), (256, 2, 128)]:
        bounds = _chunk_bounds(n_samples, n_chunks, batch_size)
        assert len(bounds) <= n_chunks
        assert bounds[0][0] == 0 and bounds[-1][1] == n_samples
        assert all(stop == start for (_, stop), (start, _) in itertools.pairwise(bounds))
        assert all(start % batch_size == 0 for start, _ in bounds)
    assert _chunk_bounds(200, 3, 32) == [(0, 96), (96, 192), (192, 200)]


@pytest.mark.parametrize("target", ["validation", "self"])
def test_samples_are_split_when_workers_outnumber_checkpoints(target, small_data, monkeypatch):
    from joblib import parallel_config

    from skprune import influence

    X, y = small_data
    params = {"target": target, "batch_size": 32, "hessian_batch_size": 16}
    one = _diffin(n_jobs=1, **params).fit(X, y)
    calls = []
    for name in ("directional_terms", "self_checkpoint_terms"):
        real = getattr(influence, name)

        def counting(model, X_part, *args, real=real, **kwargs):
            calls.append(len(X_part))
            return real(model, X_part, *args, **kwargs)

        monkeypatch.setattr(influence, name, counting)
    with parallel_config(backend="threading"):
        seven = _diffin(n_jobs=7, **params).fit(X, y)
    # 3 checkpoints, 7 workers: each checkpoint's 200 samples in 3 chunks.
    assert sorted(calls) == sorted([96, 96, 8] * 3)
    np.testing.assert_allclose(seven.scores_, one.scores_, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(seven.components_, one.components_, rtol=1e-6, atol=1e-12)


def test_momentum_is_corrected_and_adam_warns(small_data, tiny_net):
    X, y = small_data
    scorer = _diffin(estimator=tiny_net(8, 4)).fit(X, y)
    assert scorer.checkpoints_[0]["learning_rate"] == pytest.approx(0.05 / (1 - 0.9))
    adam = tiny_net(8, 4, optimizer=torch.optim.Adam, lr=0.01)
    del adam.optimizer__momentum  # Adam takes no momentum argument
    with pytest.warns(UserWarning, match="only the ranking"):
        _diffin(estimator=adam).fit(X, y)


@pytest.mark.parametrize(
    "params, y_edit, match",
    [
        ({"validation_fraction": 0.01}, None, "validation_fraction=0.01 of 200 samples"),
        ({}, "singleton", r"at least 2 samples per class.*target='self'"),
        ({"variant": "exact"}, None, "variant"),
        ({"hvp": "fd"}, None, "'hvp' parameter"),
    ],
)
def test_errors_are_named(params, y_edit, match, small_data):
    X, y = small_data
    if y_edit == "singleton":
        y = y.copy()
        y[0] = 9
    with pytest.raises(ValueError, match=match):
        _diffin(**params).fit(X, y)


def test_more_checkpoints_than_steps_keeps_every_step_and_warns(small_data):
    X, y = small_data
    with pytest.warns(UserWarning, match="using 3 checkpoints"):
        scorer = _diffin(n_checkpoints=100, max_epochs=3).fit(X, y)
    # 160 training samples: one batch of 128 per epoch (the default net drops the partial 32).
    assert len(scorer.checkpoints_) == scorer.total_steps_ == 3


def test_self_target_accepts_a_class_of_one_sample(small_data):
    X, y = small_data
    y = y.copy()
    y[0] = 9
    scorer = _diffin(target="self", variant="tracin").fit(X, y)
    # Self-influence with TracIn is a sum of squared gradient norms: never negative.
    assert (scorer.scores_ >= 0).all()


def test_pickle_round_trip(small_data):
    X, y = small_data
    scorer = _diffin().fit(X, y)
    loaded = pickle.loads(pickle.dumps(scorer))
    np.testing.assert_allclose(loaded.transform(X[:5]), scorer.transform(X[:5]))


def test_a_fit_pickled_before_the_hvp_parameter_keeps_finite_differences(small_data):
    X, y = small_data
    scorer = _diffin(hvp="finite_difference").fit(X, y)
    state = dict(scorer.__getstate__())  # a copy: it may be the object's own __dict__
    del state["hvp"]
    state["scores_"] = scorer.components_[:, 0].copy()  # the sign of those fits
    old = DiffInScorer.__new__(DiffInScorer)
    old.__setstate__(state)
    assert old.hvp == "finite_difference"
    np.testing.assert_allclose(old.transform(X[:5]), scorer.transform(X[:5]))
    # Their scores_ becomes the difficulty, as a fit made now has it.
    np.testing.assert_array_equal(old.scores_, scorer.scores_)


@pytest.mark.parametrize("target", ["validation", "self"])
def test_exact_and_finite_difference_hvp_share_the_first_order_term(target, small_data):
    X, y = small_data
    params = {"target": target, "hessian_batch_size": 16}
    exact = _diffin(**params).fit(X, y)
    by_difference = _diffin(hvp="finite_difference", **params).fit(X, y)
    assert exact.hvp == "exact"  # the default
    np.testing.assert_allclose(
        exact.components_[:, 1], by_difference.components_[:, 1], rtol=1e-5, atol=1e-12
    )
    # Same checkpoints, another second-order estimate: related, not equal.
    exact_second, difference_second = exact.components_[:, 2], by_difference.components_[:, 2]
    assert not np.allclose(exact_second, difference_second, rtol=1e-3)
    assert np.corrcoef(exact_second, difference_second)[0, 1] > 0.9


def test_cleaning_with_self_influence_drops_mostly_mislabeled(noisy_data, tiny_net):
    X, y, flipped = noisy_data
    net = _plain_sgd_net(tiny_net, 8, 3)
    scorer = _diffin(estimator=net, target="self", max_epochs=10, hessian_batch_size=16)
    # Self-influence is a difficulty: the easy rule keeps the lowest, dropping the top 10%.
    selector = CoresetSelector(scorer, pruning_ratio=0.1, strategy="easy", random_state=0)
    selector.fit(X, y)
    dropped = np.setdiff1d(np.arange(y.size), selector.sample_indices_)
    assert flipped[dropped].mean() > 0.8


def test_own_validation_data_is_the_target(noisy_data, tiny_net):
    X, y, flipped = noisy_data
    clean_X, clean_y = _separable_classes()
    X_val, y_val = clean_X[300:], clean_y[300:]
    net = _plain_sgd_net(tiny_net, 8, 3)
    scorer = _diffin(estimator=net, max_epochs=20, validation_data=(X_val, y_val))
    scores = scorer.fit(X[:300], y[:300]).scores_
    # Every sample trains the net; a clean target set exposes the flipped labels.
    assert scorer.n_train_ == 300 and scorer.validation_indices_.size == 0
    assert roc_auc_score(flipped[:300], scores) > 0.8


@pytest.mark.parametrize(
    "params, match",
    [
        ({"target": "self"}, "target='self' has none"),
        ({"validation_data": (np.zeros((3, 8)),)}, "pair"),
        ({"validation_data": (np.zeros((3, 5)), [0, 1, 2])}, "5 features"),
        ({"validation_data": (np.zeros((3, 8)), [0, 1, 7])}, "not seen in fit"),
    ],
)
def test_bad_validation_data_is_named(params, match, small_data):
    X, y = small_data
    params = {"validation_data": (X[:5], y[:5]), **params}
    with pytest.raises(ValueError, match=match):
        _diffin(**params).fit(X, y)


@pytest.mark.parametrize("n_samples, drop_last", [(200, True), (150, False)])
def test_default_net_drops_the_partial_batch_before_checkpoints(n_samples, drop_last, small_data):
    # 200 samples: 160 train = 128 + a partial 32 (dropped); 150: 120 train < one batch.
    X, y = small_data
    scorer = _diffin(n_checkpoints=2, max_epochs=4).fit(X[:n_samples], y[:n_samples])
    net_params = scorer.net_.get_params()
    assert bool(net_params.get("iterator_train__drop_last", False)) is drop_last
    assert scorer.total_steps_ == 4  # one step per epoch either way
    assert [c["step"] for c in scorer.checkpoints_] == [1, 3]


def test_own_estimator_keeps_its_partial_batches(small_data, tiny_net):
    X, y = small_data
    net = _plain_sgd_net(tiny_net, 8, 4).set_params(batch_size=64)
    scorer = _diffin(estimator=net, max_epochs=2).fit(X, y)
    assert not scorer.net_.get_params().get("iterator_train__drop_last", False)
    assert scorer.total_steps_ == 2 * 3  # 160 training samples in batches of 64: 64, 64, 32


def test_last_layer_influence_takes_the_layer_forward_applies_last(
    known_difficulty_data, head_registered_first
):
    X, y, _ = known_difficulty_data
    net = NeuralNetClassifier(
        head_registered_first, criterion=torch.nn.CrossEntropyLoss, max_epochs=2, verbose=0
    )
    scorer = DiffInScorer(
        estimator=net, layers="last", n_checkpoints=2, max_epochs=2, random_state=0
    ).fit(X, y)
    model = scorer._checkpoint_model(scorer.checkpoints_[0])
    assert model.names == ["out.weight", "out.bias"]  # not the hidden layer, registered last


def test_all_layer_influence_needs_no_linear_module(known_difficulty_data):
    X, y, _ = known_difficulty_data

    class FunctionalOutput(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.randn(3, 2) * 0.1)
            self.bias = torch.nn.Parameter(torch.zeros(3))

        def forward(self, x):
            return torch.nn.functional.linear(x, self.weight, self.bias)

    net = NeuralNetClassifier(
        FunctionalOutput, criterion=torch.nn.CrossEntropyLoss, max_epochs=2, verbose=0
    )
    scorer = DiffInScorer(estimator=net, n_checkpoints=2, max_epochs=2, random_state=0).fit(X, y)
    assert np.isfinite(scorer.scores_).all()
