"""Selection rules: which samples to keep given their difficulties.

A rule is an object (:class:`SIMSRule`, :class:`CCSRule`, :class:`HardRule`,
:class:`EasyRule`, :class:`ModerateRule`, :class:`RandomRule`, or a subclass of
:class:`BaseRule` of your own) whose ``select(scores, y, pruning_ratio |
n_keep, ...)`` returns a :class:`Selection`: the kept indices (sorted) and, for
random rules, the inclusion probability of every sample (``None`` for
deterministic rules). :func:`select` does the same from a rule's name.

All rules share the budget logic of :class:`BaseRule`:

* the coreset keeps ``n_keep``, or ``round((1 - pruning_ratio) * n_samples)``, samples;
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

import inspect

import numpy as np

from ._base import BaseRule, PoolRule, Selection, _run
from ._budget import coreset_size
from ._simple import CCSRule, EasyRule, HardRule, ModerateRule, RandomRule
from ._sims import (
    SIMSRule,
    _DensitySIMS,
    sims_density,
    sims_density_parameters,
    uniform_weight,
)

__all__ = [
    "BaseRule",
    "PoolRule",
    "RandomRule",
    "EasyRule",
    "HardRule",
    "ModerateRule",
    "CCSRule",
    "SIMSRule",
    "RULES",
    "make_rule",
    "check_rule",
    "sims_density_parameters",
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
    "uniform_weight",
    "coreset_size",
]


#: The rule classes by the ``strategy`` name that builds them.
RULES = {
    rule.name: rule for rule in (RandomRule, EasyRule, HardRule, CCSRule, ModerateRule, SIMSRule)
}
#: Names of the selection rules that :func:`select` and ``CoresetSelector`` accept as ``strategy``.
STRATEGIES = tuple(RULES)


def make_rule(strategy, **params):
    """The rule named ``strategy`` with ``params``, or a copy of a rule object with them set.

    Parameters
    ----------
    strategy : str or BaseRule
        One of :data:`STRATEGIES`, or a rule (cloned, not changed).
    **params
        Parameters of the rule.

    Returns
    -------
    BaseRule

    Examples
    --------
    >>> from skprune.sampling import make_rule
    >>> make_rule("ccs", hard_fraction=0.1)
    CCSRule(hard_fraction=0.1)
    """
    from sklearn.base import clone

    if isinstance(strategy, BaseRule):
        return clone(strategy).set_params(**params)
    if not isinstance(strategy, str) or strategy not in RULES:
        raise ValueError(
            f"unknown strategy {strategy!r}; choose one of {list(STRATEGIES)} or pass a rule "
            "object (a skprune.sampling.BaseRule)"
        )
    accepted = _rule_parameters(strategy)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"strategy {strategy!r} has no parameter(s) {unknown}; "
            + (f"it takes {list(accepted)}" if accepted else "it takes none")
        )
    if strategy == "sims" and not set(params) <= set(RULES["sims"]().get_params()):
        # The function form's density parameters (select_sims), kept for one release.
        return _DensitySIMS(params)
    return RULES[strategy](**params)


def check_rule(rule, y, pruning_ratio=None, *, n_keep=None, **budget):
    """Run ``rule`` once on placeholder scores: a budget the classes cannot fill, or bad
    rule parameters, fail here, before any network is trained.

    A ``label_noise="auto"`` is checked as no estimate (the scorers' estimate
    is not known yet).

    Parameters
    ----------
    rule : BaseRule
    y : array-like of shape (n_samples,)
    pruning_ratio, n_keep, **budget
        As in :meth:`BaseRule.select` (``class_balance``, ``min_per_class``).

    Examples
    --------
    >>> from skprune.sampling import HardRule, check_rule
    >>> check_rule(HardRule(), [0, 1] * 5, 0.95, min_per_class=1)
    Traceback (most recent call last):
    ...
    ValueError: pruning_ratio=0.95 keeps 1 of 10 samples, fewer than min_per_class=1 for each of \
