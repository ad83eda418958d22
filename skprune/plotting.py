"""Plots of scores and sampling densities (needs the ``plot`` extra: matplotlib)."""

from __future__ import annotations

import numpy as np

from .sampling import sims_density, sims_density_parameters

__all__ = ["plot_score_map", "plot_sampling_density"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'skprune[plot]'") from error
    return plt


def _axes(ax):
    return _pyplot().subplots(figsize=(6, 4.5))[1] if ax is None else ax


def plot_score_map(
    scores,
    y,
    *,
    x="separability",
    y_axis="certainty",
    mislabeled=None,
    feature_names=None,
    max_points=5000,
    random_state=0,
    ax=None,
):
    """Scatter two score components per sample, coloured by class (the SIM paper's Fig. 1 idea).

    Parameters
    ----------
    scores : fitted scorer or array of shape (n_samples, n_components)
        A fitted scorer (its ``components_`` and feature names are used) or a
        components matrix with ``feature_names``.
    y : array-like of shape (n_samples,)
        Labels used for the colours.
    x, y_axis : str, default="separability", "certainty"
        Components on the horizontal and vertical axes.
    mislabeled : bool array of shape (n_samples,) or None
        Samples to flag (e.g. injected label noise), drawn as black crosses.
    feature_names : list of str or None
        Names of the columns when ``scores`` is an array.
    max_points : int, default=5000
        Random subsample drawn for readability.
    random_state : int, default=0
        Seed of that subsample.
    ax : matplotlib Axes or None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skprune.plotting import plot_score_map
    >>> comps = np.random.default_rng(0).random((50, 2))
    >>> ax = plot_score_map(comps, np.arange(50) % 3, x="a", y_axis="b", feature_names=["a", "b"])
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('a', 'b')
    """
    if hasattr(scores, "components_"):
        feature_names = list(scores.get_feature_names_out())
        components = scores.components_
    else:
        components = np.asarray(scores, dtype=float)
        if feature_names is None:
            raise ValueError("feature_names is required when scores is an array")
        feature_names = list(feature_names)
    for name in (x, y_axis):
        if name not in feature_names:
            raise ValueError(f"unknown component {name!r}; available: {feature_names}")
    y = np.asarray(y)
    if y.shape[0] != components.shape[0]:
        raise ValueError(
            f"y has {y.shape[0]} labels but the scores have {components.shape[0]} samples"
        )
    if mislabeled is not None:
        mislabeled = np.asarray(mislabeled)
        if mislabeled.shape != y.shape or not np.isin(mislabeled, (0, 1)).all():
            raise ValueError(
                f"mislabeled must be a boolean mask with one entry per sample ({y.shape[0]}), "
                f"got shape {mislabeled.shape}; from indices build it with "
                "np.isin(np.arange(n_samples), indices)"
            )
    rows = np.arange(y.shape[0])
    if rows.size > max_points:
        rows = np.sort(np.random.default_rng(random_state).choice(rows, max_points, replace=False))
    ax = _axes(ax)
    xs = components[rows, feature_names.index(x)]
    ys = components[rows, feature_names.index(y_axis)]
    classes, codes = np.unique(y[rows], return_inverse=True)
    cmap = _pyplot().get_cmap("tab10" if classes.size <= 10 else "tab20")
    for code, label in enumerate(classes):
        mask = codes == code
        ax.scatter(xs[mask], ys[mask], s=6, alpha=0.6, color=cmap(code % cmap.N), label=str(label))
    if mislabeled is not None:
        flagged = mislabeled.astype(bool)[rows]
        ax.scatter(xs[flagged], ys[flagged], s=14, marker="x", color="black", label="flagged")
    ax.set_xlabel(x)
    ax.set_ylabel(y_axis)
    ax.legend(markerscale=2, fontsize="small", ncol=2, loc="best")
    return ax


def plot_sampling_density(
    pruning_ratios=(0.3, 0.5, 0.7, 0.9), *, label_noise=None, ax=None, **density
):
    """Plot the SIMS density over the difficulty quantile for several pruning ratios.

    Parameters
    ----------
    pruning_ratios : sequence of float
    label_noise : float or None, default=None
        Estimated fraction of mislabeled samples, cut as
        :func:`~skprune.sampling.select_sims` cuts it (e.g. a fitted
        selector's ``label_noise_``); None draws the density's own cut.
    ax : matplotlib Axes or None
    **density
        Parameters of :func:`skprune.sampling.sims_density`.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skprune.plotting import plot_sampling_density
    >>> len(plot_sampling_density((0.3, 0.9)).get_lines())
    2
    """
    ax = _axes(ax)
    density = sims_density_parameters(density, label_noise)
    u = np.linspace(0.0025, 0.9975, 400)
    for ratio in pruning_ratios:
        ax.plot(u, sims_density(u, ratio, **density), label=f"α = {ratio}")
    ax.set_xlabel("difficulty quantile (0 = easiest)")
    ax.set_ylabel("sampling density")
    ax.legend()
    return ax
