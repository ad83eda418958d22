"""The accuracy-vs-pruning-ratio harness: rows, timing, summaries, writers and plots."""

import csv
import math
import warnings

import numpy as np
import pytest

from skprune import CoresetSelector
from skprune.benchmark import (
    METHODS,
    SCORERS,
    SUITES,
    Method,
    _select,
    describe_method,
    equal_step_epochs,
    format_markdown,
    plot_accuracy,
    plot_times,
    run_benchmark,
    summarize,
    write_csv,
)
from skprune.sampling import coreset_size

N_TRAIN, N_TEST = 120, 45


@pytest.fixture(scope="module")
def data():
    """Three separable Gaussian classes, 40 training samples each."""
    rng = np.random.default_rng(0)
    centres = 3.0 * np.eye(3, 6, dtype=np.float32)
    y_train = np.repeat([0, 1, 2], N_TRAIN // 3)
    y_test = np.repeat([0, 1, 2], N_TEST // 3)
    X_train = centres[y_train] + rng.normal(size=(N_TRAIN, 6)).astype(np.float32)
    X_test = centres[y_test] + rng.normal(size=(N_TEST, 6)).astype(np.float32)
    return X_train, X_test, y_train, y_test


class _RecordingNet:
    """Stands in for a skorch net: records what it is trained on, predicts class 0."""

    def __init__(self, log, max_epochs):
        self.log = log
        self.max_epochs = max_epochs

    def fit(self, X, y):
        self.log.append({"n": len(y), "epochs": self.max_epochs, "y": np.array(y)})
        return self

    def predict(self, X):
        return np.zeros(len(X), dtype=int)


@pytest.fixture
def fake_net():
    """``make_net`` returning :class:`_RecordingNet`; the list of fits is ``make_net.log``."""
    log = []

    def make_net(X, n_classes, *, max_epochs, device):
        return _RecordingNet(log, max_epochs)

    make_net.log = log
    return make_net


@pytest.fixture(scope="module")
def every_method(data):
    """Every registered method with the registered scorers, 5 epochs, 2 ratios, 2 seeds."""
    X_train, X_test, y_train, y_test = data
    # 5 epochs of one batch: Diff-In keeps one checkpoint per step (5 of its
    # default 10) and says so; the warning is expected here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="n_checkpoints must be between")
        rows = run_benchmark(
            X_train, y_train, X_test, y_test, list(METHODS), [0.3, 0.5], [0, 1], epochs=5
        )
    return rows


def test_rows_for_every_method_ratio_and_seed(every_method):
    rows = every_method
    expected = []
    for seed in (0, 1):
        expected.append(("full", 0.0, seed))
        expected += [(name, ratio, seed) for ratio in (0.3, 0.5) for name in METHODS]
    assert [(row["method"], row["ratio"], row["seed"]) for row in rows] == expected


def test_kept_counts_are_exact(every_method):
    for row in every_method:
        assert row["n_kept"] == coreset_size(N_TRAIN, row["ratio"]), row
        assert 0.0 <= row["accuracy"] <= 1.0


def test_scoring_time_is_per_seed_and_shared_by_ratios(every_method):
    by_key = {}
    for row in every_method:
        if row["method"] == "full" or row["scorer"] == "":
            assert row["score_seconds"] == 0.0
            continue
        assert row["score_seconds"] > 0.0
        by_key.setdefault((row["scorer"], row["seed"]), set()).add(row["score_seconds"])
    # One fit per scorer and seed: every method and ratio using it reports the same time.
    assert all(len(times) == 1 for times in by_key.values())
    assert {scorer for scorer, _ in by_key} == {m.scorer for m in METHODS.values() if m.scorer}


def test_the_full_data_trains_well(every_method):
    full = [row["accuracy"] for row in every_method if row["method"] == "full"]
    assert min(full) > 0.6  # three well-separated classes, chance is 1/3


def test_equal_steps_scale_the_epochs(data, fake_net):
    X_train, X_test, y_train, y_test = data
    args = (X_train, y_train, X_test, y_test, ["random"], [0.5, 0.75], [0])
    rows = run_benchmark(*args, epochs=2, make_net=fake_net)
    assert [row["epochs"] for row in rows] == [2, 4, 8]
    # The nets really trained for those epochs on those many samples (after one warm-up fit).
    assert [(fit["n"], fit["epochs"]) for fit in fake_net.log[1:]] == [(120, 2), (60, 4), (30, 8)]
    rows = run_benchmark(*args, epochs=2, equal_steps=False, make_net=fake_net)
    assert [row["epochs"] for row in rows] == [2, 2, 2]


@pytest.mark.parametrize(
    "epochs, n_full, n_kept, expected", [(10, 1347, 135, 100), (10, 100, 100, 10), (3, 10, 4, 8)]
)
def test_equal_step_epochs(epochs, n_full, n_kept, expected):
    assert equal_step_epochs(epochs, n_full, n_kept) == expected
    assert expected == math.ceil(epochs * n_full / n_kept)


def test_random_is_always_included_first(data, fake_net):
    X_train, X_test, y_train, y_test = data
    rows = run_benchmark(
        X_train, y_train, X_test, y_test, [Method("hard/x", "el2n", "hard")], [0.5], [3],
        epochs=1, make_net=fake_net,
        scorers={"el2n": lambda **kw: _FixedScores(np.arange(N_TRAIN, dtype=float))},
    )  # fmt: skip
    assert [row["method"] for row in rows] == ["full", "random", "hard/x"]
    assert rows[0]["seed"] == 3


class _FixedScores:
    """A scorer whose difficulties are given."""

    def __init__(self, scores):
        self.given = scores

    def fit(self, X, y):
        self.scores_ = self.given
        return self


def test_a_custom_scorer_and_method(data, fake_net):
    """A new method is a Method plus, for a new scorer, a factory."""
    X_train, X_test, y_train, y_test = data
    scores = np.arange(N_TRAIN, dtype=float)  # the last samples are the "hardest"
    method = Method("hard/given", "given", "hard", {"class_balance": "proportional"})
    rows = run_benchmark(
        X_train, y_train, X_test, y_test, ["random", method], [0.5], [0], epochs=1,
        make_net=fake_net, scorers={"given": lambda **kw: _FixedScores(scores)},
    )  # fmt: skip
    assert rows[-1]["method"] == "hard/given" and rows[-1]["n_kept"] == 60
    # hard with proportional quotas keeps the 20 hardest (last) samples of each class.
    assert np.array_equal(np.bincount(fake_net.log[-1]["y"]), [20, 20, 20])


def test_label_noise_flips_the_training_labels_per_seed(data, fake_net):
    X_train, X_test, y_train, y_test = data
    run_benchmark(
        X_train, y_train, X_test, y_test, ["random"], [0.5], [0, 1], epochs=1,
        label_noise=0.25, make_net=fake_net,
    )  # fmt: skip
    full_fits = [fit["y"] for fit in fake_net.log[1:] if fit["n"] == N_TRAIN]
    assert len(full_fits) == 2
    for y_fit in full_fits:
        assert np.count_nonzero(y_fit != y_train) == 30
    assert not np.array_equal(full_fits[0], full_fits[1])


def test_string_labels_are_encoded(data, fake_net):
    X_train, X_test, y_train, y_test = data
    names = np.array(["ant", "bee", "cat"])
    rows = run_benchmark(
        X_train, names[y_train], X_test, names[y_test], ["random"], [0.5], [0], epochs=1,
        make_net=fake_net,
    )  # fmt: skip
    # The fake net predicts code 0, i.e. "ant": a third of the test set.
    assert rows[0]["accuracy"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match=r"absent from y_train: \['dog'\]"):
        run_benchmark(
            X_train, names[y_train], X_test, np.full(N_TEST, "dog"), ["random"], [0.5], [0],
            make_net=fake_net,
        )  # fmt: skip


def test_runs_are_reproducible(data):
    X_train, X_test, y_train, y_test = data
    args = (X_train, y_train, X_test, y_test, ["random", "ccs/el2n"], [0.5], [0])
    first = run_benchmark(*args, epochs=1)
    second = run_benchmark(*args, epochs=1)
    assert [row["accuracy"] for row in first] == [row["accuracy"] for row in second]


def test_multi_step_reuses_the_scoring_fit(data):
    """Reusing the scoring phase's fit for step 1 selects what a fresh selector selects."""
    X_train, _, y_train, _ = data
    method = METHODS["hard/unseen-3step"]
    fitted = SCORERS["unseen"](epochs=1, random_state=0, device="cpu").fit(X_train, y_train)
    reused = _select(method, fitted, X_train, y_train, 0.5, 0)
    fresh = CoresetSelector(
        SCORERS["unseen"](epochs=1, random_state=0, device="cpu"),
        pruning_ratio=0.5,
        strategy="hard",
        n_steps=3,
        min_per_class=4,
        random_state=0,
    ).fit(X_train, y_train)
    assert np.array_equal(reused, fresh.sample_indices_)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"ratios": [1.0]}, r"must be in \[0, 1\), got 1.0"),
        ({"ratios": []}, "ratios is empty"),
        ({"seeds": []}, "non-empty sequence of integers"),
        ({"epochs": 0}, "positive integer"),
        ({"label_noise": 1.0}, r"label_noise must be in \[0, 1\)"),
        ({"methods": ["nope"]}, "unknown method 'nope'; choose from"),
        ({"methods": [Method("hard/z", "z", "hard")]}, "needs scorer 'z'"),
        ({"methods": ["random", Method("random", None)]}, "must be unique"),
        ({"methods": ["hard/unseen-3step"], "ratios": [0.3, 0.8]}, "cannot run at .* 0.8"),
    ],
)
def test_bad_runs_are_rejected_before_training(data, fake_net, kwargs, message):
    X_train, X_test, y_train, y_test = data
    settings = {"methods": ["random"], "ratios": [0.5], "seeds": [0], **kwargs}
    with pytest.raises(ValueError, match=message):
        run_benchmark(X_train, y_train, X_test, y_test, make_net=fake_net, **settings)
    assert fake_net.log == []


