"""The ``skprune`` command line: the demo's table, progress output and argument errors."""

import contextlib
import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from skprune import __version__
from skprune.benchmark import METHODS, SUITES
from skprune.cli import DEMO_METHODS, main, run_demo
from skprune.sampling import coreset_size

N_TRAIN = 1347  # digits training set with the default 25% test split
DEFAULT_RATIOS = (0.5, 0.7, 0.9)
ROW = re.compile(
    r"^\| (?P<method>\S+)\s+\|\s+(?P<ratio>\d\.\d\d) \|\s+(?P<kept>\d+) \| "
    r"(?P<mean>\d\.\d{4}) ± (?P<std>\d\.\d{4}) \|\s+(?P<median>\d\.\d{4}) \|"
    r"\s+(?P<diff>–|[+-]\d+\.\d\d) \|\s+(?P<scoring>–|\d+\.\d\d) \|\s+(?P<seconds>\d+\.\d\d) \|$"
)
FAST = ["--epochs", "1", "--methods", "random", "--no-progress"]


def _table(stdout):
    """The lines of the Markdown table printed by ``skprune demo`` / ``bench``."""
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if re.match(r"\| method\s+\| ratio", line))
    end = next((i for i in range(header, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[header:end]


def _table_rows(stdout):
    """Parse the printed table into dicts, one per row."""
    rows = []
    for line in _table(stdout)[2:]:
        match = ROW.match(line)
        assert match, f"unexpected table line: {line!r}"
        rows.append(match.groupdict())
    return rows


@pytest.fixture(scope="module")
def quick_demo():
    """stdout and parsed rows of ``skprune demo --quick``, run once for the module."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        status = main(["demo", "--quick", "--no-plot"])
    return status, stdout.getvalue(), _table_rows(stdout.getvalue())


def test_demo_succeeds(quick_demo):
    status, stdout, _ = quick_demo
    assert status == 0
    assert "digits" in stdout and "1 seed(s)" in stdout and "3 epoch(s)" in stdout


def test_demo_methods_are_sim_unseen_diffin_against_random():
    assert set(DEMO_METHODS) >= {"random", "sims/sim", "hard/unseen-3step", "ccs/diffin"}
    assert all(name in METHODS for name in DEMO_METHODS)


def test_demo_has_a_row_per_method_and_ratio(quick_demo):
    _, _, rows = quick_demo
    found = [(row["method"], float(row["ratio"])) for row in rows]
    expected = [("full", 0.0)] + [(name, r) for r in DEFAULT_RATIOS for name in DEMO_METHODS]
    assert found == expected


def test_demo_reports_coreset_sizes_accuracies_and_times(quick_demo):
    _, _, rows = quick_demo
    for row in rows:
        assert int(row["kept"]) == coreset_size(N_TRAIN, float(row["ratio"]))
        assert 0.0 <= float(row["mean"]) <= 1.0
        # One seed in quick mode: no spread to report.
        assert float(row["std"]) == 0.0 and row["median"] == row["mean"]
        assert float(row["seconds"]) > 0.0
        scored = row["method"] not in ("full", "random")
        assert (row["scoring"] != "–") == scored
        assert (row["diff"] == "–") == (row["method"] in ("full", "random"))
    full = next(row for row in rows if row["method"] == "full")
    # Even 3 epochs of the MLP learn digits far above chance (0.1).
    assert float(full["mean"]) > 0.5


def test_demo_difference_to_random_is_consistent(quick_demo):
    _, _, rows = quick_demo
    random = {row["ratio"]: float(row["mean"]) for row in rows if row["method"] == "random"}
    for row in rows:
        if row["diff"] != "–":
            expected = 100 * (float(row["mean"]) - random[row["ratio"]])
            assert float(row["diff"]) == pytest.approx(expected, abs=0.011)


def test_demo_progress_goes_to_stderr(capsys):
    assert main(["demo", "--quick", "--ratios", "0.9", "--epochs", "1", "--no-plot"]) == 0
    captured = capsys.readouterr()
    assert "fit" in captured.err  # the tqdm bar
    assert "%|" not in captured.out
    assert len(_table_rows(captured.out)) == 1 + len(DEMO_METHODS)


def test_demo_no_progress_is_silent_on_stderr(capsys):
    main(["demo", "--quick", "--ratios", "0.9", *FAST, "--no-plot"])
    assert capsys.readouterr().err == ""


def test_demo_seeds_give_a_spread(capsys):
    main(["demo", "--ratios", "0.9", "--seeds", "2", *FAST, "--no-plot"])
    out = capsys.readouterr().out
    assert "2 seed(s)" in out
    # Seeds change the nets' initialization and the random draws, so accuracies differ.
    assert any(float(row["std"]) > 0 for row in _table_rows(out))


@pytest.mark.parametrize(
    "flags, budget",
    [([], "as many SGD steps as on all data"), (["--fixed-epochs"], "1 epoch(s)")],
)
def test_demo_training_budget(flags, budget, capsys):
    main(["demo", "--quick", "--ratios", "0.9", *FAST, "--no-plot", *flags])
    assert f"coresets train for {budget}" in capsys.readouterr().out


def test_demo_saves_a_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "demo.png"
    assert main(["demo", "--quick", "--ratios", "0.9", *FAST, "--plot", str(path)]) == 0
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert f"saved the plot to {path}" in capsys.readouterr().out


def test_demo_without_matplotlib_skips_the_plot(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    path = tmp_path / "demo.png"
    assert main(["demo", "--quick", "--ratios", "0.9", *FAST, "--plot", str(path)]) == 0
    captured = capsys.readouterr()
    assert not path.exists()
    assert "no plot" in captured.err and "pip install" in captured.err
    assert len(_table_rows(captured.out)) == 2


def test_run_demo_rejects_unknown_method():
    with pytest.raises(ValueError, match="unknown method 'ccs/nope'"):
        run_demo([0.5], methods=["ccs/nope"], progress=False)


# --- skprune bench --------------------------------------------------------------------


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    """A tiny ``skprune bench --docs DIR`` run: stdout and the folders it wrote."""
    tmp = tmp_path_factory.mktemp("bench")
    argv = ["bench", "--ratios", "0.5", "0.9", "--seeds", "2", "--epochs", "1"]
    argv += ["--methods", "ccs/el2n", "--no-progress"]
    argv += ["--out", str(tmp / "out"), "--docs", str(tmp / "docs")]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        status = main(argv)
    return status, stdout.getvalue(), tmp, argv


def test_bench_prints_the_table(bench_run):
    status, stdout, _, _ = bench_run
    assert status == 0
    rows = _table_rows(stdout)
    assert [(row["method"], row["ratio"]) for row in rows] == [
        ("full", "0.00"),
        ("random", "0.50"),
        ("ccs/el2n", "0.50"),
        ("random", "0.90"),
        ("ccs/el2n", "0.90"),
    ]
    assert [int(row["kept"]) for row in rows] == [1347, 674, 674, 135, 135]
    assert "`ccs/el2n`: EL2N" in stdout  # the setup names each method


def test_bench_table_by_ratio_agrees_with_the_detailed_table(bench_run):
    _, stdout, _, _ = bench_run
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"\| method\s+\| α = 0.5", line))
    detailed = {
        (row["method"], row["ratio"]): (f"{row['mean']} ± {row['std']}", row["diff"])
        for row in _table_rows(stdout)
    }
    methods = []
    for line in lines[start + 2 : start + 4]:
        method, *cells = [cell.strip() for cell in line.strip("|").split("|")]
        methods.append(method)
        for ratio, cell in zip(("0.50", "0.90"), cells, strict=True):
            accuracy, diff = detailed[(method, ratio)]
            assert cell == (accuracy if diff == "–" else f"{accuracy} ({diff})")
    assert methods == ["random", "ccs/el2n"]


def test_bench_writes_csv_files(bench_run):
    _, stdout, tmp, _ = bench_run
    with open(tmp / "out" / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * (1 + 2 * 2)  # seeds × (full + ratios × methods)
    assert {row["seed"] for row in rows} == {"0", "1"}
    with open(tmp / "out" / "summary.csv", newline="") as handle:
        summary = list(csv.DictReader(handle))
    printed = _table_rows(stdout)
    assert [f"{float(row['accuracy_mean']):.4f}" for row in summary] == [
        row["mean"] for row in printed
    ]


def test_bench_docs_page_holds_the_command_setup_and_printed_table(bench_run):
    _, stdout, tmp, argv = bench_run
    page = (tmp / "docs" / "bench_results.md").read_text(encoding="utf-8")
    assert page.startswith("# Benchmark results\n")
    assert "skprune " + " ".join(argv) in page
    assert "## Setup" in page and "1347 training / 450 test samples" in page
    # The very tables printed on stdout, numbers included.
    printed = stdout[stdout.index("Test accuracy by pruning ratio") : stdout.index("\ntotal ")]
    assert printed.strip() in page
    assert "\n".join(_table(stdout)) in page
    # The output folder's copy differs only in where its images are.
    out_page = (tmp / "out" / "results.md").read_text(encoding="utf-8")
    assert out_page == page.replace("](images/", "](")


def test_bench_plots(bench_run):
    pytest.importorskip("matplotlib")
    _, _, tmp, _ = bench_run
    page = (tmp / "docs" / "bench_results.md").read_text(encoding="utf-8")
    for kind in ("accuracy", "time"):
        assert (tmp / "docs" / "images" / f"bench_{kind}.png").read_bytes()[:4] == b"\x89PNG"
        assert (tmp / "out" / f"bench_{kind}.png").is_file()
        assert f"](images/bench_{kind}.png)" in page


def test_bench_no_plot_and_label_noise(tmp_path, capsys):
    argv = ["bench", "--ratios", "0.5", "--seeds", "1", *FAST, "--noise", "0.2"]
    assert main([*argv, "--out", str(tmp_path), "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert "0.2 of the training labels flipped per seed" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "results.csv",
        "results.md",
        "summary.csv",
    ]


def test_bench_default_suite_is_the_registered_one():
    assert SUITES["bench"][0] == "random" and "sims/sim" in SUITES["bench"]
    assert "hard/unseen-3step" in SUITES["bench"] and "easy/diffin" in SUITES["bench"]


def test_bench_rejects_an_impossible_multi_step_ratio_before_training(capsys):
    argv = ["bench", "--methods", "hard/unseen-3step", "--ratios", "0.5", "0.97"]
    assert main([*argv, "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "| method" not in captured.out  # nothing was trained
    message = captured.err.strip()
    assert len(message.splitlines()) == 1
    assert "'hard/unseen-3step' cannot run at pruning ratio 0.97" in message


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            [
                "bench",
                "--dataset",
                "fashion",
                "--n-train",
                "30",
                "--n-test",
                "10",
                "--ratios",
                "0.9",
            ],
            "'random' cannot run at pruning ratio 0.9: pruning_ratio=0.9 keeps 3 of 30 samples",
        ),
        (["demo", "--dataset", "mnist1d", "--n-test", "7"], "multiples of 10"),
    ],
)
def test_runs_that_cannot_select_fail_in_one_line_before_training(argv, message, capsys):
    if "fashion" in argv and not os.path.isdir("/usr/share/datasets/fashion-mnist"):
        pytest.skip("needs the Debian package dataset-fashion-mnist")
    assert main([*argv, "--methods", "random", "--no-progress", "--no-plot"]) == 2
    captured = capsys.readouterr()
    assert "| method" not in captured.out  # nothing was trained
    assert len(captured.err.strip().splitlines()) == 1 and message in captured.err


def test_bench_output_folder_is_checked_before_training(tmp_path, capsys):
    taken = tmp_path / "a_file"
    taken.write_text("")
    argv = ["bench", "--methods", "random", "--no-progress", "--out", str(taken)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "skprune bench" not in captured.out  # nothing ran
    assert f"--out {taken}: exists and is not a folder" in captured.err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
def test_cuda_without_cuda_is_a_one_line_error(capsys):
    assert main(["demo", "--quick", "--device", "cuda", "--methods", "random"]) == 2
    assert "torch sees no CUDA device" in capsys.readouterr().err


def test_bench_data_set_errors_are_one_line(capsys):
    assert main(["bench", "--n-train", "100", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err
        == "skprune bench: error: --n-train/--n-test apply to fashion and mnist1d; digits is fixed"
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "required"),
        (["nope"], "invalid choice"),
        (["demo", "--ratios", "1.5"], "ratio must be in [0, 1)"),
        (["demo", "--ratios", "-0.1"], "ratio must be in [0, 1)"),
        (["demo", "--ratios", "half"], "not a number"),
        (["demo", "--ratios"], "expected at least one argument"),
        (["demo", "--seeds", "0"], "must be at least 1"),
        (["demo", "--epochs", "2.5"], "not an integer"),
        (["demo", "--device", "tpu"], "invalid choice"),
        (["demo", "--bogus"], "unrecognized arguments"),
        (["demo", "--methods", "sims/nope"], "invalid choice"),
        (["bench", "--noise", "1.5"], "noise rate must be in [0, 1)"),
        (["bench", "--noise", "lots"], "not a number"),
        (["bench", "--dataset", "cifar"], "invalid choice"),
        (["bench", "--seeds", "0"], "must be at least 1"),
        (["bench", "--ratios", "1"], "ratio must be in [0, 1)"),
    ],
)
def test_bad_arguments_exit_with_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    error_lines = [line for line in err.splitlines() if "error:" in line]
    assert len(error_lines) == 1 and message in error_lines[0]


def _run_module(*args):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    return subprocess.run(
        [sys.executable, "-m", "skprune", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_python_m_skprune_runs_the_cli():
    result = _run_module("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"skprune {__version__}"


def test_python_m_skprune_bad_argument_exits_with_code_2():
    result = _run_module("demo", "--ratios", "2")
    assert result.returncode == 2
    assert "ratio must be in [0, 1)" in result.stderr


# --- skprune select -------------------------------------------------------------------


@pytest.fixture
def select_data(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 5)).astype(np.float32)
    y = np.repeat(["ant", "bee", "cat"], 30)
    X[y == "bee"] += 2.0
    return tmp_path, X, y


def _select_args(data, out, *extra):
    return ["select", str(data), "--scorer", "el2n", "--epochs", "2", "-o", str(out), *extra]


def test_select_npz_to_npz(select_data):
    tmp, X, y = select_data
    np.savez(tmp / "d.npz", X=X, y=y)
    assert main(_select_args(tmp / "d.npz", tmp / "core.npz", "--pruning-ratio", "0.7")) == 0
    with np.load(tmp / "core.npz") as core:
        assert core["indices"].shape == (27,) and core["weights"].shape == (27,)
        np.testing.assert_allclose(core["scores"], core["all_scores"][core["indices"]])
        assert core["all_scores"].shape == (90,)


@pytest.mark.parametrize("scorer", ["diffin", "unseen", "sim"])
def test_select_with_each_paper_scorer(scorer, select_data):
    tmp, X, y = select_data
    np.savez(tmp / "d.npz", X=X, y=y)
    args = ["select", str(tmp / "d.npz"), "--scorer", scorer, "--epochs", "2"]
    assert (
        main([*args, "--strategy", "ccs", "--pruning-ratio", "0.5", "-o", str(tmp / "c.npz")]) == 0
    )
    with np.load(tmp / "c.npz") as core:
        assert core["indices"].shape == (45,)
        assert np.isfinite(core["all_scores"]).all() and np.unique(core["all_scores"]).size > 45


def test_select_npy_pair_and_csv_give_the_same_coreset(select_data):
    tmp, X, y = select_data
    np.save(tmp / "X.npy", X)
    np.save(tmp / "y.npy", y)
    with open(tmp / "d.csv", "w") as handle:
        handle.write("a,b,label,c,d,e\n")
        for row, label in zip(X, y, strict=True):
            handle.write(",".join([repr(float(v)) for v in row[:2]] + [label]))
            handle.write("," + ",".join(repr(float(v)) for v in row[2:]) + "\n")
    assert main(_select_args(tmp / "X.npy", tmp / "a.csv", "--y", str(tmp / "y.npy"))) == 0
    csv_args = _select_args(tmp / "d.csv", tmp / "b.csv", "--label-column", "label")
    assert main(csv_args) == 0
    a = np.loadtxt(tmp / "a.csv", delimiter=",", skiprows=1)
    b = np.loadtxt(tmp / "b.csv", delimiter=",", skiprows=1)
    assert a.shape == (45, 3)
    np.testing.assert_array_equal(a[:, 0], b[:, 0])


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda t, X, y: None, (), "no such file"),
        (lambda t, X, y: np.savez(t / "d.npz", X=X), (), r"missing array\(s\) \['y'\]"),
        (lambda t, X, y: np.save(t / "d.npy", X), (), "needs its labels"),
        (lambda t, X, y: (t / "d.txt").write_text("1,2\n"), (), "unsupported file type"),
        (lambda t, X, y: np.savez(t / "d.npz", X=X, y=y[:-1]), (), "90 samples but y has 89"),
        (lambda t, X, y: np.savez(t / "d.npz", X=X[:, 0], y=y), (), "2-D or more"),
        (lambda t, X, y: (t / "d.csv").write_text("a,label\n1,x\n2,y\n"), (), "--label-column"),
        (
            lambda t, X, y: (t / "d.csv").write_text("a,label\n1,x\n2,y\n"),
            ("--label-column", "target"),
            "no column 'target'",
        ),
        (
            lambda t, X, y: (t / "d.csv").write_text("a,label\nfoo,x\n2,y\n"),
            ("--label-column", "label"),
            "must be numeric",
        ),
        (
            lambda t, X, y: (t / "d.csv").write_text("a,label\n1,x,3\n2,y\n"),
            ("--label-column", "label"),
            "different numbers of fields",
        ),
        (
            lambda t, X, y: np.savez(t / "d.npz", X=np.where(X > 2, np.nan, X), y=y),
            (),
            "NaN",
        ),
        (lambda t, X, y: (t / "d.npz").write_bytes(b"not a zip"), (), "cannot read it"),
    ],
)
def test_select_bad_files_give_one_line_and_exit_2(select_data, capsys, make, extra, message):
    tmp, X, y = select_data
    make(tmp, X, y)
    data = next((p for p in tmp.iterdir() if p.stem == "d"), tmp / "missing.npz")
    assert main(_select_args(data, tmp / "core.npz", *extra)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("skprune select: error:")
    assert re.search(message, err), err


def test_select_bad_output_type_and_ratio(select_data, capsys):
    tmp, X, y = select_data
    np.savez(tmp / "d.npz", X=X, y=y)
    assert main(_select_args(tmp / "d.npz", tmp / "core.json")) == 2
    assert "use .npz or .csv" in capsys.readouterr().err
    assert main(_select_args(tmp / "d.npz", tmp / "missing" / "core.npz")) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(_select_args(tmp / "d.npz", tmp / "core.npz", "--pruning-ratio", "1.5"))
    assert exit_info.value.code == 2


# --- review fixes: --plot, help texts, missing values ---------------------------------


def _help(*command):
    """The ``--help`` text of ``skprune COMMAND``."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    return stdout.getvalue()


def _option_help(help_text, option):
    """The help of one option, whitespace collapsed (options start lines with two spaces)."""
    match = re.search(rf"\n  {re.escape(option)}\b(.*?)(?=\n  -|\Z)", help_text, re.S)
    assert match, f"no {option} in the help"
    return " ".join(match.group(1).split())


def test_demo_plot_without_suffix_reports_the_file_written(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "demo"
    assert main(["demo", "--quick", "--ratios", "0.9", *FAST, "--plot", str(path)]) == 0
    written = tmp_path / "demo.png"
    assert written.read_bytes()[:4] == b"\x89PNG" and not path.exists()
    assert f"saved the plot to {written} (" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("make", "plot", "message"),
    [
        (lambda t: None, "out.xyz", "unsupported image type '.xyz'; use one of .*png"),
        (lambda t: None, "missing/demo.png", "the folder .*missing does not exist"),
        (lambda t: (t / "taken.png").mkdir(), "taken.png", "is a folder; give a file name"),
        (lambda t: (t / "taken").mkdir(), "taken/", "is a folder; give a file name"),
    ],
)
def test_demo_plot_path_is_checked_before_training(tmp_path, capsys, make, plot, message):
    pytest.importorskip("matplotlib")
    make(tmp_path)
    path = os.path.join(tmp_path, plot)
    assert main(["demo", "--quick", *FAST, "--plot", path]) == 2
    captured = capsys.readouterr()
    assert "skprune demo" not in captured.out  # nothing ran
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"skprune demo: error: --plot {path}")
    assert re.search(message, err), err


def test_demo_plot_path_is_not_checked_with_no_plot(tmp_path, capsys):
    argv = ["demo", "--quick", "--ratios", "0.9", *FAST, "--no-plot"]
    assert main([*argv, "--plot", str(tmp_path / "out.xyz")]) == 0


def test_demo_without_matplotlib_does_not_check_the_plot(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    argv = ["demo", "--quick", "--ratios", "0.9", *FAST, "--plot", str(tmp_path / "out.xyz")]
    assert main(argv) == 0
    assert "no plot" in capsys.readouterr().err


def test_demo_and_bench_epochs_help_names_the_scorers_it_trains():
    for command in ("demo", "bench"):
        text = _option_help(_help(command), "--epochs")
        assert "UNSEEN, Diff-In, EL2N and forgetting scorers" in text, text
        assert "SIM keeps its 2" in text
    assert "(default: 10; 3 with --quick)" in _option_help(_help("demo"), "--epochs")
    assert "(default: 10)" in _option_help(_help("bench"), "--epochs")


@pytest.mark.parametrize(
    ("option", "default"),
    [
        ("--epochs", "default: the scorer's own, 2 for sim and 10 for the others"),
        ("--strategy", "default: sims"),
        ("--class-balance", "default: hybrid"),
        ("--n-jobs", "default: 1"),
        ("--random-state", "default: 0"),
    ],
)
def test_select_help_shows_the_defaults(option, default):
    assert default in _option_help(_help("select"), option)


def test_select_epochs_help_states_the_scorers_own_defaults():
    from skprune.cli import _make_scorer
    from skprune.scorers import DYNAMICS_METRICS

    for name in ["sim", "unseen", "diffin", *DYNAMICS_METRICS]:
        assert _make_scorer(name, None).default_max_epochs == (2 if name == "sim" else 10)


def test_select_csv_reads_float32s_largest_value(tmp_path):
    from skprune.cli import _read_csv

    # numpy and pandas write float32's max so; as float64 it is just above it.
    (tmp_path / "d.csv").write_text("a,b,label\n3.4028235e+38,-3.4028235e+38,x\n1,2,y\n")
    X, _ = _read_csv(tmp_path / "d.csv", "label")
    assert np.isfinite(X.astype(np.float32)).all()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "1,2,x\n3,,y\n",
            "line 3 (data row 2), column 'b': missing value; missing values are not "
            "supported (impute them or drop the row)",
        ),
        ("1,2,x\n3, ,y\n", "line 3 (data row 2), column 'b': missing value"),
        (
            "nan,2,x\n3,4,y\n",
            "line 2 (data row 1), column 'a': 'nan' is not a finite number; NaN and "
            "infinity are not supported (impute them or drop the row)",
        ),
        ("1,2,x\n3,-inf,y\n", "line 3 (data row 2), column 'b': '-inf' is not a finite number"),
        ("1,2,x\n3,foo,y\n", "line 3 (data row 2), column 'b': 'foo' is not a number; "),
        # Finite in float64, infinite in the nets' float32.
        ("1,-1e39,x\n3,4,y\n", "line 2 (data row 1), column 'b': '-1e39' is too large for float32"),
        # A quoted label spanning two lines: file lines and data rows part ways.
        ('1,2,"x\ny"\n3,,z\n', "line 4 (data row 2), column 'b': missing value"),
    ],
)
def test_select_csv_bad_cells_are_named_by_line_and_column(tmp_path, capsys, body, message):
    (tmp_path / "d.csv").write_text("a,b,label\n" + body)
    argv = _select_args(tmp_path / "d.csv", tmp_path / "core.npz", "--label-column", "label")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"skprune select: error: {tmp_path / 'd.csv'}: ")
    assert message in err, err
