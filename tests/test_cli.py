"""The ``skprune`` command line: the demo's table, progress output and argument errors."""

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

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
