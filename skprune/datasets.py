"""Offline benchmark data, label-noise and class-imbalance injection.

Everything here works without a network connection: scikit-learn's digits are
bundled with scikit-learn, Fashion-MNIST is read from the files that Debian's
``dataset-fashion-mnist`` package installs, and MNIST-1D is generated on the
spot by the ``mnist1d`` package. Loaders return a
:class:`Split` named tuple, so they unpack like
:func:`sklearn.model_selection.train_test_split`::

    X_train, X_test, y_train, y_test = load_digits()

Inputs are float32 (what the networks train on), labels int64 (what
:class:`torch.nn.CrossEntropyLoss` expects).
"""

from __future__ import annotations

import gzip
import math
import os
import random
from collections import namedtuple
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from sklearn import datasets as _sk_datasets
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

__all__ = [
    "Split",
    "FASHION_MNIST_CLASSES",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist1d",
    "read_idx",
    "add_label_noise",
    "make_imbalanced",
]

Split = namedtuple("Split", ["X_train", "X_test", "y_train", "y_test"])
Split.__doc__ = """Train/test split returned by the loaders.

X_train, X_test : ndarray of float32
    Inputs, ``(n, n_features)`` or ``(n, height, width)`` with ``images=True``.
y_train, y_test : ndarray of int64
    Class labels.
"""

#: Names of the 10 Fashion-MNIST classes, indexed by label.
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

_FASHION_MNIST_FILES = {
    "X_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "X_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}

# IDX type codes (third byte of the magic number); multi-byte values are big-endian.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def load_digits(*, scale=True, images=False, test_size=0.25, random_state=0):
    """Load scikit-learn's 8×8 handwritten digits, split into train and test sets.

    1797 images of 10 classes, bundled with scikit-learn (no download). The
    split is stratified, so both parts have the class proportions of the whole.

    Parameters
    ----------
    scale : bool, default=True
        Divide the pixel values (0 to 16) by 16, so that inputs lie in [0, 1].
    images : bool, default=False
        Return ``N×8×8`` arrays (for convolutional nets) instead of ``N×64``.
    test_size : float in (0, 1) or int, default=0.25
        Fraction (or number) of samples held out for testing.
    random_state : int, RandomState or None, default=0
        Seed of the split.

    Returns
    -------
    Split
        Named tuple ``(X_train, X_test, y_train, y_test)``; X is float32, y int64.

    See Also
    --------
    load_fashion_mnist : a larger image benchmark.

    Examples
    --------
    >>> from skprune.datasets import load_digits
    >>> X_train, X_test, y_train, y_test = load_digits()
    >>> X_train.shape, X_test.shape, X_train.dtype, float(X_train.max())
    ((1347, 64), (450, 64), dtype('float32'), 1.0)
    >>> load_digits(images=True).X_train.shape
    (1347, 8, 8)
    """
    X, y = _sk_datasets.load_digits(return_X_y=True)
    X = X.astype(np.float32)
    if scale:
        X /= 16.0
    if images:
        X = X.reshape(-1, 8, 8)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y.astype(np.int64), test_size=test_size, stratify=y, random_state=random_state
    )
    return Split(X_train, X_test, y_train, y_test)


