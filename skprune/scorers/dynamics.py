"""Training-dynamics baselines: EL2N, GraNd, forgetting, AUM, entropy, margin, least confidence."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from .. import metrics
from ..nets import applied_last_linear, infer, iter_outputs
from ..recording import OutputRecorder
from ._base import BaseScorer, _fit_seeded

__all__ = ["TrainingDynamicsScorer", "DYNAMICS_METRICS"]

# Metrics read from the final model's outputs vs. from the whole trajectory.
_SNAPSHOT_METRICS = ("el2n", "grand", "entropy", "margin", "least_confidence")
_TRAJECTORY_METRICS = ("forgetting", "aum")
DYNAMICS_METRICS = _SNAPSHOT_METRICS + _TRAJECTORY_METRICS


def snapshot_difficulty(metric, proba, y, embedding=None, *, bias=True):
    """Difficulty of a snapshot metric from stacked model outputs.

    ``proba`` has shape (n_models, n_samples, n_classes); ``y`` holds class
    codes (labels are ignored by the label-free metrics); ``bias`` tells GraNd
    whether the output layer has one.
    """
    if metric == "el2n":
        return metrics.el2n(proba, y)
    if metric == "grand":
        return metrics.grand_last_layer(proba, y, embedding, bias=bias)
    return getattr(metrics, metric)(proba)


def trajectory_difficulty(metric, logits, y):
    """Difficulty of a trajectory metric from per-epoch logits (n_epochs, n_samples, n_classes).

    A sample with a non-finite logit in any epoch gets NaN, so that a diverged
    net is reported instead of scored (``argmax`` of NaN logits would read as
    "class 0 predicted").
    """
    if metric == "aum":
        return metrics.aum(logits, y)
    difficulty = metrics.forgetting(logits.argmax(axis=-1) == y[None, :])
    difficulty[~np.isfinite(logits).all(axis=(0, 2))] = np.nan
    return difficulty


# Samples per chunk when reducing per-epoch records (bounds float64 temporaries).
_CHUNK_ROWS = 65536


def chunked_trajectory_difficulty(metric, epoch_logits, y):
    """:func:`trajectory_difficulty` from a list of per-epoch logits, in chunks of samples.

    Only ``n_epochs × chunk`` rows are stacked (as float32) at a time, so
    float16 records of large data sets are never expanded all at once.
    """
    if not len(epoch_logits):
        raise ValueError("no epoch was recorded; was the net fitted with the recorder?")
    n_samples = epoch_logits[0].shape[0]
    return np.concatenate(
        [
            trajectory_difficulty(
                metric,
                np.stack([logits[start : start + _CHUNK_ROWS] for logits in epoch_logits]).astype(
                    np.float32
                ),
                y[start : start + _CHUNK_ROWS],
            )
            for start in range(0, n_samples, _CHUNK_ROWS)
        ]
    )


def _streamed_grand(net, X, y):
    """Last-layer GraNd of one net over ``X``, computed batch by batch."""
    bias = applied_last_linear(net, X).bias is not None
    values, start = [], 0
    for logits, embedding in iter_outputs(net, X, embedding=True):
        stop = start + logits.shape[0]
        proba = torch.softmax(logits, dim=1).numpy()
        values.append(metrics.grand_last_layer(proba, y[start:stop], embedding.numpy(), bias=bias))
        start = stop
    return np.concatenate(values)


def ensemble_difficulty(nets, metric, X, y=None):
    """Mean difficulty of ``X`` under fitted ``nets`` (their predicted labels when ``y`` is None).

    GraNd is reduced batch by batch and trajectory metrics epoch record by
    chunk of samples, so no (n_models, n_samples, width) stack of embeddings
    or per-epoch logits is ever held; trajectory metrics replay the
    parameter snapshots each net's recorder kept.
    """
    snapshot = metric not in ("grand", *_TRAJECTORY_METRICS)
    if y is None or snapshot:
        proba = np.stack([infer(net, X).proba for net in nets])
        if y is None:
            y = proba.mean(axis=0).argmax(axis=1)
        if snapshot:
            return snapshot_difficulty(metric, proba, y)
    if metric == "grand":
        return np.mean([_streamed_grand(net, X, y) for net in nets], axis=0)
    return np.mean(
        [
            chunked_trajectory_difficulty(metric, _replayed_logits(net, X, stacked=False), y)
            for net in nets
        ],
        axis=0,
    )


def _recorder(net):
    return dict(net.callbacks_)["skprune_recorder"]


def _replayed_logits(net, X, stacked=True):
    """Logits of ``X`` under every parameter snapshot the net's recorder kept.

    Returns an array of shape (n_epochs, n_samples, n_classes) (a list of
    per-epoch arrays with ``stacked=False``); the net's final parameters are
    restored afterwards, also on error.
    """
    recorder = _recorder(net)
    final_state = {k: v.clone() for k, v in net.module_.state_dict().items()}
    logits = []
    try:
        for state in recorder.params_:
            net.module_.load_state_dict(state)
            logits.append(infer(net, X).logits)
    finally:
        net.module_.load_state_dict(final_state)
    return np.stack(logits) if stacked else logits


class TrainingDynamicsScorer(BaseScorer):
    """Classic per-sample difficulty scores from the training of a network.

    Trains ``n_models`` independently seeded networks on all of ``(X, y)`` and
    computes one metric (formulas in :mod:`skprune.metrics`):

    ========================  ====================================================
    ``"el2n"``                ``||p - onehot(y)||`` at the end of (short) training
    ``"grand"``               gradient norm of the last layer
    ``"entropy"``             predictive entropy
    ``"margin"``              negated top-1 minus top-2 probability
    ``"least_confidence"``    ``1 - max p``
    ``"forgetting"``          correct → incorrect transitions over epochs
    ``"aum"``                 negated area under the margin over epochs
    ========================  ====================================================

    Snapshot metrics are read from the final model (for EL2N/GraNd, Paul et al.
    use an early epoch: set ``max_epochs`` low); trajectory metrics from a pass
    over the training set after every epoch. Scores are averaged over models.

    Parameters
    ----------
    metric : str, default="el2n"
        One of the metrics above.
    estimator : skorch.NeuralNetClassifier or None, default=None
        The scoring network; cloned, trained with ``train_split=None``. None
        builds :func:`skprune.nets.make_default_net` for the shape of ``X``.
        A user's net must return one output per class of ``y`` (checked
        before training).
    n_models : int, default=1
        Independently seeded networks to average over.
    max_epochs : int or None, default=None
        Training epochs; None keeps the estimator's (10 for the default net).
    record_dtype : {"float32", "float16"}, default="float32"
        Storage type of the per-epoch logits recorded for the trajectory
        metrics (``"forgetting"``, ``"aum"``); ``"float16"`` halves their
        memory (n_epochs × n_samples × n_classes values per model) at the cost
        of rounding the logits to about 3 significant digits; logits beyond
        ±65504 overflow to infinity. Ignored by the snapshot metrics.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Device of the default net; a user's net keeps its own unless set here.
    n_jobs : int or None, default=None
        Models trained in parallel through joblib.
    random_state : int, RandomState or None, default=None
        Seeds the models; an int makes scores reproducible, also with ``n_jobs``.
    verbose : int, default=0
        Progress output.

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        Difficulty of every training sample (higher = harder).
    components_ : ndarray of shape (n_samples, 1)
        The metric, as returned by :meth:`fit_transform`.
    classes_ : ndarray
        Class labels.
    nets_ : list of skorch.NeuralNetClassifier
        The fitted scoring networks.
    label_issues_ : ndarray of bool, shape (n_samples,)
        Training samples whose label the final nets' mean output confidently
        contradicts (:func:`skprune.metrics.confident_label_issues`).
    label_noise_ : float
        The estimated fraction of mislabeled samples
        (:func:`skprune.metrics.estimate_label_noise`, 0 where the nets cannot
        tell wrong labels from hard ones); :class:`~skprune.CoresetSelector`
        cuts it with ``"sims"``.
    skill_ : float
        How well the final nets fit the labels they do not call wrong, in
        [0, 1]; low = the scores carry little signal.
    n_features_in_ : int
        Number of features (size of axis 1) seen in fit.

    See Also
    --------
    skprune.CoresetSelector : selects a coreset from these scores.

    Notes
    -----
    :meth:`fit_transform` scores the training samples with their true labels;
    :meth:`transform` scores new samples with the predicted labels, so
    ``fit(X, y).transform(X)`` differs from ``fit_transform(X, y)`` for
    label-dependent metrics. Use :meth:`score_samples` with labels for
    held-out data.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skprune import TrainingDynamicsScorer
    >>> X, y = make_classification(200, 10, random_state=0)
    >>> scorer = TrainingDynamicsScorer("el2n", max_epochs=2, random_state=0).fit(X, y)
    >>> scorer.scores_.shape
    (200,)
    >>> scorer.get_feature_names_out()
    array(['el2n'], dtype=object)
    """

    _parameter_constraints: dict = {
        **BaseScorer._parameter_constraints,
        "metric": [StrOptions(set(DYNAMICS_METRICS))],
        "n_models": [Interval(Integral, 1, None, closed="left")],
        "record_dtype": [StrOptions({"float32", "float16"})],
    }
    _supports_dataset = True

    def __init__(
        self,
        metric="el2n",
        *,
        estimator=None,
        n_models=1,
        max_epochs=None,
        record_dtype="float32",
        device="auto",
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.metric = metric
        self.estimator = estimator
        self.n_models = n_models
        self.max_epochs = max_epochs
        self.record_dtype = record_dtype
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _fit(self, X, y):
        trajectory = self.metric in _TRAJECTORY_METRICS
        tasks = []
        for seed in self._model_seeds(self.n_models):
            recorder = OutputRecorder(keep_params=True, dtype=self.record_dtype)
            callbacks = [("skprune_recorder", recorder)] if trajectory else []
            tasks.append((self._make_net(X, callbacks), X, y, seed))
        self.nets_ = self._parallel(_fit_seeded, tasks)
        proba = None
        if trajectory:
            # Records were taken on the training set during training: reuse them.
            per_model = [
                chunked_trajectory_difficulty(self.metric, _recorder(net).logits_, y)
                for net in self.nets_
            ]
            difficulty = np.mean(per_model, axis=0)
        elif self.metric == "grand":
            difficulty = ensemble_difficulty(self.nets_, self.metric, X, y)
        else:
            proba = self._proba(X)
            difficulty = snapshot_difficulty(self.metric, proba, y)
        # The final nets' outputs also estimate the label noise (SIMS cuts it).
        proba = self._proba(X) if proba is None else proba
        self.label_issues_ = metrics.confident_label_issues(proba, y)
        self.label_noise_, _, self.skill_ = metrics.estimate_label_noise(proba, y)
        self.components_ = difficulty.reshape(-1, 1)
        self.scores_ = self.components_[:, 0].copy()

    def _proba(self, X):
        """Softmax outputs of every net, shape (n_models, n_samples, n_classes)."""
        return np.stack([infer(net, X).proba for net in self.nets_])

    def _components(self, X, y):
        return ensemble_difficulty(self.nets_, self.metric, X, y).reshape(-1, 1)

    def _component_names(self):
        return [self.metric]
