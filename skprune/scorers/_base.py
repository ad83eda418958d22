"""Base class shared by all scorers."""

from __future__ import annotations

import inspect
import pickle
import warnings
from abc import abstractmethod
from numbers import Integral

import numpy as np
import torch
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..nets import (
    batches_per_epoch,
    global_rng_kept,
    iter_outputs,
    make_default_net,
    prepare_net,
    seeded,
)
from ..utils import is_dataset

__all__ = ["BaseScorer"]


_is_dataset = is_dataset


def _take(X, indices):
    """Rows ``indices`` (positions or a boolean mask) of an array, or a lazy view of a dataset.

    For a dataset (e.g. a :class:`_ScoringDataset`) this is a
    :class:`torch.utils.data.Subset`: nothing is read until a batch asks for it.
    """
    if isinstance(X, torch.utils.data.Dataset):
        indices = np.asarray(indices)
        if indices.dtype == bool:
            indices = np.flatnonzero(indices)
        # Our own datasets take numpy indices (8 bytes each, not a Python int);
        # a user's dataset may expect plain ints.
        if not isinstance(X, _ScoringDataset):
            indices = indices.tolist()
        return torch.utils.data.Subset(X, indices)
    return X[indices]


class _ScoringDataset(torch.utils.data.Dataset):
    """A user's dataset seen as ``(x, class code)`` pairs for the scoring nets.

    Items of a torch ``Dataset`` may be ``x`` or ``(x, target, ...)``; the
    target is replaced by the encoded label ``codes[i]`` (0 when unknown, for
    inference), so nets train on the codes whatever the dataset's own labels.
    Items of a skorch ``SliceDataset`` are ``x``. ``x`` is returned as a
    float32 tensor; nothing is read before a batch asks for it.
    """

    def __init__(self, source, codes=None):
        # A memory map's rows index faster through a plain ndarray view (no copy).
        self.source = np.asarray(source) if isinstance(source, np.ndarray) else source
        self.codes = codes

    def __len__(self):
        return len(self.source)

    def _x(self, i):
        if isinstance(self.source, np.ndarray):
            # A copy: rows of a read-only memory map cannot back a tensor.
            return torch.from_numpy(np.array(self.source[i], dtype=np.float32))
        # Our index views hold numpy integers; a user's dataset may expect a plain int.
        item = self.source[int(i)]
        if isinstance(self.source, torch.utils.data.Dataset) and isinstance(item, tuple | list):
            item = item[0]
        if not isinstance(item, torch.Tensor):
            item = np.asarray(item)
        return torch.as_tensor(item, dtype=torch.float32)

    def __getitem__(self, i):
        return self._x(i), int(self.codes[i]) if self.codes is not None else 0

    def __getitems__(self, indices):
        # DataLoader (and Subset) fetch a whole batch through this: one fancy
        # index of an array source instead of a Python call per sample.
        if not isinstance(self.source, np.ndarray):
            return [self[i] for i in indices]
        # Fancy indexing copies already (also from a read-only memory map).
        rows = torch.from_numpy(np.asarray(self.source[np.asarray(indices)], dtype=np.float32))
        codes = self.codes[indices] if self.codes is not None else np.zeros(len(indices), int)
        return list(zip(rows.unbind(0), codes.tolist(), strict=True))

    @property
    def shape(self):
        """``(n_samples, *shape of one x)``, read from the first item."""
        return (len(self), *self._x(0).shape)


