"""Accuracy-vs-pruning-ratio harness: score, select, train on the coreset, test.

The harness behind ``skprune bench``, ``skprune demo`` and the scripts in
``benchmarks/``. One run crosses selection **methods** with **pruning ratios**
and **seeds**; for every seed it

1. trains the target net on all the (possibly noisy) training data (the
   ``"full"`` row);
2. fits every scorer the methods need **once** and times that fit on its own;
3. selects a coreset per method and ratio, trains the target net on it and
   measures its test accuracy.

A method is a :class:`Method`: a scorer (a name in :data:`SCORERS`, whose
value builds the scorer) plus a selection rule of :mod:`skprune.sampling`
and its parameters. :data:`METHODS` holds the named methods and
:data:`SUITES` the method lists the command line runs by default; adding a
method is one entry in :data:`METHODS` (and one in :data:`SCORERS` for a new
scorer). Random selection is a method too, and the runner always includes it
so every result is compared with random selection in the same run.

:func:`check_run` validates a run's settings before any training;
:func:`run_benchmark` returns tidy rows (a list of dicts, one per method,
ratio and seed); :func:`summarize` reduces them over seeds;
:func:`format_by_ratio`, :func:`format_markdown`, :func:`write_csv`,
:func:`plot_accuracy` and :func:`plot_times` write them out. Nothing here
needs pandas; plots need matplotlib (the ``plot`` extra), imported only when
a plot is drawn.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from tqdm import tqdm

from .datasets import add_label_noise
from .nets import make_default_net, seeded
from .sampling import STRATEGIES, BaseRule, check_rule, coreset_size, make_rule, select
from .scorers import make_scorer
from .selection import CoresetSelector
from .utils import equal_steps

__all__ = [
    "Method",
    "SCORERS",
    "METHODS",
    "SUITES",
    "describe_method",
    "run_benchmark",
    "check_run",
    "equal_step_epochs",
    "train_and_evaluate",
    "summarize",
    "write_csv",
    "format_markdown",
    "format_by_ratio",
    "plot_accuracy",
    "plot_times",
]

_SELECTOR_KEYS = ("class_balance", "min_per_class")


@dataclass(frozen=True)
class Method:
    """A coreset selection method: a scorer and a selection rule.

    Parameters
    ----------
    name : str
        Label of the method in tables and plots, e.g. ``"sims/sim"``
        (``rule/scorer`` by convention). ``"full"`` is reserved for the
        full-data row.
    scorer : str or None, default=None
        Key of the scorer in the ``scorers`` mapping of :func:`run_benchmark`
        (:data:`SCORERS` by default); None for rules without scores
        (``"random"``). Methods naming the same scorer share one fit per seed.
    strategy : str or rule, default="random"
        Selection rule: a rule object of :mod:`skprune.sampling` or the name
        of one (:data:`skprune.sampling.STRATEGIES`).
    params : dict, default={}
        The named rule's parameters (``hard_fraction`` for ``"ccs"``) and the
        selector's ``class_balance``, ``min_per_class``.
    n_steps : int, default=1
        Above 1, selects with :class:`~skprune.CoresetSelector`'s incremental
        multi-step selection (UNSEEN); step 1 reuses the scorer fitted in the
        scoring phase, later steps refit it on the coreset so far (their time
        counts as selection time).

    Examples
    --------
    >>> from skprune.benchmark import Method
    >>> Method("ccs/el2n", "el2n", "ccs", {"hard_fraction": 0.1})
    Method(name='ccs/el2n', scorer='el2n', strategy='ccs', params={'hard_fraction': 0.1}, n_steps=1)
    >>> Method("hard/x", None, "hard")
    Traceback (most recent call last):
    ...
    ValueError: method 'hard/x': strategy 'hard' needs a scorer; only 'random' works without one
    """

    name: str
    scorer: str | None = None
    strategy: str = "random"
    params: Mapping = field(default_factory=dict)
    n_steps: int = 1

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name or self.name == "full":
            raise ValueError(
                f"a method needs a non-empty name other than 'full' (the full-data row), "
                f"got {self.name!r}"
            )
        if not isinstance(self.strategy, BaseRule) and self.strategy not in STRATEGIES:
            raise ValueError(
                f"method {self.name!r}: unknown strategy {self.strategy!r}; choose one of "
                f"{list(STRATEGIES)}"
            )
        if self.scorer is None and make_rule(self.strategy).requires_scores:
            raise ValueError(
                f"method {self.name!r}: strategy {self.strategy!r} needs a scorer; only "
                "'random' works without one"
            )
        if not isinstance(self.n_steps, Integral) or self.n_steps < 1:
            raise ValueError(f"method {self.name!r}: n_steps must be >= 1, got {self.n_steps!r}")
        if self.n_steps > 1 and self.scorer is None:
            raise ValueError(f"method {self.name!r}: n_steps > 1 needs a scorer")


# --- the registry ---------------------------------------------------------------------
# A scorer factory takes the run's target epochs, a seed and a device and returns an
# unfitted scorer; its docstring describes it on the results page. The training-dynamics
# scorers train for the target epochs; SIM keeps its short default (2 epochs per net),
# which is what makes it cheap.


def _sim(*, epochs, random_state, device):
    """SIM (`SIMScorer` defaults): K = 2 half-width nets of 2 epochs."""
    return make_scorer("sim", device=device, random_state=random_state)


def _unseen(*, epochs, random_state, device):
    """UNSEEN margin (`UnseenScorer`): K = 3 subsets, nets of the target epochs."""
    return make_scorer(
        "unseen", n_subsets=3, max_epochs=epochs, device=device, random_state=random_state
    )


def _diffin(*, epochs, random_state, device):
    """Diff-In (`DiffInScorer` defaults): harm to a validation split, net of the target epochs."""
    return make_scorer("diffin", max_epochs=epochs, device=device, random_state=random_state)


def _el2n(*, epochs, random_state, device):
    """EL2N (`TrainingDynamicsScorer`): mean over 2 nets of the target epochs."""
    return make_scorer(
        "el2n", n_models=2, max_epochs=epochs, device=device, random_state=random_state
    )


def _forgetting(*, epochs, random_state, device):
    """Forgetting events (`TrainingDynamicsScorer`): 1 net of the target epochs."""
    return make_scorer("forgetting", max_epochs=epochs, device=device, random_state=random_state)


SCORERS = {
    "sim": _sim,
    "unseen": _unseen,
    "diffin": _diffin,
    "el2n": _el2n,
    "forgetting": _forgetting,
}
"""Scorer factories by name: ``factory(*, epochs, random_state, device) -> scorer``."""

METHODS = {
    method.name: method
    for method in [
        Method("random", None, "random"),
        Method("sims/sim", "sim", "sims"),
        Method("ccs/sim", "sim", "ccs"),
        Method("hard/unseen", "unseen", "hard"),
        # Multi-step UNSEEN: each step's scorer needs K = 3 samples of every class in the
        # coreset so far, so step 1 keeps at least 4 per class (fits α = 0.9 on digits).
        Method("hard/unseen-3step", "unseen", "hard", {"min_per_class": 4}, n_steps=3),
        # Diff-In's difficulty is the harm (negated influence): "easy" keeps the most
        # helpful. It is measured here because it is the natural rule, but it loses to
        # random (it concentrates on high-loss samples); "ccs" spreads the budget over
        # the range.
        Method("easy/diffin", "diffin", "easy"),
        Method("ccs/diffin", "diffin", "ccs"),
        Method("ccs/el2n", "el2n", "ccs", {"hard_fraction": 0.1}),
        Method("hard/el2n", "el2n", "hard"),
        Method("easy/el2n", "el2n", "easy"),
        Method("sims/el2n", "el2n", "sims"),
        Method("hard/forgetting", "forgetting", "hard"),
    ]
}
"""The named methods, by name (``rule/scorer``)."""

SUITES = {
    "bench": (
        "random",
        "sims/sim",
        "hard/unseen",
        "hard/unseen-3step",
        "easy/diffin",
        "ccs/diffin",
        "ccs/el2n",
        "hard/el2n",
        "hard/forgetting",
    ),
    "demo": ("random", "sims/sim", "hard/unseen-3step", "ccs/diffin", "ccs/el2n"),
}
"""Method names run by ``skprune bench`` and ``skprune demo`` by default."""


def describe_method(method, scorers=None):
    """One line saying what a method does: its scorer, rule and rule parameters.

    Parameters
    ----------
    method : str or Method
    scorers : mapping or None, default=None
        Scorer factories (default :data:`SCORERS`); the first line of a
        factory's docstring describes its scorer.

    Returns
    -------
    str

    Examples
    --------
    >>> from skprune.benchmark import describe_method
    >>> describe_method(Method("ccs/sim", "sim", "ccs", {"hard_fraction": 0.1}))
    'SIM (`SIMScorer` defaults): K = 2 half-width nets of 2 epochs; rule `ccs` (hard_fraction=0.1)'
    >>> describe_method("random")
    'no scores; rule `random`'
    """
    scorers = SCORERS if scorers is None else scorers
    method = METHODS[method] if isinstance(method, str) else method
    if method.scorer is None:
        what = "no scores"
    else:
        factory = scorers[method.scorer]
        what = ((factory.__doc__ or "").strip().splitlines() or [method.scorer])[0].rstrip(".")
    rule = f"rule `{method.strategy}`"
    if method.params:
        rule += " (" + ", ".join(f"{k}={v!r}" for k, v in method.params.items()) + ")"
    if method.n_steps > 1:
        rule += f", {method.n_steps}-step incremental selection"
    return f"{what}; {rule}"


# --- training ---------------------------------------------------------------------------


def equal_step_epochs(epochs, n_full, n_kept):
    """Epochs that give a coreset of ``n_kept`` samples as many SGD steps as ``epochs`` on all.

    ``ceil(epochs * n_full / n_kept)``: with a fixed batch size, a coreset
    trained for this many epochs takes about as many optimizer steps as the
    full data does in ``epochs``.

    Examples
    --------
    >>> from skprune.benchmark import equal_step_epochs
    >>> equal_step_epochs(10, 1000, 300)
    34
    >>> equal_step_epochs(10, 1000, 1000)
    10
    """
    return equal_steps(epochs, n_full, n_kept)


def train_and_evaluate(
    X, y, X_test, y_test, *, n_classes, epochs, seed, device="cpu", make_net=None
):
    """Train the target net on ``(X, y)`` and return its test accuracy.

    Parameters
    ----------
    X, y : ndarray
        Training data (a coreset or all of it); ``y`` holds integer codes
        ``0 .. n_classes - 1``.
    X_test, y_test : ndarray
        Test data, labels coded like ``y``.
    n_classes : int
        Number of classes (output units of the net).
    epochs : int
        Training epochs.
    seed : int
        Seeds the net's initialization and batch order.
    device : str, default="cpu"
        Device of the net.
    make_net : callable or None, default=None
        ``make_net(X, n_classes, max_epochs=..., device=...)`` returning an
        unfitted skorch classifier; None uses :func:`skprune.nets.make_default_net`.

    Returns
    -------
    float
        Fraction of ``X_test`` classified correctly.

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.benchmark import train_and_evaluate
    >>> X = np.repeat(np.eye(2, dtype=np.float32), 20, axis=0)
    >>> y = np.repeat([0, 1], 20)
    >>> train_and_evaluate(X, y, X, y, n_classes=2, epochs=20, seed=0)
    1.0
    """
    make_net = make_default_net if make_net is None else make_net
    net = make_net(X, n_classes, max_epochs=epochs, device=device)
    with seeded(seed):
        net.fit(X, y)
    return float(np.mean(net.predict(X_test) == y_test))


def _resolve_methods(methods, scorers):
    resolved = []
    for method in methods:
        if isinstance(method, str):
            if method not in METHODS:
                raise ValueError(f"unknown method {method!r}; choose from {sorted(METHODS)}")
            method = METHODS[method]
        elif not isinstance(method, Method):
            raise TypeError(f"methods must be names or Method objects, got {method!r}")
        if method.scorer is not None and method.scorer not in scorers:
            raise ValueError(
                f"method {method.name!r} needs scorer {method.scorer!r}, which is not among "
                f"the scorers {sorted(scorers)}"
            )
        resolved.append(method)
    if not any(method.name == "random" and method.scorer is None for method in resolved):
        resolved.insert(0, METHODS["random"])
    names = [method.name for method in resolved]
    if len(set(names)) != len(names):
        raise ValueError(f"method names must be unique, got {names}")
    return resolved


def _check_run(ratios, seeds, epochs, label_noise):
    ratios = list(ratios)
    if not ratios:
        raise ValueError("ratios is empty; give at least one pruning ratio")
    for ratio in ratios:
        if not isinstance(ratio, Real) or not 0.0 <= ratio < 1.0:
            raise ValueError(f"pruning ratios (fractions removed) must be in [0, 1), got {ratio!r}")
    seeds = list(seeds)
    if not seeds or not all(isinstance(seed, Integral) for seed in seeds):
        raise ValueError(f"seeds must be a non-empty sequence of integers, got {seeds!r}")
    if not isinstance(epochs, Integral) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if not isinstance(label_noise, Real) or not 0.0 <= label_noise < 1.0:
        raise ValueError(f"label_noise must be in [0, 1), got {label_noise!r}")
    return [float(ratio) for ratio in ratios], [int(seed) for seed in seeds]


def _check_selections(methods, ratios, y_codes):
    """Reject a method and ratio whose selection cannot run: class floors it cannot hold
    (for a multi-step method, in its first step) or rule parameters it does not take.

    The selection would raise the same, but only once the run reaches that method
    and ratio; this fails before any training.
    """
    class_sizes = np.bincount(y_codes)
    for method in methods:
        if method.n_steps == 1:
            for ratio in ratios:
                try:
                    rule, budget = _rule_and_budget(method)
                    check_rule(rule, y_codes, ratio, **budget)
                except ValueError as error:
                    raise ValueError(
                        f"method {method.name!r} cannot run at pruning ratio {ratio:g}: {error}"
                    ) from None
            continue
        min_per_class = method.params.get("min_per_class", 1)
        needed = int(np.minimum(class_sizes, min_per_class).sum())
        for ratio in ratios:
            first = -(-coreset_size(y_codes.size, ratio) // method.n_steps)
            if needed > first:
                raise ValueError(
                    f"method {method.name!r} cannot run at pruning ratio {ratio:g}: the first "
                    f"of its {method.n_steps} steps keeps {first} samples, fewer than "
                    f"min_per_class={min_per_class} for each of the {class_sizes.size} classes; "
                    "use lower ratios or leave the method out"
                )


def _encode_labels(y_train, y_test):
    classes, y_train_codes = np.unique(np.asarray(y_train), return_inverse=True)
    y_test = np.asarray(y_test)
    unseen = np.setdiff1d(y_test, classes)
    if unseen.size:
        raise ValueError(
            f"y_test holds classes absent from y_train: {unseen.tolist()[:10]}; a net "
            "cannot predict them"
        )
    return classes.size, y_train_codes, np.searchsorted(classes, y_test)


def check_run(y_train, y_test, methods, ratios, seeds, *, epochs=10, label_noise=0.0, scorers=None):
    """Check a benchmark run's settings before any training; :func:`run_benchmark` calls it.

    Parameters
    ----------
    y_train, y_test : array-like
        Training and test labels.
    methods, ratios, seeds, epochs, label_noise, scorers
        As in :func:`run_benchmark`.

    Returns
    -------
    methods : list of Method
        The methods resolved from their names, ``"random"`` first when it was absent.
    ratios : list of float
    seeds : list of int

    Raises
    ------
    ValueError
        With a one-line message: an unknown method or scorer, a ratio outside
        [0, 1), no seeds, test classes absent from training, a ratio at which a
        method cannot keep its class floors (for a multi-step method, in its
        first step), or rule parameters a method's strategy does not take.

    Examples
    --------
    >>> from skprune.benchmark import check_run
    >>> methods, ratios, seeds = check_run([0, 1] * 10, [0, 1], ["sims/sim"], [0.5], range(2))
    >>> [method.name for method in methods], ratios, seeds
    (['random', 'sims/sim'], [0.5], [0, 1])
    >>> check_run([0, 1] * 10, [0, 1], ["sims/sim"], [1.5], [0])
    Traceback (most recent call last):
    ...
    ValueError: pruning ratios (fractions removed) must be in [0, 1), got 1.5
    """
    scorers = SCORERS if scorers is None else scorers
    methods = _resolve_methods(methods, scorers)
    ratios, seeds = _check_run(ratios, seeds, epochs, label_noise)
    _, y_codes, _ = _encode_labels(y_train, y_test)
    _check_selections(methods, ratios, y_codes)
    return methods, ratios, seeds


def run_benchmark(
    X_train,
    y_train,
    X_test,
    y_test,
    methods,
    ratios,
    seeds,
    *,
    epochs=10,
    equal_steps=True,
    label_noise=0.0,
    scorers=None,
    make_net=None,
    device="cpu",
    progress=False,
):
    """Test accuracy of coresets from several methods, ratios and seeds, beside random and full.

    For every seed: trains the target net on all the training data; fits each
    scorer the methods need once (timed on its own); then for every ratio and
    method selects a coreset, trains the target net on it and tests it. Seed
    ``s`` seeds the label noise, the scorers, the random rules and the target
    net's initialization and batch order, so a run is reproducible and every
    method meets the same seeds.

    Parameters
    ----------
    X_train, y_train : ndarray
        Training data; labels of any type (encoded internally).
    X_test, y_test : ndarray
        Test data (clean labels).
    methods : sequence of str or Method
        Names in :data:`METHODS` or :class:`Method` objects. ``"random"`` is
        added first when absent.
    ratios : sequence of float in [0, 1)
        Pruning ratios: fractions of the training samples removed.
    seeds : sequence of int
        One run of everything per seed.
    epochs : int, default=10
        Training epochs of the target net on all the data (and of the
        training-dynamics scorers).
    equal_steps : bool, default=True
        Train each coreset for :func:`equal_step_epochs` epochs, i.e. as many
        SGD steps as the full data gets; False trains every coreset for
        ``epochs`` epochs.
    label_noise : float in [0, 1), default=0.0
        Fraction of training labels flipped (per seed, with
        :func:`skprune.datasets.add_label_noise`) before scoring and training.
    scorers : mapping or None, default=None
        Scorer factories by name (see :data:`SCORERS`, the default).
    make_net : callable or None, default=None
        Builds the target net; see :func:`train_and_evaluate`.
    device : str, default="cpu"
        Device of the target nets and scorers.
    progress : bool, default=False
        Show a tqdm progress bar on stderr.

    Returns
    -------
    rows : list of dict
        One dict per seed and trained net, with keys ``method``, ``scorer``
        (``""`` for none), ``strategy`` (``""`` for the full data), ``ratio``
        (0.0 for the full data), ``seed``, ``n_kept``, ``epochs`` (of the
        target net), ``accuracy``, ``score_seconds`` (the seed's fit of the
        method's scorer, shared by its ratios; 0 without a scorer),
        ``select_seconds`` and ``train_seconds``. Per seed, the full-data row
        comes first, then the methods in order for each ratio.

    See Also
    --------
    summarize : mean, median and std over seeds, and the difference to random.

    Examples
    --------
    >>> from skprune.benchmark import run_benchmark, summarize
    >>> from skprune.datasets import load_digits
    >>> X_train, X_test, y_train, y_test = load_digits()
    >>> rows = run_benchmark(X_train, y_train, X_test, y_test, ["random"], [0.9], [0, 1],
    ...                      epochs=1)
    >>> [(row["method"], row["n_kept"], row["seed"]) for row in rows]
    [('full', 1347, 0), ('random', 135, 0), ('full', 1347, 1), ('random', 135, 1)]
    >>> [(s["method"], s["n_seeds"]) for s in summarize(rows)]
    [('full', 2), ('random', 2)]
    """
    scorers = SCORERS if scorers is None else scorers
    methods, ratios, seeds = check_run(
        y_train,
        y_test,
        methods,
        ratios,
        seeds,
        epochs=epochs,
        label_noise=label_noise,
        scorers=scorers,
    )
    n_classes, y_codes, y_test_codes = _encode_labels(y_train, y_test)
    n_train = y_codes.size
    needed = list(dict.fromkeys(m.scorer for m in methods if m.scorer is not None))
    bar = tqdm(
        total=len(seeds) * (1 + len(needed) + len(ratios) * len(methods)),
        unit="fit",
        file=sys.stderr,
        disable=not progress,
        leave=False,
    )

    train = _trainer(
        X_test, y_test_codes, n_classes, n_train, epochs, equal_steps, device, make_net
    )
    # One untimed tiny fit first: torch's one-time set-up would otherwise be charged to
    # the first timed training (the full-data row).
    train_and_evaluate(
        X_train[:2],
        y_codes[:2],
        X_test[:2],
        y_test_codes[:2],
        n_classes=n_classes,
        epochs=1,
        seed=0,
        device=device,
        make_net=make_net,
    )
    rows = []
    for seed in seeds:
        y_fit = y_codes
        if label_noise > 0:
            y_fit, _ = add_label_noise(y_codes, label_noise, random_state=seed)
        rows += _run_seed(
            seed, X_train, y_fit, methods, ratios, needed, scorers, epochs, device, train, bar
        )
    bar.close()
    return rows


def _trainer(X_test, y_test_codes, n_classes, n_train, epochs, equal_steps, device, make_net):
    """``train(X, y, seed, n_kept) -> (accuracy, epochs, seconds)`` of the target net."""

    def train(X, y, seed, n_kept):
        # Equal steps: a coreset trained for the full data's epochs would take only a
        # fraction of its SGD updates, and a small coreset would then be judged on an
        # undertrained net rather than on which samples it holds. Coreset papers train
        # every coreset for the same number of iterations; so does the default here.
        n_epochs = equal_step_epochs(epochs, n_train, n_kept) if equal_steps else epochs
        start = time.perf_counter()
        accuracy = train_and_evaluate(
            X,
            y,
            X_test,
            y_test_codes,
            n_classes=n_classes,
            epochs=n_epochs,
            seed=seed,
            device=device,
            make_net=make_net,
        )
        return accuracy, n_epochs, time.perf_counter() - start

    return train


def _run_seed(seed, X_train, y_fit, methods, ratios, needed, scorers, epochs, device, train, bar):
    """One seed's rows: all the data, each needed scorer fitted once, every method and ratio."""
    n_train = y_fit.size
    bar.set_description(f"seed {seed}: all data")
    accuracy, n_epochs, seconds = train(X_train, y_fit, seed, n_train)
    rows = [_row("full", "", "", 0.0, seed, n_train, n_epochs, accuracy, 0.0, 0.0, seconds)]
    bar.update()

    fitted, score_seconds = {}, {}
    for name in needed:
        bar.set_description(f"seed {seed}: scoring {name}")
        start = time.perf_counter()
        scorer = scorers[name](epochs=epochs, random_state=seed, device=device)
        fitted[name] = scorer.fit(X_train, y_fit)
        score_seconds[name] = time.perf_counter() - start
        bar.update()

    for ratio in ratios:
        for method in methods:
            bar.set_description(f"seed {seed}: {method.name} at {ratio:g}")
            start = time.perf_counter()
            indices = _select(method, fitted.get(method.scorer), X_train, y_fit, ratio, seed)
            select_seconds = time.perf_counter() - start
            X_core, y_core = X_train[indices], y_fit[indices]
            accuracy, n_epochs, seconds = train(X_core, y_core, seed, indices.size)
            rows.append(
                _row(
                    method.name,
                    method.scorer or "",
                    method.strategy,
                    ratio,
                    seed,
                    int(indices.size),
                    n_epochs,
                    accuracy,
                    score_seconds.get(method.scorer, 0.0),
                    select_seconds,
                    seconds,
                )
            )
            bar.update()
    return rows


def _rule_and_budget(method):
    """The method's rule and the selector's budget keywords, from its parameters."""
    params = dict(method.params)
    budget = {key: params.pop(key) for key in _SELECTOR_KEYS if key in params}
    return make_rule(method.strategy, **params), budget


def _select(method, scorer, X, y, ratio, seed):
    """Indices of the coreset ``method`` keeps at ``ratio`` (``scorer`` fitted on ``X, y``)."""
    rule, budget = _rule_and_budget(method)
    if scorer is None:
        return select(rule, None, y, ratio, random_state=seed, **budget).indices
    # The scorer fitted in the scoring phase is reused (prefit), for every ratio.
    selector = CoresetSelector(
        scorer,
        pruning_ratio=ratio,
        strategy=rule,
        n_steps=method.n_steps,
        prefit=True,
        random_state=seed,
        **budget,
    )
    return selector.fit(X, y).sample_indices_


def _row(method, scorer, strategy, ratio, seed, n_kept, epochs, accuracy, score, select_, train):
    return {
        "method": method,
        "scorer": scorer,
        "strategy": strategy,
        "ratio": ratio,
        "seed": seed,
        "n_kept": n_kept,
        "epochs": epochs,
        "accuracy": accuracy,
        "score_seconds": score,
        "select_seconds": select_,
        "train_seconds": train,
    }


# --- summaries and writers ----------------------------------------------------------------


def summarize(rows):
    """Reduce per-seed rows to one row per method and ratio.

    Parameters
    ----------
    rows : list of dict
        As returned by :func:`run_benchmark`; needs the keys ``method``,
        ``ratio`` and ``accuracy``; ``n_kept``, ``score_seconds``,
        ``select_seconds`` and ``train_seconds`` are averaged when every row
        of a group has them.

    Returns
    -------
    summary : list of dict
        One dict per (method, ratio), in order of first appearance, with
        ``method``, ``ratio``, ``n_kept`` (the mean, rounded), ``n_seeds``,
        ``accuracy_mean``, ``accuracy_std`` (population std over seeds, 0 for
        one seed), ``accuracy_median``, ``diff_vs_random`` (mean accuracy minus
        that of ``"random"`` at the same ratio; None for ``"random"`` itself
        and where no random row exists) and the mean of each time column.

    Examples
    --------
    >>> from skprune.benchmark import summarize
    >>> rows = [
    ...     {"method": "random", "ratio": 0.5, "n_kept": 50, "accuracy": 0.80},
    ...     {"method": "random", "ratio": 0.5, "n_kept": 50, "accuracy": 0.90},
    ...     {"method": "hard", "ratio": 0.5, "n_kept": 50, "accuracy": 0.95},
    ...     {"method": "hard", "ratio": 0.5, "n_kept": 50, "accuracy": 0.85},
    ... ]
    >>> [(s["method"], round(s["accuracy_mean"], 3), round(s["accuracy_std"], 3),
    ...   s["diff_vs_random"] and round(s["diff_vs_random"], 3)) for s in summarize(rows)]
    [('random', 0.85, 0.05, None), ('hard', 0.9, 0.05, 0.05)]
    """
    groups = {}
    for row in rows:
        groups.setdefault((row["method"], float(row["ratio"])), []).append(row)
    random_mean = {
        ratio: float(np.mean([row["accuracy"] for row in members]))
        for (method, ratio), members in groups.items()
        if method == "random"
    }
    summary = []
    for (method, ratio), members in groups.items():
        accuracy = np.array([row["accuracy"] for row in members], dtype=float)
        mean = float(accuracy.mean())
        entry = {"method": method, "ratio": ratio}
        if all("n_kept" in row for row in members):
            entry["n_kept"] = int(round(np.mean([row["n_kept"] for row in members])))
        entry |= {
            "n_seeds": len(members),
            "accuracy_mean": mean,
            "accuracy_std": float(accuracy.std()),
            "accuracy_median": float(np.median(accuracy)),
            "diff_vs_random": (
                mean - random_mean[ratio] if method != "random" and ratio in random_mean else None
            ),
        }
        for key in ("score_seconds", "select_seconds", "train_seconds"):
            if all(key in row for row in members):
                entry[key] = float(np.mean([row[key] for row in members]))
        summary.append(entry)
    return summary


def write_csv(rows, path):
    """Write dict rows as a CSV file with a header (the union of their keys, in order).

    Parameters
    ----------
    rows : list of dict
    path : str or path-like
        Parent folders are created. None values are written as empty cells.

    Returns
    -------
    str
        The path written.

    Examples
    --------
    >>> import os, tempfile
    >>> from skprune.benchmark import write_csv
    >>> path = write_csv([{"method": "random", "accuracy": 0.5}],
    ...                  os.path.join(tempfile.mkdtemp(), "rows.csv"))
    >>> print(open(path).read().strip())
    method,accuracy
    random,0.5
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fields = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


_COLUMNS = (
    ("method", "l"),
    ("ratio", "r"),
    ("kept", "r"),
    ("accuracy", "l"),
    ("median", "r"),
    ("Δ random", "r"),
    ("scoring s", "r"),
    ("train s", "r"),
)


def _cells(entry):
    diff = entry["diff_vs_random"]
    score = entry.get("score_seconds")
    work = entry.get("select_seconds", 0.0) + entry.get("train_seconds", 0.0)
    return (
        entry["method"],
        f"{entry['ratio']:.2f}",
        str(entry["n_kept"]),
        f"{entry['accuracy_mean']:.4f} ± {entry['accuracy_std']:.4f}",
        f"{entry['accuracy_median']:.4f}",
        "–" if diff is None else f"{100 * diff:+.2f}",
        "–" if not score else f"{score:.2f}",
        f"{work:.2f}",
    )


def format_markdown(summary):
    """Render a summary as a Markdown table whose columns line up in a terminal too.

    Columns: ``method``; pruning ``ratio``; samples ``kept``; test
    ``accuracy`` (mean ± std over seeds) and its ``median``; ``Δ random``, the
    difference of the mean to random selection at the same ratio in accuracy
    **points** (percent); ``scoring s``, the scorer's fit time per seed; and
    ``train s``, the selection plus training time per coreset (means over
    seeds, in seconds).

    Parameters
    ----------
    summary : list of dict
        As returned by :func:`summarize`.

    Returns
    -------
    str

    Examples
    --------
    >>> from skprune.benchmark import format_markdown, summarize
    >>> rows = [{"method": "random", "ratio": 0.5, "n_kept": 50, "accuracy": 0.9,
    ...          "score_seconds": 0.0, "select_seconds": 0.01, "train_seconds": 0.5}]
    >>> print(format_markdown(summarize(rows)))
    | method | ratio | kept | accuracy        | median | Δ random | scoring s | train s |
    |:-------|------:|-----:|:----------------|-------:|---------:|----------:|--------:|
    | random |  0.50 |   50 | 0.9000 ± 0.0000 | 0.9000 |        – |         – |    0.51 |
    """
    table = [tuple(name for name, _ in _COLUMNS)] + [_cells(entry) for entry in summary]
    widths = [max(len(line[i]) for line in table) for i in range(len(_COLUMNS))]

    def line(cells):
        padded = [
            cell.ljust(width) if align == "l" else cell.rjust(width)
            for cell, width, (_, align) in zip(cells, widths, _COLUMNS, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [
        (":" + "-" * (width + 1)) if align == "l" else ("-" * (width + 1) + ":")
        for width, (_, align) in zip(widths, _COLUMNS, strict=True)
    ]
    return "\n".join([line(table[0]), "|" + "|".join(rule) + "|", *map(line, table[1:])])


def format_by_ratio(summary, *, exclude=("full",)):
    """Render a summary as a Markdown table with a row per method and a column per ratio.

    Each cell is ``mean ± std (Δ)``: test accuracy over seeds and, in
    brackets, the difference to random selection at that ratio in accuracy
    points; ``–`` where the method did not run at that ratio.

    Parameters
    ----------
    summary : list of dict
        As returned by :func:`summarize`.
    exclude : tuple of str, default=("full",)
        Methods left out (the full data has no pruning ratio).

    Returns
    -------
    str

    Examples
    --------
    >>> from skprune.benchmark import format_by_ratio, summarize
    >>> rows = [{"method": m, "ratio": r, "accuracy": a} for m, r, a in [
    ...     ("random", 0.5, 0.90), ("random", 0.9, 0.80), ("hard", 0.5, 0.92)]]
    >>> print(format_by_ratio(summarize(rows)))
    | method | α = 0.5                 | α = 0.9         |
    |:-------|:------------------------|:----------------|
    | random | 0.9000 ± 0.0000         | 0.8000 ± 0.0000 |
    | hard   | 0.9200 ± 0.0000 (+2.00) | –               |
    """
    entries = [entry for entry in summary if entry["method"] not in exclude]
    ratios = sorted({entry["ratio"] for entry in entries})
    cells = {(entry["method"], entry["ratio"]): entry for entry in entries}
    table = [["method", *(f"α = {ratio:g}" for ratio in ratios)]]
    for method in dict.fromkeys(entry["method"] for entry in entries):
        line = [method]
        for ratio in ratios:
            entry = cells.get((method, ratio))
            if entry is None:
                line.append("–")
                continue
            cell = f"{entry['accuracy_mean']:.4f} ± {entry['accuracy_std']:.4f}"
            if entry["diff_vs_random"] is not None:
                cell += f" ({100 * entry['diff_vs_random']:+.2f})"
            line.append(cell)
        table.append(line)
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in table
    ]
    rule = "|" + "|".join(":" + "-" * (width + 1) for width in widths) + "|"
    return "\n".join([lines[0], rule, *lines[1:]])


# --- plots --------------------------------------------------------------------------------


# Matplotlib's tab10 without its grey, which marks random selection, then lighter tones.
_COLORS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
    "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
)  # fmt: skip
_RANDOM_COLOR = "#7f7f7f"


def _new_figure(figsize):
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "plotting needs matplotlib: pip install 'skprune[plot]' (or pip install matplotlib)"
        ) from error
    return Figure(figsize=figsize)


def _save(figure, path):
    if path is not None:
        path = os.fspath(path)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        figure.savefig(path, dpi=110, bbox_inches="tight")
    return figure


def plot_accuracy(summary, path=None, *, title=None):
    """Plot test accuracy against the pruning ratio, one line with error bars per method.

    Error bars are the std over seeds; the full-data accuracy is a dashed
    line with its ±std band.

    Parameters
    ----------
    summary : list of dict
        As returned by :func:`summarize`.
    path : str, path-like or None, default=None
        Where to save the figure (PNG, SVG, PDF by the suffix); None only
        returns it.
    title : str or None, default=None

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from skprune.benchmark import plot_accuracy
    >>> summary = [
    ...     {"method": "full", "ratio": 0.0, "accuracy_mean": 0.95, "accuracy_std": 0.01},
    ...     {"method": "random", "ratio": 0.5, "accuracy_mean": 0.9, "accuracy_std": 0.02},
    ...     {"method": "random", "ratio": 0.9, "accuracy_mean": 0.8, "accuracy_std": 0.03},
    ... ]
    >>> figure = plot_accuracy(summary)
    >>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    ['full data', 'random']
    """
    figure = _new_figure((6.4, 4.4))
    ax = figure.subplots()
    full = [entry for entry in summary if entry["method"] == "full"]
    if full:
        mean, std = full[0]["accuracy_mean"], full[0]["accuracy_std"]
        ax.axhline(mean, color="black", linestyle="--", linewidth=1, label="full data")
        ax.axhspan(mean - std, mean + std, color="black", alpha=0.08, linewidth=0)
    methods = list(dict.fromkeys(e["method"] for e in summary if e["method"] != "full"))
    colors = iter(_COLORS * (1 + len(methods) // len(_COLORS)))
    for method in methods:
        entries = sorted((e for e in summary if e["method"] == method), key=lambda e: e["ratio"])
        ax.errorbar(
            [e["ratio"] for e in entries],
            [e["accuracy_mean"] for e in entries],
            yerr=[e["accuracy_std"] for e in entries],
            marker="o" if method == "random" else ".",
            linestyle=":" if method == "random" else "-",
            color=_RANDOM_COLOR if method == "random" else next(colors),
            capsize=3,
            label=method,
        )
    ax.set_xlabel("pruning ratio (fraction of training samples removed)")
    ax.set_ylabel("test accuracy (mean ± std over seeds)")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _save(figure, path)


def plot_times(summary, path=None, *, title=None):
    """Bar chart of the time each method costs: scoring per seed, selection + training per coreset.

    Parameters
    ----------
    summary : list of dict
        As returned by :func:`summarize`; needs the time columns.
    path : str, path-like or None, default=None
        Where to save the figure; None only returns it.
    title : str or None, default=None

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from skprune.benchmark import plot_times
    >>> summary = [{"method": "sims/sim", "ratio": 0.5, "score_seconds": 1.0,
    ...             "select_seconds": 0.1, "train_seconds": 2.0}]
    >>> [label.get_text() for label in plot_times(summary).axes[0].get_yticklabels()]
    ['sims/sim']
    """
    methods = list(dict.fromkeys(entry["method"] for entry in summary))
    scoring, work = [], []
    for method in methods:
        entries = [entry for entry in summary if entry["method"] == method]
        scoring.append(float(np.mean([entry.get("score_seconds", 0.0) for entry in entries])))
        work.append(
            float(
                np.mean(
                    [
                        entry.get("select_seconds", 0.0) + entry.get("train_seconds", 0.0)
                        for entry in entries
                    ]
                )
            )
        )
    figure = _new_figure((6.4, 0.9 + 0.45 * len(methods)))
    ax = figure.subplots()
    positions = np.arange(len(methods))
    ax.barh(positions - 0.2, scoring, height=0.4, label="scoring (once per seed)")
    ax.barh(positions + 0.2, work, height=0.4, label="selection + training (per coreset)")
    ax.set_yticks(positions, methods)
    ax.invert_yaxis()
    ax.set_xlabel("seconds (mean over seeds and ratios)")
    if title:
        ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _save(figure, path)
