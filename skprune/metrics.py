"""Per-sample scores as pure functions of network outputs.

Every function returns a **difficulty**: higher = harder / more informative /
more likely mislabeled. Formulas follow the papers cited in each docstring;
where a paper's quantity is "higher = easier" it is negated here and the
docstring says so.

Shapes: ``proba`` and ``logits`` are ``(n_samples, n_classes)``, or
``(n_models, n_samples, n_classes)`` for scores defined as a mean over
independently seeded models; ``y`` holds integer class codes ``0..n_classes-1``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax
from scipy.special import softmax as _softmax
from scipy.stats import rankdata

__all__ = [
    "softmax",
    "entropy",
    "least_confidence",
    "margin",
    "el2n",
    "grand_last_layer",
    "forgetting",
    "aum",
    "rank_normalize",
    "combine_difficulties",
    "class_prototypes",
    "separability",
    "integrity",
    "model_certainty",
    "confident_label_issues",
    "NoiseEstimate",
    "MIN_NOISE_RATE",
    "estimate_label_noise",
    "empirical_quantile",
]

_EPS = 1e-12


def softmax(logits):
    """Softmax over the last axis.

    Examples
    --------
    >>> from skprune.metrics import softmax
    >>> softmax([[0.0, 0.0]])
    array([[0.5, 0.5]])
    """
    return _softmax(np.asarray(logits, dtype=np.float64), axis=-1)


def _as_proba(proba):
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim not in (2, 3):
        raise ValueError(
            "proba must have shape (n_samples, n_classes) or (n_models, n_samples, n_classes), "
            f"got {proba.shape}"
        )
    if proba.shape[-1] < 2:
        raise ValueError(f"proba needs at least 2 classes (columns), got shape {proba.shape}")
    # NaN passes through (NaN in, NaN out), so that the scorers' finiteness check
    # names the diverged nets. Softmax outputs sum to 1 within ~1e-6 in float32
    # and ~3e-3 in bfloat16; logits or unnormalized scores do not.
    if np.isnan(proba).all():
        return proba
    low, high = np.nanmin(proba), np.nanmax(proba)
    if low < -1e-6 or high > 1.0 + 1e-6:
        raise ValueError(
            f"proba must hold probabilities in [0, 1], got values from {low:.4g} to "
            f"{high:.4g}; pass softmax outputs, not logits"
        )
    deviation = np.abs(proba.sum(axis=-1) - 1.0)
    if not np.isnan(deviation).all() and np.nanmax(deviation) > 1e-2:
        raise ValueError(
            f"proba rows must sum to 1, some sum to 1 ± {np.nanmax(deviation):.4g}; pass "
            "softmax outputs"
        )
    return proba


def _mean_over_models(values):
    return values.mean(axis=0) if values.ndim == 2 else values


def entropy(proba):
    """Predictive entropy ``-Σ_c p_c log p_c`` (Coleman et al. 2020).

    Examples
    --------
    >>> from skprune.metrics import entropy
    >>> entropy([[1.0, 0.0], [0.5, 0.5]]).round(4)
    array([0.    , 0.6931])
    """
    proba = _as_proba(proba)
    return _mean_over_models(-(proba * np.log(np.clip(proba, _EPS, None))).sum(axis=-1))


def least_confidence(proba):
    """Least confidence ``1 - max_c p_c``.

    Examples
    --------
    >>> from skprune.metrics import least_confidence
    >>> least_confidence([[0.9, 0.1], [0.5, 0.5]])
    array([0.1, 0.5])
    """
    proba = _as_proba(proba)
    return _mean_over_models(1.0 - proba.max(axis=-1))


def margin(proba):
    """Negated margin between the two most probable classes, ``-(p_(1) - p_(2))``.

    Negated so that a small margin (an ambiguous sample) is a high difficulty.

    Examples
    --------
    >>> from skprune.metrics import margin
    >>> margin([[0.9, 0.1], [0.5, 0.5]])
    array([-0.8, -0. ])
    """
    proba = _as_proba(proba)
    top2 = np.sort(proba, axis=-1)[..., -2:]
    return _mean_over_models(-(top2[..., 1] - top2[..., 0]))


def _check_labels(y, n_samples, n_classes):
    y = np.asarray(y)
    if y.shape != (n_samples,):
        raise ValueError(f"y must have shape ({n_samples},), got {y.shape}")
    if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError("y must hold integer class codes; encode labels with LabelEncoder first")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"y must hold class codes in [0, {n_classes}), got [{y.min()}, {y.max()}]")
    return y.astype(np.intp)


def _error_vectors(proba, y):
    y = _check_labels(y, proba.shape[-2], proba.shape[-1])
    onehot = np.eye(proba.shape[-1])[y]
    return proba - onehot


def el2n(proba, y):
    """Error L2-norm ``||p - onehot(y)||_2`` (Paul et al. 2021, "Data Diet").

    The paper's score is the mean over independently seeded models early in
    training; pass ``proba`` of shape ``(n_models, n_samples, n_classes)``.

    Examples
    --------
    >>> from skprune.metrics import el2n
    >>> el2n([[1.0, 0.0], [0.0, 1.0]], [0, 0]).round(4)
    array([0.    , 1.4142])
    """
    proba = _as_proba(proba)
    return _mean_over_models(np.linalg.norm(_error_vectors(proba, y), axis=-1))


def grand_last_layer(proba, y, embedding, *, bias=True):
    """GraNd (Paul et al. 2021) restricted to the last linear layer: our cheap form.

    For logits ``z = W h + b`` and cross-entropy, the gradient with respect to
    ``(W, b)`` is ``(p - onehot(y)) ⊗ [h, 1]``, whose norm is
    ``||p - onehot(y)|| · sqrt(||h||² + 1)`` — no backward pass needed
    (``||p - onehot(y)|| · ||h||`` for a layer without bias).

    Parameters
    ----------
    proba : array of shape (n_samples, n_classes) or (n_models, n_samples, n_classes)
    y : array of shape (n_samples,)
    embedding : array of shape (n_samples, d) or (n_models, n_samples, d)
        Input of the last linear layer.
    bias : bool, default=True
        Whether the layer has a bias, whose gradient adds the ``+ 1``.

    Examples
    --------
    >>> from skprune.metrics import grand_last_layer
    >>> grand_last_layer([[0.0, 1.0]], [0], [[0.0, 0.0]]).round(4)
    array([1.4142])
    """
    proba = _as_proba(proba)
    embedding = np.asarray(embedding, dtype=np.float64)
    if embedding.shape[:-1] != proba.shape[:-1]:
        raise ValueError(
            f"embedding shape {embedding.shape} does not match proba shape {proba.shape}"
        )
    error_norm = np.linalg.norm(_error_vectors(proba, y), axis=-1)
    input_norm = np.sqrt((embedding**2).sum(axis=-1) + (1.0 if bias else 0.0))
    return _mean_over_models(error_norm * input_norm)


def forgetting(correct):
    """Forgetting events: correct → incorrect transitions over epochs (Toneva et al. 2019).

    Samples never classified correctly get the maximum, ``n_epochs`` (more than
    any sample can be forgotten in ``n_epochs`` epochs), as in the paper where
    unlearned samples rank above all forgotten ones.

    Parameters
    ----------
    correct : bool array of shape (n_epochs, n_samples)
        Whether each sample was classified correctly after each epoch.

    Examples
    --------
    >>> from skprune.metrics import forgetting
    >>> forgetting([[1, 0, 0], [0, 0, 1], [1, 0, 1]])
    array([1., 3., 0.])
    """
    correct = np.asarray(correct).astype(bool)
    if correct.ndim != 2:
        raise ValueError(f"correct must have shape (n_epochs, n_samples), got {correct.shape}")
    events = (correct[:-1] & ~correct[1:]).sum(axis=0).astype(np.float64)
    events[~correct.any(axis=0)] = correct.shape[0]
    return events


def aum(logits, y):
    """Negated area under the margin, ``-mean_t (z_y - max_{c≠y} z_c)`` (Pleiss et al. 2020).

    Negated so that a low (or negative, typical of mislabeled samples) margin
    is a high difficulty.

    Parameters
    ----------
    logits : array of shape (n_epochs, n_samples, n_classes)
    y : array of shape (n_samples,)

    Examples
    --------
    >>> from skprune.metrics import aum
    >>> aum([[[2.0, 0.0], [0.0, 2.0]]], [0, 0])
    array([-2.,  2.])
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 3:
        raise ValueError(
            f"logits must have shape (n_epochs, n_samples, n_classes), got {logits.shape}"
        )
    y = _check_labels(y, logits.shape[1], logits.shape[2])
    rows = np.arange(logits.shape[1])
    assigned = logits[:, rows, y]
    others = logits.copy()
    others[:, rows, y] = -np.inf
    return -(assigned - others.max(axis=-1)).mean(axis=0)