def read_idx(source):
    """Read an array stored in the IDX format of the MNIST family of data sets.

    The format is a 4-byte magic number (two zero bytes, a type code, the
    number of dimensions), one big-endian uint32 per dimension, then the
    values in C order. Gzipped input is recognized from its content.

    Parameters
    ----------
    source : str, path-like or binary file object
        An ``.idx`` file, gzipped or not.

    Returns
    -------
    ndarray
        Values in the file's dtype (native byte order), with the stored shape.

    Examples
    --------
    >>> import io, struct
    >>> from skprune.datasets import read_idx
    >>> header = bytes([0, 0, 0x08, 2]) + struct.pack(">II", 2, 3)  # uint8, shape (2, 3)
    >>> raw = header + bytes(range(6))
    >>> read_idx(io.BytesIO(raw))
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    if hasattr(source, "read"):
        data, name = source.read(), getattr(source, "name", "<file object>")
    else:
        with open(source, "rb") as f:
            data, name = f.read(), os.fspath(source)
    if data[:2] == b"\x1f\x8b":  # gzip magic bytes
        data = gzip.decompress(data)
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _IDX_DTYPES:
        raise ValueError(
            f"{name} is not an IDX file: it must start with two zero bytes and a type code in "
            f"{[hex(code) for code in _IDX_DTYPES]}, got {data[:4]!r}"
        )
    dtype, ndim = _IDX_DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name} is truncated: its header needs {header} bytes, got {len(data)}")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"{name} holds {len(data)} bytes but its header announces shape {shape} of "
            f"{dtype.name} ({expected} bytes); the file is truncated or corrupt"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    # Native byte order and a writeable copy: frombuffer views the read-only bytes.
    return values.astype(dtype.newbyteorder("="))


def _stratified_subset(y, n_samples, random_state, name):
    """Sorted indices of ``n_samples`` rows drawn with the class proportions of ``y``."""
    if n_samples is None or n_samples == y.shape[0]:
        return np.arange(y.shape[0])
    n_classes = np.unique(y).size
    if (
        not isinstance(n_samples, Integral)
        or isinstance(n_samples, bool)
        or not n_classes <= n_samples <= y.shape[0]
    ):
        raise ValueError(
            f"{name} must be None or an integer from {n_classes} (one sample per class) to "
            f"{y.shape[0]} (all samples), got {n_samples!r}"
        )
    n_left_out = y.shape[0] - int(n_samples)
    if n_left_out < n_classes:
        # Too few left out to stratify them (train_test_split would refuse): drop
        # them at random, which moves the class proportions by at most that many.
        dropped = check_random_state(random_state).choice(y.shape[0], n_left_out, replace=False)
        return np.setdiff1d(np.arange(y.shape[0]), dropped)
    indices, _ = train_test_split(
        np.arange(y.shape[0]), train_size=int(n_samples), stratify=y, random_state=random_state
    )
    return np.sort(indices)


def load_fashion_mnist(
    *,
    n_train=None,
    n_test=None,
    images=False,
    random_state=0,
    path="/usr/share/datasets/fashion-mnist",
):
    """Load Fashion-MNIST (28×28 grey images of 10 clothing classes) from local IDX files.

    Reads the four gzipped IDX files that Debian's ``dataset-fashion-mnist``
    package installs (60000 training and 10000 test images); class names are
    in :data:`FASHION_MNIST_CLASSES`. Nothing is downloaded.

    Parameters
    ----------
    n_train, n_test : int or None, default=None
        Size of a stratified random subset of the training / test set; None
        keeps all samples. Subsets keep the class proportions, so small
        benchmarks stay balanced.
    images : bool, default=False
        Return ``N×28×28`` arrays (for convolutional nets) instead of ``N×784``.
    random_state : int, RandomState or None, default=0
        Seed of the subsampling.
    path : str or path-like, default="/usr/share/datasets/fashion-mnist"
        Folder holding ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
        ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz``.

    Returns
    -------
    Split
        Named tuple ``(X_train, X_test, y_train, y_test)``; X is float32 in
        [0, 1], y int64.

    Raises
    ------
    FileNotFoundError
        When a file is missing; the message says how to install the data.

    See Also
    --------
    load_digits : a smaller benchmark bundled with scikit-learn.
    read_idx : the file reader.

    Examples
    --------
    >>> from skprune.datasets import load_fashion_mnist
    >>> data = load_fashion_mnist(n_train=1000, n_test=200)  # doctest: +SKIP
    >>> data.X_train.shape, data.X_test.shape  # doctest: +SKIP
    ((1000, 784), (200, 784))

    Without the data, the error says how to get it:

    >>> load_fashion_mnist(path="/nonexistent")
    Traceback (most recent call last):
    ...
    FileNotFoundError: Fashion-MNIST not found: ...`apt-get install dataset-fashion-mnist`...
    """
    path = os.fspath(path)
    missing = [
        f for f in _FASHION_MNIST_FILES.values() if not os.path.isfile(os.path.join(path, f))
    ]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST not found: {path} lacks {', '.join(missing)}. Install the data with "
            "`apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or download these files "
            "from https://github.com/zalandoresearch/fashion-mnist into a folder and pass it "
            "as path=..."
        )
    arrays = {key: read_idx(os.path.join(path, f)) for key, f in _FASHION_MNIST_FILES.items()}
    parts = []
    for part, n_samples in (("train", n_train), ("test", n_test)):
        X, y = arrays[f"X_{part}"], arrays[f"y_{part}"]
        if X.shape[0] != y.shape[0]:
            raise ValueError(
                f"{path}: the {part} images and labels differ in length "
                f"({X.shape[0]} and {y.shape[0]}); the files are corrupt, reinstall them"
            )
        keep = _stratified_subset(y, n_samples, random_state, f"n_{part}")
        # Subsample before converting: the float32 training set alone is ~190 MB.
        X = X[keep].astype(np.float32) / np.float32(255.0)
        parts.append((X if images else X.reshape(X.shape[0], -1), y[keep].astype(np.int64)))
    (X_train, y_train), (X_test, y_test) = parts
    return Split(X_train, X_test, y_train, y_test)


def _integer_in(value, low, high):
    """Whether ``value`` is an integer (not a bool) in [low, high]."""
    return isinstance(value, Integral) and not isinstance(value, bool) and low <= value <= high


def load_mnist1d(*, n_samples=5000, test_size=0.2, random_state=42):
    """Generate MNIST-1D (1-D signals of the 10 digits) and split it into train and test sets.

    MNIST-1D turns ten hand-made 1-D digit templates into 40-point signals by
    padding, scaling, translation, shearing and correlated plus i.i.d. noise,
    so that linear models do poorly while small networks do well — a benchmark
    that trains in seconds on a CPU. The ``mnist1d`` package generates the
    samples on the spot (nothing is downloaded; install it with
    ``pip install 'skprune[data]'``). The generator makes ``n_samples // 10``
    samples of every class, shuffles them and standardizes all values to mean 0
    and standard deviation 1; the first samples are the training set, the last
    ``test_size`` of them the test set (the generator's own split, so the
    defaults give its default 4000 / 1000 data set).

    Parameters
    ----------
    n_samples : int, default=5000
        Total number of samples, a multiple of 10 (the classes are balanced).
    test_size : float in (0, 1) or int, default=0.2
        Fraction (rounded up) or number of the samples held out for testing.
    random_state : int, default=42
        Seed of the generator, from 0 to 2**32 - 1; 42 is the ``mnist1d``
        package's default.

    Returns
    -------
    Split
        Named tuple ``(X_train, X_test, y_train, y_test)``; X is float32 of
        shape ``(n, 40)``, y int64.

    Raises
    ------
    ImportError
        When the ``mnist1d`` package is not installed.

    See Also
    --------
    load_digits : 8×8 images, bundled with scikit-learn.
    load_fashion_mnist : 28×28 images of clothes, read from local files.

    Notes
    -----
    The ``mnist1d`` generator draws from NumPy's and Python's global random
    number generators. This function saves their states, seeds them with
    ``random_state`` and restores them afterwards, so the caller's random
    streams are left as they were; do not generate from several threads at
    once.

    Examples
    --------
    >>> from skprune.datasets import load_mnist1d
    >>> X_train, X_test, y_train, y_test = load_mnist1d(n_samples=500)
    >>> X_train.shape, X_test.shape, X_train.dtype, y_train.dtype
    ((400, 40), (100, 40), dtype('float32'), dtype('int64'))
    >>> sorted(set(y_train.tolist())) == list(range(10))
    True
    """
    if not _integer_in(n_samples, 10, math.inf) or n_samples % 10:
        raise ValueError(
            "n_samples must be a positive multiple of 10 (the generator makes as many samples "
            f"of each of the 10 classes), got {n_samples!r}"
        )
    if isinstance(test_size, Real) and not isinstance(test_size, (Integral, bool)):
        n_test = math.ceil(test_size * n_samples) if 0.0 < test_size < 1.0 else 0
    else:
        n_test = test_size if _integer_in(test_size, 1, n_samples - 1) else 0
    if not 1 <= n_test <= n_samples - 1:
        raise ValueError(
            "test_size must be a float in (0, 1) or an integer from 1 to n_samples - 1 = "
            f"{n_samples - 1} that leaves samples in both sets, got {test_size!r}"
        )
    if not _integer_in(random_state, 0, 2**32 - 1):
        raise ValueError(
            f"random_state must be an integer from 0 to 2**32 - 1 (the mnist1d generator "
            f"seeds NumPy's global generator with it), got {random_state!r}"
        )
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as error:
        raise ImportError(
            "load_mnist1d needs the mnist1d package, which generates the data locally: "
            "pip install 'skprune[data]' (or pip install mnist1d)"
        ) from error
    args = get_dataset_args()
    args.num_samples, args.train_split, args.seed = int(n_samples), 1.0, int(random_state)
    # mnist1d seeds and draws from the global generators: put the caller's states back.
    numpy_state, python_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        # make_dataset only generates; mnist1d's get_dataset would try a download first.
        data = make_dataset(args)
    finally:
        np.random.set_state(numpy_state)  # noqa: NPY002
        random.setstate(python_state)
    X, y = data["x"].astype(np.float32), data["y"].astype(np.int64)
    n_train = n_samples - n_test
    return Split(X[:n_train], X[n_train:], y[:n_train], y[n_train:])


def _check_rate(noise_rate):
    if (
        not isinstance(noise_rate, Real)
        or isinstance(noise_rate, bool)
        or not 0.0 <= noise_rate < 1.0
    ):
        raise ValueError(f"noise_rate must be in [0, 1), got {noise_rate!r}")


def _mapping_targets(classes, mapping):
    """Code of the class each class's flipped samples go to (its own code when unmapped)."""
    targets = np.arange(classes.size)
    if mapping is None:
        return (targets + 1) % classes.size
    if not isinstance(mapping, Mapping):
        raise TypeError(
            "mapping must be None or a dict from a class of y to the class its flipped samples "
            f"get, got {type(mapping).__name__}"
        )
    code_of = {label: code for code, label in enumerate(classes.tolist())}
    unknown = [label for label in (*mapping.keys(), *mapping.values()) if label not in code_of]
    if unknown:
        raise ValueError(
            f"mapping names labels that are not classes of y: {unknown}; "
            f"the classes of y are {classes.tolist()}"
        )
    for source, target in mapping.items():
        if code_of[source] == code_of[target]:
            raise ValueError(
                f"mapping sends class {source!r} to itself, which flips nothing; "
                "leave it out of the mapping to keep its labels"
            )
        targets[code_of[source]] = code_of[target]
    return targets


