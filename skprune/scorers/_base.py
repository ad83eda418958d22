"""Base class shared by all scorers."""

from __future__ import annotations

from abc import abstractmethod
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..nets import prepare_net, seeded

__all__ = ["BaseScorer"]


class BaseScorer(TransformerMixin, BaseEstimator):
    """Base class for scorers: train networks on ``(X, y)``, score every sample.

    Subclasses implement :meth:`_fit` (set ``scores_`` and ``components_``),
    :meth:`_components` (score components of new samples) and
    :meth:`_component_names`. This class validates inputs, encodes labels,
    seeds and parallelizes network training.

    ``scores_`` is a **difficulty**: higher = harder / more informative / more
    likely mislabeled.
    """

    _parameter_constraints: dict = {
        "estimator": [None, HasMethods(["fit", "initialize", "forward_iter"])],
        "max_epochs": [None, Interval(Integral, 1, None, closed="left")],
        "device": [StrOptions({"auto", "cpu", "cuda"}), str],
        "n_jobs": [None, Integral],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # Minimum number of samples per class the scorer needs.
    _min_class_size = 1
    # Training epochs of the default net when max_epochs is None.
    _default_max_epochs = 10

    # --- validation ----------------------------------------------------------

    def _check_training_data(self, X, y):
        self._validate_params()
        X, y = validate_data(
            self,
            X,
            y,
            dtype=np.float32,
            allow_nd=True,
            ensure_min_samples=2,
            y_numeric=False,
            multi_output=False,
        )
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        y_codes = encoder.transform(y).astype(np.int64)
        counts = np.bincount(y_codes)
        if self.classes_.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes, got 1 class "
                f"({self.classes_[0]!r}); scores compare samples across classes"
            )
        too_small = self.classes_[counts < self._min_class_size]
        if too_small.size:
            raise ValueError(
                f"{type(self).__name__} needs at least {self._min_class_size} samples per class; "
                f"classes {too_small.tolist()} have fewer (the smallest has {counts.min()}). "
                f"{self._class_size_advice()}"
            )
        return np.ascontiguousarray(X), y_codes

    def _check_new_data(self, X, y=None):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, allow_nd=True, reset=False)
        if y is None:
            return np.ascontiguousarray(X), None
        y = column_or_1d(y, warn=True)
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"X and y have different lengths: {X.shape[0]} and {y.shape[0]} samples"
            )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y has labels not seen in fit: {unknown.tolist()}; known classes are "
                f"{self.classes_.tolist()}"
            )
        return np.ascontiguousarray(X), np.searchsorted(self.classes_, y).astype(np.int64)

    def _class_size_advice(self):
        """How to fix too small classes; scorers whose need comes from a parameter override it."""
        return "Collect more samples of those classes or drop them."

    # --- training helpers ----------------------------------------------------

    def _model_seeds(self, n_models):
        rng = check_random_state(self.random_state)
        return rng.randint(np.iinfo(np.int32).max, size=n_models)

    def _make_net(self, X, callbacks=()):
        max_epochs = self.max_epochs
        if max_epochs is None and self.estimator is None:
            max_epochs = self._default_max_epochs
        net = prepare_net(
            self.estimator, X, self.classes_.size, max_epochs=max_epochs, device=self.device
        )
        if callbacks:
            net.set_params(callbacks=list(net.callbacks or []) + list(callbacks))
        return net

    def _parallel(self, function, tasks):
        """Run ``function(*task)`` for every task through joblib (``n_jobs``)."""
        return Parallel(n_jobs=self.n_jobs, verbose=max(0, int(self.verbose) - 1) * 10)(
            delayed(function)(*task) for task in tasks
        )

    # --- public API ----------------------------------------------------------

    def fit(self, X, y):
        """Train the scoring networks and score every training sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            ``N×H×W`` or ``N×C×H×W`` arrays are accepted for image nets.
        y : array-like of shape (n_samples,)
            Class labels (strings and non-contiguous integers are fine).

        Returns
        -------
        self
        """
        X, y = self._check_training_data(X, y)
        self._fit(X, y)
        return self

    def fit_transform(self, X, y=None):
        """Fit and return the score components of the training samples.

        Parameters
        ----------
        X : array-like
        y : array-like of shape (n_samples,)

        Returns
        -------
        components : ndarray of shape (n_samples, n_components)
            Named by :meth:`get_feature_names_out`; computed with the true labels.
        """
        return self.fit(X, y).components_.copy()

    def transform(self, X):
        """Score components of (new) samples; predicted labels stand in for ``y``.

        Parameters
        ----------
        X : array-like

        Returns
        -------
        components : ndarray of shape (n_samples, n_components)
        """
        X, _ = self._check_new_data(X)
        return self._components(X, None)

    def score_samples(self, X, y=None):
        """Difficulty of labelled (held-out) samples, higher = harder.

        Parameters
        ----------
        X : array-like
        y : array-like of shape (n_samples,) or None
            True labels; when None the scoring models' predictions are used.

        Returns
        -------
        difficulty : ndarray of shape (n_samples,)
        """
        X, y = self._check_new_data(X, y)
        return self._difficulty(self._components(X, y))

    def get_feature_names_out(self, input_features=None):
        """Names of the score components returned by :meth:`transform`."""
        check_is_fitted(self)
        return np.asarray(self._component_names(), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    # --- to implement ----------------------------------------------------------

    @abstractmethod
    def _fit(self, X, y):
        """Train on encoded labels ``y``; set ``scores_`` and ``components_``."""

    @abstractmethod
    def _components(self, X, y):
        """Components of samples ``X`` with encoded labels ``y`` (None = predicted)."""

    @abstractmethod
    def _component_names(self):
        """Names of the columns of ``components_``."""

    def _difficulty(self, components):
        """Difficulty from components; the first component by default."""
        return components[:, 0].astype(np.float64)


def _fit_seeded(net, X, y, seed):
    """Fit ``net`` with torch seeded from ``seed``; module-level so joblib can pickle it."""
    with seeded(seed):
        net.fit(X, y)
    return net
