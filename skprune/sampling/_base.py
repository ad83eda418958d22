"""The result of a selection, the base class of the rules and the engine they share."""

from __future__ import annotations

from collections import namedtuple
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator

from ._budget import (
    _check_floors,
    _checked_budget,
    _class_quotas,
    _class_share,
    _class_weights,
    _generator,
    _validate,
)

Selection = namedtuple("Selection", ["indices", "probabilities"])
Selection.__doc__ = """Result of a selection rule.

indices : ndarray of int
    Kept sample indices, sorted.
probabilities : ndarray of float of shape (n_samples,) or None
    Inclusion probability of every sample, for random rules; None for
    deterministic ones. Conditional on the class quotas of this draw, which
    are themselves drawn where classes tie for the odd samples of the class
    part, and on the random order given to tied scores.
"""


class BaseRule(BaseEstimator):
    """Base class of the selection rules: budget and class quotas, then one abstract step.

    :meth:`select` validates the inputs, sets the budget (``n_keep``, or
    ``round((1 - pruning_ratio) · n)``) and the class quotas (``class_balance``,
    ``min_per_class``), then calls :meth:`_select`, the one method a rule
    implements, as imbalanced-learn's samplers implement ``_fit_resample``
    behind ``fit_resample``. Rules hold parameters only (no fitted state):
    ``get_params``, ``set_params`` and :func:`~sklearn.base.clone` work, and
    :class:`~skprune.CoresetSelector` searches them as ``strategy__<param>``.

    Subclasses set ``name`` (the ``strategy`` string that builds them) and
    ``requires_scores``, and implement
    ``_select(scores, y_codes, quotas, n_keep, rng, pruning_ratio)`` returning
    the kept indices and the inclusion probabilities (None for a
    deterministic rule); ``_check_params()`` may validate parameters first.
    """

    #: The ``strategy`` name that builds this rule with its defaults.
    name = None
    #: Whether the rule reads difficulties (random selection does not).
    requires_scores = True

    def select(
        self,
        scores,
        y,
        pruning_ratio=None,
        *,
        n_keep=None,
        class_balance="hybrid",
        min_per_class=1,
        random_state=None,
    ):
        """Keep ``n_keep`` (or ``round((1 - pruning_ratio) · n)``) samples.

        Parameters
        ----------
        scores : array-like of shape (n_samples,) or None
            Difficulties (higher = harder); None only for rules that read none.
        y : array-like of shape (n_samples,)
            Class labels (any hashable values).
        pruning_ratio : float in [0, 1) or None, default=None
            Fraction of the samples removed. With ``n_keep`` it only sets
            what a ratio-adaptive rule (SIMS) adapts to; without, it sets the
            budget too.
        n_keep : int or None, default=None
            Number of samples kept; None keeps ``round((1 - pruning_ratio) · n)``.
        class_balance : {"global", "hybrid", "proportional"} or float, default="hybrid"
            Share of the budget allocated per class, proportionally to class
            sizes, before the rest is chosen among all samples.
        min_per_class : int, default=1
            No class keeps fewer samples than this (or all it has).
        random_state : int, Generator, RandomState or None, default=None
            Seed of the random rules and of the order of tied scores.

        Returns
        -------
        Selection
        """
        return _run(
            self, scores, y, pruning_ratio, n_keep, class_balance, min_per_class, 0.0, random_state
        )

    def _check_params(self):
        """Validate the rule's parameters (before any scores are read)."""

    def _select(self, scores, y_codes, quotas, n_keep, rng, pruning_ratio):
        raise NotImplementedError


