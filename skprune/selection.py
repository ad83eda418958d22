"""CoresetSelector: score, select, and optionally fit an estimator on the coreset."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields
from numbers import Integral, Real

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, MetaEstimatorMixin, OneToOneFeatureMixin, clone
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils._tags import InputTags, Tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, check_memory, column_or_1d, validate_data

from .metrics import combine_difficulties
from .sampling import STRATEGIES, check_rule, coreset_size, make_rule, select, uniform_weight
from .scorers import SIMScorer
from .utils import equal_steps, is_dataset

__all__ = ["CoresetSelector", "LowSignalWarning"]


class LowSignalWarning(UserWarning):
    """The scoring nets fit the data too poorly for their scores to guide the selection."""


@dataclass(slots=True)
class SamplerTags:
    """Sampler tags as imbalanced-learn reads them (without importing it)."""

    sample_indices: bool = True


@dataclass(slots=True)
class _SamplerInputTags(InputTags):
    # imbalanced-learn reads this field to decide whether to run its pandas checks.
    dataframe: bool = True


@dataclass(slots=True)
class _SamplerAwareTags(Tags):
    sampler_tags: SamplerTags | None = None


def _fit_scorer(scorer, X, y):
    """Fit one scorer; module-level so that joblib.Memory can cache it."""
    return clone(scorer).fit(X, y)


def _estimator_has(attr):
    def check(self):
        if self.estimator is None:
            return False
        if hasattr(self, "estimator_"):
            return hasattr(self.estimator_, attr)
        return hasattr(self.estimator, attr)

    return check


def _to_labels(y):
    """Return 1-D labels and whether ``y`` came one-hot encoded (imblearn's OVA contract)."""
    target_type = type_of_target(y)
    if target_type == "multilabel-indicator":
        y = np.asarray(y)
        if np.any(y.sum(axis=1) != 1):
            raise ValueError("Multilabel and multioutput targets are not supported.")
        return y.argmax(axis=1), True
    if target_type.startswith("multiclass-multioutput") or target_type == "continuous-multioutput":
        raise ValueError("Multilabel and multioutput targets are not supported.")
    return column_or_1d(y, warn=True), False


def _rows(data, indices):
    """Take rows of an array, DataFrame, Series or list, keeping its container type."""
    if hasattr(data, "iloc"):
        return data.iloc[indices]
    if isinstance(data, list):
        return [data[i] for i in indices]
    if issparse(data) and data.format not in ("csr", "csc", "lil"):
        data = data.tocsr()  # coo/dia/bsr have no row indexing
    return np.asarray(data)[indices] if not hasattr(data, "shape") else data[indices]


def _split_budget(n_keep, n_steps):
    """Split ``n_keep`` into ``n_steps`` sizes differing by at most one, larger first."""
    sizes = np.full(n_steps, n_keep // n_steps)
    sizes[: n_keep % n_steps] += 1
    return sizes


def scorers_label_noise(scorers, attribute="label_noise_"):
    """The fitted scorers' mean ``label_noise_`` (None when none estimates it).

    Parameters
    ----------
    scorers : list of fitted scorers
    attribute : str, default="label_noise_"
        The estimate averaged (``"skill_"``: how well the scorers' nets fit).

    Returns
    -------
    float or None

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from skprune.selection import scorers_label_noise
    >>> scorers_label_noise([SimpleNamespace(label_noise_=0.1), SimpleNamespace()])
    0.1
    """
    estimates = [
        getattr(scorer, attribute)
        for scorer in scorers
        if getattr(scorer, attribute, None) is not None
    ]
    return float(np.mean(estimates)) if estimates else None


# The density parameters of select_sims that strategy_params still maps onto SIMSRule.
_SIMS_RENAMED = {"mean_start": "mean", "mean_end": "mean", "cut_end": "cut"}


def _rule_from_params(strategy, params):
    """The rule of ``strategy`` with the deprecated ``strategy_params`` set on it."""
    rule = make_rule(strategy)
    if not params:
        return rule
    own = rule.get_params(deep=False)
    mapped = {}
    for key, value in params.items():
        if key in own:
            mapped[key] = value
        elif key in _SIMS_RENAMED and _SIMS_RENAMED[key] in own:
            if mapped.setdefault(_SIMS_RENAMED[key], value) != value:
                raise ValueError(
                    f"strategy_params sets mean_start and mean_end differently ({params}); "
                    "a SIMS tilt that moves with the ratio is no longer a CoresetSelector "
                    "option: use skprune.sampling.select_sims"
                )
        elif key == "cut_start" and value in (0, 0.0, None):
            continue
        else:
            raise ValueError(
                f"strategy_params key {key!r} is not a parameter of {type(rule).__name__} "
                f"(it takes {sorted(own)}); pass a rule object as strategy instead"
            )
    return rule.set_params(**mapped)


def _with_fixed_iterations(scorer, n_fit, n_full):
    """Scale a step scorer's epochs so it takes as many SGD steps as on all ``n_full`` samples.

    A scorer refitted on a small coreset with its usual epochs would take a
    fraction of the updates and score with an undertrained net. The steps
    are counted in batches of the scorer's nets (each of which may train on
    a part of the data, as UNSEEN's do) as skorch forms them
    (:func:`~skprune.nets.batches_per_epoch`: the iterator's batch size, one
    batch for ``batch_size=-1``, a partial batch counting as one unless it is
    dropped), so a coreset smaller than a batch gets one step per epoch; the
    step's net with the fewest batches gets at least the steps of the full
    fit's net with the most. A coreset that gives a net no batch at all (its
    last, partial batch dropped) raises ``ValueError``. Scorers without a
    ``max_epochs`` parameter, or whose epoch count cannot be read, are left
    as they are.
    """
    params = scorer.get_params(deep=False)
    if "max_epochs" not in params:
        return scorer
    epochs = params["max_epochs"]
    if epochs is None:
        estimator = params.get("estimator")
        epochs = (
            getattr(scorer, "default_max_epochs", None)
            if estimator is None
            else getattr(estimator, "max_epochs", None)
        )
    if epochs is None:
        return scorer
    batches = getattr(scorer, "training_batches", lambda n_samples: None)
    full = batches(n_full)
    if full is None or full[1] == 0:
        # Not one of our scorers (the batch count cannot be read): count samples.
        steps_full, steps_fit = n_full, n_fit
    else:
        # The step's net with the fewest batches takes at least the steps of the full
        # fit's net with the most (UNSEEN's subsets differ by one sample).
        steps_full, steps_fit = full[1], batches(n_fit)[0]
        if steps_fit == 0:
            raise ValueError(
                f"a step of {n_fit} samples gives {type(scorer).__name__}'s nets no training "
                "batch (they drop the last, partial one: iterator_train__drop_last=True); "
                "lower their batch_size, drop drop_last or use fewer n_steps"
            )
    return scorer.set_params(max_epochs=equal_steps(epochs, steps_full, steps_fit))


def _check_clusters(rule, n_samples):
    """Fail before any network is trained when the rule's clusters do not fit the data."""
    clusters = rule.get_params(deep=False).get("clusters")
    n_labels = np.shape(clusters)[0] if np.ndim(clusters) else 0
    if clusters is not None and n_labels != n_samples:
        # In cross-validation the folds differ, so fixed labels cannot fit them.
        raise ValueError(
            f"the rule's clusters has {n_labels} labels for {n_samples} samples; "
            "it needs one per sample of the data passed to fit, so it cannot be fixed in "
            "advance for cross-validation folds"
        )


class CoresetSelector(OneToOneFeatureMixin, MetaEstimatorMixin, BaseEstimator):
    """Select a coreset from per-sample difficulties; a sampler and a meta-estimator.

    ``fit`` scores the training data with ``scorer``, keeps
    ``round((1 - pruning_ratio) * n_samples)`` samples with the ``strategy``
    rule and, when ``estimator`` is set, fits a clone of it on the coreset so
    that ``predict``/``predict_proba``/``score`` delegate to it.
    ``fit_resample`` returns the coreset itself (imbalanced-learn's sampler
    contract), so the selector works as a step of
    :class:`imblearn.pipeline.Pipeline`.

    Parameters
    ----------
    scorer : scorer, list of (str, scorer) or None, default=None
        An unfitted scorer (e.g. :class:`~skprune.TrainingDynamicsScorer`), or
        several as ``(name, scorer)`` pairs whose difficulties are combined by
        rank mean (see ``scorer_weights``); as with a
        :class:`~sklearn.pipeline.Pipeline`'s steps, ``name`` and
        ``name__param`` set a listed scorer and its parameters (e.g. in
        ``GridSearchCV``). None means :class:`~skprune.SIMScorer`
        with its defaults (the paper's method, with ``strategy="sims"``).
    pruning_ratio : float in [0, 1), default=0.5
        Fraction of the samples **removed**.
    strategy : str or rule, default="sims"
        Selection rule: a rule object of :mod:`skprune.sampling` (e.g.
        ``SIMSRule(label_noise=0.1)``, ``CCSRule(hard_fraction=0.1)``, or a
        :class:`~skprune.sampling.BaseRule` of your own; cloned in ``fit``), or
        the name of one with its defaults, one of
        :data:`skprune.sampling.STRATEGIES`. ``"sims"`` is SIM's
        ratio-adaptive importance sampling and accepts any scorer. The rule's
        parameters are searchable as ``strategy__<param>``. A rule whose
        ``label_noise`` is ``"auto"`` (SIMS's default) gets the fitted
        scorers' estimate (their ``label_noise_``, averaged over several
        scorers) as its hard cut; without an estimate, its own default cut.
        A rule whose ``uniform`` is ``"auto"`` (SIMS's default) gets
        :func:`~skprune.sampling.uniform_weight` of the scorers' ``skill_``:
        where the scoring nets fit the data poorly, the selection tends to
        random selection, with a :class:`LowSignalWarning` that names what
        to do.
    n_steps : int, default=1
        Number of selection steps. 1 selects the whole coreset from the
        scorer's difficulties. ``n_steps > 1`` runs incremental selection
        (UNSEEN's multi-step selection): the budget is split into ``n_steps``
        parts differing by at most one sample; step 1 selects the first part
        from the scorer fitted on all the data, and every later step fits a
        fresh clone of the scorer on the coreset selected so far, scores the
        samples not yet selected with its ``score_samples`` and adds the next
        part from them with the same ``strategy``. A step's scorer trains for
        as many SGD steps as on all the data (its ``max_epochs`` scaled by
        the ratio of batches per epoch, counted as skorch forms them: the
        training iterator's batch size, ``drop_last``), so small coresets
        are not undertrained; each step's training then costs about one scoring
        of the full data, plus the scoring of the remaining samples (for
        ``"forgetting"`` and ``"aum"``, one pass over them per recorded
        epoch). Needs a single scorer with ``score_samples``. Step 1 keeps
        at least ``min_per_class`` samples of every class, and at least as
        many as the scorer needs to be refitted (``n_subsets`` for
        :class:`~skprune.UnseenScorer`); later steps only add.
        ``class_balance`` applies to every step, over the remaining
        samples. With ``"sims"``, every step samples from the density of the
        overall ``pruning_ratio``. UNSEEN's paper adds the highest-scoring
        samples at each step: ``strategy="hard"``.
    estimator : estimator or None, default=None
        Fitted on the coreset (a clone) when given.
    class_balance : {"global", "hybrid", "proportional"} or float, default="hybrid"
        Share of the budget allocated per class before global selection.
    min_per_class : int, default=1
        No class keeps fewer samples than this (or all it has).
    class_difficulty : float in [0, 1], default=0.0
        Deprecated (it did not help on our benchmarks; removed in a later
        release). Off by default. Above 0, classes with a higher mean difficulty get a
        larger share of the class-dependent budget (see
        :func:`skprune.sampling.select`); pair it with
        ``class_balance="proportional"`` for the full effect.
    strategy_params : dict or None, default=None
        Deprecated: pass a rule object as ``strategy`` instead
        (``strategy_params={"label_noise": 0.1}`` is
        ``strategy=SIMSRule(label_noise=0.1)``). Set on the rule named by
        ``strategy``, with a ``FutureWarning``.
    scorer_weights : list of float or None, default=None
        Weights of the scorers' rank-normalized difficulties when ``scorer`` is a list.
    prefit : bool, default=False
        Whether ``scorer`` is already fitted on the data passed to ``fit`` (as
        in :class:`~sklearn.feature_selection.SelectFromModel`): its
        ``scores_`` are used as they are, nothing is refitted (later
        incremental steps still fit clones of it). ``memory`` is then unused.
    memory : str, joblib.Memory or None, default=None
        Caches the scorers' fits on (scorer parameters, data), so a grid search
        over ``pruning_ratio`` scores each training fold once.
    n_jobs : int or None, default=None
        Passed to scorers whose ``n_jobs`` is None.
    random_state : int, RandomState or None, default=None
        Seeds the selection and, when they have none, the scorers.
    verbose : int, default=0
        Progress output.

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        Combined difficulty of every training sample (higher = harder), from
        the scorer(s) fitted on all the data (step 1 when ``n_steps > 1``).
    sample_indices_ : ndarray of int
        Indices of the kept samples, sorted.
    sample_weight_ : ndarray of shape (n_kept,)
        Importance weights ``1 / (n · π_i)`` of the kept samples normalized to
        mean 1 for random rules (π = inclusion probability); ones otherwise,
        and always ones when ``n_steps > 1``: each step draws from the samples
        the earlier steps left, with scores that depend on what they drew, so
        a sample's overall inclusion probability is not defined. With
        ``strategy="sims"`` they are heavy-tailed: the density is near 0 at
        the easy end, so a rare easy sample can weigh hundreds of times the
        mean. Training on them made no consistent difference on our benchmark
        (docs/benchmarks.md); clip them (``np.minimum(w, c)``) if you use them.
    inclusion_probabilities_ : ndarray of shape (n_samples,) or None
        Inclusion probability of every sample for random rules with
        ``n_steps=1``; None otherwise. It is conditional on the class
        quotas of this draw: where classes tie for the odd samples of the
        class part, which of them gets one is drawn at random, and π is the
        probability given that outcome (so a π of 1 can be a sample kept in
        some draws only). The importance weights stay unbiased.
    step_sizes_ : ndarray of shape (n_steps,)
        Number of samples added at each step (sums to the coreset size).
    sample_steps_ : ndarray of shape (n_kept,)
        Step (1-based) at which each kept sample, in ``sample_indices_`` order,
        was added.
    scorers_ : list of (str, scorer)
        The fitted scorers.
    label_noise_ : float or None
        Estimated fraction of mislabeled training samples the ``"sims"`` rule
        cut (its ``label_noise``, see ``strategy``); None for rules without
        one, when it was None, or when no scorer estimates it.
    skill_ : float or None
        The scorers' mean ``skill_`` (how well their nets fit the labels they
        do not call wrong, in [0, 1]); None when no scorer reports one.
    uniform_ : float or None
        Weight of the uniform term the ``"sims"`` rule used (its ``uniform``,
        see ``strategy``): 1 = random selection; None for rules without one.
    sampling_strategy_ : dict
        Number of kept samples per class.
    classes_ : ndarray
        Class labels.
    estimator_ : estimator
        Clone of ``estimator`` fitted on the coreset (only when ``estimator`` is set).

    See Also
    --------
    skprune.TrainingDynamicsScorer : baseline scorers.
    skprune.sampling.select : the selection rules.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skprune import CoresetSelector, TrainingDynamicsScorer
    >>> X, y = make_classification(300, 10, random_state=0)
    >>> selector = CoresetSelector(TrainingDynamicsScorer(max_epochs=2), pruning_ratio=0.7,
    ...                            random_state=0)
    >>> X_core, y_core = selector.fit_resample(X, y)
    >>> X_core.shape
    (90, 10)
    """

    _parameter_constraints: dict = {
        "scorer": [None, list, HasMethods(["fit"])],
        "pruning_ratio": [Interval(Real, 0, 1, closed="left")],
        "strategy": [StrOptions(set(STRATEGIES)), HasMethods(["select"])],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "estimator": [None, HasMethods(["fit"])],
        "class_balance": [
            StrOptions({"global", "hybrid", "proportional"}),
            Interval(Real, 0, 1, closed="both"),
        ],
        "min_per_class": [Interval(Integral, 0, None, closed="left")],
        "class_difficulty": [Interval(Real, 0, 1, closed="both")],
        "strategy_params": [None, dict],
        "scorer_weights": [None, "array-like"],
        "prefit": ["boolean"],
        "memory": [None, str, HasMethods(["cache"])],
        "n_jobs": [None, Integral],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        scorer=None,
        *,
        pruning_ratio=0.5,
        strategy="sims",
        n_steps=1,
        estimator=None,
        class_balance="hybrid",
        min_per_class=1,
        class_difficulty=0.0,
        strategy_params=None,
        scorer_weights=None,
        prefit=False,
        memory=None,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.scorer = scorer
        self.pruning_ratio = pruning_ratio
        self.strategy = strategy
        self.n_steps = n_steps
        self.estimator = estimator
        self.class_balance = class_balance
        self.min_per_class = min_per_class
        self.class_difficulty = class_difficulty
        self.strategy_params = strategy_params
        self.scorer_weights = scorer_weights
        self.prefit = prefit
        self.memory = memory
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # --- parameters of a named scorer list ----------------------------------------

    def _scorer_pairs(self):
        """The ``(name, scorer)`` pairs of a well-formed scorer list, else an empty list."""
        if not isinstance(self.scorer, list) or not all(
            isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
            for item in self.scorer
        ):
            return []
        return self.scorer

    def get_params(self, deep=True):
        """Get parameters; with a scorer list, also each scorer by name and its parameters.

        As for :class:`~sklearn.pipeline.Pipeline`'s steps, a scorer named
        ``"el2n"`` in the list is ``el2n`` and its epochs ``el2n__max_epochs``,
        so they can be set and searched over.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of the sub-estimators.

        Returns
        -------
        params : dict
        """
        params = super().get_params(deep=deep)
        if deep:
            for name, scorer in self._scorer_pairs():
                params[name] = scorer
                if hasattr(scorer, "get_params"):
                    for key, value in scorer.get_params(deep=True).items():
                        params[f"{name}__{key}"] = value
        return params

    def set_params(self, **params):
        """Set parameters, including a listed scorer (``name``) or its parameters (``name__param``).

        Parameters
        ----------
        **params : dict

        Returns
        -------
        self
        """
        # The whole list first, then named replacements, then everything else
        # (nested parameters reach the scorers through get_params).
        if "scorer" in params:
            self.scorer = params.pop("scorer")
        names = [name for name, _ in self._scorer_pairs()]
        for name in [key for key in params if key in names]:
            replacement = params.pop(name)
            self.scorer = [
                (own, replacement if own == name else scorer) for own, scorer in self.scorer
            ]
        return super().set_params(**params)

    # --- helpers ---------------------------------------------------------------

    def _named_scorers(self):
        if self.scorer is None:
            return [("sim", SIMScorer())]
        if isinstance(self.scorer, list):
            if not self.scorer or not all(
                isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                for item in self.scorer
            ):
                raise ValueError(
                    f"scorer as a list must hold (name, scorer) pairs, got {self.scorer!r}"
                )
            names = [name for name, _ in self.scorer]
            if len(set(names)) != len(names):
                raise ValueError(f"scorer names must be unique, got {names}")
            clashes = sorted(set(names) & set(super().get_params(deep=False)))
            if clashes or any("__" in name for name in names):
                raise ValueError(
                    f"scorer names must not contain '__' nor be CoresetSelector parameters "
                    f"(they name the scorers' parameters, as in 'el2n__max_epochs'); got {names}"
                )
            return list(self.scorer)
        return [(type(self.scorer).__name__, self.scorer)]

    def _configured(self, scorer, seed):
        """Clone a scorer, handing down the selector's seed and n_jobs where it has none."""
        scorer = clone(scorer)
        params = scorer.get_params(deep=False)
        updates = {}
        if "random_state" in params and params["random_state"] is None:
            updates["random_state"] = int(seed)
        if "n_jobs" in params and params["n_jobs"] is None and self.n_jobs is not None:
            updates["n_jobs"] = self.n_jobs
        if "verbose" in params and not params["verbose"] and self.verbose:
            updates["verbose"] = self.verbose
        return scorer.set_params(**updates)

    def _check_data(self, X, y):
        if is_dataset(X):
            raise TypeError(
                f"CoresetSelector needs X as an array or DataFrame (it returns rows of X), got "
                f"a {type(X).__name__}. For a dataset, fit a scorer on it (scorers read "
                "datasets lazily) and pass scorer.scores_ to skprune.sampling.select, then "
                "take the selected indices with torch.utils.data.Subset."
            )
        # "numeric" keeps float32/int inputs as they are and converts object arrays;
        # validate_data also records n_features_in_ and feature_names_in_.
        X_checked = validate_data(
            self,
            X,
            dtype="numeric",
            allow_nd=True,
            accept_sparse=("csr", "csc"),
            ensure_all_finite=True,
            ensure_min_samples=2,
        )
        if hasattr(X_checked, "toarray"):
            # Networks need dense input; sparse rows are still returned sparse.
            X_checked = X_checked.toarray()
        y, one_hot = _to_labels(y)
        if y.shape[0] != X_checked.shape[0]:
            raise ValueError(
                f"X and y have different lengths: {X_checked.shape[0]} and {y.shape[0]} samples"
            )
        check_classification_targets(y)
        return X_checked, y, one_hot

    # --- fitting ---------------------------------------------------------------

    def _select(self, X, y):
        self._validate_params()
        X_checked, y, one_hot = self._check_data(X, y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if self.classes_.size < 2:
            raise ValueError(
                "CoresetSelector needs at least 2 classes, got 1 class "
                f"({self.classes_[0].tolist()!r})"
            )
        y_codes = encoder.transform(y)

        rule = self._rule()
        _check_clusters(rule, y.shape[0])
        rng = check_random_state(self.random_state)
        named = self._named_scorers()
        if self.n_steps > 1:
            # Fail before any network is trained.
            self._check_incremental(named, y_codes)
        self._check_strategy(rule, y_codes)
        if self.scorer_weights is not None:
            # The same check as combine_difficulties', before any network is trained.
            combine_difficulties([np.zeros(1)] * len(named), weights=self.scorer_weights)
        seeds = rng.randint(np.iinfo(np.int32).max, size=len(named))
        fit_scorer = check_memory(self.memory).cache(_fit_scorer)
        self.scorers_ = self._fitted_scorers(named, seeds, fit_scorer, X_checked, y)
        difficulties = [fitted.scores_ for _, fitted in self.scorers_]
        if len(difficulties) == 1 and self.scorer_weights is None:
            self.scores_ = np.asarray(difficulties[0], dtype=np.float64)
        else:
            self.scores_ = combine_difficulties(difficulties, weights=self.scorer_weights)

        rule = self._with_estimates(rule)
        if self.n_steps == 1:
            self._select_once(rule, y_codes, rng)
        else:
            self._select_incremental(X_checked, y, y_codes, named[0][1], rng, fit_scorer, rule)
        kept_codes = np.bincount(y_codes[self.sample_indices_], minlength=self.classes_.size)
        self.sampling_strategy_ = dict(
            zip(self.classes_.tolist(), kept_codes.tolist(), strict=True)
        )
        self.n_samples_in_ = y.shape[0]
        if self.verbose:
            print(
                f"[CoresetSelector] kept {self.sample_indices_.size} of {y.shape[0]} samples "
                f"(pruning_ratio={self.pruning_ratio}, strategy={rule!r})"
            )
        return one_hot

    def _fitted_scorers(self, named, seeds, fit_scorer, X, y):
        """The ``(name, scorer)`` pairs fitted on ``(X, y)`` (as given with ``prefit``), checked."""
        if self.prefit:
            scorers = list(named)
        else:
            scorers = []
            for (name, scorer), seed in zip(named, seeds, strict=True):
                if self.verbose:
                    print(f"[CoresetSelector] scoring with {name} ({type(scorer).__name__})")
                fitted = fit_scorer(self._configured(scorer, seed), X, y)
                scorers.append((name, fitted))
        for name, fitted in scorers:
            scores = getattr(fitted, "scores_", None)
            if scores is None or np.shape(scores) != (y.shape[0],):
                raise TypeError(
                    f"scorer {name!r} ({type(fitted).__name__}) must set scores_, one difficulty "
                    f"per training sample, in fit; got "
                    + ("none" if scores is None else f"shape {np.shape(scores)}")
                    + (
                        ". With prefit=True, fit the scorer on the same data first."
                        if self.prefit
                        else ". Use a skprune scorer, or subclass skprune.scorers.BaseScorer."
                    )
                )
        return scorers

    def _select_once(self, rule, y_codes, rng):
        """Select the whole coreset from ``scores_`` in one step; set the selection attributes."""
        selection = select(
            rule,
            self.scores_,
            y_codes,
            self.pruning_ratio,
            class_balance=self.class_balance,
            min_per_class=self.min_per_class,
            class_difficulty=self.class_difficulty,
            random_state=rng,
        )
        self.sample_indices_ = selection.indices
        self.inclusion_probabilities_ = selection.probabilities
        if selection.probabilities is None:
            self.sample_weight_ = np.ones(selection.indices.size)
        else:
            weights = 1.0 / selection.probabilities[selection.indices]
            self.sample_weight_ = weights / weights.mean()
        self.step_sizes_ = np.array([selection.indices.size])
        self.sample_steps_ = np.ones(selection.indices.size, dtype=np.intp)

    # --- incremental (multi-step) selection --------------------------------------

    def _check_incremental(self, named, y_codes):
        """Reject settings that incremental selection cannot run with, before any training."""
        if isinstance(self.scorer, list):
            raise ValueError(
                f"n_steps={self.n_steps} needs a single scorer, got a list of "
                f"{len(named)}: every step refits the scorer on the coreset so far. Pass one "
                "scorer, or use n_steps=1 to combine several."
            )
        name, scorer = named[0]
        if not callable(getattr(scorer, "score_samples", None)):
            raise TypeError(
                f"n_steps={self.n_steps} needs a scorer with a score_samples(X, y) method to "
                f"score the samples not yet selected; {type(scorer).__name__} has none. Use a "
                "skprune scorer or n_steps=1."
            )
        n_samples = y_codes.size
        n_keep = coreset_size(n_samples, self.pruning_ratio)
        if self.n_steps > n_keep:
            raise ValueError(
                f"n_steps={self.n_steps} is more than the {n_keep} samples the coreset keeps "
                f"(pruning_ratio={self.pruning_ratio}, {n_samples} samples); use "
                f"n_steps <= {n_keep}"
            )
        class_sizes = np.bincount(y_codes)
        floor = self._first_step_floor(scorer)
        floors = np.minimum(class_sizes, floor)
        first = int(_split_budget(n_keep, self.n_steps)[0])
        if floors.sum() > first:
            needed = (
                f"min_per_class={self.min_per_class}"
                if floor == self.min_per_class
                else f"the {floor} samples {type(scorer).__name__} needs to be refitted"
            )
            raise ValueError(
                f"the first of n_steps={self.n_steps} steps keeps {first} samples, fewer than "
                f"{needed} for each of the {class_sizes.size} classes; use fewer steps or a "
                "lower pruning_ratio"
                + (" or a lower min_per_class" if floor == self.min_per_class else "")
            )
        # Step 2 refits on the smallest coreset; a batch count of zero fails here, untrained.
        _with_fixed_iterations(clone(scorer), first, n_samples)

    def _first_step_floor(self, scorer):
        """Per-class floor of step 1: ``min_per_class``, raised to what the step scorers need.

        Every later step refits the scorer on the coreset so far (e.g. UNSEEN
        needs ``n_subsets`` samples of each class), and steps only add samples.
        """
        return max(self.min_per_class, int(getattr(scorer, "min_class_size", 1)))

    def _rule(self):
        """A fresh rule from ``strategy`` (and the deprecated ``strategy_params``)."""
        if self.strategy_params is not None:
            warnings.warn(
                "strategy_params is deprecated and will be removed in a later release; pass a "
                "rule object as strategy, e.g. strategy=SIMSRule(label_noise=0.1) or "
                "strategy=CCSRule(hard_fraction=0.1) (skprune.sampling)",
                FutureWarning,
                stacklevel=4,
            )
        if self.class_difficulty:
            warnings.warn(
                "class_difficulty is deprecated and will be removed in a later release",
                FutureWarning,
                stacklevel=4,
            )
        return _rule_from_params(self.strategy, self.strategy_params)

    def _check_strategy(self, rule, y_codes):
        # The scorers' label-noise estimate is not known yet: check_rule reads "auto" as none.
        try:
            check_rule(
                rule,
                y_codes,
                self.pruning_ratio,
                class_balance=self.class_balance,
                min_per_class=self.min_per_class,
            )
        except TypeError as error:
            raise TypeError(f"strategy {rule!r} cannot select: {error}") from None

    def _with_estimates(self, rule):
        """``rule`` with ``label_noise="auto"`` and ``uniform="auto"`` set from the scorers.

        Sets ``label_noise_``, ``skill_`` and ``uniform_``. The estimates come
        from the scorers fitted on all the data, so every incremental step
        cuts the same fraction with the same uniform weight.
        """
        params = rule.get_params(deep=False)
        scorers = [scorer for _, scorer in self.scorers_]
        self.skill_ = scorers_label_noise(scorers, "skill_")
        self.label_noise_ = self.uniform_ = None
        if "label_noise" in params:
            noise = params["label_noise"]
            if isinstance(noise, str) and noise == "auto":
                noise = scorers_label_noise(scorers)
                rule = rule.set_params(label_noise=noise)
            self.label_noise_ = None if isinstance(noise, str) else noise
        if "uniform" in params:
            uniform = params["uniform"]
            if isinstance(uniform, str) and uniform == "auto":
                uniform = 0.0 if self.skill_ is None else uniform_weight(self.skill_)
                rule = rule.set_params(uniform=uniform)
                if uniform >= 0.5:
                    warnings.warn(
                        f"the scoring nets fit the training data poorly (skill "
                        f"{self.skill_:.2f}; 1 = every label they keep predicted): their "
                        f"scores carry little signal, so the selection is "
                        + ("random" if uniform == 1.0 else "close to random")
                        + (" among the samples not cut as mislabeled" if self.label_noise_ else "")
                        + f" (strategy uniform={uniform:.2f}). Train the scoring nets longer "
                        "(e.g. max_epochs=10 on the scorer), use a stronger net, or pass "
                        "strategy=SIMSRule(uniform=0) to trust the scores anyway; "
                        "SIMSRule(label_noise=...) sets the cut if you know the noise rate",
                        LowSignalWarning,
                        stacklevel=4,
                    )
            self.uniform_ = None if isinstance(uniform, str) else float(uniform)
        return rule

    def _select_exactly(self, scores, y_codes, k, rng, min_per_class, rule):
        """Indices (into ``scores``) of exactly ``k`` samples chosen by ``rule``.

        The rule gets the overall ``pruning_ratio``, so a ratio-adaptive rule
        (SIMS) samples every step from the density of the overall ratio.
        """
        selection = select(
            rule,
            scores,
            y_codes,
            self.pruning_ratio,
            n_keep=int(k),
            class_balance=self.class_balance,
            min_per_class=min_per_class,
            class_difficulty=self.class_difficulty,
            random_state=rng,
        )
        return selection.indices

    def _select_incremental(self, X, y, y_codes, scorer, rng, fit_scorer, rule):
        """UNSEEN's multi-step selection; sets the selection attributes."""
        n_samples = y_codes.size
        n_keep = coreset_size(n_samples, self.pruning_ratio)
        sizes = _split_budget(n_keep, self.n_steps)
        # Step 1: the scores of the scorer fitted on all the data; the class floors hold here.
        step_of = np.zeros(n_samples, dtype=np.intp)
        floor = self._first_step_floor(scorer)
        step_of[self._select_exactly(self.scores_, y_codes, sizes[0], rng, floor, rule)] = 1
        self._report_step(1, sizes, step_of)
        for step in range(2, self.n_steps + 1):
            coreset = np.flatnonzero(step_of)
            remaining = np.flatnonzero(step_of == 0)
            seed = rng.randint(np.iinfo(np.int32).max)
            step_scorer = _with_fixed_iterations(
                self._configured(scorer, seed), coreset.size, n_samples
            )
            fitted = fit_scorer(step_scorer, X[coreset], y[coreset])
            scores = np.asarray(fitted.score_samples(X[remaining], y[remaining]), dtype=float)
            step_rule = rule
            clusters = rule.get_params(deep=False).get("clusters")
            if clusters is not None:  # per-sample labels follow the samples
                step_rule = clone(rule).set_params(clusters=np.asarray(clusters)[remaining])
            # Later steps only add: the floors were met at step 1, so none is imposed again.
            picked = self._select_exactly(
                scores, y_codes[remaining], sizes[step - 1], rng, 0, step_rule
            )
            step_of[remaining[picked]] = step
            self._report_step(step, sizes, step_of)
        self.sample_indices_ = np.flatnonzero(step_of)
        self.sample_steps_ = step_of[self.sample_indices_]
        self.step_sizes_ = sizes
        # Inclusion probabilities are not defined across steps (see sample_weight_).
        self.inclusion_probabilities_ = None
        self.sample_weight_ = np.ones(self.sample_indices_.size)

    def _report_step(self, step, sizes, step_of):
        if self.verbose:
            print(
                f"[CoresetSelector] step {step}/{self.n_steps}: added {sizes[step - 1]} "
                f"samples, {np.count_nonzero(step_of)} of {int(sizes.sum())} selected"
            )

    def fit(self, X, y):
        """Score and select the coreset; fit a clone of ``estimator`` on it if set.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features) or image array
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        self._select(X, y)
        if self.estimator is not None:
            labels, _ = _to_labels(y)
            self.estimator_ = clone(self.estimator).fit(
                _rows(X, self.sample_indices_), labels[self.sample_indices_]
            )
        return self

    def fit_resample(self, X, y):
        """Score, select and return the coreset.

        The containers are kept: a DataFrame / Series / list comes back as one,
        dtypes are preserved, and one-hot ``y`` comes back one-hot.

        Parameters
        ----------
        X : array-like or DataFrame
        y : array-like of shape (n_samples,)

        Returns
        -------
        X_core : same type as X
        y_core : same type as y
        """
        check_classification_targets(y)
        self._select(X, y)
        indices = self.sample_indices_
        return _rows(X, indices), _rows(y, indices)

    def get_support(self, indices=False):
        """Mask, or indices, of the kept training samples.

        Parameters
        ----------
        indices : bool, default=False
            Return sorted indices instead of a boolean mask.

        Returns
        -------
        support : ndarray
        """
        check_is_fitted(self, "sample_indices_")
        if indices:
            return self.sample_indices_.copy()
        mask = np.zeros(self.n_samples_in_, dtype=bool)
        mask[self.sample_indices_] = True
        return mask

    # --- delegation to the estimator fitted on the coreset ---------------------

    @available_if(_estimator_has("predict"))
    def predict(self, X):
        """Predict with the estimator fitted on the coreset."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the estimator fitted on the coreset."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from the estimator fitted on the coreset."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the estimator fitted on the coreset."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X)

    @available_if(_estimator_has("score"))
    def score(self, X, y, sample_weight=None):
        """Score of the estimator fitted on the coreset (e.g. accuracy)."""
        check_is_fitted(self, "estimator_")
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        return self.estimator_.score(X, y, **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags = _SamplerInputTags(
            **{f.name: getattr(tags.input_tags, f.name) for f in fields(tags.input_tags)}
        )
        tags.input_tags.sparse = True
        if self.estimator is not None:
            estimator_tags = self.estimator.__sklearn_tags__()
            tags.estimator_type = estimator_tags.estimator_type
            tags.classifier_tags = estimator_tags.classifier_tags
            return tags
        tags.estimator_type = "sampler"
        return _SamplerAwareTags(
            **{f.name: getattr(tags, f.name) for f in fields(tags)},
            sampler_tags=SamplerTags(sample_indices=True),
        )
