"""The simple rules: random, easy, hard, moderate and CCS, each on one pool of candidates."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from ._base import PoolRule
from ._budget import _hardest

# --- rules on one pool -------------------------------------------------------
# A rule gets the scores of the candidate pool, the reference scores that define
# quantiles/strata (the class or the whole data set) and the number to pick; it
# returns positions into the pool and, for random rules, a function giving the
# probability that a sample with a given score is drawn by this call (None for
# deterministic rules).


def _rule_random(pool, reference, k, rng, pruning_ratio):
    return rng.choice(pool.size, size=k, replace=False), lambda s: np.full(len(s), k / pool.size)


def _smallest(keys, k, rng):
    # Ties (e.g. the many zero forgetting counts) are broken at random, not by row order.
    shuffled = rng.permutation(keys.size)
    return shuffled[np.argsort(keys[shuffled], kind="stable")[:k]]


def _rule_hard(pool, reference, k, rng, pruning_ratio):
    return _smallest(-pool, k, rng), None


def _rule_easy(pool, reference, k, rng, pruning_ratio):
    return _smallest(pool, k, rng), None


def _rule_moderate(pool, reference, k, rng, pruning_ratio):
    return _smallest(np.abs(pool - np.median(reference)), k, rng), None


def _equal_width_strata(values, n_strata, reference):
    """Stratum (0 to ``n_strata`` − 1) of each value over the range of ``reference``, equal widths.

    A constant reference puts every value in stratum 0.
    """
    low, high = reference.min(), reference.max()
    if not high > low:
        return np.zeros(np.shape(values), dtype=int)
    position = (values - low) / (high - low)
    return np.clip((position * n_strata).astype(int), 0, n_strata - 1)


def _check_ccs_parameters(hard_fraction=0.0, n_strata=50):
    if not (isinstance(hard_fraction, Real) and 0.0 <= hard_fraction < 1.0):
        raise ValueError(f"hard_fraction must be in [0, 1), got {hard_fraction!r}")
    if not isinstance(n_strata, Integral) or n_strata < 1:
        raise ValueError(f"n_strata must be a positive integer, got {n_strata!r}")


def _rule_ccs(
    pool, reference, k, rng, pruning_ratio, hard_fraction=0.0, n_strata=50, cut=None, cut_all=None
):
    # CCS is a coverage rule, not an importance sampler: it reports no inclusion
    # probabilities, so its coreset gets unit weights. ``cut`` marks the pool's
    # samples in the hard cut, ``cut_all`` the reference's (see _hardest).
    candidates = np.arange(pool.size)
    if cut is not None and cut.any():
        reference = reference[~cut_all]
        kept = candidates[~cut]
        if kept.size < k:  # too few left: give back the least hard of the cut ones
            dropped = candidates[cut]
            least_hard = dropped[np.argsort(pool[dropped], kind="stable")]
            kept = np.concatenate([kept, least_hard[: k - kept.size]])
        candidates = kept
    if reference.size == 0:  # all of the reference was cut: strata over what is left
        reference = pool[candidates]
    # Strata split the reference's score range (the class's, or all samples').
    strata = _equal_width_strata(pool[candidates], n_strata, reference)
    members = sorted((candidates[strata == s] for s in np.unique(strata)), key=len)
    chosen, budget = [], k
    for i, m in enumerate(members):
        take = min(m.size, budget // (len(members) - i))
        chosen.append(rng.choice(m, size=take, replace=False))
        budget -= take
    return np.concatenate(chosen), None


# --- the rules as objects -------------------------------------------------------------


class RandomRule(PoolRule):
    """Uniform random selection (stratified by ``class_balance``); the baseline to beat.

    Examples
    --------
    >>> from skprune.sampling import RandomRule
    >>> selection = RandomRule().select(None, [0] * 6 + [1] * 4, 0.5, random_state=0)
    >>> len(selection.indices), float(selection.probabilities.sum())
    (5, 5.0)
    """

    name = "random"
    requires_scores = False

    def _pick(self, pool, reference, k, rng, cut, cut_all):
        return _rule_random(pool, reference, k, rng, None)


class HardRule(PoolRule):
    """Keep the hardest samples (highest difficulty; ties in random order).

    Examples
    --------
    >>> from skprune.sampling import HardRule
    >>> HardRule().select([0.1, 0.9, 0.5, 0.7], [0, 0, 1, 1], 0.5).indices
    array([1, 3])
    """

    name = "hard"

    def _pick(self, pool, reference, k, rng, cut, cut_all):
        return _rule_hard(pool, reference, k, rng, None)


class EasyRule(PoolRule):
    """Keep the easiest samples (lowest difficulty; ties in random order).

    Examples
    --------
    >>> from skprune.sampling import EasyRule
    >>> EasyRule().select([0.1, 0.9, 0.5, 0.7], [0, 0, 1, 1], 0.5).indices
    array([0, 2])
    """

    name = "easy"

    def _pick(self, pool, reference, k, rng, cut, cut_all):
        return _rule_easy(pool, reference, k, rng, None)


class ModerateRule(PoolRule):
    """Keep the samples whose difficulty is closest to the median (Xia et al., ICLR 2023).

    Examples
    --------
    >>> from skprune.sampling import ModerateRule
    >>> ModerateRule().select([0.0, 1.0, 2.0, 3.5, 4.0], [0] * 5, 0.6).indices
    array([1, 2])
    """

    name = "moderate"

    def _pick(self, pool, reference, k, rng, cut, cut_all):
        return _rule_moderate(pool, reference, k, rng, None)


class CCSRule(PoolRule):
    """Coverage-centric stratified selection (Zheng et al., ICLR 2023).

    Drops the ``round(hard_fraction · n)`` hardest of all ``n`` samples
    (likely mislabeled; tied scores in random order), splits the remaining
    score range into ``n_strata`` equal-width strata, and hands the budget
    to strata smallest first (each gets at most an equal share of what is
    left), sampling uniformly inside each stratum. A coverage rule, not an
    importance sampler: it reports no inclusion probabilities.

    Parameters
    ----------
    hard_fraction : float in [0, 1), default=0.0
        Fraction of the hardest samples dropped first (CCS's β).
    n_strata : int, default=50
        Number of equal-width strata of the score range.

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.sampling import CCSRule
    >>> scores = np.r_[np.zeros(90), np.ones(10)]
    >>> selection = CCSRule(n_strata=2).select(scores, np.zeros(100), 0.8, random_state=0)
    >>> int((scores[selection.indices] == 1).sum())  # the rare stratum is fully covered
    10
    """

    name = "ccs"

    def __init__(self, hard_fraction=0.0, n_strata=50):
        self.hard_fraction = hard_fraction
        self.n_strata = n_strata

    def _check_params(self):
        _check_ccs_parameters(self.hard_fraction, self.n_strata)

    def _excluded(self, scores, rng):
        # Cut once over all samples, exactly, as the CCS authors' code cuts a fixed count.
        return _hardest(scores, self.hard_fraction, rng) if self.hard_fraction > 0 else None

    def _pick(self, pool, reference, k, rng, cut, cut_all):
        return _rule_ccs(
            pool, reference, k, rng, None, self.hard_fraction, self.n_strata, cut, cut_all
        )
