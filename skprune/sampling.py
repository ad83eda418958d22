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

import hashlib
import inspect
from collections import namedtuple
from numbers import Integral, Real

import numpy as np
from scipy.stats import beta as beta_distribution

from .metrics import rank_normalize

__all__ = [
    "Selection",
    "STRATEGIES",
    "select",
    "select_random",
    "select_easy",
    "select_hard",
    "select_ccs",
    "select_moderate",
    "select_sims",
    "sims_density",
    "coreset_size",
]

Selection = namedtuple("Selection", ["indices", "probabilities"])
Selection.__doc__ = """Result of a selection rule.

indices : ndarray of int
    Kept sample indices, sorted.
probabilities : ndarray of float of shape (n_samples,) or None
    Inclusion probability of every sample, for random rules; None for
    deterministic ones. Conditional on the class quotas of this draw, which
    are themselves drawn where classes tie for the odd samples of the class
    part.
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


def _checked_budget(class_sizes, pruning_ratio, min_per_class):
    """Coreset size, after checking that it holds the per-class floors."""
    n_samples = int(np.sum(class_sizes))
    n_keep = coreset_size(n_samples, pruning_ratio)
    floors = np.minimum(class_sizes, min_per_class)
    if floors.sum() > n_keep:
        largest = 1.0 - floors.sum() / n_samples
        # Rounded down, so that the ratio suggested keeps the floors.
        largest = np.floor(largest * 1e6) / 1e6
        raise ValueError(
            f"pruning_ratio={pruning_ratio} keeps {n_keep} of {n_samples} samples, fewer than "
            f"min_per_class={min_per_class} for each of the {len(class_sizes)} classes; use "
            f"pruning_ratio <= {largest:g} or a lower min_per_class"
        )
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


# --- SIMS: pruning-ratio-adaptive importance sampling -----------------------------


def sims_density(
    quantiles,
    pruning_ratio,
    *,
    mean_start=0.714,
    mean_end=0.714,
    gamma=1.0,
    concentration=3.5,
    cut_start=0.0,
    cut_end=0.05,
    floor_start=0.0,
    floor_end=0.0,
):
    """Sampling density of SIMS over the difficulty quantile (0 = easiest, 1 = hardest).

    Three schedules move with the pruning ratio α, each as
    ``start + (end - start) · α^gamma``:

    * a Beta **tilt** with mean ``μ(α)`` (``mean_start`` → ``mean_end``) and
      concentration κ, ``a, b = μ·κ, (1 - μ)·κ``;
    * a **hard cut** ``h(α)`` (``cut_start`` → ``cut_end``): the hardest ``h``
      of the quantiles get density 0 (where mislabeled and ambiguous samples
      sit) and the tilt is stretched over the kept quantiles ``[0, 1 - h]``;
      :func:`select_sims` sets it to the estimated label noise when it has
      an estimate;
    * an optional uniform **floor** ``f(α)`` (``floor_start`` → ``floor_end``)
      mixed in: ``(1 - f) · tilt + f`` keeps every kept quantile covered.

    The paper states that the sampling distribution adapts to α (its
    Fig. 2-3); this density family, its schedules and its defaults are this
    project's reconstruction. The defaults — a tilt ``Beta(2.5, 1)`` (mean
    0.714, κ = 3.5) rising towards the hard end at every α, and a cut growing
    from 0 to 0.05 of the quantiles with α for scores without a label-noise
    estimate — come from rounds 7 and 14 of the validation comparison on
    Fashion-MNIST (docs/benchmarks.md), where the cut the estimate sets did
    best alone. They replace a tilt moving from hard (mean 0.7) to easy
    (0.35) with α and no cut, which lost to random selection on clean labels
    at α ≥ 0.5: on that benchmark the easy samples are the redundant ones at
    every ratio, and the hard tail is worth keeping only where it is not
    mislabeled.

    Parameters
    ----------
    quantiles : array-like
        Difficulty quantiles in [0, 1].
    pruning_ratio : float
        Fraction of the samples removed, α.
    mean_start, mean_end : float in (0, 1)
        Tilt mean at α = 0 and α = 1, on the stretched quantile ``u / (1 - h)``.
    gamma : float, default=1.0
        Shape of all three schedules (1 = linear in α).
    concentration : float, default=3.5
        κ of the Beta tilt; larger = narrower.
    cut_start, cut_end : float in [0, 1)
        Hardest fraction of the quantiles cut at α = 0 and α = 1.
    floor_start, floor_end : float in [0, 1]
        Weight of the uniform term at α = 0 and α = 1.

    Returns
    -------
    ndarray
        The density at ``quantiles`` (0 above the cut).

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.sampling import sims_density
    >>> u = np.array([0.1, 0.5, 0.97])
    >>> d = sims_density(u, 0.9)  # rising towards the hard end, which is cut from 0.955 on
    >>> bool(d[0] < d[1]), float(d[2])
    (True, 0.0)
    >>> legacy = dict(mean_start=0.7, mean_end=0.35, concentration=4.0, cut_end=0.0)
    >>> bool(sims_density(u, 0.9, **legacy)[0] > sims_density(u, 0.9, **legacy)[2])
    True
    """
    mean, cut, floor = _sims_schedule(
        pruning_ratio, mean_start, mean_end, gamma, cut_start, cut_end, floor_start, floor_end
    )
    if not (isinstance(concentration, Real) and concentration > 0 and np.isfinite(concentration)):
        raise ValueError(f"concentration must be a positive number, got {concentration!r}")
    stretched = np.asarray(quantiles, dtype=np.float64) / (1.0 - cut)
    inside = (stretched < 1.0) | (cut == 0.0)  # a sample exactly at the cut is cut
    # Kept off the end points, where a Beta density with a or b below 1 is infinite.
    tilt = beta_distribution.pdf(
        np.clip(stretched, 1e-6, 1.0 - 1e-6), mean * concentration, (1.0 - mean) * concentration
    )
    return np.where(inside, (1.0 - floor) * tilt + floor, 0.0)


def _sims_schedule(
    pruning_ratio, mean_start, mean_end, gamma, cut_start, cut_end, floor_start, floor_end
):
    """Mean, hard cut and floor of the SIMS density at ``pruning_ratio``."""
    if not (isinstance(pruning_ratio, Real) and 0.0 <= pruning_ratio <= 1.0):
        raise ValueError(f"pruning_ratio must be in [0, 1], got {pruning_ratio!r}")
    if not (isinstance(gamma, Real) and gamma >= 0 and np.isfinite(gamma)):
        raise ValueError(f"gamma must be a non-negative number, got {gamma!r}")
    position = float(pruning_ratio) ** gamma
    mean = mean_start + (mean_end - mean_start) * position
    cut = cut_start + (cut_end - cut_start) * position
    floor = floor_start + (floor_end - floor_start) * position
    if not 0.0 < mean < 1.0:
        raise ValueError(f"the density mean must stay in (0, 1), got {mean} at α={pruning_ratio}")
    if not 0.0 <= cut < 1.0:
        raise ValueError(f"the hard cut must stay in [0, 1), got {cut} at α={pruning_ratio}")
    if not 0.0 <= floor <= 1.0:
        raise ValueError(f"the floor must stay in [0, 1], got {floor} at α={pruning_ratio}")
    return mean, cut, floor


#: The keyword defaults of :func:`sims_density` (one source for every SIMS path).
_SIMS_DENSITY_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(sims_density).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
}
_CUT_KEYS = ("cut_start", "cut_end")


def _with_defaults(params, label_noise):
    """``params`` over :func:`sims_density`'s defaults, an unset hard cut (absent or None) set.

    With a label-noise estimate the estimate is the whole cut (its unset ends
    are 0); without one, the unset ends take :func:`sims_density`'s
    defaults. Round 14 of the validation benchmark measured the two: the
    default 0 → 0.05 cut on top of the estimate lost up to 0.5 points at
    α ≤ 0.7 (docs/benchmarks.md).
    """
    params = {k: v for k, v in params.items() if not (k in _CUT_KEYS and v is None)}
    if label_noise is not None:
        params = {**dict.fromkeys(_CUT_KEYS, 0.0), **params}
    return {**_SIMS_DENSITY_DEFAULTS, **params}


def _cut_by_noise(density, label_noise):
    """All :func:`sims_density` parameters, with the hard cut grown by ``label_noise``.

    The unset cut is filled in before the noise is added, so a caller naming
    only ``label_noise`` gets the same cut on every path (:func:`select`,
    :func:`select_sims`, incremental steps, the plotted density).
    """
    density = _with_defaults(density, label_noise)
    if label_noise is not None:
        for key in _CUT_KEYS:
            density[key] += label_noise
    return density


def _pin_sims_schedule(pruning_ratio, params):
    """SIMS parameters with every α schedule (mean, cut, floor) fixed at ``pruning_ratio``.

    Incremental selection passes each step's own budget ratio to the rule;
    pinned parameters keep every step on the density of the overall ratio.
    """
    density = _with_defaults(params, params.get("label_noise"))
    mean, cut, floor = _sims_schedule(
        pruning_ratio,
        *(density[k] for k in ("mean_start", "mean_end", "gamma", "cut_start", "cut_end")),
        density["floor_start"],
        density["floor_end"],
    )
    pinned = dict(mean_start=mean, mean_end=mean, cut_start=cut, cut_end=cut)
    return {**density, **pinned, "floor_start": floor, "floor_end": floor}


def _tiebroken_quantile(values, rng):
    """Quantile ``(2·rank + 1) / (2n)`` of each value, ties broken at random.

    Equal to the mid-rank quantile where values are distinct; tied values get
    distinct quantiles, so a hard cut at ``1 - h`` removes ``round(h·n)`` of
    them instead of all or none of a tied block.
    """
    return (2 * _tiebroken_ranks(values, rng) + 1) / (2.0 * values.size)


def _capped_scale(weights, k):
    """Scale ``c`` with ``Σ min(1, c·w) = k`` (πps inclusion probabilities)."""
    order = np.sort(weights)[::-1]
    # With the m largest capped at 1, c = (k - m) / Σ_{rest} w must keep the (m+1)-th ≤ 1/c.
    tail = np.cumsum(order[::-1])[::-1]
    for capped in range(k):
        rest = tail[capped] if capped < order.size else 0.0
        if rest <= 0:
            break
        scale = (k - capped) / rest
        if order[capped] * scale <= 1.0:
            return scale
    return np.inf


def _capped(weights, total):
    """Inclusion probabilities ``min(1, c·w)`` summing to ``total``."""
    return np.minimum(1.0, _capped_scale(weights, total) * weights)


def _spread(weights, k):
    """πps probabilities for ``k`` draws; zero-weight samples only fill what the rest cannot."""
    weights = np.nan_to_num(weights, nan=0.0, posinf=0.0)
    positive = weights > 0
    if np.count_nonzero(positive) < k:
        weights = np.where(positive, weights, 1e-12 * (weights.max() if positive.any() else 1.0))
    return _capped(weights, k)


def _stratum_coverage(values, n_strata):
    """``1 / (members of the sample's stratum)`` over ``n_strata`` equal-width strata of ``values``.

    Multiplying a density by it spreads the mass evenly over the *score range*
    instead of over the samples, as CCS's equal-width strata do: a crowded
    score region (the many easy samples of a loss-like score) gets less, a
    sparse one more. On rank-uniform scores it is nearly constant.
    """
    strata = _equal_width_strata(values, n_strata, values)
    return 1.0 / np.bincount(strata, minlength=n_strata)[strata]


def _select_sims(scores, y_codes, quotas, n_keep, rng, pruning_ratio, density):
    """SIMS in one draw: exact inclusion probabilities, budget and (±1) class quotas.

    The class-dependent share of the budget spreads each class's quota over its
    members by the density of their within-class quantile; the rest spreads by
    the density of the quantile among all samples (with ``cut_scope="class"``,
    cut by the within-class quantile instead). Adding the two gives every
    sample's inclusion probability (capped at 1); samples above the hard cut
    get probability 0 unless the others cannot fill the budget, and then fill
    only the rest. One randomized systematic draw over the samples, grouped by
    class, then keeps exactly ``n_keep`` samples, each with exactly its
    probability, and ``floor`` or ``ceil`` of each class's expected count — so
    the per-class floors hold.
    """
    density = dict(density)
    cut_scope = density.pop("cut_scope", "global")
    if cut_scope not in ("global", "class"):
        raise ValueError(f"cut_scope must be 'global' or 'class', got {cut_scope!r}")
    n_strata = density.pop("strata", None)
    clusters = density.pop("clusters", None)
    if clusters is not None:
        clusters = np.asarray(clusters)
        if clusters.shape != scores.shape or not np.issubdtype(clusters.dtype, np.integer):
            raise ValueError(
                f"clusters must be integer labels of shape {scores.shape}, got "
                f"{clusters.dtype} of shape {clusters.shape}"
            )
        clusters = np.unique(clusters, return_inverse=True)[1].ravel()
    label_noise = density.pop("label_noise", None)
    if label_noise is not None:
        if isinstance(label_noise, bool) or not isinstance(label_noise, Real):
            raise TypeError(f"label_noise must be None or a number, got {label_noise!r}")
        label_noise = float(label_noise)
    named = density
    density = _cut_by_noise(density, label_noise)
    if label_noise is not None:
        widest = max(density[k] for k in _CUT_KEYS)
        if not (0.0 <= label_noise < 1.0 and widest < 1.0):
            raise ValueError(
                f"label_noise={label_noise} with cut_start={named.get('cut_start')}, "
                f"cut_end={named.get('cut_end')} cuts the hardest "
                f"{widest:.2f} of the quantiles; label_noise must be in [0, 1) and "
                "leave the cut below 1"
            )
    if n_strata is not None and (
        isinstance(n_strata, bool) or not isinstance(n_strata, Integral) or n_strata < 1
    ):
        raise ValueError(f"strata must be None or a positive integer, got {n_strata!r}")

    def covered(weights, members):
        if n_strata is None:
            return weights
        return weights * _stratum_coverage(scores[members], n_strata)

    class_quantile = np.zeros(scores.size)
    for code in range(quotas.size):
        members = np.flatnonzero(y_codes == code)
        class_quantile[members] = _tiebroken_quantile(scores[members], rng)
    target = np.zeros(scores.size)
    for code, quota in enumerate(quotas):
        members = np.flatnonzero(y_codes == code)
        if quota:
            weights = sims_density(class_quantile[members], pruning_ratio, **density)
            target[members] = _spread(covered(weights, members), quota)
    n_global = n_keep - int(quotas.sum())
    if n_global:
        global_quantile = _tiebroken_quantile(scores, rng)
        if cut_scope == "class":
            # Tilt by the quantile among all samples; cut by the quantile within the class.
            uncut = {**density, "cut_start": 0.0, "cut_end": 0.0}
            weights = sims_density(global_quantile, pruning_ratio, **uncut)
            weights = weights * (sims_density(class_quantile, pruning_ratio, **density) > 0)
        else:
            weights = sims_density(global_quantile, pruning_ratio, **density)
        weights = covered(weights, slice(None))
        spare = 1.0 - target  # room left under the cap
        weights = np.nan_to_num(weights, nan=0.0, posinf=0.0)
        if np.count_nonzero(weights[spare > 0]) < n_global:  # zero-weight samples fill the rest
            weights = np.where(weights > 0, weights, 1e-12 * max(weights.max(), 1.0))
        weights = np.where(spare > 0, weights, 0.0)
        target += np.minimum(spare, _capped(weights, n_global))
    probabilities = _spread(target, n_keep)  # cut samples fill what the rest cannot

    def members_in_order(code):
        members = rng.permutation(np.flatnonzero(y_codes == code))
        if clusters is None:
            return members
        # Cluster after cluster: the systematic draw then takes from each cluster
        # its expected count, rounded, instead of a random number around it.
        rank = rng.permutation(clusters.max() + 1)[clusters[members]]
        return members[np.argsort(rank, kind="stable")]

    class_order = rng.permutation(quotas.size)
    order = np.concatenate([members_in_order(code) for code in class_order])
    cumulative = np.cumsum(probabilities[order])
    cumulative *= n_keep / cumulative[-1]  # exact total: the last point never falls off
    points = rng.uniform() + np.arange(n_keep)
    picked = order[np.searchsorted(cumulative, points, side="right")]
    return np.sort(picked), probabilities


_RULES = {
    "random": _rule_random,
    "easy": _rule_easy,
    "hard": _rule_hard,
    "ccs": _rule_ccs,
    "moderate": _rule_moderate,
}
# SIMS draws its class-dependent and global parts jointly (see _select_sims).
#: Names of the selection rules that :func:`select` accepts as ``strategy``.
STRATEGIES = (*_RULES, "sims")


def _rule_parameters(strategy):
    """Names of the rule parameters ``strategy`` takes through :func:`select`'s ``**params``."""
    function = select_sims if strategy == "sims" else _RULES[strategy]
    shared = {"class_balance", "min_per_class", "random_state", "cut", "cut_all"}
    return tuple(
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.default is not inspect.Parameter.empty and name not in shared
    )


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


def select(
    strategy,
    scores,
    y,
    pruning_ratio,
    *,
    class_balance="hybrid",
    min_per_class=1,
    class_difficulty=0.0,
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
    class_difficulty : float in [0, 1], default=0.0
        Tilts the class-dependent share of the budget towards classes with a
        high mean difficulty (UNSEEN's "prioritize hard classes", our form):
        a class's share is its size times ``1 + 2·λ·(m - 0.5)``, ``m`` its mean
        difficulty quantile. 0 keeps shares proportional to class sizes. Acts
        only on the class-dependent part set by ``class_balance``.
    random_state : int, Generator, RandomState or None
        Seed for the random rules.
    **params
        Rule parameters: ``hard_fraction`` and ``n_strata`` for ``"ccs"``; the
        :func:`sims_density` parameters, ``cut_scope``, ``strata``, ``clusters``
        and ``label_noise`` for ``"sims"`` (see :func:`select_sims`).

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
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {list(STRATEGIES)}")
    accepted = _rule_parameters(strategy)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"strategy {strategy!r} has no parameter(s) {unknown}; "
            + (f"it takes {list(accepted)}" if accepted else "it takes none")
        )
    if strategy == "ccs":
        _check_ccs_parameters(**params)
    if class_difficulty and scores is None:
        raise ValueError("class_difficulty needs scores to rank classes by difficulty; got None")
    scores, y = _validate(scores, y, strategy)
    share = _class_share(class_balance)
    if not isinstance(min_per_class, Integral) or min_per_class < 0:
        raise ValueError(f"min_per_class must be a non-negative integer, got {min_per_class!r}")
    n_samples = y.shape[0]
    _, y_codes, class_sizes = np.unique(y, return_inverse=True, return_counts=True)
    n_keep = _checked_budget(class_sizes, pruning_ratio, min_per_class)
    if not isinstance(class_difficulty, Real) or not 0.0 <= class_difficulty <= 1.0:
        raise ValueError(f"class_difficulty must be in [0, 1], got {class_difficulty!r}")
    rng = _generator(random_state)
    weights = _class_weights(scores, y_codes, class_sizes, class_difficulty)
    quotas = _class_quotas(class_sizes, n_keep, share, min_per_class, weights, rng)
    if strategy == "sims":
        return Selection(*_select_sims(scores, y_codes, quotas, n_keep, rng, pruning_ratio, params))
    rule = _RULES[strategy]
    # CCS cuts the hardest hard_fraction of all the samples once, exactly (as its authors'
    # code does), before the class and global parts draw from the rest.
    cut = None
    if strategy == "ccs" and params.get("hard_fraction", 0.0) > 0:
        cut = _hardest(scores, params["hard_fraction"], rng)

    def cut_of(members):
        return {} if cut is None else {"cut": cut[members], "cut_all": cut[members]}

    kept = np.zeros(n_samples, dtype=bool)
    probabilities = np.zeros(n_samples)
    deterministic = False
    for code, quota in enumerate(quotas):
        members = np.flatnonzero(y_codes == code)
        if quota == 0:
            continue
        picked, probability_of = rule(
            scores[members], scores[members], quota, rng, pruning_ratio, **params, **cut_of(members)
        )
        kept[members[picked]] = True
        deterministic |= probability_of is None
        if probability_of is not None:
            probabilities[members] = probability_of(scores[members])

    n_global = n_keep - int(quotas.sum())
    if n_global > 0:
        remaining = np.flatnonzero(~kept)
        global_cut = {} if cut is None else {"cut": cut[remaining], "cut_all": cut}
        picked, probability_of = rule(
            scores[remaining], scores, n_global, rng, pruning_ratio, **params, **global_cut
        )
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
    >>> select_moderate([0.0, 1.0, 2.0, 3.5, 4.0], [0] * 5, 0.6).indices
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

    Drops the ``round(hard_fraction · n)`` hardest of all ``n`` samples (likely
    mislabeled; tied scores in random order, as its authors' code cuts a
    fixed count), splits the remaining score range into ``n_strata`` equal-width strata, and
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


def select_sims(
    scores,
    y,
    pruning_ratio,
    *,
    mean_start=0.714,
    mean_end=0.714,
    concentration=3.5,
    gamma=1.0,
    cut_start=None,
    cut_end=None,
    floor_start=0.0,
    floor_end=0.0,
    cut_scope="global",
    strata=None,
    clusters=None,
    label_noise=None,
    class_balance="hybrid",
    min_per_class=1,
    random_state=None,
):
    """SIMS: importance sampling over the difficulty quantile, adapted to the pruning ratio.

    Each sample's difficulty quantile ``u`` (within its class for the
    class-dependent share of the budget, within all samples for the rest) is
    weighted by :func:`sims_density`; the budget is drawn without replacement
    with inclusion probabilities ``π_i = min(1, c · density(u_i))``
    (tied difficulties are ranked in random order first, so a hard cut of
    ``h`` removes ``round(h · n)`` samples of a tied block, not all or none)
    (randomized systematic sampling, exact for these π), and the kept samples
    carry importance weights ``1 / (n π_i)`` downstream. Samples above the
    hard cut (the estimated ``label_noise``, or ``cut_start`` → ``cut_end``
    widened by it) have π = 0 unless the others cannot fill the budget. Works
    with any difficulty, not only SIM's (the paper applies it to other
    metrics).

    The paper describes a distribution that moves with α and a hybrid
    class-dependent / class-independent strategy; the Beta family, the
    schedule, the sampler and the defaults are this project's reconstruction
    (see the documentation's SIM page for the benchmark behind them).

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Difficulties (higher = harder).
    y : array-like of shape (n_samples,)
    pruning_ratio : float in [0, 1)
    mean_start, mean_end, concentration, gamma, floor_start, floor_end : float
        Density parameters, see :func:`sims_density`.
    cut_start, cut_end : float or None, default=None
        The hard cut at α = 0 and α = 1, see :func:`sims_density`. None: 0
        when ``label_noise`` is given (the estimate alone is the cut), else
        :func:`sims_density`'s 0 → 0.05.
    cut_scope : {"global", "class"}, default="global"
        Which quantile the hard cut applies to in the class-independent share
        of the budget: the quantile among all samples (as the tilt), or the
        sample's quantile within its class (the hardest class then keeps its
        own easier part). The class-dependent share always uses the
        within-class quantile. ``"class"`` did not help on our benchmark.
    strata : int or None, default=None
        Spread the density over the score *range* instead of over the
        samples: each sample's density is divided by the number of samples in
        its stratum, one of ``strata`` equal-width strata of the scores (of
        its class, or of all samples), as CCS's strata do. Crowded score
        regions then get less of the budget, sparse ones more; with a flat
        density (``mean_start=mean_end=0.5, concentration=2``) and a hard cut
        this is CCS as an importance sampler. It matters for scores with an
        uneven spread (EL2N, losses); on scores uniform over all samples, such
        as SIM's ``scores_``, only the class-dependent share changes. None
        (the default) = off. Our addition, not the paper's.
    clusters : array-like of int, shape (n_samples,), or None, default=None
        Group labels (e.g. k-means clusters of embeddings, or domains) that
        the draw balances: within each class it takes the samples cluster
        after cluster, so each cluster keeps its expected count rounded up or
        down instead of a random count around it. The inclusion
        probabilities, and so the density and the importance weights, are
        unchanged. A group that spans classes is balanced within each class,
        so its total is off by less than the number of classes. On our
        Fashion-MNIST validation split with the MLP, per-class k-means
        clusters of the scoring nets' embeddings moved clean-label accuracy
        by −0.16 to +0.16 points; with 20% label noise they added +0.5 to
        +0.7 at α = 0.9 and lost up to 0.3 at α = 0.5. None (the default) =
        a random order. Our addition, not the paper's.
    label_noise : float in [0, 1) or None, default=None
        Estimated fraction of mislabeled samples; the hard cut grows by it at
        every α (from 0 unless ``cut_start`` / ``cut_end`` are given), so the
        samples most likely mislabeled get no mass.
        :class:`~skprune.CoresetSelector` passes its scorer's estimate
        (:attr:`SIMScorer.label_noise_ <skprune.SIMScorer>`) by default. With
        SIMScorer's defaults on 10 000 Fashion-MNIST images the estimate is
        about 0.23 with 20% symmetric noise and 0.06 on clean labels (0.29
        and 0.10 with the default CNN; ``benchmarks/noise_estimate.py``).
        Our addition, not the paper's.
    class_balance, min_per_class, random_state
        As in :func:`select`.

    Returns
    -------
    Selection
        With inclusion probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.sampling import select_sims
    >>> rng = np.random.default_rng(0)
    >>> sel = select_sims(rng.random(100), np.repeat([0, 1], 50), 0.8, random_state=0)
    >>> len(sel.indices), round(float(sel.probabilities.sum()), 6)
    (20, 20.0)
    """
    return select(
        "sims",
        scores,
        y,
        pruning_ratio,
        class_balance=class_balance,
        min_per_class=min_per_class,
        random_state=random_state,
        mean_start=mean_start,
        mean_end=mean_end,
        concentration=concentration,
        gamma=gamma,
        cut_start=cut_start,
        cut_end=cut_end,
        floor_start=floor_start,
        floor_end=floor_end,
        cut_scope=cut_scope,
        strata=strata,
        clusters=clusters,
        label_noise=label_noise,
    )