def rank_normalize(scores):
    """Map scores to their quantile in [0, 1] (ties get their average rank).

    Examples
    --------
    >>> from skprune.metrics import rank_normalize
    >>> rank_normalize([3.0, 1.0, 2.0, 2.0])
    array([1. , 0. , 0.5, 0.5])
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size < 2:
        return np.zeros_like(scores)
    ranks = rankdata(scores, method="average") - 1
    return ranks / (scores.size - 1)


def combine_difficulties(difficulties, weights=None, method="rank_mean"):
    """Combine several difficulty vectors into one.

    Parameters
    ----------
    difficulties : sequence of arrays of shape (n_samples,)
        Each a difficulty (higher = harder).
    weights : sequence of float or None, default=None
        Relative weights (need not sum to 1); None weighs all equally.
    method : {"rank_mean", "mean"}, default="rank_mean"
        ``"rank_mean"`` averages quantiles, so scores on different scales
        compose; ``"mean"`` averages raw values.

    Examples
    --------
    >>> from skprune.metrics import combine_difficulties
    >>> combine_difficulties([[0.0, 10.0, 5.0], [1.0, 2.0, 3.0]])
    array([0.  , 0.75, 0.75])
    """
    arrays = [np.asarray(d, dtype=np.float64).ravel() for d in difficulties]
    if not arrays:
        raise ValueError("need at least one difficulty vector to combine")
    if len({a.size for a in arrays}) != 1:
        raise ValueError(f"difficulty vectors differ in length: {[a.size for a in arrays]}")
    weights = np.ones(len(arrays)) if weights is None else np.asarray(weights, dtype=np.float64)
    if (
        weights.shape != (len(arrays),)
        or not np.all(np.isfinite(weights))
        or np.any(weights < 0)
        or weights.sum() <= 0
    ):
        raise ValueError(
            f"weights must be {len(arrays)} non-negative numbers with a positive sum, got {weights}"
        )
    if method == "rank_mean":
        arrays = [rank_normalize(a) for a in arrays]
    elif method != "mean":
        raise ValueError(f"method must be 'rank_mean' or 'mean', got {method!r}")
    return np.average(np.stack(arrays), axis=0, weights=weights)


# --- SIM components (Grosz et al. 2024; see docs for what is ours) ----------------


def _unit(vectors):
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), _EPS)


def _class_counts(y, n_classes):
    """Samples per class; an error naming the classes with none."""
    counts = np.bincount(y, minlength=n_classes)
    if np.any(counts == 0):
        raise ValueError(f"classes {np.flatnonzero(counts == 0).tolist()} have no sample")
    return counts


def _class_sums(vectors, y, n_classes):
    """Per-class sums of the rows of ``vectors``.

    Rows sorted by class and summed per run (``np.add.reduceat``): several
    times faster than ``np.add.at``, with memory of one copy of ``vectors``.
    """
    order = np.argsort(y, kind="stable")
    present, starts = np.unique(y[order], return_index=True)
    sums = np.zeros((n_classes, vectors.shape[1]))
    if present.size:
        sums[present] = np.add.reduceat(vectors[order], starts, axis=0)
    return sums


def class_prototypes(embedding, y, n_classes, *, normalize=True):
    """Class means of the (L2-normalized) embeddings.

    Parameters
    ----------
    embedding : array of shape (n_samples, d)
    y : array of shape (n_samples,)
        Class codes; every class in ``range(n_classes)`` must occur.
    n_classes : int
    normalize : bool, default=True
        Average unit vectors, so that prototypes do not depend on embedding norms.

    Returns
    -------
    prototypes : ndarray of shape (n_classes, d)

    Examples
    --------
    >>> from skprune.metrics import class_prototypes
    >>> class_prototypes([[2.0, 0.0], [0.0, 3.0]], [0, 1], 2)
    array([[1., 0.],
           [0., 1.]])
    """
    embedding = _unit(embedding) if normalize else np.asarray(embedding, dtype=np.float64)
    y = _check_labels(y, embedding.shape[0], n_classes)
    return _class_sums(embedding, y, n_classes) / _class_counts(y, n_classes)[:, None]


def _distances(embedding, prototypes, distance):
    if distance == "cosine":
        return 1.0 - _unit(embedding) @ _unit(prototypes).T
    if distance == "euclidean":
        diff = np.asarray(embedding, dtype=np.float64)[:, None, :] - prototypes[None, :, :]
        return np.linalg.norm(diff, axis=-1)
    raise ValueError(f"distance must be 'cosine' or 'euclidean', got {distance!r}")


def separability(embedding, y, prototypes, *, distance="cosine", form="ratio", eps=1e-8):
    """Separability from prototype distances: higher = more separable = **easier**.

    ``d_P`` is the distance from a sample's embedding to its own class
    prototype, ``d_N`` the distance to the nearest other-class prototype.
    ``form="ratio"`` gives ``d_N / (d_P + eps)``, the form a secondary summary
    of Grosz et al. (2024) reports. ``form="margin"`` gives ``d_N - d_P``, a
    distance margin (this project's variant, negative for samples nearer
    another class's prototype): the ratio divides by ``d_P``, so a sample far
    from every prototype looks less misplaced than one near both. The cosine
    distance and mean prototypes are this project's choices.

    Parameters
    ----------
    embedding : array of shape (n_samples, d)
    y : array of shape (n_samples,)
        Class codes.
    prototypes : array of shape (n_classes, d)
    distance : {"cosine", "euclidean"}, default="cosine"
    form : {"ratio", "margin"}, default="ratio"
    eps : float, default=1e-8
        Added to ``d_P`` in the ratio form.

    Examples
    --------
    >>> from skprune.metrics import separability
    >>> protos = [[1.0, 0.0], [0.0, 1.0]]
    >>> separability([[1.0, 0.0]], [0], protos, eps=0.5)
    array([2.])
    >>> separability([[1.0, 0.0]], [1], protos, form="margin")  # nearer the other class
    array([-1.])
    """
    if form not in ("ratio", "margin"):
        raise ValueError(f'form must be "ratio" or "margin", got {form!r}')
    prototypes = np.asarray(prototypes, dtype=np.float64)
    embedding = np.asarray(embedding, dtype=np.float64)
    y = _check_labels(y, embedding.shape[0], prototypes.shape[0])
    d = _distances(embedding, prototypes, distance)
    rows = np.arange(y.size)
    own = d[rows, y].copy()
    d[rows, y] = np.inf
    if form == "margin":
        return d.min(axis=1) - own
    return d.min(axis=1) / (own + eps)


def integrity(embedding):
    """Embedding norm ``||f(x)||_2``: higher = cleaner (Grosz et al. 2024, via a summary).

    Examples
    --------
    >>> from skprune.metrics import integrity
    >>> integrity([[3.0, 4.0]])
    array([5.])
    """
    return np.linalg.norm(np.asarray(embedding, dtype=np.float64), axis=-1)


def model_certainty(proba):
    """``1 - JSD(p_1, ..., p_K) / log K``: agreement of K models, in [0, 1], higher = easier.

    The generalized Jensen–Shannon divergence with equal weights,
    ``H(mean_k p_k) - mean_k H(p_k)``, is at most ``log K``; dividing by it
    (our normalization) puts certainty in [0, 1]. Identical models give 1.
    The divergence is also at most ``log C`` for C classes, so with more
    models than classes certainty stays above ``1 - log C / log K``.

    Parameters
    ----------
    proba : array of shape (n_models, n_samples, n_classes), n_models >= 2

    Examples
    --------
    >>> from skprune.metrics import model_certainty
    >>> model_certainty([[[1.0, 0.0]], [[0.0, 1.0]]])  # two models that disagree fully
    array([0.])
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 3 or proba.shape[0] < 2:
        raise ValueError(
            f"proba must have shape (n_models >= 2, n_samples, n_classes), got {proba.shape}"
        )

    def _entropy(p):
        return -(p * np.log(np.clip(p, _EPS, None))).sum(axis=-1)

    divergence = _entropy(proba.mean(axis=0)) - _entropy(proba).mean(axis=0)
    return np.clip(1.0 - divergence / np.log(proba.shape[0]), 0.0, 1.0)


def confident_label_issues(proba, y):
    """Samples that confident learning counts as likely mislabeled (boolean mask).

    The off-diagonal entries of the *confident joint* of Northcutt, Jiang and
    Chuang, "Confident Learning" (JAIR 2021): class ``j``'s threshold ``t_j``
    is the mean predicted probability of ``j`` over the samples labeled ``j``;
    a sample is flagged when some other class reaches its threshold, of the
    classes that do the most probable is not the given label, and the given
    label is not the model's top prediction (cleanlab drops those flags too:
    a model that predicts the given label does not contradict it). The
    uncalibrated count, without cleanlab's row calibration or ranking.

    Parameters
    ----------
    proba : array of shape (n_samples, n_classes) or (n_models, n_samples, n_classes)
        Predicted probabilities; several models' are averaged first.
    y : array of shape (n_samples,)
        Given class codes; every class must occur.

    Returns
    -------
    ndarray of bool, shape (n_samples,)

    Examples
    --------
    >>> from skprune.metrics import confident_label_issues
    >>> proba = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.2, 0.8]]
    >>> confident_label_issues(proba, [0, 0, 1, 0])  # the last looks like class 1
    array([False, False, False,  True])
    """
    proba = _as_proba(proba)
    if proba.ndim == 3:
        proba = proba.mean(axis=0)
    n_samples, n_classes = proba.shape
    y = _check_labels(y, n_samples, n_classes)
    counts = _class_counts(y, n_classes)
    self_confidence = np.bincount(y, weights=proba[np.arange(n_samples), y], minlength=n_classes)
    confident = proba >= self_confidence / counts
    likeliest = np.where(confident, proba, -np.inf).argmax(axis=1)
    return confident.any(axis=1) & (likeliest != y) & (proba.argmax(axis=1) != y)


class NoiseEstimate(NamedTuple):
    """What :func:`estimate_label_noise` returns."""

    #: Estimated fraction of wrong labels (0 below ``MIN_NOISE_RATE``).
    noise_rate: float
    #: Temperature that calibrates the models' probabilities under the channel.
    temperature: float
    #: Chance-corrected accuracy of the models on the labels the channel deems
    #: right: 1 = every right label predicted, 0 = no better than chance.
    skill: float


#: Estimates below this are reported as 0: on the clean labels of the do-no-harm
#: panel (user guide) the estimate stayed under 0.02 with 4 and 10 classes, and
#: a cut this small cannot change a coreset measurably.
MIN_NOISE_RATE = 0.05
_NOISE_GRID = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def _channel_loss(log_proba, y, log_temperature, noise_rate):
    """Negative mean log-likelihood of ``y`` under the symmetric noisy channel, and its gradient."""
    n_classes = log_proba.shape[1]
    temperature = np.exp(log_temperature)
    calibrated = log_softmax(log_proba / temperature, axis=1)
    rows = np.arange(y.size)
    right = np.exp(calibrated[rows, y])
    slope = 1.0 - noise_rate - noise_rate / (n_classes - 1)
    given = np.maximum(slope * right + noise_rate / (n_classes - 1), 1e-300)
    # d right / d log T = -right · (z_y - E_q[z]) / T, with z = log p.
    spread = log_proba[rows, y] - (np.exp(calibrated) * log_proba).sum(axis=1)
    d_log_t = slope * right * -spread / temperature / given
    d_noise = ((1.0 - right) / (n_classes - 1) - right) / given
    return -float(np.log(given).mean()), -np.array([d_log_t.mean(), d_noise.mean()])


def estimate_label_noise(proba, y):
    """Fraction of wrong labels, by maximum likelihood under a symmetric noisy channel.

    The models' probabilities ``p`` are calibrated with a temperature ``T``
    (``q = softmax(log p / T)``) and the given label is modeled as the true
    one with probability ``1 - η``, or else one of the other ``C - 1`` classes
    at random: ``P(y | x) = (1 - η) q_y + η (1 - q_y) / (C - 1)``. ``T`` and
    ``η`` maximize the likelihood of the given labels. The temperature is what
    makes the estimate robust to underfit models: models that predict
    diffusely (short trainings, hard data) get a temperature that explains
    their errors as uncertainty, where confident learning counts them as
    mislabeled (:func:`confident_label_issues` flags half of the clean labels
    of data its models fit to 40% accuracy). In return the estimate is
    conservative: noise the models have learned (a systematic confusion of
    one class with another) looks like uncertainty too and is missed, and
    with two classes symmetric noise is indistinguishable from class overlap,
    so the rate is 0 there (and the skill then falls where labels are wrong).
    On in-sample outputs the nets have partly fitted the wrong labels, so
    where few labels are wrong the estimate can fall below
    :data:`MIN_NOISE_RATE` and be reported as 0.
    This estimator is our choice for SIMS's hard cut, not a published
    method; the symmetric channel is the noise model of Angluin and Laird,
    "Learning from noisy examples" (Machine Learning, 1988), and the
    temperature that of Guo et al., "On calibration of modern neural
    networks" (ICML 2017).

    Parameters
    ----------
    proba : array of shape (n_samples, n_classes) or (n_models, n_samples, n_classes)
        Predicted probabilities; several models' are averaged first.
    y : array of shape (n_samples,)
        Given class codes.

    Returns
    -------
    NoiseEstimate
        ``noise_rate`` (0 when below :data:`MIN_NOISE_RATE`), ``temperature``
        and ``skill``, the models' accuracy on the labels deemed right
        corrected for chance, ``(C·s - 1) / (C - 1)`` with
        ``s = (accuracy - η/(C-1)) / (1 - η·C/(C-1))``, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.metrics import estimate_label_noise
    >>> from skprune.metrics import softmax
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 2000)
    >>> strength = rng.uniform(2, 8, (2000, 1))  # right, with varied confidence ...
    >>> proba = softmax(strength * np.eye(4)[y] + 0.5 * rng.standard_normal((2000, 4)))
    >>> noisy = y.copy()
    >>> noisy[:400] = (y[:400] + 1) % 4  # ... but 20% of the labels are wrong
    >>> estimate = estimate_label_noise(proba, noisy)
    >>> round(estimate.noise_rate, 2), round(estimate.skill, 2)
    (0.2, 0.99)
    >>> estimate_label_noise(proba, y).noise_rate
    0.0
    """
    proba = _as_proba(proba)
    if proba.ndim == 3:
        proba = proba.mean(axis=0)
    n_samples, n_classes = proba.shape
    y = _check_labels(y, n_samples, n_classes)
    log_proba = np.log(np.clip(proba, _EPS, 1.0))
    highest = (n_classes - 1) / n_classes  # η beyond it makes the labels anti-informative

    def loss(theta):
        return _channel_loss(log_proba, y, theta[0], theta[1])

    # The likelihood is not concave in (log T, η) and flat where T saturates the
    # softmax: the best temperature on a grid of η, then a joint refinement.
    def profile(noise):
        result = minimize_scalar(
            lambda log_t: loss((log_t, noise))[0], bounds=(-5.0, 5.0), method="bounded"
        )
        return result.fun, result.x

    # With two classes the channel only squeezes the probabilities towards 1/2,
    # which overlapping classes do too: the rate is not identifiable, so it is 0.
    highest = 0.0 if n_classes == 2 else highest - 1e-6
    grid = [noise for noise in _NOISE_GRID if noise <= highest]
    _, log_t, noise = min((*profile(noise), noise) for noise in grid)
    best = minimize(
        loss,
        [log_t, noise],
        jac=True,
        method="L-BFGS-B",
        bounds=[(-5.0, 5.0), (0.0, highest)],
    )
    temperature, noise_rate = float(np.exp(best.x[0])), float(best.x[1])
    accuracy = float((proba.argmax(axis=1) == y).mean())
    off = noise_rate / (n_classes - 1)
    right = (accuracy - off) / (1.0 - noise_rate * n_classes / (n_classes - 1))
    skill = float(np.clip((n_classes * right - 1.0) / (n_classes - 1), 0.0, 1.0))
    if noise_rate < MIN_NOISE_RATE:
        noise_rate = 0.0
    return NoiseEstimate(noise_rate, temperature, skill)


def empirical_quantile(reference, values, *, tolerance=1e-5):
    """Average-rank quantile of ``values`` within ``reference``, clipped to [0, 1].

    New samples are placed on the training distribution's scale. Values within
    ``tolerance · max(1, |v|)`` of each other count as equal, because network
    outputs are float32 and their last bits depend on the batch size: scoring
    the training samples again gives their training quantiles. On the
    reference itself it equals :func:`rank_normalize` where no two values are
    that close (``tolerance=0`` ranks exactly). NaN values stay NaN; NaN in
    ``reference`` is ignored.

    Examples
    --------
    >>> from skprune.metrics import empirical_quantile
    >>> empirical_quantile([1.0, 2.0, 3.0], [0.0, 2.0, 9.0])
    array([0. , 0.5, 1. ])
    """
    reference = np.asarray(reference, dtype=np.float64).ravel()
    reference = np.sort(reference[~np.isnan(reference)])
    values = np.asarray(values, dtype=np.float64)
    if reference.size < 2:
        return np.where(np.isnan(values), np.nan, 0.0)
    # Network outputs are float32 and batch-size dependent in their last bits: a
    # value within that round-off of a reference value counts as equal to it.
    tolerance = tolerance * np.maximum(1.0, np.abs(values))
    below = np.searchsorted(reference, values - tolerance, side="left")
    upto = np.searchsorted(reference, values + tolerance, side="right")
    quantile = np.clip((below + upto - 1) / (2.0 * (reference.size - 1)), 0.0, 1.0)
    # A NaN has no rank: it stays NaN, so that callers' finiteness checks see it.
    return np.where(np.isnan(values), np.nan, quantile)
