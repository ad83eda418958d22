"""The ``skprune`` command line: the demo's table, progress output and argument errors."""

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skprune import __version__
from skprune.cli import DEMO_METHODS, main, run_demo
from skprune.sampling import coreset_size

N_TRAIN = 1347  # digits training set with the default 25% test split
DEFAULT_RATIOS = (0.5, 0.7, 0.9)
ROW = re.compile(
    r"^(?P<method>\S+)\s+(?P<ratio>\d\.\d\d)\s+(?P<kept>\d+)\s+"
    r"(?P<mean>\d\.\d{3}) ± (?P<std>\d\.\d{3})\s+(?P<seconds>\d+\.\d\d)$"
)


def _table_rows(stdout):
    """Parse the table printed by ``skprune demo`` into dicts, one per row."""
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("method"))
    rows = []
    for line in lines[header + 1 :]:
        if not line.strip():
            break
        match = ROW.match(line)
        assert match, f"unexpected table line: {line!r}"
        rows.append(match.groupdict())
    return rows


@pytest.fixture(scope="module")
def quick_demo():
    """stdout and parsed rows of ``skprune demo --quick``, run once for the module."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        status = main(["demo", "--quick"])
    return status, stdout.getvalue(), _table_rows(stdout.getvalue())


def test_demo_succeeds(quick_demo):
    status, stdout, _ = quick_demo
    assert status == 0
    assert "digits" in stdout and "el2n" in stdout and "forgetting" in stdout


def test_demo_has_a_row_per_method_and_ratio(quick_demo):
    _, _, rows = quick_demo
    found = [(row["method"], float(row["ratio"])) for row in rows]
    expected = [("full", 0.0)] + [
        (label, r) for r in DEFAULT_RATIOS for label, _, _ in DEMO_METHODS
    ]
    assert found == expected


def test_demo_reports_coreset_sizes_and_accuracies(quick_demo):
    _, _, rows = quick_demo
    for row in rows:
        assert int(row["kept"]) == coreset_size(N_TRAIN, float(row["ratio"]))
        assert 0.0 <= float(row["mean"]) <= 1.0
        # One seed in quick mode: no spread to report.
        assert float(row["std"]) == 0.0
    full = next(row for row in rows if row["method"] == "full")
    # Even 3 epochs of the MLP learn digits far above chance (0.1).
    assert float(full["mean"]) > 0.5


def test_demo_progress_goes_to_stderr(capsys):
    assert main(["demo", "--quick", "--ratios", "0.9", "--epochs", "1"]) == 0
    captured = capsys.readouterr()
    assert "fit" in captured.err  # the tqdm bar
    assert "%|" not in captured.out
    assert len(_table_rows(captured.out)) == 1 + len(DEMO_METHODS)


def test_demo_no_progress_is_silent_on_stderr(capsys):
    main(["demo", "--quick", "--ratios", "0.9", "--epochs", "1", "--no-progress"])
    assert capsys.readouterr().err == ""


def test_demo_seeds_give_a_spread(capsys):
    main(["demo", "--ratios", "0.9", "--seeds", "2", "--epochs", "1", "--no-progress"])
    out = capsys.readouterr().out
    assert "2 seed(s)" in out
    # Seeds change the nets' initialization and the random draws, so accuracies differ.
    assert any(float(row["std"]) > 0 for row in _table_rows(out))


@pytest.mark.parametrize(
    "flags, budget",
    [([], "as many SGD steps as on all data"), (["--fixed-epochs"], "1 epoch(s)")],
)
def test_demo_training_budget(flags, budget, capsys):
    main(["demo", "--quick", "--ratios", "0.9", "--epochs", "1", "--no-progress", *flags])
    assert f"coresets train for {budget}" in capsys.readouterr().out


def test_run_demo_rejects_unknown_metric():
    with pytest.raises(ValueError, match="unknown demo metrics"):
        run_demo([0.5], methods=[("ccs/nope", "ccs", "nope")], progress=False)


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
    with pytest.raises(SystemExit) as exit_info:
        main(_select_args(tmp / "d.npz", tmp / "core.npz", "--pruning-ratio", "1.5"))
    assert exit_info.value.code == 2