@pytest.mark.parametrize(
    "args, message",
    [
        (("full",), "other than 'full'"),
        (("x", "el2n", "best"), "unknown strategy 'best'"),
        (("x", None, "hard"), "needs a scorer"),
        (("x", "el2n", "hard", {}, 0), "n_steps must be >= 1"),
    ],
)
def test_method_validation(args, message):
    with pytest.raises(ValueError, match=message):
        Method(*args)


def test_registry_suites_and_descriptions():
    for suite in SUITES.values():
        assert set(suite) <= set(METHODS) and suite[0] == "random"
    assert "diffin" in SCORERS and "easy/diffin" in SUITES["bench"]
    for name, method in METHODS.items():
        assert method.name == name
        assert f"rule `{method.strategy}`" in describe_method(name)
    assert "3-step" in describe_method("hard/unseen-3step")


# --- summaries (pure) -------------------------------------------------------------------

HAND_ROWS = [
    {"method": "full", "ratio": 0.0, "n_kept": 100, "accuracy": 0.90, "train_seconds": 2.0},
    {"method": "full", "ratio": 0.0, "n_kept": 100, "accuracy": 0.94, "train_seconds": 4.0},
    {"method": "random", "ratio": 0.5, "n_kept": 50, "accuracy": 0.80, "train_seconds": 1.0},
    {"method": "random", "ratio": 0.5, "n_kept": 50, "accuracy": 0.84, "train_seconds": 1.0},
    {"method": "hard", "ratio": 0.5, "n_kept": 50, "accuracy": 0.70, "train_seconds": 1.0},
    {"method": "hard", "ratio": 0.5, "n_kept": 50, "accuracy": 0.90, "train_seconds": 3.0},
    {"method": "hard", "ratio": 0.5, "n_kept": 50, "accuracy": 0.92, "train_seconds": 2.0},
    {"method": "hard", "ratio": 0.9, "n_kept": 10, "accuracy": 0.50, "train_seconds": 1.0},
]


