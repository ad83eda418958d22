"""Tests for skprune.sampling: budgets, class floors, rule semantics and inclusion probabilities."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skprune.sampling import (
    STRATEGIES,
    Selection,
    SIMSRule,
    coreset_size,
    select,
    select_ccs,
    select_easy,
    select_hard,
    select_moderate,
    select_random,
    select_sims,
    sims_density,
)

CLASS_BALANCES = ["global", "hybrid", "proportional", 0.3]
RANDOM_STRATEGIES = ["random", "ccs"]
DETERMINISTIC_STRATEGIES = ["easy", "hard", "moderate"]


@pytest.fixture
def imbalanced():
    """97 samples in 3 imbalanced classes, with tied scores."""
    rng = np.random.default_rng(42)
    y = np.repeat([0, 1, 2], [60, 30, 7])
    rng.shuffle(y)
    scores = np.round(rng.random(y.size), 1)  # only 11 distinct values: many ties
    return scores, y


@pytest.fixture
def ten_classes():
    """500 samples, 10 classes of 50; class 9 holds all the highest scores."""
    y = np.repeat(np.arange(10), 50)
    scores = np.arange(500.0)
    return scores, y


# --- coreset_size and the budget -------------------------------------------------------------


@pytest.mark.parametrize(
    "n, ratio, expected",
    [(1000, 0.7, 300), (10, 0.0, 10), (10, 0.25, 8), (7, 0.5, 4), (3, 0.9, 1), (100, 0.999, 1)],
)
def test_coreset_size(n, ratio, expected):
    assert coreset_size(n, ratio) == expected


def test_a_budget_is_needed():
    with pytest.raises(ValueError, match="give pruning_ratio .* or n_keep"):
        select("random", None, [0, 1, 0, 1])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_n_keep_keeps_exactly_that_many(strategy):
    scores = np.random.default_rng(0).random(40)
    y = np.repeat([0, 1], 20)
    for n_keep in (1, 7, 40):
        sel = select(strategy, scores, y, n_keep=n_keep, min_per_class=0, random_state=0)
        assert sel.indices.size == n_keep
    with pytest.raises(ValueError, match=r"n_keep must be in \[1, 40\]"):
        select(strategy, scores, y, n_keep=41)


@pytest.mark.parametrize("ratio", [1.0, 1.2, -0.1, float("nan"), "0.5"])
def test_pruning_ratio_outside_range_is_rejected(ratio):
    with pytest.raises(ValueError, match=r"pruning_ratio .*must be in \[0, 1\)"):
        select("random", None, [0, 1, 0, 1], ratio)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("class_balance", CLASS_BALANCES)
@pytest.mark.parametrize("ratio", [0.0, 0.1, 0.5, 0.73, 0.9, 0.95])
def test_budget_is_exact(imbalanced, strategy, class_balance, ratio):
    scores, y = imbalanced
    sel = select(strategy, scores, y, ratio, class_balance=class_balance, random_state=0)
    assert isinstance(sel, Selection)
    assert len(sel.indices) == round((1 - ratio) * y.size)
    assert np.all(np.diff(sel.indices) > 0)  # sorted and unique
    assert sel.indices.min() >= 0 and sel.indices.max() < y.size


@pytest.mark.parametrize("class_balance", CLASS_BALANCES)
@pytest.mark.parametrize("ratio", [0.3, 0.8])
def test_budget_is_exact_for_ccs_with_hard_fraction(imbalanced, class_balance, ratio):
    scores, y = imbalanced
    sel = select_ccs(scores, y, ratio, hard_fraction=0.2, n_strata=5, class_balance=class_balance)
    assert len(sel.indices) == round((1 - ratio) * y.size)
    assert np.unique(sel.indices).size == sel.indices.size


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("class_balance", CLASS_BALANCES)
def test_ratio_zero_keeps_everything(imbalanced, strategy, class_balance):
    scores, y = imbalanced
    sel = select(strategy, scores, y, 0.0, class_balance=class_balance, random_state=0)
    assert_array_equal(sel.indices, np.arange(y.size))


# --- per-class floor ------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("class_balance", CLASS_BALANCES)
def test_per_class_floor_holds_at_high_ratio(ten_classes, strategy, class_balance):
    scores, y = ten_classes
    sel = select(strategy, scores, y, 0.98, class_balance=class_balance, random_state=0)
    assert len(sel.indices) == 10
    assert_array_equal(np.bincount(y[sel.indices], minlength=10), np.ones(10))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_min_per_class_above_one(ten_classes, strategy):
    scores, y = ten_classes
    sel = select(strategy, scores, y, 0.9, class_balance="global", min_per_class=3, random_state=0)
    assert len(sel.indices) == 50
    assert np.bincount(y[sel.indices], minlength=10).min() >= 3


def test_floor_is_capped_by_class_size():
    # Class 1 has 2 samples; min_per_class=5 keeps both, not an error.
    y = np.r_[np.zeros(18, int), np.ones(2, int)]
    sel = select_hard(np.r_[np.arange(18.0) + 10, [0.0, 1.0]], y, 0.5, min_per_class=5)
    assert len(sel.indices) == 10
    assert_array_equal(np.bincount(y[sel.indices]), [8, 2])


@pytest.mark.parametrize(
    "ratio, min_per_class, suggestion",
    [(0.99, 1, "pruning_ratio <= 0.98"), (0.9, 6, "pruning_ratio <= 0.88")],
)
def test_budget_below_class_floors_is_an_error(ten_classes, ratio, min_per_class, suggestion):
    scores, y = ten_classes
    with pytest.raises(ValueError, match=rf"pruning_ratio={ratio} keeps .* 10 classes") as info:
        select("hard", scores, y, ratio, min_per_class=min_per_class)
    assert suggestion in str(info.value)


def test_suggested_ratio_is_feasible(ten_classes):
    scores, y = ten_classes
    sel = select("hard", scores, y, 0.98, min_per_class=1)
    assert len(sel.indices) == 10


def test_suggested_ratio_is_feasible_where_rounding_up_would_not_be():
    # 1 - 7/20000 = 0.99965; printed to 4 digits it would read 0.9997, which keeps 6.
    y = np.arange(20000) % 7
    with pytest.raises(ValueError, match=r"pruning_ratio <= 0\.99965 ") as info:
        select("random", None, y, 0.9999)
    suggested = float(str(info.value).split("pruning_ratio <= ")[1].split()[0])
    assert np.unique(y[select("random", None, y, suggested).indices]).size == 7


@pytest.mark.parametrize("strategy", ["random", "sims"])
def test_equal_classes_share_the_odd_sample_at_random(strategy):
    # Two equal classes and an odd class part: in a fixed order the first class
    # would always get the extra sample (5.5 vs 4.5 kept on average).
    y = np.repeat(["a", "b"], 10)
    kept_a = [
        np.sum(y[select(strategy, np.full(20, 0.5), y, 0.5, random_state=seed).indices] == "a")
        for seed in range(400)
    ]
    assert abs(np.mean(kept_a) - 5.0) < 0.15


def test_tie_breaking_of_class_quotas_leaves_the_random_stream_as_it_was():
    y = np.repeat([0, 1], 10)
    first = select("random", None, y, 0.5, random_state=np.random.default_rng(3))
    again = select("random", None, y, 0.5, random_state=np.random.default_rng(3))
    assert_array_equal(first.indices, again.indices)


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "params", "match"),
    [
        ("sims", {"foo": 1}, r"strategy 'sims' has no parameter\(s\) \['foo'\]; it takes \['mean"),
        ("hard", {"hard_fraction": 0.1}, r"strategy 'hard' has no parameter.*it takes none"),
        ("ccs", {"n_strat": 5}, r"it takes \['hard_fraction', 'n_strata'\]"),
    ],
)
def test_unknown_rule_parameters_are_named(strategy, params, match):
    with pytest.raises(ValueError, match=match):
        select(strategy, np.arange(20.0), np.arange(20) % 2, 0.5, **params)


def test_two_dimensional_scores_are_named():
    with pytest.raises(ValueError, match=r"scores must be 1-D .* got shape \(4, 1\)"):
        select("hard", np.zeros((4, 1)), [0, 0, 1, 1], 0.5)


def test_unknown_strategy_is_rejected():
    with pytest.raises(ValueError, match=r"unknown strategy 'hardest'; choose one of \['random'"):
        select("hardest", [0.0, 1.0], [0, 1], 0.5)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_scores_are_rejected(bad):
    with pytest.raises(ValueError, match="scores contain NaN or infinite values"):
        select("hard", [0.0, bad, 1.0, 2.0], [0, 0, 1, 1], 0.5)


def test_length_mismatch_is_rejected():
    with pytest.raises(ValueError, match="scores and y must have the same length, got 3 and 4"):
        select("hard", [0.0, 1.0, 2.0], [0, 0, 1, 1], 0.5)


def test_two_dimensional_y_is_rejected():
    with pytest.raises(ValueError, match=r"y must be 1-D, got shape \(2, 2\)"):
        select("hard", [0.0, 1.0, 2.0, 3.0], [[0, 0], [1, 1]], 0.5)


@pytest.mark.parametrize("strategy", DETERMINISTIC_STRATEGIES + ["ccs"])
def test_scores_required_except_for_random(strategy):
    with pytest.raises(ValueError, match=rf"strategy '{strategy}' needs scores"):
        select(strategy, None, [0, 0, 1, 1], 0.5)


@pytest.mark.parametrize("class_balance", ["balanced", 1.5, -0.1, None])
def test_bad_class_balance_is_rejected(class_balance):
    with pytest.raises(ValueError, match="class_balance must be one of"):
        select("random", None, [0, 0, 1, 1], 0.5, class_balance=class_balance)


@pytest.mark.parametrize("min_per_class", [-1, 1.5, "1"])
def test_bad_min_per_class_is_rejected(min_per_class):
    with pytest.raises(ValueError, match="min_per_class must be a non-negative integer"):
        select("random", None, [0, 0, 1, 1], 0.5, min_per_class=min_per_class)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hard_fraction": 1.0}, r"hard_fraction must be in \[0, 1\)"),
        ({"hard_fraction": -0.1}, r"hard_fraction must be in \[0, 1\)"),
        ({"n_strata": 0}, "n_strata must be a positive integer"),
        ({"n_strata": 2.5}, "n_strata must be a positive integer"),
    ],
)
def test_bad_ccs_parameters_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        select_ccs([0.0, 1.0, 2.0, 3.0], [0, 0, 1, 1], 0.5, **kwargs)


# --- determinism ----------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", RANDOM_STRATEGIES)
@pytest.mark.parametrize("class_balance", CLASS_BALANCES)
def test_same_seed_same_selection_other_seed_differs(imbalanced, strategy, class_balance):
    scores, y = imbalanced
    # Spread scores so CCS has many strata to sample inside.
    scores = scores + np.linspace(0, 0.09, y.size)
    first = select(strategy, scores, y, 0.5, class_balance=class_balance, random_state=7)
    again = select(strategy, scores, y, 0.5, class_balance=class_balance, random_state=7)
    other = select(strategy, scores, y, 0.5, class_balance=class_balance, random_state=8)
    assert_array_equal(first.indices, again.indices)
    assert not np.array_equal(first.indices, other.indices)


def test_generator_and_random_state_objects_are_accepted(imbalanced):
    _, y = imbalanced
    from_int = select_random(y, 0.5, random_state=3).indices
    from_generator = select_random(y, 0.5, random_state=np.random.default_rng(3)).indices
    assert_array_equal(from_int, from_generator)
    from_legacy = select_random(y, 0.5, random_state=np.random.RandomState(3)).indices
    again_legacy = select_random(y, 0.5, random_state=np.random.RandomState(3)).indices
    assert_array_equal(from_legacy, again_legacy)


@pytest.mark.parametrize("strategy", DETERMINISTIC_STRATEGIES)
def test_deterministic_rules_ignore_the_seed_without_ties(imbalanced, strategy):
    _, y = imbalanced
    scores = np.random.default_rng(3).permutation(y.size).astype(float)  # all distinct
    a = select(strategy, scores, y, 0.6, random_state=0)
    b = select(strategy, scores, y, 0.6, random_state=1)
    assert_array_equal(a.indices, b.indices)


@pytest.mark.parametrize("strategy", DETERMINISTIC_STRATEGIES)
def test_ties_are_broken_at_random_not_by_row_order(strategy):
    # Forgetting-like scores: almost all tied at 0.
    scores = np.r_[np.zeros(90), np.arange(1.0, 11.0)]
    y = np.zeros(100, dtype=int)
    picks = [select(strategy, scores, y, 0.7, random_state=s).indices for s in range(4)]
    # the same scores are kept whatever the seed ...
    for p in picks[1:]:
        assert_array_equal(np.sort(scores[p]), np.sort(scores[picks[0]]))
    # ... but which of the tied samples varies
    assert len({tuple(p) for p in picks}) > 1


# --- rule semantics -------------------------------------------------------------------------


@pytest.mark.parametrize("class_balance", CLASS_BALANCES)
def test_hard_keeps_highest_scores(class_balance):
    # Scores interleave the classes, so the global top 6 hold both classes.
    y = np.tile([0, 1], 10)
    scores = np.arange(20.0)
    sel = select_hard(scores, y, 0.7, class_balance=class_balance)
    assert_array_equal(sel.indices, np.arange(14, 20))


@pytest.mark.parametrize("class_balance", CLASS_BALANCES)
def test_easy_keeps_lowest_scores(class_balance):
    y = np.tile([0, 1], 10)
    scores = np.arange(20.0)[::-1]
    sel = select_easy(scores, y, 0.7, class_balance=class_balance)
    assert_array_equal(sel.indices, np.arange(14, 20))


def test_hard_and_easy_within_classes():
    # Class 0 scores 0..9, class 1 scores 100..109; proportional quotas 3 and 3.
    y = np.repeat([0, 1], 10)
    scores = np.r_[np.arange(10.0), np.arange(100.0, 110.0)]
    hard = select_hard(scores, y, 0.7, class_balance="proportional")
    easy = select_easy(scores, y, 0.7, class_balance="proportional")
    assert_array_equal(hard.indices, [7, 8, 9, 17, 18, 19])
    assert_array_equal(easy.indices, [0, 1, 2, 10, 11, 12])


def test_hard_global_respects_floor_then_takes_global_top():
    # Class 1 is all easy: "global" keeps its single hardest sample, the rest is the global top.
    y = np.repeat([0, 1], 10)
    scores = np.r_[np.arange(100.0, 110.0), np.arange(10.0)]
    sel = select_hard(scores, y, 0.7, class_balance="global")
    assert_array_equal(sel.indices, [5, 6, 7, 8, 9, 19])


def test_moderate_keeps_scores_nearest_the_median():
    sel = select_moderate(np.arange(10.0), np.zeros(10), 0.6)
    # median 4.5: distances 0.5 for 4 and 5, 1.5 for 3 and 6.
    assert_array_equal(sel.indices, [3, 4, 5, 6])


def test_moderate_global_part_uses_the_median_of_all_scores():
    # Class medians 1, 3 and 30 fill the floors. The median of all scores is 4, so the
    # global part adds 4 (distance 0) and 2 (distance 2); the median of the samples left
    # over (6) would have added 8 instead of 2.
    scores = np.array([0.0, 1.0, 8.0, 2.0, 3.0, 20.0, 4.0, 30.0, 40.0])
    y = np.repeat([0, 1, 2], 3)
    sel = select_moderate(scores, y, 0.45, class_balance="global")
    assert_array_equal(sel.indices, [1, 3, 4, 6, 7])


def test_moderate_uses_class_median_then_global_median():
    y = np.repeat([0, 1], 5)
    scores = np.r_[np.arange(5.0), np.arange(10.0, 15.0)]
    # Class medians 2 and 12; proportional quotas 2 and 2: the median and one of
    # its two equally close neighbours (ties broken at random).
    proportional = select_moderate(scores, y, 0.6, class_balance="proportional")
    kept = set(proportional.indices.tolist())
    assert {2, 7} <= kept and len(kept & {1, 3}) == 1 and len(kept & {6, 8}) == 1
    # "global": one per class (scores 2 and 12), then 2 nearest the global median 7: 4 and 10.
    global_ = select_moderate(scores, y, 0.6, class_balance="global")
    assert_array_equal(global_.indices, [2, 4, 5, 7])


def test_ccs_covers_sparse_strata():
    scores = np.r_[np.zeros(90), np.ones(10)]
    sel = select_ccs(scores, np.zeros(100), 0.8, n_strata=2, random_state=0)
    assert len(sel.indices) == 20
    assert int((scores[sel.indices] == 1).sum()) == 10


def test_ccs_gives_each_stratum_an_equal_share_when_possible():
    # Five equally sized strata; keep 10 -> two from each.
    scores = np.repeat(np.arange(5.0), 20)
    sel = select_ccs(scores, np.zeros(100), 0.9, n_strata=5, class_balance="proportional")
    assert_array_equal(np.bincount(scores[sel.indices].astype(int)), [2, 2, 2, 2, 2])


@pytest.mark.parametrize("class_balance", CLASS_BALANCES)
def test_ccs_drops_the_hardest_fraction(class_balance):
    y = np.tile([0, 1], 50)
    scores = np.arange(100.0)
    sel = select_ccs(scores, y, 0.5, hard_fraction=0.2, class_balance=class_balance)
    assert len(sel.indices) == 50
    assert scores[sel.indices].max() < 80


def test_ccs_refills_with_least_hard_when_budget_exceeds_the_rest():
    # Keep 90 but only 80 survive the 20% cut: the 10 least hard of the cut ones come back.
    sel = select_ccs(
        np.arange(100.0), np.zeros(100), 0.1, hard_fraction=0.2, class_balance="proportional"
    )
    assert_array_equal(sel.indices, np.arange(90))


def test_labels_can_be_strings():
    y = np.array(["cat"] * 6 + ["dog"] * 3 + ["eel"])
    scores = np.arange(10.0)
    sel = select_hard(scores, y, 0.7, class_balance="global")
    assert_array_equal(sel.indices, [5, 8, 9])
    assert set(y[sel.indices]) == {"cat", "dog", "eel"}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_string_labels_with_every_strategy(strategy):
    y = np.array(["b", "a", "c"] * 10, dtype=object)
    sel = select(strategy, np.linspace(0, 1, 30), y, 0.9, random_state=0)
    assert len(sel.indices) == 3
    assert sorted(y[sel.indices]) == ["a", "b", "c"]


# --- inclusion probabilities ----------------------------------------------------------------


@pytest.mark.parametrize("strategy", DETERMINISTIC_STRATEGIES)
def test_deterministic_rules_have_no_probabilities(imbalanced, strategy):
    scores, y = imbalanced
    assert select(strategy, scores, y, 0.5).probabilities is None


@pytest.mark.parametrize("class_balance", CLASS_BALANCES)
@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.77, 0.95])
def test_random_probabilities_sum_to_budget(imbalanced, class_balance, ratio):
    _, y = imbalanced
    sel = select_random(y, ratio, class_balance=class_balance, random_state=0)
    assert sel.probabilities.shape == (y.size,)
    assert np.all((sel.probabilities >= 0) & (sel.probabilities <= 1))
    assert_allclose(sel.probabilities.sum(), round((1 - ratio) * y.size))


@pytest.mark.parametrize(
    "class_balance, p0, p1",
    [
        ("proportional", 0.5, 0.5),
        # Floors of 1 per class, then 3 drawn from the other 8: 1/6 + 5/6 * 3/8, 1/4 + 3/4 * 3/8.
        ("global", 23 / 48, 17 / 32),
    ],
)
def test_random_probabilities_hand_computed(class_balance, p0, p1):
    sel = select_random([0] * 6 + [1] * 4, 0.5, class_balance=class_balance, random_state=0)
    assert_allclose(sel.probabilities, [p0] * 6 + [p1] * 4)


def test_ccs_takes_the_rare_stratum_whole_and_reports_no_probabilities():
    # Keep 4: the 2-sample stratum is taken whole, the other gets 2 of 6.
    scores = np.r_[np.zeros(6), np.ones(2)]
    sel = select_ccs(scores, np.zeros(8), 0.5, n_strata=2, class_balance="proportional")
    assert {6, 7} <= set(sel.indices.tolist())
    # a coverage rule, not an importance sampler: unit weights downstream
    assert sel.probabilities is None


@pytest.mark.parametrize("seed", range(5))
def test_ccs_never_keeps_dropped_hard_samples(seed):
    scores = np.arange(10.0)
    sel = select_ccs(
        scores,
        np.zeros(10),
        0.5,
        hard_fraction=0.2,
        n_strata=2,
        class_balance="proportional",
        random_state=seed,
    )
    assert sel.indices.max() < 8 and sel.indices.size == 5


SMALL_Y = np.repeat([0, 1], [12, 8])
SMALL_SCORES = np.r_[np.linspace(0, 1, 12) ** 2, np.linspace(0, 1, 8)]
N_DRAWS = 2000


def _inclusion_frequency(strategy, class_balance, ratio, **params):
    # Probabilities are conditional on the draw's random order of tied scores (and of
    # classes tied for the odd samples): their mean over draws is the marginal frequency.
    counts = np.zeros(SMALL_Y.size)
    probabilities = np.zeros(SMALL_Y.size)
    for seed in range(N_DRAWS):
        sel = select(
            strategy,
            SMALL_SCORES,
            SMALL_Y,
            ratio,
            class_balance=class_balance,
            random_state=seed,
            **params,
        )
        counts[sel.indices] += 1
        probabilities += sel.probabilities
    return counts / N_DRAWS, probabilities / N_DRAWS


@pytest.mark.parametrize(
    "strategy, class_balance, params",
    [
        ("random", "global", {}),
        ("random", "hybrid", {}),
        ("random", "proportional", {}),
        ("random", 0.3, {}),
        ("sims", "global", {}),
        ("sims", "proportional", {}),
        ("sims", "hybrid", {}),
    ],
)
def test_empirical_inclusion_frequency_matches_probabilities(strategy, class_balance, params):
    frequency, probabilities = _inclusion_frequency(strategy, class_balance, 0.6, **params)
    # Binomial standard error is at most 0.5 / sqrt(2000) ~ 0.011.
    assert_allclose(frequency, probabilities, atol=0.045)


def test_empty_labels_are_named():
    with pytest.raises(ValueError, match="y is empty"):
        select("random", None, [], 0.5)


# --- class-difficulty-aware budget ------------------------------------------------------


@pytest.mark.parametrize("strategy", ["random", "hard", "sims"])
def test_class_difficulty_gives_hard_classes_more(strategy):
    y = np.repeat([0, 1], 100)
    scores = np.arange(200.0)  # class 1 holds every harder sample
    kept = {}
    for weight in (0.0, 1.0):
        sel = select(
            strategy,
            scores,
            y,
            0.5,
            class_balance="proportional",
            class_difficulty=weight,
            random_state=0,
        )
        assert sel.indices.size == 100
        kept[weight] = np.bincount(y[sel.indices], minlength=2)
    assert kept[0.0].tolist() == [50, 50]
    # mean quantiles 0.25 / 0.75 → shares 0.5·100 : 1.5·100
    assert kept[1.0].tolist() == [25, 75]


def test_class_difficulty_keeps_floors_and_validates():
    y = np.repeat([0, 1, 2], [5, 100, 100])
    scores = np.r_[np.zeros(5), np.linspace(0, 1, 200)]
    sel = select("hard", scores, y, 0.9, class_balance=1.0, class_difficulty=1.0, min_per_class=2)
    assert sel.indices.size == 20 and np.bincount(y[sel.indices]).min() >= 2
    with pytest.raises(ValueError, match="class_difficulty must be in"):
        select("hard", scores, y, 0.5, class_difficulty=1.5)
    with pytest.raises(ValueError, match="class_difficulty needs scores"):
        select("random", None, y, 0.5, class_difficulty=0.5)


# --- SIMS: hard cut, floor, cut scope -------------------------------------------------------

DEFAULT_SIMS = {  # the defaults, spelled out
    "mean_start": 0.714,
    "mean_end": 0.714,
    "concentration": 3.5,
    "cut_start": 0.0,
    "cut_end": 0.05,
}
LEGACY_SIMS = {  # the defaults until round 7 of docs/benchmarks.md
    "mean_start": 0.7,
    "mean_end": 0.35,
    "concentration": 4.0,
    "cut_start": 0.0,
    "cut_end": 0.0,
}
TILTCUT_SIMS = {  # the candidate of docs/benchmarks.md's further rounds
    "mean_start": 0.6,
    "mean_end": 0.6,
    "concentration": 2.0,
    "cut_start": 0.05,
    "cut_end": 0.2,
}
CUT_SIMS = {"cut_start": 0.1, "cut_end": 0.3}


def test_sims_density_cut_stretches_the_beta_over_the_kept_quantiles():
    from scipy.stats import beta

    u = np.linspace(0.01, 0.99, 99)
    params = {"mean_start": 0.6, "mean_end": 0.6, "concentration": 3.0}
    d = sims_density(u, 0.5, **params, cut_start=0.1, cut_end=0.3)  # cut 0.2 at α = 0.5
    inside = u < 0.8
    assert np.all(d[~inside] == 0)
    assert_allclose(d[inside], beta.pdf(u[inside] / 0.8, 1.8, 1.2))


def test_sims_density_floor_mixes_in_a_uniform_term():
    from scipy.stats import beta

    u = np.linspace(0.01, 0.99, 99)
    params = {
        "mean_start": 0.5,
        "mean_end": 0.3,
        "concentration": 4.0,
        "cut_start": 0.0,
        "cut_end": 0.0,
    }
    d = sims_density(u, 1.0 - 1e-12, **params, floor_start=0.0, floor_end=0.5)
    assert_allclose(d, 0.5 * beta.pdf(u, 1.2, 2.8) + 0.5, rtol=1e-6)
    # a floor of 1 is uniform over the kept quantiles
    flat = sims_density(u, 0.5, floor_start=1.0, floor_end=1.0, cut_start=0.2, cut_end=0.2)
    assert_array_equal(flat, np.where(u < 0.8, 1.0, 0.0))  # a sample exactly at the cut is cut
    assert np.all(np.isfinite(sims_density(np.array([0.0, 0.5, 0.8, 1.0]), 0.5)))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"cut_start": 1.0, "cut_end": 1.0}, "hard cut must stay in"),
        ({"cut_end": -0.1}, "hard cut must stay in"),
        ({"floor_end": 1.5}, "floor must stay in"),
        ({"mean_start": 1.0, "mean_end": 1.0}, "density mean must stay in"),
        ({"concentration": 0}, "concentration must be a positive number, got 0"),
        ({"concentration": np.nan}, "concentration must be a positive number"),
        ({"gamma": -1.0}, "gamma must be a non-negative number, got -1.0"),
    ],
)
def test_sims_density_schedule_is_validated(params, message):
    with pytest.raises(ValueError, match=message):
        sims_density(np.array([0.5]), 0.99, **params)


def test_an_invalid_concentration_fails_instead_of_sampling_uniformly():
    # A NaN density used to turn SIMS, hard cut included, into uniform sampling.
    with pytest.raises(ValueError, match="concentration"):
        select("sims", np.arange(20.0), np.arange(20) % 2, 0.5, concentration=0, label_noise=0.3)


@pytest.mark.parametrize("ratio", [-0.1, 1.5])
def test_sims_density_rejects_a_pruning_ratio_outside_0_1(ratio):
    with pytest.raises(ValueError, match=rf"pruning_ratio must be in \[0, 1\], got {ratio}"):
        sims_density(np.array([0.5]), ratio)


@pytest.mark.parametrize("strata", [0, -3, 2.5, True, "50"])
def test_sims_rejects_bad_strata(strata):
    with pytest.raises(ValueError, match="strata must be None or a positive integer"):
        select("sims", np.arange(10.0), np.zeros(10), 0.5, strata=strata)


@pytest.mark.parametrize("class_balance", CLASS_BALANCES)
def test_sims_strata_spread_a_flat_density_over_the_score_range(class_balance):
    # A loss-like score crowds most samples at the easy end. Without strata a flat density
    # keeps the crowd in proportion; with strata the coreset covers the range evenly, as CCS.
    rng = np.random.default_rng(0)
    scores = rng.exponential(size=4000)
    y = rng.integers(0, 4, scores.size)
    flat = {"mean_start": 0.5, "mean_end": 0.5, "concentration": 2.0, "cut_end": 0.0}
    edges = np.linspace(scores.min(), np.quantile(scores, 0.99), 6)
    common = dict(class_balance=class_balance, random_state=0, **flat)
    plain = select("sims", scores, y, 0.9, **common)
    spread = select("sims", scores, y, 0.9, strata=20, **common)
    assert plain.indices.size == spread.indices.size == 400
    assert spread.probabilities.sum() == pytest.approx(400)
    plain_counts = np.histogram(scores[plain.indices], edges)[0]
    spread_counts = np.histogram(scores[spread.indices], edges)[0]
    # Plain: the first fifth of the range holds more than half the coreset; spread: ~a fifth.
    assert plain_counts[0] > 0.5 * plain_counts.sum()
    assert spread_counts[0] < 0.35 * spread_counts.sum()
    assert spread_counts.min() > 0.5 * spread_counts.mean()


def test_sims_strata_change_nothing_on_equally_spaced_scores():
    # Every stratum then holds the same number of samples: the weights only rescale.
    y = np.repeat([0, 1], 100)
    scores = np.r_[np.arange(100.0), np.arange(100.0)]
    base = select("sims", scores, y, 0.7, class_balance="proportional", random_state=3)
    spread = select("sims", scores, y, 0.7, class_balance="proportional", random_state=3, strata=10)
    assert_allclose(spread.probabilities, base.probabilities)
    assert_array_equal(spread.indices, base.indices)


def test_sims_clusters_keep_each_clusters_expected_count():
    # 4 classes x 5 clusters: a random order lets a cluster's count stray from its expected
    # count by 2 or more; the clustered order rounds it, and the probabilities do not change.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 2000)
    scores = rng.random(y.size)
    clusters = rng.integers(0, 5, y.size) + 10  # any integer labels
    groups = y * 5 + clusters - 10
    worst = {}
    for name, extra in (("random order", {}), ("clustered", {"clusters": clusters})):
        deviation = 0.0
        for seed in range(30):
            sel = select("sims", scores, y, 0.8, random_state=seed, **extra)
            expected = np.bincount(groups, weights=sel.probabilities, minlength=20)
            counts = np.bincount(groups[sel.indices], minlength=20)
            deviation = max(deviation, np.abs(counts - expected).max())
            if extra:
                plain = select("sims", scores, y, 0.8, random_state=seed)
                assert_allclose(sel.probabilities, plain.probabilities)
                assert sel.indices.size == plain.indices.size == 400
        worst[name] = deviation
    assert worst["clustered"] < 1.0
    assert worst["random order"] >= 2.0


@pytest.mark.parametrize(
    "clusters",
    [np.zeros(9, dtype=int), np.zeros(10), np.zeros((10, 1), dtype=int)],
    ids=["short", "float", "2d"],
)
def test_sims_rejects_bad_clusters(clusters):
    with pytest.raises(ValueError, match=r"clusters must be integer labels of shape \(10,\)"):
        select("sims", np.arange(10.0), np.zeros(10), 0.5, clusters=clusters)


def test_sims_class_cut_scope_is_deprecated():
    with pytest.warns(FutureWarning, match='cut_scope="class" is deprecated'):
        select("sims", np.arange(10.0), np.repeat([0, 1], 5), 0.5, cut_scope="class")


def test_sims_rejects_an_unknown_cut_scope():
    with pytest.raises(ValueError, match="cut_scope must be"):
        select("sims", np.arange(10.0), np.zeros(10), 0.5, cut_scope="everywhere")


@pytest.mark.parametrize("class_balance", CLASS_BALANCES)
@pytest.mark.parametrize("ratio", [0.5, 0.9])
def test_sims_global_cut_never_keeps_the_hardest(class_balance, ratio):
    y = np.repeat([0, 1, 2, 3], 100)
    scores = np.random.default_rng(0).permutation(y.size).astype(float)
    cut = 0.1 + 0.2 * ratio
    class_quantile = np.zeros(y.size)
    for c in range(4):
        members = np.flatnonzero(y == c)
        class_quantile[members] = (np.argsort(np.argsort(scores[members])) + 0.5) / members.size
    global_quantile = (np.argsort(np.argsort(scores)) + 0.5) / y.size
    for seed in range(5):
        sel = select("sims", scores, y, ratio, class_balance=class_balance, random_state=seed)
        sel_cut = select(
            "sims", scores, y, ratio, class_balance=class_balance, random_state=seed, **CUT_SIMS
        )
        assert sel.indices.size == sel_cut.indices.size == round((1 - ratio) * y.size)
        kept = sel_cut.indices
        # Class quotas use within-class quantiles, the rest global ones: a sample above the
        # cut in both is never kept; with only class quotas the class quantile decides.
        assert np.all((class_quantile[kept] <= 1 - cut) | (global_quantile[kept] <= 1 - cut))
        if class_balance == "proportional":
            assert np.all(class_quantile[kept] <= 1 - cut)
        assert np.all(
            sel_cut.probabilities[(class_quantile > 1 - cut) & (global_quantile > 1 - cut)] == 0
        )


def test_sims_class_cut_scope_cuts_by_the_within_class_quantile():
    # Class 1 holds every hard sample; at α = 0.5 the cut is 0.2. A global cut keeps no score
    # from 160 up; a class cut keeps neither class's top 20% but does reach into 160-179.
    y = np.repeat([0, 1], 100)
    scores = np.arange(200.0)
    within = np.r_[np.arange(100), np.arange(100)] + 0.5
    scoped = {**CUT_SIMS, "cut_scope": "class"}
    reached = False
    for seed in range(5):
        for class_balance in ("global", "hybrid"):
            kwargs = dict(class_balance=class_balance, min_per_class=0, random_state=seed)
            glob = select("sims", scores, y, 0.5, **kwargs, **CUT_SIMS)
            kept = select("sims", scores, y, 0.5, **kwargs, **scoped).indices
            assert np.all(within[kept] / 100 < 0.8)
            if class_balance == "global":
                assert scores[glob.indices].max() < 160
                reached |= bool(np.any(scores[kept] >= 160))
    assert reached


@pytest.mark.parametrize("class_balance", CLASS_BALANCES)
@pytest.mark.parametrize("cut_scope", ["global", "class"])
def test_sims_cut_samples_fill_only_what_the_rest_cannot(class_balance, cut_scope):
    # Keeping 90% while cutting the hardest 30%: every uncut sample is kept, the rest fill in.
    y = np.repeat([0, 1], [60, 40])
    scores = np.random.default_rng(1).random(y.size)
    params = {"cut_start": 0.3, "cut_end": 0.3, "cut_scope": cut_scope}
    sel = select("sims", scores, y, 0.1, class_balance=class_balance, random_state=0, **params)
    assert sel.indices.size == 90
    assert sel.probabilities.sum() == pytest.approx(90)
    assert np.all((sel.probabilities >= 0) & (sel.probabilities <= 1 + 1e-12))
    assert_array_equal(
        select("sims", scores, y, 0.0, class_balance=class_balance, **params).indices,
        np.arange(100),
    )


@pytest.mark.parametrize(
    "params",
    [
        LEGACY_SIMS,
        TILTCUT_SIMS,
        CUT_SIMS,
        {**CUT_SIMS, "cut_scope": "class"},
        {"floor_start": 0.3},
        {**CUT_SIMS, "strata": 10},
        {"clusters": np.arange(SMALL_Y.size) % 3},
    ],
)
@pytest.mark.parametrize("class_balance", ["global", "hybrid", "proportional"])
def test_sims_variants_draw_with_their_inclusion_probabilities(params, class_balance):
    frequency, probabilities = _inclusion_frequency("sims", class_balance, 0.6, **params)
    assert_allclose(frequency, probabilities, atol=0.045)


@pytest.mark.parametrize(
    "params",
    [
        LEGACY_SIMS,
        TILTCUT_SIMS,
        CUT_SIMS,
        {**CUT_SIMS, "cut_scope": "class"},
        {"strata": 20},
        {"clusters": np.arange(500) % 7},
    ],
)
def test_sims_variants_are_deterministic_and_keep_class_floors(ten_classes, params):
    scores, y = ten_classes
    a = select("sims", scores, y, 0.95, random_state=5, min_per_class=2, **params)
    b = select("sims", scores, y, 0.95, random_state=5, min_per_class=2, **params)
    c = select("sims", scores, y, 0.95, random_state=6, min_per_class=2, **params)
    assert_array_equal(a.indices, b.indices)
    assert not np.array_equal(a.indices, c.indices)
    assert a.indices.size == 25
    assert np.bincount(y[a.indices], minlength=10).min() >= 2


def test_sims_rule_with_n_keep_samples_from_the_density_of_its_pruning_ratio(imbalanced):
    # Incremental steps keep n_keep samples each, all from the density of the overall ratio.
    scores, y = imbalanced
    u = np.linspace(0.05, 0.95, 7)
    assert_allclose(SIMSRule().density(u, 0.5), sims_density(u, 0.5))
    assert_allclose(
        SIMSRule(label_noise=0.1).density(u, 0.9),
        sims_density(u, 0.9, cut_start=0.1, cut_end=0.1),
    )
    at_half = SIMSRule().select(scores, y, 0.5, n_keep=30, random_state=0)
    at_most = SIMSRule().select(scores, y, 0.9, n_keep=30, random_state=0)
    assert at_half.indices.size == at_most.indices.size == 30
    assert not np.allclose(at_half.probabilities, at_most.probabilities)


def test_sims_defaults_are_the_documented_density(imbalanced):
    scores, y = imbalanced
    default = select("sims", scores, y, 0.7, random_state=2)
    spelled_out = select("sims", scores, y, 0.7, random_state=2, **DEFAULT_SIMS)
    assert_array_equal(default.indices, spelled_out.indices)
    assert_array_equal(default.probabilities, spelled_out.probabilities)


def test_sims_label_noise_widens_the_hard_cut_by_its_value(imbalanced):
    scores, y = imbalanced
    for ratio in (0.3, 0.8):
        noisy = select(
            "sims", scores, y, ratio, random_state=1, label_noise=0.15, cut_start=0.05, cut_end=0.1
        )
        cut = select("sims", scores, y, ratio, random_state=1, cut_start=0.2, cut_end=0.25)
        assert_array_equal(noisy.indices, cut.indices)
        assert_allclose(noisy.probabilities, cut.probabilities)
    none = select("sims", scores, y, 0.5, random_state=1, label_noise=None)
    assert_array_equal(none.indices, select("sims", scores, y, 0.5, random_state=1).indices)


def test_sims_label_noise_alone_is_the_cut_on_every_path(imbalanced):
    # With an estimate and no cut named, the estimate is the whole cut, whether
    # SIMS is reached through select, select_sims or a pinned incremental step
    # (the first once dropped the default cut while select_sims added it).
    scores, y = imbalanced
    for ratio in (0.3, 0.8):
        noise_only = select("sims", scores, y, ratio, random_state=1, label_noise=0.1)
        as_cut = select("sims", scores, y, ratio, random_state=1, cut_start=0.1, cut_end=0.1)
        direct = select_sims(scores, y, ratio, random_state=1, label_noise=0.1)
        pinned = SIMSRule(label_noise=0.1).select(scores, y, ratio, random_state=1)
        for selection in (as_cut, direct, pinned):
            assert_array_equal(noise_only.indices, selection.indices)
            assert_allclose(noise_only.probabilities, selection.probabilities)
    # Without an estimate, every path cuts the density's default 0 -> 0.05.
    default = select("sims", scores, y, 0.8, random_state=1)
    for selection in (
        select_sims(scores, y, 0.8, random_state=1),
        select("sims", scores, y, 0.8, random_state=1, label_noise=None, cut_end=None),
        SIMSRule().select(scores, y, 0.8, random_state=1),
        select("sims", scores, y, 0.8, random_state=1, cut_start=0.0, cut_end=0.05),
    ):
        assert_array_equal(default.indices, selection.indices)
        assert_allclose(default.probabilities, selection.probabilities)


@pytest.mark.parametrize(
    "label_noise, error, message",
    [
        (-0.1, ValueError, r"label_noise must be in \[0, 1\)"),
        (0.95, ValueError, "cuts the hardest 1.05 of the quantiles"),
        ("0.2", TypeError, "label_noise must be None or a number"),
        (True, TypeError, "label_noise must be None or a number"),
    ],
)
def test_sims_label_noise_is_validated(imbalanced, label_noise, error, message):
    scores, y = imbalanced
    with pytest.raises(error, match=message):
        select("sims", scores, y, 0.5, label_noise=label_noise, cut_start=0.1, cut_end=0.1)


# --- cuts of tied scores --------------------------------------------------------------------

TIED_TOP = np.r_[np.linspace(0.0, 0.5, 80), np.ones(20)]  # 20 samples tied at the top


@pytest.mark.parametrize("hard_fraction", [0.05, 0.1, 0.15])
@pytest.mark.parametrize("seed", [0, 1])
def test_ccs_cuts_exactly_the_hard_fraction_of_tied_scores(hard_fraction, seed):
    # A quantile threshold kept the whole tied block (cut 0 of the 5-15 asked).
    n_cut = round(hard_fraction * TIED_TOP.size)
    sel = select_ccs(
        TIED_TOP, np.zeros(100), 0.5, hard_fraction=hard_fraction, n_strata=2, random_state=seed
    )
    # The small stratum (the tied block left after the cut) is kept whole.
    assert np.count_nonzero(TIED_TOP[sel.indices] == 1) == 20 - n_cut


def test_ccs_tied_cut_is_random_and_seeded():
    kept = [
        select_ccs(TIED_TOP, np.zeros(100), 0.5, hard_fraction=0.1, random_state=s).indices
        for s in (0, 0, 1)
    ]
    assert_array_equal(kept[0], kept[1])
    assert not np.array_equal(kept[0], kept[2])


@pytest.mark.parametrize("label_noise", [0.05, 0.1, 0.15])
@pytest.mark.parametrize("class_balance", ["global", "hybrid", "proportional"])
def test_sims_label_noise_cut_takes_exactly_its_share_of_tied_scores(label_noise, class_balance):
    # Mid-rank quantiles gave the tied block one quantile: 0.05 cut none, 0.10 all 20.
    sel = select_sims(
        TIED_TOP,
        np.zeros(100),
        0.5,
        label_noise=label_noise,
        class_balance=class_balance,
        random_state=0,
    )
    assert np.count_nonzero(sel.probabilities == 0) == round(label_noise * 100)
    assert np.all(sel.probabilities[:80] > 0)
