"""Tests for skprune.metrics: hand-computed formulas, shapes, and the difficulty direction."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from skprune.metrics import (
    aum,
    combine_difficulties,
    el2n,
    entropy,
    forgetting,
    grand_last_layer,
    least_confidence,
    margin,
    rank_normalize,
    softmax,
)

# --- synthetic outputs: one easy, one ambiguous, one mislabeled sample (label 0 for all) ----

Y3 = np.array([0, 0, 0])
EASY, AMBIGUOUS, MISLABELED = 0, 1, 2


@pytest.fixture
def three_kinds_proba():
    """Confidently correct, ambiguous and confidently wrong predictions for label 0."""
    return np.array([[0.95, 0.05], [0.5, 0.5], [0.05, 0.95]])


@pytest.fixture
def three_kinds_logits():
    """Per-epoch logits (n_epochs=4, n_samples=3, n_classes=3) for label 0.

    The easy sample is learned at once and kept; the ambiguous one flips
    between classes 0 and 1; the mislabeled one is always predicted as class 2.
    """
    easy = [[3.0, 0.0, 0.0]] * 4
    ambiguous = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    mislabeled = [[0.0, 0.0, 3.0]] * 4
    return np.stack([easy, ambiguous, mislabeled], axis=1)


# --- softmax ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proba", "message"),
    [
        ([[2.0, 2.0]], r"probabilities in \[0, 1\].*not logits"),
        ([[-0.5, 1.5]], r"probabilities in \[0, 1\]"),
        ([[0.3, 0.3]], "rows must sum to 1"),
        ([[1.0], [1.0]], "at least 2 classes"),
    ],
)
@pytest.mark.parametrize("metric", [entropy, margin, least_confidence])
def test_probability_metrics_refuse_what_is_not_a_distribution(metric, proba, message):
    with pytest.raises(ValueError, match=message):
        metric(proba)


def test_probability_metrics_pass_nan_through():
    np.testing.assert_allclose(entropy([[np.nan, np.nan], [0.5, 0.5]]), [np.nan, np.log(2)])


def test_softmax_hand_computed():
    assert_allclose(softmax([[0.0, np.log(3.0)]]), [[0.25, 0.75]])


def test_softmax_is_over_last_axis_and_shift_invariant():
    logits = np.array([[[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], [[5.0, 1.0, 1.0], [2.0, 2.0, 8.0]]])
    proba = softmax(logits)
    assert proba.shape == (2, 2, 3)
    assert_allclose(proba.sum(axis=-1), np.ones((2, 2)))
    assert_allclose(softmax(logits + 100.0), proba)


# --- uncertainty metrics ------------------------------------------------------------------


@pytest.mark.parametrize(
    "proba, expected",
    [
        ([1.0, 0.0], 0.0),
        ([0.5, 0.5], np.log(2.0)),
        ([0.25, 0.25, 0.25, 0.25], np.log(4.0)),
        ([0.25, 0.75], -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))),
    ],
)
def test_entropy_hand_computed(proba, expected):
    assert_allclose(entropy([proba]), [expected])


@pytest.mark.parametrize(
    "proba, expected",
    [
        ([0.7, 0.2, 0.1], 0.3),
        ([0.2, 0.1, 0.7], 0.3),
        ([1.0, 0.0, 0.0], 0.0),
        ([0.5, 0.5, 0.0], 0.5),
    ],
)
def test_least_confidence_hand_computed(proba, expected):
    assert_allclose(least_confidence([proba]), [expected])


@pytest.mark.parametrize(
    "proba, expected",
    [
        ([0.6, 0.3, 0.1], -0.3),
        ([0.1, 0.3, 0.6], -0.3),  # class order does not matter
        ([0.5, 0.5, 0.0], 0.0),
        ([1.0, 0.0, 0.0], -1.0),
    ],
)
def test_margin_hand_computed_and_negated(proba, expected):
    assert_allclose(margin([proba]), [expected])


def test_margin_small_gap_is_harder():
    # The sign convention: an ambiguous sample must get the higher difficulty.
    scores = margin([[0.9, 0.1], [0.55, 0.45]])
    assert scores[1] > scores[0]


@pytest.mark.parametrize(
    "metric, per_model",
    [
        (entropy, [[0.0, np.log(2.0)], [np.log(2.0), 0.0]]),
        (least_confidence, [[0.0, 0.5], [0.5, 0.0]]),
        (margin, [[-1.0, 0.0], [0.0, -1.0]]),
    ],
)
def test_uncertainty_metrics_average_over_models(metric, per_model):
    stack = np.array([[[1.0, 0.0], [0.5, 0.5]], [[0.5, 0.5], [0.0, 1.0]]])
    assert_allclose(metric(stack), np.mean(per_model, axis=0))


@pytest.mark.parametrize("metric", [entropy, least_confidence, margin])
def test_uncertainty_metrics_rank_ambiguous_above_confident(metric, three_kinds_proba):
    # Label-free uncertainty: the ambiguous sample is the hardest; a confidently
    # wrong prediction looks exactly as confident as a confidently right one.
    scores = metric(three_kinds_proba)
    assert scores[AMBIGUOUS] > scores[EASY]
    assert scores[AMBIGUOUS] > scores[MISLABELED]
    assert_allclose(scores[EASY], scores[MISLABELED])


# --- el2n ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label, expected",
    [(0, np.sqrt(0.3**2 + 0.2**2 + 0.1**2)), (1, np.sqrt(0.7**2 + 0.8**2 + 0.1**2))],
)
def test_el2n_hand_computed(label, expected):
    assert_allclose(el2n([[0.7, 0.2, 0.1]], [label]), [expected])


def test_el2n_is_mean_of_norms_over_models():
    # Two models, one sample of class 0: both errors have norm sqrt(2), so the mean of
    # norms is sqrt(2), while the norm of the mean prediction would be sqrt(1.5).
    stack = np.array([[[0.0, 1.0, 0.0]], [[0.0, 0.0, 1.0]]])
    assert_allclose(el2n(stack, [0]), [np.sqrt(2.0)])


def test_el2n_stack_matches_per_model_average():
    rng = np.random.default_rng(0)
    stack = softmax(rng.normal(size=(4, 6, 3)))
    y = rng.integers(0, 3, size=6)
    expected = np.mean([el2n(p, y) for p in stack], axis=0)
    assert el2n(stack, y).shape == (6,)
    assert_allclose(el2n(stack, y), expected)


def test_el2n_orders_easy_ambiguous_mislabeled(three_kinds_proba):
    scores = el2n(three_kinds_proba, Y3)
    assert scores[EASY] < scores[AMBIGUOUS] < scores[MISLABELED]


# --- grand ------------------------------------------------------------------------------


def test_grand_last_layer_hand_computed():
    # ||p - onehot|| = sqrt(2), sqrt(||h||^2 + 1) = sqrt(26).
    assert_allclose(grand_last_layer([[0.0, 1.0]], [0], [[3.0, 4.0]]), [np.sqrt(52.0)])


def test_grand_last_layer_equals_autograd_gradient_norm():
    torch.manual_seed(0)
    n, d, c = 5, 4, 3
    layer = torch.nn.Linear(d, c).double()
    h = torch.randn(n, d, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 1, 0])
    expected = []
    for i in range(n):
        layer.zero_grad()
        loss = torch.nn.functional.cross_entropy(layer(h[i : i + 1]), y[i : i + 1])
        loss.backward()
        grads = torch.cat([layer.weight.grad.ravel(), layer.bias.grad.ravel()])
        expected.append(grads.norm().item())
    with torch.no_grad():
        proba = torch.softmax(layer(h), dim=1).numpy()
    assert_allclose(grand_last_layer(proba, y.numpy(), h.numpy()), expected, rtol=1e-10)


def test_grand_last_layer_without_bias_drops_the_bias_gradient():
    # ||p - onehot|| = sqrt(2), ||h|| = 5.
    assert_allclose(grand_last_layer([[0.0, 1.0]], [0], [[3.0, 4.0]], bias=False), [5 * np.sqrt(2)])


def test_grand_last_layer_averages_over_models():
    proba = np.array([[[0.0, 1.0]], [[1.0, 0.0]]])
    embedding = np.array([[[3.0, 4.0]], [[1.0, 1.0]]])
    # Model 1: sqrt(2) * sqrt(26); model 2: zero error.
    assert_allclose(grand_last_layer(proba, [0], embedding), [np.sqrt(52.0) / 2])


def test_grand_last_layer_orders_easy_ambiguous_mislabeled(three_kinds_proba):
    embedding = np.ones((3, 2))
    scores = grand_last_layer(three_kinds_proba, Y3, embedding)
    assert scores[EASY] < scores[AMBIGUOUS] < scores[MISLABELED]


def test_grand_last_layer_rejects_mismatched_embedding():
    with pytest.raises(ValueError, match=r"embedding shape \(3, 2\) does not match proba"):
        grand_last_layer(np.full((2, 2), 0.5), [0, 1], np.ones((3, 2)))


# --- forgetting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "history, expected",
    [
        ([1, 1, 1, 1], 0.0),  # learned at once, never forgotten
        ([0, 1, 1, 1], 0.0),  # learned late: incorrect -> correct is not a forgetting event
        ([1, 0, 1, 1], 1.0),
        ([1, 0, 1, 0], 2.0),
        ([1, 1, 1, 0], 1.0),
        ([0, 0, 0, 0], 4.0),  # never learned: n_epochs
    ],
)
def test_forgetting_hand_computed(history, expected):
    correct = np.asarray(history)[:, None]  # (n_epochs, 1 sample)
    assert_array_equal(forgetting(correct), [expected])


def test_forgetting_never_learned_ranks_above_every_forgotten_sample():
    # With 5 epochs at most 2 forgetting events can happen; never learned gets 5.
    correct = np.array([[1, 0, 0], [0, 0, 1], [1, 0, 0], [0, 0, 1], [1, 0, 1]], dtype=bool)
    scores = forgetting(correct)
    assert_array_equal(scores, [2.0, 5.0, 1.0])
    assert scores.dtype == np.float64


def test_forgetting_orders_easy_ambiguous_mislabeled(three_kinds_logits):
    correct = three_kinds_logits.argmax(axis=-1) == Y3
    scores = forgetting(correct)
    assert_array_equal(scores, [0.0, 2.0, 4.0])
    assert scores[EASY] < scores[AMBIGUOUS] < scores[MISLABELED]


# --- aum ----------------------------------------------------------------------------------


def test_aum_hand_computed():
    # Sample 0 (label 0): margins 3-1=2 and 2-2=0 -> mean 1 -> aum -1.
    # Sample 1 (label 0): margin against the largest *other* logit: 5-4=1 and 5-4=1 -> -1.
    # Sample 2 (label 1): margins 1-3=-2 and 0-2=-2 -> aum 2.
    logits = np.array(
        [
            [[3.0, 1.0, 0.0], [5.0, 1.0, 4.0], [3.0, 1.0, 0.0]],
            [[2.0, 2.0, 0.0], [5.0, 4.0, 1.0], [2.0, 0.0, 1.0]],
        ]
    )
    assert_allclose(aum(logits, [0, 0, 1]), [-1.0, -1.0, 2.0])


def test_aum_sign_large_margin_is_easy():
    scores = aum([[[10.0, 0.0], [0.1, 0.0]]], [0, 0])
    assert_allclose(scores, [-10.0, -0.1])
    assert scores[0] < scores[1]


def test_aum_orders_easy_ambiguous_mislabeled(three_kinds_logits):
    scores = aum(three_kinds_logits, Y3)
    # easy: margin 3 every epoch; ambiguous: +1, -1, +1, -1; mislabeled: -3 every epoch.
    assert_allclose(scores, [-3.0, 0.0, 3.0])
    assert scores[EASY] < scores[AMBIGUOUS] < scores[MISLABELED]
    assert np.argmax(scores) == MISLABELED


def test_aum_does_not_modify_input():
    logits = np.array([[[1.0, 2.0], [3.0, 0.0]]])
    copy = logits.copy()
    aum(logits, [0, 1])
    assert_array_equal(logits, copy)


# --- rank_normalize ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "scores, expected",
    [
        ([3.0, 1.0, 2.0], [1.0, 0.0, 0.5]),
        ([3.0, 1.0, 2.0, 2.0], [1.0, 0.0, 0.5, 0.5]),  # ties share their average rank
        ([5.0, 5.0, 5.0, 0.0, 9.0], [0.5, 0.5, 0.5, 0.0, 1.0]),
        ([7.0, 7.0, 7.0], [0.5, 0.5, 0.5]),
        ([1e9, -1e9], [1.0, 0.0]),
        ([4.0], [0.0]),
        ([], []),
    ],
)
def test_rank_normalize_hand_computed(scores, expected):
    assert_allclose(rank_normalize(scores), expected)


def test_rank_normalize_is_symmetric_under_negation_with_ties():
    # Ties must not favour one direction: ranking -s gives 1 - ranking s.
    scores = np.array([0.0, 0.0, 0.0, 1.0, 2.0, 2.0, 3.0])
    assert_allclose(rank_normalize(-scores), 1.0 - rank_normalize(scores))


# --- combine_difficulties -----------------------------------------------------------------


def test_combine_difficulties_rank_mean():
    # Ranks: [0, 1, 0.5] and [0, 0.5, 1].
    assert_allclose(combine_difficulties([[0.0, 10.0, 5.0], [1.0, 2.0, 3.0]]), [0.0, 0.75, 0.75])


def test_combine_difficulties_rank_mean_ignores_scale():
    a, b = np.array([0.0, 10.0, 5.0, 2.0]), np.array([1.0, 2.0, 3.0, 4.0])
    assert_allclose(combine_difficulties([a * 1000.0, b]), combine_difficulties([a, b]))


@pytest.mark.parametrize(
    "weights, expected",
    [
        ([3.0, 1.0], [0.0, 0.875, 0.625]),
        ([0.3, 0.1], [0.0, 0.875, 0.625]),  # only relative weights matter
        ([1.0, 0.0], [0.0, 1.0, 0.5]),
        ([0.0, 2.0], [0.0, 0.5, 1.0]),
    ],
)
def test_combine_difficulties_weights(weights, expected):
    combined = combine_difficulties([[0.0, 10.0, 5.0], [1.0, 2.0, 3.0]], weights=weights)
    assert_allclose(combined, expected)


@pytest.mark.parametrize(
    "weights, expected", [(None, [0.5, 6.0, 4.0]), ([1.0, 3.0], [0.75, 4.0, 3.5])]
)
def test_combine_difficulties_mean(weights, expected):
    combined = combine_difficulties(
        [[0.0, 10.0, 5.0], [1.0, 2.0, 3.0]], weights=weights, method="mean"
    )
    assert_allclose(combined, expected)


def test_combine_difficulties_single_vector_is_its_rank():
    assert_allclose(combine_difficulties([[2.0, 0.0, 1.0]]), [1.0, 0.0, 0.5])


@pytest.mark.parametrize(
    "weights",
    [[1.0], [1.0, 1.0, 1.0], [1.0, -1.0], [0.0, 0.0], [[1.0, 1.0]]],
    ids=["too-few", "too-many", "negative", "all-zero", "2-d"],
)
def test_combine_difficulties_rejects_bad_weights(weights):
    with pytest.raises(ValueError, match="weights must be 2 non-negative numbers"):
        combine_difficulties([[0.0, 1.0], [1.0, 0.0]], weights=weights)


def test_combine_difficulties_rejects_length_mismatch():
    with pytest.raises(ValueError, match=r"differ in length: \[3, 2\]"):
        combine_difficulties([[0.0, 1.0, 2.0], [1.0, 0.0]])


def test_combine_difficulties_rejects_unknown_method():
    with pytest.raises(ValueError, match="method must be 'rank_mean' or 'mean', got 'median'"):
        combine_difficulties([[0.0, 1.0]], method="median")


def test_combine_difficulties_rejects_empty():
    with pytest.raises(ValueError, match="at least one difficulty vector"):
        combine_difficulties([])


# --- shape and label errors -----------------------------------------------------------------


@pytest.mark.parametrize("metric", [entropy, least_confidence, margin])
@pytest.mark.parametrize("shape", [(4,), (1, 2, 3, 2)])
def test_proba_metrics_reject_bad_ndim(metric, shape):
    with pytest.raises(ValueError, match=rf"proba must have shape .*got \({shape[0]},"):
        metric(np.full(shape, 0.5))


@pytest.mark.parametrize(
    "call",
    [
        lambda: el2n(np.full((3, 2), 0.5), [0, 1]),
        lambda: el2n(np.full((2, 3, 2), 0.5), [0, 1]),
        lambda: grand_last_layer(np.full((3, 2), 0.5), [0, 1], np.ones((3, 4))),
        lambda: aum(np.zeros((2, 3, 2)), [0, 1]),
        lambda: el2n(np.full((3, 2), 0.5), [[0, 1, 0]]),
    ],
    ids=["el2n", "el2n-stack", "grand", "aum", "el2n-2d-labels"],
)
def test_label_shape_mismatch_is_reported(call):
    with pytest.raises(ValueError, match=r"y must have shape \(3,\)"):
        call()


@pytest.mark.parametrize("labels", [[0, 2], [-1, 0]])
def test_labels_outside_class_range_are_rejected(labels):
    with pytest.raises(ValueError, match=r"y must hold class codes in \[0, 2\)"):
        el2n(np.full((2, 2), 0.5), labels)
    with pytest.raises(ValueError, match=r"y must hold class codes in \[0, 2\)"):
        aum(np.zeros((1, 2, 2)), labels)


def test_forgetting_rejects_non_2d():
    with pytest.raises(ValueError, match=r"correct must have shape \(n_epochs, n_samples\)"):
        forgetting([1, 0, 1])


@pytest.mark.parametrize("shape", [(3, 2), (1, 1, 3, 2)])
def test_aum_rejects_non_3d(shape):
    with pytest.raises(ValueError, match=r"logits must have shape \(n_epochs, n_samples"):
        aum(np.zeros(shape), [0, 1, 0])
