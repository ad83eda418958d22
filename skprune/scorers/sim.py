"""SIMScorer: separability, integrity and model uncertainty over K short-lived networks."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from .. import metrics
from ..nets import applied_last_linear, iter_outputs
from ._base import BaseScorer, _fit_seeded

__all__ = ["SIMScorer"]


# Rows per chunk when combining the models' outputs (bounds float64 temporaries).
_CHUNK_ROWS = 65536

# Embeddings of one pass are kept in memory up to this size, so that their
# distances to the prototypes need no second forward pass over X; larger data
# is read twice instead (the scaling benchmark's 10**6 samples are).
_EMBEDDING_BUDGET_BYTES = 256 * 2**20


def _output_pass(net, X, y=None, n_classes=None, *, budget=None):
    """Softmax outputs of one net over ``X``, batch by batch.

    Returns ``(proba, prototypes, embeddings)``. With labels, the embeddings are
    also reduced to per-class sums of unit vectors (the prototypes of
    :func:`skprune.metrics.class_prototypes`, summed in the same order). The
    embedding batches are returned while their total stays within ``budget``
    bytes (default ``_EMBEDDING_BUDGET_BYTES``), else None (the caller reads
    ``X`` again).
    """
    budget = _EMBEDDING_BUDGET_BYTES if budget is None else budget
    proba, sums, kept, kept_bytes, start = [], None, [], 0, 0
    for logits, embedding in iter_outputs(net, X, embedding=True):
        proba.append(torch.softmax(logits, dim=1).numpy())
        embedding = embedding.numpy()
        if y is not None:
            stop = start + logits.shape[0]
            if sums is None:
                sums = np.zeros((n_classes, embedding.shape[1]))
            sums += metrics._class_sums(metrics._unit(embedding), y[start:stop], n_classes)
            start = stop
        if kept is not None:
            kept_bytes += embedding.nbytes
            if kept_bytes <= budget:
                kept.append(embedding)
            else:
                kept = None
    proba = np.concatenate(proba)
    if y is None:
        return proba, None, kept
    return proba, sums / metrics._class_counts(y, n_classes)[:, None], kept


def _embedding_terms(net, X, y, prototypes, distance, form, embeddings=None):
    """Raw separability and integrity of every sample under one net, batch by batch.

    ``prototypes`` is one (n_classes, d) set or a stack of sets; separability
    has one row per set. ``embeddings`` are the batches kept by
    :func:`_output_pass`; None streams them from ``X`` again.
    """
    if embeddings is None:
        embeddings = (embedding.numpy() for _, embedding in iter_outputs(net, X, embedding=True))
    prototype_sets = prototypes if prototypes.ndim == 3 else prototypes[None]
    separability, integrity, start = [], [], 0
    for embedding in embeddings:
        stop = start + embedding.shape[0]
        separability.append(
            [
                metrics.separability(embedding, y[start:stop], p, distance=distance, form=form)
                for p in prototype_sets
            ]
        )
        integrity.append(metrics.integrity(embedding))
        start = stop
    return np.concatenate(separability, axis=1), np.concatenate(integrity)


def _classifier_prototypes(net, X, n_classes, prototypes):
    """Rows of the output layer's weight: the classifier's direction for each class."""
    layer = applied_last_linear(net, X)
    weight = layer.weight.detach().to("cpu", torch.float64).numpy()
    if weight.shape[0] != n_classes:
        raise ValueError(
            f"prototypes={prototypes!r} needs one output per class: the output nn.Linear of "
            f"{type(net.module_).__name__} (the one whose output forward returns, else the last "
            f"one applied) has {weight.shape[0]} outputs for {n_classes} classes; use "
            "prototypes='mean', or return the output nn.Linear's result from forward"
        )
    return weight


def _stack_terms(terms):
    """Per-net ``(separability, integrity)`` pairs as (n_models [× n_sets], n) arrays."""
    return {
        "separability": np.concatenate([separability for separability, _ in terms]),
        "integrity": np.stack([integrity for _, integrity in terms]),
    }


def _model_certainty(proba):
    """:func:`skprune.metrics.model_certainty` of (n_models, n, C) outputs, in row chunks."""
    return np.concatenate(
        [
            metrics.model_certainty(proba[:, start : start + _CHUNK_ROWS])
            for start in range(0, proba.shape[1], _CHUNK_ROWS)
        ]
    )


def _mean_quantile(references, values):
    """Per-model quantiles of ``values`` on the training ``references``, averaged over models."""
    return np.mean(
        [
            metrics.empirical_quantile(reference, value)
            for reference, value in zip(references, values, strict=True)
        ],
        axis=0,
    )


class SIMScorer(BaseScorer):
    """The SIM score of Grosz et al. (ICPR 2024): separability, integrity, model certainty.

    Trains ``n_models`` short-lived networks with different seeds and, from
    the embedding (input of the output linear layer) and softmax output of each:

    * **separability** from ``d_P``, the distance to the own-class prototype,
      and ``d_N``, the distance to the nearest other-class prototype
      (per model, prototypes = class means of unit-norm training embeddings
      and/or the classifier's weight rows, see ``prototypes``):
      the paper's ratio ``d_N / (d_P + ε)`` as reported by a secondary
      summary (``separability="ratio"``), or the margin ``d_N - d_P`` (the
      default, our variant, see below);
    * **integrity** — the embedding norm;
    * **certainty** ``1 - JSD(p_1..p_K)`` — agreement of the K models (we
      divide the JSD by ``log K`` so that certainty lies in [0, 1]).

    The paper states that these per-sample, multi-model terms are normalized
    and combined; the exact normalization and combination are not available
    to us, so the following is **this project's reconstruction** (our choice,
    see the SIM and SIMS method page): separability and integrity are turned into
    quantiles per model (and prototype set; norms are not comparable across
    models) and averaged over the models; then ``sim = ŝ · ê^integrity_weight · c^certainty_weight``
    (``combination="product"``) or a weighted mean (``"mean"``). Higher SIM =
    easier / cleaner; ``scores_`` is the difficulty ``1 - quantile(sim)``.

    From the same nets' softmax outputs, confident learning flags the labels
    that are likely wrong (``label_issues_``,
    :func:`skprune.metrics.confident_label_issues`), and a noisy-channel fit
    estimates their fraction and how well the nets fit the data
    (``label_noise_`` and ``skill_``, :func:`skprune.metrics.estimate_label_noise`).
    By default SIMS cuts ``label_noise_`` from the hard end of the difficulty
    and trusts the ranking only as far as ``skill_`` allows (see
    :class:`~skprune.CoresetSelector`).

    Parameters
    ----------
    estimator : skorch.NeuralNetClassifier or None, default=None
        Scoring network (cloned). None builds the default net for ``X``'s
        shape at half width (:func:`skprune.nets.make_default_net` with
        ``width=0.5``: 128 hidden units for the MLP, 8 / 16 channels for the
        CNN): the scoring nets only rank the samples, and half width costs
        less (our choice, see the documentation's benchmarks page). Pass
        ``make_default_net(X, n_classes)`` for full width. A user's net must
        return one output per class of
        ``y`` (checked before training).
    n_models : int, default=2
        Number of scoring networks K (at least 2: certainty compares models).
    max_epochs : int or None, default=None
        Training epochs of each scoring net; None keeps the estimator's, or 2
        for the default net (short trainings are what makes SIM cheap; our
        choice, see the SIM and SIMS method page).
    distance : {"cosine", "euclidean"}, default="cosine"
        Distance between embeddings and prototypes; ``"euclidean"`` needs
        ``prototypes="mean"``.
    prototypes : {"both", "mean", "classifier"}, default="both"
        What separability measures distances to, per net (our choices; the
        paper's prototypes are not known to us): ``"mean"``, the mean of each
        class's unit training embeddings; ``"classifier"``, the rows of the
        last linear layer's weight, the direction along which each class's
        logit grows (separability is then close to a normalized logit margin;
        cosine distance only); ``"both"``, the average of the two
        separabilities' quantiles (the default; our choice, see the SIM and
        SIMS method page).
    separability : {"margin", "ratio"}, default="margin"
        ``"ratio"``: ``d_N / (d_P + ε)``, the form a secondary summary of the
        paper reports; ``"margin"``: ``d_N - d_P``, our variant. The ratio
        divides by ``d_P``, so a sample far from every prototype looks less
        misplaced than one near two (our choice, see the documentation's
        benchmarks page).
    combination : {"product", "mean"}, default="product"
        How the normalized terms are combined.
    integrity_weight, certainty_weight : float, default=0.1, 1.0
        Exponents (product) or weights (mean) of the integrity and certainty
        terms. Integrity is weighted low because alone it carries little
        signal about mislabeling (our choice, see the SIM and SIMS method
        page).
    device : {"auto", "cpu", "cuda"}, default="auto"
    n_jobs : int or None, default=None
        Scoring networks trained in parallel through joblib.
    random_state : int, RandomState or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        Difficulty (higher = harder / more likely mislabeled).
    components_ : ndarray of shape (n_samples, 4)
        ``separability``, ``integrity`` (mean per-model quantiles), ``certainty``
        and ``sim`` of the training samples.
    nets_ : list of skorch.NeuralNetClassifier
    prototypes_ : list of ndarray of shape (n_classes, d) or (2, n_classes, d)
        Class prototypes of each model: the mean and the classifier's
        prototypes stacked with ``prototypes="both"``.
    label_issues_ : ndarray of bool, shape (n_samples,)
        Training samples whose label the nets' mean output confidently
        contradicts (:func:`skprune.metrics.confident_label_issues`).
    label_noise_ : float
        The estimated fraction of mislabeled training samples
        (:func:`skprune.metrics.estimate_label_noise`): conservative, 0 where
        the nets cannot tell wrong labels from hard ones. Not
        ``label_issues_.mean()``, which counts the errors of underfit nets
        as label issues.
    skill_ : float
        How well the scoring nets fit the labels they do not call wrong, in
        [0, 1] (chance-corrected accuracy): low = the nets underfit and the
        scores carry little signal.
    classes_ : ndarray
    n_features_in_ : int

    See Also
    --------
    skprune.sampling.select_sims : the ratio-adaptive importance sampler.
    skprune.TrainingDynamicsScorer : baseline scores.

    Notes
    -----
    Each net reads ``X`` once when its embeddings fit in 256 MiB (they are
    kept between the prototype and the distance computations), twice
    otherwise; the scores are the same either way.

    :meth:`transform` places new samples on the training quantiles of each
    term and uses the predicted label for separability; :meth:`score_samples`
    uses given labels.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skprune import SIMScorer
    >>> X, y = make_classification(200, 10, n_classes=3, n_informative=4, random_state=0)
    >>> scorer = SIMScorer(random_state=0)
    >>> scorer.fit_transform(X, y).shape
    (200, 4)
    >>> list(scorer.get_feature_names_out())
    ['separability', 'integrity', 'certainty', 'sim']
    """

    _parameter_constraints: dict = {
        **BaseScorer._parameter_constraints,
        "n_models": [Interval(Integral, 2, None, closed="left")],
        "distance": [StrOptions({"cosine", "euclidean"})],
        "prototypes": [StrOptions({"mean", "classifier", "both"})],
        "separability": [StrOptions({"margin", "ratio"})],
        "combination": [StrOptions({"product", "mean"})],
        "integrity_weight": [Interval(Real, 0, None, closed="left")],
        "certainty_weight": [Interval(Real, 0, None, closed="left")],
    }
    default_max_epochs = 2
    _default_net_width = 0.5
    _supports_dataset = True

    def __init__(
        self,
        *,
        estimator=None,
        n_models=2,
        max_epochs=None,
        distance="cosine",
        prototypes="both",
        separability="margin",
        combination="product",
        integrity_weight=0.1,
        certainty_weight=1.0,
        device="auto",
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.n_models = n_models
        self.max_epochs = max_epochs
        self.distance = distance
        self.prototypes = prototypes
        self.separability = separability
        self.combination = combination
        self.integrity_weight = integrity_weight
        self.certainty_weight = certainty_weight
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _fit(self, X, y):
        if self.prototypes != "mean" and self.distance != "cosine":
            raise ValueError(
                f"prototypes={self.prototypes!r} compares directions (the classifier's "
                f"weight rows are not embeddings); use distance='cosine', got {self.distance!r}"
            )
        tasks = [(self._make_net(X), X, y, seed) for seed in self._model_seeds(self.n_models)]
        self.nets_ = self._parallel(_fit_seeded, tasks)
        # The prototypes need every embedding before any separability: one
        # pass per net when its embeddings fit the budget, two otherwise.
        proba, self.prototypes_, terms = [], [], []
        # Class sums of the embeddings are needed only for the mean prototypes.
        labels = None if self.prototypes == "classifier" else y
        for net in self.nets_:
            net_proba, prototypes, embeddings = _output_pass(net, X, labels, self.classes_.size)
            if self.prototypes != "mean":
                classifier = _classifier_prototypes(net, X, self.classes_.size, self.prototypes)
                prototypes = (
                    classifier
                    if self.prototypes == "classifier"
                    else np.stack([prototypes, classifier])
                )
            proba.append(net_proba)
            self.prototypes_.append(prototypes)
            terms.append(
                _embedding_terms(
                    net, X, y, prototypes, self.distance, self.separability, embeddings
                )
            )
        raw = _stack_terms(terms)
        # Reference distributions put new samples on the training scale.
        self._separability_reference = raw["separability"]
        self._integrity_reference = raw["integrity"]
        proba = np.stack(proba)
        self.label_issues_ = metrics.confident_label_issues(proba, y)
        self.label_noise_, _, self.skill_ = metrics.estimate_label_noise(proba, y)
        self.components_ = self._combine(raw, proba)
        self._sim_reference = self.components_[:, 3].copy()
        self.scores_ = self._difficulty(self.components_)

    def _combine(self, raw, proba):
        separability = _mean_quantile(self._separability_reference, raw["separability"])
        integrity = _mean_quantile(self._integrity_reference, raw["integrity"])
        certainty = _model_certainty(proba)
        if self.combination == "product":
            sim = separability * integrity**self.integrity_weight * certainty**self.certainty_weight
        else:
            total = 1.0 + self.integrity_weight + self.certainty_weight
            sim = (
                separability + self.integrity_weight * integrity + self.certainty_weight * certainty
            ) / total
        return np.column_stack([separability, integrity, certainty, sim])

    def _components(self, X, y):
        # Without labels, separability uses the ensemble's predicted label, so
        # every net's outputs come first; the nets share the embedding budget.
        budget = _EMBEDDING_BUDGET_BYTES // len(self.nets_)
        passes = [_output_pass(net, X, budget=budget) for net in self.nets_]
        proba = np.stack([net_proba for net_proba, _, _ in passes])
        if y is None:
            y = proba.mean(axis=0).argmax(axis=1)
        terms = [
            _embedding_terms(net, X, y, prototypes, self.distance, self.separability, embeddings)
            for net, prototypes, (_, _, embeddings) in zip(
                self.nets_, self.prototypes_, passes, strict=True
            )
        ]
        return self._combine(_stack_terms(terms), proba)

    def _difficulty(self, components):
        return 1.0 - metrics.empirical_quantile(self._sim_reference, components[:, 3])

    def _component_names(self):
        return ["separability", "integrity", "certainty", "sim"]
