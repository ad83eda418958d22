"""SIMS: pruning-ratio-adaptive importance sampling over the difficulty quantile."""

from __future__ import annotations

import inspect
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.stats import beta as beta_distribution

from ._base import BaseRule
from ._budget import _tiebroken_ranks
from ._draw import _capped, _spread
from ._simple import RandomRule, _equal_width_strata

#: Scoring-net skill (:func:`skprune.metrics.estimate_label_noise`) at and above
#: which SIMS trusts the difficulty ranking fully, and at and below which it
#: samples uniformly (see :func:`uniform_weight`).
TRUSTED_SKILL = 0.9
UNTRUSTED_SKILL = 0.8


def uniform_weight(skill):
    """Weight of the uniform term of SIMS's density for scores of the given ``skill``.

    ``1`` (uniform sampling, random selection) at ``skill <= 0.8``, ``0``
    (the density alone) at ``skill >= 0.9``, linear in between. The skill is
    the scoring nets' chance-corrected accuracy on the labels they do not
    call wrong (:func:`skprune.metrics.estimate_label_noise`): nets that fit
    the data poorly rank hard-but-clean samples as hard as mislabeled ones,
    and a density tilted towards the hard end then keeps the wrong samples.
    The thresholds are our choice, made on the do-no-harm panel of the user
    guide: the density tilted towards the hard end gained over random
    selection where the nets' skill was 0.83 or more and lost where it was
    0.72 or less.

    Parameters
    ----------
    skill : float in [0, 1]

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> from skprune.sampling import uniform_weight
    >>> uniform_weight(0.95), uniform_weight(0.85), uniform_weight(0.4)
    (0.0, 0.5, 1.0)
    """
    if isinstance(skill, bool) or not isinstance(skill, Real) or not 0.0 <= skill <= 1.0:
        raise ValueError(f"skill must be a number in [0, 1], got {skill!r}")
    span = TRUSTED_SKILL - UNTRUSTED_SKILL
    return round(float(np.clip((TRUSTED_SKILL - skill) / span, 0.0, 1.0)), 12)


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


def sims_density_parameters(density, label_noise):
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
    if cut_scope == "class":
        warnings.warn(
            'cut_scope="class" is deprecated and will be removed in a later release (it did not '
            "help on the project's benchmarks, dev/journal.md); leave cut_scope at its default",
            FutureWarning,
            stacklevel=5,
        )
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
    density = sims_density_parameters(density, label_noise)
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