def add_label_noise(y, noise_rate, *, kind="symmetric", mapping=None, random_state=None):
    """Flip a fraction of the labels, to other classes drawn uniformly or set by a mapping.

    Label noise tests whether a pruning method finds mislabeled samples; a
    flipped label is always different from the true one. Two kinds:

    ``"symmetric"`` (class-independent)
        Exactly ``round(noise_rate * n_samples)`` samples, drawn without
        replacement from all samples, get a label drawn uniformly from the
        other classes present in ``y``.
    ``"asymmetric"`` (class-dependent)
        In every class ``c`` that ``mapping`` sends to another class, exactly
        ``round(noise_rate * n_c)`` of its ``n_c`` samples, drawn without
        replacement, get the label ``mapping[c]`` — the confusions of real
        annotators (cat ↔ dog, truck → automobile). Classes the mapping leaves
        out keep their labels. Without a mapping, every class goes to the next
        one in sorted order and the last to the first: ``(c + 1) % n_classes``
        for labels ``0 ... n_classes - 1``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels (any values, e.g. strings).
    noise_rate : float in [0, 1)
        Fraction of labels flipped: of all samples (symmetric) or of every
        mapped class (asymmetric).
    kind : {"symmetric", "asymmetric"}, default="symmetric"
        Whether flipped labels are drawn uniformly or set by ``mapping``.
    mapping : dict or None, default=None
        Only with ``kind="asymmetric"``: ``{class: class its flipped samples
        get}``, keys and values among the classes of ``y``; None means the
        next class, cyclically.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the draw.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        A copy of ``y`` with the flipped labels, in ``y``'s dtype.
    flipped : ndarray of bool of shape (n_samples,)
        True for the samples whose label was changed.

    See Also
    --------
    make_imbalanced : the other usual corruption of a benchmark, a long-tailed
        class distribution.

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.datasets import add_label_noise
    >>> y = np.repeat([0, 1, 2], 4)
    >>> y_noisy, flipped = add_label_noise(y, 0.25, random_state=0)
    >>> int(flipped.sum()), bool(np.all(y_noisy[flipped] != y[flipped]))
    (3, True)

    Asymmetric noise sends a fraction of every mapped class to its partner:

    >>> y_noisy, flipped = add_label_noise(
    ...     y, 0.5, kind="asymmetric", mapping={0: 1, 1: 0}, random_state=0
    ... )
    >>> y_noisy[flipped].tolist(), int(flipped[y == 2].sum())
    ([1, 1, 0, 0], 0)
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    _check_rate(noise_rate)
    if kind not in ("symmetric", "asymmetric"):
        raise ValueError(f"kind must be 'symmetric' or 'asymmetric', got {kind!r}")
    if kind == "symmetric" and mapping is not None:
        raise ValueError(
            "mapping sets where flipped labels go, which only kind='asymmetric' uses; "
            "got kind='symmetric' with a mapping"
        )
    classes, codes = np.unique(y, return_inverse=True)
    codes = codes.reshape(-1)
    n_flip = int(round(noise_rate * y.shape[0]))
    if classes.size < 2 and (n_flip > 0 if kind == "symmetric" else noise_rate > 0):
        raise ValueError(
            f"flipping labels needs at least 2 classes, got only {classes.tolist()}; "
            "use noise_rate=0 or data with more classes"
        )
    flipped = np.zeros(y.shape[0], dtype=bool)
    y_noisy = y.copy()
    rng = np.random.default_rng(random_state)
    if kind == "asymmetric":
        targets = _mapping_targets(classes, mapping)
        for code in np.flatnonzero(targets != np.arange(classes.size)):
            members = np.flatnonzero(codes == code)
            chosen = rng.choice(members, size=int(round(noise_rate * members.size)), replace=False)
            y_noisy[chosen] = classes[targets[code]]
            flipped[chosen] = True
        return y_noisy, flipped
    if n_flip == 0:
        return y_noisy, flipped
    chosen = rng.choice(y.shape[0], size=n_flip, replace=False)
    # Draw among the n_classes - 1 other codes, then skip over the sample's own code.
    other = rng.integers(0, classes.size - 1, size=n_flip)
    other += other >= codes[chosen]
    y_noisy[chosen] = classes[other]
    flipped[chosen] = True
    return y_noisy, flipped


def make_imbalanced(X, y, *, imbalance_ratio=10.0, kind="exponential", random_state=None):
    """Subsample the classes of a data set to a long-tailed class distribution.

    Pruning methods often behave differently on rare classes; this turns a
    balanced benchmark into an imbalanced one. With ``n_max`` the size of the
    smallest class of ``y`` and the classes in sorted order ``c = 0 ... C - 1``,
    class ``c`` keeps a random subset (without replacement) of

    ``"exponential"``
        ``round(n_max * imbalance_ratio ** (-c / (C - 1)))`` samples: sizes
        fall geometrically from ``n_max`` for the first class to
        ``n_max / imbalance_ratio`` for the last;
    ``"step"``
        ``n_max`` samples for the first ``C - C // 2`` classes and
        ``round(n_max / imbalance_ratio)`` for the last ``C // 2``.

    The largest class is thus ``imbalance_ratio`` times the smallest (up to
    rounding). Relabel the classes to choose which ones become rare.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Inputs; a DataFrame is indexed by position.
    y : array-like of shape (n_samples,)
        Class labels, at least 2 classes.
    imbalance_ratio : float, default=10.0
        Size of the largest class over the size of the smallest, from 1
        (every class keeps ``n_max`` samples) to ``n_max`` (the rarest keeps 1).
    kind : {"exponential", "step"}, default="exponential"
        Profile of the class sizes.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the draw.

    Returns
    -------
    X_imbalanced : ndarray or DataFrame
        The kept rows of ``X``, in their original order.
    y_imbalanced : ndarray of shape (n_kept,)
        Their labels.
    kept : ndarray of int of shape (n_kept,)
        Sorted indices of the kept rows: ``X_imbalanced`` is ``X[kept]``.

    See Also
    --------
    add_label_noise : flip a fraction of the labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.datasets import make_imbalanced
    >>> X, y = np.zeros((300, 2)), np.repeat([0, 1, 2], 100)
    >>> X_imb, y_imb, kept = make_imbalanced(X, y, imbalance_ratio=10, random_state=0)
    >>> np.bincount(y_imb).tolist(), X_imb.shape
    ([100, 32, 10], (142, 2))
    >>> np.bincount(make_imbalanced(X, y, imbalance_ratio=4, kind="step")[1]).tolist()
    [100, 100, 25]
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    if len(X) != y.shape[0]:
        raise ValueError(f"X and y must have as many samples, got {len(X)} and {y.shape[0]}")
    if kind not in ("exponential", "step"):
        raise ValueError(f"kind must be 'exponential' or 'step', got {kind!r}")
    classes, codes = np.unique(y, return_inverse=True)
    codes = codes.reshape(-1)
    if classes.size < 2:
        raise ValueError(f"an imbalanced subset needs at least 2 classes, got {classes.tolist()}")
    n_max = int(np.bincount(codes).min())
    if (
        not isinstance(imbalance_ratio, Real)
        or isinstance(imbalance_ratio, bool)
        or not 1.0 <= imbalance_ratio <= n_max
    ):
        raise ValueError(
            f"imbalance_ratio must be a number from 1 to {n_max} (the size of the smallest "
            "class of y, so that the rarest class keeps at least one sample), "
            f"got {imbalance_ratio!r}"
        )
    n_classes = classes.size
    position = np.arange(n_classes)
    if kind == "exponential":
        shares = float(imbalance_ratio) ** (-position / (n_classes - 1))
    else:
        shares = np.where(position < n_classes - n_classes // 2, 1.0, 1.0 / imbalance_ratio)
    sizes = np.maximum(np.round(n_max * shares).astype(int), 1)
    rng = np.random.default_rng(random_state)
    kept = np.sort(
        np.concatenate(
            [
                rng.choice(np.flatnonzero(codes == code), size=size, replace=False)
                for code, size in enumerate(sizes)
            ]
        )
    )
    X_kept = X.iloc[kept] if hasattr(X, "iloc") else np.asarray(X)[kept]
    return X_kept, y[kept], kept
