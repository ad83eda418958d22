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
]
