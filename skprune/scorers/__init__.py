"""Scorers: networks trained on the data give every sample a difficulty."""

from ._base import BaseScorer
from .diffin import DiffInScorer
from .dynamics import DYNAMICS_METRICS, TrainingDynamicsScorer
from .sim import SIMScorer
from .unseen import UnseenScorer

__all__ = [
    "BaseScorer",
    "DiffInScorer",
    "SIMScorer",
    "TrainingDynamicsScorer",
    "UnseenScorer",
    "DYNAMICS_METRICS",
    "SCORER_NAMES",
    "make_scorer",
]

#: The scorer names :func:`make_scorer` (and ``skprune select --scorer``) accept:
#: SIM, UNSEEN margin, Diff-In, and every training-dynamics metric.
SCORER_NAMES = ("sim", "unseen", "diffin", *DYNAMICS_METRICS)


def make_scorer(name, **params):
    """The scorer a name stands for, with ``params`` set (the one registry of scorer names).

    Parameters
    ----------
    name : str
        One of :data:`SCORER_NAMES`: ``"sim"`` (:class:`SIMScorer`),
        ``"unseen"`` (:class:`UnseenScorer` on the margin), ``"diffin"``
        (:class:`DiffInScorer`), or a metric of :class:`TrainingDynamicsScorer`.
    **params
        Constructor parameters of that scorer.

    Returns
    -------
    BaseScorer
        Unfitted.

    Examples
    --------
    >>> from skprune.scorers import make_scorer
    >>> make_scorer("el2n", n_models=2)
    TrainingDynamicsScorer(n_models=2)
    >>> make_scorer("unseen", n_subsets=3).metric
    'margin'
    """
    if name == "sim":
        return SIMScorer(**params)
    if name == "unseen":
        return UnseenScorer(**{"metric": "margin", **params})
    if name == "diffin":
        return DiffInScorer(**params)
    if name in DYNAMICS_METRICS:
        return TrainingDynamicsScorer(name, **params)
    raise ValueError(f"unknown scorer {name!r}; choose one of {list(SCORER_NAMES)}")