class BaseScorer(TransformerMixin, BaseEstimator):
    """Base class for scorers: train networks on ``(X, y)``, score every sample.

    Subclasses implement :meth:`_fit` (set ``scores_`` and ``components_``),
    :meth:`_components` (score components of new samples) and
    :meth:`_component_names`. This class validates inputs, encodes labels,
    seeds and parallelizes network training.

    ``scores_`` is a **difficulty**: higher = harder / more informative / more
    likely mislabeled.

    :class:`~skprune.CoresetSelector` reads three members to train the nets
    of incremental steps for as many SGD steps as on all the data:
    ``default_max_epochs`` (class attribute: the default net's epochs when
    ``max_epochs`` is None), :meth:`training_batches` and ``min_class_size``
    (the fewest samples of a class the scorer can be fitted on). A scorer
    that lacks them is used as it is.
    """

    _parameter_constraints: dict = {
        "estimator": [None, HasMethods(["fit", "initialize", "forward_iter"])],
        "max_epochs": [None, Interval(Integral, 1, None, closed="left")],
        "device": [StrOptions({"auto", "cpu", "cuda"}), str],
        "n_jobs": [None, Integral],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: Minimum number of samples per class the scorer needs.
    min_class_size = 1
    # Whether fit/transform accept a torch Dataset or skorch SliceDataset as X.
    _supports_dataset = False
    #: Training epochs of the default net when ``max_epochs`` is None.
    default_max_epochs = 10
    # Width multiplier of the default net (estimator=None), see make_default_net.
    _default_net_width = 1.0

    # --- validation ----------------------------------------------------------

    def _check_training_data(self, X, y):
        self._validate_params()
        if _is_dataset(X):
            X, y = self._check_dataset(X, y)
        else:
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
            # A C-contiguous float32 array (or memory map) passes through uncopied.
            X = np.ascontiguousarray(X)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        y_codes = encoder.transform(y).astype(np.int64)
        counts = np.bincount(y_codes)
        if self.classes_.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes, got 1 class "
                f"({self.classes_[0].tolist()!r}); scores compare samples across classes"
            )
        too_small = self.classes_[counts < self.min_class_size]
        if too_small.size:
            raise ValueError(
                f"{type(self).__name__} needs at least {self.min_class_size} samples per class; "
                f"classes {too_small.tolist()} have fewer (the smallest has {counts.min()}). "
                f"{self._class_size_advice()}"
            )
        if isinstance(X, _ScoringDataset):
            X = _ScoringDataset(X.source, y_codes)
        # n_features_in_ covers axis 1 only; images need the whole sample shape.
        self._sample_shape = tuple(X.shape[1:])
        return X, y_codes

    def _check_dataset_support(self, X):
        if not self._supports_dataset:
            raise TypeError(
                f"{type(self).__name__} needs array input (it indexes subsets of X); got "
                f"{type(X).__name__}. Pass a numpy array or memory map, or use a scorer "
                "that accepts datasets (SIMScorer, TrainingDynamicsScorer, UnseenScorer, "
                "DiffInScorer)."
            )

    def _check_dataset(self, X, y):
        """Validate a Dataset ``X`` without reading more than its first item."""
        self._check_dataset_support(X)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} needs the labels as y when X is a dataset "
                "(e.g. y=dataset.targets); got y=None"
            )
        y = np.asarray(y)
        if len(X) < 2:
            raise ValueError(f"X has {len(X)} sample(s); at least 2 are required")
        if y.shape[0] != len(X):
            raise ValueError(f"X and y have different lengths: {len(X)} and {y.shape[0]} samples")
        data = _ScoringDataset(X)
        sample_shape = data.shape[1:]
        if len(sample_shape) not in (1, 2, 3):
            raise ValueError(
                "dataset items must be 1-D (tabular) or 2-D/3-D (images H×W or C×H×W), got "
                f"shape {tuple(sample_shape)}"
            )
        self.n_features_in_ = int(sample_shape[0])
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return data, y

    def _check_new_data(self, X, y=None):
        check_is_fitted(self)
        if _is_dataset(X):
            self._check_dataset_support(X)
            X = _ScoringDataset(X)
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features (size of axis 1), but "
                    f"{type(self).__name__} is expecting {self.n_features_in_} features as input"
                )
        else:
            X = np.ascontiguousarray(
                validate_data(self, X, dtype=np.float32, allow_nd=True, reset=False)
            )
        fitted_shape = getattr(self, "_sample_shape", None)
        if fitted_shape is not None and tuple(X.shape[1:]) != fitted_shape:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but {type(self).__name__} was "
                f"fitted on samples of shape {fitted_shape}"
            )
        if y is None:
            return X, None
        y = column_or_1d(y, warn=True)
        if y.shape[0] != len(X):
            raise ValueError(f"X and y have different lengths: {len(X)} and {y.shape[0]} samples")
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y has labels not seen in fit: {unknown.tolist()}; known classes are "
                f"{self.classes_.tolist()}"
            )
        codes = np.searchsorted(self.classes_, y).astype(np.int64)
        if isinstance(X, _ScoringDataset):
            X = _ScoringDataset(X.source, codes)
        return X, codes

    def _net_sizes(self, n_samples):
        """``(fewest, most)`` samples one of the nets trains on when fitted on ``n_samples``."""
        return n_samples, n_samples

    def _net_params(self):
        """Parameters of the nets before training, or None when they cannot be read."""
        if self.estimator is None:
            return {
                "batch_size": inspect.signature(make_default_net).parameters["batch_size"].default
            }
        get_params = getattr(self.estimator, "get_params", None)
        return get_params() if get_params is not None else None

    def _train_params(self, n_train):
        """Parameters a net trains with on ``n_train`` samples (scorers may change them)."""
        return self._net_params()

    def training_batches(self, n_samples):
        """``(fewest, most)`` training batches per epoch of a net when fitted on ``n_samples``.

        Counted as skorch forms them (the training iterator's batch size and
        ``drop_last``); scorers that train on parts of the data (UNSEEN's
        subsets) count the parts.

        Parameters
        ----------
        n_samples : int

        Returns
        -------
        tuple of (int, int) or None
            None when the nets' parameters cannot be read.
        """
        if self._net_params() is None:
            return None
        return tuple(
            batches_per_epoch(self._train_params(size), size) for size in self._net_sizes(n_samples)
        )

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
            max_epochs = self.default_max_epochs
        net = prepare_net(
            self.estimator,
            X,
            self.classes_.size,
            max_epochs=max_epochs,
            device=self.device,
            width=self._default_net_width,
        )
        if callbacks:
            # skorch's callbacks="disable" would switch ours off too; the net
            # is an uninitialized clone, so assigning needs no set_params (which
            # fails on "disable" in skorch 1.x).
            disabled = net.callbacks == "disable"
            own = [] if isinstance(net.callbacks, str) else list(net.callbacks or [])
            net.callbacks = own + list(callbacks)
            if disabled:
                # Assigning a list switches skorch's defaults (PrintLog, ...) back on.
                net.set_params(
                    **{f"callbacks__{name}": None for name, _ in net.get_default_callbacks()}
                )
        return net

    def _check_output_width(self, X):
        """Refuse a user's net whose outputs are not one per class, before any training.

        Every score reads the outputs as class probabilities or logits (the
        given label's, the largest other, the predicted class), so a net built
        for other classes would score silently wrong or fail after training.
        """
        net = self._make_net(X).initialize()
        # Two samples: a module that squeezes its output keeps the batch axis.
        logits, _ = next(iter_outputs(net, _take(X, [0, 1])))
        n_classes = self.classes_.size
        if logits.ndim != 2 or logits.shape[1] != n_classes:
            raise ValueError(
                f"{type(self).__name__} reads the net's outputs as one per class, but "
                f"{type(net.module_).__name__} returns shape {tuple(logits.shape)} for 2 samples "
                f"and y has {n_classes} classes; the module must return (batch, {n_classes})"
            )

    def _scoring_nets(self):
        """The fitted skorch nets whose outputs the scores come from."""
        nets = list(getattr(self, "nets_", ()))
        if hasattr(self, "net_"):
            nets.append(self.net_)
        return nets

    def _check_scoring_nets_learned(self, y):
        # Unscaled inputs (pixels in 0-255, say) can make the default nets
        # diverge to a constant output: every score is then noise, and a
        # selection built on them is random selection in disguise.
        counts = np.bincount(y)
        frequencies = counts[counts > 0] / y.size
        prior_loss = float(-(frequencies * np.log(frequencies)).sum())
        final_losses = [
            _final_train_loss(net)
            for net in self._scoring_nets()
            if _plain_classification_loss(getattr(net, "criterion_", None))
        ]
        stuck = [loss for loss in final_losses if loss is not None and not loss < 0.99 * prior_loss]
        if stuck:
            warnings.warn(
                f"{type(self).__name__}: {len(stuck)} of {len(final_losses)} scoring networks "
                f"did not learn: final training loss {max(stuck):.4g}, not 1% below "
                f"{prior_loss:.4g}, the loss of predicting the class frequencies; the scores "
                "carry no signal. Scale the features (e.g. StandardScaler, or image pixels / "
                "255), or tune the nets' lr and max_epochs.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _check_scores_finite(self):
        finite = np.isfinite(self.scores_)
        if not finite.all():
            raise ValueError(
                f"{type(self).__name__} produced {int((~finite).sum())} non-finite scores out "
                f"of {finite.size}: its networks' outputs are not finite (training diverged). "
                "Scale the features (e.g. StandardScaler, or image pixels / 255) or lower the "
                "learning rate (lr of the estimator)."
            )

    def _parallel(self, function, tasks):
        """Run ``function(*task)`` for every task through joblib (``n_jobs``)."""
        try:
            return Parallel(n_jobs=self.n_jobs, verbose=max(0, int(self.verbose) - 1) * 10)(
                delayed(function)(*task) for task in tasks
            )
        except (pickle.PicklingError, AttributeError) as error:
            # Worker processes send the fitted nets back by pickle, by class name
            # (Python 3.11 reports a local class as an AttributeError).
            message = str(error)
            by_pickle = "Can't pickle" in message or "Can't get attribute" in message
            if effective_n_jobs(self.n_jobs) == 1 or not by_pickle:
                raise
            raise TypeError(
                f"{type(self).__name__}(n_jobs={self.n_jobs}) could not send the fitted nets "
                f"between processes ({error}). Define the module class in an importable file, "
                "not in a script's __main__ or a notebook; or use n_jobs=1, or "
                "joblib.parallel_config(backend='threading')."
            ) from error

    # --- public API ----------------------------------------------------------

    def fit(self, X, y):
        """Train the scoring networks and score every training sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), image array or dataset
            ``N×H×W`` or ``N×C×H×W`` arrays are accepted for image nets. A
            C-contiguous float32 memory map (``np.load(path, mmap_mode="r")``)
            is read batch by batch, not copied. The scorers also take a torch
            ``Dataset`` (items ``x`` or ``(x, target)``) or a skorch
            ``SliceDataset``, read lazily.
        y : array-like of shape (n_samples,)
            Class labels (strings and non-contiguous integers are fine);
            required also for a dataset, whose own targets are ignored.

        Returns
        -------
        self
        """
        X, y = self._check_training_data(X, y)
        with global_rng_kept():
            if self.estimator is not None:
                self._check_output_width(X)
            self._fit(X, y)
        self._check_scoring_nets_learned(y)
        self._check_scores_finite()
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
        with global_rng_kept():
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
        with global_rng_kept():
            return self._difficulty(self._components(X, y))

    def get_feature_names_out(self, input_features=None):
        """Names of the score components returned by :meth:`transform`."""
        check_is_fitted(self)
        return np.asarray(self._component_names(), dtype=object)

    def __setstate__(self, state):
        super().__setstate__(state)
        # As skorch does for its nets: an object pickled with device="cuda" and
        # loaded where CUDA is missing falls back to the CPU, so a refit works.
        device = self.__dict__.get("device")
        if isinstance(device, str) and device.startswith("cuda") and not torch.cuda.is_available():
            warnings.warn(
                f"{type(self).__name__} was pickled with device={device!r}, which is not "
                "available here; setting device='cpu'.",
                UserWarning,
                stacklevel=2,
            )
            self.device = "cpu"

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


def _plain_classification_loss(criterion):
    """Whether ``criterion``'s loss is on the scale of the class-frequency entropy:
    a mean cross-entropy without class weights or label smoothing."""
    return (
        isinstance(criterion, torch.nn.CrossEntropyLoss | torch.nn.NLLLoss)
        and criterion.weight is None
        and getattr(criterion, "label_smoothing", 0.0) == 0.0
        and criterion.reduction == "mean"
    )


def _final_train_loss(net):
    """The last epoch's training loss in a skorch net's history, or None."""
    try:
        return float(net.history[-1, "train_loss"])
    except (KeyError, IndexError, TypeError, ValueError):
        pass
    try:
        # callbacks="disable" drops the epoch's mean; the batches keep their losses.
        losses = net.history[-1, "batches", :, "train_loss"]
        sizes = net.history[-1, "batches", :, "train_batch_size"]
        return float(np.average(losses, weights=sizes))
    except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError):
        return None


def _fit_seeded(net, X, y, seed):
    """Fit ``net`` with torch seeded from ``seed``; module-level so joblib can pickle it."""
    with seeded(seed):
        net.fit(X, y)
    return net
