"""SIM components, SIMScorer and the SIMS sampler."""

import numpy as np
import pytest
import torch
from scipy.stats import beta
from skorch import NeuralNetClassifier

from skprune import CoresetSelector, SIMScorer
from skprune.metrics import (
    class_prototypes,
    confident_label_issues,
    empirical_quantile,
    integrity,
    model_certainty,
    rank_normalize,
    separability,
)
from skprune.nets import infer
from skprune.sampling import select, select_sims, sims_density

# --- formulas on hand-made embeddings --------------------------------------------


def test_prototypes_are_means_of_unit_embeddings():
    emb = np.array([[2.0, 0.0], [0.0, 5.0], [0.0, 1.0], [3.0, 4.0]])
    protos = class_prototypes(emb, [0, 0, 1, 1], 2)
    np.testing.assert_allclose(protos, [[0.5, 0.5], [0.3, 0.9]])
    np.testing.assert_allclose(
        class_prototypes(emb, [0, 0, 1, 1], 2, normalize=False), [[1.0, 2.5], [1.5, 2.5]]
    )


def test_prototypes_need_every_class():
    with pytest.raises(ValueError, match=r"classes \[2\] have no sample"):
        class_prototypes(np.eye(2), [0, 1], 3)


def test_separability_is_nearest_other_over_own_distance():
    protos = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    emb = np.array([[1.0, 1.0], [1.0, 0.2]])
    # cosine distances of [1, 1]: own (class 0) 1 - 1/√2, nearest other (class 1) the same
    got = separability(emb, [0, 0], protos, eps=0.0)
    assert got[0] == pytest.approx(1.0)
    own = 1 - 1 / np.sqrt(1.04)
    other = 1 - 0.2 / np.sqrt(1.04)
    assert got[1] == pytest.approx(other / own)
    euclid = separability(emb, [1, 1], protos, distance="euclidean", eps=0.0)
    assert euclid[1] == pytest.approx(np.hypot(0.0, 0.2) / np.hypot(1.0, 0.8))


def test_separability_margin_is_nearest_other_minus_own_distance():
    protos = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    emb = np.array([[1.0, 0.2], [1.0, 0.2]])
    own = 1 - 1 / np.sqrt(1.04)
    other = 1 - 0.2 / np.sqrt(1.04)
    got = separability(emb, [0, 1], protos, form="margin")
    np.testing.assert_allclose(got, [other - own, own - other])
    assert got[1] < 0  # labelled class 1 but nearer class 0's prototype
    ratio = separability(emb, [0, 1], protos, form="ratio", eps=0.0)
    # the two forms agree on which side of the boundary a sample is
    np.testing.assert_array_equal(got > 0, ratio > 1)
    with pytest.raises(ValueError, match='form must be "ratio" or "margin"'):
        separability(emb, [0, 1], protos, form="difference")


def test_confident_label_issues_flag_samples_confidently_of_another_class():
    proba = np.array(
        [
            [0.9, 0.1, 0.0],  # class 0, confident: fine
            [0.7, 0.3, 0.0],  # class 0, fine
            [0.2, 0.8, 0.0],  # class 1, fine
            [0.4, 0.6, 0.0],  # class 1, fine
            [0.1, 0.1, 0.8],  # class 2, fine
            [0.8, 0.1, 0.1],  # labelled 2, confidently class 0: flagged
            [0.45, 0.1, 0.45],  # labelled 2, p_0 below class 0's threshold 0.8: kept
        ]
    )
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    # thresholds: t_0 = mean(0.9, 0.7) = 0.8, t_1 = 0.7, t_2 = mean(0.8, 0.1, 0.45) = 0.45
    expected = [False, False, False, False, False, True, False]
    np.testing.assert_array_equal(confident_label_issues(proba, y), expected)
    # several models are averaged first
    np.testing.assert_array_equal(confident_label_issues(np.stack([proba, proba]), y), expected)
    with pytest.raises(ValueError, match=r"classes \[2\] have no sample"):
        confident_label_issues(proba[:5], [0, 0, 1, 1, 1])


