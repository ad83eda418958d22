"""Inclusion probabilities proportional to a weight, capped at 1 (πps), and their draw."""

from __future__ import annotations

import numpy as np


def _capped_scale(weights, k):
    """Scale ``c`` with ``Σ min(1, c·w) = k`` (πps inclusion probabilities)."""
    order = np.sort(weights)[::-1]
    # With the m largest capped at 1, c = (k - m) / Σ_{rest} w must keep the (m+1)-th ≤ 1/c.
    tail = np.cumsum(order[::-1])[::-1]
    for capped in range(k):
        rest = tail[capped] if capped < order.size else 0.0
        if rest <= 0:
            break
        scale = (k - capped) / rest
        if order[capped] * scale <= 1.0:
            return scale
    return np.inf


def _capped(weights, total):
    """Inclusion probabilities ``min(1, c·w)`` summing to ``total``."""
    return np.minimum(1.0, _capped_scale(weights, total) * weights)


def _spread(weights, k):
    """πps probabilities for ``k`` draws; zero-weight samples only fill what the rest cannot."""
    weights = np.nan_to_num(weights, nan=0.0, posinf=0.0)
    positive = weights > 0
    if np.count_nonzero(positive) < k:
        weights = np.where(positive, weights, 1e-12 * (weights.max() if positive.any() else 1.0))
    return _capped(weights, k)
