"""Scorers: networks trained on the data give every sample a difficulty."""

from ._base import BaseScorer
from .dynamics import DYNAMICS_METRICS, TrainingDynamicsScorer
from .sim import SIMScorer

__all__ = ["BaseScorer", "SIMScorer", "TrainingDynamicsScorer", "DYNAMICS_METRICS"]
