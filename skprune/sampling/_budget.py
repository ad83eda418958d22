"""Budgets and class quotas shared by every rule: how many samples, from which class."""

from __future__ import annotations

import hashlib
from numbers import Real

import numpy as np

from ..metrics import rank_normalize

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


def _check_floors(class_sizes, n_keep, min_per_class, budget):
    """Raise when ``n_keep`` samples cannot hold the per-class floors."""
    floors = np.minimum(class_sizes, min_per_class)
    if floors.sum() > n_keep:
        n_samples = int(np.sum(class_sizes))
        largest = 1.0 - floors.sum() / n_samples
        # Rounded down, so that the ratio suggested keeps the floors.
        largest = np.floor(largest * 1e6) / 1e6
        raise ValueError(
            f"{budget} keeps {n_keep} of {n_samples} samples, fewer than "
            f"min_per_class={min_per_class} for each of the {len(class_sizes)} classes; use "
            f"pruning_ratio <= {largest:g} or a lower min_per_class"
        )


def _checked_budget(class_sizes, pruning_ratio, min_per_class):
    """Coreset size, after checking that it holds the per-class floors."""
    n_keep = coreset_size(int(np.sum(class_sizes)), pruning_ratio)
    _check_floors(class_sizes, n_keep, min_per_class, f"pruning_ratio={pruning_ratio}")
    return n_keep


def _largest_remainder(weights, total, rng=None):
    """Split ``total`` into integers proportional to ``weights``.

    Equal remainders (classes of equal size) are ordered at random by a
    generator seeded from ``rng``'s state, which leaves ``rng``'s stream as it
    was; without ``rng`` they go in index order.
    """
    exact = weights / weights.sum() * total
    counts = np.floor(exact).astype(int)
    remainders = np.round(exact - counts, 12)
    tiebreak = np.zeros(counts.size)
    if rng is not None and np.unique(remainders).size < remainders.size:
        # In a fixed order the first classes would always get the extra samples.
        tiebreak = _derived_generator(rng).random(counts.size)
    order = np.lexsort((tiebreak, -remainders))
    counts[order[: total - counts.sum()]] += 1
    return counts


def _derived_generator(rng):
    """A generator seeded from ``rng``'s state, without drawing from ``rng``."""
    digest = hashlib.sha256(repr(rng.bit_generator.state).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def _class_weights(scores, y_codes, class_sizes, class_difficulty):
    """Class shares of the class-dependent budget: size, tilted towards hard classes.

    A class whose mean difficulty quantile is ``m`` gets ``size · (1 + 2·λ·(m - 0.5))``
    with ``λ = class_difficulty`` in [0, 1]: at λ = 1 a class of the hardest
    samples counts double, one of the easiest not at all.
    """
    if not class_difficulty:
        return class_sizes
    mean_quantile = np.bincount(y_codes, weights=rank_normalize(scores)) / class_sizes
    return class_sizes * (1.0 + 2.0 * class_difficulty * (mean_quantile - 0.5))


def _class_quotas(class_sizes, n_keep, share, min_per_class, weights=None, rng=None):
    weights = class_sizes if weights is None else weights
    floors = np.minimum(class_sizes, min_per_class)
    quotas = np.maximum(_largest_remainder(weights, int(round(share * n_keep)), rng), floors)
    quotas = np.minimum(quotas, class_sizes)
    # Floors can push the class part over the budget: take back from the largest surpluses.
    while quotas.sum() > n_keep:
        quotas[np.argmax(quotas - floors)] -= 1
    return quotas


def _tiebroken_ranks(values, rng):
    """Rank (0 = lowest) of each value, equal values ordered at random.

    The order of ties comes from a generator derived from ``rng``'s state, so
    ``rng``'s own stream is left as it was (untied values get the same ranks
    whatever the generator).
    """
    tiebreak = _derived_generator(rng).random(values.size)
    order = np.lexsort((tiebreak, values))
    ranks = np.empty(values.size, dtype=np.intp)
    ranks[order] = np.arange(values.size)
    return ranks


def _hardest(scores, fraction, rng):
    """Mask of exactly ``round(fraction · n)`` highest scores, ties broken at random.

    A cut by a quantile threshold keeps or removes a block of tied scores
    whole (e.g. the many samples at the maximum forgetting count), so it can
    remove none of the fraction asked, or far more.
    """
    n_cut = int(round(fraction * scores.size))
    return _tiebroken_ranks(scores, rng) >= scores.size - n_cut


def _validate(scores, y, strategy):
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    if y.size == 0:
        raise ValueError("y is empty: there is nothing to select from")
    if scores is None:
        if strategy != "random":
            raise ValueError(f"strategy {strategy!r} needs scores; only 'random' works without")
        scores = np.zeros(y.shape[0])
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(
            f"scores must be 1-D (one difficulty per sample), got shape {scores.shape}; "
            "pass a scorer's scores_, not its components"
        )
    if scores.shape != y.shape:
        raise ValueError(
            f"scores and y must have the same length, got {scores.shape[0]} and {y.shape[0]}"
        )
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores contain NaN or infinite values; check the scorer's output")
    return scores, y
