"""Default skorch networks, device selection and embedding capture.

Every scorer trains networks built here, or clones of a user's skorch net. The
helpers keep three promises of the library: the user's net is never mutated
(:func:`prepare_net` clones it), every sample of the training data gets outputs
(``train_split=None``), and runs are reproducible from an integer seed
(:func:`seeded`).
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import warnings
from dataclasses import dataclass
from numbers import Real

import numpy as np
import torch
from sklearn.base import clone
from skorch import NeuralNetClassifier
from skorch.dataset import Dataset as SkorchDataset
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler

__all__ = [
    "MLP",
    "SmallCNN",
    "resolve_device",
    "make_default_net",
    "prepare_net",
    "batch_loader",
    "applied_last_linear",
    "last_linear",
    "iter_outputs",
    "infer",
    "seeded",
    "global_rng_kept",
    "NetOutputs",
]


class MLP(nn.Module):
    """Multi-layer perceptron for tabular input; returns logits.

    Inputs with more than two dimensions are flattened, so an MLP also
    accepts images.

    Parameters
    ----------
    n_features : int
        Number of input features (after flattening).
    n_classes : int
        Number of output logits.
    hidden_units : tuple of int, default=(256,)
        Width of each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.

    Examples
    --------
    >>> import torch
    >>> from skprune.nets import MLP
    >>> MLP(4, 3, hidden_units=(8,))(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(self, n_features, n_classes, hidden_units=(256,), dropout=0.0):
        super().__init__()
        layers, width = [], n_features
        for units in hidden_units:
            layers += [nn.Linear(width, units), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = units
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_classes)

    def forward(self, X):
        return self.head(self.body(X.flatten(1)))


class SmallCNN(nn.Module):
    """Two-block convolutional network for small images; returns logits.

    Each block is a 3×3 convolution, ReLU and 2×2 max pooling; adaptive average
    pooling to 7×7 (the identity on 28×28 input) then feeds a dense layer and
    the classifier head, so any image size works. Accepts ``N×H×W`` (a
    channel axis is added) or ``N×C×H×W`` input.

    Parameters
    ----------
    in_channels : int
        Number of image channels.
    n_classes : int
        Number of output logits.
    channels : tuple of int, default=(16, 32)
        Filters of the two convolution blocks.
    hidden_units : int, default=64
        Width of the dense layer before the classifier head.

    Examples
    --------
    >>> import torch
    >>> from skprune.nets import SmallCNN
    >>> SmallCNN(1, 10)(torch.zeros(2, 28, 28)).shape
    torch.Size([2, 10])
    """

    def __init__(self, in_channels, n_classes, channels=(16, 32), hidden_units=64):
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),  # ceil: a 1-pixel map stays 1 pixel
            # Adaptive pooling makes the head independent of the image size; on 28×28
            # input it is the identity. Pooling to 4×4 after one stage lost most of the
            # spatial information (dev/journal.md, "A stronger default CNN").
            nn.AdaptiveAvgPool2d(7),
        )
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(c2 * 49, hidden_units), nn.ReLU())
        self.head = nn.Linear(hidden_units, n_classes)

    def forward(self, X):
        if X.dim() == 3:
            X = X.unsqueeze(1)
        return self.head(self.body(self.features(X)))


