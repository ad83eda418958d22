"""Offline loaders, the IDX reader, label-noise and class-imbalance injection."""

import gzip
import os
import random
import struct
import sys

import numpy as np
import pytest

from skprune.datasets import (
    add_label_noise,
    load_digits,
    load_fashion_mnist,
    load_mnist1d,
    make_imbalanced,
    read_idx,
)

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


def test_load_fashion_mnist_subset_leaving_out_fewer_samples_than_classes(fake_fashion):
    # 75 of 80 leaves out 5, too few to stratify over 10 classes.
    data = load_fashion_mnist(n_train=75, path=fake_fashion)
    assert data.X_train.shape == (75, 784) and (8 - np.bincount(data.y_train)).sum() == 5
    again = load_fashion_mnist(n_train=75, path=fake_fashion)
    np.testing.assert_array_equal(data.y_train, again.y_train)


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


# --- load_mnist1d -------------------------------------------------------------


def test_load_mnist1d_split():
    pytest.importorskip("mnist1d")
    X_train, X_test, y_train, y_test = load_mnist1d(n_samples=1000)
    assert X_train.shape == (800, 40) and X_test.shape == (200, 40)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    # The generator makes the same number of samples of every class, then shuffles them.
    np.testing.assert_array_equal(np.bincount(np.concatenate([y_train, y_test])), np.full(10, 100))
    assert 0 < np.bincount(y_test, minlength=10).min()
    X = np.concatenate([X_train, X_test])
    assert abs(X.mean()) < 1e-4 and abs(X.std() - 1) < 1e-4  # standardized over all samples


def test_load_mnist1d_defaults_are_the_generators_data_set():
    mnist1d_data = pytest.importorskip("mnist1d.data")
    data = load_mnist1d()
    reference = mnist1d_data.make_dataset(mnist1d_data.get_dataset_args())
    np.testing.assert_allclose(data.X_train, reference["x"], rtol=1e-6)
    np.testing.assert_allclose(data.X_test, reference["x_test"], rtol=1e-6)
    np.testing.assert_array_equal(data.y_train, reference["y"])
    np.testing.assert_array_equal(data.y_test, reference["y_test"])


def test_load_mnist1d_is_deterministic_and_leaves_global_rngs_alone():
    pytest.importorskip("mnist1d")
    # The generator seeds NumPy's and Python's global generators; the loader restores them.
    numpy_before, python_before = np.random.get_state(), random.getstate()  # noqa: NPY002
    a = load_mnist1d(n_samples=200, test_size=50, random_state=0)
    numpy_after = np.random.get_state()  # noqa: NPY002
    np.testing.assert_array_equal(numpy_after[1], numpy_before[1])
    assert numpy_after[2:] == numpy_before[2:] and random.getstate() == python_before
    b = load_mnist1d(n_samples=200, test_size=50, random_state=0)
    c = load_mnist1d(n_samples=200, test_size=50, random_state=1)
    assert a.X_train.shape == (150, 40) and a.X_test.shape == (50, 40)
    for part_a, part_b in zip(a, b, strict=True):
        np.testing.assert_array_equal(part_a, part_b)
    assert not np.allclose(a.X_train, c.X_train)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_samples": 1005}, "n_samples must be a positive multiple of 10"),
        ({"n_samples": 0}, "n_samples must be a positive multiple of 10"),
        ({"n_samples": 100.0}, "n_samples must be a positive multiple of 10"),
        ({"test_size": 0.0}, "test_size must be a float in"),
        ({"test_size": 1.0}, "test_size must be a float in"),
        ({"n_samples": 100, "test_size": 100}, "integer from 1 to n_samples - 1 = 99"),
        ({"random_state": -1}, "random_state must be an integer from 0 to 2"),
        ({"random_state": None}, "random_state must be an integer from 0 to 2"),
    ],
)
def test_load_mnist1d_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_mnist1d(**kwargs)


def test_load_mnist1d_without_the_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mnist1d", None)  # makes the import fail
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    with pytest.raises(ImportError, match=r"pip install 'skprune\[data\]'"):
        load_mnist1d(n_samples=100)


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


def test_add_label_noise_needs_the_asymmetric_kind_for_a_mapping():
    with pytest.raises(ValueError, match="only kind='asymmetric' uses"):
        add_label_noise([0, 1, 0, 1], 0.5, mapping={0: 1})
    with pytest.raises(ValueError, match="kind must be 'symmetric' or 'asymmetric', got 'pair'"):
        add_label_noise([0, 1, 0, 1], 0.5, kind="pair")


# --- add_label_noise(kind="asymmetric") ---------------------------------------


@pytest.mark.parametrize("noise_rate", [0.0, 0.1, 0.25, 0.4, 0.9])
def test_asymmetric_noise_flips_the_rate_of_every_class_to_the_next(noise_rate):
    y = np.repeat(np.arange(4), [40, 30, 20, 10])
    y_noisy, flipped = add_label_noise(y, noise_rate, kind="asymmetric", random_state=0)
    np.testing.assert_array_equal(flipped, y_noisy != y)
    for c, n_c in enumerate([40, 30, 20, 10]):
        in_class = y == c
        assert flipped[in_class].sum() == round(noise_rate * n_c)
        assert np.all(y_noisy[in_class & flipped] == (c + 1) % 4)


