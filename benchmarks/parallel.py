"""Speed-up of SIMScorer's K scoring models with n_jobs=2 over n_jobs=1, in one run.

Same synthetic data (``make_classification``, 32 features) and settings for both; the
fits alternate between n_jobs=1 and n_jobs=2 so that a change of machine load hits
both, and the medians over ``--repeats`` are compared. joblib's default (loky)
backend starts its worker processes on the first parallel call: an untimed warm-up
fit with n_jobs=2 pays that start-up (reported separately as "cold"), as it would be
paid once per session. With K models on 2 workers the best possible speed-up is
``K / ceil(K / 2)`` (1.5 for K = 3, 2 for K = 4); the scores of the two runs are
checked to be identical.

    OMP_NUM_THREADS=1 python benchmarks/parallel.py --n-samples 100000 --n-models 3 4
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
import torch
from _common import RESULTS, synthetic_classification, write_results

from skprune import SIMScorer


def timed_fit(X, y, n_models, n_jobs, epochs):
    scorer = SIMScorer(
        n_models=n_models, max_epochs=epochs, n_jobs=n_jobs, device="cpu", random_state=0
    )
    start = time.perf_counter()
    scorer.fit(X, y)
    return time.perf_counter() - start, scorer.scores_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=100000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--n-models", type=int, nargs="+", default=[3, 4])
    parser.add_argument("--epochs", type=int, default=None, help="None: SIMScorer's default")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(RESULTS / "parallel"), help="path without suffix")
    args = parser.parse_args(argv)

    # One intra-op thread per process: n_jobs=1 uses one core, n_jobs=2 two
    # (joblib limits its workers' threads the same way).
    torch.set_num_threads(1)
    X, y = synthetic_classification(args.n_samples, args.features, args.classes)
    lines = [
        f"# parallel: N={args.n_samples} features={args.features} classes={args.classes} "
        f"epochs={args.epochs} repeats={args.repeats} cpus={os.cpu_count()} "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
    ]
    print(lines[0], flush=True)
    rows = []
    for n_models in args.n_models:
        cold, _ = timed_fit(X, y, n_models, 2, args.epochs)
        times = {1: [], 2: []}
        scores = {}
        for _ in range(args.repeats):
            for n_jobs in (1, 2):
                seconds, scores[n_jobs] = timed_fit(X, y, n_models, n_jobs, args.epochs)
                times[n_jobs].append(seconds)
        if not np.array_equal(scores[1], scores[2]):
            raise SystemExit("n_jobs=1 and n_jobs=2 gave different scores")
        serial, parallel = np.median(times[1]), np.median(times[2])
        ideal = n_models / math.ceil(n_models / 2)
        row = {
            "n_models": n_models,
            "n_samples": args.n_samples,
            "median_seconds_n_jobs_1": serial,
            "median_seconds_n_jobs_2": parallel,
            "speedup": serial / parallel,
            "ideal_speedup": ideal,
            "cold_seconds_n_jobs_2": cold,
        }
        rows.append(row)
        line = (
            f"K={n_models}: n_jobs=1 {serial:.2f} s, n_jobs=2 {parallel:.2f} s (medians of "
            f"{args.repeats}; cold first n_jobs=2 fit {cold:.2f} s) -> speed-up "
            f"{serial / parallel:.2f}x (ideal {ideal:.2f}x); scores identical"
        )
        lines.append(line)
        print(line, flush=True)
    write_results(rows, lines, args.output)


if __name__ == "__main__":
    main()
