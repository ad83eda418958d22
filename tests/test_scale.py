"""Scaling out and large data: joblib backends, memory maps, datasets, float16 records, pickling."""

import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
import torch
from skorch.dataset import Dataset as SkorchDataset
from skorch.helper import SliceDataset
from torch.utils.data import DataLoader, Dataset, TensorDataset

from skprune import CoresetSelector, DiffInScorer, SIMScorer, TrainingDynamicsScorer, UnseenScorer
from skprune.nets import batch_loader, make_default_net, seeded
from skprune.scorers import dynamics, sim

SIM_PARAMS = dict(n_models=2, max_epochs=1, random_state=0, device="cpu")
UNSEEN_PARAMS = dict(metric="aum", n_subsets=2, max_epochs=2, random_state=0, device="cpu")


# --- joblib backends ------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_client():
    """A dask.distributed cluster of 2 worker processes with one thread each."""
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # port and resource notices of a local cluster
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.mark.parametrize(
    ("scorer_class", "params"),
    [(SIMScorer, SIM_PARAMS), (UnseenScorer, UNSEEN_PARAMS)],
    ids=["sim", "unseen"],
)
def test_dask_cluster_gives_the_scores_of_n_jobs_1(dask_client, scorer_class, params, small_data):
    from distributed import get_task_stream

    X, y = small_data
    serial = scorer_class(**params, n_jobs=1).fit(X, y).scores_
    with get_task_stream(dask_client) as stream, joblib.parallel_config(backend="dask"):
        scores = scorer_class(**params, n_jobs=2).fit(X, y).scores_
    # The models were trained by the cluster's worker processes, not locally.
    workers = {task["worker"] for task in stream.data}
    assert len(stream.data) >= 2
    assert workers <= set(dask_client.scheduler_info()["workers"])
    np.testing.assert_array_equal(scores, serial)


def test_threading_backend_stays_reproducible(small_data):
    # torch's RNG is global to a process: without serialized seeding, two threads
    # training at once draw from each other's streams.
    X, y = small_data
    X, y = np.tile(X, (5, 1)), np.tile(y, 5)
    params = {**SIM_PARAMS, "max_epochs": 3}
    serial = SIMScorer(**params, n_jobs=1).fit(X, y).scores_
    with joblib.parallel_config(backend="threading"):
        threaded = SIMScorer(**params, n_jobs=2).fit(X, y).scores_
    np.testing.assert_array_equal(threaded, serial)


# --- memory-mapped input -----------------------------------------------------------


@pytest.fixture(scope="module")
def sim_scores(small_data):
    X, y = small_data
    return SIMScorer(**SIM_PARAMS).fit(X, y).scores_


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_memmap_gives_the_scores_of_the_array(dtype, small_data, sim_scores, tmp_path):
    X, y = small_data
    path = tmp_path / "X.npy"
    np.save(path, X.astype(dtype))
    X_map = np.load(path, mmap_mode="r")
    np.testing.assert_array_equal(SIMScorer(**SIM_PARAMS).fit(X_map, y).scores_, sim_scores)


def test_float32_memmap_reaches_the_scorer_uncopied(small_data, tmp_path, monkeypatch):
    X, y = small_data
    np.save(tmp_path / "X.npy", X)
    X_map = np.load(tmp_path / "X.npy", mmap_mode="r")
    seen = []
    original = SIMScorer._fit

    def spy(self, X, y):
        seen.append(X)
        return original(self, X, y)

    monkeypatch.setattr(SIMScorer, "_fit", spy)
    SIMScorer(**SIM_PARAMS).fit(X_map, y)
    assert np.shares_memory(seen[0], X_map)


def test_memmap_with_process_workers(small_data, sim_scores, tmp_path):
    # joblib hands memory-mapped arrays to loky workers by file name.
    X, y = small_data
    np.save(tmp_path / "X.npy", X)
    X_map = np.load(tmp_path / "X.npy", mmap_mode="r")
    scores = SIMScorer(**SIM_PARAMS, n_jobs=2).fit(X_map, y).scores_
    np.testing.assert_array_equal(scores, sim_scores)


# --- batch-wise data loading and reductions -------------------------------------


def test_batch_loader_trains_like_a_plain_dataloader(small_data):
    X, y = small_data
    params = {}
    for iterator in (None, DataLoader):
        net = make_default_net(X, 4, max_epochs=2, device="cpu")
        if iterator is not None:
            net.set_params(iterator_train=iterator, iterator_valid=iterator)
        with seeded(0):
            net.fit(X, y)
        params[iterator] = net.module_.state_dict()
    for name, value in params[None].items():
        torch.testing.assert_close(value, params[DataLoader][name], rtol=0, atol=0)


