"""The ``skprune`` command line.

``skprune demo`` compares coreset selection rules on scikit-learn's digits:
it scores the training set once per difficulty metric, keeps a coreset at
each pruning ratio with every rule, trains the default MLP on each coreset
(and on all the data) with several seeds, and prints test accuracies::

    skprune demo                        # ratios 0.5 0.7 0.9, 3 seeds, 10 epochs
    skprune demo --ratios 0.8 --seeds 5
    skprune demo --quick                # smoke test: 1 seed, 3 epochs

``skprune select`` prunes a user's file and writes the coreset::

    skprune select data.npz --scorer sim --pruning-ratio 0.7 -o coreset.npz
    skprune select data.csv --label-column label --scorer el2n --strategy ccs -o coreset.csv
    skprune select X.npy --y y.npy --scorer unseen -o coreset.npz

``python -m skprune`` is the same program.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import time
from collections import namedtuple

import numpy as np
import torch
from tqdm import tqdm

from . import __version__
from .datasets import load_digits
from .nets import make_default_net, seeded
from .sampling import STRATEGIES, select
from .scorers import DYNAMICS_METRICS, SIMScorer, TrainingDynamicsScorer, UnseenScorer
from .selection import CoresetSelector

__all__ = [
    "main",
    "run_demo",
    "format_table",
    "read_dataset",
    "write_coreset",
    "DemoRow",
    "DEMO_METHODS",
    "DEMO_SCORERS",
]

# Difficulty metrics computed once per run and shared by every rule and ratio:
# (scorer class, parameters). SIM keeps its own short scoring trainings; the
# training-dynamics baselines train for the run's --epochs.
DEMO_SCORERS = {
    "sim": (SIMScorer, {"n_models": 3}),
    "el2n": (TrainingDynamicsScorer, {"metric": "el2n", "n_models": 2}),
    "forgetting": (TrainingDynamicsScorer, {"metric": "forgetting", "n_models": 1}),
}

# (row label, selection rule, metric of DEMO_SCORERS or None for rules without scores)
DEMO_METHODS = (
    ("random", "random", None),
    ("sims/sim", "sims", "sim"),
    ("ccs/sim", "ccs", "sim"),
    ("ccs/el2n", "ccs", "el2n"),
    ("ccs/forgetting", "ccs", "forgetting"),
    ("easy/el2n", "easy", "el2n"),
    ("hard/el2n", "hard", "el2n"),
)

DemoRow = namedtuple("DemoRow", ["method", "ratio", "n_kept", "accuracies", "seconds"])
DemoRow.__doc__ = """One line of the demo table.

method : str
    ``"full"`` or ``"<rule>/<metric>"`` (``"random"`` needs no metric).
ratio : float
    Fraction of the training samples removed.
n_kept : int
    Coreset size.
accuracies : ndarray of float
    Test accuracy of the net trained on the coreset, one per seed.
seconds : ndarray of float
    Selection plus training time, one per seed (the shared scoring is not included).
"""

_QUICK = {"seeds": 1, "epochs": 3}
_DEFAULTS = {"seeds": 3, "epochs": 10}


@contextlib.contextmanager
def _torch_threads(n_threads):
    """Set torch's intra-op thread count inside the block, restoring it afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _fit_and_score(X_train, y_train, X_test, y_test, n_classes, *, epochs, device, seed):
    """Test accuracy of the default net trained on ``(X_train, y_train)`` with ``seed``."""
    net = make_default_net(X_train, n_classes, max_epochs=epochs, device=device)
    with seeded(seed):
        net.fit(X_train, y_train)
    return float(net.score(X_test, y_test))


