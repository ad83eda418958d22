"""skorch callbacks that record what training-dynamics scores need.

:class:`OutputRecorder` runs an eval-mode pass over the training set (or any
fixed data) at chosen epochs and keeps per-sample logits (and optionally
embeddings and parameter snapshots), indexed by sample position.
"""

from __future__ import annotations

import numpy as np
from skorch.callbacks import Callback

from .nets import infer

__all__ = ["OutputRecorder"]


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
        Also record the input of the last :class:`torch.nn.Linear`.
    keep_params : bool, default=False
        Also keep a CPU copy of the module's ``state_dict`` at each recorded
        epoch, so that the trajectory can be replayed on new data.
    X : array-like or None, default=None
        Data to record on instead of the training set (e.g. held-out samples).
    dtype : {"float32", "float16"}, default="float32"
        Storage type of the records; float16 halves their memory.

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
        self.epochs_ = []
        self.logits_ = []
        self.embeddings_ = []
        self.params_ = []
        return self

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        epoch = len(net.history)
        if self.epochs is not None and epoch not in set(self.epochs):
            return
        data = self.X if self.X is not None else dataset_train
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
