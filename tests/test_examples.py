"""Every script in examples/ runs to completion and prints its results."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
# Examples that need an optional dependency, and which one.
REQUIRES = {"pipeline_gridsearch.py": "imblearn"}


@pytest.mark.parametrize("script", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs(script, tmp_path):
    if script.name in REQUIRES:
        pytest.importorskip(REQUIRES[script.name])
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        # The examples' tiny nets gain nothing from intra-op threads, and spin-waiting
        # OpenMP threads slow down many-fold when the test run shares the cores.
        OMP_NUM_THREADS="1",
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,  # examples must not depend on, or litter, the working directory
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "an example should print what it shows"
    assert not list(tmp_path.iterdir()), "the example left files behind"


def test_examples_are_found():
    assert {path.name for path in EXAMPLES} >= {
        "fit_resample.py",
        "pipeline_gridsearch.py",
        "meta_estimator_pipeline.py",
    }