def test_asymmetric_noise_follows_the_mapping():
    y = np.array(["cat", "dog", "truck", "car", "bird"] * 20)
    mapping = {"cat": "dog", "dog": "cat", "truck": "car"}
    y_noisy, flipped = add_label_noise(y, 0.3, kind="asymmetric", mapping=mapping, random_state=0)
    assert y_noisy.dtype == y.dtype and flipped.sum() == 3 * 6
    for source, target in mapping.items():
        assert flipped[y == source].sum() == 6
        assert set(y_noisy[(y == source) & flipped]) == {target}
    assert not flipped[np.isin(y, ["car", "bird"])].any()  # unmapped classes keep their labels


def test_asymmetric_noise_is_deterministic():
    y = np.repeat(np.arange(3), 30)
    a, mask_a = add_label_noise(y, 0.2, kind="asymmetric", random_state=0)
    b, mask_b = add_label_noise(y, 0.2, kind="asymmetric", random_state=0)
    _, mask_c = add_label_noise(y, 0.2, kind="asymmetric", random_state=1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(mask_a, mask_b)
    assert not np.array_equal(mask_a, mask_c)


@pytest.mark.parametrize(
    "mapping, error, message",
    [
        ({0: 5}, ValueError, r"not classes of y: \[5\]; the classes of y are \[0, 1, 2\]"),
        ({7: 0}, ValueError, r"not classes of y: \[7\]"),
        ({1: 1}, ValueError, "sends class 1 to itself"),
        ([(0, 1)], TypeError, "mapping must be None or a dict"),
    ],
)
def test_asymmetric_noise_rejects_bad_mappings(mapping, error, message):
    with pytest.raises(error, match=message):
        add_label_noise([0, 1, 2, 0, 1, 2], 0.5, kind="asymmetric", mapping=mapping)


def test_asymmetric_noise_needs_two_classes():
    with pytest.raises(ValueError, match="at least 2 classes"):
        add_label_noise([3, 3, 3, 3], 0.5, kind="asymmetric")
    y_noisy, flipped = add_label_noise([3, 3, 3, 3], 0.0, kind="asymmetric")
    assert not flipped.any() and y_noisy.tolist() == [3, 3, 3, 3]


def test_asymmetric_noise_rejects_bad_rates():
    with pytest.raises(ValueError, match=r"noise_rate must be in \[0, 1\)"):
        add_label_noise([0, 1, 0, 1], 1.0, kind="asymmetric")


# --- make_imbalanced ----------------------------------------------------------


@pytest.fixture
def balanced():
    """Five classes of 60 samples, plus a sixth of 80 (the smallest class sets n_max = 60)."""
    y = np.repeat(np.arange(6), [60, 60, 60, 60, 60, 80])
    X = np.arange(y.size * 2, dtype=np.float32).reshape(-1, 2)
    return X, y


@pytest.mark.parametrize("ratio", [1, 2.5, 10, 60])
def test_make_imbalanced_exponential_profile(balanced, ratio):
    X, y = balanced
    X_imb, y_imb, kept = make_imbalanced(X, y, imbalance_ratio=ratio, random_state=0)
    expected = [round(60 * ratio ** (-c / 5)) for c in range(6)]
    np.testing.assert_array_equal(np.bincount(y_imb), expected)
    assert expected[0] == 60 and expected[-1] == round(60 / ratio)
    np.testing.assert_array_equal(X_imb, X[kept])
    np.testing.assert_array_equal(y_imb, y[kept])
    assert np.all(np.diff(kept) > 0)  # sorted, no repeats


@pytest.mark.parametrize("n_classes, expected", [(6, [60] * 3 + [6] * 3), (5, [60] * 3 + [6] * 2)])
def test_make_imbalanced_step_profile(n_classes, expected):
    y = np.repeat(np.arange(n_classes), 60)
    _, y_imb, _ = make_imbalanced(np.zeros((y.size, 1)), y, imbalance_ratio=10, kind="step")
    np.testing.assert_array_equal(np.bincount(y_imb), expected)


def test_make_imbalanced_is_deterministic(balanced):
    X, y = balanced
    _, _, a = make_imbalanced(X, y, random_state=0)
    _, _, b = make_imbalanced(X, y, random_state=0)
    _, _, c = make_imbalanced(X, y, random_state=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_make_imbalanced_keeps_label_values_and_dataframes():
    pd = pytest.importorskip("pandas")
    y = np.array(["b", "a", "c"] * 20)
    X = pd.DataFrame({"x": np.arange(60)}, index=np.arange(60) * 10)
    X_imb, y_imb, kept = make_imbalanced(X, y, imbalance_ratio=4, random_state=0)
    counts = dict(zip(*np.unique(y_imb, return_counts=True), strict=True))
    assert counts == {"a": 20, "b": 10, "c": 5}  # sorted label order: "a" is the head
    assert list(X_imb["x"]) == kept.tolist()


@pytest.mark.parametrize("ratio", [0.5, 0, 61, float("nan"), "10", True])
def test_make_imbalanced_rejects_bad_ratios(balanced, ratio):
    X, y = balanced
    with pytest.raises(ValueError, match="imbalance_ratio must be a number from 1 to 60"):
        make_imbalanced(X, y, imbalance_ratio=ratio)


def test_make_imbalanced_rejects_bad_inputs(balanced):
    X, y = balanced
    with pytest.raises(ValueError, match="kind must be 'exponential' or 'step', got 'linear'"):
        make_imbalanced(X, y, kind="linear")
    with pytest.raises(ValueError, match="as many samples, got 379 and 380"):
        make_imbalanced(X[1:], y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        make_imbalanced(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="y must be 1-D"):
        make_imbalanced(X, y.reshape(-1, 2))