def run_demo(
    ratios=(0.5, 0.7, 0.9),
    *,
    n_seeds=3,
    epochs=10,
    device="cpu",
    equal_steps=True,
    methods=DEMO_METHODS,
    progress=True,
):
    """Score digits once, select coresets with every method and ratio, train and test.

    Parameters
    ----------
    ratios : sequence of float in [0, 1), default=(0.5, 0.7, 0.9)
        Pruning ratios (fractions of the training samples removed).
    n_seeds : int, default=3
        Seeds ``0 .. n_seeds - 1`` of the random selections and of the training.
    epochs : int, default=10
        Epochs of the scoring nets and of the net trained on all data.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Device of the nets; the demo's tiny MLPs run fastest on the CPU.
    equal_steps : bool, default=True
        Train every coreset for about as many SGD steps as the full data
        (``epochs * n_train / n_kept`` epochs, rounded up), as coreset papers
        do, so that a small coreset is not judged on an undertrained net.
        False trains every net for ``epochs`` epochs.
    methods : sequence of (str, str, str or None), default=DEMO_METHODS
        ``(label, rule, metric)`` triples; metrics are keys of :data:`DEMO_SCORERS`.
    progress : bool, default=True
        Show a progress bar on stderr.

    Returns
    -------
    rows : list of DemoRow
        The full-data row first, then one row per ratio and method.
    info : dict
        ``n_train``, ``n_test``, ``n_classes`` and ``scoring_seconds`` per metric.

    Examples
    --------
    >>> from skprune.cli import run_demo
    >>> rows, info = run_demo([0.9], n_seeds=1, epochs=1, methods=[("random", "random", None)],
    ...                       progress=False)
    >>> [(row.method, row.n_kept) for row in rows]
    [('full', 1347), ('random', 135)]
    """
    X_train, X_test, y_train, y_test = load_digits()
    n_classes = np.unique(y_train).size
    metrics = sorted({metric for _, _, metric in methods if metric is not None})
    unknown = [metric for metric in metrics if metric not in DEMO_SCORERS]
    if unknown:
        raise ValueError(f"unknown demo metrics {unknown}; choose from {sorted(DEMO_SCORERS)}")
    seeds = range(n_seeds)
    bar = tqdm(
        total=len(metrics) + n_seeds * (1 + len(methods) * len(ratios)),
        unit="fit",
        file=sys.stderr,
        disable=not progress,
        leave=False,
    )

    scores, scoring_seconds = {}, {}
    for metric in metrics:
        bar.set_description(f"scoring {metric}")
        start = time.perf_counter()
        scorer_class, params = DEMO_SCORERS[metric]
        if scorer_class is TrainingDynamicsScorer:
            params = {**params, "max_epochs": epochs}
        scorer = scorer_class(**params, device=device, random_state=0)
        scores[metric] = scorer.fit(X_train, y_train).scores_
        scoring_seconds[metric] = time.perf_counter() - start
        bar.update()

    def evaluate(method, ratio, pick):
        accuracies, seconds, n_kept = [], [], y_train.size
        for seed in seeds:
            start = time.perf_counter()
            indices = pick(seed)
            n_kept = indices.size
            n_epochs = math.ceil(epochs * y_train.size / n_kept) if equal_steps else epochs
            accuracies.append(
                _fit_and_score(
                    X_train[indices],
                    y_train[indices],
                    X_test,
                    y_test,
                    n_classes,
                    epochs=n_epochs,
                    device=device,
                    seed=seed,
                )
            )
            seconds.append(time.perf_counter() - start)
            bar.update()
        return DemoRow(method, ratio, n_kept, np.array(accuracies), np.array(seconds))

    bar.set_description("training on all data")
    rows = [evaluate("full", 0.0, lambda seed: np.arange(y_train.size))]
    for ratio in ratios:
        for label, rule, metric in methods:
            bar.set_description(f"{label} at {ratio:g}")
            rows.append(
                evaluate(
                    label,
                    ratio,
                    lambda seed, rule=rule, metric=metric, ratio=ratio: (
                        select(rule, scores.get(metric), y_train, ratio, random_state=seed).indices
                    ),
                )
            )
    bar.close()
    info = {
        "n_train": y_train.size,
        "n_test": y_test.size,
        "n_classes": n_classes,
        "scoring_seconds": scoring_seconds,
    }
    return rows, info