def test_summary_statistics_by_hand():
    summary = summarize(HAND_ROWS)
    assert [(s["method"], s["ratio"], s["n_seeds"]) for s in summary] == [
        ("full", 0.0, 2),
        ("random", 0.5, 2),
        ("hard", 0.5, 3),
        ("hard", 0.9, 1),
    ]
    full, random, hard, lone = summary
    assert full["accuracy_mean"] == pytest.approx(0.92)
    assert full["accuracy_std"] == pytest.approx(0.02)  # population std: |0.90 - 0.92|
    assert full["train_seconds"] == pytest.approx(3.0)
    assert full["diff_vs_random"] is None  # no random row at ratio 0
    assert random["diff_vs_random"] is None
    assert hard["accuracy_mean"] == pytest.approx(0.84)
    assert hard["accuracy_median"] == pytest.approx(0.90)
    assert hard["accuracy_std"] == pytest.approx(np.sqrt((0.14**2 + 0.06**2 + 0.08**2) / 3))
    assert hard["diff_vs_random"] == pytest.approx(0.84 - 0.82)
    assert lone["accuracy_std"] == 0.0 and lone["diff_vs_random"] is None
    assert "score_seconds" not in hard  # only columns every row has are averaged


def test_markdown_table_matches_the_summary():
    summary = summarize(HAND_ROWS)
    lines = format_markdown(summary).splitlines()
    assert len(lines) == 2 + len(summary)
    assert len({line.count("|") for line in lines}) == 1
    assert len({len(line) for line in lines}) == 1  # aligned columns
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    assert cells[0][:4] == ["method", "ratio", "kept", "accuracy"]
    assert cells[4] == ["hard", "0.50", "50", "0.8400 ± 0.0993", "0.9000", "+2.00", "–", "2.00"]
    assert cells[3][5] == "–"  # random is not compared with itself