class SIMSRule(BaseRule):
    """SIMS: importance sampling over the difficulty quantile, adapted to the pruning ratio.

    Each sample's difficulty quantile ``u`` (within its class for the
    class-dependent share of the budget, within all samples for the rest;
    tied difficulties in random order) is weighted by :func:`sims_density`:
    a Beta tilt of mean ``mean`` and concentration ``concentration`` over the
    quantiles, with the hardest ``h`` of them cut (density 0). The budget is
    drawn without replacement with inclusion probabilities
    ``π_i = min(1, c · density(u_i))`` (randomized systematic sampling,
    exact for these π), and the kept samples carry importance weights
    ``1 / (n π_i)`` downstream. Cut samples are kept only where the others
    cannot fill the budget. Works with any difficulty, not only SIM's.

    The paper (Grosz et al., ICPR 2024) describes a distribution that moves
    with α and a hybrid class-dependent / class-independent strategy; the
    Beta family, the cut, the sampler and the defaults are this project's
    reconstruction (our choice, see the documentation's SIM page).

    Parameters
    ----------
    mean : float in (0, 1), default=0.714
        Mean of the Beta tilt over the kept quantiles (above 0.5: towards the
        hard end).
    concentration : float, default=3.5
        κ of the Beta tilt; larger = narrower.
    cut : float in [0, 1), default=0.05
        The hard cut without a label-noise estimate: the hardest ``cut · α``
        of the quantiles, growing linearly with the pruning ratio α.
    label_noise : "auto", float in [0, 1) or None, default="auto"
        Estimated fraction of mislabeled samples; when it is a number, it is
        the hard cut at every α (``cut`` is then not used). ``"auto"``: in
        :class:`~skprune.CoresetSelector`, the fitted scorers' estimate (their
        ``label_noise_``), or no estimate when none has one; on its own,
        ``"auto"`` is no estimate. None: no estimate.
    uniform : "auto" or float in [0, 1], default="auto"
        Weight ``f`` of a uniform term mixed into the density,
        ``(1 - f) · tilt + f`` over the quantiles below the hard cut: 0
        trusts the difficulty ranking fully, 1 samples uniformly (random
        selection among the samples not cut; with no cut it is exactly
        :class:`RandomRule`'s draw). ``"auto"``: in
        :class:`~skprune.CoresetSelector`, :func:`uniform_weight` of the
        fitted scorers' ``skill_`` (how well their nets fit the data), so
        that scores with little signal give a selection close to random; 0
        when no scorer has a skill, and on its own.
    strata : int or None, default=None
        Spread the density over the score *range* instead of over the
        samples: each sample's density is divided by the number of samples in
        its stratum, one of ``strata`` equal-width strata of the scores (as
        CCS's strata do). None = off. Our addition, not the paper's.
    clusters : array-like of int of shape (n_samples,) or None, default=None
        Group labels (k-means clusters of embeddings, domains, sources) that
        the draw balances: within each class, each group keeps its expected
        count rounded up or down; the inclusion probabilities do not change.
        One label per sample of the data selected from. Our addition.

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.sampling import SIMSRule
    >>> rng = np.random.default_rng(0)
    >>> selection = SIMSRule().select(rng.random(100), np.repeat([0, 1], 50), 0.8, random_state=0)
    >>> len(selection.indices), round(float(selection.probabilities.sum()), 6)
    (20, 20.0)
    """

    name = "sims"

    def __init__(
        self,
        mean=0.714,
        concentration=3.5,
        cut=0.05,
        label_noise="auto",
        uniform="auto",
        strata=None,
        clusters=None,
    ):
        self.mean = mean
        self.concentration = concentration
        self.cut = cut
        self.label_noise = label_noise
        self.uniform = uniform
        self.strata = strata
        self.clusters = clusters

    def density_parameters(self):
        """The :func:`sims_density` parameters and options of :func:`select_sims` this rule uses.

        Returns
        -------
        dict
        """
        if isinstance(self.label_noise, str) and self.label_noise != "auto":
            raise ValueError(
                f'label_noise must be "auto", a number or None, got {self.label_noise!r}'
            )
        noise = None if isinstance(self.label_noise, str) else self.label_noise
        if not (isinstance(self.cut, Real) and 0.0 <= self.cut < 1.0):
            raise ValueError(f"cut must be in [0, 1), got {self.cut!r}")
        uniform = self._uniform()
        params = {
            "mean_start": self.mean,
            "mean_end": self.mean,
            "floor_start": uniform,
            "floor_end": uniform,
            "concentration": self.concentration,
            "strata": self.strata,
            "clusters": self.clusters,
            "label_noise": noise,
        }
        if noise is None:
            params |= {"cut_start": 0.0, "cut_end": float(self.cut)}
        return params

    def density(self, quantiles, pruning_ratio):
        """The sampling density of this rule at ``pruning_ratio`` (0 above the hard cut).

        Parameters
        ----------
        quantiles : array-like
            Difficulty quantiles in [0, 1].
        pruning_ratio : float

        Returns
        -------
        ndarray
        """
        params = self.density_parameters()
        noise = params.pop("label_noise")
        params.pop("strata")
        params.pop("clusters")
        return sims_density(quantiles, pruning_ratio, **sims_density_parameters(params, noise))

    def _uniform(self):
        if isinstance(self.uniform, str) and self.uniform == "auto":
            return 0.0
        if (
            isinstance(self.uniform, bool)
            or not isinstance(self.uniform, Real)
            or not 0.0 <= self.uniform <= 1.0
        ):
            raise ValueError(f'uniform must be "auto" or a number in [0, 1], got {self.uniform!r}')
        return float(self.uniform)

    def _check_params(self):
        self.density_parameters()

    def _select(self, scores, y_codes, quotas, n_keep, rng, pruning_ratio):
        params = self.density_parameters()
        noise = params["label_noise"]
        cut = self.cut * pruning_ratio if noise is None else noise
        if params["floor_end"] == 1.0 and cut == 0.0 and self.clusters is None:
            # Nothing left to weight: the same draw as random selection, so a
            # score without signal gives exactly the random coreset.
            return RandomRule()._select(scores, y_codes, quotas, n_keep, rng, pruning_ratio)
        return _select_sims(scores, y_codes, quotas, n_keep, rng, pruning_ratio, params)


class _DensitySIMS(BaseRule):
    """SIMS with every :func:`select_sims` parameter (the function form, for one release)."""

    name = "sims"

    def __init__(self, density):
        self.density = density

    def _select(self, scores, y_codes, quotas, n_keep, rng, pruning_ratio):
        return _select_sims(scores, y_codes, quotas, n_keep, rng, pruning_ratio, self.density)