# The plain DataLoader's per-row reads of a read-only memmap are not writable.
@pytest.mark.filterwarnings("ignore:The given NumPy array is not writable")
@pytest.mark.parametrize("container", ["ndarray", "memmap", "tensor"])
def test_batch_loader_draws_the_batches_of_a_plain_dataloader(container, tmp_path):
    X = np.arange(70, dtype=np.float32).reshape(35, 2)
    if container == "memmap":
        np.save(tmp_path / "X.npy", X)
        X = np.load(tmp_path / "X.npy", mmap_mode="r")
    elif container == "tensor":
        X = torch.from_numpy(X)
    data = SkorchDataset(X, np.arange(35))
    for shuffle in (False, True):
        batches = {}
        for name, loader in (("ours", batch_loader), ("plain", DataLoader)):
            generator = torch.Generator().manual_seed(0)
            batches[name] = list(loader(data, batch_size=8, shuffle=shuffle, generator=generator))
        assert len(batches["ours"]) == len(batches["plain"]) == 5
        for (X_ours, y_ours), (X_plain, y_plain) in zip(
            batches["ours"], batches["plain"], strict=True
        ):
            torch.testing.assert_close(torch.as_tensor(X_ours), X_plain, rtol=0, atol=0)
            torch.testing.assert_close(torch.as_tensor(y_ours), y_plain, rtol=0, atol=0)


def test_default_net_infers_in_large_batches():
    X = np.zeros((1100, 3), dtype=np.float32)
    net = make_default_net(X, 2, batch_size=64, device="cpu").initialize()
    assert [len(out) for out in net.forward_iter(X)] == [512, 512, 76]
    assert make_default_net(X, 2, batch_size=1000).iterator_valid__batch_size == 1000


@pytest.mark.parametrize("metric", ["aum", "forgetting"])
def test_chunked_trajectories_match_whole_arrays(metric, small_data, monkeypatch):
    X, y = small_data
    params = dict(n_models=2, max_epochs=2, random_state=0, device="cpu")
    whole = TrainingDynamicsScorer(metric, **params).fit(X, y)
    monkeypatch.setattr(dynamics, "_CHUNK_ROWS", 7)
    chunked = TrainingDynamicsScorer(metric, **params).fit(X, y)
    np.testing.assert_array_equal(chunked.scores_, whole.scores_)
    np.testing.assert_array_equal(chunked.transform(X[:50]), whole.transform(X[:50]))


def test_chunked_sim_matches_whole_arrays(small_data, sim_scores, monkeypatch):
    X, y = small_data
    monkeypatch.setattr(sim, "_CHUNK_ROWS", 7)
    np.testing.assert_array_equal(SIMScorer(**SIM_PARAMS).fit(X, y).scores_, sim_scores)


def test_float16_records_halve_memory_and_keep_the_scores(small_data):
    X, y = small_data
    params = dict(n_models=1, max_epochs=3, random_state=0, device="cpu")
    full = TrainingDynamicsScorer("aum", **params).fit(X, y)
    half = TrainingDynamicsScorer("aum", record_dtype="float16", **params).fit(X, y)
    records = dict(half.nets_[0].callbacks_)["skprune_recorder"].logits_
    assert all(r.dtype == np.float16 for r in records)
    # Same training; only the stored logits are rounded (float16: ~3 digits).
    scale = np.abs(full.scores_).max()
    np.testing.assert_allclose(half.scores_, full.scores_, atol=2e-3 * scale)
    assert np.corrcoef(half.scores_, full.scores_)[0, 1] > 0.999


# --- torch Dataset input -------------------------------------------------------------


class _InputsOnly(Dataset):
    """A dataset whose items are inputs only, as float64 numpy rows, indexed by plain ints.

    Like a dataset keyed by a dict or a JSON index, it refuses numpy integers.
    """

    def __init__(self, X):
        self.X = X.astype(np.float64)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        if not isinstance(i, int):
            raise TypeError(f"index must be an int, got {type(i).__name__}")
        return self.X[i]


def _datasets(X, y):
    pairs = TensorDataset(torch.from_numpy(X), torch.from_numpy(y + 10))
    return {
        "pairs": pairs,  # its own targets (y + 10) are replaced by the encoded labels
        "inputs": _InputsOnly(X),
        "slice": SliceDataset(pairs, idx=0),
    }


@pytest.mark.parametrize("kind", ["pairs", "inputs", "slice"])
def test_sim_on_a_dataset_equals_the_array(kind, small_data, sim_scores):
    X, y = small_data
    data = _datasets(X, y)[kind]
    scorer = SIMScorer(**SIM_PARAMS).fit(data, y)
    np.testing.assert_array_equal(scorer.scores_, sim_scores)
    assert scorer.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(scorer.transform(data), scorer.transform(X))
    np.testing.assert_array_equal(scorer.score_samples(data, y), scorer.score_samples(X, y))