def format_table(rows):
    """Render demo rows as a plain-text table, one line per row.

    Parameters
    ----------
    rows : list of DemoRow

    Returns
    -------
    str

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.cli import DemoRow, format_table
    >>> print(format_table([DemoRow("random", 0.5, 674, np.array([0.95, 0.97]),
    ...                             np.array([0.2, 0.2]))]))
    method           ratio   kept  test accuracy    time (s)
    random            0.50    674  0.960 ± 0.010        0.20
    """
    lines = [f"{'method':<15} {'ratio':>6} {'kept':>6}  {'test accuracy':<15} {'time (s)':>8}"]
    for row in rows:
        accuracy = f"{row.accuracies.mean():.3f} ± {row.accuracies.std():.3f}"
        lines.append(
            f"{row.method:<15} {row.ratio:>6.2f} {row.n_kept:>6d}  {accuracy:<15} "
            f"{row.seconds.mean():>8.2f}"
        )
    return "\n".join(lines)


class InputError(ValueError):
    """A problem with the user's files or arguments, reported in one line (exit status 2)."""


def read_dataset(path, *, y_path=None, label_column=None):
    """Read ``(X, y)`` from ``.npz`` (arrays ``X`` and ``y``), an ``.npy`` pair or ``.csv``.

    Parameters
    ----------
    path : str
        ``.npz`` holding ``X`` and ``y``; ``.npy`` holding X (then ``y_path`` is
        required); or ``.csv`` with a header, numeric feature columns and the
        label column ``label_column``.
    y_path : str or None
        ``.npy`` file of labels, for an ``.npy`` X.
    label_column : str or None
        Name of the label column of a ``.csv`` file.

    Returns
    -------
    X : ndarray
    y : ndarray

    Raises
    ------
    InputError
        With a one-line message naming the problem.
    """
    import os

    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    suffix = os.path.splitext(path)[1].lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                missing = [name for name in ("X", "y") if name not in data.files]
                if missing:
                    raise InputError(
                        f"{path}: missing array(s) {missing}; the .npz needs arrays named X and y "
                        f"(found {data.files})"
                    )
                X, y = data["X"], data["y"]
        elif suffix == ".npy":
            if y_path is None:
                raise InputError(f"{path}: an .npy X needs its labels: pass --y LABELS.npy")
            if not os.path.isfile(y_path):
                raise InputError(f"{y_path}: no such file")
            X, y = np.load(path, allow_pickle=False), np.load(y_path, allow_pickle=False)
        elif suffix == ".csv":
            X, y = _read_csv(path, label_column)
        else:
            raise InputError(f"{path}: unsupported file type {suffix!r}; use .npz, .npy or .csv")
    except (OSError, ValueError) as error:
        if isinstance(error, InputError):
            raise
        raise InputError(f"{path}: cannot read it ({error})") from None
    if y.ndim != 1:
        raise InputError(f"labels must be one per sample (1-D), got shape {y.shape}")
    if X.ndim < 2:
        raise InputError(f"X must have one row per sample (2-D or more), got shape {X.shape}")
    if X.shape[0] != y.shape[0]:
        raise InputError(f"X has {X.shape[0]} samples but y has {y.shape[0]} labels")
    if not np.issubdtype(X.dtype, np.number):
        raise InputError(f"X must be numeric, got dtype {X.dtype}")
    return X.astype(np.float32), y


def _read_csv(path, label_column):
    import csv

    if label_column is None:
        raise InputError(f"{path}: name the label column with --label-column")
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 2:
        raise InputError(f"{path}: needs a header line and at least one data row")
    header, body = rows[0], rows[1:]
    if label_column not in header:
        raise InputError(f"{path}: no column {label_column!r}; columns are {header}")
    if any(len(row) != len(header) for row in body):
        raise InputError(f"{path}: rows have different numbers of fields than the header")
    label_at = header.index(label_column)
    y = np.array([row[label_at] for row in body])
    features = [i for i in range(len(header)) if i != label_at]
    try:
        X = np.array([[float(row[i]) for i in features] for row in body])
    except ValueError as error:
        raise InputError(f"{path}: feature columns must be numeric ({error})") from None
    return X, y


