"""UnseenScorer: difficulties from models that never saw the sample (UNSEEN, cross-fitted)."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold
from sklearn.utils._param_validation import Interval, StrOptions

from ..recording import OutputRecorder
from ._base import BaseScorer, _fit_seeded, _ScoringDataset, _take
from .dynamics import (
    _TRAJECTORY_METRICS,
    DYNAMICS_METRICS,
    _recorder,
    chunked_trajectory_difficulty,
    ensemble_difficulty,
)

__all__ = ["UnseenScorer"]


class UnseenScorer(BaseScorer):
    """Cross-fitted difficulty: every sample is scored by models that never trained on it.

    Following UNSEEN (Xu et al., AAAI 2026), the training set is split at
    random into ``n_subsets`` (K) subsets; a network trained on subset ``k``
    scores the samples of the K − 1 other subsets with any base metric of
    :class:`~skprune.TrainingDynamicsScorer`. Scores computed by a model on its
    own training samples crowd together once it fits them; scores from unseen
    samples keep spreading. Every sample gets K − 1 such scores.

    The paper states the random partition and the unseen scoring; the
    stratification of the subsets by class, the plain average of the K − 1
    scores and the repeated partitions (``n_repeats``) are this project's
    choices.

    .. note::
        :meth:`fit_transform` returns the **cross-fitted** scores (each training
        sample scored only by the models that did not see it), while
        :meth:`transform` scores its input with **all** the models. So, as with
        scikit-learn's ``TargetEncoder``, ``fit(X, y).transform(X)`` is not
        ``fit_transform(X, y)``: it mixes in the model that trained on each
        sample. Use ``scores_`` / :meth:`fit_transform` for the training set.

    Parameters
    ----------
    metric : str, default="entropy"
        Base metric, one of :data:`skprune.scorers.DYNAMICS_METRICS`. Snapshot
        metrics (``"el2n"``, ``"grand"``, ``"entropy"``, ``"margin"``,
        ``"least_confidence"``) are read from each final model's outputs on its
        held-out samples; trajectory metrics (``"forgetting"``, ``"aum"``) from
        its outputs on the held-out samples after every epoch.
    n_subsets : int, default=3
        Number of subsets K (at least 2). Each model trains on about n / K
        samples, so K trainings cost about one training on all the data.
        Every class needs at least K samples.
    n_repeats : int, default=1
        Number of independent random partitions R, as in scikit-learn's
        ``RepeatedStratifiedKFold``. Each sample's score is the mean of its
        R · (K − 1) unseen scores: steadier rankings at R times the cost
        (see the documentation's benchmarks page).
    estimator : skorch.NeuralNetClassifier or None, default=None
        The scoring network; cloned once per subset and trained with
        ``train_split=None``. None builds :func:`skprune.nets.make_default_net`
        for the shape of ``X``. A user's net must return one output per
        class of ``y`` (checked before training).
    max_epochs : int or None, default=None
        Training epochs of each model; None keeps the estimator's (10 for the
        default net).
    device : {"auto", "cpu", "cuda"}, default="auto"
        Device of the default net; a user's net keeps its own unless set here.
    n_jobs : int or None, default=None
        The R · K models are trained in parallel through joblib.
    random_state : int, RandomState or None, default=None
        Seeds the partition and the models; an int makes scores reproducible,
        also with ``n_jobs``.
    verbose : int, default=0
        Progress output.

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        Cross-fitted difficulty of every training sample (higher = harder):
        the mean of its R · (K − 1) unseen scores.
    components_ : ndarray of shape (n_samples, 1)
        The same, as returned by :meth:`fit_transform`.
    subsets_ : ndarray of shape (n_repeats, n_samples)
        Subset id (0 to K − 1) of every training sample in each partition:
        ``nets_[r * K + k]`` trained on the samples with ``subsets_[r] == k``
        and scored the others.
    nets_ : list of skorch.NeuralNetClassifier
        The R · K fitted networks, partition by partition, in subset order.
    classes_ : ndarray
        Class labels.
    n_features_in_ : int
        Number of features (size of axis 1) seen in fit.

    See Also
    --------
    skprune.TrainingDynamicsScorer : the same metrics from models that saw the samples.
    skprune.CoresetSelector : selects a coreset from these scores; its ``n_steps``
        runs UNSEEN's incremental multi-step selection.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from skprune import UnseenScorer
    >>> X, y = make_classification(120, 6, random_state=0)
    >>> scorer = UnseenScorer("margin", n_subsets=2, max_epochs=3, random_state=0)
    >>> scorer.fit_transform(X, y).shape
    (120, 1)
    >>> np.bincount(scorer.subsets_[0])
    array([60, 60])
    >>> scorer.get_feature_names_out()
    array(['unseen_margin'], dtype=object)
    """

    _parameter_constraints: dict = {
        **BaseScorer._parameter_constraints,
        "metric": [StrOptions(set(DYNAMICS_METRICS))],
        "n_subsets": [Interval(Integral, 2, None, closed="left")],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
    }
    _supports_dataset = True

    def __init__(
        self,
        metric="entropy",
        *,
        n_subsets=3,
        n_repeats=1,
        estimator=None,
        max_epochs=None,
        device="auto",
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.metric = metric
        self.n_subsets = n_subsets
        self.n_repeats = n_repeats
        self.estimator = estimator
        self.max_epochs = max_epochs
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    @property
    def min_class_size(self):
        # Stratification puts every class in every subset only if it has K samples.
        return self.n_subsets

    def _net_sizes(self, n_samples):
        # Stratified folds: subsets of floor or ceil of n / K samples.
        return n_samples // self.n_subsets, -(-n_samples // self.n_subsets)

    def _class_size_advice(self):
        return (
            f"Every class must appear in each of the n_subsets={self.n_subsets} subsets: "
            "lower n_subsets or add samples of those classes."
        )

    # --- fitting ---------------------------------------------------------------

    def _fit(self, X, y):
        n_subsets, n_samples = self.n_subsets, y.shape[0]
        # Per partition, K net seeds then the partition's seed: the first
        # partition draws the same seeds whatever n_repeats is.
        seeds = self._model_seeds(self.n_repeats * (n_subsets + 1)).reshape(-1, n_subsets + 1)
        self.subsets_ = np.empty((self.n_repeats, n_samples), dtype=np.intp)
        trajectory = self.metric in _TRAJECTORY_METRICS
        # Subsets are lazy views: R·K row copies of a large array (or of a
        # memory map, which would be read into RAM) are never made.
        data = X if isinstance(X, torch.utils.data.Dataset) else _ScoringDataset(X, y)
        tasks = []
        for partition, partition_seeds in zip(self.subsets_, seeds, strict=True):
            splitter = StratifiedKFold(
                n_subsets, shuffle=True, random_state=int(partition_seeds[-1])
            )
            # Fold k's test indices are subset k: a stratified partition of all samples.
            for k, (_, members) in enumerate(splitter.split(np.zeros((n_samples, 1)), y)):
                partition[members] = k
            for k, seed in enumerate(partition_seeds[:-1]):
                inside = partition == k
                callbacks = []
                if trajectory:
                    # Record the held-out samples after every epoch; the parameter
                    # snapshots let transform replay the trajectory on new data.
                    recorder = OutputRecorder(keep_params=True, X=_take(data, ~inside))
                    callbacks = [("skprune_recorder", recorder)]
                tasks.append((self._make_net(X, callbacks), _take(data, inside), y[inside], seed))
        if self.verbose:
            repeats = f" x {self.n_repeats} partitions" if self.n_repeats > 1 else ""
            print(
                f"[UnseenScorer] training {n_subsets} models{repeats} on stratified subsets of "
                f"about {n_samples // n_subsets} samples each (metric={self.metric!r})"
            )
        self.nets_ = self._parallel(_fit_releasing_held_out if trajectory else _fit_seeded, tasks)

        total = np.zeros(n_samples)
        for index, net in enumerate(self.nets_):
            partition, k = divmod(index, n_subsets)
            held_out = np.flatnonzero(self.subsets_[partition] != k)
            total[held_out] += self._held_out_difficulty(net, _take(data, held_out), y[held_out])
        # Every sample is held out by exactly K - 1 models of each partition.
        self.components_ = (total / (self.n_repeats * (n_subsets - 1))).reshape(-1, 1)
        self.scores_ = self.components_[:, 0].copy()

    def _held_out_difficulty(self, net, X, y):
        """Difficulty of the samples ``net`` did not train on, from that net alone."""
        if self.metric in _TRAJECTORY_METRICS:
            return chunked_trajectory_difficulty(self.metric, _recorder(net).logits_, y)
        return ensemble_difficulty([net], self.metric, X, y)

    # --- scoring new samples ---------------------------------------------------

    def _components(self, X, y):
        # New samples were seen by none of the models: all of them score.
        return ensemble_difficulty(self.nets_, self.metric, X, y).reshape(-1, 1)

    def _component_names(self):
        return [f"unseen_{self.metric}"]

    # --- public API (documented here for the cross-fitting caveat) --------------

    def fit_transform(self, X, y=None):
        """Fit and return the cross-fitted score of every training sample.

        .. note::
            Each sample is scored only by the R · (K − 1) models that did not
            train on it, so the result differs from ``fit(X, y).transform(X)``, which
            uses all R · K models (including those that saw the sample) and
            predicted labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), image array or dataset
            A torch ``Dataset`` or skorch ``SliceDataset`` is read lazily: the
            subsets are :class:`torch.utils.data.Subset` views of it.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        components : ndarray of shape (n_samples, 1)
            The cross-fitted difficulty, named ``unseen_<metric>``; equals
            ``scores_``.
        """
        return super().fit_transform(X, y)

    def transform(self, X):
        """Score (new) samples with all R · K models, averaged; predicted labels stand in for ``y``.

        .. note::
            Meant for samples outside the training set. On the training set
            itself ``fit(X, y).transform(X)`` is not ``fit_transform(X, y)``:
            every training sample was seen by one model of each partition. Use
            :meth:`fit_transform` or ``scores_`` for the training samples, and
            :meth:`score_samples` when labels are known.

        Parameters
        ----------
        X : array-like

        Returns
        -------
        components : ndarray of shape (n_samples, 1)
        """
        return super().transform(X)


def _fit_releasing_held_out(net, X, y, seed):
    """Fit a net that records its held-out rows, then drop its view of them.

    The rows were needed only while training. Dropping them in the worker,
    before joblib pickles the net back, keeps every returned net (and the
    fitted scorer) from carrying a copy of ``X``.
    """
    net = _fit_seeded(net, X, y, seed)
    _recorder(net).X = None
    return net