@pytest.mark.parametrize("metric", ["aum", "grand"])
def test_training_dynamics_on_a_dataset_equals_the_array(metric, small_data):
    X, y = small_data
    labels = np.array(["a", "b", "c", "d"])[y]
    params = dict(n_models=1, max_epochs=2, random_state=0, device="cpu")
    on_array = TrainingDynamicsScorer(metric, **params).fit(X, labels)
    on_data = TrainingDynamicsScorer(metric, **params).fit(_datasets(X, y)["pairs"], labels)
    np.testing.assert_array_equal(on_data.scores_, on_array.scores_)
    np.testing.assert_array_equal(on_data.classes_, on_array.classes_)


@pytest.mark.parametrize("kind", ["pairs", "inputs"])
@pytest.mark.parametrize("metric", ["margin", "aum"])
def test_unseen_on_a_dataset_equals_the_array(metric, kind, small_data):
    # The subsets are lazy Subset views of the dataset, never arrays.
    X, y = small_data
    params = {**UNSEEN_PARAMS, "metric": metric}
    on_array = UnseenScorer(**params).fit(X, y)
    data = _datasets(X, y)[kind]
    on_data = UnseenScorer(**params).fit(data, y)
    np.testing.assert_array_equal(on_data.scores_, on_array.scores_)
    np.testing.assert_array_equal(on_data.subsets_, on_array.subsets_)
    np.testing.assert_array_equal(on_data.transform(data), on_array.transform(X))


@pytest.mark.parametrize(
    "params",
    [
        dict(target="validation"),
        dict(target="self", variant="tracin"),
        dict(target="self", hessian_batch_size=16),
    ],
)
def test_diffin_on_a_dataset_equals_the_array(params, small_data):
    X, y = small_data
    params = dict(n_checkpoints=2, max_epochs=2, random_state=0, device="cpu", **params)
    on_array = DiffInScorer(**params).fit(X, y)
    data = _datasets(X, y)["pairs"]
    on_data = DiffInScorer(**params).fit(data, y)
    np.testing.assert_array_equal(on_data.components_, on_array.components_)
    np.testing.assert_array_equal(on_data.hessian_indices_, on_array.hessian_indices_)
    np.testing.assert_allclose(
        on_data.transform(_datasets(X, y)["slice"]), on_array.transform(X), rtol=1e-6
    )


def test_diffin_validation_data_may_be_a_dataset(small_data):
    X, y = small_data
    X_val, y_val = X[:40] + 0.1, y[:40]
    params = dict(n_checkpoints=2, max_epochs=2, random_state=0, device="cpu")
    on_array = DiffInScorer(validation_data=(X_val, y_val), **params).fit(X, y)
    val_data = _InputsOnly(X_val)
    on_data = DiffInScorer(validation_data=(val_data, y_val), **params).fit(
        _datasets(X, y)["inputs"], y
    )
    np.testing.assert_allclose(on_data.scores_, on_array.scores_, rtol=1e-6)


class _ArrayOnlyScorer(SIMScorer):
    _supports_dataset = False


def test_dataset_errors(small_data):
    X, y = small_data
    data = _datasets(X, y)["pairs"]
    with pytest.raises(TypeError, match="_ArrayOnlyScorer needs array input"):
        _ArrayOnlyScorer(max_epochs=1).fit(data, y)
    with pytest.raises(ValueError, match="needs the labels as y"):
        SIMScorer(max_epochs=1).fit(data, None)
    with pytest.raises(ValueError, match="different lengths"):
        SIMScorer(max_epochs=1).fit(data, y[:-1])
    fitted = SIMScorer(**SIM_PARAMS).fit(X, y)
    with pytest.raises(ValueError, match="expecting 8 features"):
        fitted.transform(TensorDataset(torch.zeros(5, 3)))


# --- pickling and devices ----------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_objects(small_data):
    """A fitted scorer of each kind and a fitted selector, on the CPU."""
    X, y = small_data
    return {
        "sim": SIMScorer(**SIM_PARAMS).fit(X, y),
        "aum": TrainingDynamicsScorer("aum", max_epochs=2, random_state=0, device="cpu").fit(X, y),
        "unseen": UnseenScorer(**UNSEEN_PARAMS).fit(X, y),
        "selector": CoresetSelector(SIMScorer(**SIM_PARAMS), pruning_ratio=0.5, random_state=0).fit(
            X, y
        ),
    }


