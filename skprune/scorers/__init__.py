"""Scorers: networks trained on the data give every sample a difficulty."""

from ._base import BaseScorer
from .dynamics import DYNAMICS_METRICS, TrainingDynamicsScorer

__all__ = ["BaseScorer", "TrainingDynamicsScorer", "DYNAMICS_METRICS"]