def test_confident_label_issues_never_flag_a_sample_predicted_as_its_label():
    # Sample 4 is labelled 0 and predicted 0 (0.5), but class 0's threshold is
    # high (0.8) and class 1's low (0.35): confident learning's joint counts it
    # under class 1. The model does not contradict its label, so it is no issue.
    proba = np.array(
        [
            [0.95, 0.05, 0.0],
            [0.95, 0.05, 0.0],
            [0.3, 0.35, 0.35],
            [0.3, 0.35, 0.35],
            [0.5, 0.4, 0.1],
            [0.0, 0.1, 0.9],
        ]
    )
    y = np.array([0, 0, 1, 1, 0, 2])
    flagged = confident_label_issues(proba, y)
    assert not flagged[4]
    assert not np.any(flagged & (proba.argmax(axis=1) == y))


def test_integrity_is_the_norm():
    np.testing.assert_allclose(integrity([[3.0, 4.0], [0.0, 0.0]]), [5.0, 0.0])


def test_certainty_of_identical_models_is_one_and_of_opposite_models_zero():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    np.testing.assert_allclose(model_certainty(np.stack([p, p, p])), 1.0)
    opposite = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    np.testing.assert_allclose(model_certainty(opposite), 0.0, atol=1e-9)
    partial = model_certainty(np.array([[[0.9, 0.1]], [[0.6, 0.4]]]))
    assert 0.0 < partial[0] < 1.0
    with pytest.raises(ValueError, match="n_models >= 2"):
        model_certainty(p[None])


def test_empirical_quantile_matches_rank_normalize_on_the_reference():
    ref = np.array([3.0, 1.0, 2.0, 2.0, 5.0])
    np.testing.assert_allclose(empirical_quantile(ref, ref), rank_normalize(ref))
    np.testing.assert_allclose(empirical_quantile(ref, [-1.0, 10.0]), [0.0, 1.0])


def test_empirical_quantile_tolerance_merges_only_close_values():
    tiny = np.array([1e-7, 2e-7, 3e-7])
    np.testing.assert_allclose(empirical_quantile(tiny, tiny), [0.5, 0.5, 0.5])
    np.testing.assert_allclose(empirical_quantile(tiny, tiny, tolerance=0), rank_normalize(tiny))


def test_empirical_quantile_keeps_nan_as_nan_and_ignores_nan_references():
    quantile = empirical_quantile([1.0, np.nan, 2.0, 3.0], [np.nan, 2.0])
    assert np.isnan(quantile[0])
    np.testing.assert_allclose(quantile[1], 0.5)


# --- SIMScorer --------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim_scorer(tiny_net, known_difficulty_data):
    X, y, _ = known_difficulty_data
    return SIMScorer(estimator=tiny_net(2, 3, max_epochs=20), n_models=3, random_state=0).fit(X, y)