def resolve_device(device="auto"):
    """Return a torch device name: ``"auto"`` means CUDA when available, else CPU.

    A CUDA device asked for where torch sees none is a ValueError.

    Examples
    --------
    >>> from skprune.nets import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    if device is None or device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        # torch would fail later, deep in a fit, with "Torch not compiled with CUDA enabled".
        raise ValueError(
            f"device={device!r} but torch sees no CUDA device (torch.cuda.is_available() is "
            "False); use device='cpu' or 'auto'"
        )
    return device


def batch_loader(dataset, batch_size=1, shuffle=False, drop_last=False, **kwargs):
    """DataLoader that reads array-backed datasets one whole batch at a time.

    A plain :class:`torch.utils.data.DataLoader` fetches rows one by one and
    stacks them, which dominates the run time of small networks on large
    arrays. For skorch's array-backed :class:`skorch.dataset.Dataset`, this
    loader indexes the arrays once per batch (a slice of a memory-mapped array
    reads only its rows) and draws the same batches as
    ``DataLoader(dataset, batch_size, shuffle=shuffle)`` from the same torch
    random state. Any other dataset (e.g. a user's torch ``Dataset``) gets a
    plain ``DataLoader``. The default net uses it as ``iterator_train`` and
    ``iterator_valid``.

    Parameters
    ----------
    dataset : torch Dataset
    batch_size : int, default=1
    shuffle : bool, default=False
    drop_last : bool, default=False
    **kwargs
        Other :class:`~torch.utils.data.DataLoader` arguments (``num_workers``,
        ``generator``, ...).

    Returns
    -------
    torch.utils.data.DataLoader

    Examples
    --------
    >>> import numpy as np
    >>> from skorch.dataset import Dataset
    >>> from skprune.nets import batch_loader
    >>> data = Dataset(np.arange(10, dtype="float32").reshape(5, 2), np.arange(5))
    >>> [yb.tolist() for _, yb in batch_loader(data, batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """
    if not isinstance(dataset, SkorchDataset) or dataset.X_is_ndframe:
        return DataLoader(
            dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, **kwargs
        )
    # DataLoader(shuffle=True) builds the same samplers: the batches are identical.
    sampler = (
        RandomSampler(dataset, generator=kwargs.get("generator"))
        if shuffle
        else SequentialSampler(dataset)
    )
    batches = _IndexArrayBatchSampler(sampler, batch_size, drop_last)
    return DataLoader(dataset, batch_size=None, sampler=batches, **kwargs)


class _IndexArrayBatchSampler(BatchSampler):
    """BatchSampler yielding int32 index arrays instead of lists.

    skorch turns int64 index arrays into lists, and scikit-learn's
    ``_safe_indexing`` checks a list's type element by element (about a third
    of a millisecond per batch of 128, a fifth of an epoch of the default
    MLP); an int32 array is indexed in one call.
    """

    def __iter__(self):
        dtype = np.int32 if len(self.sampler) < 2**31 else np.int64
        for batch in super().__iter__():
            yield np.asarray(batch, dtype=dtype)


# Batch size of the default net's inference passes (at least its training batch size).
_INFERENCE_BATCH_SIZE = 512


def make_default_net(
    X,
    n_classes,
    *,
    max_epochs=10,
    lr=0.05,
    batch_size=128,
    device="auto",
    hidden_units=(256,),
    width=1.0,
):
    """Build the default skorch classifier for the shape of ``X``.

    2-D input gets an :class:`MLP`; ``N×H×W`` or ``N×C×H×W`` input gets a
    :class:`SmallCNN`. The net outputs logits trained with
    :class:`torch.nn.CrossEntropyLoss` and SGD with momentum 0.9, uses all
    the data for training (``train_split=None``) and reads arrays a batch at a
    time (:func:`batch_loader`); data move to ``device`` batch by batch.
    Inference (``predict_proba``, the scorers' output passes) runs in batches
    of ``max(batch_size, 512)``.

    Parameters
    ----------
    X : ndarray
        Training input; only its shape is used.
    n_classes : int
        Number of classes.
    max_epochs, lr, batch_size : int, float, int
        Training settings passed to :class:`skorch.NeuralNetClassifier`.
    device : str, default="auto"
        ``"auto"`` picks CUDA when available.
    hidden_units : tuple of int, default=(256,)
        Hidden layers of the MLP (ignored for images).
    width : float, default=1.0
        Multiplies the MLP's hidden units, or the CNN's channels and hidden
        units (rounded, at least 1). :class:`~skprune.SIMScorer` scores with
        half-width nets.

    Returns
    -------
    net : skorch.NeuralNetClassifier
        An unfitted net.

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.nets import make_default_net
    >>> make_default_net(np.zeros((5, 8, 8)), 3).module.__name__
    'SmallCNN'
    >>> make_default_net(np.zeros((5, 4)), 3, width=0.5).module__hidden_units
    (128,)
    """
    if isinstance(width, bool) or not isinstance(width, Real) or not width > 0:
        raise ValueError(f"width must be a positive number, got {width!r}")

    def scaled(units):
        return tuple(max(1, round(width * u)) for u in units)

    X_shape = np.shape(X)
    if len(X_shape) == 2:
        module, module_params = (
            MLP,
            {
                "module__n_features": X_shape[1],
                "module__hidden_units": scaled(hidden_units),
            },
        )
    elif len(X_shape) in (3, 4):
        if min(X_shape[-2:]) < 2:
            raise ValueError(
                f"the default CNN needs images of at least 2×2 pixels, got "
                f"{X_shape[-2]}×{X_shape[-1]}; reshape X to (n_samples, n_features) for the "
                "default MLP, or pass your own estimator"
            )
        module = SmallCNN
        module_params = {"module__in_channels": 1 if len(X_shape) == 3 else X_shape[1]}
        if width != 1:
            defaults = inspect.signature(SmallCNN).parameters
            module_params["module__channels"] = scaled(defaults["channels"].default)
            module_params["module__hidden_units"] = scaled([defaults["hidden_units"].default])[0]
    else:
        raise ValueError(
            f"X must be 2-D (tabular) or 3-D/4-D (images N×H×W or N×C×H×W), got shape {X_shape}"
        )
    return NeuralNetClassifier(
        module,
        module__n_classes=n_classes,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.SGD,
        optimizer__momentum=0.9,
        lr=lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        iterator_train=batch_loader,
        iterator_train__shuffle=True,
        iterator_valid=batch_loader,
        # Inference holds no gradients; larger batches halve its per-batch overhead.
        iterator_valid__batch_size=max(batch_size, _INFERENCE_BATCH_SIZE),
        train_split=None,
        device=resolve_device(device),
        verbose=0,
        **module_params,
    )


def batches_per_epoch(net_params, n_samples):
    """Training batches in one epoch of a skorch net fitted on ``n_samples``.

    Counted as skorch's training iterator does: ``iterator_train__batch_size``
    overrides ``batch_size``, ``-1`` is one batch of all the data, ``None``
    (no batching in torch's ``DataLoader``) one step per sample, and
    ``iterator_train__drop_last`` drops a last, partial batch (which
    otherwise counts as one).

    Parameters
    ----------
    net_params : dict
        The net's parameters, as ``net.get_params()`` returns them.
    n_samples : int
        Samples the net trains on.

    Returns
    -------
    n_batches : int

    Examples
    --------
    >>> from skprune.nets import batches_per_epoch
    >>> batches_per_epoch({"batch_size": 128}, 1000)
    8
    >>> batches_per_epoch({"batch_size": 128, "iterator_train__drop_last": True}, 1000)
    7
    >>> batches_per_epoch({"batch_size": -1, "iterator_train__batch_size": 100}, 1000)
    10
    """
    n_samples = int(n_samples)
    batch_size = net_params.get("iterator_train__batch_size", net_params.get("batch_size"))
    if batch_size is None:
        return n_samples
    if batch_size == -1 or n_samples == 0:
        return 1 if n_samples else 0
    if net_params.get("iterator_train__drop_last", False):
        return n_samples // int(batch_size)
    return -(-n_samples // int(batch_size))


def prepare_net(estimator, X, n_classes, *, max_epochs=None, device="auto", width=1.0):
    """Return an unfitted net ready for scoring: a clone, never the user's object.

    ``estimator=None`` builds :func:`make_default_net` (``width`` scales it).
    A user's skorch net is cloned and gets ``train_split=None`` (skorch holds
    out 20% by default and those samples would get no training dynamics); its
    other settings are kept.
    ``max_epochs`` and ``device`` override the net's only when given
    (``device="auto"`` leaves a user's net alone).
    """
    if estimator is None:
        net = make_default_net(X, n_classes, device=device, width=width)
    else:
        if not hasattr(estimator, "initialize") or not hasattr(estimator, "forward_iter"):
            raise TypeError(
                "estimator must be a skorch NeuralNet (e.g. NeuralNetClassifier), "
                f"got {type(estimator).__name__}"
            )
        net = clone(estimator)
        net.set_params(train_split=None)
        if device not in (None, "auto"):
            net.set_params(device=resolve_device(device))
        elif net.device == "auto":
            net.set_params(device=resolve_device("auto"))
    if max_epochs is not None:
        net.set_params(max_epochs=max_epochs)
    return net


def last_linear(module):
    """Return the last :class:`torch.nn.Linear` registered in ``module``.

    This goes by the order ``__init__`` registers the layers in, which is
    usually the order ``forward`` applies them; :func:`applied_last_linear`
    runs the net to be sure.

    Examples
    --------
    >>> from skprune.nets import MLP, last_linear
    >>> last_linear(MLP(4, 3, hidden_units=(8,))).in_features
    8
    """
    return _linears(module)[-1]


def _linears(module):
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(
            f"{type(module).__name__} has no nn.Linear layer; embedding capture needs one "
            "(the input of the last nn.Linear is the embedding)"
        )
    return linears


class _OutputLayerInput:
    """Forward hooks on every ``nn.Linear`` of a module that find, after a
    forward pass, the output layer and its input.

    The output layer is the applied ``nn.Linear`` whose output the module
    returns (the first item of a tuple), else the one applied last. The
    registration order of ``__init__`` need not be the order ``forward``
    applies the layers in, and an auxiliary head may run after the
    classifier, so the layer is found by running the module.
    """

    def __init__(self, module):
        self._calls = []
        self._handles = [linear.register_forward_hook(self._keep) for linear in _linears(module)]

    def _keep(self, layer, inputs, output):
        self._calls.append((layer, inputs[0], output))

    def pick(self, module_output):
        """``(layer, input)`` of the output layer in the last forward pass, or ``(None, None)``."""
        calls, self._calls = self._calls, []
        if isinstance(module_output, tuple | list):
            module_output = module_output[0]
        for layer, layer_input, layer_output in reversed(calls):
            if layer_output is module_output or (
                layer_output.shape == module_output.shape
                and torch.equal(layer_output.to(module_output.device), module_output)
            ):
                return layer, layer_input
        if calls:
            layer, layer_input, _ = calls[-1]
            return layer, layer_input
        return None, None

    def remove(self):
        for handle in self._handles:
            handle.remove()


def _no_linear_applied(net):
    return ValueError(
        f"{type(net.module_).__name__}.forward applied no nn.Linear module; the output layer "
        "(and the embedding, its input) must be an nn.Linear called as a module"
    )


def applied_last_linear(net, X):
    """Return the output :class:`torch.nn.Linear` of ``net``, found by running it.

    It is the applied ``nn.Linear`` whose output the module returns (the first
    item of a tuple), else the one ``forward`` applies last: the output layer
    even where ``__init__`` registers the layers in another order
    (:func:`last_linear` goes by registration) or an auxiliary head runs after
    it. One batch of ``X`` is run through ``net.module_``.

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialized net.
    X : array-like or torch Dataset
        Input in the format the net was trained on; only its first batch is used.

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.nets import applied_last_linear, make_default_net
    >>> X = np.zeros((8, 4), dtype="float32")
    >>> net = make_default_net(X, 3, device="cpu").initialize()
    >>> applied_last_linear(net, X).out_features
    3
    """
    hooks = _OutputLayerInput(net.module_)
    try:
        with torch.no_grad():
            out = next(iter(net.forward_iter(X, training=False, device="cpu")))
    finally:
        hooks.remove()
    layer, _ = hooks.pick(out)
    if layer is None:
        raise _no_linear_applied(net)
    return layer


@dataclass
class NetOutputs:
    """Outputs of one inference pass: logits, probabilities and optional embeddings."""

    logits: np.ndarray
    proba: np.ndarray
    embedding: np.ndarray | None = None


def _outputs_to_logits(net, outputs):
    # skorch's convention: with CrossEntropyLoss the module returns logits, with
    # NLLLoss (NeuralNetClassifier's default) it returns probabilities.
    criterion = getattr(net, "criterion_", None)
    if isinstance(criterion, nn.CrossEntropyLoss):
        return outputs
    if isinstance(criterion, nn.NLLLoss):
        return torch.log(outputs.clamp_min(1e-12))
    raise ValueError(
        "cannot read class scores from a net trained with "
        f"{type(criterion).__name__}; use CrossEntropyLoss (module returns logits) or "
        "NLLLoss (module returns probabilities)"
    )


def iter_outputs(net, X, *, embedding=False):
    """Yield the outputs of an initialized skorch net over ``X``, one batch at a time.

    The net runs in eval mode without gradients; only one batch is in memory
    at a time, so callers can reduce outputs of data sets larger than memory
    (e.g. memory-mapped arrays) batch by batch.

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialized (usually fitted) net.
    X : array-like or torch Dataset
        Input in the format the net was trained on.
    embedding : bool, default=False
        Also capture the input of the output :class:`torch.nn.Linear`
        (forward hooks; see :func:`applied_last_linear`).

    Yields
    ------
    logits : torch.Tensor of shape (batch_size, n_classes)
        float32, on the CPU.
    embedding : torch.Tensor of shape (batch_size, d) or None
        float32, on the CPU; None unless ``embedding=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.nets import iter_outputs, make_default_net
    >>> X = np.zeros((1200, 4), dtype="float32")
    >>> net = make_default_net(X, 2, device="cpu").initialize()
    >>> [tuple(logits.shape) for logits, _ in iter_outputs(net, X)]
    [(512, 2), (512, 2), (176, 2)]
    """
    hooks = _OutputLayerInput(net.module_) if embedding else None
    try:
        with torch.no_grad():
            for out in net.forward_iter(X, training=False, device="cpu"):
                out = out[0] if isinstance(out, tuple) else out
                logits = _outputs_to_logits(net, out.float())
                emb = None
                if embedding:
                    _, layer_input = hooks.pick(out)
                    if layer_input is None:
                        raise _no_linear_applied(net)
                    emb = layer_input.detach().flatten(1).float().cpu()
                yield logits, emb
    finally:
        if hooks is not None:
            hooks.remove()


def infer(net, X, *, embedding=False):
    """Run an initialized skorch net in eval mode over ``X``, batch by batch.

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialized (usually fitted) net.
    X : array-like or torch Dataset
        Input in the format the net was trained on.
    embedding : bool, default=False
        Also capture the input of the output :class:`torch.nn.Linear`
        (forward hooks; see :func:`applied_last_linear`).

    Returns
    -------
    NetOutputs
        float32 numpy arrays on the CPU.

    See Also
    --------
    iter_outputs : the same outputs one batch at a time, for data too large to hold.
    """
    logits, captured = [], []
    for batch_logits, batch_embedding in iter_outputs(net, X, embedding=embedding):
        logits.append(batch_logits)
        captured.append(batch_embedding)
    logits = torch.cat(logits)
    return NetOutputs(
        logits=logits.numpy(),
        proba=torch.softmax(logits, dim=1).numpy(),
        embedding=torch.cat(captured).numpy() if embedding else None,
    )


# torch's RNG is global to the process: seeded blocks of different threads must not overlap.
_SEED_LOCK = threading.RLock()


@contextlib.contextmanager
def global_rng_kept():
    """Restore torch's global RNG (and CUDA's) when the block ends.

    Inference draws from the global RNG too (a DataLoader draws a base seed per
    iteration, shuffled or not), so the scorers run their public methods inside
    this block: a fit or a scoring pass leaves the caller's torch random stream
    where it was.

    Examples
    --------
    >>> import torch
    >>> from skprune.nets import global_rng_kept
    >>> state = torch.random.get_rng_state()
    >>> with global_rng_kept():
    ...     _ = torch.rand(3)
    >>> bool(torch.equal(state, torch.random.get_rng_state()))
    True
    """
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with warnings.catch_warnings():
        # Only fork_rng's own notice; warnings raised inside the block must reach the user.
        warnings.filterwarnings("ignore", message=".*fork_rng.*")
        with torch.random.fork_rng(devices=devices):
            yield


@contextlib.contextmanager
def seeded(seed):
    """Seed torch (and CUDA) inside the block, restoring the global RNG afterwards.

    skorch draws initial weights and batch order from torch's global RNG; forking
    it makes a fit reproducible from ``seed`` without touching the caller's state.
    The RNG is shared by all threads of a process, so seeded blocks run one at a
    time per process: thread-based joblib backends stay reproducible but gain
    no speed; use process-based workers to train in parallel.

    Examples
    --------
    >>> import torch
    >>> from skprune.nets import seeded
    >>> with seeded(0):
    ...     a = torch.rand(1)
    >>> with seeded(0):
    ...     b = torch.rand(1)
    >>> bool(a == b)
    True
    """
    with _SEED_LOCK, global_rng_kept():
        torch.manual_seed(int(seed))
        yield