def write_coreset(path, selector):
    """Write a fitted selector's coreset as ``.npz`` or ``.csv``.

    The file holds, per kept sample: its row index in the input, its importance
    weight and its difficulty (``.npz`` also stores every sample's difficulty as
    ``all_scores``).
    """
    import csv
    import os

    suffix = os.path.splitext(path)[1].lower()
    indices = selector.sample_indices_
    if suffix == ".npz":
        np.savez(
            path,
            indices=indices,
            weights=selector.sample_weight_,
            scores=selector.scores_[indices],
            all_scores=selector.scores_,
        )
    elif suffix == ".csv":
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["index", "weight", "score"])
            for index, weight in zip(indices, selector.sample_weight_, strict=True):
                writer.writerow([int(index), f"{weight:.6g}", f"{selector.scores_[index]:.6g}"])
    else:
        raise InputError(f"{path}: unsupported output type {suffix!r}; use .npz or .csv")


def _make_scorer(name, epochs):
    settings = {} if epochs is None else {"max_epochs": epochs}
    if name == "sim":
        return SIMScorer(**settings)
    if name == "unseen":
        return UnseenScorer("margin", **settings)
    return TrainingDynamicsScorer(name, **settings)


def _select(args):
    import os

    if os.path.splitext(args.output)[1].lower() not in (".npz", ".csv"):
        raise InputError(f"{args.output}: unsupported output type; use .npz or .csv")
    X, y = read_dataset(args.data, y_path=args.y, label_column=args.label_column)
    selector = CoresetSelector(
        _make_scorer(args.scorer, args.epochs),
        pruning_ratio=args.pruning_ratio,
        strategy=args.strategy,
        class_balance=args.class_balance,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        verbose=args.verbose,
    )
    try:
        selector.fit(X, y)
    except ValueError as error:  # the library's validation messages are one-liners
        raise InputError(str(error).splitlines()[0]) from None
    write_coreset(args.output, selector)
    print(
        f"kept {selector.sample_indices_.size} of {y.shape[0]} samples "
        f"(scorer={args.scorer}, strategy={args.strategy}, pruning_ratio={args.pruning_ratio}) "
        f"-> {args.output}"
    )
    return 0


def _ratio(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid ratio {text!r}: not a number") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(
            f"ratio must be in [0, 1) (the fraction of training samples removed), got {text}"
        )
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _parser():
    parser = argparse.ArgumentParser(
        prog="skprune",
        description="Data pruning / coreset selection for deep-learning classifiers.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="compare coreset selection rules on the digits data set",
        description=(
            "Score the digits training set once per metric (EL2N over 2 nets, forgetting), "
            "select coresets with random, CCS, easy and hard rules at each pruning ratio, "
            "train an MLP on each coreset and on all data, and print test accuracies "
            "(mean ± std over seeds)."
        ),
    )
    demo.add_argument(
        "--ratios",
        type=_ratio,
        nargs="+",
        default=[0.5, 0.7, 0.9],
        metavar="R",
        help="pruning ratios: fractions of the training samples removed (default: 0.5 0.7 0.9)",
    )
    demo.add_argument(
        "--seeds",
        type=_positive_int,
        metavar="N",
        help=f"seeds per configuration (default: {_DEFAULTS['seeds']}; {_QUICK['seeds']} "
        "with --quick)",
    )
    demo.add_argument(
        "--epochs",
        type=_positive_int,
        metavar="E",
        help=f"epochs of the scoring nets and of the net trained on all data; coresets "
        f"train for as many SGD steps (default: {_DEFAULTS['epochs']}; {_QUICK['epochs']} "
        "with --quick)",
    )
    demo.add_argument(
        "--quick", action="store_true", help="a fast smoke run: fewer seeds and epochs"
    )
    demo.add_argument(
        "--fixed-epochs",
        action="store_true",
        help="train coresets for E epochs too, i.e. for fewer SGD steps than the full data",
    )
    demo.add_argument(
        "--device",
        choices=["cpu", "cuda", "auto"],
        default="cpu",
        help="device of the nets (default: cpu, fastest for these tiny nets)",
    )
    demo.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    select_command = commands.add_parser(
        "select",
        help="prune a data file and write the coreset",
        description=(
            "Score the samples of DATA, keep a coreset and write its row indices, importance "
            "weights and difficulties to OUT (.npz or .csv)."
        ),
    )
    select_command.add_argument(
        "data", metavar="DATA", help=".npz (arrays X, y), .npy (with --y) or .csv"
    )
    select_command.add_argument("--y", metavar="LABELS.npy", help="labels, when DATA is an .npy X")
    select_command.add_argument(
        "--label-column", metavar="NAME", help="label column of a .csv DATA"
    )
    select_command.add_argument(
        "--scorer",
        choices=["sim", "unseen", *DYNAMICS_METRICS],
        default="sim",
        help="difficulty score (default: sim; unseen = UNSEEN margin)",
    )
    select_command.add_argument(
        "--pruning-ratio",
        type=_ratio,
        default=0.5,
        metavar="R",
        help="fraction of the samples removed (default: 0.5)",
    )
    select_command.add_argument("--strategy", choices=STRATEGIES, default="sims")
    select_command.add_argument(
        "--class-balance", choices=["global", "hybrid", "proportional"], default="hybrid"
    )
    select_command.add_argument("--epochs", type=_positive_int, metavar="E", help="scoring epochs")
    select_command.add_argument("--n-jobs", type=int, default=None, metavar="N")
    select_command.add_argument("--random-state", type=int, default=0, metavar="SEED")
    select_command.add_argument("-v", "--verbose", action="count", default=0)
    select_command.add_argument("-o", "--output", required=True, metavar="OUT", help=".npz or .csv")
    return parser


