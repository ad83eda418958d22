"""skorch callbacks that record what training-dynamics scores need.

:class:`OutputRecorder` runs an eval-mode pass over the training set (or any
fixed data) at chosen epochs and keeps per-sample logits (and optionally
embeddings and parameter snapshots), indexed by sample position.
:class:`CheckpointRecorder` keeps parameter checkpoints at evenly spaced
optimizer steps, with the step number and learning rate, for influence
estimates such as Diff-In and TracIn.
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
from skorch.callbacks import Callback

from .nets import batches_per_epoch, global_rng_kept, infer

__all__ = ["OutputRecorder", "CheckpointRecorder"]


class OutputRecorder(Callback):
    """Record per-sample outputs of a skorch net at the end of chosen epochs.

    The pass is made in eval mode (no dropout, BatchNorm running statistics),
    over ``X`` when given, else over the training dataset in its original order
    (skorch iterates it unshuffled for inference), so row ``i`` of every record
    belongs to sample ``i``. Use it with ``train_split=None`` so that every
    training sample is in the training dataset.

    Parameters
    ----------
    epochs : iterable of int or None, default=None
        1-based epochs after which to record; None records every epoch.
    embedding : bool, default=False
        Also record the input of the output :class:`torch.nn.Linear`
        (see :func:`~skprune.nets.applied_last_linear`).
    keep_params : bool, default=False
        Also keep a CPU copy of the module's ``state_dict`` at each recorded
        epoch, so that the trajectory can be replayed on new data.
    X : array-like or None, default=None
        Data to record on instead of the training set (e.g. held-out samples).
    dtype : {"float32", "float16"}, default="float32"
        Storage type of the records; float16 halves their memory, rounds to
        about 3 significant digits and overflows beyond ±65504.

    Attributes
    ----------
    epochs_ : list of int
        Epochs recorded so far.
    logits_ : list of ndarray of shape (n_samples, n_classes)
        One array per recorded epoch.
    embeddings_ : list of ndarray
        Only filled when ``embedding=True``.
    params_ : list of dict
        Only filled when ``keep_params=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.nets import make_default_net
    >>> from skprune.recording import OutputRecorder
    >>> X = np.random.RandomState(0).randn(40, 4).astype("float32")
    >>> y = (X[:, 0] > 0).astype("int64")
    >>> recorder = OutputRecorder()
    >>> net = make_default_net(X, 2, max_epochs=3, device="cpu")
    >>> _ = net.set_params(callbacks=[("record", recorder)]).fit(X, y)
    >>> recorder.stacked_logits().shape
    (3, 40, 2)
    """

    def __init__(self, epochs=None, embedding=False, keep_params=False, X=None, dtype="float32"):
        self.epochs = epochs
        self.embedding = embedding
        self.keep_params = keep_params
        self.X = X
        self.dtype = dtype

    def initialize(self):
        if self.dtype not in ("float32", "float16"):
            raise ValueError(f"dtype must be 'float32' or 'float16', got {self.dtype!r}")
        # A copy, so that a generator is read once and bad values fail before training.
        self._epochs_to_record = None
        if self.epochs is not None:
            try:
                epochs = list(self.epochs)
            except TypeError:
                raise ValueError(
                    f"epochs must be an iterable of epoch numbers (1-based) or None, got "
                    f"{self.epochs!r}"
                ) from None
            if not all(
                isinstance(e, Real) and not isinstance(e, bool) and float(e).is_integer() and e >= 1
                for e in epochs
            ):
                raise ValueError(f"epochs must hold positive integers (1-based), got {epochs}")
            self._epochs_to_record = {int(e) for e in epochs}
        self.epochs_ = []
        self.logits_ = []
        self.embeddings_ = []
        self.params_ = []
        return self

    def on_train_begin(self, net, **kwargs):
        beyond = [e for e in self._epochs_to_record or () if e > net.max_epochs]
        if beyond:
            warnings.warn(
                f"OutputRecorder: epochs {sorted(self._epochs_to_record)} go beyond "
                f"max_epochs={net.max_epochs}; the later ones are not recorded",
                UserWarning,
                stacklevel=2,
            )

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        epoch = len(net.history)
        if self._epochs_to_record is not None and epoch not in self._epochs_to_record:
            return
        data = self.X if self.X is not None else dataset_train
        # The pass draws DataLoader seeds from torch's global RNG; kept apart, it
        # leaves the batch order of the training that goes on unchanged.
        with global_rng_kept():
            out = infer(net, data, embedding=self.embedding)
        self.epochs_.append(epoch)
        self.logits_.append(out.logits.astype(self.dtype))
        if self.embedding:
            self.embeddings_.append(out.embedding.astype(self.dtype))
        if self.keep_params:
            self.params_.append(
                {k: v.detach().cpu().clone() for k, v in net.module_.state_dict().items()}
            )

    def stacked_logits(self):
        """Return the records as one float32 array of shape (n_epochs, n_samples, n_classes)."""
        if not self.logits_:
            raise ValueError("no epoch was recorded; was the net fitted with this callback?")
        return np.stack(self.logits_).astype(np.float32)


class CheckpointRecorder(Callback):
    """Record parameter checkpoints at evenly spaced optimizer steps of training.

    Training runs ``T = max_epochs × batches per epoch`` steps. The recorder
    splits them into ``n_checkpoints`` equal intervals and keeps the parameters
    *before* the step at the middle of each interval (the midpoint rule for a
    sum over all T steps), together with the global step number and the
    learning rate of the first parameter group at that step (so learning-rate
    schedules are honoured). The net needs ``train_split=None`` (``T`` counts
    the steps over all the samples passed to ``fit``), and ``T`` comes from
    ``max_epochs``: ``partial_fit`` is not supported.

    Parameters
    ----------
    n_checkpoints : int, default=5
        Number of checkpoints m (at most T).
    clip : bool, default=False
        When training has fewer than ``n_checkpoints`` steps, keep one
        checkpoint per step with a warning instead of raising.

    Attributes
    ----------
    steps_ : list of int
        0-based global step of every checkpoint.
    learning_rates_ : list of float
        Learning rate used by the step taken from each checkpoint.
    momenta_ : list of float
        SGD momentum at each checkpoint (0.0 for plain SGD, NaN for optimizers
        without a ``momentum`` setting, such as Adam).
    params_ : list of dict
        CPU copies of the module's ``state_dict`` (parameters and buffers).
    total_steps_ : int
        Number of optimizer steps T of the whole training.

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.nets import make_default_net
    >>> from skprune.recording import CheckpointRecorder
    >>> X = np.random.RandomState(0).randn(64, 4).astype("float32")
    >>> y = (X[:, 0] > 0).astype("int64")
    >>> recorder = CheckpointRecorder(n_checkpoints=4)
    >>> net = make_default_net(X, 2, max_epochs=2, batch_size=16, device="cpu")
    >>> _ = net.set_params(callbacks=[("checkpoints", recorder)]).fit(X, y)
    >>> recorder.total_steps_, recorder.steps_
    (8, [1, 3, 5, 7])
    """

    def __init__(self, n_checkpoints=5, clip=False):
        self.n_checkpoints = n_checkpoints
        self.clip = clip

    def initialize(self):
        self.steps_ = []
        self.learning_rates_ = []
        self.momenta_ = []
        self.params_ = []
        self.total_steps_ = 0
        self._step = 0
        self._targets = set()
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if net.train_split is not None:
            # T counts the steps over all of X; a split trains on fewer.
            raise ValueError(
                "CheckpointRecorder needs a net with train_split=None (it counts the training "
                f"steps over all the samples passed to fit), got train_split={net.train_split!r}"
            )
        per_epoch = batches_per_epoch(net.get_params(), len(net.get_dataset(X, y)))
        self.total_steps_ = int(net.max_epochs) * max(per_epoch, 1)
        m = int(self.n_checkpoints)
        if not 1 <= m <= self.total_steps_:
            message = (
                f"n_checkpoints must be between 1 and the number of training steps "
                f"({self.total_steps_} = {net.max_epochs} epochs x {per_epoch} batches), "
                f"got {self.n_checkpoints}"
            )
            if not self.clip or m < 1:
                raise ValueError(message)
            warnings.warn(f"{message}; using {self.total_steps_} checkpoints", UserWarning)
            m = self.total_steps_
        # Midpoints of m equal intervals of [0, T).
        self._targets = {int((k + 0.5) * self.total_steps_ / m) for k in range(m)}
        self._step = 0

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        if self._step in self._targets:
            group = net.optimizer_.param_groups[0]
            self.steps_.append(self._step)
            self.learning_rates_.append(float(group["lr"]))
            self.momenta_.append(float(group.get("momentum", np.nan)))
            self.params_.append(
                {k: v.detach().cpu().clone() for k, v in net.module_.state_dict().items()}
            )
        self._step += 1