def test_mislabeled_get_the_highest_difficulty(sim_scorer, known_difficulty_data):
    _, _, groups = known_difficulty_data
    scores = sim_scorer.scores_
    easy, hard, wrong = (scores[groups[k]].mean() for k in ("easy", "hard", "mislabeled"))
    assert easy < hard < wrong, (easy, hard, wrong)
    # ranking flags the mislabeled: most of them fall in the top 10% of difficulty
    top = np.argsort(-scores)[: len(scores) // 10]
    assert np.isin(groups["mislabeled"], top).mean() >= 0.75


def test_label_noise_estimate_flags_the_mislabeled(sim_scorer, known_difficulty_data):
    _, y, groups = known_difficulty_data
    issues = sim_scorer.label_issues_
    assert issues.shape == y.shape and issues.dtype == bool
    assert issues[groups["mislabeled"]].mean() >= 0.75
    assert issues[groups["easy"]].mean() <= 0.02
    # 24 of 384 samples are mislabeled; the boundary samples add a few flags
    assert 0.04 <= issues.mean() <= 0.12
    # The estimated fraction is conservative (it does not count the flags of
    # ambiguous samples), and the nets fit the rest well.
    assert 0.0 <= sim_scorer.label_noise_ <= issues.mean()
    assert sim_scorer.skill_ > 0.7


def test_margin_separability_ranks_like_the_ratio_on_clear_cases(tiny_net, known_difficulty_data):
    X, y, groups = known_difficulty_data
    margin = SIMScorer(
        estimator=tiny_net(2, 3, max_epochs=20), n_models=2, separability="margin", random_state=0
    ).fit(X, y)
    easy, hard, wrong = (margin.scores_[groups[k]].mean() for k in ("easy", "hard", "mislabeled"))
    assert easy < hard < wrong, (easy, hard, wrong)


def test_classifier_prototypes_are_the_last_layers_class_directions(
    tiny_net, known_difficulty_data
):
    X, y, groups = known_difficulty_data
    scorer = SIMScorer(
        estimator=tiny_net(2, 3, max_epochs=20),
        n_models=2,
        prototypes="classifier",
        random_state=0,
    ).fit(X, y)
    for net, prototypes in zip(scorer.nets_, scorer.prototypes_, strict=True):
        np.testing.assert_allclose(
            prototypes, net.module_.head.weight.detach().double().numpy(), rtol=1e-6
        )
    embedding = infer(scorer.nets_[0], X, embedding=True).embedding
    np.testing.assert_allclose(
        scorer._separability_reference[0],
        separability(embedding, y, scorer.prototypes_[0], form="margin"),
        rtol=1e-5,
        atol=1e-6,
    )
    easy, hard, wrong = (scorer.scores_[groups[k]].mean() for k in ("easy", "hard", "mislabeled"))
    assert easy < hard < wrong, (easy, hard, wrong)


def test_both_prototypes_average_the_two_separabilities(tiny_net, known_difficulty_data):
    X, y, _ = known_difficulty_data
    fitted = {
        kind: SIMScorer(
            estimator=tiny_net(2, 3, max_epochs=5), n_models=2, prototypes=kind, random_state=0
        ).fit(X, y)
        for kind in ("mean", "classifier", "both")
    }
    for index, kind in enumerate(("mean", "classifier")):
        for both, single in zip(fitted["both"].prototypes_, fitted[kind].prototypes_, strict=True):
            np.testing.assert_allclose(both[index], single)
    separability = {kind: scorer.components_[:, 0] for kind, scorer in fitted.items()}
    np.testing.assert_allclose(
        separability["both"], (separability["mean"] + separability["classifier"]) / 2
    )
    # new samples go through the same two sets
    np.testing.assert_allclose(
        fitted["both"].transform(X[:50])[:, 0],
        (fitted["mean"].transform(X[:50])[:, 0] + fitted["classifier"].transform(X[:50])[:, 0]) / 2,
        atol=1e-6,
    )


class _SlicedHead(torch.nn.Module):
    """One output per class, but the last nn.Linear has two more rows than classes."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.n_classes = n_classes
        self.linear = torch.nn.Linear(n_features, n_classes + 2)

    def forward(self, X):
        return self.linear(X)[:, : self.n_classes]


def test_classifier_prototypes_need_the_last_linear_as_output_layer(known_difficulty_data):
    X, y, _ = known_difficulty_data
    net = NeuralNetClassifier(
        _SlicedHead,
        module__n_features=2,
        module__n_classes=3,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=1,
        device="cpu",
    )
    for kind in ("classifier", "both"):
        with pytest.raises(ValueError, match="has 5 outputs for 3 classes; use prototypes='mean'"):
            SIMScorer(estimator=net, prototypes=kind).fit(X, y)
    assert SIMScorer(estimator=net, prototypes="mean").fit(X, y).scores_.shape == y.shape


def test_classifier_prototypes_need_cosine(tiny_net, known_difficulty_data):
    X, y, _ = known_difficulty_data
    for kind in ("classifier", "both"):
        with pytest.raises(ValueError, match="use distance='cosine'"):
            SIMScorer(estimator=tiny_net(2, 3), prototypes=kind, distance="euclidean").fit(X, y)
    # the mean prototypes take any distance
    SIMScorer(estimator=tiny_net(2, 3, max_epochs=1), distance="euclidean", prototypes="mean").fit(
        X, y
    )


def test_components_are_normalized_and_named(sim_scorer, known_difficulty_data):
    X, y, _ = known_difficulty_data
    comp = sim_scorer.components_
    assert comp.shape == (X.shape[0], 4)
    assert comp.min() >= 0.0 and comp.max() <= 1.0
    assert list(sim_scorer.get_feature_names_out()) == [
        "separability",
        "integrity",
        "certainty",
        "sim",
    ]
    # equal up to float32 round-off ties (see empirical_quantile)
    np.testing.assert_allclose(sim_scorer.scores_, 1 - rank_normalize(comp[:, 3]), atol=0.01)
    np.testing.assert_allclose(sim_scorer.score_samples(X, y), sim_scorer.scores_, atol=1e-6)


@pytest.mark.parametrize("combination", ["product", "mean"])
def test_combinations(combination, small_data):
    X, y = small_data
    scorer = SIMScorer(n_models=2, max_epochs=2, combination=combination, random_state=0)
    comp = scorer.fit_transform(X, y)
    s, e, c, sim = comp.T
    if combination == "product":
        np.testing.assert_allclose(sim, s * e**0.1 * c)
    else:
        np.testing.assert_allclose(sim, (s + 0.1 * e + c) / 2.1)


def test_default_scoring_nets_are_half_as_wide_as_the_default_net(small_data):
    X, y = small_data
    scorer = SIMScorer(n_models=2, max_epochs=1, random_state=0).fit(X, y)
    assert [net.module__hidden_units for net in scorer.nets_] == [(128,), (128,)]
    assert all(prototypes.shape[-1] == 128 for prototypes in scorer.prototypes_)


def test_sim_needs_two_models(small_data):
    X, y = small_data
    with pytest.raises(ValueError, match="n_models"):
        SIMScorer(n_models=1).fit(X, y)


def test_sim_is_reproducible_with_n_jobs(small_data):
    X, y = small_data
    a = SIMScorer(n_models=2, max_epochs=2, random_state=4, n_jobs=1).fit(X, y).scores_
    b = SIMScorer(n_models=2, max_epochs=2, random_state=4, n_jobs=2).fit(X, y).scores_
    np.testing.assert_array_equal(a, b)


def test_one_pass_per_net_when_embeddings_fit_else_two_with_equal_scores(small_data, monkeypatch):
    from skprune.scorers import sim as sim_module

    X, y = small_data
    reads = []
    real_iter_outputs = sim_module.iter_outputs

    def counting_iter_outputs(net, data, **kwargs):
        reads.append(len(data))
        return real_iter_outputs(net, data, **kwargs)

    monkeypatch.setattr(sim_module, "iter_outputs", counting_iter_outputs)
    kept = SIMScorer(n_models=2, max_epochs=2, random_state=1).fit(X, y)
    in_memory_reads, reads[:] = len(reads), []
    kept_new = kept.transform(X[:7])
    assert (in_memory_reads, len(reads)) == (2, 2)

    reads[:] = []
    monkeypatch.setattr(sim_module, "_EMBEDDING_BUDGET_BYTES", 0)
    streamed = SIMScorer(n_models=2, max_epochs=2, random_state=1).fit(X, y)
    streamed_reads, reads[:] = len(reads), []
    streamed_new = streamed.transform(X[:7])
    assert (streamed_reads, len(reads)) == (4, 4)
    np.testing.assert_array_equal(kept.scores_, streamed.scores_)
    np.testing.assert_array_equal(kept.components_, streamed.components_)
    np.testing.assert_array_equal(kept_new, streamed_new)


# --- SIMS sampler -----------------------------------------------------------------


def test_density_mean_moves_with_the_ratio():
    u = np.linspace(0.005, 0.995, 200)
    # by default through the hard cut, which grows with α
    means = [np.average(u, weights=sims_density(u, a)) for a in (0.1, 0.5, 0.9)]
    assert means[0] > means[1] > means[2]
    np.testing.assert_allclose(
        sims_density(u, 0.5, mean_start=0.6, mean_end=0.2, concentration=5.0, cut_end=0.0),
        beta.pdf(u, 0.4 * 5, 0.6 * 5),
    )


@pytest.mark.parametrize("ratio", [0.5, 0.7, 0.9])
def test_hardest_tail_gets_little_mass_from_mid_ratios_on(ratio):
    d = sims_density(np.array([0.5, 0.995]), ratio)
    assert d[1] < 0.1 * d[0]


def test_hard_samples_are_favoured_at_small_ratios():
    d = sims_density(np.array([0.2, 0.8]), 0.1)
    assert d[1] > d[0]


@pytest.mark.parametrize("class_balance", ["global", "hybrid", "proportional"])
@pytest.mark.parametrize("ratio", [0.3, 0.7, 0.95])
def test_sims_budget_floor_and_probabilities(class_balance, ratio):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 40)
    scores = rng.random(y.size)
    sel = select_sims(scores, y, ratio, class_balance=class_balance, random_state=0)
    assert sel.indices.size == round((1 - ratio) * y.size)
    assert np.unique(sel.indices).size == sel.indices.size
    assert set(y[sel.indices]) == set(range(10))
    assert sel.probabilities.sum() == pytest.approx(sel.indices.size, rel=1e-6)
    assert np.all((sel.probabilities >= 0) & (sel.probabilities <= 1 + 1e-12))


def test_sims_is_deterministic_with_random_state():
    y = np.repeat([0, 1, 2], 50)
    scores = np.random.default_rng(1).random(150)
    a = select_sims(scores, y, 0.6, random_state=3).indices
    b = select_sims(scores, y, 0.6, random_state=3).indices
    c = select_sims(scores, y, 0.6, random_state=4).indices
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_inclusion_frequencies_follow_the_density():
    n, ratio = 200, 0.8
    scores = np.arange(n, dtype=float)  # quantile = position
    y = np.zeros(n, dtype=int)
    sel = select_sims(scores, y, ratio, class_balance="global", random_state=0)
    counts = np.zeros(n)
    draws = 3000
    for seed in range(draws):
        counts[
            select_sims(scores, y, ratio, class_balance="global", random_state=seed).indices
        ] += 1
    frequency = counts / draws
    np.testing.assert_allclose(frequency, sel.probabilities, atol=0.04)
    # and the probabilities are proportional to the density where uncapped
    u = (np.arange(n) + 0.5) / n
    density = sims_density(u, ratio)
    assert np.all(sel.probabilities[density == 0] == 0)  # above the hard cut
    uncapped = (sel.probabilities < 0.999) & (density > 0)
    ratio_to_density = sel.probabilities[uncapped] / density[uncapped]
    np.testing.assert_allclose(ratio_to_density, ratio_to_density[0], rtol=1e-6)


def test_sims_accepts_any_scorer_and_is_the_default(small_data):
    X, y = small_data
    selector = CoresetSelector(pruning_ratio=0.5, random_state=0).set_params(
        scorer=SIMScorer(n_models=2, max_epochs=2)
    )
    selector.fit(X, y)
    assert selector.strategy == "sims" and selector.sample_indices_.size == 100
    assert selector.sample_weight_.mean() == pytest.approx(1.0)
    assert isinstance(CoresetSelector()._named_scorers()[0][1], SIMScorer)
    el2n_like = np.random.default_rng(0).random(y.size)
    assert select("sims", el2n_like, y, 0.5, random_state=0).indices.size == 100


@pytest.mark.parametrize("prototypes", ["both", "mean"])
def test_embeddings_are_the_input_of_the_layer_forward_applies_last(
    prototypes, known_difficulty_data, head_registered_first
):
    X, y, _ = known_difficulty_data
    net = NeuralNetClassifier(
        head_registered_first,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=3,
        lr=0.1,
        verbose=0,
    )
    scorer = SIMScorer(estimator=net, prototypes=prototypes, random_state=0).fit(X, y)
    # 16 hidden units, not the 2 input features the last-registered layer sees
    assert scorer.prototypes_[0].shape[-2:] == (3, 16)
