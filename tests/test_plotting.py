"""Plots draw what they say (Agg backend)."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from skprune import SIMScorer  # noqa: E402
from skprune.plotting import plot_sampling_density, plot_score_map  # noqa: E402
from skprune.sampling import sims_density  # noqa: E402


def test_score_map_from_a_fitted_scorer_flags_mislabeled(small_data):
    X, y = small_data
    scorer = SIMScorer(n_models=2, max_epochs=1, random_state=0).fit(X, y)
    flagged = np.zeros(y.size, bool)
    flagged[:7] = True
    ax = plot_score_map(scorer, y, mislabeled=flagged)
    # one scatter per class plus the flagged overlay
    assert len(ax.collections) == np.unique(y).size + 1
    assert ax.collections[-1].get_offsets().shape == (7, 2)
    assert ax.get_xlabel() == "separability" and ax.get_ylabel() == "certainty"


def test_score_map_subsamples_and_validates():
    comps = np.random.default_rng(0).random((300, 2))
    y = np.arange(300) % 2
    ax = plot_score_map(comps, y, x="a", y_axis="b", feature_names=["a", "b"], max_points=100)
    assert sum(c.get_offsets().shape[0] for c in ax.collections) == 100
    with pytest.raises(ValueError, match="unknown component 'c'"):
        plot_score_map(comps, y, x="c", y_axis="b", feature_names=["a", "b"])
    with pytest.raises(ValueError, match="feature_names is required"):
        plot_score_map(comps, y)
    with pytest.raises(ValueError, match="299 labels"):
        plot_score_map(comps, y[:-1], x="a", y_axis="b", feature_names=["a", "b"])
    for mislabeled in (np.zeros(299, bool), np.array([3, 7])):
        with pytest.raises(ValueError, match=r"mislabeled must be a boolean mask .*np\.isin"):
            plot_score_map(
                comps, y, x="a", y_axis="b", feature_names=["a", "b"], mislabeled=mislabeled
            )


def test_density_plot_draws_the_density_per_ratio():
    ax = plot_sampling_density((0.2, 0.8), mean_start=0.7, mean_end=0.3)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["α = 0.2", "α = 0.8"]
    u, d = lines[1].get_data()
    np.testing.assert_allclose(d, sims_density(u, 0.8, mean_start=0.7, mean_end=0.3))


def test_density_plot_cuts_the_label_noise_as_sims_does():
    ax = plot_sampling_density((0.8,), label_noise=0.2)
    u, d = ax.get_lines()[0].get_data()
    np.testing.assert_allclose(d, sims_density(u, 0.8, cut_start=0.2, cut_end=0.2))
    assert not d[u > 0.8].any() and d[u < 0.8].all()
