"""skprune: data pruning / coreset selection for deep-learning classifiers.

Score every training sample with skorch-wrapped networks, keep a smaller subset
(the coreset) that trains almost as well as the full data.
"""

from .scorers import BaseScorer, DiffInScorer, SIMScorer, TrainingDynamicsScorer, UnseenScorer
from .selection import CoresetSelector, LowSignalWarning

__version__ = "0.1.0.dev0"

__all__ = [
    "BaseScorer",
    "CoresetSelector",
    "DiffInScorer",
    "LowSignalWarning",
    "SIMScorer",
    "TrainingDynamicsScorer",
    "UnseenScorer",
    "__version__",
]
