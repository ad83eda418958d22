"""Scaling curve: wall time and peak memory of scorers against the number of samples.

Synthetic data (``make_classification``, 32 features by default), the default MLP on
the CPU, one process per run: every (scorer, N) pair is fitted in a fresh Python
subprocess that loads the data from a ``.npy`` file, so its peak resident set size
(``VmHWM`` of ``/proc/self/status``) belongs to that fit alone. Reports the fit's
wall time, the peak RSS, the peak RSS before the fit (interpreter, torch, the data and
a warm-up fit), the slope of log(time) against log(N) fitted over all sizes
(1 = linear) and the marginal cost per sample between consecutive sizes. Each
subprocess first fits the scorer once on 500 rows (untimed) so one-off start-up costs
do not bend the curve.

    OMP_NUM_THREADS=1 python benchmarks/scaling.py --sizes 10000 100000 1000000

``--memmap`` passes the data as ``np.load(..., mmap_mode="r")`` instead of an
in-memory array. Run it on a quiet machine: the timings are wall-clock times.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import RESULTS, synthetic_classification, write_results


def make_data(n_samples, n_features, n_classes, directory, seed=0):
    """Write ``X`` (float32) and ``y`` of a synthetic problem to ``directory``; return paths."""
    X, y = synthetic_classification(n_samples, n_features, n_classes, seed)
    X_path = Path(directory) / f"X_{n_samples}.npy"
    y_path = Path(directory) / f"y_{n_samples}.npy"
    np.save(X_path, X.astype(np.float32))
    np.save(y_path, y.astype(np.int64))
    return X_path, y_path


def build_scorer(name, args):
    """The scorer ``name`` with the default MLP on the CPU."""
    import skprune

    if name == "sim":
        return skprune.SIMScorer(
            n_models=args.n_models, max_epochs=args.epochs, device="cpu", random_state=0
        )
    if name == "diffin":
        if not hasattr(skprune, "DiffInScorer"):
            raise SystemExit("skprune.DiffInScorer is not available in this version")
        return skprune.DiffInScorer(max_epochs=args.epochs, device="cpu", random_state=0)
    raise SystemExit(f"unknown scorer {name!r}; use sim or diffin")


def _rss_mib():
    # VmHWM (KiB) belongs to this process image. getrusage's ru_maxrss would not do: Linux
    # carries it across fork + exec, so a child would report its parent's peak.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args):
    """Fit one scorer on one data set; print one JSON line."""
    import torch

    torch.set_num_threads(args.threads)
    X = np.load(args.X, mmap_mode="r" if args.memmap else None)
    y = np.load(args.y)
    # Warm-up on a few rows: the first fit of a process pays one-off costs
    # (lazy imports, torch's first kernels) that do not grow with N.
    warm = min(len(y), 500)
    build_scorer(args.scorer, args).fit(np.asarray(X[:warm]), y[:warm])
    scorer = build_scorer(args.scorer, args)
    before = _rss_mib()
    start = time.perf_counter()
    scorer.fit(X, y)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "scorer": args.scorer,
                "n_samples": int(len(y)),
                "seconds": seconds,
                "peak_rss_mib": _rss_mib(),
                "peak_rss_before_fit_mib": before,
            }
        )
    )


def slope(sizes, seconds):
    """Least-squares slope of log(seconds) against log(sizes)."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e5, 1e6])
    parser.add_argument("--scorers", nargs="+", default=None, help="sim, diffin (default: both)")
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=None, help="None: each scorer's default")
    parser.add_argument("--n-models", type=int, default=3, help="SIM's K")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--memmap", action="store_true", help="pass X as a read-only memmap")
    parser.add_argument("--output", default=str(RESULTS / "scaling"), help="path without suffix")
    # Internal: one fit in a subprocess.
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scorer", help=argparse.SUPPRESS)
    parser.add_argument("--X", help=argparse.SUPPRESS)
    parser.add_argument("--y", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return
    if args.scorers is None:
        import skprune

        args.scorers = ["sim"] + (["diffin"] if hasattr(skprune, "DiffInScorer") else [])
    sizes = [int(n) for n in args.sizes]
    settings = (
        f"features={args.features} classes={args.classes} epochs={args.epochs} "
        f"n_models={args.n_models} threads={args.threads} memmap={args.memmap} "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')} cpus={os.cpu_count()}"
    )
    lines = [f"# scaling: {settings}"]
    print(lines[0], flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for n in sizes:
            X_path, y_path = make_data(n, args.features, args.classes, directory)
            for scorer in args.scorers:
                command = [sys.executable, __file__, "--child", "--scorer", scorer]
                command += ["--X", str(X_path), "--y", str(y_path), "--threads", str(args.threads)]
                command += ["--n-models", str(args.n_models)]
                if args.epochs is not None:
                    command += ["--epochs", str(args.epochs)]
                if args.memmap:
                    command.append("--memmap")
                result = subprocess.run(command, capture_output=True, text=True, check=False)
                if result.returncode != 0:
                    sys.stderr.write(result.stderr)
                    raise SystemExit(f"{scorer} at N={n} failed")
                row = json.loads(result.stdout.strip().splitlines()[-1])
                rows.append(row)
                line = (
                    f"{scorer:7s} N={n:>9d}  {row['seconds']:9.2f} s  "
                    f"{1e6 * row['seconds'] / n:8.1f} µs/sample  peak RSS "
                    f"{row['peak_rss_mib']:7.0f} MiB "
                    f"(before fit: {row['peak_rss_before_fit_mib']:.0f})"
                )
                lines.append(line)
                print(line, flush=True)
    for scorer in args.scorers:
        mine = [row for row in rows if row["scorer"] == scorer]
        if len(mine) >= 2:
            value = slope([r["n_samples"] for r in mine], [r["seconds"] for r in mine])
            line = f"{scorer}: log-log slope of wall time vs N = {value:.2f} (1 = linear)"
            for a, b in zip(mine, mine[1:], strict=False):
                marginal = (b["seconds"] - a["seconds"]) / (b["n_samples"] - a["n_samples"])
                line += (
                    f"; marginal {1e6 * marginal:.1f} µs/sample ({a['n_samples']}→{b['n_samples']})"
                )
            lines.append(line)
            print(line)
    write_results(rows, lines, args.output)


if __name__ == "__main__":
    main()