def _run(
    rule,
    scores,
    y,
    pruning_ratio,
    n_keep,
    class_balance,
    min_per_class,
    class_difficulty,
    random_state,
):
    """What :meth:`BaseRule.select` does, with the (deprecated) class-difficulty tilt."""
    rule._check_params()
    if class_difficulty and scores is None:
        raise ValueError("class_difficulty needs scores to rank classes by difficulty; got None")
    scores, y = _validate(scores, y, rule.name if rule.requires_scores else "random")
    share = _class_share(class_balance)
    if not isinstance(min_per_class, Integral) or min_per_class < 0:
        raise ValueError(f"min_per_class must be a non-negative integer, got {min_per_class!r}")
    _, y_codes, class_sizes = np.unique(y, return_inverse=True, return_counts=True)
    y_codes = y_codes.ravel()
    if n_keep is None:
        if pruning_ratio is None:
            raise ValueError("give pruning_ratio (the fraction removed) or n_keep")
        n_keep = _checked_budget(class_sizes, pruning_ratio, min_per_class)
    else:
        if isinstance(n_keep, bool) or not isinstance(n_keep, Integral):
            raise ValueError(f"n_keep must be an integer, got {n_keep!r}")
        if not 1 <= n_keep <= y.size:
            raise ValueError(
                f"n_keep must be in [1, {y.size}] (the number of samples), got {n_keep}"
            )
        n_keep = int(n_keep)
        _check_floors(class_sizes, n_keep, min_per_class, f"n_keep={n_keep}")
        if pruning_ratio is None:
            pruning_ratio = 1.0 - n_keep / y.size
        elif not isinstance(pruning_ratio, Real) or not 0.0 <= pruning_ratio < 1.0:
            raise ValueError(
                f"pruning_ratio (the fraction of samples removed) must be in [0, 1), "
                f"got {pruning_ratio!r}"
            )
    if not isinstance(class_difficulty, Real) or not 0.0 <= class_difficulty <= 1.0:
        raise ValueError(f"class_difficulty must be in [0, 1], got {class_difficulty!r}")
    rng = _generator(random_state)
    weights = _class_weights(scores, y_codes, class_sizes, class_difficulty)
    quotas = _class_quotas(class_sizes, n_keep, share, min_per_class, weights, rng)
    indices, probabilities = rule._select(scores, y_codes, quotas, n_keep, rng, pruning_ratio)
    return Selection(np.asarray(indices), probabilities)


class PoolRule(BaseRule):
    """A rule applied to one pool of candidates at a time: each class, then all samples.

    Each class's quota is picked among that class's samples (the class is
    also the reference for quantiles and strata); the rest of the budget is
    picked among the samples not yet kept, with all samples as the
    reference. Subclasses implement ``_pick(pool, reference, k, rng, cut,
    cut_all)``, returning positions into ``pool`` and, for random rules, a
    function giving the probability that a sample with a given score is
    drawn by that call (None for deterministic rules); ``_excluded(scores,
    rng)`` may mark samples the rule takes only when the others cannot fill
    the budget (``cut`` and ``cut_all``: that mark on the pool and on the
    reference).
    """

    def _excluded(self, scores, rng):
        return None

    def _select(self, scores, y_codes, quotas, n_keep, rng, pruning_ratio):
        excluded = self._excluded(scores, rng)
        n_samples = scores.size
        kept = np.zeros(n_samples, dtype=bool)
        probabilities = np.zeros(n_samples)
        deterministic = False
        for code, quota in enumerate(quotas):
            if quota == 0:
                continue
            members = np.flatnonzero(y_codes == code)
            cut = None if excluded is None else excluded[members]
            picked, probability_of = self._pick(
                scores[members], scores[members], quota, rng, cut, cut
            )
            kept[members[picked]] = True
            deterministic |= probability_of is None
            if probability_of is not None:
                probabilities[members] = probability_of(scores[members])
        n_global = n_keep - int(quotas.sum())
        if n_global > 0:
            remaining = np.flatnonzero(~kept)
            cut = None if excluded is None else excluded[remaining]
            picked, probability_of = self._pick(
                scores[remaining], scores, n_global, rng, cut, excluded
            )
            kept[remaining[picked]] = True
            deterministic |= probability_of is None
            if probability_of is not None:
                # Class part first, then a draw among the rest: P(in) = π_c + (1 - π_c) π_g.
                probabilities += (1.0 - probabilities) * probability_of(scores)
        return np.flatnonzero(kept), None if deterministic else probabilities
