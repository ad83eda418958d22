"""Offline loaders, the IDX reader and label-noise injection."""

import gzip
import os
import struct

import numpy as np
import pytest

from skprune.datasets import add_label_noise, load_digits, load_fashion_mnist, read_idx

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
IDX_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}


def write_idx(path, array, *, compress=True):
    """Write ``array`` in the IDX format (big-endian), gzipped unless ``compress=False``."""
    array = np.asarray(array)
    kind = array.dtype.str[1:]
    header = bytes([0, 0, IDX_CODES[kind], array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    with open(path, "wb") as f:
        f.write(gzip.compress(payload) if compress else payload)
    return path


# --- load_digits --------------------------------------------------------------


def test_load_digits_split():
    X_train, X_test, y_train, y_test = load_digits()
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    # Stratified: each class has its share of the test set, give or take one sample.
    test_share = np.bincount(y_test) / (np.bincount(y_train) + np.bincount(y_test))
    assert np.all(np.abs(test_share - 0.25) < 0.02)


def test_load_digits_options():
    assert load_digits(images=True).X_train.shape == (1347, 8, 8)
    assert load_digits(scale=False).X_train.max() == 16.0
    assert load_digits(test_size=100).X_test.shape == (100, 64)


def test_load_digits_is_deterministic():
    a, b, c = load_digits(), load_digits(), load_digits(random_state=1)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.y_train, c.y_train)


# --- read_idx -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("shape", [(5,), (2, 3, 4)])
@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trip(tmp_path, dtype, shape, compress):
    rng = np.random.default_rng(0)
    array = rng.uniform(-100, 100, size=shape) if dtype[0] != "u" else rng.uniform(0, 255, shape)
    array = array.astype(dtype)
    read = read_idx(write_idx(tmp_path / "a.idx.gz", array, compress=compress))
    np.testing.assert_array_equal(read, array)
    assert read.dtype == array.dtype and read.dtype.isnative
    read[...] = 0  # a writeable copy, not a view of the file's bytes


def test_read_idx_accepts_file_objects(tmp_path):
    path = write_idx(tmp_path / "a.gz", np.arange(6, dtype=np.uint8).reshape(2, 3))
    with open(path, "rb") as f:
        np.testing.assert_array_equal(read_idx(f), [[0, 1, 2], [3, 4, 5]])


def test_read_idx_rejects_other_files(tmp_path):
    path = tmp_path / "not.idx"
    path.write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)


def test_read_idx_rejects_truncated_files(tmp_path):
    path = write_idx(tmp_path / "a.idx", np.zeros((4, 4), np.uint8), compress=False)
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_idx(path)


# --- load_fashion_mnist -------------------------------------------------------


@pytest.fixture
def fake_fashion(tmp_path):
    """A Fashion-MNIST folder in miniature: 10 classes, 8 training and 3 test images each."""
    rng = np.random.default_rng(0)
    for prefix, per_class in (("train", 8), ("t10k", 3)):
        y = np.repeat(np.arange(10, dtype=np.uint8), per_class)
        X = rng.integers(0, 256, size=(y.size, 28, 28)).astype(np.uint8)
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", X)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", rng.permutation(y))
    return tmp_path


