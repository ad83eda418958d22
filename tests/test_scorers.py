"""TrainingDynamicsScorer: direction, reproducibility, input handling."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import balanced_accuracy_score
from skorch import NeuralNetClassifier
from torch import nn

from skprune import DiffInScorer, SIMScorer, TrainingDynamicsScorer, UnseenScorer
from skprune.metrics import el2n
from skprune.nets import MLP, infer
from skprune.scorers import DYNAMICS_METRICS

LABEL_DEPENDENT = ["el2n", "grand", "forgetting", "aum"]
LABEL_FREE = ["entropy", "margin", "least_confidence"]


@pytest.fixture(scope="module")
def fitted(tiny_net, known_difficulty_data):
    """Scores per metric on the known-difficulty data, fitted once per module."""
    X, y, _ = known_difficulty_data
    cache = {}

    def get(metric):
        if metric not in cache:
            cache[metric] = TrainingDynamicsScorer(
                metric, estimator=tiny_net(2, 3, max_epochs=20), n_models=2, random_state=0
            ).fit(X, y)
        return cache[metric]

    return get


@pytest.mark.parametrize("metric", LABEL_DEPENDENT)
def test_mislabeled_are_hardest_and_easy_are_easiest(metric, fitted, known_difficulty_data):
    _, _, groups = known_difficulty_data
    scores = fitted(metric).scores_
    easy, hard, wrong = (scores[groups[k]].mean() for k in ("easy", "hard", "mislabeled"))
    assert easy < hard < wrong, (metric, easy, hard, wrong)


@pytest.mark.parametrize("metric", ["el2n", "grand", "forgetting", "entropy"])
def test_final_nets_estimate_the_label_noise(metric, fitted, known_difficulty_data):
    # Every path (snapshot, streamed GraNd, trajectory) estimates it from the final nets.
    _, y, groups = known_difficulty_data
    scorer = fitted(metric)
    assert scorer.label_issues_.shape == y.shape
    assert scorer.label_issues_[groups["mislabeled"]].mean() >= 0.75
    assert scorer.label_issues_[groups["easy"]].mean() <= 0.02
    # The noisy-channel estimate is conservative: on in-sample outputs the nets
    # have partly fitted the 6% wrong labels, and 15% of the samples are ambiguous.
    assert 0.0 <= scorer.label_noise_ <= scorer.label_issues_.mean()
    assert 0.5 < scorer.skill_ <= 1.0


@pytest.mark.parametrize("metric", LABEL_FREE)
def test_boundary_samples_are_harder_than_central_ones(metric, fitted, known_difficulty_data):
    _, _, groups = known_difficulty_data
    scores = fitted(metric).scores_
    assert scores[groups["hard"]].mean() > scores[groups["easy"]].mean()


@pytest.mark.parametrize("metric", DYNAMICS_METRICS)
def test_same_seed_same_scores_and_components_shape(metric, small_data):
    X, y = small_data
    scorer = TrainingDynamicsScorer(metric, max_epochs=3, random_state=1)
    first = scorer.fit_transform(X, y)
    second = clone(scorer).fit_transform(X, y)
    assert first.shape == (X.shape[0], 1)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(scorer.scores_, first[:, 0])
    assert list(scorer.get_feature_names_out()) == [metric]


def test_other_seed_other_scores(small_data):
    X, y = small_data
    a = TrainingDynamicsScorer(max_epochs=3, random_state=1).fit(X, y).scores_
    b = TrainingDynamicsScorer(max_epochs=3, random_state=2).fit(X, y).scores_
    assert not np.allclose(a, b)


def test_n_jobs_gives_identical_scores(small_data):
    X, y = small_data
    params = dict(metric="aum", n_models=2, max_epochs=3, random_state=3)
    serial = TrainingDynamicsScorer(**params, n_jobs=1).fit(X, y).scores_
    parallel = TrainingDynamicsScorer(**params, n_jobs=2).fit(X, y).scores_
    np.testing.assert_array_equal(serial, parallel)


def test_n_models_averages_independent_runs(small_data):
    X, y = small_data
    scorer = TrainingDynamicsScorer(n_models=3, max_epochs=3, random_state=5).fit(X, y)
    per_model = [el2n(infer(net, X).proba, y) for net in scorer.nets_]
    assert len(per_model) == 3 and not np.allclose(per_model[0], per_model[1])
    np.testing.assert_allclose(scorer.scores_, np.mean(per_model, axis=0), rtol=1e-6)


@pytest.mark.parametrize("metric", ["el2n", "forgetting"])
def test_score_samples_with_labels_matches_training_scores(metric, small_data):
    X, y = small_data
    scorer = TrainingDynamicsScorer(metric, max_epochs=3, random_state=0).fit(X, y)
    np.testing.assert_allclose(scorer.score_samples(X, y), scorer.scores_, atol=1e-5)


def test_transform_uses_predicted_labels(small_data):
    X, y = small_data
    scorer = TrainingDynamicsScorer("el2n", max_epochs=2, random_state=0).fit(X, y)
    predicted = scorer.nets_[0].predict(X)
    np.testing.assert_allclose(scorer.transform(X)[:, 0], scorer.score_samples(X, predicted))


def test_string_labels_and_dataframe(small_data):
    X, y = small_data
    labels = np.array(["cat", "dog", "eel", "fox"])[y]
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    scorer = TrainingDynamicsScorer(max_epochs=2, random_state=0).fit(frame, labels)
    assert list(scorer.classes_) == ["cat", "dog", "eel", "fox"]
    assert scorer.score_samples(frame, labels).shape == (X.shape[0],)
    with pytest.raises(ValueError, match="labels not seen in fit"):
        scorer.score_samples(frame, np.append(labels[:-1], "gnu"))


def test_pickle_round_trip(small_data):
    X, y = small_data
    scorer = TrainingDynamicsScorer("aum", max_epochs=2, random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(scorer))
    np.testing.assert_array_equal(loaded.scores_, scorer.scores_)
    np.testing.assert_allclose(loaded.transform(X), scorer.transform(X))


def test_user_net_is_not_mutated(small_data, tiny_net):
    X, y = small_data
    net = tiny_net(8, 4, max_epochs=2)
    TrainingDynamicsScorer(estimator=net, random_state=0).fit(X, y)
    assert not hasattr(net, "module_")
    assert net.train_split is not None  # skorch's default split stays on the user's net


@pytest.mark.parametrize(
    "scorer",
    [
        TrainingDynamicsScorer(),
        SIMScorer(prototypes="mean"),
        SIMScorer(prototypes="both"),
        UnseenScorer(),
        DiffInScorer(),
    ],
    ids=["dynamics", "sim-mean", "sim-both", "unseen", "diffin"],
)
@pytest.mark.parametrize("n_outputs", [3, 6])
def test_net_without_one_output_per_class_is_refused_before_training(
    scorer, n_outputs, small_data, tiny_net, monkeypatch
):
    X, y = small_data  # 4 classes
    monkeypatch.setattr(type(scorer), "_fit", lambda *args: pytest.fail("trained first"))
    message = rf"returns shape \(2, {n_outputs}\) for 2 samples and y has 4 classes; the module"
    with pytest.raises(ValueError, match=message):
        clone(scorer).set_params(estimator=tiny_net(8, n_outputs, max_epochs=1)).fit(X, y)


def test_output_width_is_checked_on_a_dataset(small_data, tiny_net):
    X, y = small_data
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(X))
    net = tiny_net(8, 6, max_epochs=1)
    with pytest.raises(ValueError, match="returns shape"):
        TrainingDynamicsScorer(estimator=net).fit(dataset, y)
    TrainingDynamicsScorer(estimator=tiny_net(8, 4, max_epochs=1)).fit(dataset, y)


class _Squeezed(MLP):
    """Returns ``logits.squeeze()``: a common habit, fine for batches of 2 or more."""

    def forward(self, X):
        return super().forward(X).squeeze()


def test_a_net_that_squeezes_its_output_is_accepted(small_data, tiny_net):
    X, y = small_data  # 200 samples in batches of 32: no batch of one
    net = tiny_net(8, 4, max_epochs=1).set_params(module=_Squeezed)
    assert TrainingDynamicsScorer(estimator=net).fit(X, y).scores_.shape == (200,)


def test_images_get_a_cnn():
    rng = np.random.default_rng(0)
    X = rng.random((60, 8, 8), dtype=np.float32)
    y = np.repeat([0, 1, 2], 20)
    scorer = TrainingDynamicsScorer(max_epochs=1, random_state=0).fit(X, y)
    assert type(scorer.nets_[0].module_).__name__ == "SmallCNN"
    assert scorer.scores_.shape == (60,)


@pytest.mark.parametrize(
    ("X", "y", "error", "match"),
    [
        (np.full((10, 2), np.nan), np.arange(10) % 2, ValueError, "NaN"),
        (np.full((10, 2), np.inf), np.arange(10) % 2, ValueError, "infinity"),
        (np.zeros((10, 2)), np.arange(9) % 2, ValueError, "inconsistent numbers of samples"),
        (np.zeros((10, 2)), np.zeros(10), ValueError, "at least 2 classes, got 1 class"),
        (np.zeros((10, 2)), np.linspace(0, 1, 10), ValueError, "Unknown label type"),
    ],
)
def test_bad_input_is_named(X, y, error, match):
    with pytest.raises(error, match=match):
        TrainingDynamicsScorer(max_epochs=1).fit(X, y)


def test_unknown_metric_is_named(small_data):
    X, y = small_data
    with pytest.raises(ValueError, match="metric.*'el2n'"):
        TrainingDynamicsScorer("elephant").fit(X, y)


def test_not_a_skorch_net_is_rejected(small_data):
    from sklearn.linear_model import LogisticRegression

    X, y = small_data
    with pytest.raises(ValueError, match="estimator"):
        TrainingDynamicsScorer(estimator=LogisticRegression()).fit(X, y)


@pytest.fixture(scope="module")
def digits_subset():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


@pytest.mark.parametrize("scorer_class", [SIMScorer, TrainingDynamicsScorer])
def test_unscaled_input_warns_that_the_nets_did_not_learn(scorer_class, digits_subset):
    X, y = digits_subset
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        scorer_class(random_state=0).fit(X, y)  # scaled: learns, no warning
    with pytest.warns(ConvergenceWarning, match=r"did not learn.*Scale the features"):
        scorer_class(random_state=0).fit(X * 255.0, y)  # pixels in 0-255


@pytest.mark.parametrize("scorer_class", [SIMScorer, TrainingDynamicsScorer])
def test_diverged_nets_raise_instead_of_returning_flat_scores(scorer_class, digits_subset):
    X, y = digits_subset
    with pytest.warns(UserWarning), pytest.raises(ValueError, match=r"400 non-finite scores"):
        scorer_class(random_state=0).fit(X * 1e9, y)


@pytest.mark.parametrize("scorer_class", [TrainingDynamicsScorer, UnseenScorer])
@pytest.mark.parametrize("metric", ["forgetting", "aum"])
def test_diverged_trajectories_raise_too(scorer_class, metric, digits_subset):
    # argmax of NaN logits reads as "class 0": forgetting used to score that.
    X, y = digits_subset
    with pytest.warns(UserWarning), pytest.raises(ValueError, match=r"400 non-finite scores"):
        scorer_class(metric, max_epochs=2, random_state=0).fit(X * 1e18, y)


@pytest.mark.parametrize("scorer_class", [TrainingDynamicsScorer, UnseenScorer])
def test_recording_works_with_skorch_callbacks_disabled(scorer_class, digits_subset, capsys):
    X, y = digits_subset
    net = NeuralNetClassifier(
        MLP,
        module__n_features=64,
        module__n_classes=10,
        criterion=nn.CrossEntropyLoss,
        max_epochs=2,
        lr=0.1,
        callbacks="disable",
        train_split=None,
    )
    scorer = scorer_class("aum", estimator=net, random_state=0).fit(X, y)
    assert np.isfinite(scorer.scores_).all() and np.unique(scorer.scores_).size > 100
    assert net.callbacks == "disable"  # the user's net is untouched
    # skorch's defaults stay off: only the recorder runs, and nothing is printed.
    assert [name for name, _ in scorer.nets_[0].callbacks_] == ["skprune_recorder"]
    assert capsys.readouterr().out == ""
    # Without the epoch's train_loss the "did not learn" check reads the batches' losses.
    net.set_params(lr=1e-9)
    with pytest.warns(ConvergenceWarning, match="did not learn"):
        scorer_class("aum", estimator=net, random_state=0).fit(X, y)


@pytest.mark.parametrize(
    ("fit_shape", "new_shape"), [((40, 8, 8), (5, 8, 16)), ((40, 3, 8, 8), (5, 3, 16, 16))]
)
def test_new_images_of_another_shape_are_rejected(fit_shape, new_shape):
    rng = np.random.default_rng(0)
    X, y = rng.random(fit_shape, dtype=np.float32), np.repeat([0, 1], 20)
    scorer = TrainingDynamicsScorer(max_epochs=1, device="cpu").fit(X, y)
    with pytest.raises(ValueError, match=r"samples of shape .* fitted on samples of shape"):
        scorer.transform(rng.random(new_shape, dtype=np.float32))
    with pytest.raises(ValueError, match=r"fitted on samples of shape"):
        scorer.score_samples(rng.random(new_shape, dtype=np.float32), y[:5])


def test_diffin_validation_data_without_labels_fails_before_training(known_difficulty_data):
    X, y, _ = known_difficulty_data
    with pytest.raises(ValueError, match=r"validation_data needs its labels"):
        DiffInScorer(validation_data=(X[:10], None), max_epochs=1).fit(X, y)


@pytest.mark.parametrize("scorer_class", [SIMScorer, TrainingDynamicsScorer, UnseenScorer])
def test_scorers_leave_the_global_torch_rng_as_it_was(scorer_class, digits_subset):
    # Training is seeded in a fork; inference (DataLoader seeds) must not leak either.
    X, y = digits_subset
    torch.manual_seed(5)
    before = torch.random.get_rng_state()
    scorer = scorer_class(max_epochs=1, random_state=0).fit(X, y)
    scorer.score_samples(X[:20], y[:20])
    scorer.transform(X[:20])
    assert torch.equal(before, torch.random.get_rng_state())


class _BiasFreeHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 8)
        self.head = nn.Linear(8, 3, bias=False)

    def forward(self, x):
        return self.head(torch.relu(self.hidden(x)))


def _exact_bias_free_grand(net, X, y):
    out = infer(net, X, embedding=True)
    error = out.proba - np.eye(3)[y]
    return np.linalg.norm(error, axis=1) * np.linalg.norm(out.embedding, axis=1)


@pytest.mark.parametrize("scorer_class", [TrainingDynamicsScorer, UnseenScorer])
def test_grand_scores_a_head_without_bias_exactly(scorer_class, known_difficulty_data):
    X, y, _ = known_difficulty_data
    net = NeuralNetClassifier(
        _BiasFreeHead, criterion=nn.CrossEntropyLoss, max_epochs=2, lr=0.1, verbose=0
    )
    scorer = scorer_class("grand", estimator=net, random_state=0).fit(X, y)
    expected = np.mean([_exact_bias_free_grand(fitted, X, y) for fitted in scorer.nets_], axis=0)
    np.testing.assert_allclose(scorer.score_samples(X, y), expected, rtol=1e-4)


def test_nets_that_cannot_go_back_from_worker_processes_are_named(known_difficulty_data):
    X, y, _ = known_difficulty_data

    class LocalModule(nn.Module):  # a local class cannot be pickled by name
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 3)

        def forward(self, x):
            return self.linear(x)

    net = NeuralNetClassifier(LocalModule, criterion=nn.CrossEntropyLoss, max_epochs=1, verbose=0)
    with pytest.raises(TypeError, match=r"n_jobs=2\) could not send the fitted nets.*n_jobs=1"):
        TrainingDynamicsScorer(estimator=net, n_models=2, n_jobs=2, random_state=0).fit(X, y)


def test_an_error_inside_training_is_not_reported_as_a_pickling_failure(known_difficulty_data):
    X, y, _ = known_difficulty_data

    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 3)

        def forward(self, x):
            return self.linear(x) * self.never_set  # an AttributeError of the user's own

    net = NeuralNetClassifier(Broken, criterion=nn.CrossEntropyLoss, max_epochs=1, verbose=0)
    with pytest.raises(AttributeError, match="never_set"):
        TrainingDynamicsScorer(estimator=net, n_jobs=1, random_state=0).fit(X, y)


def test_a_class_weighted_loss_that_learned_does_not_warn():
    # Imbalanced data and a loss weighting the rare class 9×: the net learns
    # (balanced accuracy well above 0.5) while its weighted loss stays above the
    # unweighted entropy of the class frequencies, which it must not be compared with.
    X, y = make_classification(
        600, 8, n_informative=4, weights=[0.9, 0.1], class_sep=0.4, flip_y=0.05, random_state=0
    )
    net = NeuralNetClassifier(
        MLP,
        module__n_features=8,
        module__n_classes=2,
        module__hidden_units=(32,),
        criterion=nn.CrossEntropyLoss,
        criterion__weight=torch.tensor([1.0, 9.0]),
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=20,
        batch_size=64,
        verbose=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        scorer = TrainingDynamicsScorer(estimator=net, random_state=0).fit(X.astype("float32"), y)
    fitted = scorer.nets_[0]
    assert balanced_accuracy_score(y, fitted.predict(X.astype("float32"))) > 0.7


def test_make_scorer_is_the_one_registry_of_scorer_names():
    from skprune.scorers import SCORER_NAMES, make_scorer

    for name in SCORER_NAMES:
        scorer = make_scorer(name, max_epochs=3)
        assert scorer.max_epochs == 3
        assert getattr(scorer, "metric", name) in (name, "margin")
    with pytest.raises(ValueError, match="unknown scorer 'simm'; choose one of"):
        make_scorer("simm")
