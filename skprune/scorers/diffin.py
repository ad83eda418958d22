"""DiffInScorer: training-sample influence accumulated over checkpoints (Diff-In, TracIn)."""

from __future__ import annotations

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from joblib import effective_n_jobs
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .. import influence
from ..nets import applied_last_linear, infer
from ..recording import CheckpointRecorder
from ._base import BaseScorer, _fit_seeded, _take

__all__ = ["DiffInScorer"]

# Plain SGD (the derivation's optimizer) for the default scoring net.
_DEFAULT_SGD = {"optimizer__momentum": 0.0, "lr": 0.1}


def _chunk_bounds(n_samples, n_chunks, batch_size):
    """``(start, stop)`` of at most ``n_chunks`` contiguous chunks, cut at whole batches.

    Cutting at multiples of ``batch_size`` keeps every batch the one an
    unsplit pass would compute, so the chunked scores are bitwise the same.
    """
    n_batches = -(-n_samples // batch_size)
    per_chunk = -(-n_batches // max(1, min(n_chunks, n_batches)))
    starts = range(0, n_samples, per_chunk * batch_size)
    return [(start, min(start + per_chunk * batch_size, n_samples)) for start in starts]


def _rows(X, start, stop):
    """Rows ``start:stop``: a view of an array (also of a memory map), a lazy dataset subset."""
    if start == 0 and stop == len(X):
        return X
    if isinstance(X, torch.utils.data.Dataset):
        return torch.utils.data.Subset(X, range(start, stop))
    return X[start:stop]


class DiffInScorer(BaseScorer):
    """Influence of every training sample, accumulated over training (Diff-In).

    Following Diff-In (Tan et al., TPAMI 2026), a scoring network is trained
    with SGD while :class:`~skprune.recording.CheckpointRecorder` keeps
    ``n_checkpoints`` evenly spaced checkpoints (step, learning rate,
    parameters). At each checkpoint θ_t, with per-sample gradient
    ``G_z = ∇ℓ(z; θ_t)``, target gradient ``G_V`` and the gradient ``G_B`` and
    Hessian ``H_B`` of a random training batch:

    * first-order (TracIn) term ``(T/m)·(η_t/N)·⟨G_V, G_z⟩``;
    * Diff-In's second-order term ``−t·η_t²/(N·m)·⟨G_V, H_B·G_z + H_z·G_B⟩``
      (the coefficient and bracket of the authors' reference code), in the
      symmetric form that costs two per-sample passes per checkpoint
      (:func:`skprune.influence.directional_terms`). Its Hessian-vector
      products are exact (forward-over-reverse autograd, ``hvp="exact"``) or
      the reference code's forward finite differences of gradients
      (``hvp="finite_difference"``).

    ``variant`` picks the sum. The reference code keeps only the second-order
    term; whether the paper adds the first-order one is not known to us. Our
    leave-one-out retraining benchmark (``benchmarks/diffin_loo.py``, see the
    docs) decided the default and the sign convention; both are **this
    project's choices**, as are the validation split, the default plain-SGD
    net and the momentum correction.

    Sign convention: the ``influence`` component estimates how much the
    target loss would **rise if the sample were removed** — positive =
    helpful, negative = harmful (often mislabeled). ``scores_`` follows the
    library's one convention, a difficulty (higher = harder / more likely
    mislabeled):

    * ``target="validation"``: ``scores_`` is the **negated** influence, the
      harm a sample does to the target loss. Mislabeled samples score
      highest, so ``strategy="easy"`` at a small pruning ratio removes the
      most harmful samples first (data cleaning; give a clean
      ``validation_data`` for that), like with every other scorer. For
      coresets at larger ratios, keeping only the most helpful samples
      (lowest scores) piles up high-loss samples and falls behind random
      selection, while ``"ccs"`` and ``"sims"`` stay near it (see the Diff-In
      method page).
    * ``target="self"``: ``scores_`` is the self-influence as it stands (how
      much the sample's own loss relies on having trained on it): higher =
      harder, memorized or mislabeled.

    Parameters
    ----------
    estimator : skorch.NeuralNetClassifier or None, default=None
        Scoring network (cloned, ``train_split=None``). None builds the default
        net for ``X``'s shape with **plain SGD** (momentum 0, lr 0.1), the
        optimizer the derivation assumes; it drops each epoch's partial last
        batch when there is more than one batch (that noisier step would
        otherwise come right before checkpoints at epoch ends). A user's net
        is trained as given: with SGD momentum β the step is corrected to
        ``η/(1 − β)``; with Adam-like optimizers a warning says that only the
        ranking is meaningful. The estimate is most reliable early in
        training, so a slower scoring net can find flipped labels better on
        large data; lr 0.1 is our choice, see the Diff-In method page. A
        user's net must return one output per class of ``y`` (checked before
        training).
    n_checkpoints : int, default=10
        Number m of evenly spaced checkpoints (midpoints of m equal intervals
        of training); training with fewer optimizer steps keeps one checkpoint
        per step and warns. The influence pass costs time linear in m
        (10: our choice, see the Diff-In method page).
    target : {"validation", "self"}, default="validation"
        ``"validation"``: influence on the mean loss of a stratified held-out
        split of the training data (``validation_fraction``); the scoring net
        trains on the rest. The held-out samples are scored by the same
        formula (their estimated value if added). ``"self"``: self-influence,
        the net trains on all samples; its ``⟨G_z, H_B·G_z⟩`` term costs
        ``hessian_batch_size`` sample gradients per sample — use a small batch
        or ``variant="tracin"`` on large data.
    validation_fraction : float, default=0.2
        Share of the data held out as the target set (``target="validation"``).
    validation_data : tuple (X_val, y_val) or None, default=None
        A target set of your own for ``target="validation"``, instead of a
        split of the training data; the scoring net then trains on every
        sample. Use a **clean** held-out set for data cleaning: a split of
        noisy training data has noisy labels too, and their large gradients
        dominate ``G_V`` (see the Diff-In method page). Like
        skorch's ``predefined_split``, the data is a parameter. ``X_val`` may
        be an array or, like ``X``, a torch ``Dataset`` (read lazily).
    variant : {"full", "second_order", "tracin"}, default="full"
        ``"full"`` = first-order + second-order terms, ``"second_order"`` =
        the reference code's sum, ``"tracin"`` = first-order only (TracIn on
        the same checkpoints; skips the second-order work).
    hvp : {"exact", "finite_difference"}, default="exact"
        How the second-order term's Hessian-vector products are taken.
        ``"exact"``: forward-over-reverse autograd (:mod:`torch.func`
        ``jvp`` of ``grad``, :func:`skprune.influence.exact_hvp`), with
        ReLU's second derivative taken as zero as autograd does.
        ``"finite_difference"``: the reference code's forward differences of
        gradients with step ``epsilon``; on ReLU nets (the default net) a step
        that crosses an activation's kink adds the gradient's jump, which
        makes the term erratic. ``"exact"``: our choice, see the Diff-In
        method page. Ignored with ``variant="tracin"``.
    epsilon : float, default=1e-3
        Length of the finite-difference steps in parameter space (float32);
        used only with ``hvp="finite_difference"``.
    layers : {"all", "last"}, default="all"
        Parameters the gradients are taken over; ``"last"`` restricts them to
        the output :class:`torch.nn.Linear` (found by running the net, see
        :func:`~skprune.nets.applied_last_linear`), for very large models.
    hessian_batch_size : int, default=512
        Size of the random training batch B behind ``G_B`` and ``H_B``.
    batch_size : int, default=256
        Samples per chunk of per-sample work (bounds memory).
    gradient_mode : {"jvp", "per_sample"}, default="jvp"
        How per-sample directional derivatives are computed: forward-mode
        ``jvp`` over a chunk, or ``vmap`` per-sample gradients
        (:meth:`skprune.influence.FunctionalModel.directional_derivatives`).
        Both give the same numbers; ``target="self"`` always uses per-sample
        gradients. Deprecated (no recipe needs it; ``FutureWarning`` when
        set to ``"per_sample"``), to be removed in a later release.
    max_epochs : int or None, default=None
        Training epochs of the scoring net; None keeps the estimator's (10 for
        the default net).
    device : {"auto", "cpu", "cuda"}, default="auto"
    n_jobs : int or None, default=None
        Checkpoints are processed in parallel through joblib; with more
        workers than checkpoints, each checkpoint's samples are also split
        into chunks (cut at whole batches, so the scores do not change).
        Process backends (loky, dask) run fully in parallel; under the
        threading backend the forward-mode passes take turns, because torch
        keeps their state process-wide.
    random_state : int, RandomState or None, default=None
        Seeds the split, the Hessian batch and the net.
    verbose : int, default=0

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        The difficulty: the negated ``influence`` column with
        ``target="validation"``, the ``influence`` column (self-influence)
        with ``target="self"`` (see the sign convention above).
    components_ : ndarray of shape (n_samples, 3)
        ``influence`` (the chosen ``variant``, signed: positive = helpful),
        ``first_order`` (TracIn) and ``second_order`` (Diff-In's term) of
        every training sample.
    net_ : skorch.NeuralNetClassifier
        The fitted scoring net.
    checkpoints_ : list of dict
        ``step``, ``learning_rate`` (effective SGD step) and ``state_dict``
        (numpy arrays) of every checkpoint.
    directions_ : list of dict
        Per checkpoint, the vectors ``target`` (G_V), ``batch`` (G_B) and
        ``hvp`` (H_B·G_V, by the ``hvp`` method) as numpy arrays, reused by :meth:`transform`
        (``target`` only for ``variant="tracin"``; empty for ``target="self"``).
    total_steps_ : int
        Optimizer steps T of the scoring net's training.
    n_train_ : int
        Number N of samples the scoring net trained on.
    validation_indices_ : ndarray
        Positions of the target set in the training data (empty for "self").
    hessian_indices_ : ndarray
        Positions of the Hessian batch B in the training data.
    classes_ : ndarray
    n_features_in_ : int

    See Also
    --------
    skprune.influence : the formulas, testable without training.
    skprune.TrainingDynamicsScorer : cheaper difficulty scores (EL2N, forgetting, ...).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skprune import DiffInScorer
    >>> X, y = make_classification(200, 6, random_state=0)
    >>> scorer = DiffInScorer(n_checkpoints=3, max_epochs=3, random_state=0).fit(X, y)
    >>> scorer.scores_.shape, scorer.get_feature_names_out().tolist()
    ((200,), ['influence', 'first_order', 'second_order'])
    >>> len(scorer.checkpoints_)
    3
    """

    _parameter_constraints: dict = {
        **BaseScorer._parameter_constraints,
        "n_checkpoints": [Interval(Integral, 1, None, closed="left")],
        "target": [StrOptions({"validation", "self"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "validation_data": [None, tuple],
        "variant": [StrOptions(set(influence.INFLUENCE_VARIANTS))],
        "hvp": [StrOptions(set(influence.HVP_METHODS))],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "layers": [StrOptions({"all", "last"})],
        "hessian_batch_size": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "gradient_mode": [StrOptions({"jvp", "per_sample"})],
    }
    _supports_dataset = True

    def __init__(
        self,
        estimator=None,
        *,
        n_checkpoints=10,
        target="validation",
        validation_fraction=0.2,
        validation_data=None,
        variant="full",
        hvp="exact",
        epsilon=1e-3,
        layers="all",
        hessian_batch_size=512,
        batch_size=256,
        gradient_mode="jvp",
        max_epochs=None,
        device="auto",
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.n_checkpoints = n_checkpoints
        self.target = target
        self.validation_fraction = validation_fraction
        self.validation_data = validation_data
        self.variant = variant
        self.hvp = hvp
        self.epsilon = epsilon
        self.layers = layers
        self.hessian_batch_size = hessian_batch_size
        self.batch_size = batch_size
        self.gradient_mode = gradient_mode
        self.max_epochs = max_epochs
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    @property
    def min_class_size(self):
        # The stratified validation split needs two samples of every class.
        return 2 if self.target == "validation" and self.validation_data is None else 1

    def _class_size_advice(self):
        if self.target == "validation":
            return (
                "The validation split is stratified: add samples of those classes, drop them, "
                "or use target='self'."
            )
        return super()._class_size_advice()

    def __setstate__(self, state):
        # Fits pickled before the hvp parameter existed used finite differences, and
        # their validation-target scores_ was the influence itself (helpful = high):
        # it becomes the difficulty, as a fit made now would have it.
        old = "hvp" not in state
        state.setdefault("hvp", "finite_difference")
        super().__setstate__(state)
        if old and getattr(self, "components_", None) is not None:
            self.scores_ = self._difficulty(self.components_)

    # --- fitting ---------------------------------------------------------------

    def _target_set(self):
        """The user's validation_data, checked and with encoded labels."""
        if self.target == "self":
            raise ValueError(
                "validation_data is a target set for target='validation'; target='self' has "
                "none. Drop validation_data or use target='validation'."
            )
        if len(self.validation_data) != 2:
            raise ValueError(
                "validation_data must be a pair (X_val, y_val), got a tuple of "
                f"{len(self.validation_data)} items"
            )
        if self.validation_data[1] is None:
            raise ValueError(
                "validation_data needs its labels: influence on the validation loss is taken "
                "against y_val; got (X_val, None)"
            )
        X_val, y_val = self._check_new_data(*self.validation_data)
        return X_val, y_val

    def _split(self, y, seed):
        n_samples = y.shape[0]
        if self.target == "self" or self.validation_data is not None:
            return np.arange(n_samples), np.arange(0)
        n_classes = self.classes_.size
        n_validation = int(np.ceil(self.validation_fraction * n_samples))
        if n_validation < n_classes or n_samples - n_validation < n_classes:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} of {n_samples} samples leaves "
                f"{n_validation} validation and {n_samples - n_validation} training samples; "
                f"each needs at least one sample of each of the {n_classes} classes. "
                "Change validation_fraction or use target='self'."
            )
        splitter = StratifiedShuffleSplit(
            n_splits=1, test_size=n_validation, random_state=int(seed)
        )
        train, validation = next(splitter.split(np.zeros((n_samples, 1)), y))
        return np.sort(train), np.sort(validation)

    def _net_sizes(self, n_samples):
        n_train = n_samples
        if self.target != "self" and self.validation_data is None:
            n_train -= int(np.ceil(self.validation_fraction * n_samples))
        return n_train, n_train

    def _drops_last_batch(self, n_train, batch_size):
        # An epoch's last, partial batch takes a much noisier step; with m
        # evenly spaced checkpoints the parameters right after it can be
        # every checkpoint (10 epochs, m = 5 puts all of them at epoch
        # ends), which wrecked the influence sums on Fashion-MNIST.
        return self.estimator is None and n_train > batch_size

    def _train_params(self, n_train):
        params = self._net_params()
        if self._drops_last_batch(n_train, params.get("batch_size")):
            params = {**params, "iterator_train__drop_last": True}
        return params

    def _make_net(self, X, callbacks=()):
        net = super()._make_net(X, callbacks)
        if self.estimator is None:
            net.set_params(**_DEFAULT_SGD)
        return net

    def _fit(self, X, y):
        if self.gradient_mode != "jvp":
            warnings.warn(
                "gradient_mode is deprecated and will be removed in a later release: both modes "
                "give the same numbers; leave it at its default",
                FutureWarning,
                stacklevel=4,
            )
        split_seed, batch_seed, net_seed = self._model_seeds(3)
        train, validation = self._split(y, split_seed)
        if self.validation_data is not None:
            # Checked before training so that bad data fails fast (classes_ is set by now).
            X_target, y_target = self._target_set()
        else:
            X_target, y_target = _take(X, validation), y[validation]
        recorder = CheckpointRecorder(n_checkpoints=self.n_checkpoints, clip=True)
        net = self._make_net(X, [("skprune_checkpoints", recorder)])
        if self._drops_last_batch(train.size, net.batch_size):
            net.set_params(iterator_train__drop_last=True)
        if self.verbose:
            print(
                f"[DiffInScorer] training the scoring net on {train.size} samples, "
                f"{self.n_checkpoints} checkpoints (target={self.target!r})"
            )
        self.net_ = _fit_seeded(net, _take(X, train), y[train], net_seed)
        recorder = dict(self.net_.callbacks_)["skprune_checkpoints"]
        self._head_name = None
        if self.layers == "last":
            # The output layer found by running the net, whatever the order
            # __init__ registers the layers in.
            output_layer = applied_last_linear(self.net_, X)
            self._head_name = next(
                name for name, sub in self.net_.module_.named_modules() if sub is output_layer
            )

        rng = check_random_state(batch_seed)
        self.hessian_indices_ = np.sort(
            rng.choice(train, size=min(self.hessian_batch_size, train.size), replace=False)
        )
        self.validation_indices_ = validation
        self.total_steps_ = int(recorder.total_steps_)
        self.n_train_ = int(train.size)
        rates = influence.effective_learning_rates(recorder.learning_rates_, recorder.momenta_)
        self.checkpoints_ = [
            {
                "step": int(step),
                "learning_rate": float(rate),
                "state_dict": {k: v.numpy().copy() for k, v in state.items()},
            }
            for step, rate, state in zip(recorder.steps_, rates, recorder.params_, strict=True)
        ]
        # The recorder's tensors are now copied into checkpoints_.
        recorder.params_ = []
        # At most hessian_batch_size rows: read once, also from a dataset.
        hessian = self._hessian_rows(X, y)
        if self.target == "self":
            self._hessian_batch = hessian
            self.directions_ = [{} for _ in self.checkpoints_]
        else:
            self.directions_ = self._parallel(
                self._checkpoint_directions,
                [(checkpoint, X_target, y_target, hessian) for checkpoint in self.checkpoints_],
            )
        # Checkpoints are independent, and so are the samples within one: with
        # more workers than checkpoints, each checkpoint's samples are split.
        n_chunks = -(-effective_n_jobs(self.n_jobs) // len(self.checkpoints_))
        chunks = _chunk_bounds(y.shape[0], n_chunks, self._terms_batch_size())
        if self.verbose:
            print(
                f"[DiffInScorer] influence of {y.shape[0]} samples at {len(self.checkpoints_)} "
                f"checkpoints, {len(chunks)} sample chunk(s) each"
            )
        # Each chunk builds its own model: with a threading backend, tasks
        # sharing one would swap its parameters under each other.
        tasks = [
            (checkpoint, _rows(X, start, stop), y[start:stop], hessian, directions)
            for checkpoint, directions in zip(self.checkpoints_, self.directions_, strict=True)
            for start, stop in chunks
        ]
        pieces = self._parallel(self._sample_terms, tasks)
        # One row per checkpoint: its chunks' terms end to end.
        per_checkpoint = [pieces[k : k + len(chunks)] for k in range(0, len(pieces), len(chunks))]
        first = np.stack([np.concatenate([f for f, _ in row]) for row in per_checkpoint])
        second = np.stack([np.concatenate([s for _, s in row]) for row in per_checkpoint])
        self.components_ = self._combine(first, second)
        self.scores_ = self._difficulty(self.components_)

    def _checkpoint_model(self, checkpoint):
        module = copy.deepcopy(self.net_.module_).cpu()
        state = {k: torch.from_numpy(v) for k, v in checkpoint["state_dict"].items()}
        return influence.FunctionalModel(
            module,
            state,
            self.net_.criterion_,
            layers=self.layers,
            device=str(self.net_.device),
            # Fits pickled before the attribute existed fall back to registration order.
            head=getattr(self, "_head_name", None),
        )

    def _hessian_rows(self, X, y):
        """The Hessian batch B as arrays (a dataset's items stacked into float32)."""
        X_hessian = _take(X, self.hessian_indices_)
        if isinstance(X_hessian, torch.utils.data.Subset):
            X_hessian = influence._read_rows(X_hessian, 0, len(X_hessian)).numpy()
        return X_hessian, y[self.hessian_indices_]

    def _terms_batch_size(self):
        # Self terms hold per-sample gradients and shifted batch gradients per
        # chunk: small chunks bound their memory.
        return min(self.batch_size, 32) if self.target == "self" else self.batch_size

    def _checkpoint_directions(self, checkpoint, X_target, y_target, hessian):
        X_hessian, y_hessian = hessian
        directions = influence.checkpoint_directions(
            self._checkpoint_model(checkpoint),
            X_target=X_target,
            y_target=y_target,
            X_hessian=X_hessian,
            y_hessian=y_hessian,
            epsilon=self.epsilon,
            second_order=self.variant != "tracin",
            hvp=self.hvp,
        )
        return {k: v.cpu().numpy() for k, v in directions.items()}

    def _sample_terms(self, checkpoint, X, y, hessian, directions):
        """First- and second-order terms of the samples ``X`` at one checkpoint."""
        model = self._checkpoint_model(checkpoint)
        second_order = self.variant != "tracin"
        if self.target == "self":
            X_hessian, y_hessian = hessian
            return influence.self_checkpoint_terms(
                model,
                X,
                y,
                X_hessian=X_hessian,
                y_hessian=y_hessian,
                epsilon=self.epsilon,
                batch_size=self._terms_batch_size(),
                second_order=second_order,
                hvp=self.hvp,
            )
        return influence.directional_terms(
            model,
            X,
            y,
            {k: torch.from_numpy(v) for k, v in directions.items()},
            epsilon=self.epsilon,
            batch_size=self._terms_batch_size(),
            mode=self.gradient_mode,
            second_order=second_order,
            hvp=self.hvp,
        )

    def _combine(self, first, second):
        first_order, second_order = influence.accumulate_influence(
            first,
            second,
            steps=[c["step"] for c in self.checkpoints_],
            learning_rates=[c["learning_rate"] for c in self.checkpoints_],
            n_train=self.n_train_,
            total_steps=self.total_steps_,
        )
        if self.variant == "tracin":
            second_order = np.zeros_like(first_order)
            total = first_order
        elif self.variant == "second_order":
            total = second_order
        else:
            total = first_order + second_order
        return np.column_stack([total, first_order, second_order])

    # --- scoring new samples ---------------------------------------------------

    def _components(self, X, y):
        if y is None:
            y = infer(self.net_, X).proba.argmax(axis=1)
        y = np.asarray(y, dtype=np.int64)
        hessian = self._hessian_batch if self.target == "self" else None
        terms = [
            self._sample_terms(checkpoint, X, y, hessian, directions)
            for checkpoint, directions in zip(self.checkpoints_, self.directions_, strict=True)
        ]
        return self._combine(np.stack([f for f, _ in terms]), np.stack([s for _, s in terms]))

    def _component_names(self):
        return ["influence", "first_order", "second_order"]

    def _difficulty(self, components):
        # Validation influence is positive for helpful samples; its negation,
        # the harm, is the difficulty (mislabeled = high). Self-influence is
        # already one.
        influence_ = components[:, 0].astype(np.float64)
        return influence_ if self.target == "self" else -influence_