def test_load_fashion_mnist_reads_the_idx_files(fake_fashion):
    X_train, X_test, y_train, y_test = load_fashion_mnist(path=fake_fashion)
    assert X_train.shape == (80, 784) and X_test.shape == (30, 784)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 <= X_train.min() and X_train.max() <= 1.0
    raw = read_idx(fake_fashion / "train-images-idx3-ubyte.gz")
    np.testing.assert_allclose(X_train, raw.reshape(80, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_test, read_idx(fake_fashion / "t10k-labels-idx1-ubyte.gz"))


def test_load_fashion_mnist_stratified_subset(fake_fashion):
    data = load_fashion_mnist(n_train=40, n_test=10, images=True, path=fake_fashion)
    assert data.X_train.shape == (40, 28, 28) and data.X_test.shape == (10, 28, 28)
    np.testing.assert_array_equal(np.bincount(data.y_train), np.full(10, 4))
    np.testing.assert_array_equal(np.bincount(data.y_test), np.ones(10))
    again = load_fashion_mnist(n_train=40, n_test=10, images=True, path=fake_fashion)
    np.testing.assert_array_equal(data.X_train, again.X_train)
    other = load_fashion_mnist(n_train=40, n_test=10, random_state=1, path=fake_fashion)
    assert not np.array_equal(data.X_train.reshape(40, -1), other.X_train)


@pytest.mark.parametrize("n_train", [0, 9, 81, 2.5, True])
def test_load_fashion_mnist_rejects_bad_subset_sizes(fake_fashion, n_train):
    with pytest.raises(ValueError, match="n_train must be None or an integer from 10"):
        load_fashion_mnist(n_train=n_train, path=fake_fashion)


def test_load_fashion_mnist_missing_folder_says_how_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(path=tmp_path / "nowhere")


def test_load_fashion_mnist_names_the_missing_file(fake_fashion):
    os.remove(fake_fashion / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError, match="lacks t10k-labels-idx1-ubyte.gz"):
        load_fashion_mnist(path=fake_fashion)


def test_load_fashion_mnist_detects_mismatched_files(fake_fashion):
    write_idx(fake_fashion / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match="differ in length"):
        load_fashion_mnist(path=fake_fashion)


@pytest.mark.skipif(not os.path.isdir(FASHION_MNIST), reason="dataset-fashion-mnist not installed")
def test_load_fashion_mnist_real_subset():
    X_train, X_test, y_train, y_test = load_fashion_mnist(n_train=500, n_test=100)
    assert X_train.shape == (500, 784) and X_test.shape == (100, 784)
    np.testing.assert_array_equal(np.bincount(y_train), np.full(10, 50))
    np.testing.assert_array_equal(np.bincount(y_test), np.full(10, 10))
    assert X_train.dtype == np.float32 and 0.0 <= X_train.min() and X_train.max() <= 1.0


# --- add_label_noise ----------------------------------------------------------


@pytest.mark.parametrize("noise_rate", [0.0, 0.01, 0.1, 0.33, 0.5, 0.99])
def test_add_label_noise_flips_exactly_the_rate(noise_rate):
    y = np.repeat(np.arange(5), 41)
    y_noisy, flipped = add_label_noise(y, noise_rate, random_state=0)
    assert flipped.sum() == round(noise_rate * y.size)
    np.testing.assert_array_equal(flipped, y_noisy != y)  # never flipped to the same label
    assert set(np.unique(y_noisy)) <= set(np.unique(y))


def test_add_label_noise_draws_other_classes_uniformly():
    y = np.repeat(np.arange(4), 10_000)
    y_noisy, flipped = add_label_noise(y, 0.6, random_state=0)
    from_zero = y_noisy[flipped & (y == 0)]
    shares = np.bincount(from_zero, minlength=4) / from_zero.size
    np.testing.assert_allclose(shares, [0, 1 / 3, 1 / 3, 1 / 3], atol=0.03)


def test_add_label_noise_is_deterministic_and_leaves_y_alone():
    y = np.repeat(np.arange(3), 20)
    original = y.copy()
    a, mask_a = add_label_noise(y, 0.3, random_state=0)
    b, mask_b = add_label_noise(y, 0.3, random_state=0)
    c, _ = add_label_noise(y, 0.3, random_state=1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(mask_a, mask_b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(y, original)


def test_add_label_noise_keeps_label_values_and_dtype():
    y = np.array(["cat", "dog", "bird"] * 10)
    y_noisy, flipped = add_label_noise(y, 0.5, random_state=0)
    assert y_noisy.dtype == y.dtype and flipped.sum() == 15
    assert set(y_noisy) <= {"cat", "dog", "bird"}


@pytest.mark.parametrize("noise_rate", [1.0, -0.1, 1.5, float("nan"), "0.1", True])
def test_add_label_noise_rejects_bad_rates(noise_rate):
    with pytest.raises(ValueError, match=r"noise_rate must be in \[0, 1\)"):
        add_label_noise([0, 1, 0, 1], noise_rate)


def test_add_label_noise_needs_two_classes():
    with pytest.raises(ValueError, match="at least 2 classes"):
        add_label_noise([3, 3, 3, 3], 0.5)
    y_noisy, flipped = add_label_noise([3, 3, 3, 3], 0.0)
    assert not flipped.any()


def test_add_label_noise_needs_1d_labels():
    with pytest.raises(ValueError, match="y must be 1-D"):
        add_label_noise(np.zeros((4, 2)), 0.5)
