"""Issue 23: the noise estimate knows when it is not trustworthy, and weak scores give random."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification

from skprune import CoresetSelector, LowSignalWarning, SIMScorer
from skprune.metrics import confident_label_issues, estimate_label_noise, softmax
from skprune.sampling import RandomRule, SIMSRule, uniform_weight


def _confident(y, n_classes, rng):
    # Right with a confidence that varies from sample to sample: with one
    # confidence for all, a temperature mimics the noisy channel exactly.
    strength = rng.uniform(2, 8, (y.size, 1))
    return softmax(strength * np.eye(n_classes)[y] + 0.5 * rng.standard_normal((y.size, n_classes)))


@pytest.mark.parametrize("rate", [0.1, 0.3])
@pytest.mark.parametrize("n_classes", [4, 10])
def test_estimate_recovers_symmetric_noise_of_models_that_fit(rate, n_classes):
    rng = np.random.default_rng(0)
    y = rng.integers(0, n_classes, 3000)
    wrong = rng.random(y.size) < rate
    noisy = np.where(wrong, (y + rng.integers(1, n_classes, y.size)) % n_classes, y)
    estimate = estimate_label_noise(_confident(y, n_classes, rng), noisy)
    assert estimate.noise_rate == pytest.approx(wrong.mean(), abs=0.02)
    assert estimate.skill > 0.95


def test_estimate_is_zero_for_clean_labels_of_underfit_models():
    # A weak model: right on average, diffuse, accurate on ~40% of the samples.
    # Confident learning calls a third of these clean labels wrong; the channel
    # explains the errors by the model's uncertainty instead.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 3000)
    logits = 1.2 * np.eye(10)[y] + rng.standard_normal((y.size, 10))
    proba = softmax(logits)
    assert 0.3 < (proba.argmax(axis=1) == y).mean() < 0.5
    assert confident_label_issues(proba, y).mean() > 0.3
    estimate = estimate_label_noise(proba, y)
    assert estimate.noise_rate == 0.0
    assert estimate.skill < 0.5


def test_estimate_is_zero_with_two_classes_and_the_skill_shows_the_noise():
    # With two classes symmetric noise and class overlap look alike: no cut, but
    # the wrong labels lower the skill, so SIMS falls back to random selection.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 3000)
    wrong = rng.random(y.size) < 0.2
    estimate = estimate_label_noise(_confident(y, 2, rng), np.where(wrong, 1 - y, y))
    assert estimate.noise_rate == 0.0
    assert estimate.skill < 0.8 and uniform_weight(estimate.skill) == 1.0


def test_skill_is_chance_corrected():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 2000)
    assert estimate_label_noise(_confident(y, 4, rng), y).skill > 0.99
    uninformative = softmax(rng.standard_normal((y.size, 4)))
    assert estimate_label_noise(uninformative, y).skill < 0.05


def test_estimate_validates_its_input():
    with pytest.raises(ValueError, match="proba must have shape"):
        estimate_label_noise(np.ones(5), np.zeros(5, dtype=int))


def test_uniform_weight_ramps_from_trusted_to_random():
    assert uniform_weight(1.0) == 0.0 and uniform_weight(0.9) == 0.0
    assert uniform_weight(0.8) == 1.0 and uniform_weight(0.0) == 1.0
    assert uniform_weight(0.85) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="skill must be a number in"):
        uniform_weight(1.5)


def test_sims_with_full_uniform_weight_and_no_cut_is_the_random_draw():
    rng = np.random.default_rng(0)
    scores, y = rng.random(300), rng.integers(0, 3, 300)
    for ratio in (0.3, 0.8):
        ours = SIMSRule(uniform=1.0, label_noise=0.0).select(scores, y, ratio, random_state=5)
        random = RandomRule().select(scores, y, ratio, random_state=5)
        np.testing.assert_array_equal(ours.indices, random.indices)


def test_sims_with_full_uniform_weight_is_uniform_below_the_cut():
    rng = np.random.default_rng(0)
    scores, y = rng.random(400), np.repeat([0, 1], 200)
    selection = SIMSRule(uniform=1.0, label_noise=0.2).select(
        scores, y, 0.5, class_balance="global", min_per_class=0, random_state=0
    )
    hardest = scores.argsort().argsort() >= 320
    kept_probability = selection.probabilities[~hardest]
    assert np.all(selection.probabilities[hardest] == 0)
    np.testing.assert_allclose(kept_probability, kept_probability.mean())
    assert not np.isin(selection.indices, np.flatnonzero(hardest)).any()


def test_sims_uniform_weight_mixes_the_density():
    u = np.linspace(0.01, 0.99, 50)
    tilt = SIMSRule(uniform=0.0, label_noise=0.0).density(u, 0.5)
    mixed = SIMSRule(uniform=0.4, label_noise=0.0).density(u, 0.5)
    np.testing.assert_allclose(mixed, 0.6 * tilt + 0.4)


@pytest.mark.parametrize("uniform", [1.5, -0.1, True, "random"])
def test_sims_uniform_is_validated(uniform):
    with pytest.raises(ValueError, match='uniform must be "auto" or a number in'):
        SIMSRule(uniform=uniform).select(np.arange(10.0), [0, 1] * 5, 0.5)


@pytest.fixture(scope="module")
def hard_clean_data():
    # 10 overlapping classes: 1-epoch scoring nets fit them poorly.
    return make_classification(
        n_samples=600,
        n_features=20,
        n_informative=10,
        n_classes=10,
        n_clusters_per_class=2,
        class_sep=0.6,
        flip_y=0.0,
        random_state=0,
    )


def test_underfit_scorer_on_clean_labels_gives_the_random_coreset_with_a_warning(
    hard_clean_data,
):
    X, y = hard_clean_data
    scorer = SIMScorer(max_epochs=1, random_state=0)
    with pytest.warns(LowSignalWarning, match="Train the scoring nets longer"):
        default = CoresetSelector(scorer, pruning_ratio=0.5, random_state=0).fit(X, y)
    # Confident learning calls many of these clean labels wrong; nothing is cut.
    assert default.scorers_[0][1].label_issues_.mean() > 0.15
    assert default.label_noise_ == 0.0
    assert default.skill_ < 0.8 and default.uniform_ == 1.0
    random = CoresetSelector(scorer, strategy="random", pruning_ratio=0.5, random_state=0)
    np.testing.assert_array_equal(default.sample_indices_, random.fit(X, y).sample_indices_)
    # The user can still trust the scores: then no warning and a different coreset.
    with warnings.catch_warnings():
        warnings.simplefilter("error", LowSignalWarning)
        trusted = CoresetSelector(
            scorer, strategy=SIMSRule(uniform=0.0), pruning_ratio=0.5, random_state=0
        ).fit(X, y)
    assert trusted.uniform_ == 0.0
    assert not np.array_equal(trusted.sample_indices_, default.sample_indices_)


def test_scorer_that_fits_keeps_the_sims_density_without_a_warning():
    X, y = make_classification(
        n_samples=600, n_features=10, n_informative=6, n_classes=3, class_sep=2.5, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", LowSignalWarning)
        selector = CoresetSelector(
            SIMScorer(max_epochs=10, random_state=0), pruning_ratio=0.5, random_state=0
        ).fit(X, y)
    assert selector.skill_ >= 0.9 and selector.uniform_ == 0.0
    assert selector.label_noise_ <= 0.05