# --- writers and plots ----------------------------------------------------------------------


def test_csv_round_trip(tmp_path):
    path = write_csv(HAND_ROWS, tmp_path / "sub" / "rows.csv")
    with open(path, newline="") as handle:
        back = list(csv.DictReader(handle))
    assert len(back) == len(HAND_ROWS)
    assert [float(row["accuracy"]) for row in back] == [row["accuracy"] for row in HAND_ROWS]
    summary_path = write_csv(summarize(HAND_ROWS), tmp_path / "summary.csv")
    pandas = pytest.importorskip("pandas")
    frame = pandas.read_csv(summary_path)
    assert list(frame["method"]) == ["full", "random", "hard", "hard"]
    assert frame["diff_vs_random"].isna().tolist() == [True, True, False, True]


def test_plots_are_written(tmp_path):
    pytest.importorskip("matplotlib")
    summary = summarize([{**row, "score_seconds": 0.5} for row in HAND_ROWS])
    accuracy = plot_accuracy(summary, tmp_path / "a" / "accuracy.png", title="t")
    times = plot_times(summary, tmp_path / "times.svg")
    for name in ("a/accuracy.png", "times.svg"):
        assert (tmp_path / name).stat().st_size > 1000
    assert (tmp_path / "a" / "accuracy.png").read_bytes()[:4] == b"\x89PNG"
    labels = [text.get_text() for text in accuracy.axes[0].get_legend().get_texts()]
    assert labels == ["full data", "random", "hard"]
    assert [label.get_text() for label in times.axes[0].get_yticklabels()] == [
        "full",
        "random",
        "hard",
    ]


def test_plot_without_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'skprune\[plot\]'"):
        plot_accuracy(summarize(HAND_ROWS))
