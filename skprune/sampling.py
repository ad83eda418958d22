"""Selection rules: which samples to keep given their difficulties.

Each rule is a pure function ``(scores, y, pruning_ratio, ...) -> Selection``
returning the kept indices (sorted) and, for random rules, the inclusion
probability of every sample (``None`` for deterministic rules).

All rules share the budget logic of :func:`select`:

* the coreset keeps ``round((1 - pruning_ratio) * n_samples)`` samples;
* ``class_balance`` sets the share of that budget allocated per class
  (quotas proportional to class size) before the rest is drawn from all
  samples together — ``"global"`` = 0, ``"hybrid"`` = 0.5, ``"proportional"``
  = 1, or any float in [0, 1];
* every class keeps at least ``min_per_class`` samples (or all it has), so no
  class is emptied at high pruning ratios.

Inside a class, a rule sees that class's scores (class-dependent quantiles);
in the global part it sees all scores (class-independent quantiles).
"""

from __future__ import annotations

from collections import namedtuple
from numbers import Integral, Real

import numpy as np

__all__ = [
    "Selection",
    "STRATEGIES",
    "select",
    "select_random",
    "select_easy",
    "select_hard",
    "select_ccs",
    "select_moderate",
    "coreset_size",
]

Selection = namedtuple("Selection", ["indices", "probabilities"])
Selection.__doc__ = """Result of a selection rule.

indices : ndarray of int
    Kept sample indices, sorted.
probabilities : ndarray of float of shape (n_samples,) or None
    Inclusion probability of every sample, for random rules; None for
    deterministic ones.
"""

_CLASS_BALANCE = {"global": 0.0, "hybrid": 0.5, "proportional": 1.0}


def _generator(random_state):
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    return np.random.default_rng(random_state)


def _class_share(class_balance):
    if isinstance(class_balance, str):
        if class_balance not in _CLASS_BALANCE:
            raise ValueError(
                f"class_balance must be one of {sorted(_CLASS_BALANCE)} or a float in [0, 1], "
                f"got {class_balance!r}"
            )
        return _CLASS_BALANCE[class_balance]
    if isinstance(class_balance, Real) and 0.0 <= class_balance <= 1.0:
        return float(class_balance)
    raise ValueError(
        f"class_balance must be one of {sorted(_CLASS_BALANCE)} or a float in [0, 1], "
        f"got {class_balance!r}"
    )


def coreset_size(n_samples, pruning_ratio):
    """Number of samples kept: ``round((1 - pruning_ratio) * n_samples)``, at least 1.

    Examples
    --------
    >>> from skprune.sampling import coreset_size
    >>> coreset_size(1000, 0.7)
    300
    """
    if not isinstance(pruning_ratio, Real) or not 0.0 <= pruning_ratio < 1.0:
        raise ValueError(
            f"pruning_ratio (the fraction of samples removed) must be in [0, 1), "
            f"got {pruning_ratio!r}"
        )
    return max(1, int(round((1.0 - pruning_ratio) * n_samples)))


def _largest_remainder(weights, total):
    """Split ``total`` into integers proportional to ``weights``."""
    exact = weights / weights.sum() * total
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


def _class_quotas(class_sizes, n_keep, share, min_per_class):
    floors = np.minimum(class_sizes, min_per_class)
    quotas = np.maximum(_largest_remainder(class_sizes, int(round(share * n_keep))), floors)
    quotas = np.minimum(quotas, class_sizes)
    # Floors can push the class part over the budget: take back from the largest surpluses.
    while quotas.sum() > n_keep:
        quotas[np.argmax(quotas - floors)] -= 1
    return quotas


# --- rules on one pool -------------------------------------------------------
# A rule gets the scores of the candidate pool, the reference scores that define
# quantiles/strata (the class or the whole data set) and the number to pick; it
# returns positions into the pool and, for random rules, a function giving the
# probability that a sample with a given score is drawn by this call (None for
# deterministic rules).


def _rule_random(pool, reference, k, rng):
    return rng.choice(pool.size, size=k, replace=False), lambda s: np.full(len(s), k / pool.size)


def _rule_hard(pool, reference, k, rng):
    return np.argsort(-pool, kind="stable")[:k], None


def _rule_easy(pool, reference, k, rng):
    return np.argsort(pool, kind="stable")[:k], None


def _rule_moderate(pool, reference, k, rng):
    return np.argsort(np.abs(pool - np.median(reference)), kind="stable")[:k], None