def _demo(args):
    settings = _QUICK if args.quick else _DEFAULTS
    n_seeds = args.seeds if args.seeds is not None else settings["seeds"]
    epochs = args.epochs if args.epochs is not None else settings["epochs"]
    start = time.perf_counter()
    rows, info = run_demo(
        args.ratios,
        n_seeds=n_seeds,
        epochs=epochs,
        device=args.device,
        equal_steps=not args.fixed_epochs,
        progress=not args.no_progress,
    )
    scoring = ", ".join(
        f"{name} {seconds:.1f} s" for name, seconds in info["scoring_seconds"].items()
    )
    print(
        f"skprune demo: digits, {info['n_train']} training / {info['n_test']} test samples, "
        f"{info['n_classes']} classes; MLP, {epochs} epoch(s), {n_seeds} seed(s)"
    )
    budget = f"{epochs} epoch(s)" if args.fixed_epochs else "as many SGD steps as on all data"
    print(f"scored once, reused for every ratio: {scoring}")
    print(
        f"ratio = fraction of training samples removed; coresets train for {budget}\n"
        "test accuracy = mean ± std over seeds; time = selection + training, per seed\n"
    )
    print(format_table(rows))
    print(f"\ntotal {time.perf_counter() - start:.1f} s")
    return 0


def main(argv=None):
    """Run the ``skprune`` command line.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments without the program name; None reads ``sys.argv``.

    Returns
    -------
    int
        Exit status (0 on success). Invalid arguments make argparse print a
        one-line error and exit with status 2.

    Examples
    --------
    >>> from skprune.cli import main
    >>> main(["demo", "--quick", "--ratios", "0.9", "--epochs", "1", "--no-progress"])
    skprune demo: digits, 1347 training / 450 test samples, 10 classes; MLP, 1 epoch(s), ...
    ...
    method           ratio   kept  test accuracy    time (s)
    full              0.00   1347  ...
    random            0.90    135  ...
    ...
    0
    """
    args = _parser().parse_args(argv)
    if args.command == "demo":
        # The demo's nets are too small to gain from intra-op threads, and OpenMP's
        # spin-waiting threads run many times slower when another process shares the cores.
        with _torch_threads(1):
            return _demo(args)
    if args.command == "select":
        try:
            return _select(args)
        except InputError as error:
            print(f"skprune select: error: {error}", file=sys.stderr)
            return 2
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse rejects others