the 2 classes; use pruning_ratio <= 0.8 or a lower min_per_class
    """
    y = list(y) if not hasattr(y, "shape") else y
    placeholder_scores = np.linspace(0.0, 1.0, len(y))
    rule.select(placeholder_scores, y, pruning_ratio, n_keep=n_keep, random_state=0, **budget)


def _rule_parameters(strategy):
    """Names of the rule parameters ``strategy`` takes through :func:`select`'s ``**params``."""
    own = tuple(RULES[strategy]().get_params())
    if strategy != "sims":
        return own
    # The function form of SIMS also takes every density parameter of select_sims.
    shared = {"class_balance", "min_per_class", "random_state"}
    legacy = tuple(
        name
        for name, parameter in inspect.signature(select_sims).parameters.items()
        if parameter.default is not inspect.Parameter.empty and name not in shared
    )
    return tuple(dict.fromkeys(legacy + own))


def select(
    strategy,
    scores,
    y,
    pruning_ratio=None,
    *,
    n_keep=None,
    class_balance="hybrid",
    min_per_class=1,
    class_difficulty=0.0,
    random_state=None,
    **params,
):
    """Keep ``n_keep`` or ``round((1 - pruning_ratio) * n)`` samples with a rule or a rule's name.

    ``select(rule, ...)`` is ``rule.select(...)``; ``select(name, ..., **params)``
    is ``make_rule(name, **params).select(...)``, which is what
    :class:`~skprune.CoresetSelector` runs (with the same seed it keeps the
    same samples).

    Parameters
    ----------
    strategy : str or BaseRule
        One of :data:`STRATEGIES`, or a rule object.
    scores : array-like of shape (n_samples,) or None
        Difficulties (higher = harder); may be None for ``"random"``.
    y : array-like of shape (n_samples,)
        Class labels (any hashable values).
    pruning_ratio : float in [0, 1) or None, default=None
        Fraction of samples removed.
    n_keep : int or None, default=None
        Number of samples kept instead (see :meth:`BaseRule.select`).
    class_balance : {"global", "hybrid", "proportional"} or float, default="hybrid"
        Share of the budget allocated per class (see the module docstring).
    min_per_class : int, default=1
        Per-class floor.
    class_difficulty : float in [0, 1], default=0.0
        Tilts the class-dependent share of the budget towards classes with a
        high mean difficulty (UNSEEN's "prioritize hard classes", our form):
        a class's share is its size times ``1 + 2·λ·(m - 0.5)``, ``m`` its mean
        difficulty quantile. 0 keeps shares proportional to class sizes. Acts
        only on the class-dependent part set by ``class_balance``. It did not
        help on our benchmarks and is deprecated in ``CoresetSelector``.
    random_state : int, Generator, RandomState or None
        Seed for the random rules.
    **params
        Parameters of the named rule (see :data:`RULES`); for ``"sims"`` also
        the density parameters of :func:`select_sims` (the function form, kept
        for one release).

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
    rule = make_rule(strategy, **params)
    return _run(
        rule,
        scores,
        y,
        pruning_ratio,
        n_keep,
        class_balance,
        min_per_class,
        class_difficulty,
        random_state,
    )


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
        within-class quantile. ``"class"`` is deprecated (``FutureWarning``)
        and will be removed in a later release.
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
        so its total is off by less than the number of classes. None (the
        default) = a random order. Our addition, not the paper's.
    label_noise : float in [0, 1) or None, default=None
        Estimated fraction of mislabeled samples; the hard cut grows by it at
        every α (from 0 unless ``cut_start`` / ``cut_end`` are given), so the
        samples most likely mislabeled get no mass.
        :class:`~skprune.CoresetSelector` passes its scorer's estimate
        (:attr:`SIMScorer.label_noise_ <skprune.SIMScorer>`) by default
        (:func:`skprune.metrics.estimate_label_noise`; how it compares with
        the true rate is in the user guide). Our addition, not the paper's.
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