def _rule_ccs(pool, reference, k, rng, hard_fraction=0.0, n_strata=50):
    candidates = np.arange(pool.size)
    if hard_fraction > 0:
        cutoff = np.quantile(reference, 1.0 - hard_fraction)
        kept = candidates[pool <= cutoff]
        if kept.size < k:  # too few left: give back the least hard of the cut ones
            cut = candidates[pool > cutoff]
            least_hard = cut[np.argsort(pool[cut], kind="stable")]
            kept = np.concatenate([kept, least_hard[: k - kept.size]])
        candidates = kept
    values = pool[candidates]
    low, high = values.min(), values.max()
    cutoff = high

    def stratum_of(s):
        position = (np.asarray(s) - low) / (high - low) if high > low else np.zeros(len(s))
        return np.clip((position * n_strata).astype(int), 0, n_strata - 1)

    strata = stratum_of(values)
    members = sorted((candidates[strata == s] for s in np.unique(strata)), key=len)
    chosen, rate, budget = [], np.zeros(n_strata), k
    for i, m in enumerate(members):
        take = min(m.size, budget // (len(members) - i))
        chosen.append(rng.choice(m, size=take, replace=False))
        rate[stratum_of(pool[m[:1]])[0]] = take / m.size
        budget -= take

    def probability_of(s):
        return np.where(np.asarray(s) <= cutoff, rate[stratum_of(s)], 0.0)

    return np.concatenate(chosen), probability_of


_RULES = {
    "random": _rule_random,
    "easy": _rule_easy,
    "hard": _rule_hard,
    "ccs": _rule_ccs,
    "moderate": _rule_moderate,
}
STRATEGIES = tuple(_RULES)


def _validate(scores, y, strategy):
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    if scores is None:
        if strategy != "random":
            raise ValueError(f"strategy {strategy!r} needs scores; only 'random' works without")
        scores = np.zeros(y.shape[0])
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != y.shape:
        raise ValueError(
            f"scores and y must have the same length, got {scores.shape[0]} and {y.shape[0]}"
        )
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores contain NaN or infinite values; check the scorer's output")
    return scores, y


def select(
    strategy,
    scores,
    y,
    pruning_ratio,
    *,
    class_balance="hybrid",
    min_per_class=1,
    random_state=None,
    **params,
):
    """Keep ``round((1 - pruning_ratio) * n)`` samples with the named rule.

    Parameters
    ----------
    strategy : str
        One of :data:`STRATEGIES`.
    scores : array-like of shape (n_samples,) or None
        Difficulties (higher = harder); may be None for ``"random"``.
    y : array-like of shape (n_samples,)
        Class labels (any hashable values).
    pruning_ratio : float in [0, 1)
        Fraction of samples removed.
    class_balance : {"global", "hybrid", "proportional"} or float, default="hybrid"
        Share of the budget allocated per class (see the module docstring).
    min_per_class : int, default=1
        Per-class floor.
    random_state : int, Generator, RandomState or None
        Seed for the random rules.
    **params
        Rule parameters (``hard_fraction`` and ``n_strata`` for ``"ccs"``).

    Returns
    -------
    Selection

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.sampling import select
    >>> y = np.repeat([0, 1], 5)
    >>> select("hard", np.arange(10.0), y, 0.6, class_balance="proportional").indices
    array([3, 4, 8, 9])
    """
    if strategy not in _RULES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {list(STRATEGIES)}")
    scores, y = _validate(scores, y, strategy)
    share = _class_share(class_balance)
    if not isinstance(min_per_class, Integral) or min_per_class < 0:
        raise ValueError(f"min_per_class must be a non-negative integer, got {min_per_class!r}")
    n_samples = y.shape[0]
    n_keep = coreset_size(n_samples, pruning_ratio)
    classes, y_codes, class_sizes = np.unique(y, return_inverse=True, return_counts=True)
    floors = np.minimum(class_sizes, min_per_class)
    if floors.sum() > n_keep:
        largest = 1.0 - floors.sum() / n_samples
        raise ValueError(
            f"pruning_ratio={pruning_ratio} keeps {n_keep} of {n_samples} samples, fewer than "
            f"min_per_class={min_per_class} for each of the {classes.size} classes; use "
            f"pruning_ratio <= {largest:.4g} or a lower min_per_class"
        )
    rule, rng = _RULES[strategy], _generator(random_state)
    quotas = _class_quotas(class_sizes, n_keep, share, min_per_class)

    kept = np.zeros(n_samples, dtype=bool)
    probabilities = np.zeros(n_samples)
    deterministic = False
    for code, quota in enumerate(quotas):
        members = np.flatnonzero(y_codes == code)
        if quota == 0:
            continue
        picked, probability_of = rule(scores[members], scores[members], quota, rng, **params)
        kept[members[picked]] = True
        deterministic |= probability_of is None
        if probability_of is not None:
            probabilities[members] = probability_of(scores[members])

    n_global = n_keep - int(quotas.sum())
    if n_global > 0:
        remaining = np.flatnonzero(~kept)
        picked, probability_of = rule(scores[remaining], scores, n_global, rng, **params)
        kept[remaining[picked]] = True
        deterministic |= probability_of is None
        if probability_of is not None:
            # Class part first, then a draw among the rest: P(in) = π_c + (1 - π_c) π_g.
            probabilities += (1.0 - probabilities) * probability_of(scores)
    return Selection(np.flatnonzero(kept), None if deterministic else probabilities)


def select_random(y, pruning_ratio, *, class_balance="hybrid", min_per_class=1, random_state=None):
    """Uniform random selection (stratified by ``class_balance``); the baseline to beat.

    Returns a :class:`Selection` with the inclusion probabilities.

    Examples
    --------
    >>> from skprune.sampling import select_random
    >>> sel = select_random([0] * 6 + [1] * 4, 0.5, random_state=0)
    >>> len(sel.indices), float(sel.probabilities.sum())
    (5, 5.0)
    """
    return select(
        "random",
        None,
        y,
        pruning_ratio,
        class_balance=class_balance,
        min_per_class=min_per_class,
        random_state=random_state,
    )


def select_hard(scores, y, pruning_ratio, *, class_balance="hybrid", min_per_class=1):
    """Keep the hardest samples (highest difficulty).

    Examples
    --------
    >>> from skprune.sampling import select_hard
    >>> select_hard([0.1, 0.9, 0.5, 0.7], [0, 0, 1, 1], 0.5).indices
    array([1, 3])
    """
    return select(
        "hard", scores, y, pruning_ratio, class_balance=class_balance, min_per_class=min_per_class
    )


def select_easy(scores, y, pruning_ratio, *, class_balance="hybrid", min_per_class=1):
    """Keep the easiest samples (lowest difficulty).

    Examples
    --------
    >>> from skprune.sampling import select_easy
    >>> select_easy([0.1, 0.9, 0.5, 0.7], [0, 0, 1, 1], 0.5).indices
    array([0, 2])
    """
    return select(
        "easy", scores, y, pruning_ratio, class_balance=class_balance, min_per_class=min_per_class
    )


def select_moderate(scores, y, pruning_ratio, *, class_balance="hybrid", min_per_class=1):
    """Keep the samples whose difficulty is closest to the median (Xia et al. 2023).

    Examples
    --------
    >>> from skprune.sampling import select_moderate
    >>> select_moderate([0.0, 1.0, 2.0, 3.0, 4.0], [0] * 5, 0.6).indices
    array([1, 2])
    """
    return select(
        "moderate",
        scores,
        y,
        pruning_ratio,
        class_balance=class_balance,
        min_per_class=min_per_class,
    )


def select_ccs(
    scores,
    y,
    pruning_ratio,
    *,
    hard_fraction=0.0,
    n_strata=50,
    class_balance="hybrid",
    min_per_class=1,
    random_state=None,
):
    """Coverage-centric stratified selection (Zheng et al. 2023).

    Drops the hardest ``hard_fraction`` of the samples (likely mislabeled),
    splits the remaining score range into ``n_strata`` equal-width strata, and
    hands the budget to strata smallest first (each gets at most an equal share
    of what is left), sampling uniformly inside each stratum.

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.sampling import select_ccs
    >>> scores = np.r_[np.zeros(90), np.ones(10)]
    >>> sel = select_ccs(scores, np.zeros(100), 0.8, n_strata=2, random_state=0)
    >>> int((scores[sel.indices] == 1).sum())  # the rare stratum is fully covered
    10
    """
    if not 0.0 <= hard_fraction < 1.0:
        raise ValueError(f"hard_fraction must be in [0, 1), got {hard_fraction!r}")
    if not isinstance(n_strata, Integral) or n_strata < 1:
        raise ValueError(f"n_strata must be a positive integer, got {n_strata!r}")
    return select(
        "ccs",
        scores,
        y,
        pruning_ratio,
        class_balance=class_balance,
        min_per_class=min_per_class,
        random_state=random_state,
        hard_fraction=hard_fraction,
        n_strata=n_strata,
    )
