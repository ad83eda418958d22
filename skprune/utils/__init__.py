"""Helpers shared across skprune's modules (their one home)."""

from __future__ import annotations

__all__ = ["is_dataset", "equal_steps"]


def is_dataset(X):
    """Whether ``X`` is a torch ``Dataset`` or a skorch ``SliceDataset`` (not an array).

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.utils import is_dataset
    >>> is_dataset(np.zeros((2, 3)))
    False
    """
    import torch
    from skorch.helper import SliceDataset

    return isinstance(X, (torch.utils.data.Dataset, SliceDataset))


def equal_steps(epochs, steps_full, steps_fit):
    """Epochs that give ``steps_fit`` steps per epoch as many steps as ``epochs`` of ``steps_full``.

    ``ceil(epochs · steps_full / steps_fit)`` in integers (a float ratio could
    round 45.0 up to 46): the one equal-steps rule of the library, for a
    coreset's target net (steps counted in samples) and for an incremental
    step's scoring nets (steps counted in batches).

    Examples
    --------
    >>> from skprune.utils import equal_steps
    >>> equal_steps(10, 1000, 300)
    34
    """
    return -(-int(epochs) * int(steps_full) // int(steps_fit))
