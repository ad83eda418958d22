"""Offline benchmark data and label-noise injection.

Everything here works without a network connection: scikit-learn's digits are
bundled with scikit-learn, and Fashion-MNIST is read from the files that
Debian's ``dataset-fashion-mnist`` package installs. Loaders return a
:class:`Split` named tuple, so they unpack like
:func:`sklearn.model_selection.train_test_split`::

    X_train, X_test, y_train, y_test = load_digits()

Inputs are float32 (what the networks train on), labels int64 (what
:class:`torch.nn.CrossEntropyLoss` expects).
"""

from __future__ import annotations

import gzip
import os
from collections import namedtuple
from numbers import Integral, Real

import numpy as np
from sklearn import datasets as _sk_datasets
from sklearn.model_selection import train_test_split

__all__ = [
    "Split",
    "FASHION_MNIST_CLASSES",
    "load_digits",
    "load_fashion_mnist",
    "read_idx",
    "add_label_noise",
]

Split = namedtuple("Split", ["X_train", "X_test", "y_train", "y_test"])
Split.__doc__ = """Train/test split returned by the loaders.

X_train, X_test : ndarray of float32
    Inputs, ``(n, n_features)`` or ``(n, height, width)`` with ``images=True``.
y_train, y_test : ndarray of int64
    Class labels.
"""

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


def add_label_noise(y, noise_rate, *, random_state=None):
    """Flip a fraction of the labels, each to a class drawn uniformly from the others.

    Symmetric label noise, the usual way to test whether a pruning method
    finds mislabeled samples: exactly ``round(noise_rate * n_samples)``
    samples, drawn without replacement, get a label different from their own,
    drawn uniformly from the other classes present in ``y``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels (any values, e.g. strings).
    noise_rate : float in [0, 1)
        Fraction of labels flipped.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the draw.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        A copy of ``y`` with the flipped labels, in ``y``'s dtype.
    flipped : ndarray of bool of shape (n_samples,)
        True for the samples whose label was changed.

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.datasets import add_label_noise
    >>> y = np.repeat([0, 1, 2], 4)
    >>> y_noisy, flipped = add_label_noise(y, 0.25, random_state=0)
    >>> int(flipped.sum()), bool(np.all(y_noisy[flipped] != y[flipped]))
    (3, True)
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    if (
        not isinstance(noise_rate, Real)
        or isinstance(noise_rate, bool)
        or not 0.0 <= noise_rate < 1.0
    ):
        raise ValueError(f"noise_rate must be in [0, 1), got {noise_rate!r}")
    n_flip = int(round(noise_rate * y.shape[0]))
    flipped = np.zeros(y.shape[0], dtype=bool)
    if n_flip == 0:
        return y.copy(), flipped
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(
            f"flipping labels needs at least 2 classes, got only {classes.tolist()}; "
            "use noise_rate=0 or data with more classes"
        )
    rng = np.random.default_rng(random_state)
    chosen = rng.choice(y.shape[0], size=n_flip, replace=False)
    # Draw among the n_classes - 1 other codes, then skip over the sample's own code.
    other = rng.integers(0, classes.size - 1, size=n_flip)
    other += other >= codes[chosen]
    y_noisy = y.copy()
    y_noisy[chosen] = classes[other]
    flipped[chosen] = True
    return y_noisy, flipped