def _tensors(obj, seen=None):
    """All torch tensors reachable from ``obj`` through attributes, dicts and lists."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, torch.nn.Module):
        return list(obj.state_dict().values())
    if isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, list | tuple):
        children = list(obj)
    elif hasattr(obj, "__dict__") and type(obj).__module__.split(".")[0] in ("skprune", "skorch"):
        children = list(vars(obj).values())
    else:
        return []
    return [t for child in children for t in _tensors(child, seen)]


@pytest.mark.parametrize("name", ["sim", "aum", "unseen", "selector"])
@pytest.mark.parametrize("how", ["pickle", "torch"])
def test_fitted_objects_round_trip_on_the_cpu(name, how, fitted_objects, small_data, tmp_path):
    X, _ = small_data
    fitted = fitted_objects[name]
    if how == "pickle":
        loaded = pickle.loads(pickle.dumps(fitted))
    else:
        torch.save(fitted, tmp_path / "fitted.pt")
        loaded = torch.load(tmp_path / "fitted.pt", map_location="cpu", weights_only=False)
    assert isinstance(loaded.scores_, np.ndarray)
    np.testing.assert_array_equal(loaded.scores_, fitted.scores_)
    assert all(t.device.type == "cpu" for t in _tensors(loaded))
    if name == "selector":
        loaded, fitted = loaded.scorers_[0][1], fitted.scorers_[0][1]
    np.testing.assert_array_equal(loaded.transform(X[:20]), fitted.transform(X[:20]))


@pytest.mark.parametrize("name", ["sim", "aum"])
def test_nets_pickled_for_cuda_load_on_a_cpu_machine(name, fitted_objects, small_data):
    # Without a GPU, mark the nets as CUDA nets (their tensors stay on the CPU):
    # unpickling goes through skorch's fallback to the CPU, as on a machine
    # without CUDA.
    if torch.cuda.is_available():
        pytest.skip("simulates a machine without CUDA")
    X, _ = small_data
    fitted = pickle.loads(pickle.dumps(fitted_objects[name]))
    for net in fitted.nets_:
        net.device = "cuda"
    with pytest.warns(UserWarning) as record:
        loaded = pickle.loads(pickle.dumps(fitted))
    assert any("is not available" in str(warning.message) for warning in record)
    # skorch sets the device to torch.device("cpu").
    assert all(str(net.device) == "cpu" for net in loaded.nets_)
    np.testing.assert_array_equal(loaded.transform(X[:20]), fitted_objects[name].transform(X[:20]))


def test_scorer_pickled_with_cuda_device_falls_back_to_cpu(small_data):
    if torch.cuda.is_available():
        pytest.skip("simulates a machine without CUDA")
    from skprune import TrainingDynamicsScorer

    X, y = small_data
    scorer = TrainingDynamicsScorer("el2n", max_epochs=1, random_state=0, device="cpu").fit(X, y)
    scorer.device = "cuda"
    with pytest.warns(UserWarning, match="device='cuda'.*setting device='cpu'"):
        loaded = pickle.loads(pickle.dumps(scorer))
    assert loaded.get_params()["device"] == "cpu"
    np.testing.assert_array_equal(loaded.fit(X, y).scores_, scorer.scores_)
    # Objects pickled for the CPU load silently and unchanged.
    assert pickle.loads(pickle.dumps(scorer.set_params(device="auto"))).device == "auto"


_LOAD_ON_CPU = textwrap.dedent(
    """
    import pickle, sys
    import numpy as np, torch
    assert not torch.cuda.is_available()
    with open(sys.argv[1], "rb") as f:
        scorer, X, expected = pickle.load(f)
    assert all(str(net.device) == "cpu" for net in scorer.nets_)
    np.testing.assert_allclose(scorer.transform(X), expected, rtol=1e-4, atol=1e-5)
    print("ok")
    """
)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", ["sim", "aum", "unseen"])
def test_scorer_fitted_on_cuda_loads_without_cuda(name, small_data, tmp_path):
    X, y = small_data
    scorer = {
        "sim": SIMScorer(n_models=2, max_epochs=1, random_state=0),
        "aum": TrainingDynamicsScorer("aum", max_epochs=2, random_state=0),
        "unseen": UnseenScorer(n_subsets=2, max_epochs=2, random_state=0),
    }[name].set_params(device="cuda")
    scorer.fit(X, y)
    assert all(str(net.device) == "cuda" for net in scorer.nets_)
    # Fitted state other than the nets' modules and optimizers is on the CPU.
    state = {key: value for key, value in vars(scorer).items() if key != "nets_"}
    state["callbacks"] = [net.callbacks_ for net in scorer.nets_]
    assert all(t.device.type == "cpu" for t in _tensors(state))
    path = tmp_path / "scorer.pkl"
    with open(path, "wb") as f:
        pickle.dump((scorer, X[:50], scorer.transform(X[:50])), f)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        [sys.executable, "-c", _LOAD_ON_CPU, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
