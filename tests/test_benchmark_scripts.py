"""Smoke tests of the scripts in benchmarks/: each part runs end to end on a tiny problem.

The scripts are not part of the package, so nothing else notices when a
refactor of the library breaks one of them. They read the real Fashion-MNIST
files (Debian package ``dataset-fashion-mnist``) and are skipped without them.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

pytestmark = pytest.mark.skipif(
    not (FASHION_MNIST / "train-images-idx3-ubyte.gz").exists(),
    reason="needs the Fashion-MNIST files (Debian package dataset-fashion-mnist)",
)


def _run(script, *args):
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def test_diffin_dev_cleaning_detection_and_cost_parts_run(tmp_path):
    out = _run(
        "diffin_dev.py",
        *("--parts", "cleaning", "detection", "cost"),
        *("--seeds", "2", "--n-train", "400", "--n-test", "100", "--epochs", "2"),
        *("--n-clean-val", "100", "--memory-n", "200", "--checkpoints", "2"),
        *("--scoring-lr", "0.05", "--eval-schedule", "cosine"),
        *("--cleaning-csv", str(tmp_path / "cleaning.csv")),
    )
    assert "evaluation lr cosine" in out
    # Every cleaning row has a paired difference over both seeds.
    assert "paired differences to random" in out
    assert "drop-flipped/oracle" in out and "of 2)" in out
    assert "Diff-In, clean target set" in out and "ROC-AUC" in out
    assert re.search(r"influence on the same \d+ checkpoints", out) and "samples/s" in out
    assert (tmp_path / "cleaning.csv").exists()


def test_diffin_scoring_grid_runs():
    out = _run(
        "diffin_scoring_grid.py",
        *("--dataset", "digits", "--seeds", "1", "--lrs", "0.1", "default"),
        *("--checkpoints", "2"),
        *("--epochs", "2"),
    )
    assert "second order alone" in out
    assert "lr 0.1     m 2   split  diffin" in out
    assert "lr default m 2   split  diffin" in out


def test_diffin_hvp_parts_run():
    out = _run(
        "diffin_hvp.py",
        *("--parts", "accuracy", "cost", "mislabel", "--seeds", "1", "--checkpoints", "2"),
        *("--n-samples", "60", "--repeats", "1", "--cost-tiles", "1", "--self-samples", "20"),
    )
    # The exact products agree with the float64 reference to float32 rounding.
    exact_total = re.search(r"exact\s+total\s+(\S+)", out)
    assert exact_total and float(exact_total.group(1)) > 0.9999
    assert "finite diff. eps=0.001" in out
    assert out.count("x TracIn") == 6  # two targets, three methods each
    assert "clean target  Diff-In, exact" in out


def test_diffin_loo_compares_both_hessian_vector_products():
    out = _run(
        "diffin_loo.py",
        *("--seeds", "1", "--n-train", "40", "--n-target", "20", "--steps", "10"),
        *("--checkpoints", "2", "--chunk", "41", "--target-points", "2"),
    )
    for name in ("tracin", "full", "full[fd]", "second_order[fd]", "linear_response"):
        assert re.search(rf"^\s+0 {re.escape(name)}\s", out, re.MULTILINE), name
    assert "second-order / first-order term (norms, target set): plain rows:" in out
    assert "Diff-In (full[fd]) above TracIn" in out


def test_sims_dev_runs_with_the_annealed_target_net():
    out = _run(
        "sims_dev.py",
        *("--dataset", "digits", "--seeds", "1", "--noise", "0.0", "--epochs", "2"),
        *("--ratios", "0.5", "--methods", "random", "sims_sim", "--eval-schedule", "cosine"),
    )
    assert "lr cosine" in out
    assert "sims_sim" in out and "ratio=0.5" in out


def test_noise_estimate_compares_the_estimates_with_the_true_rate():
    out = _run("noise_estimate.py", "--n-train", "300", "--seeds", "1", "--noise", "0.0", "0.2")
    assert "reported  calibrated  argmax" in out
    assert re.search(r"noise 0\.20: [+-]\d\.\d{3} / [+-]\d\.\d{3} / [+-]\d\.\d{3}", out)


def test_sims_dev_balances_the_draw_over_clusters():
    out = _run(
        "sims_dev.py",
        *("--dataset", "digits", "--seeds", "1", "--noise", "0.0", "--epochs", "1"),
        *("--ratios", "0.5", "--methods", "sims_sim"),
        *("--density", "emb:clusters=emb3", "--density", "pca:clusters=pca3"),
    )
    assert "sims_sim[emb]" in out and "sims_sim[pca]" in out


def test_sims_dev_runs_on_images_with_a_scoring_width():
    out = _run(
        "sims_dev.py",
        *("--images", "--sim-width", "0.25", "--eval", "validation"),
        *("--n-train", "300", "--n-test", "100", "--seeds", "1", "--noise", "0.0"),
        *("--epochs", "1", "--ratios", "0.5", "--methods", "random", "sims_sim"),
        *("--density", "flat:mean_start=0.5,mean_end=0.5,concentration=2"),
    )
    assert "fashion images (CNN): 300 train / 100 validation" in out
    assert "sims_sim[flat]" in out and "ratio=0.5" in out


def test_sims_dev_oracles_keep_the_same_budget_as_random(tmp_path):
    out_csv = tmp_path / "rows.csv"
    out = _run(
        "sims_dev.py",
        *("--dataset", "digits", "--seeds", "1", "--noise", "0.2", "--epochs", "1"),
        *("--ratios", "0.5", "--methods", "random", "oracle", "oracle_sims"),
        *("--out", str(out_csv)),
    )
    assert "oracle_sims" in out
    rows = {line.split(",")[2]: line.split(",") for line in out_csv.read_text().splitlines()[1:]}
    # Both oracles keep as many samples as random selection does.
    assert rows["oracle"][4] == rows["oracle_sims"][4] == rows["random"][4]


def test_panel_quick_run_reports_every_method_and_the_summary(tmp_path):
    out_csv = tmp_path / "panel.csv"
    out = _run("panel.py", "--quick", "--out", str(out_csv))
    assert "equal SGD steps" in out
    assert "worst clean gap (default − random):" in out and "mean noisy gap:" in out
    rows = [line.split(",") for line in out_csv.read_text().splitlines()]
    header, rows = rows[0], rows[1:]
    methods = {row[header.index("method")] for row in rows}
    assert methods == {"default", "random", "baseline", "full", "unseen", "diffin"}
    # Every coreset of a cell keeps as many samples, and the default reports its cut.
    kept = {
        row[header.index("n_kept")]
        for row in rows
        if row[header.index("method")] != "full" and row[header.index("dataset")] == "digits"
    }
    assert len(kept) == 1
    cuts = [
        row[header.index("label_noise")] for row in rows if row[header.index("method")] == "default"
    ]
    assert cuts and all(cut != "" for cut in cuts)
    assert (tmp_path / "panel.txt").read_text().strip().endswith("n_jobs 1")
